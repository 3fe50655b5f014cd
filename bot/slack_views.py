"""Block Kit modals for staff: a new event and an announcement with its confirmation."""

from __future__ import annotations

import json
from typing import Any

EVENT_VIEW = "sote_event"
ANNOUNCE_VIEW = "sote_announce"
ANNOUNCE_CONFIRM_VIEW = "sote_announce_confirm"


def _text_input(
    block_id: str,
    label: str,
    *,
    hint: str = "",
    multiline: bool = False,
    optional: bool = False,
    placeholder: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
    }
    if placeholder:
        element["placeholder"] = {"type": "plain_text", "text": placeholder}
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _counties_input(options: list[tuple[str, str]], hint: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "counties",
        "optional": True,
        "label": {"type": "plain_text", "text": "Hyvinvointialueet"},
        "hint": {"type": "plain_text", "text": hint},
        "element": {
            "type": "multi_static_select",
            "action_id": "value",
            "placeholder": {"type": "plain_text", "text": "Valtakunnallinen"},
            "options": [
                {"text": {"type": "plain_text", "text": name}, "value": code}
                for code, name in options
            ],
        },
    }


def event_modal(options: list[tuple[str, str]], channel: str) -> dict[str, Any]:
    """The "new event" modal."""
    return {
        "type": "modal",
        "callback_id": EVENT_VIEW,
        "private_metadata": json.dumps({"channel": channel}),
        "title": {"type": "plain_text", "text": "Uusi tapahtuma"},
        "submit": {"type": "plain_text", "text": "Tallenna"},
        "close": {"type": "plain_text", "text": "Peruuta"},
        "blocks": [
            _text_input("title", "Nimi", placeholder="Järjestöinfo: hyvinvointialueen avustukset"),
            _text_input(
                "start",
                "Alkaa",
                hint="Esim. 24.3.2027 18:00 (Suomen aikaa)",
                placeholder="24.3.2027 18:00",
            ),
            _text_input("end", "Päättyy", hint="Tyhjä = kaksi tuntia alusta", optional=True),
            _text_input("location", "Paikka tai verkkolinkki", optional=True),
            _text_input("url", "Ilmoittautumislinkki", optional=True, placeholder="https://"),
            _text_input("description", "Kuvaus", multiline=True, optional=True),
            _counties_input(options, "Tyhjä = valtakunnallinen tapahtuma"),
            _text_input(
                "reminders",
                "Muistutukset",
                optional=True,
                hint="Tyhjä = oletus (7d,1d,2h). Esim. 3d,2h",
            ),
        ],
    }


def announcement_modal(options: list[tuple[str, str]], channel: str) -> dict[str, Any]:
    """The announcement modal (step 1: text and counties)."""
    return {
        "type": "modal",
        "callback_id": ANNOUNCE_VIEW,
        "private_metadata": json.dumps({"channel": channel}),
        "title": {"type": "plain_text", "text": "Tiedote tilaajille"},
        "submit": {"type": "plain_text", "text": "Jatka"},
        "close": {"type": "plain_text", "text": "Peruuta"},
        "blocks": [
            _text_input("text", "Tiedotteen teksti", multiline=True),
            _counties_input(options, "Tyhjä = kaikki tilaajat"),
        ],
    }


def announcement_confirmation(
    draft_id: int, recipients: int, text: str, channel: str
) -> dict[str, Any]:
    """Step 2: how many will receive it; confirm to send."""
    return {
        "type": "modal",
        "callback_id": ANNOUNCE_CONFIRM_VIEW,
        "private_metadata": json.dumps({"draft": draft_id, "channel": channel}),
        "title": {"type": "plain_text", "text": "Vahvista tiedote"},
        "submit": {"type": "plain_text", "text": f"Lähetä ({recipients})"},
        "close": {"type": "plain_text", "text": "Peruuta"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Tiedote lähtee *{recipients}* tilaajalle Telegramissa "
                    "(hiljaisina tunteina lähetys odottaa aamuun).",
                },
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "> " + text[:2800].replace("\n", "\n> ")},
            },
        ],
    }


def values(view: dict[str, Any]) -> dict[str, Any]:
    """The submitted values by block id: text for inputs, a list for multi-selects."""
    found: dict[str, Any] = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        action: dict[str, Any] = actions.get("value") or next(iter(actions.values()), {})
        if "selected_options" in action:
            found[block_id] = [o["value"] for o in action.get("selected_options") or []]
        else:
            found[block_id] = action.get("value") or ""
    return found
