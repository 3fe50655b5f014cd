"""The App Home tab: the staff overview as Block Kit, rebuilt each time it is opened."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.slack_cards import escape
from handlers.events import format_when
from handlers.messages import Lang
from handlers.overview import Overview, status_label, week_chart, week_totals

SECTION_LIMIT = 2900  # Slack allows 3000 characters in a section's text


def _section(text: str) -> dict[str, Any]:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _hours(value: float | None) -> str:
    if value is None:
        return "odottaa kysyjää"
    return f"odottanut {value:.1f} työtuntia".replace(".", ",")


def home_view(overview: Overview, tz: ZoneInfo) -> dict[str, Any]:
    """The whole Home tab."""
    local = overview.generated_at.astimezone(tz)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Sote-botin tilannekuva"}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Päivitetty {local.day}.{local.month}. klo {local:%H.%M}. "
                    "Komennot: `/sote help`.",
                }
            ],
        },
    ]

    title = f"*Avoimet kysymykset ({overview.open_count})*"
    if overview.open_tickets:
        lines = [title]
        for ticket in overview.open_tickets:
            owner = f" · <@{ticket.claimed_by}>" if ticket.claimed_by else ""
            where = f" · <#{ticket.channel}>" if ticket.channel else ""
            lines.append(
                f"• *#{ticket.number}* {escape(ticket.county)} · {status_label(ticket.status)}"
                f" · {_hours(ticket.waited_hours)}{owner}{where}\n"
                f"   {escape(ticket.text[:120])}"
            )
        if overview.open_count > len(overview.open_tickets):
            lines.append(
                f"…ja {overview.open_count - len(overview.open_tickets)} muuta: `/sote tiketit`"
            )
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(_section(f"{title}\nEi avoimia kysymyksiä. 🎉"))

    blocks.append({"type": "divider"})
    if overview.events:
        lines = ["*Tulevat tapahtumat*"]
        for event, start in overview.events:
            end = start + (event.end - event.start)
            when = format_when(start, end, event.all_day, tz, Lang.FI)
            where = ", ".join(event.counties or []) or "valtakunnallinen"
            lines.append(f"• {when} · *{escape(event.title)}* · {where}")
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(_section("*Tulevat tapahtumat*\nEi tulevia tapahtumia: `/sote tapahtuma`"))

    blocks.append({"type": "divider"})
    if overview.misses:
        lines = ["*Kysymykset, joihin UKK ei osannut vastata* (`sote-bot faq misses`)"]
        for miss in overview.misses:
            lines.append(f"• {miss.count}× “{escape(miss.text[:120])}” ({miss.lang})")
        blocks.append(_section("\n".join(lines)))
    else:
        blocks.append(_section("*Kysymykset, joihin UKK ei osannut vastata*\nEi yhtään."))

    blocks.append({"type": "divider"})
    blocks.append(
        _section(
            "*Viikko lukuina* (kysymyksiä päivässä)\n"
            f"```\n{week_chart(overview.week)}\n```\n{week_totals(overview.week)}"
        )
    )
    return {"type": "home", "blocks": blocks}
