"""Neutral message types: what adapters translate platform updates into and out of."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    """Where a message came from."""

    TELEGRAM = "telegram"
    SLACK = "slack"
    CONSOLE = "console"


class Lang(StrEnum):
    """Languages the bot speaks."""

    FI = "fi"
    SV = "sv"
    EN = "en"

    @classmethod
    def from_code(cls, code: str | None, default: Lang | None = None) -> Lang:
        """Map a BCP-47 code such as `sv-FI` or `en` to a language; Finnish otherwise."""
        if code:
            prefix = code.strip().lower().replace("_", "-").split("-", 1)[0]
            for lang in cls:
                if lang.value == prefix:
                    return lang
        return default if default is not None else cls.FI


@dataclass(frozen=True, slots=True)
class Sender:
    """The person who sent a message."""

    platform: Platform
    platform_id: str
    first_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Location:
    """A shared map point."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update from any channel, in neutral form."""

    sender: Sender
    chat_id: str
    text: str = ""
    command: str | None = None
    args: str = ""
    callback: str | None = None
    location: Location | None = None
    unsupported: str | None = None
    message_id: str | None = None
    is_private: bool = True

    @property
    def platform(self) -> Platform:
        """The channel this update came from."""
        return self.sender.platform


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a reply: pressing it sends `payload` back, or opens `url`."""

    label: str
    payload: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.payload is None) == (self.url is None):
            raise ValueError("a button has either a payload or a url")
        if self.payload is not None and len(self.payload.encode()) > 64:
            raise ValueError(f"button payload longer than 64 bytes: {self.payload!r}")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (for example an .ics calendar file)."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message the bot sends back."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    request_location: str | None = None
    link_preview: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def with_buttons(cls, text: str, *rows: list[Button] | tuple[Button, ...]) -> Reply:
        """A reply with rows of buttons, leaving out empty rows."""
        return cls(text=text, buttons=tuple(tuple(row) for row in rows if row))

    def all_buttons(self) -> list[Button]:
        """Every button in reading order."""
        return [button for row in self.buttons for button in row]

    def to_payload(self) -> dict[str, Any]:
        """A JSON-serialisable form, for the outbox."""
        payload: dict[str, Any] = {"text": self.text}
        if self.buttons:
            payload["buttons"] = [
                [{"label": b.label, "payload": b.payload, "url": b.url} for b in row]
                for row in self.buttons
            ]
        if self.attachment is not None:
            payload["attachment"] = {
                "filename": self.attachment.filename,
                "content": base64.b64encode(self.attachment.content).decode(),
                "mime_type": self.attachment.mime_type,
            }
        return payload

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Reply:
        """The reply stored by `to_payload`."""
        rows = tuple(
            tuple(Button(b["label"], payload=b.get("payload"), url=b.get("url")) for b in row)
            for row in payload.get("buttons") or ()
        )
        raw = payload.get("attachment")
        attachment = None
        if raw:
            attachment = Attachment(
                raw["filename"], base64.b64decode(raw["content"]), raw["mime_type"]
            )
        return cls(text=str(payload.get("text", "")), buttons=rows, attachment=attachment)
