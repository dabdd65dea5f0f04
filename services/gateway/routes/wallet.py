"""Stored value (docs/api.md "Stored value"): top-ups, balance, transactions, fees, batch
top-ups, adjustments, bonus rules, the top-up policy, settlement, the liability, risk rules and alerts.
The wallet moves the money; the gateway resolves org codes and maps Idempotency-Key."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import Field

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit.auth import Principal
from kit.errors import InvalidArgument
from services.gateway import audit
from services.gateway import bonus_rules as bonus
from services.gateway import wallet as stored_value
from services.gateway.deps import IdempotencyKey, State, permitted
from services.gateway.org import unit_path
from services.gateway.protojson import plain
from services.gateway.schemas import Strict
from services.gateway.wallet import (
    MAX_FEN,
    AckBody,
    AdjustmentBody,
    Fen,
    RejectBody,
    RiskRuleBody,
    RiskRulePatch,
    TopUpBody,
    balance_json,
    txn_json,
)

router = APIRouter(prefix="/api/v1", tags=["stored value"])


class FeeBody(Strict):
    fee_type: Literal["joining", "annual", "replacement", "late_penalty", "service"]
    amount: Fen | None = Field(default=None, gt=0)
    payment: Literal["cash", "stored_value"] = "cash"


class CloseBody(Strict):
    fee: Fen = Field(default=0, ge=0)


class BatchRowBody(Strict):
    card_no: str = Field(min_length=1, max_length=32)
    amount: Fen = Field(gt=0)


class BatchBody(Strict):
    rows: list[BatchRowBody] = Field(min_length=1, max_length=100_000)


class PolicyBody(Strict):
    stores: list[str] = Field(default_factory=list, max_length=1000, description="org unit codes")
    operators: list[str] = Field(
        default_factory=list, max_length=1000, description="usernames or terminal ids"
    )


@router.post("/cards/{card_no}/top-ups", status_code=201, response_model=stored_value.TopUpResult)
async def top_up(
    card_no: str,
    body: TopUpBody,
    p: Annotated[Principal, Depends(permitted("wallet.top_up"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    return await stored_value.top_up(state, request, p, key, card_no, body)


@router.post("/cards/{card_no}/top-ups/preview", response_model=stored_value.TopUpPreview)
async def preview_top_up(
    card_no: str,
    body: TopUpBody,
    p: Annotated[Principal, Depends(permitted("wallet.top_up"))],
    state: State,
) -> dict:
    """The bonus the active rule would give this top-up, before it is confirmed; changes nothing."""
    return await stored_value.preview_top_up(state, p, card_no, body)


@router.get("/cards/{card_no}/balance", response_model=stored_value.CardBalance)
async def balance(
    card_no: str, p: Annotated[Principal, Depends(permitted("wallet.balance"))], state: State
) -> dict:
    return await stored_value.balance(state, p, card_no)


@router.get("/cards/{card_no}/transactions", response_model=stored_value.TransactionPage)
async def transactions(
    card_no: str,
    p: Annotated[Principal, Depends(permitted("wallet.transactions"))],
    state: State,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> dict:
    return await stored_value.transactions(state, p, card_no, limit, cursor)


@router.post("/cards/{card_no}/fees", status_code=201)
async def fee(
    card_no: str,
    body: FeeBody,
    p: Annotated[Principal, Depends(permitted("wallet.fee"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    req = pb.ChargeFeeRequest(request_id=key, card_no=card_no, fee_type=body.fee_type, amount=body.amount or 0,
                              payment=body.payment, acting_store_path=p.scope)  # fmt: skip
    t = await state.clients.call(state.clients.wallet.ChargeFee, req, p)
    await audit.record_alone(state, request, p, "wallet.fee", "card", card_no, t.home_store_path,
                             {"transaction_id": t.transaction_id, "fee_type": body.fee_type, "amount": t.amount})  # fmt: skip
    return {
        **txn_json(t),
        "fee_type": body.fee_type,
        "payment": body.payment,
        "balance": balance_json(t.balance),
    }


@router.post("/cards/{card_no}/close", status_code=201)
async def close(
    card_no: str,
    p: Annotated[Principal, Depends(permitted("wallet.close"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
    body: CloseBody | None = None,
) -> dict:
    """Close the card's stored-value account: the principal is paid out minus the fee; the
    bonus is forfeited."""
    req = pb.CloseAccountRequest(
        request_id=key, card_no=card_no, fee=body.fee if body else 0, acting_store_path=p.scope
    )
    t = await state.clients.call(state.clients.wallet.CloseAccount, req, p)
    await audit.record_alone(state, request, p, "wallet.close", "card", card_no, t.home_store_path,
                             {"transaction_id": t.transaction_id, "paid_out": t.amount})  # fmt: skip
    return {**txn_json(t), "paid_out": t.amount, "balance": balance_json(t.balance)}


async def _batch_rows(request: Request) -> list[BatchRowBody]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidArgument("send the rows as a CSV file in the form field 'file'", field="file")
        raw = await upload.read(16 * 1024 * 1024 + 1)
        if len(raw) > 16 * 1024 * 1024:
            raise InvalidArgument("the file is larger than 16 MiB", field="file")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidArgument("the file is not UTF-8 CSV", field="file") from None
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"card_no", "amount"} <= {f.strip() for f in reader.fieldnames}:
            raise InvalidArgument("the CSV needs a header row with card_no and amount", field="file")
        rows = []
        for i, row in enumerate(reader, start=2):
            amount = (row.get("amount") or "").strip()
            if not amount.isdigit() or not 0 < int(amount) <= MAX_FEN:
                raise InvalidArgument(
                    f"row {i}: amount must be a positive whole number of fen", field="amount"
                )
            rows.append(BatchRowBody(card_no=(row.get("card_no") or "").strip() or "?", amount=int(amount)))
        if not rows:
            raise InvalidArgument("the file has no rows", field="file")
        return rows
    try:
        return BatchBody.model_validate_json(await request.body()).rows
    except ValueError as exc:
        raise InvalidArgument(f"send {{\"rows\": [{{\"card_no\", \"amount\"}}]}} or a CSV file: {exc}"[:500],
                              field="rows") from None  # fmt: skip


@router.post("/wallet/batch-top-ups", status_code=202)
async def batch(
    p: Annotated[Principal, Depends(permitted("wallet.batch"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
) -> dict:
    rows = await _batch_rows(request)
    req = pb.StartBatchTopUpRequest(request_id=key, acting_store_path=p.scope,
                                    rows=[pb.BatchRow(card_no=r.card_no, amount=r.amount) for r in rows])  # fmt: skip
    job = await state.clients.call(state.clients.wallet.StartBatchTopUp, req, p, timeout=60)
    await audit.record_alone(
        state, request, p, "wallet.batch_top_up", "batch", job.job_id, p.scope, {"rows": len(rows)}
    )
    return plain(job)


@router.get("/wallet/batch-top-ups/{job_id}")
async def batch_job(
    job_id: str, p: Annotated[Principal, Depends(permitted("wallet.batch"))], state: State
) -> dict:
    return plain(
        await state.clients.call(state.clients.wallet.GetBatchJob, pb.GetBatchJobRequest(job_id=job_id), p)
    )


@router.post("/wallet/adjustments")
async def adjust(
    body: AdjustmentBody,
    p: Annotated[Principal, Depends(permitted("wallet.adjust"))],
    key: IdempotencyKey,
    request: Request,
    state: State,
):
    adj = await stored_value.request_adjustment(state, request, p, key, body)
    return JSONResponse(adj, status_code=201 if adj["status"] == "applied" else 202)


@router.post("/wallet/adjustments/{adjustment_id}/approve")
async def approve(
    adjustment_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.adjust"))],
    state: State,
) -> dict:
    return await stored_value.approve_adjustment(state, request, p, adjustment_id)


@router.post("/wallet/adjustments/{adjustment_id}/reject")
async def reject(
    adjustment_id: str,
    body: RejectBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.adjust"))],
    state: State,
) -> dict:
    """Refuse a pending adjustment with a reason; nothing moves. Again: the same answer."""
    return await stored_value.reject_adjustment(state, request, p, adjustment_id, body.reason)


@router.get("/wallet/adjustments")
async def adjustments(
    p: Annotated[Principal, Depends(permitted("wallet.adjustments.read"))],
    state: State,
    status: Literal["pending_approval", "applied", "rejected"] | None = None,
) -> dict:
    return {"items": await stored_value.adjustments(state, p, status)}


@router.get("/wallet/bonus-rules")
async def bonus_rules(
    p: Annotated[Principal, Depends(permitted("wallet.bonus_rules.read"))], state: State
) -> dict:
    return {"items": await bonus.bonus_rules(state, p)}


@router.post("/wallet/bonus-rules", status_code=201)
async def create_bonus_rule(
    body: bonus.BonusRuleBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.bonus_rules.write"))],
    state: State,
) -> dict:
    return await bonus.create_bonus_rule(state, request, p, body)


@router.patch("/wallet/bonus-rules/{rule_id}")
async def update_bonus_rule(
    rule_id: str,
    body: bonus.BonusRulePatch,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.bonus_rules.write"))],
    state: State,
) -> dict:
    """Change the given fields of a bonus rule in the caller's scope (validated as on create)."""
    return await bonus.update_bonus_rule(state, request, p, rule_id, body)


@router.post("/wallet/bonus-rules/{rule_id}/deactivate")
async def deactivate_bonus_rule(
    rule_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.bonus_rules.write"))],
    state: State,
) -> dict:
    """Turn a bonus rule off: top-ups stop applying it at once."""
    return await bonus.set_bonus_rule_active(state, request, p, rule_id, False)


@router.post("/wallet/bonus-rules/{rule_id}/activate")
async def activate_bonus_rule(
    rule_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.bonus_rules.write"))],
    state: State,
) -> dict:
    """Turn a bonus rule on again."""
    return await bonus.set_bonus_rule_active(state, request, p, rule_id, True)


@router.delete("/wallet/bonus-rules/{rule_id}", status_code=204)
async def delete_bonus_rule(
    rule_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.bonus_rules.write"))],
    state: State,
) -> Response:
    """Delete a bonus rule no top-up has applied (409 otherwise: deactivate it)."""
    await bonus.delete_bonus_rule(state, request, p, rule_id)
    return Response(status_code=204)


@router.get("/wallet/top-up-policy")
async def policy(p: Annotated[Principal, Depends(permitted("wallet.policy.read"))], state: State) -> dict:
    return plain(await state.clients.call(state.clients.wallet.GetTopUpPolicy, pb.GetTopUpPolicyRequest(), p))


@router.put("/wallet/top-up-policy")
async def set_policy(
    body: PolicyBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.policy.write"))],
    state: State,
) -> dict:
    paths = [await unit_path(state, p, code, field="stores") for code in body.stores]
    reply = await state.clients.call(
        state.clients.wallet.SetTopUpPolicy, pb.TopUpPolicy(store_paths=paths, operators=body.operators), p
    )
    await audit.record_alone(state, request, p, "wallet.top_up_policy.set", "policy", "top-up", "HQ",
                             body.model_dump())  # fmt: skip
    return plain(reply)


@router.get("/wallet/settlement")
async def settlement(
    p: Annotated[Principal, Depends(permitted("wallet.settlement"))],
    state: State,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
) -> dict:
    return {"items": await stored_value.settlement(state, p, start, to)}


@router.get("/wallet/settlement.xlsx")
async def settlement_xlsx(
    request: Request,
    p: Annotated[Principal, Depends(permitted("wallet.settlement"))],
    state: State,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
) -> StreamingResponse:
    """The settlement report as a spreadsheet (audited like every export)."""
    return await stored_value.settlement_xlsx(state, request, p, start, to)


@router.get("/wallet/liability", response_model=stored_value.Liability)
async def liability(
    p: Annotated[Principal, Depends(permitted("wallet.liability"))],
    state: State,
    org_unit: Annotated[
        str | None, Query(max_length=300, description="org unit code or path; default the caller's scope")
    ] = None,
) -> dict:
    """Stored value outstanding now (the sum of the balances of the scope's members)."""
    path = await stored_value.org_unit_path(state, p, org_unit)
    return await stored_value.liability(state, p, path)


@router.get("/risk/rules")
async def risk_rules(p: Annotated[Principal, Depends(permitted("risk.rules.read"))], state: State) -> dict:
    return {"items": await stored_value.risk_rules(state, p)}


@router.post("/risk/rules", status_code=201)
async def create_risk_rule(
    body: RiskRuleBody,
    request: Request,
    p: Annotated[Principal, Depends(permitted("risk.rules.write"))],
    state: State,
) -> dict:
    return await stored_value.create_risk_rule(state, request, p, body)


@router.get("/risk/alerts")
async def risk_alerts(
    p: Annotated[Principal, Depends(permitted("risk.alerts.read"))],
    state: State,
    status: Literal["open", "acknowledged"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=128)] = None,
) -> dict:
    return await stored_value.risk_alerts(state, p, status, limit, cursor)


@router.patch("/risk/rules/{rule_id}")
async def update_risk_rule(
    rule_id: str,
    body: RiskRulePatch,
    request: Request,
    p: Annotated[Principal, Depends(permitted("risk.rules.write"))],
    state: State,
) -> dict:
    """Change the given fields of a rule; the result is validated as a new rule is."""
    return await stored_value.update_risk_rule(state, request, p, rule_id, body)


@router.post("/risk/rules/{rule_id}/deactivate")
async def deactivate_risk_rule(
    rule_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("risk.rules.write"))],
    state: State,
) -> dict:
    """The rule stops watching transactions; its alerts stay."""
    return await stored_value.set_risk_rule_active(state, request, p, rule_id, False)


@router.post("/risk/rules/{rule_id}/activate")
async def activate_risk_rule(
    rule_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("risk.rules.write"))],
    state: State,
) -> dict:
    return await stored_value.set_risk_rule_active(state, request, p, rule_id, True)


@router.delete("/risk/rules/{rule_id}", status_code=204)
async def delete_risk_rule(
    rule_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("risk.rules.write"))],
    state: State,
) -> Response:
    """Only a rule no alert names may be deleted (409 otherwise: deactivate it)."""
    await stored_value.delete_risk_rule(state, request, p, rule_id)
    return Response(status_code=204)


@router.post("/risk/alerts/{alert_id}/ack")
async def ack(
    alert_id: str,
    request: Request,
    p: Annotated[Principal, Depends(permitted("risk.alerts.ack"))],
    state: State,
    body: AckBody | None = None,
) -> dict:
    """Acknowledge an open alert, optionally with a note of what was checked (kept with it)."""
    return await stored_value.acknowledge_alert(state, request, p, alert_id, body.note if body else None)
