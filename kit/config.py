"""Process settings from the environment (prefix ``CHAINCLUB_``), validated at start.

One class for every process: the fields a process does not use cost nothing, and one place
documents every knob. Production refuses development secrets (see ``check_production``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("members", "wallet", "loyalty", "notify")
DATABASES = (*SERVICES, "gateway")
DEV_ADMIN_PASSWORD = "admin"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAINCLUB_", extra="ignore")

    profile: Literal["dev", "test", "prod"] = "dev"
    run_dir: Path = Path(".run")
    version: str = "0.1.0"

    # Servers. A URL that is set is used as it is; when unset, `chainclub dev` starts the
    # embedded ones and passes their URLs to its children.
    database_url: str | None = None
    db_prefix: str = "chainclub_"
    db_pool_size: int = 10
    nats_url: str | None = None
    nats_stream_replicas: int = 1
    nats_sync_always: bool = False

    # Where processes listen (`chainclub dev` derives all of them from these bases).
    host: str = "127.0.0.1"
    members_addr: str = "127.0.0.1:50051"
    wallet_addr: str = "127.0.0.1:50052"
    loyalty_addr: str = "127.0.0.1:50053"
    notify_addr: str = "127.0.0.1:50054"
    gateway_port: int = 8000
    metrics_port: int = 0  # a service's Prometheus port; 0 = none
    metrics_base_port: int = 9100  # `chainclub dev`: members 9101, wallet 9102, ...; 0 = none
    nats_port: int = 4222  # the embedded NATS of `chainclub dev`
    grpc_grace_seconds: float = 10.0
    # The processes' event loop (`chainclub serve` / `dev`): uvloop, or asyncio's own.
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"

    # Tokens: an Ed25519 private key (PEM) signs; JWKS JSON lists extra verification keys
    # (rotation). Unset in dev/test = a fixed development key, refused in production.
    jwt_private_key: str | None = None
    jwt_public_jwks: str | None = None
    jwt_issuer: str = "chainclub"
    access_token_ttl: int = 900
    refresh_token_ttl: int = 30 * 24 * 3600

    admin_password: str | None = None
    login_max_failures: int = 5  # per username or client id in the window
    login_ip_max_failures: int = 50  # per client address (counters behind one NAT add up)
    login_failure_window: int = 900

    # Members' PII keys: JSON {"kid": "<base64 32 bytes>"}, the active kid, and the blind
    # index key (base64). Unset in dev/test = development keys, refused in production.
    pii_keys: str | None = None
    pii_active_key: str | None = None
    pii_index_key: str | None = None
    default_phone_region: str = "CN"
    # Member imports: a file with more rows than this (after its header) is refused at upload,
    # before it is parsed; the other limits (unpacked size, compression) are in
    # services/members/import_limits.py.
    members_import_max_rows: int = Field(100_000, ge=1)

    # Wallet: deployment defaults for card types without limits of their own (fen). China's
    # 2012 single-purpose prepaid card rules cap registered cards at 5 000 yuan.
    wallet_max_balance: int = 500_000
    wallet_max_single_top_up: int = 500_000
    wallet_payment_mode: Literal["proportional", "bonus_first"] = "proportional"
    wallet_adjustment_approval_threshold: int = 100_000
    chain_timezone: str = "Asia/Shanghai"

    # Loyalty: points used as payment (100 points = 1 yuan by default) may pay at most this
    # share of what is due; a checkout's hold on points and coupon lasts this long.
    loyalty_points_per_yuan: int = Field(100, ge=1)
    loyalty_points_max_share_bps: int = Field(5000, ge=0, le=10_000)
    loyalty_reservation_ttl_seconds: int = Field(900, ge=1)
    # wallet.payment.captured confirms a still-pending checkout (the recovery path) only once
    # it is this old: the gateway confirms first in the normal case, without waiting on a lock.
    loyalty_recovery_grace_seconds: float = Field(5.0, ge=0)
    # The referrer's reward when a referee's first purchase is confirmed (0 = coupons only).
    loyalty_referral_points: int = Field(500, ge=0)
    # How often the loyalty process runs its jobs (reservations, points expiry, tiers, birthdays).
    loyalty_jobs_interval_seconds: float = Field(300.0, gt=0)
    # Coupons still unused this many days before they run out are announced once
    # (``loyalty.coupon.expiring``; notify reminds the member).
    loyalty_coupon_expiring_days: int = Field(3, ge=1)

    # Notify: channels ("file" writes JSON lines under run_dir/outbox-messages; "smtp" and
    # "http" use the provider settings below), quiet hours for marketing (chain local time),
    # retries, and the contacts risk alerts go to.
    notify_sms_channel: Literal["file", "http"] = "file"
    notify_wechat_channel: Literal["file", "http"] = "file"
    notify_email_channel: Literal["file", "smtp"] = "file"
    notify_sms_url: str | None = None
    notify_wechat_url: str | None = None
    notify_http_token: str | None = None
    notify_http_retries: int = Field(3, ge=0)
    notify_http_timeout_seconds: float = Field(5.0, gt=0)
    notify_smtp_host: str = "127.0.0.1"
    notify_smtp_port: int = 1025
    notify_smtp_sender: str = "noreply@chainclub.local"
    notify_quiet_hours: str = "21:00-09:00"
    notify_max_attempts: int = Field(5, ge=1)
    notify_retry_base_seconds: float = Field(60.0, gt=0)
    notify_alert_emails: list[str] = Field(default_factory=list)
    notify_default_locale: str = "zh-CN"
    notify_jobs_interval_seconds: float = Field(5.0, gt=0)
    # Provider rate limits (messages per second per channel, token bucket with this burst;
    # 0 = no limit). A provider answering 429 defers the delivery to its Retry-After.
    notify_sms_rate_per_second: float = Field(0.0, ge=0)
    notify_wechat_rate_per_second: float = Field(0.0, ge=0)
    notify_rate_burst: int = Field(1, ge=1)
    # Birthday and join-anniversary greetings: the chain-local hour the daily job runs at.
    notify_greetings_hour: int = Field(9, ge=0, le=23)
    # The daily business summary (营业汇报) of the previous local day, mailed at this hour to
    # the managers of each org path: {"HQ": ["boss@example.com"], "HQ/EAST": [...]} (each
    # gets its subtree's stores and regions). Empty = no summary.
    notify_summary_contacts: dict[str, list[str]] = Field(default_factory=dict)
    notify_summary_hour: int = Field(8, ge=0, le=23)

    log_level: str = "INFO"
    log_json: bool = True
    # Traces: "none" keeps spans in-process (logs still carry trace_id), "console" prints them,
    # "otlp" batches them to a collector over OTLP/HTTP at otel_endpoint (its base URL, e.g.
    # http://otel-collector:4318; unset = OTEL_EXPORTER_OTLP_ENDPOINT or the exporter default).
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str | None = None

    relay_batch: int = Field(100, ge=1, le=1000)
    relay_poll_seconds: float = 1.0

    def service_addr(self, service: str) -> str:
        return getattr(self, f"{service}_addr")

    def database_url_for(self, service: str) -> str:
        """The database of one service: ``CHAINCLUB_<SERVICE>_DATABASE_URL`` as it is, else the
        server of ``CHAINCLUB_DATABASE_URL`` with the database ``<db_prefix><service>``."""
        own = os.environ.get(f"CHAINCLUB_{service.upper()}_DATABASE_URL")
        if own:
            return own
        server = self.database_url or self.running_dev_suite().get("database_url")
        if not server:
            raise RuntimeError(
                "CHAINCLUB_DATABASE_URL is not set: start the suite with `chainclub dev` "
                "(embedded PostgreSQL) or point it at a PostgreSQL server"
            )
        from kit.db import with_database

        return with_database(server, f"{self.db_prefix}{service}")

    def running_dev_suite(self) -> dict[str, str]:
        """The servers of a `chainclub dev` running on this run directory (so that
        `chainclub wallet reconcile` and friends find its embedded PostgreSQL)."""
        import json

        try:
            return json.loads((self.run_dir / "dev.json").read_text())
        except (OSError, ValueError):
            return {}

    def effective_admin_password(self) -> str:
        if self.admin_password:
            return self.admin_password
        if self.profile == "prod":
            raise RuntimeError("CHAINCLUB_ADMIN_PASSWORD must be set in production")
        return DEV_ADMIN_PASSWORD

    def check_production(self, *, signs_tokens: bool = False) -> None:
        """Refuse development secrets outside dev/test."""
        if self.profile != "prod":
            return
        problems = []
        if signs_tokens and not self.jwt_private_key:
            problems.append("CHAINCLUB_JWT_PRIVATE_KEY (the development signing key is refused)")
        if not signs_tokens and not (self.jwt_private_key or self.jwt_public_jwks):
            problems.append("CHAINCLUB_JWT_PUBLIC_JWKS or CHAINCLUB_JWT_PRIVATE_KEY")
        if signs_tokens and self.admin_password in (None, "", DEV_ADMIN_PASSWORD):
            problems.append("CHAINCLUB_ADMIN_PASSWORD (not the development default)")
        from kit.auth import is_dev_key

        if self.jwt_private_key and is_dev_key(self.jwt_private_key):
            problems.append("CHAINCLUB_JWT_PRIVATE_KEY is the development key")
        if problems:
            raise RuntimeError("production profile refuses to start; set " + "; ".join(problems))


@lru_cache
def get_settings() -> Settings:
    return Settings()
