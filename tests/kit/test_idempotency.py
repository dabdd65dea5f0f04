"""kit.idempotency on real PostgreSQL: a request id runs once, replays return the stored
outcome (result or refusal), another request under the same id is refused, a validation
refusal keeps nothing, and concurrent duplicates run the work once; and ``Database.autocommit``,
the one-statement units of work beside them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.wallet.v1 import wallet_pb2 as pb
from kit import idempotency as idem
from kit.db import Database, ensure_database, new_metadata, with_database
from kit.errors import ChainclubError, Conflict, InvalidArgument
from kit.testing import Infra
from tests.kit.helpers import drop_database

pytestmark = pytest.mark.integration

metadata = new_metadata()
records = idem.idempotency_table(metadata)
effects = Table(
    "effects", metadata, Column("id", Integer, primary_key=True), Column("request_id", String(300))
)


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[Database]:
    url = with_database(infra.database_url, f"t{uuid.uuid4().hex[:12]}_idem")
    await ensure_database(url)
    database = Database(url, pool_size=4)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()
        await drop_database(url)


def request(request_id: str, amount: int = 100) -> pb.TopUpRequest:
    return pb.TopUpRequest(request_id=request_id, card_no="8000000001", amount=amount, channel="cash")


async def count_effects(db: Database) -> int:
    async with db.transaction() as s:
        return (await s.execute(select(func.count()).select_from(effects))).scalar_one()


def work_writing(request_id: str, *, fail: ChainclubError | None = None, pause: float = 0.0):  # type: ignore[no-untyped-def]
    async def work(session: AsyncSession) -> pb.Transaction:
        await session.execute(effects.insert().values(request_id=request_id))
        await asyncio.sleep(pause)
        if fail is not None:
            raise fail
        return pb.Transaction(transaction_id=str(uuid.uuid4()), amount=100)

    return work


async def test_a_replay_returns_the_stored_result_and_has_no_second_effect(db: Database) -> None:
    rid = uuid.uuid4().hex
    first = await idem.run_once(db, records, "topup", request(rid), pb.Transaction, work_writing(rid))
    again = await idem.run_once(db, records, "topup", request(rid), pb.Transaction, work_writing(rid))
    assert again == first
    assert await count_effects(db) == 1


async def test_the_same_id_with_another_request_is_refused(db: Database) -> None:
    rid = uuid.uuid4().hex
    await idem.run_once(db, records, "topup", request(rid), pb.Transaction, work_writing(rid))
    with pytest.raises(ChainclubError) as reused:
        await idem.run_once(db, records, "topup", request(rid, amount=200), pb.Transaction, work_writing(rid))
    assert reused.value.reason == "idempotency_key_reused"
    with pytest.raises(ChainclubError) as other_kind:
        await idem.run_once(db, records, "payment", request(rid), pb.Transaction, work_writing(rid))
    assert other_kind.value.reason == "idempotency_key_reused"
    assert await count_effects(db) == 1


async def test_a_refusal_is_kept_and_replayed_with_its_effects_undone(db: Database) -> None:
    rid = uuid.uuid4().hex
    left_behind: list[str] = []

    async def after_failure(session: AsyncSession) -> None:
        left_behind.append(rid)

    for _ in range(2):
        with pytest.raises(ChainclubError) as refused:
            await idem.run_once(
                db, records, "topup", request(rid), pb.Transaction,
                work_writing(rid, fail=Conflict("no, and for good")), after_failure=after_failure,
            )  # fmt: skip
        assert refused.value.reason == "conflict"
        assert refused.value.detail == "no, and for good"
    assert left_behind == [rid]  # the second call replayed the stored refusal
    assert await count_effects(db) == 0


async def test_a_validation_refusal_keeps_nothing_so_a_corrected_request_runs(db: Database) -> None:
    rid = uuid.uuid4().hex
    with pytest.raises(ChainclubError) as invalid:
        await idem.run_once(
            db, records, "topup", request(rid), pb.Transaction, work_writing(rid, fail=InvalidArgument("bad"))
        )
    assert invalid.value.reason == "invalid_argument"
    done = await idem.run_once(db, records, "topup", request(rid, 300), pb.Transaction, work_writing(rid))
    assert done.amount == 100
    assert await count_effects(db) == 1


async def test_a_missing_or_overlong_request_id_is_refused_before_anything(db: Database) -> None:
    with pytest.raises(ChainclubError) as missing:
        await idem.run_once(db, records, "topup", request(""), pb.Transaction, work_writing(""))
    assert missing.value.reason == "idempotency_key_required"
    with pytest.raises(ChainclubError) as long:
        await idem.run_once(db, records, "topup", request("k" * 301), pb.Transaction, work_writing("k"))
    assert long.value.reason == "invalid_argument"
    assert await count_effects(db) == 0


async def test_concurrent_duplicates_run_the_work_once_and_all_get_its_result(db: Database) -> None:
    rid = uuid.uuid4().hex
    results = await asyncio.gather(
        *(
            idem.run_once(db, records, "topup", request(rid), pb.Transaction, work_writing(rid, pause=0.2))
            for _ in range(4)
        )
    )
    assert len({r.transaction_id for r in results}) == 1
    assert await count_effects(db) == 1


def test_the_hash_ignores_the_request_id_only() -> None:
    assert idem.request_hash(request("a")) == idem.request_hash(request("b"))
    assert idem.request_hash(request("a")) != idem.request_hash(request("a", amount=101))


async def test_autocommit_commits_each_statement_by_itself(db: Database) -> None:
    """``Database.autocommit``: a statement is visible to others at once, while the connection
    is still held, and a later failing statement does not undo it."""
    async with db.autocommit() as conn:
        await conn.execute(effects.insert().values(request_id="auto-1"))
        assert await count_effects(db) == 1  # seen from another connection, nothing committed by hand
        with pytest.raises(ProgrammingError):  # no such function
            await conn.execute(effects.insert().values(id=-1, request_id="x").returning(func.nope()))
    assert await count_effects(db) == 1
