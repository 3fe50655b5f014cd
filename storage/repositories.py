"""Repositories: the only place that writes queries; handlers call these."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, has_written
from storage.models import FaqQuestion, User

# How stale `users.seen_at` may get before a message updates it.
SEEN_AT_RESOLUTION = timedelta(minutes=5)

# Statements every update runs, built once: building and coercing them anew each time was a
# measurable share of an update's CPU time.
_USER_BY_IDENTITY = select(User).where(
    User.platform == bindparam("platform"), User.platform_id == bindparam("platform_id")
)
_INSERT_QUESTION = insert(FaqQuestion).returning(FaqQuestion.id)
_INSERT_QUESTIONS_IN_ORDER = insert(FaqQuestion).returning(
    FaqQuestion.id, sort_by_parameter_order=True
)


class UserRepository:
    """Users by platform identity."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: str, platform_id: str) -> User | None:
        """The user with this platform identity, if known."""
        result = await self.session.execute(
            _USER_BY_IDENTITY, {"platform": platform, "platform_id": platform_id}
        )
        return result.scalar_one_or_none()

    async def by_id(self, user_id: int) -> User | None:
        """The user with this database id."""
        return await self.session.get(User, user_id)

    async def touch(
        self,
        platform: str,
        platform_id: str,
        *,
        now: datetime,
        first_name: str | None = None,
        platform_language: str | None = None,
    ) -> User:
        """Fetch or create the user and record that they were seen now."""
        user = await self.get(platform, platform_id)
        if user is None:
            user = User(
                platform=platform,
                platform_id=platform_id,
                first_name=first_name,
                platform_language=platform_language,
                state_data={},
                created_at=now,
                seen_at=now,
            )
            self.session.add(user)
            await self.session.flush()
            return user
        if now - user.seen_at >= SEEN_AT_RESOLUTION:
            user.seen_at = now  # minutes are enough; skipping the write keeps chats fast
        if first_name and user.first_name != first_name:
            user.first_name = first_name
        if platform_language and user.platform_language != platform_language:
            user.platform_language = platform_language
        if user.blocked_at is not None:
            user.blocked_at = None
        return user

    async def set_state(
        self, user: User, state: str | None, data: dict[str, Any] | None = None
    ) -> None:
        """Move the user's conversation to `state` (None ends it)."""
        user.state = state
        user.state_data = dict(data or {})

    async def delete(self, user: User) -> None:
        """Remove the user row (related rows cascade)."""
        await self.session.execute(delete(User).where(User.id == user.id))

    async def count(self) -> int:
        """How many users are stored."""
        result = await self.session.execute(select(func.count()).select_from(User))
        return int(result.scalar_one())


@dataclass(frozen=True, slots=True)
class MissSummary:
    """A question the knowledge base could not answer well, with how often it was asked."""

    text: str
    lang: str
    count: int
    kinds: tuple[str, ...]
    last_asked: datetime


class QuestionLog:
    """Group commit for asked questions: the questions of updates handled at the same time
    are written with one INSERT … RETURNING and one COMMIT, and each caller gets its row id
    once the row is committed (so a reply's buttons never point at a row that is not there).

    Every update asks a question, and on SQLite each statement and commit is a hop to the
    database thread: sharing them is a large part of an update's cost. A session that has
    already written (a new user, a state change) inserts its question itself, in its own
    transaction: the log's connection could not see those rows, and on SQLite would wait
    for that transaction's lock while the transaction waits for the log.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, session: AsyncSession, values: dict[str, Any]) -> int:
        """Store a question and return its id (through the log when `session` allows)."""
        if has_written(session):
            return await FaqQuestionRepository(session).record(**values)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((values, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        await asyncio.sleep(0)  # let the updates running now add theirs
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                async with self.db.side_session() as session:
                    result = await session.execute(
                        _INSERT_QUESTIONS_IN_ORDER, [values for values, _ in batch]
                    )
                    ids = [int(i) for i in result.scalars()]
            except Exception as err:  # each caller's update fails and says so
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for (_, future), question_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(question_id)


class FaqQuestionRepository:
    """Questions asked, for the learning loop."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, question: FaqQuestion) -> FaqQuestion:
        """Store a question and give it an id."""
        self.session.add(question)
        await self.session.flush()
        return question

    async def record(self, **values: Any) -> int:
        """Store a question from column values and return its id: one INSERT … RETURNING,
        without the ORM's bookkeeping (every question a volunteer asks goes through here)."""
        result = await self.session.execute(_INSERT_QUESTION, values)
        return int(result.scalar_one())

    async def get(self, question_id: int) -> FaqQuestion | None:
        """The question with this id."""
        return await self.session.get(FaqQuestion, question_id)

    async def misses(self, limit: int = 50) -> list[MissSummary]:
        """Misses, low-confidence answers and 👎, grouped by text, most frequent first."""
        key = func.lower(func.trim(FaqQuestion.text))
        is_miss = or_(
            FaqQuestion.kind.in_(("suggestions", "off_topic")),
            FaqQuestion.feedback < 0,
        )
        rows = await self.session.execute(
            select(
                func.min(FaqQuestion.text),
                FaqQuestion.lang,
                func.count(),
                func.max(FaqQuestion.created_at),
                key,
            )
            .where(is_miss)
            .group_by(key, FaqQuestion.lang)
            .order_by(func.count().desc(), func.max(FaqQuestion.created_at).desc())
            .limit(limit)
        )
        groups = rows.all()
        summaries: list[MissSummary] = []
        for text_, lang, count, last, normalized in groups:
            kinds_rows = await self.session.execute(
                select(FaqQuestion.kind, FaqQuestion.feedback)
                .where(key == normalized, FaqQuestion.lang == lang, is_miss)
                .distinct()
            )
            kinds = sorted(
                {"thumbs_down" if (fb or 0) < 0 else kind for kind, fb in kinds_rows.all()}
            )
            last_at = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
            if last_at.tzinfo is None:
                last_at = last_at.replace(tzinfo=UTC)
            summaries.append(MissSummary(text_, lang, int(count), tuple(kinds), last_at))
        return summaries
