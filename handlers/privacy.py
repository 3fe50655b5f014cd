"""A user's own data: export everything stored (/omattiedot) and delete it (/poista)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.messages import Attachment, Button, Incoming, Lang, Platform, Reply
from handlers.router import Command, Feature
from handlers.states import ConvState
from handlers.texts import text
from storage.models import FaqDraft, FaqQuestion, Subscription, Ticket, TicketMessage, User
from storage.repositories import UserRepository

Exporter = Callable[[AsyncSession, User], Awaitable[dict[str, Any]]]
# Runs before the user row is deleted, for data the cascade does not reach (or reaches
# too late, like a Slack card showing the question).
Eraser = Callable[[AsyncSession, User, datetime], Awaitable[None]]


async def export_profile(session: AsyncSession, user: User) -> dict[str, Any]:
    """The user's own profile row."""
    return {
        "profile": {
            "platform": user.platform,
            "platform_id": user.platform_id,
            "first_name": user.first_name,
            "language": user.language or user.platform_language,
            "county_code": user.county_code,
            "municipality_code": user.municipality_code,
            "created_at": user.created_at.isoformat(),
            "seen_at": user.seen_at.isoformat(),
        }
    }


async def export_activity(session: AsyncSession, user: User) -> dict[str, Any]:
    """The user's questions, tickets with their messages, and subscriptions."""
    questions = await session.execute(
        select(FaqQuestion).where(FaqQuestion.user_id == user.id).order_by(FaqQuestion.id)
    )
    tickets = await session.execute(
        select(Ticket).where(Ticket.user_id == user.id).order_by(Ticket.id)
    )
    exported_tickets = []
    for ticket in tickets.scalars():
        messages = await session.execute(
            select(TicketMessage)
            .where(
                TicketMessage.ticket_id == ticket.id,
                TicketMessage.direction.in_(("volunteer", "staff")),
            )
            .order_by(TicketMessage.id)
        )
        drafts = await session.execute(
            select(FaqDraft).where(FaqDraft.ticket_id == ticket.id).order_by(FaqDraft.id)
        )
        exported_tickets.append(
            {
                "number": ticket.id,
                "status": ticket.status,
                "county_code": ticket.county_code,
                "shown_to_staff_as": ticket.display_name,
                "created_at": ticket.created_at.isoformat(),
                "messages": [
                    {"from": m.direction, "text": m.text, "at": m.created_at.isoformat()}
                    for m in messages.scalars()
                ],
                "saved_as_faq_drafts": [
                    {"question": d.question, "answer": d.answer, "at": d.created_at.isoformat()}
                    for d in drafts.scalars()
                ],
            }
        )
    subscriptions = await session.execute(
        select(Subscription).where(Subscription.user_id == user.id).order_by(Subscription.id)
    )
    return {
        "questions": [
            {"text": q.text, "language": q.lang, "outcome": q.kind, "at": q.created_at.isoformat()}
            for q in questions.scalars()
        ],
        "questions_to_experts": exported_tickets,
        "reminder_subscriptions": [
            {"scope": s.scope, "event_id": s.event_id, "since": s.created_at.isoformat()}
            for s in subscriptions.scalars()
        ],
    }


def build_privacy_feature(
    exporters: Sequence[Exporter] = (export_profile, export_activity),
    erasers: Sequence[Eraser] = (),
) -> Feature:
    """The privacy feature; each exporter adds one part of the user's data, each eraser
    clears what deleting the user row would leave behind."""

    async def my_data(msg: Incoming, ctx: Context) -> list[Reply]:
        data: dict[str, Any] = {}
        for exporter in exporters:
            data.update(await exporter(ctx.session, ctx.user))
        body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
        return [
            Reply(
                text("mydata.header", ctx.lang) + "\n\n" + body[:3500],
                attachment=Attachment("omat-tiedot.json", body.encode(), "application/json"),
            )
        ]

    async def delete(msg: Incoming, ctx: Context) -> list[Reply]:
        await UserRepository(ctx.session).set_state(ctx.user, ConvState.DELETE_CONFIRM)
        return [
            Reply.with_buttons(
                text("delete.confirm", ctx.lang),
                [
                    Button(text("delete.yes", ctx.lang), payload="del:yes"),
                    Button(text("delete.no", ctx.lang), payload="del:no"),
                ],
            )
        ]

    async def delete_answer(msg: Incoming, ctx: Context) -> list[Reply]:
        users = UserRepository(ctx.session)
        if msg.callback == "del:yes" and ctx.user.state == ConvState.DELETE_CONFIRM:
            for eraser in erasers:
                await eraser(ctx.session, ctx.user, ctx.now)
            await users.delete(ctx.user)
            ctx.mark_queued()
            return [Reply(text("delete.done", ctx.lang))]
        await users.set_state(ctx.user, None)
        return [Reply(text("delete.cancelled", ctx.lang))]

    async def delete_state_text(msg: Incoming, ctx: Context) -> list[Reply]:
        await UserRepository(ctx.session).set_state(ctx.user, None)
        return [Reply(text("delete.cancelled", ctx.lang))]

    return Feature(
        name="privacy",
        commands=(
            Command(
                "omattiedot",
                my_data,
                {Lang.FI: "näytä tietoni", Lang.SV: "visa mina uppgifter", Lang.EN: "show my data"},
                aliases=("mydata",),
            ),
            Command(
                "poista",
                delete,
                {
                    Lang.FI: "poista tietoni",
                    Lang.SV: "radera mina uppgifter",
                    Lang.EN: "delete my data",
                },
                aliases=("delete",),
            ),
        ),
        callbacks={"del": delete_answer},
        states={ConvState.DELETE_CONFIRM: delete_state_text},
        platforms=frozenset({Platform.TELEGRAM, Platform.CONSOLE}),
    )
