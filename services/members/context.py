"""What the members use cases need: the database, the outbox, the PII keyring, settings, and
the wallet client that tells wallet of card status changes. One per process, built by
``services.members.main`` and shared by the servicer and the jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import grpc
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chainclub.wallet.v1 import wallet_pb2, wallet_pb2_grpc
from kit import grpcclient
from kit.auth import KeySet, Principal
from kit.config import Settings
from kit.db import Database
from kit.errors import Unavailable, from_rpc_error
from kit.grpcclient import ServiceToken
from kit.outbox import add_event
from services.members.pii import Keyring

CHAIN_TZ = ZoneInfo("Asia/Shanghai")


class WalletClient:
    """Tells wallet a card's status: wallet checks a payment against its copy of the card,
    which only these calls (and members' events) keep exact. With members' own service token
    when this process can sign one; else (in production a service may hold only the public
    keys) with the token of the staff member who changed the card, which wallet accepts for
    blocks only — an unblock then reaches wallet by the card's event."""

    CLAIMS = {"sub": "members", "role": "service", "scope": "HQ"}

    def __init__(self, addr: str, keys: KeySet) -> None:
        self.addr = addr
        self.token = ServiceToken(keys, self.CLAIMS) if _can_sign(keys) else None
        self._stub: wallet_pb2_grpc.WalletServiceStub | None = None

    def can_tell(self, p: Principal) -> bool:
        """Whether a change ``p`` makes can be told to wallet at all (a token to call with)."""
        return self.token is not None or bool(p.token)

    @property
    def stub(self) -> wallet_pb2_grpc.WalletServiceStub:
        """Connected on first use: a process that never changes a card opens no channel."""
        if self._stub is None:
            self._stub = wallet_pb2_grpc.WalletServiceStub(grpcclient.channel(self.addr))
        return self._stub

    async def set_card_status(self, p: Principal, states: Sequence[wallet_pb2.CardState]) -> None:
        """Tells wallet what ``p`` changed. Raises kit errors (``Unavailable`` when wallet does
        not answer) translated from the status: a block must not commit unless this returned."""
        if not self.can_tell(p):
            raise Unavailable("members holds no token to tell wallet of a card change with")
        token = self.token.get() if self.token is not None else p.token
        try:
            await self.stub.SetCardStatus(
                wallet_pb2.SetCardStatusRequest(cards=states), metadata=grpcclient.metadata(token), timeout=5
            )
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from None


def _can_sign(keys: KeySet) -> bool:
    try:
        keys.sign(WalletClient.CLAIMS, 60)
    except RuntimeError:  # public keys only
        return False
    return True


@dataclass
class MembersContext:
    db: Database
    outbox: Table
    keyring: Keyring
    settings: Settings
    wallet: WalletClient
    name: str = "members"  # the process's service name and schema, for ``service_info``
    schema_revision: str = ""

    def today(self) -> date:
        return datetime.now(CHAIN_TZ).date()

    async def emit(self, session: AsyncSession, subject: str, message, org_path: str) -> None:  # type: ignore[no-untyped-def]
        await add_event(session, self.outbox, subject, message, org_path=org_path)

    @staticmethod
    async def next_value(session: AsyncSession, sequence) -> int:  # type: ignore[no-untyped-def]
        return int((await session.execute(select(func.nextval(sequence.name)))).scalar_one())
