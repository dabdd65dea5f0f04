"""Channels behind one adapter interface: ``await adapter.send(message)`` either delivers or
raises ``SendFailed`` (the sender job retries with backoff and ends the delivery ``dead``).

- ``file``: one JSON line per message under ``run_dir/outbox-messages/<channel>.jsonl``
  (the default in dev, so a newcomer sees the messages);
- ``smtp``: email through smtplib in a thread;
- ``http``: SMS / WeChat providers, POST JSON, retried with backoff on 5xx and timeouts, at
  most ``rate`` messages a second (token bucket); a 429 raises ``ProviderBusy`` with the
  provider's Retry-After, which defers the delivery instead of counting as a failure;
- ``announcement``: rows in the announcements table."""

from __future__ import annotations

import asyncio
import json
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

import httpx
from sqlalchemy.dialects.postgresql import insert

from kit.config import Settings
from kit.db import Database
from services.notify.models import announcements


@dataclass(frozen=True)
class Message:
    delivery_id: str
    event: str
    channel: str
    to: str  # phone, email address(es, comma-separated), WeChat id or member number
    subject: str
    body: str
    member_no: str = ""
    org_path: str = ""


class SendFailed(Exception):
    """The channel could not deliver the message (this attempt)."""


class ProviderBusy(Exception):
    """The provider asked us to slow down (HTTP 429): try again in ``retry_after`` seconds.
    Not a failure of the delivery, so it uses up no attempt."""

    def __init__(self, retry_after: float, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TokenBucket:
    """At most ``rate`` acquisitions a second on average, ``burst`` at once. The limit holds
    per process; with several notify replicas give each a share of the provider's limit."""

    def __init__(self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = float(burst)
        self.at = clock()
        self.lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    async def acquire(self) -> None:
        async with self.lock:  # first come, first served
            while True:
                self._refill()
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


def retry_after_seconds(value: str | None, now: datetime, default: float) -> float:
    """Retry-After as seconds from ``now``: delta-seconds or an HTTP date; ``default`` when
    missing or unreadable."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


class Channel(Protocol):
    async def send(self, message: Message) -> None: ...


class FileChannel:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _append(self, message: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / f"{message.channel}.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")

    async def send(self, message: Message) -> None:
        await asyncio.to_thread(self._append, message)


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def _send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["X-Chainclub-Delivery"] = message.delivery_id
        mail.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(mail)

    async def send(self, message: Message) -> None:
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"smtp: {exc}") from None


class HttpChannel:
    """A provider that takes ``{"to", "subject", "body", "id", "event"}`` as JSON; 4xx is a
    refusal (not retried here), 5xx and timeouts are retried ``retries`` times with backoff.
    ``rate`` > 0 paces the requests; after a 429 the channel sends nothing until the provider's
    Retry-After has passed (every message meanwhile raises ``ProviderBusy`` at once)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        retries: int = 3,
        timeout: float = 5.0,
        backoff: float = 0.2,
        rate: float = 0.0,
        burst: int = 1,
        busy_seconds: float = 60.0,
    ) -> None:
        self.url, self.token, self.retries, self.timeout, self.backoff = url, token, retries, timeout, backoff
        self.bucket = TokenBucket(rate, burst) if rate > 0 else None
        self.busy_seconds = busy_seconds  # when a 429 names no Retry-After
        self._busy_until = 0.0  # monotonic

    async def send(self, message: Message) -> None:
        if (wait := self._busy_until - time.monotonic()) > 0:
            raise ProviderBusy(wait, f"{message.channel} provider: rate limited, {wait:.0f}s to wait")
        headers = {"Idempotency-Key": message.delivery_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = {"id": message.delivery_id, "event": message.event, "channel": message.channel,
                "to": message.to, "subject": message.subject, "body": message.body}  # fmt: skip
        error = ""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                if self.bucket is not None:
                    await self.bucket.acquire()
                try:
                    r = await client.post(self.url, json=body, headers=headers)
                except httpx.TransportError as exc:  # timeouts, refused connections
                    error = f"{type(exc).__name__}: {exc}"
                    continue
                if r.status_code < 300:
                    return
                error = f"HTTP {r.status_code}: {r.text[:200]}"
                if r.status_code == 429:
                    wait = retry_after_seconds(
                        r.headers.get("Retry-After"), datetime.now(UTC), self.busy_seconds
                    )
                    self._busy_until = time.monotonic() + wait
                    raise ProviderBusy(wait, f"{message.channel} provider: {error} (retry after {wait:.0f}s)")
                if r.status_code < 500:
                    break
        raise SendFailed(f"{message.channel} provider: {error}")


class AnnouncementChannel:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def send(self, message: Message) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                insert(announcements)
                .values(
                    id=uuid.uuid4(), delivery_id=uuid.UUID(message.delivery_id), member_no=message.member_no,
                    org_path=message.org_path, event=message.event, subject=message.subject, body=message.body,
                )
                .on_conflict_do_nothing(index_elements=["delivery_id"])
            )  # fmt: skip


def channels_from(settings: Settings, db: Database) -> dict[str, Channel]:
    files = FileChannel(settings.run_dir / "outbox-messages")

    def http(url: str | None, rate: float) -> Channel:
        if not url:
            return files
        return HttpChannel(
            url, token=settings.notify_http_token, retries=settings.notify_http_retries,
            timeout=settings.notify_http_timeout_seconds, rate=rate, burst=settings.notify_rate_burst,
            busy_seconds=settings.notify_retry_base_seconds,
        )  # fmt: skip

    return {
        "sms": (
            http(settings.notify_sms_url, settings.notify_sms_rate_per_second)
            if settings.notify_sms_channel == "http"
            else files
        ),
        "wechat": (
            http(settings.notify_wechat_url, settings.notify_wechat_rate_per_second)
            if settings.notify_wechat_channel == "http"
            else files
        ),
        "email": (
            SmtpChannel(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender)
            if settings.notify_email_channel == "smtp"
            else files
        ),
        "announcement": AnnouncementChannel(db),
    }
