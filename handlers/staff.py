"""Staff tools in Slack: `/sote <subcommand>`; every feature adds its own subcommands."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers.context import Context
from handlers.messages import Incoming, Lang, Platform, Reply
from handlers.router import Command, Feature
from handlers.texts import Texts

STAFF = frozenset({Platform.SLACK})

T = Texts(
    {
        "staff.help": {
            Lang.FI: "*Sote-botin komennot Slackissa*\n{commands}\n\n"
            "Vastaa vapaaehtoisen kysymykseen kirjoittamalla tiketin ketjuun. Viesti, joka "
            "alkaa `//` tai `note:`, on sisäinen muistiinpano eikä välity vapaaehtoiselle.",
            Lang.SV: "*Sote-botens kommandon i Slack*\n{commands}\n\n"
            "Svara på en volontärs fråga genom att skriva i ärendets tråd. Ett meddelande som "
            "börjar med `//` eller `note:` är en intern anteckning och skickas inte vidare.",
            Lang.EN: "*Sote bot commands in Slack*\n{commands}\n\n"
            "Answer a volunteer by replying in the ticket's thread. A message starting with "
            "`//` or `note:` is an internal note and is never relayed.",
        },
    }
)


def build_staff_feature(commands: Callable[[Platform], Sequence[Command]]) -> Feature:
    """The `/sote help` command listing every staff subcommand."""

    async def help_(msg: Incoming, ctx: Context) -> list[Reply]:
        lines = [
            f"• `/sote {c.name}` – {c.descriptions[ctx.lang]}"
            for c in commands(Platform.SLACK)
            if c.in_menu
        ]
        return [Reply(T("staff.help", ctx.lang, commands="\n".join(lines)))]

    return Feature(
        name="staff",
        commands=(
            Command(
                "help",
                help_,
                {Lang.FI: "tämä ohje", Lang.SV: "den här hjälpen", Lang.EN: "this help"},
                aliases=("apua", "ohje"),
            ),
        ),
        platforms=STAFF,
    )
