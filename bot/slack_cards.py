"""Block Kit for ticket cards: the Slack rendering of a neutral ticket payload."""

from __future__ import annotations

from typing import Any

_LANG_NAMES = {"fi": "suomi", "sv": "ruotsi", "en": "englanti"}
_STATUS = {
    "open": "🟡 odottaa vastausta",
    "claimed": "🔵 käsittelyssä",
    "answered": "🟢 vastattu",
    "closed": "⚪ suljettu",
}


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
        f"{ticket['who']} · {ticket['created']} · alue: {ticket['area']}"
    )
    quoted = "\n".join(f"> {line}" for line in str(ticket["text"]).splitlines() or [""])
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
