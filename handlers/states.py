"""Conversation states: where a user is in a multi-step conversation."""

from enum import StrEnum


class ConvState(StrEnum):
    """Every conversation state, stored in `users.state` (its data in `users.state_data`)."""

    DELETE_CONFIRM = "delete_confirm"
    ASK_TEXT = "ask_text"
    ASK_REGION = "ask_region"
    ASK_CONFIRM = "ask_confirm"
    TICKET_CHAT = "ticket_chat"
