"""One storage contract, run against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import FaqQuestion, User
from storage.repositories import QuestionLog, UserRepository

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


async def test_touch_creates_then_updates_a_user(database: Database) -> None:
    async with database.session() as session:
        users = UserRepository(session)
        user = await users.touch(
            "telegram", "42", now=NOW, first_name="Maija", platform_language="sv"
        )
        assert user.id is not None
    later = NOW + timedelta(hours=5)
    async with database.session() as session:
        users = UserRepository(session)
        again = await users.touch("telegram", "42", now=later, first_name="Maija-Liisa")
        assert again.id == user.id
        assert again.created_at == NOW
        assert again.seen_at == later
        assert again.first_name == "Maija-Liisa"
        assert again.platform_language == "sv"
        assert await users.count() == 1


async def test_same_id_on_two_platforms_are_two_users(database: Database) -> None:
    async with database.session() as session:
        users = UserRepository(session)
        a = await users.touch("telegram", "7", now=NOW)
        b = await users.touch("slack", "7", now=NOW)
        assert a.id != b.id


async def test_platform_identity_is_unique(database: Database) -> None:
    with pytest.raises(IntegrityError):
        async with database.session() as session:
            for _ in range(2):
                session.add(
                    User(
                        platform="telegram",
                        platform_id="9",
                        state_data={},
                        created_at=NOW,
                        seen_at=NOW,
                    )
                )
                await session.flush()


async def test_times_come_back_aware_in_utc(database: Database) -> None:
    helsinki_summer = timezone(timedelta(hours=3))
    local = datetime(2026, 6, 1, 12, 0, tzinfo=helsinki_summer)
    async with database.session() as session:
        await UserRepository(session).touch("telegram", "1", now=local)
    async with database.session() as session:
        user = await UserRepository(session).get("telegram", "1")
        assert user is not None
        assert user.created_at.tzinfo is not None
        assert user.created_at == local
        assert user.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with database.session() as session:
            await UserRepository(session).touch("telegram", "1", now=datetime(2026, 1, 1))  # noqa: DTZ001


async def test_state_and_deletion(database: Database) -> None:
    async with database.session() as session:
        users = UserRepository(session)
        user = await users.touch("telegram", "5", now=NOW)
        await users.set_state(user, "delete_confirm", {"step": 1})
    async with database.session() as session:
        users = UserRepository(session)
        user2 = await users.get("telegram", "5")
        assert user2 is not None and user2.state == "delete_confirm"
        assert user2.state_data == {"step": 1}
        await users.delete(user2)
    async with database.session() as session:
        assert await UserRepository(session).get("telegram", "5") is None


async def test_migrations_are_idempotent_and_match_the_models(database: Database) -> None:
    await database.upgrade()
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    from storage.models import Base

    assert set(Base.metadata.tables) <= tables
    assert version is not None


async def test_models_and_migrations_agree(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})  # type: ignore[arg-type]
        return list(compare_metadata(context, Base.metadata))

    async with database.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_sqlite_uses_wal_and_foreign_keys(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            fks = (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar()
        assert (mode, fks) == ("wal", 1)
        assert busy and int(busy) >= 5000
    finally:
        await db.dispose()


async def test_retention_removes_what_volunteers_wrote_once_it_is_old(
    database: Database, database_url: str
) -> None:
    from bot.settings import Settings
    from handlers.context import Services
    from schedules.retention import purge_old_data
    from storage.models import FaqDraft, FaqQuestion, Ticket
    from tests.fakes.clock import FakeClock

    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=10)
    async with database.session() as session:
        user = await UserRepository(session).touch("telegram", "77", now=old)
        for status, touched in (("open", old), ("closed", old), ("answered", recent)):
            session.add(
                Ticket(
                    user_id=user.id,
                    status=status,
                    county_code="06",
                    area_id="lansi-suomi",
                    lang="fi",
                    text=f"{status} question",
                    display_name="Maija",
                    escalation_level=0,
                    created_at=old,
                    updated_at=touched,
                    closed_at=touched if status == "closed" else None,
                )
            )
        for when in (old, recent):
            session.add(
                FaqQuestion(
                    user_id=user.id,
                    text="kysymys",
                    lang="fi",
                    kind="answer",
                    confidence=0.9,
                    suggested=[],
                    created_at=when,
                )
            )
            session.add(
                FaqDraft(lang="fi", question="q", answer="a", saved_by="U1", created_at=when)
            )
    settings = Settings(_env_file=None, database_url=database_url, ticket_retention_days=365)  # type: ignore[call-arg]
    services = Services(settings, database, FakeClock(NOW))
    removed = await purge_old_data(services)
    assert (removed["tickets"], removed["faq_questions"], removed["faq_drafts"]) == (2, 1, 1)
    async with database.session() as session:
        left = (await session.execute(select(Ticket.status))).scalars().all()
        assert left == ["answered"]
        assert await session.scalar(select(func.count()).select_from(FaqQuestion)) == 1
        assert await session.scalar(select(func.count()).select_from(FaqDraft)) == 1


async def test_questions_asked_at_once_are_written_together_and_each_gets_its_row(
    database: Database,
) -> None:
    log = QuestionLog(database)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with database.session() as session:
        user = await UserRepository(session).touch("telegram", "500", now=now)
    user_id = user.id

    async def ask(n: int) -> tuple[int, int]:
        async with database.session() as session:
            await UserRepository(session).touch("telegram", "500", now=now)  # nothing to write
            values = {
                "user_id": user_id,
                "text": f"kysymys {n}",
                "lang": "fi",
                "kind": "answer",
                "entry_id": None,
                "confidence": 0.9,
                "suggested": [],
                "created_at": now,
            }
            return n, await log.record(session, values)

    results = await asyncio.gather(*(ask(n) for n in range(30)))
    async with database.session() as session:
        for n, question_id in results:
            question = await session.get(FaqQuestion, question_id)
            assert question is not None and question.text == f"kysymys {n}"

    # A session that has written (here: a new user) stores its question itself: the log's
    # own connection could not see the new user yet.
    async with database.session() as session:
        newcomer = await UserRepository(session).touch("telegram", "501", now=now)
        question_id = await log.record(
            session,
            {
                "user_id": newcomer.id,
                "text": "ensimmäinen kysymykseni",
                "lang": "fi",
                "kind": "off_topic",
                "entry_id": None,
                "confidence": 0.1,
                "suggested": [],
                "created_at": now,
            },
        )
    async with database.session() as session:
        question = await session.get(FaqQuestion, question_id)
        assert question is not None and question.user_id == newcomer.id
