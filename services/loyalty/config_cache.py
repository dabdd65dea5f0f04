"""What pricing reads on every checkout — tiers, active promotions, active earn rules — kept
in the process and checked against ``pricing_config_version``.

A trigger moves that version in the transaction of any change (a use case, a migration, a
hand-written statement), so a checkout that reads the version (inside a statement it runs
anyway) never prices with a stale rule: a different number reloads the three tables. The
reload may see a newer configuration than the number it is filed under; the next checkout
then sees a newer number and reloads once more — stale is never kept, only fresh reloaded."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.loyalty import domain
from services.loyalty.models import earn_rules, promotions, tiers

VERSION = text("SELECT version FROM pricing_config_version WHERE id = 1")


@dataclass(frozen=True)
class PricingConfig:
    version: int
    tiers: tuple[domain.Tier, ...]  # by rank
    promotions: tuple[domain.Promotion, ...]
    earn_rules: tuple[domain.EarnRule, ...]

    def tier(self, code: str) -> domain.Tier | None:
        return next((t for t in self.tiers if t.code == code), None)


def tier_of(row) -> domain.Tier:  # type: ignore[no-untyped-def]
    return domain.Tier(
        code=row.code, name=row.name, rank=row.rank, min_spend_12m=row.min_spend_12m,
        min_points_12m=row.min_points_12m, discount_bps=row.discount_bps,
        points_multiplier_bps=row.points_multiplier_bps, keep_spend_12m=row.keep_spend_12m,
        keep_points_12m=row.keep_points_12m,
    )  # fmt: skip


def promotion_of(r) -> domain.Promotion:  # type: ignore[no-untyped-def]
    return domain.Promotion(
        id=str(r.id), name=r.name, kind=r.kind, spend_threshold=r.spend_threshold, save_amount=r.save_amount,
        category=r.category, discount_bps=r.discount_bps, day_of_month=r.day_of_month,
        members_only=r.members_only, scope=r.scope, starts_at=r.starts_at, ends_at=r.ends_at, active=r.active,
    )  # fmt: skip


def earn_rule_of(r) -> domain.EarnRule:  # type: ignore[no-untyped-def]
    return domain.EarnRule(
        id=str(r.id), name=r.name, scope=r.scope, category=r.category, points_per_yuan_bps=r.points_per_yuan_bps,
        member_day=r.member_day, member_day_multiplier_bps=r.member_day_multiplier_bps,
        birthday_month_multiplier_bps=r.birthday_month_multiplier_bps, active=r.active,
    )  # fmt: skip


async def load(conn: AsyncSession | AsyncConnection, version: int) -> PricingConfig:
    return PricingConfig(
        version=version,
        tiers=tuple(tier_of(r) for r in (await conn.execute(select(tiers).order_by(tiers.c.rank))).all()),
        promotions=tuple(
            promotion_of(r) for r in (await conn.execute(select(promotions).where(promotions.c.active))).all()
        ),
        earn_rules=tuple(
            earn_rule_of(r) for r in (await conn.execute(select(earn_rules).where(earn_rules.c.active))).all()
        ),
    )


class ConfigCache:
    """One per process (the composition root builds it); safe to share between tasks: a
    reload replaces the held value whole."""

    def __init__(self) -> None:
        self._held: PricingConfig | None = None

    async def at(self, conn: AsyncSession | AsyncConnection, version: int) -> PricingConfig:
        """The configuration of ``version`` (read from the database in this unit of work)."""
        held = self._held
        if held is not None and held.version == version:
            return held
        loaded = await load(conn, version)
        self._held = loaded
        return loaded

    async def current(self, conn: AsyncSession | AsyncConnection) -> PricingConfig:
        """For a use case with no statement of its own to carry the version: one read."""
        return await self.at(conn, (await conn.execute(VERSION)).scalar_one())
