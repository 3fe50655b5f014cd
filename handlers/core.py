"""Greeting, help and language: what every user meets first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers.context import Context
from handlers.messages import Button, Incoming, Lang, Platform, Reply
from handlers.router import Command, Feature
from handlers.texts import text

CommandsProvider = Callable[[Platform], Sequence[Command]]

_LANG_NAMES = {Lang.FI: "Suomi", Lang.SV: "Svenska", Lang.EN: "English"}


def _command_lines(commands: Sequence[Command], lang: Lang) -> str:
    lines = []
    for command in commands:
        if not command.in_menu:
            continue
        name = command.name if lang is Lang.FI else command.english_name()
        lines.append(f"• /{name} – {command.descriptions[lang]}")
    return "\n".join(lines)


StartExtras = Callable[[Context], Sequence[Reply]]


def build_core_feature(
    commands: CommandsProvider, start_extras: StartExtras | None = None
) -> Feature:
    """The core feature; `commands` lists the router's commands for the help text, and
    `start_extras` adds replies to /start (the region prompt)."""

    async def start(msg: Incoming, ctx: Context) -> list[Reply]:
        if msg.args.strip().lower() in {"fi", "sv", "en"}:
            ctx.user.language = msg.args.strip().lower()
            ctx.lang = Lang(ctx.user.language)
        name = f" {ctx.user.first_name}" if ctx.user.first_name else ""
        reset_conversation(ctx)
        replies = [
            Reply(text("start.greeting", ctx.lang, name=name)),
            Reply(text("start.privacy", ctx.lang)),
            Reply(text("start.ask_prompt", ctx.lang)),
        ]
        if start_extras is not None:
            replies.extend(start_extras(ctx))
        return replies

    async def help_(msg: Incoming, ctx: Context) -> list[Reply]:
        lines = _command_lines(commands(msg.platform), ctx.lang)
        return [Reply(text("help", ctx.lang, commands=lines))]

    async def language(msg: Incoming, ctx: Context) -> list[Reply]:
        wanted = msg.args.strip().lower()[:2]
        if wanted in {"fi", "sv", "en"}:
            return _set_language(ctx, Lang(wanted))
        buttons = [
            Button(label, payload=f"lang:{code.value}") for code, label in _LANG_NAMES.items()
        ]
        return [Reply.with_buttons(text("language.choose", ctx.lang), buttons)]

    async def language_chosen(msg: Incoming, ctx: Context) -> list[Reply]:
        assert msg.callback is not None
        code = msg.callback.split(":", 1)[1]
        if code not in {"fi", "sv", "en"}:
            return [Reply(text("stale_button", ctx.lang))]
        return _set_language(ctx, Lang(code))

    return Feature(
        name="core",
        commands=(
            Command(
                "start",
                start,
                {Lang.FI: "aloita alusta", Lang.SV: "börja om", Lang.EN: "start over"},
                in_menu=False,
            ),
            Command(
                "apua",
                help_,
                {
                    Lang.FI: "mitä botti osaa",
                    Lang.SV: "vad boten kan",
                    Lang.EN: "what the bot can do",
                },
                aliases=("help",),
            ),
            Command(
                "kieli",
                language,
                {Lang.FI: "vaihda kieli", Lang.SV: "byt språk", Lang.EN: "change language"},
                aliases=("language",),
            ),
        ),
        callbacks={"lang": language_chosen},
        platforms=frozenset({Platform.TELEGRAM, Platform.CONSOLE}),
    )


def reset_conversation(ctx: Context) -> None:
    """End any half-finished conversation (used by /start)."""
    ctx.user.state = None
    ctx.user.state_data = {}


def _set_language(ctx: Context, lang: Lang) -> list[Reply]:
    ctx.user.language = lang.value
    ctx.lang = lang
    return [Reply(text("language.set", lang))]
