"""Conversation states: where a user is in a multi-step conversation."""

from enum import StrEnum


class ConvState(StrEnum):
    """Every conversation state, stored in `users.state`."""

    DELETE_CONFIRM = "delete_confirm"
