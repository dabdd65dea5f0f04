"""Checkout (API.md "Checkout"): quote, the checkout saga, reading and refunding checkouts.
The use cases live in services/gateway/checkout.py."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.gateway import checkout, checkout_refunds
from services.gateway.deps import CurrentPrincipal, IdempotencyKey, State

router = APIRouter(prefix="/api/v1/checkouts", tags=["checkout"])


@router.post("/quote")
async def quote(body: checkout.QuoteBody, state: State, p: CurrentPrincipal) -> dict:
    """Price the lines for the member (every discount with its rule); changes nothing."""
    return await checkout.quote(state, p, body)


@router.post("", status_code=201)
async def create(
    body: checkout.CheckoutBody, key: IdempotencyKey, request: Request, state: State, p: CurrentPrincipal
) -> dict:
    """Check out at the caller's store: reserve, take the stored-value part, record the
    purchase. A replay with the same Idempotency-Key and body returns the same receipt."""
    return await checkout.create(state, request, p, key, body)


@router.get("/{checkout_id}")
async def get(checkout_id: str, state: State, p: CurrentPrincipal) -> dict:
    return await checkout_refunds.get(state, p, checkout_id)


@router.post("/{checkout_id}/refund", status_code=201)
async def refund(
    checkout_id: str,
    key: IdempotencyKey,
    request: Request,
    state: State,
    p: CurrentPrincipal,
    body: checkout.RefundBody | None = None,
) -> dict:
    return await checkout_refunds.refund(state, request, p, key, checkout_id, body or checkout.RefundBody())
