"""Limits an import file must keep before anything parses it.

openpyxl reads an XLSX's shared strings whole, even in read-only mode, so a small, highly
compressed workbook (a zip bomb) could take the members process's memory, and with it
identify and checkout. These checks read the zip's end record and directory, then stream
every part a block at a time, counting tags without keeping them (sheets and shared strings
are known by their content: the workbook's relations may put them at any path): a file that
passes parses in bounded memory. A CSV is held to the same row cap and a row length.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterator

from kit.errors import InvalidArgument

MAX_UNCOMPRESSED = 50 * 1024 * 1024  # all parts of a workbook together, unpacked
MAX_RATIO = 100  # unpacked : packed, for a part larger than RATIO_FROM
RATIO_FROM = 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
MAX_ROW_CHARS = 1_000_000  # one CSV row, quoted line ends and all
MAX_ENTRIES = 10_000  # parts in the zip (an XLSX has a few dozen)
MAX_DIRECTORY_BYTES = 1024 * 1024  # the zip's central directory
BLOCK = 1 << 20
ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b([^>]*)>")
ROW_NUMBER = re.compile(rb"""\br\s*=\s*["'](\d+)["']""")
STRING_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si\b")
SST_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sst\b")
EOCD = b"PK\x05\x06"
XLSX_MAGIC = b"PK\x03\x04"
LINE_END = re.compile(r"\r\n|\r|\n")  # as the csv module ends rows


class ImportTooLarge(InvalidArgument):
    """The file is over one of the import limits; the detail names it."""

    reason = "import_too_large"


def check_limits(path: str, fmt: str, max_rows: int) -> None:
    """Refuse a file over a limit (``ImportTooLarge``) before any parser sees it."""
    if fmt == "csv":
        _check_csv_rows(path, max_rows)
    else:
        _check_xlsx(path, max_rows)


def _too_large(detail: str, limit: str) -> ImportTooLarge:
    return ImportTooLarge(detail, field="file", limit=limit)


def _check_csv_rows(path: str, max_rows: int) -> None:
    """At most ``max_rows`` rows after the header, each at most ``MAX_ROW_CHARS`` long (the
    csv module makes a list of a row's cells: a line of a million commas is a million), read a
    block at a time. Rows end at line ends outside quoted cells; a quote inside one is
    doubled, so each quote flips the state."""
    rows, run, quoted, last = 0, 0, False, ""  # run: characters of the row being read
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            while block := f.read(BLOCK):
                if block.endswith("\r"):
                    block += f.read(1)  # a "\r\n" stays one line end
                for i, part in enumerate(block.split('"')):
                    quoted = quoted != (i > 0)
                    run += i > 0
                    start = 0
                    for end in () if quoted else LINE_END.finditer(part):
                        rows += 1
                        _check_row(run + end.start() - start, rows, max_rows)
                        run, start = 0, end.end()
                    run += len(part) - start
                    _check_row(run, rows, max_rows)
                last = block[-1]
            _check_row(0, rows + (last not in "\r\n"), max_rows)  # a last row without its line end
    except UnicodeDecodeError:
        return  # not a UTF-8 CSV: check_file says so


def _check_row(length: int, rows: int, max_rows: int) -> None:
    if length > MAX_ROW_CHARS:
        raise _too_large(
            f"the file has a row longer than {MAX_ROW_CHARS} characters (the import limit)", "row_size"
        )
    if rows > max_rows + 1:  # + the header
        raise _too_large(f"the file has more than {max_rows} rows (the import limit)", "rows")


def _check_xlsx(path: str, max_rows: int) -> None:
    with open(path, "rb") as f:
        if f.read(len(XLSX_MAGIC)) != XLSX_MAGIC:
            return  # not a workbook: check_file says so
    _check_directory(path)
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidArgument(f"the file is not a readable XLSX workbook ({exc})", field="file") from None
    with book:
        infos = book.infolist()
        total = sum(i.file_size for i in infos)
        if total > MAX_UNCOMPRESSED:
            raise _too_large(
                f"the workbook unpacks to more than {MAX_UNCOMPRESSED >> 20} MiB (the import limit)",
                "unpacked_size",
            )
        for info in infos:
            if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _too_large(
                    f"the workbook part {info.filename} is compressed more than {MAX_RATIO}:1 (the import limit)",
                    "compression_ratio",
                )
        for info in infos:  # by content, not name: the workbook's relations may put a part anywhere
            _check_part(book, info, max_rows)


def _check_directory(path: str) -> None:
    """The zip's own directory is read whole by zipfile: refuse one with more entries or
    bytes than a workbook has, reading only its end record (zip64 is never needed here)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 65_557))  # the end record (22 bytes) and at most a 64 KiB comment
        tail = f.read()
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        raise InvalidArgument("the file is not a readable XLSX workbook (no zip directory)", field="file")
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries > MAX_ENTRIES or directory_bytes > MAX_DIRECTORY_BYTES:
        raise _too_large(
            f"the workbook has more than {MAX_ENTRIES} parts or a directory over "
            f"{MAX_DIRECTORY_BYTES >> 20} MiB (the import limit)",
            "parts",
        )


def _blocks(book: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """A part unpacked a block at a time, each ending after a tag: a tag cut by a block's end
    goes with the next one (text holds no "<", so what follows the last "<" is a tag)."""
    carry = b""
    try:
        with book.open(info) as part:
            while block := part.read(BLOCK):
                data = carry + block
                end = data.rfind(b">") + 1
                yield data[:end]
                opened = data.rfind(b"<", end)
                carry = data[opened:] if opened >= 0 else b""
                if len(carry) > BLOCK:
                    raise _too_large(
                        f"the workbook part {info.filename} has a tag longer than {BLOCK >> 20} MiB "
                        "(the import limit)",
                        "tag_size",
                    )
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise InvalidArgument(f"the file is not a readable XLSX workbook ({exc})", field="file") from None


def _check_part(book: zipfile.ZipFile, info: zipfile.ZipInfo, max_rows: int) -> None:
    """Shared strings (the part whose root is ``sst``) by size and count; rows of a sheet by
    their tags, and by their numbers too: a reader fills the gap before a row numbered
    1 000 000 with empty rows."""
    rows = strings = 0
    for data in _blocks(book, info):
        if not strings and SST_TAG.search(data) and info.file_size > MAX_SHARED_STRINGS_BYTES:
            raise _too_large(
                f"the workbook's shared strings are larger than {MAX_SHARED_STRINGS_BYTES >> 20} MiB "
                "(the import limit)",
                "shared_strings_size",
            )
        strings += len(STRING_TAG.findall(data))
        if strings > MAX_SHARED_STRINGS:
            raise _too_large(
                f"the workbook has more than {MAX_SHARED_STRINGS} shared strings (the import limit)",
                "shared_strings_count",
            )
        for attrs in ROW_TAG.findall(data):
            rows += 1
            number = ROW_NUMBER.search(attrs)
            digits = number[1].lstrip(b"0") if number else b""
            if rows > max_rows + 1 or len(digits) > 9 or int(digits or 0) > max_rows + 1:  # + the header
                raise _too_large(f"the workbook has more than {max_rows} rows (the import limit)", "rows")
