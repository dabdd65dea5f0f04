"""PostgreSQL for one service: URL handling, database creation, a pooled async engine and a
session factory. Each service owns one database and nothing else touches it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("kit.db")

# Constraint names Alembic can refer to, the same in every service.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING)


def with_database(server_url: str, database: str) -> str:
    """The same server, another database (query such as ``?host=/socket/dir`` kept)."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def sqlalchemy_url(url: str) -> str:
    """Any ``postgresql://`` URL as the asyncpg dialect's URL."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """Any PostgreSQL URL as a DSN asyncpg's own ``connect`` accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def ensure_database(url: str) -> bool:
    """Create the database of ``url`` when missing; True if it was created."""
    target = make_url(url)
    admin = asyncpg_dsn(with_database(url, "postgres"))
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", target.database)
        if exists:
            return False
        try:
            await conn.execute(f'CREATE DATABASE "{target.database}"')
        except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            return False  # another process won the race (pg_database_datname_index)
        return True
    finally:
        await conn.close()


async def wait_for_server(url: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(with_database(url, "postgres")), timeout=5)
            await conn.close()
            return
        except (OSError, asyncpg.PostgresError) as exc:
            last = exc
            await asyncio.sleep(0.3)
    raise TimeoutError(f"PostgreSQL at {make_url(url).render_as_string()} did not answer: {last}")


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max(pool_size // 2, 1),
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine, "checkout", _closed_is_disconnected)
    return engine


def _closed_is_disconnected(dbapi_connection, record, proxy) -> None:  # type: ignore[no-untyped-def]
    """The pre-ping of every checkout, without a round trip. (``pool_pre_ping`` costs three
    with asyncpg — BEGIN, ``;``, ROLLBACK — on every unit of work.) The event loop already
    saw the server close a connection (restart, ``pg_terminate_backend``, idle timeout): the
    pool then discards it and checks out another. A connection that breaks while in use
    fails that use, is recognised as a disconnect and invalidated, as before."""
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the connection was closed by the server")


class Database:
    """An engine and its session factory; ``transaction()`` is one unit of work."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commit on success, roll back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """``engine.begin()`` — a Core connection in one transaction, committed on success and
        rolled back on any exception — whose ``after_commit`` hooks run once it committed."""
        hooks: list[Callable[[], None]] = []
        async with self.engine.connect() as conn:
            token = _core_transactions.set((*_core_transactions.get(), (conn, hooks)))
            try:
                async with conn.begin():
                    yield conn
            finally:
                _core_transactions.reset(token)
        _run_hooks(hooks)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits by itself: for a unit of work that is
        one statement, without the BEGIN and COMMIT round trips asyncpg spends on a transaction."""
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def dispose(self) -> None:
        await self.engine.dispose()


# --- after-commit hooks -------------------------------------------------------------------------
# What must leave the process only once a state change is durable (the outbox relay's hand-over)
# is registered on the transaction and run right after its COMMIT, never after a rollback.

_HOOKS = "kit.db.after_commit"  # Session.info: [(the SessionTransaction registered in, hook)]
# The connections of the Database.begin() blocks the current task is in, with their hooks.
_core_transactions: ContextVar[tuple[tuple[AsyncConnection, list[Callable[[], None]]], ...]] = ContextVar(
    "kit.db.core_transactions", default=()
)


def after_commit(executor: AsyncSession | AsyncConnection, hook: Callable[[], None]) -> None:
    """Run ``hook()`` right after the transaction ``executor`` is in has committed; never when
    it rolls back, nor when the savepoint it was registered in rolls back. A hook must be
    quick and not touch the database (it runs inside the commit's call); one that raises is
    logged. A session may be in any transaction (``Database.transaction()``, ``begin()``,
    ``begin_nested()``); a Core connection must be one of ``Database.begin()``, outside a
    savepoint — a plain ``engine.begin()`` has no way to say when it committed."""
    if isinstance(executor, AsyncSession):
        sync = executor.sync_session
        transaction = sync.get_nested_transaction() or sync.get_transaction()
        if transaction is None:
            raise RuntimeError("after_commit needs a session in a transaction")
        sync.info.setdefault(_HOOKS, []).append((transaction, hook))
        return
    hooks = next((h for conn, h in _core_transactions.get() if conn is executor), None)
    if hooks is None:
        raise RuntimeError("after_commit needs a session or a connection of Database.begin()")
    if executor.in_nested_transaction():
        raise RuntimeError("after_commit on a Core connection cannot follow a savepoint")
    hooks.append(hook)


def _run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # the commit stands; what the hook would have done is done otherwise
            log.exception("an after-commit hook failed")


def _within(transaction: SessionTransaction | None, boundary: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is boundary:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_commit")
def _session_committed(session: Session) -> None:
    # Fired for a savepoint's RELEASE too: only the outermost commit (no savepoint left open) counts.
    if session.get_nested_transaction() is None and _HOOKS in session.info:
        _run_hooks([hook for _, hook in session.info.pop(_HOOKS)])


@event.listens_for(Session, "after_soft_rollback")
def _session_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    hooks = session.info.get(_HOOKS)
    if hooks:
        session.info[_HOOKS] = [(t, hook) for t, hook in hooks if not _within(t, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _session_transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # Closed without a commit (after a commit the hooks have run already): nothing is handed on.
    if transaction.parent is None:
        session.info.pop(_HOOKS, None)


def in_scope(column, scope: str):  # type: ignore[no-untyped-def]
    """SQL for ``kit.auth.may_access(scope, column)``: the path equals the scope or lies below
    it. ``starts_with`` rather than LIKE, because ``_`` in an org code is a LIKE wildcard."""
    from sqlalchemy import func, or_

    return or_(column == scope, func.starts_with(column, scope + "/"))


_UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ObjectNotInPrerequisiteStateError,  # "database is not currently accepting connections"
)


# The work itself was sound but lost a race with another transaction: running it again
# (a new request with the same idempotency key) is the remedy.
_RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError, asyncpg.LockNotAvailableError)


def is_retryable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a database outage (``is_unavailable``) or a
    deadlock / serialization failure / lock timeout: the caller should try again."""
    from sqlalchemy.exc import DBAPIError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _RETRYABLE) or is_unavailable(current):
            return True
        if isinstance(current, DBAPIError) and current.orig is not None:
            orig = current.orig
            if isinstance(orig, _RETRYABLE) or isinstance(getattr(orig, "__cause__", None), _RETRYABLE):
                return True
            if getattr(orig, "sqlstate", None) in ("40P01", "40001", "55P03"):
                return True
        current = current.__cause__ or current.__context__
    return False


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database could not be reached, rather
    than that the work itself failed: such work is retried, never dead-lettered."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (*_UNAVAILABLE, OperationalError, InterfaceError, TimeoutError)):
            return True
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            if current.orig is not None and is_unavailable(current.orig):
                return True
        current = current.__cause__ or current.__context__
    return False
