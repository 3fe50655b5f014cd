"""One async engine and its sessions; migrations applied with Alembic."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

WROTE = "wrote"  # Session.info key: this transaction has sent an INSERT, UPDATE or DELETE


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


def has_written(session: AsyncSession) -> bool:
    """Whether `session`'s transaction has written anything yet (its rows are locked, and
    unseen by other connections until it commits)."""
    return bool(session.sync_session.info.get(WROTE)) or bool(session.new)


class DatabaseError(Exception):
    """The database could not be reached or migrated."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the bundled migrations, optionally on an open connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@asynccontextmanager
async def _committed(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


class Database:
    """The application's engine and session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            self._ensure_sqlite_dir()
            kwargs["connect_args"] = {"timeout": 30}
            # Sessions always end their transaction (commit or rollback, see `session`), so
            # the pool's extra rollback on every check-in is a wasted thread hop.
            kwargs["pool_reset_on_return"] = None
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self._kwargs = kwargs
        self.engine: AsyncEngine = self._create_engine(**kwargs)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False
        )
        self._side: async_sessionmaker[AsyncSession] | None = None

    def _create_engine(self, **kwargs: Any) -> AsyncEngine:
        engine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine

    @asynccontextmanager
    async def side_session(self) -> AsyncIterator[AsyncSession]:
        """A session on a one-connection engine of its own, for work that other sessions
        wait for (the question log): it never waits for the main pool they hold."""
        if self._side is None:
            kwargs = {**self._kwargs, "pool_size": 1, "max_overflow": 0}
            self._side = async_sessionmaker(self._create_engine(**kwargs), expire_on_commit=False)
        async with _committed(self._side) as session:
            yield session

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite default."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.url.get_backend_name()

    def _ensure_sqlite_dir(self) -> None:
        database = self.url.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on error."""
        async with _committed(self.sessions) as session:
            yield session

    async def upgrade(self) -> None:
        """Apply every pending migration."""
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
        except (SQLAlchemyError, OSError) as err:
            raise DatabaseError(f"migrating the database failed: {err}") from err

    async def ping(self) -> bool:
        """Whether the database answers a trivial query within two seconds."""
        try:
            async with asyncio.timeout(2.0), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._side is not None:
            await self._side.kw["bind"].dispose()
            self._side = None

    def describe(self) -> str:
        """The URL without its password, for logs."""
        return self.url.render_as_string(hide_password=True)
