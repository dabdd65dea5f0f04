"""Members and their cards written straight into the members database (COPY in batches), the
way the service would store them: phones AES-GCM encrypted with the service's keyring and
found through the same blind index, numbers from the service's own sequences."""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg

from bench.stack import say
from kit.config import Settings
from kit.db import asyncpg_dsn
from services.members import domain
from services.members.models import cards, members
from services.members.pii import Keyring, aad

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
STORES = [f"HQ/B/S{i:03d}" for i in range(1, 101)]
CARD_TYPE = "STANDARD"

MEMBER_COLUMNS = [
    "id", "member_no", "name", "phone_enc", "phone_bidx", "phone_last4",
    "home_store_path", "source", "joined_on",
]  # fmt: skip
CARD_COLUMNS = ["card_no", "member_id", "card_type", "status", "account_id", "home_store_path", "issued_on"]


@dataclass
class Seeded:
    member_nos: list[str]
    card_nos: list[str]
    phones: list[str]  # national form, as a clerk types it
    seconds: float

    def __len__(self) -> int:
        return len(self.member_nos)


def _phone(i: int) -> str:
    return f"139{i:08d}"


async def _reserve(conn: asyncpg.Connection, sequence: str, count: int) -> int:
    """The first of ``count`` consecutive sequence values nobody else will be given."""
    first = await conn.fetchval("SELECT nextval($1::regclass)", sequence)
    await conn.execute("SELECT setval($1::regclass, $2)", sequence, first + count - 1)
    return int(first)


async def seed(settings: Settings, count: int, *, batch: int = 5000) -> Seeded:
    """``count`` active members (100 home stores under HQ/B), one STANDARD card each."""
    if count > 10**8:
        raise ValueError("at most 10^8 members (the phone numbers are 139 + 8 digits)")
    keyring = Keyring.from_config(
        settings.pii_keys, settings.pii_active_key, settings.pii_index_key, settings.profile
    )
    e164 = domain.normalize_phone(_phone(count - 1), settings.default_phone_region)
    assert e164 == "+86" + _phone(count - 1), e164
    rng = random.Random(20240601)
    today = date.today()
    started = time.perf_counter()
    conn = await asyncpg.connect(asyncpg_dsn(settings.database_url_for("members")), timeout=30)
    try:
        existing = await conn.fetchval("SELECT count(*) FROM members")
        if existing:
            raise RuntimeError(f"the members database already holds {existing} members")
        first_member = await _reserve(conn, "member_no_seq", count)
        first_card = await _reserve(conn, "card_no_seq", count)
        member_nos: list[str] = []
        card_nos: list[str] = []
        phones: list[str] = []
        for lo in range(0, count, batch):
            member_rows = []
            card_rows = []
            for i in range(lo, min(lo + batch, count)):
                member_id = uuid.uuid4()
                member_no = domain.member_no_from(first_member + i)
                card_no = domain.card_no_from(first_card + i)
                phone = _phone(i)
                full = "+86" + phone
                store = STORES[i % len(STORES)]
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
                member_rows.append(
                    (
                        member_id,
                        member_no,
                        name,
                        keyring.encrypt(full, aad(member_id, "phone")),
                        keyring.blind_index(full),
                        phone[-4:],
                        store,
                        "store",
                        today,
                    )
                )
                card_rows.append((card_no, member_id, CARD_TYPE, "active", uuid.uuid4(), store, today))
                member_nos.append(member_no)
                card_nos.append(card_no)
                phones.append(phone)
            async with conn.transaction():
                await conn.copy_records_to_table(members.name, records=member_rows, columns=MEMBER_COLUMNS)
                await conn.copy_records_to_table(cards.name, records=card_rows, columns=CARD_COLUMNS)
            if (lo // batch) % 5 == 4:
                say(f"seeded {lo + len(member_rows):,} members")
        await conn.execute(f"ANALYZE {members.name}")
        await conn.execute(f"ANALYZE {cards.name}")
    finally:
        await conn.close()
    return Seeded(member_nos, card_nos, phones, time.perf_counter() - started)
