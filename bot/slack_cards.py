"""Block Kit for ticket cards: the Slack rendering of a neutral ticket payload."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LANG_NAMES = {"fi": "suomi", "sv": "ruotsi", "en": "englanti"}
_STATUS = {
    "open": "🟡 odottaa vastausta",
    "claimed": "🔵 käsittelyssä",
    "answered": "🟢 vastattu",
    "closed": "⚪ suljettu",
}

_ANGLE = re.compile(r"<([^<>]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def escape(text: str) -> str:
    """Text from outside Slack made inert in mrkdwn (no mentions, links or broadcasts)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_plain_text(mrkdwn: str, names: Mapping[str, str] | None = None) -> str:
    """A Slack message as a volunteer should read it: links as "label (url)", mentions as
    @name, entities decoded. Emphasis marks (*bold*, _italic_) read naturally as they are."""

    def replace(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            return "@" + (label or (names or {}).get(target[1:], "asiantuntija"))
        if target.startswith("#"):
            return "#" + (label or "kanava")
        if target.startswith("!"):
            keyword = target[1:].split("^")[0]
            return label or _SPECIAL.get(keyword, "")
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        if label and label != target:
            return f"{label} ({target})"
        return target

    text = _ANGLE.sub(replace, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def ticket_card(
    ticket: dict[str, Any], moved_from_link: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for a ticket card with Claim/Reassign/Close/FAQ draft."""
    number = ticket["id"]
    header = f"Kysymys #{number} · {ticket['county']}"
    status = _STATUS.get(str(ticket.get("status")), str(ticket.get("status")))
    owner = f" · hoitaa <@{ticket['claimed_by']}>" if ticket.get("claimed_by") else ""
    context = (
        f"{status}{owner} · kieli: {_LANG_NAMES.get(ticket['lang'], ticket['lang'])} · "
        f"{escape(str(ticket['who']))} · {ticket['created']} · alue: {ticket['area']}"
    )
    quoted = "\n".join(f"> {line}" for line in escape(str(ticket["text"])).splitlines() or [""])
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": quoted[:2900]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context[:2900]}]},
    ]
    if moved_from_link:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"↪️ Siirretty toiselta alueelta: <{moved_from_link}|aiempi ketju>",
                    }
                ],
            }
        )
    if ticket.get("status") != "closed":
        options = [
            {"text": {"type": "plain_text", "text": name[:75]}, "value": f"{number}:{area_id}"}
            for area_id, name in ticket.get("areas", [])
        ]
        elements: list[dict[str, Any]] = [
            {
                "type": "button",
                "action_id": "ticket_claim",
                "text": {"type": "plain_text", "text": "Ota hoitaakseni"},
                "style": "primary",
                "value": str(number),
            },
        ]
        if options:
            elements.append(
                {
                    "type": "static_select",
                    "action_id": "ticket_reassign",
                    "placeholder": {"type": "plain_text", "text": "Siirrä alueelle…"},
                    "options": options[:100],
                }
            )
        elements += [
            {
                "type": "button",
                "action_id": "ticket_close",
                "text": {"type": "plain_text", "text": "Sulje"},
                "value": str(number),
                "confirm": {
                    "title": {"type": "plain_text", "text": "Suljetaanko kysymys?"},
                    "text": {"type": "mrkdwn", "text": "Vapaaehtoiselta kysytään palautetta."},
                    "confirm": {"type": "plain_text", "text": "Sulje"},
                    "deny": {"type": "plain_text", "text": "Peruuta"},
                },
            },
            {
                "type": "button",
                "action_id": "ticket_faq_draft",
                "text": {"type": "plain_text", "text": "Tallenna UKK-luonnokseksi"},
                "value": str(number),
            },
        ]
        blocks.append({"type": "actions", "block_id": f"ticket_{number}", "elements": elements})
    text = f"{header}: {ticket['text']}"[:3000]
    return text, blocks
