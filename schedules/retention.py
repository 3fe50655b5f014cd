"""Data retention: what volunteers wrote (tickets, questions, FAQ drafts made from them) is
kept TICKET_RETENTION_DAYS after it was last touched; delivery records 30 days and Slack
event ids 7 days."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, or_

from handlers.context import Services
from storage.models import Delivery, FaqDraft, FaqQuestion, ProcessedEvent, Ticket

log = logging.getLogger(__name__)


async def purge_old_data(services: Services) -> dict[str, int]:
    """Delete what is past its retention period; returns how many rows went per table."""
    now = services.clock.now()
    keep_tickets = timedelta(days=services.settings.ticket_retention_days)
    removed: dict[str, int] = {}
    async with services.db.session() as session:
        cutoff = now - keep_tickets
        result = await session.execute(
            delete(Ticket).where(
                or_(
                    Ticket.updated_at < cutoff,  # also questions nobody ever closed
                    (Ticket.status == "closed") & (Ticket.closed_at < cutoff),
                )
            )
        )
        removed["tickets"] = int(getattr(result, "rowcount", 0) or 0)
        result = await session.execute(delete(FaqDraft).where(FaqDraft.created_at < cutoff))
        removed["faq_drafts"] = int(getattr(result, "rowcount", 0) or 0)
        result = await session.execute(delete(FaqQuestion).where(FaqQuestion.created_at < cutoff))
        removed["faq_questions"] = int(getattr(result, "rowcount", 0) or 0)
        result = await session.execute(
            delete(Delivery).where(
                Delivery.status.in_(("sent", "skipped", "failed")),
                Delivery.created_at < now - timedelta(days=30),
            )
        )
        removed["deliveries"] = int(getattr(result, "rowcount", 0) or 0)
        result = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.received_at < now - timedelta(days=7))
        )
        removed["processed_events"] = int(getattr(result, "rowcount", 0) or 0)
    if any(removed.values()):
        log.info("retention: removed %s", removed)
    return removed
