"""An import file over a limit (a zip bomb, too many rows) is refused at upload, before any
parser reads it, with a clear 413 and no job; the members service keeps answering."""

from __future__ import annotations

import asyncio
import gc
import io
import time
import zipfile
from collections.abc import Callable, Iterator

import pytest

from services.members import import_limits, imports
from tests.members.conftest import random_phone
from tests.members.test_import_export import csv_bytes, job_count, run_import, upload

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
MiB = 1024 * 1024


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
OPENXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def members_book(phones: list[str]) -> bytes:
    """A workbook as Excel writes it, its text in shared strings: a header and one row per phone."""
    rows = [["name", "phone"], *([f"限{i}", phone] for i, phone in enumerate(phones))]
    strings = [text for row in rows for text in row]
    cells = (
        f'<row r="{r}">'
        + "".join(f'<c r="{col}{r}" t="s"><v>{(r - 1) * 2 + i}</v></c>' for i, col in enumerate("AB"))
        + "</row>"
        for r in range(1, len(rows) + 1)
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{OPENXML}.sheet.main+xml"/>'
        f'<Override PartName="/{SHEET}" ContentType="{OPENXML}.worksheet+xml"/>'
        f'<Override PartName="/{STRINGS}" ContentType="{OPENXML}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
        '<sheet name="members" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}">'
        f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        STRINGS: f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{t}</t></si>" for t in strings)
        + "</sst>",
        SHEET: f'<worksheet xmlns="{MAIN}"><sheetData>{"".join(cells)}</sheetData></worksheet>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode())
    return buf.getvalue()


def swelled(book: bytes, part: str, closing: bytes, extra: Callable[[], Iterator[bytes]]) -> bytes:
    """``book`` with ``extra``'s bytes written into ``part`` before its ``closing`` tag,
    streamed into the zip at the highest compression, so the file stays small."""
    out = io.BytesIO()
    assert part in zipfile.ZipFile(io.BytesIO(book)).namelist()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != part:
                dst.writestr(info, data)
                continue
            head, tail = data.split(closing, 1)
            swollen = zipfile.ZipInfo(part)
            swollen.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(swollen, "w", force_zip64=True) as w:
                w.write(head)
                for chunk in extra():
                    w.write(chunk)
                w.write(closing + tail)
    return out.getvalue()


def huge_shared_string(size: int) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        yield b"<si><t>"
        for _ in range(size // MiB):
            yield b"A" * MiB
        yield b"</t></si>"

    return chunks


def empty_rows(first: int, last: int) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        for start in range(first, last + 1, 10_000):
            yield b"".join(b'<row r="%d"/>' % n for n in range(start, min(start + 10_000, last + 1)))

    return chunks


def peak_rss_reset() -> int:
    """Resets this process's peak resident size to the current one (Linux) and returns it, in bytes."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kib("VmRSS") * 1024


def peak_rss() -> int:
    return _status_kib("VmHWM") * 1024


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} in /proc/self/status")


def assert_too_large(r, limit_words: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "import_too_large", body
    assert "import limit" in body["detail"] and limit_words in body["detail"], body


@pytest.fixture
async def manager(world):  # type: ignore[no-untyped-def]
    region = await world.unit("region", "HQ")
    store = await world.unit("store", region)
    return {"token": await world.staff("store_manager", store), "clerk": await world.staff("clerk", store)}


async def test_a_zip_bomb_is_refused_before_parsing_while_identify_answers(world, manager):
    """The members service runs in this process: its peak memory is this process's."""
    member = await world.register(manager["clerk"])
    bomb = swelled(members_book([random_phone()]), STRINGS, b"</sst>", huge_shared_string(200 * MiB))
    assert len(bomb) < 2 * MiB
    before_jobs = await job_count(world)
    identified: list[int] = []
    done = asyncio.Event()

    async def identify() -> None:
        while not done.is_set():
            r = await world.call(
                "POST", "/api/v1/members/identify", manager["clerk"], json={"phone": member["phone"]}
            )
            identified.append(r.status_code)

    baseline = peak_rss_reset()
    started = time.monotonic()
    watcher = asyncio.create_task(identify())
    try:
        r = await upload(world, manager["token"], "members.xlsx", bomb, XLSX)
    finally:
        done.set()
        await watcher
    elapsed = time.monotonic() - started
    assert_too_large(r, "MiB")
    assert elapsed < 10, elapsed
    assert peak_rss() - baseline < 64 * MiB  # the 200 MiB string was never unpacked
    assert identified and set(identified) == {200}, identified
    assert await job_count(world) == before_jobs


async def test_a_workbook_of_many_empty_rows_is_refused(world, manager):
    book = swelled(members_book([random_phone()]), SHEET, b"</sheetData>", empty_rows(3, 300_000))
    before = await job_count(world)
    r = await upload(world, manager["token"], "rows.xlsx", book, XLSX)
    assert_too_large(r, "100000 rows")
    assert await job_count(world) == before


async def test_one_row_numbered_past_the_cap_is_refused(world, manager):
    """A reader fills the gap before such a row with empty rows."""
    book = swelled(
        members_book([random_phone()]), SHEET, b"</sheetData>", lambda: iter([b'<row r="100002"/>'])
    )
    r = await upload(world, manager["token"], "gap.xlsx", book, XLSX)
    assert_too_large(r, "100000 rows")


async def test_the_row_cap_is_a_setting_and_holds_for_csv_and_xlsx(world, manager, monkeypatch):
    monkeypatch.setattr(world.settings, "members_import_max_rows", 3)
    phones = [random_phone() for _ in range(4)]
    before = await job_count(world)
    r = await upload(world, manager["token"], "four.xlsx", members_book(phones), XLSX)
    assert_too_large(r, "3 rows")
    rows = [f"限{i},{p}" for i, p in enumerate(phones)]
    r = await upload(world, manager["token"], "four.csv", csv_bytes(["name,phone", *rows]))
    assert_too_large(r, "3 rows")
    r = await upload(
        world, manager["token"], "four.csv", b"name,phone\n" + "\n".join(rows).encode()
    )  # no last \n
    assert_too_large(r, "3 rows")
    assert await job_count(world) == before
    # a line end inside a quoted cell is no row: three rows are within the cap
    quoted = csv_bytes(["name,phone,tags", f'"多\n行",{phones[0]},"a\r\nb"', *rows[1:3]])
    job = await run_import(world, manager["token"], "three.csv", quoted)
    assert (job["status"], job["total"]) == ("completed", 3), job
    job = await run_import(world, manager["token"], "three.xlsx", members_book(phones[1:]), XLSX)
    assert (job["status"], job["total"], job["updated"] + job["unchanged"], job["created"]) == (
        "completed", 3, 2, 1,
    ), job  # fmt: skip


def imports_of(world) -> imports.Imports:  # type: ignore[no-untyped-def]
    """The members service's import use cases (its servicer holds the one instance)."""
    found = [o for o in gc.get_objects() if isinstance(o, imports.Imports) and o.ctx is world.service.context]
    assert len(found) == 1, found
    return found[0]


async def test_an_uploads_parse_takes_a_slot_of_the_upload_semaphore(world, manager):
    """With every upload slot taken (by other uploads, here by the test), an upload's header
    parse waits: parses are bounded in number as well as in size."""
    slots = imports_of(world)._upload_slots
    for _ in range(imports.CONCURRENT_JOBS):
        await slots.acquire()
    try:
        sent = asyncio.create_task(
            upload(world, manager["token"], "one.csv", csv_bytes(["name,phone", f"限,{random_phone()}"]))
        )
        for _ in range(1000):  # up to 10 s until the upload ends or waits for a slot
            if sent.done() or slots._waiters:
                break
            await asyncio.sleep(0.01)
        assert not sent.done() and slots._waiters, sent
    finally:
        for _ in range(imports.CONCURRENT_JOBS):
            slots.release()
    r = await sent
    assert r.status_code == 202, r.text


async def test_an_upload_is_answered_while_every_import_job_runs(world, manager):
    """Running jobs (every job slot held, here by the test) do not hold up an upload's answer:
    it is queued (202) and its job runs once a slot is free."""
    slots = imports_of(world)._slots
    for _ in range(imports.CONCURRENT_JOBS):
        await slots.acquire()
    try:
        r = await upload(
            world, manager["token"], "one.csv", csv_bytes(["name,phone", f"排,{random_phone()}"])
        )
        assert r.status_code == 202, r.text
    finally:
        for _ in range(imports.CONCURRENT_JOBS):
            slots.release()


def _parts(tmp_path, parts: dict[str, bytes]) -> str:  # type: ignore[no-untyped-def]
    """A zip of these parts, compressed; returns its path."""
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return str(path)


def test_a_highly_compressed_part_under_the_size_cap_is_refused(tmp_path):
    path = _parts(tmp_path, {SHEET: b"<sheetData>" + b" " * (20 * MiB) + b"</sheetData>"})
    with pytest.raises(import_limits.ImportTooLarge, match="compressed more than 100:1"):
        import_limits.check_limits(path, "xlsx", 100_000)


def test_shared_strings_and_rows_are_found_by_content_wherever_the_part_is(tmp_path, monkeypatch):
    """The workbook's relations name its parts: a sheet or its strings may be at any path."""
    monkeypatch.setattr(import_limits, "MAX_SHARED_STRINGS", 1000)
    sst = b'<x:sst xmlns:x="%s">' % MAIN.encode()
    path = _parts(tmp_path, {"xl/strings.xml": sst + b"<x:si><x:t>x</x:t></x:si>" * 1001 + b"</x:sst>"})
    with pytest.raises(import_limits.ImportTooLarge, match="more than 1000 shared strings"):
        import_limits.check_limits(path, "xlsx", 100_000)
    monkeypatch.setattr(import_limits, "MAX_SHARED_STRINGS_BYTES", 20_000)
    path = _parts(tmp_path, {"strings.xml": b"<sst>" + b"<si><t>%d</t></si>" % 10**15 * 999 + b"</sst>"})
    with pytest.raises(import_limits.ImportTooLarge, match="shared strings are larger than"):
        import_limits.check_limits(path, "xlsx", 100_000)
    path = _parts(tmp_path, {"xl/a.xml": b"<sheetData>" + b"<row/>" * 6 + b"</sheetData>"})
    with pytest.raises(import_limits.ImportTooLarge, match="more than 4 rows"):
        import_limits.check_limits(path, "xlsx", 4)
    path = _parts(
        tmp_path, {STRINGS: b"<sst>" + b"<si><t>x</t></si>" * 1000 + b"</sst>", SHEET: b"<row/>" * 5}
    )
    import_limits.check_limits(path, "xlsx", 4)  # at the limits: passes


def test_a_row_tag_cut_by_a_block_end_is_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(import_limits, "BLOCK", 64)
    padded = b'<row r="%d" spans="1:2" x14ac:dyDescent="0.25"/>'
    path = _parts(
        tmp_path, {SHEET: b"<sheetData>" + b"".join(padded % n for n in range(1, 13)) + b"</sheetData>"}
    )
    with pytest.raises(import_limits.ImportTooLarge, match="more than 10 rows"):
        import_limits.check_limits(path, "xlsx", 10)
    import_limits.check_limits(path, "xlsx", 11)
    path = _parts(tmp_path, {SHEET: b'<sheetData><row r="1" a="' + b"y" * 200 + b'"/></sheetData>'})
    with pytest.raises(import_limits.ImportTooLarge, match="a tag longer than"):
        import_limits.check_limits(path, "xlsx", 10)


def test_a_zip_of_too_many_parts_is_refused_from_its_end_record(tmp_path, monkeypatch):
    monkeypatch.setattr(import_limits, "MAX_ENTRIES", 10)
    path = _parts(tmp_path, {f"p{i}": b"x" for i in range(11)})
    with pytest.raises(import_limits.ImportTooLarge, match="more than 10 parts"):
        import_limits.check_limits(path, "xlsx", 100_000)


def test_a_csv_row_of_a_million_cells_is_refused_but_quoted_line_ends_are_no_rows(tmp_path, monkeypatch):
    path = tmp_path / "wide.csv"
    path.write_bytes(b"name,phone\n" + b"," * 1_000_001 + b"\n")
    with pytest.raises(import_limits.ImportTooLarge, match="a row longer than 1000000 characters"):
        import_limits.check_limits(str(path), "csv", 100_000)
    path.write_bytes(b'"a ""quoted""\r\nheader",phone\r\n"x\ny",1\r\nz,2')  # three rows, the last unended
    import_limits.check_limits(str(path), "csv", 2)
    with pytest.raises(import_limits.ImportTooLarge, match="more than 1 rows"):
        import_limits.check_limits(str(path), "csv", 1)
    for block in range(1, 9):  # line ends and quotes cut by a block's end
        monkeypatch.setattr(import_limits, "BLOCK", block)
        import_limits.check_limits(str(path), "csv", 2)
        with pytest.raises(import_limits.ImportTooLarge, match="more than 1 rows"):
            import_limits.check_limits(str(path), "csv", 1)
