"""Repositories: the only place that writes queries; handlers call these."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import User


class UserRepository:
    """Users by platform identity."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: str, platform_id: str) -> User | None:
        """The user with this platform identity, if known."""
        result = await self.session.execute(
            select(User).where(User.platform == platform, User.platform_id == platform_id)
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
        user.seen_at = now
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
