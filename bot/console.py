"""Terminal channel: chat with the bot on standard input and output, no tokens needed."""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

from handlers.messages import Button, Incoming, Location, Platform, Reply, Sender
from handlers.router import Router, parse_command

_LOCATION = re.compile(r"^/sijainti\s+(-?\d+(?:\.\d+)?)[\s,]+(-?\d+(?:\.\d+)?)\s*$")
_QUIT = {"/quit", "/exit", "/lopeta", "exit", "quit"}


@dataclass
class ConsoleChannel:
    """Reads lines, dispatches them through the router and prints the replies."""

    router: Router
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    user_id: str = field(default_factory=lambda: _local_user())
    first_name: str | None = None
    language: str | None = None
    _choices: list[Button] = field(default_factory=list)

    @property
    def interactive(self) -> bool:
        """Whether a person is typing (prompts are shown only then)."""
        return self.stdin.isatty()

    def _print(self, line: str = "") -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    async def run(self) -> None:
        """Chat until end of input or /quit."""
        if self.interactive:
            self._print(
                "Sote-botti – kirjoita kysymys, numero valitsee painikkeen, /quit lopettaa."
            )
            self._print("(/sijainti 61.49 23.76 jakaa sijainnin)")
        loop = asyncio.get_running_loop()
        while True:
            if self.interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            if line.lower() in _QUIT:
                break
            msg = self._incoming(line)
            if msg is None:
                continue
            self.show(await self.router.dispatch(msg))

    def _incoming(self, line: str) -> Incoming | None:
        sender = Sender(Platform.CONSOLE, self.user_id, self.first_name, self.language)
        chat = self.user_id
        if line.isdigit() and self._choices:
            index = int(line) - 1
            if not 0 <= index < len(self._choices):
                self._print(f"Valitse 1–{len(self._choices)}.")
                return None
            button = self._choices[index]
            if button.url is not None:
                self._print(button.url)
                return None
            return Incoming(sender, chat, callback=button.payload)
        location = _LOCATION.match(line)
        if location:
            point = Location(float(location.group(1)), float(location.group(2)))
            return Incoming(sender, chat, location=point)
        parsed = parse_command(line) if line.startswith("/") else None
        if parsed:
            return Incoming(sender, chat, text=line, command=parsed[0], args=parsed[1])
        return Incoming(sender, chat, text=line)

    def show(self, replies: list[Reply]) -> None:
        """Print replies; buttons become numbered choices."""
        self._choices = []
        for reply in replies:
            self._print(reply.text)
            for button in reply.all_buttons():
                self._choices.append(button)
                suffix = f" ({button.url})" if button.url else ""
                self._print(f"  [{len(self._choices)}] {button.label}{suffix}")
            if reply.request_location:
                self._print(f"  ({reply.request_location}: /sijainti LEVEYS PITUUS)")
            if reply.attachment is not None:
                size = len(reply.attachment.content)
                self._print(f"  📎 {reply.attachment.filename} ({size} tavua)")
            self._print()


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
