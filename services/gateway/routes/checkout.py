"""Checkout (docs/api.md "Checkout"): quote, the checkout saga, reading and refunding checkouts.
The use cases live in services/gateway/checkout.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from kit.auth import Principal
from services.gateway import checkout, checkout_refunds
from services.gateway.deps import IdempotencyKey, State, permitted

router = APIRouter(prefix="/api/v1/checkouts", tags=["checkout"])


@router.post("/quote")
async def quote(
    body: checkout.QuoteBody, p: Annotated[Principal, Depends(permitted("checkouts.quote"))], state: State
) -> dict:
    """Price the lines for the member (every discount with its rule); changes nothing."""
    return await checkout.quote(state, p, body)


@router.post("", status_code=201)
async def create(
    body: checkout.CheckoutBody,
    p: Annotated[Principal, Depends(permitted("checkouts.create"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    """Check out at the caller's store: reserve, take the stored-value part, record the
    purchase. A replay with the same Idempotency-Key and body returns the same receipt."""
    return await checkout.create(state, request, p, key, body)


@router.get("/{checkout_id}")
async def get(
    checkout_id: str, p: Annotated[Principal, Depends(permitted("checkouts.read"))], state: State
) -> dict:
    return await checkout_refunds.get(state, p, checkout_id)


@router.post("/{checkout_id}/refund", status_code=201)
async def refund(
    checkout_id: str,
    p: Annotated[Principal, Depends(permitted("checkouts.refund"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
    body: checkout.RefundBody | None = None,
) -> dict:
    return await checkout_refunds.refund(state, request, p, key, checkout_id, body or checkout.RefundBody())
