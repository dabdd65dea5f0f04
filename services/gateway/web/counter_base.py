"""What every counter screen shares: the card states that cannot pay, reading a form field, and
the identify view of the chosen card."""

from __future__ import annotations

from typing import Any

from services.gateway import members
from services.gateway.web.core import PageContext

# Statuses that put a warning on the member panel (the card cannot pay).
WARN = {"lost", "frozen", "expired", "cancelled", "replaced"}


def text(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


async def member_view(ctx: PageContext, card_no: str) -> dict[str, Any] | None:
    """The identify view of a card (None when no card is chosen)."""
    if not card_no:
        return None
    return await members.identify(ctx.state, ctx.p, card_no=card_no)
