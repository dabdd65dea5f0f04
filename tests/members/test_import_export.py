"""Member import (CSV/XLSX -> job with progress and per-row errors) and the scoped, audited
XLSX export, through the real gateway and members service."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from datetime import date

import openpyxl
import pytest
from sqlalchemy import func, select

from services.members import imports
from services.members.imports import INTERRUPTED, JobLock, recover_interrupted
from services.members.models import import_jobs
from tests.members.conftest import principal_for, random_phone

pytestmark = pytest.mark.integration

IMPORTS = "/api/v1/members/imports"
EXPORT = "/api/v1/members/export.xlsx"


async def upload(world, token: str, name: str, content: bytes, media: str = "text/csv"):  # type: ignore[no-untyped-def]
    return await world.call("POST", IMPORTS, token, files={"file": (name, content, media)})


async def finished(world, token: str, job_id: str, timeout: float = 60.0) -> dict:  # type: ignore[no-untyped-def]
    """Poll the job until it ends; fail with what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        r = await world.call("GET", f"{IMPORTS}/{job_id}", token)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in ("completed", "failed"):
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"import {job_id} did not finish within {timeout}s: {job}")
        await asyncio.sleep(0.05)


async def run_import(world, token: str, name: str, content: bytes, media: str = "text/csv") -> dict:  # type: ignore[no-untyped-def]
    r = await upload(world, token, name, content, media)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    return await finished(world, token, r.json()["job_id"])


async def member_by_phone(world, token: str, phone: str) -> dict | None:  # type: ignore[no-untyped-def]
    r = await world.call("GET", "/api/v1/members", token, params={"phone": phone})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return items[0] if items else None


async def job_count(world) -> int:  # type: ignore[no-untyped-def]
    async with world.service.runtime.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(import_jobs)))


def errors_of(job: dict) -> list[tuple[int, str]]:
    return [(e["row"], e["field"]) for e in job["errors"]]


def csv_bytes(lines: list[str], bom: bool = False) -> bytes:
    return ("\ufeff" if bom else "").encode() + ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
async def region_pair(world):  # type: ignore[no-untyped-def]
    """Region A with stores A1, A2 and region B with store B1."""
    a, b = await world.unit("region", "HQ"), await world.unit("region", "HQ")
    return {
        "A": a, "B": b,
        "A1": await world.unit("store", a), "A2": await world.unit("store", a), "B1": await world.unit("store", b),
    }  # fmt: skip


# --- import --------------------------------------------------------------------------------
async def test_csv_import_creates_good_rows_and_reports_each_bad_row(world, region_pair):
    r = region_pair
    manager = await world.staff("region_manager", r["A"])
    p1, p3, p4, p5, p6, p7 = (random_phone() for _ in range(6))
    spaced = f"+86 {p7[:3]} {p7[3:7]} {p7[7:]}"
    content = csv_bytes(
        [
            "Name,Phone,gender,birthday,email,home_store,tags,sms",
            f"张三,{p1},男,1990-05-01,Zhang@Example.com,{r['A1']},vip|new,是",
            f"坏电话,12345,,,,{r['A1']},,",
            f",{p3},,,,{r['A1']},,",
            f"李四,{p4},,2020-02-31,,{r['A1']},,",
            f"张三重复,{p1},,,,{r['A2']},,",
            f"王五,{p5},,,,{r['B1']},,",
            f"赵六,{p6},F,,,{r['A2']},,0",
            f"钱七,{spaced},,1985/3/9,,{r['A1'].lower()},,",
            ",,,,,,,",  # blank rows are not rows
        ],
        bom=True,
    )
    job = await run_import(world, manager, "members.csv", content)
    assert job["status"] == "completed", job
    assert job["file_name"] == "members.csv"
    assert (job["total"], job["created"], job["updated"], job["unchanged"], job["failed"]) == (8, 3, 0, 0, 5)
    assert errors_of(job) == [(3, "phone"), (4, "name"), (5, "birthday"), (6, "phone"), (7, "home_store")]
    messages = {e["row"]: e["message"] for e in job["errors"]}
    assert "not a calendar date" in messages[5]
    assert messages[6] == "duplicate of row 2"
    assert r["B1"] in messages[7]

    zhang = await member_by_phone(world, manager, p1)
    assert zhang is not None
    assert (zhang["name"], zhang["gender"], zhang["birthday"]) == ("张三", "male", "1990-05-01")
    assert (zhang["email"], zhang["home_store"], zhang["source"]) == ("zhang@example.com", r["A1"], "import")
    assert zhang["tags"] == ["vip", "new"]
    assert zhang["consents"] == {"sms": True, "email": False, "wechat": False}
    assert zhang["card"]["status"] == "active"
    zhao = await member_by_phone(world, manager, p6)
    assert (zhao["gender"], zhao["home_store"], zhao["consents"]["sms"]) == ("female", r["A2"], False)
    qian = await member_by_phone(world, manager, p7)
    assert (qian["birthday"], qian["home_store"]) == ("1985-03-09", r["A1"])
    for phone in (p3, p4, p5):
        assert await member_by_phone(world, world.admin, phone) is None

    again = await run_import(world, manager, "members.csv", content)
    assert (again["total"], again["created"], again["updated"], again["unchanged"], again["failed"]) == (
        8, 0, 0, 3, 5,
    )  # fmt: skip
    r2 = await world.call("GET", "/api/v1/members", manager, params={"q": "张三"})
    assert [m["member_no"] for m in r2.json()["items"]] == [zhang["member_no"]]


async def test_import_updates_members_in_scope_and_refuses_others(world, region_pair):
    r = region_pair
    manager = await world.staff("region_manager", r["A"])
    changed = await world.register(world.admin, name="旧名字", home_store=r["A1"], tags=["old"])
    same = await world.register(world.admin, name="不变", home_store=r["A2"])
    elsewhere = await world.register(world.admin, name="别区", home_store=r["B1"])
    new_phone = random_phone()
    content = csv_bytes(
        [
            "name,phone,tags,home_store",
            f"新名字,{changed['phone']},gold,",
            f"不变,{same['phone']},,",
            f"别区,{elsewhere['phone']},,",
            f"无店,{new_phone},,",  # a region manager has no store of its own to default to
        ]
    )
    job = await run_import(world, manager, "update.csv", content)
    assert (job["total"], job["created"], job["updated"], job["unchanged"], job["failed"]) == (4, 0, 1, 1, 2)
    assert errors_of(job) == [(4, "phone"), (5, "home_store")]
    assert job["errors"][0]["message"] == "member exists outside your scope"

    after = await member_by_phone(world, manager, changed["phone"])
    assert (after["member_no"], after["name"], after["tags"]) == (
        changed["member_no"],
        "新名字",
        ["old", "gold"],
    )
    assert len(after["cards"]) == 1
    untouched = await member_by_phone(world, world.admin, elsewhere["phone"])
    assert untouched["name"] == "别区"
    assert await member_by_phone(world, world.admin, new_phone) is None


async def test_xlsx_import_with_chinese_headers_and_the_uploaders_store(world, region_pair):
    r = region_pair
    manager = await world.staff("store_manager", r["A1"])
    p1, p2 = random_phone(), random_phone()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机号", "性别", "生日", "门店", "标签"])
    sheet.append(["孙八", int(p1), "女", date(1992, 7, 1), r["A1"], "vip"])
    sheet.append(["周九", p2, "M", None, None, None])  # no store: the uploader's own
    sheet.append([None] * 6)
    buf = io.BytesIO()
    book.save(buf)
    job = await run_import(
        world, manager, "会员.xlsx", buf.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )  # fmt: skip
    assert job["status"] == "completed", job
    assert (job["total"], job["created"], job["failed"]) == (2, 2, 0), job
    sun = await member_by_phone(world, manager, p1)
    assert (sun["name"], sun["gender"], sun["birthday"], sun["tags"]) == (
        "孙八",
        "female",
        "1992-07-01",
        ["vip"],
    )
    zhou = await member_by_phone(world, manager, p2)
    assert (zhou["gender"], zhou["home_store"]) == ("male", r["A1"])


async def test_custom_field_columns_are_imported_by_key(world, region_pair):
    key = f"imp_{uuid.uuid4().hex[:10]}"
    r = await world.call(
        "PUT", f"/api/v1/members/custom-fields/{key}", world.admin, json={"type": "integer", "active": True}
    )
    assert r.status_code == 200, r.text
    try:
        manager = await world.staff("store_manager", region_pair["A1"])
        p1, p2 = random_phone(), random_phone()
        job = await run_import(
            world, manager, "c.csv", csv_bytes([f"name,phone,{key}", f"甲,{p1},42", f"乙,{p2},x"])
        )
        assert (job["created"], job["failed"], errors_of(job)) == (1, 1, [(3, f"custom_fields.{key}")])
        assert (await member_by_phone(world, manager, p1))["custom_fields"] == {key: 42}
    finally:
        await world.call(
            "PUT",
            f"/api/v1/members/custom-fields/{key}",
            world.admin,
            json={"type": "integer", "active": False},
        )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("members.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 422),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 422),
        ("blob.bin", uuid.uuid4().bytes * 64, 422),
        ("members.xlsx", b"PK\x03\x04 this is not a workbook", 422),
        ("members.xlsx", b"name,phone\n", 422),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), 422),
        ("members.csv", b"\xe5\xbc\xa0\xe4\xb8\x89,13912345678\n", 422),  # no header: 张三,139...
        ("members.csv", b"email,gender\nx@example.com,male\n", 422),  # header without name/phone
        ("members.csv", b"", 422),
    ],
)
async def test_a_file_that_is_not_an_importable_csv_or_xlsx_creates_no_job(
    world, region_pair, name, content, code
):
    manager = await world.staff("region_manager", region_pair["A"])
    before = await job_count(world)
    r = await upload(world, manager, name, content, "application/octet-stream")
    assert r.status_code == code, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "invalid_argument"
    assert body["detail"]
    assert await job_count(world) == before


async def test_upload_without_a_file_is_invalid(world, region_pair):
    manager = await world.staff("region_manager", region_pair["A"])
    r = await world.call("POST", IMPORTS, manager, data={"nothing": "here"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_argument"


@pytest.mark.parametrize("role", ["clerk", "auditor"])
async def test_only_managers_may_import(world, region_pair, role):
    token = await world.staff(role, region_pair["A1" if role == "clerk" else "A"])
    before = await job_count(world)
    r = await upload(world, token, "members.csv", csv_bytes(["name,phone", f"甲,{random_phone()}"]))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"
    assert await job_count(world) == before


async def test_a_job_of_another_scope_is_not_found(world, region_pair):
    r = region_pair
    mine = await world.staff("store_manager", r["A1"])
    job = await run_import(world, mine, "m.csv", csv_bytes(["name,phone", f"甲,{random_phone()}"]))
    other = await world.staff("store_manager", r["A2"])
    above = await world.staff("region_manager", r["A"])
    assert (await world.call("GET", f"{IMPORTS}/{job['job_id']}", other)).status_code == 404
    assert (await world.call("GET", f"{IMPORTS}/{uuid.uuid4()}", mine)).status_code == 404
    assert (await world.call("GET", f"{IMPORTS}/not-a-uuid", mine)).status_code == 404
    seen = await world.call("GET", f"{IMPORTS}/{job['job_id']}", above)
    assert seen.status_code == 200 and seen.json()["created"] == 1


async def test_jobs_left_by_a_gone_process_are_marked_interrupted(world):
    ctx = world.service.context
    orphan, alive = uuid.uuid4(), uuid.uuid4()
    async with ctx.db.transaction() as session:
        for job_id, status in ((orphan, "running"), (alive, "queued")):
            await session.execute(
                import_jobs.insert().values(
                    id=job_id, status=status, file_name="x.csv", format="csv", scope="HQ", created_by="test"
                )
            )
    lock = await JobLock.acquire(ctx, alive)  # a live process still owns this one
    try:
        assert await recover_interrupted(ctx) >= 1
    finally:
        await lock.release()
    async with ctx.db.sessions() as session:
        rows = {
            r.id: r
            for r in await session.execute(select(import_jobs).where(import_jobs.c.id.in_([orphan, alive])))
        }
    assert (rows[orphan].status, rows[orphan].message) == ("failed", INTERRUPTED)
    assert rows[alive].status == "queued"
    assert await recover_interrupted(ctx) >= 1  # now nobody holds it
    async with ctx.db.sessions() as session:
        assert await session.scalar(select(import_jobs.c.status).where(import_jobs.c.id == alive)) == "failed"


# --- export --------------------------------------------------------------------------------
async def exported(world, token: str, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await world.call("GET", EXPORT, token, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert r.headers["content-disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "member_no", "name", "phone", "gender", "birthday", "email", "home_store", "tier", "tags",
        "joined_on", "card_no", "card_status",
    )  # fmt: skip
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
async def two_regions(world, region_pair):  # type: ignore[no-untyped-def]
    r = region_pair
    members = {
        key: await world.register(world.admin, home_store=r[store], name=f"会员{key}", tags=["t" + key])
        for key, store in (("a1", "A1"), ("a1b", "A1"), ("a2", "A2"), ("b1", "B1"))
    }
    return r, members


async def test_region_export_contains_exactly_its_members_unmasked(world, two_regions):
    r, m = two_regions
    manager = await world.staff("region_manager", r["A"])
    rows = await exported(world, manager)
    assert {row["member_no"] for row in rows} == {
        m["a1"]["member_no"],
        m["a1b"]["member_no"],
        m["a2"]["member_no"],
    }
    by_no = {row["member_no"]: row for row in rows}
    a1 = by_no[m["a1"]["member_no"]]
    assert (a1["phone"], a1["name"], a1["home_store"], a1["tags"]) == (
        m["a1"]["phone"],
        "会员a1",
        r["A1"],
        "ta1",
    )
    assert a1["card_no"] == m["a1"]["card"]["card_no"] and a1["card_status"] == "active"
    assert a1["joined_on"] is not None

    only_a2 = await exported(world, manager, store=r["A2"])
    assert [row["member_no"] for row in only_a2] == [m["a2"]["member_no"]]
    tagged = await exported(world, manager, tag="ta1b")
    assert [row["member_no"] for row in tagged] == [m["a1b"]["member_no"]]


async def test_store_manager_export_excludes_other_stores(world, two_regions):
    r, m = two_regions
    manager = await world.staff("store_manager", r["A1"])
    rows = await exported(world, manager)
    assert {row["member_no"] for row in rows} == {m["a1"]["member_no"], m["a1b"]["member_no"]}
    outside = await world.call("GET", EXPORT, manager, params={"store": r["B1"]})
    assert outside.status_code == 422, outside.text


async def test_auditor_export_masks_phones_and_clerks_cannot_export(world, two_regions):
    r, m = two_regions
    auditor = await world.staff("auditor", r["A"])
    rows = await exported(world, auditor)
    assert {row["member_no"] for row in rows} == {
        m["a1"]["member_no"],
        m["a1b"]["member_no"],
        m["a2"]["member_no"],
    }
    for row in rows:
        assert "*" in row["phone"] and row["phone"] not in {x["phone"] for x in m.values()}
    clerk = await world.staff("clerk", r["A1"])
    r2 = await world.call("GET", EXPORT, clerk)
    assert r2.status_code == 403 and r2.json()["code"] == "forbidden"


async def test_export_is_audited_with_filters_and_row_count(world, two_regions):
    r, _ = two_regions
    manager = await world.staff("region_manager", r["A"])
    await exported(world, manager, store=r["A1"])
    who = principal_for(world, manager).sub
    log = await world.call(
        "GET", "/api/v1/audit-log", world.admin, params={"action": "member.export", "actor": who}
    )
    assert log.status_code == 200, log.text
    [entry] = log.json()["items"]
    assert entry["detail"] == {"filters": {"store": r["A1"]}, "rows": 2}
    assert entry["org_path"].endswith("/" + r["A1"])


async def test_import_is_audited(world, region_pair):
    manager = await world.staff("region_manager", region_pair["A"])
    r = await upload(world, manager, "audited.csv", csv_bytes(["name,phone", f"甲,{random_phone()}"]))
    assert r.status_code == 202, r.text
    who = principal_for(world, manager).sub
    log = await world.call(
        "GET", "/api/v1/audit-log", world.admin, params={"action": "member.import", "actor": who}
    )
    [entry] = log.json()["items"]
    assert (entry["target_id"], entry["detail"]["file_name"]) == (r.json()["job_id"], "audited.csv")
    await finished(world, manager, r.json()["job_id"])


async def test_export_never_turns_a_name_into_a_formula(world, region_pair):
    member = await world.register(
        world.admin, home_store=region_pair["A1"], name='=HYPERLINK("http://x","y")'
    )
    manager = await world.staff("store_manager", region_pair["A1"])
    r = await world.call("GET", EXPORT, manager, params={"q": member["member_no"]})
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    cell = sheet["B2"]
    assert (sheet["A2"].value, cell.value, cell.data_type) == (member["member_no"], member["name"], "s")


async def test_row_errors_past_the_cap_are_counted_but_not_stored(world, region_pair, monkeypatch):
    monkeypatch.setattr(imports, "MAX_STORED_ERRORS", 2)
    manager = await world.staff("store_manager", region_pair["A1"])
    job = await run_import(
        world, manager, "bad.csv", csv_bytes(["name,phone", *(f"坏{i},123" for i in range(5))])
    )
    assert (job["status"], job["total"], job["failed"], len(job["errors"])) == ("completed", 5, 5, 2)
    assert "only the first 2 row errors are kept (3 more not shown)" in job["message"]
