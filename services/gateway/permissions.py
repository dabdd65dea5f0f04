"""Who may do what — the one permission table of the gateway.

Roles grant actions; scope (``kit.auth.may_access``) then limits the records. A role never
grants more than its scope. Tested as a matrix in tests/gateway/test_permissions.py.
"""

from __future__ import annotations

from kit.auth import Principal
from kit.errors import Forbidden

ANYONE = "*"  # any authenticated principal
STAFF = frozenset({"hq_admin", "region_manager", "store_manager", "clerk"})
MANAGERS = frozenset({"hq_admin", "region_manager", "store_manager"})
COUNTER = STAFF | {"terminal"}  # who serves members at the counter

PERMISSIONS: dict[str, frozenset[str]] = {
    "me.read": frozenset({ANYONE}),
    "org.read": STAFF | {"auditor", "terminal"},
    "org.write": frozenset({"hq_admin", "region_manager"}),
    "users.read": MANAGERS | {"auditor"},
    "users.write": MANAGERS,
    "terminals.read": MANAGERS | {"auditor"},
    "terminals.write": MANAGERS,
    "products.read": frozenset({ANYONE}),
    # Every price level: HQ only ("nobody sees price levels other than their own").
    "products.read_all_prices": frozenset({"hq_admin"}),
    "products.write": frozenset({"hq_admin"}),
    "audit.read": frozenset({"hq_admin", "auditor"}),
    # members and cards (the members service checks scope again with the forwarded token)
    "members.register": COUNTER,
    "members.read": COUNTER | {"auditor"},
    "members.update": COUNTER,
    "members.anonymize": MANAGERS,
    "members.identify": COUNTER,
    "members.import": MANAGERS,
    "members.export": MANAGERS | {"auditor"},
    "members.purchases": COUNTER | {"auditor"},  # a member's purchases (loyalty's), as the member
    "cards.read": COUNTER | {"auditor"},
    "cards.report_loss": COUNTER,
    "cards.manage": COUNTER,
    "card_types.read": COUNTER | {"auditor"},
    "card_types.write": frozenset({"hq_admin"}),
    "custom_fields.read": COUNTER | {"auditor"},
    "custom_fields.write": frozenset({"hq_admin"}),
    "visits.read": COUNTER | {"auditor"},
    "visits.write": COUNTER,
    "feedback.read": COUNTER | {"auditor"},
    "feedback.write": COUNTER,
    "feedback.handle": MANAGERS,
    # stored value (the wallet checks scope and the card's state again)
    "wallet.top_up": COUNTER,
    "wallet.balance": COUNTER | {"auditor"},
    "wallet.transactions": COUNTER | {"auditor"},
    "wallet.fee": COUNTER,
    "wallet.close": MANAGERS,
    "wallet.batch": MANAGERS,
    "wallet.adjust": frozenset({"hq_admin"}),
    "wallet.adjustments.read": frozenset({"hq_admin", "auditor"}),
    "wallet.bonus_rules.read": COUNTER | {"auditor"},
    "wallet.bonus_rules.write": MANAGERS,
    "wallet.policy.read": COUNTER | {"auditor"},
    "wallet.policy.write": frozenset({"hq_admin"}),
    "wallet.settlement": MANAGERS | {"auditor"},
    "wallet.liability": MANAGERS | {"auditor"},  # stored value outstanding in the caller's scope
    "risk.rules.read": MANAGERS | {"auditor"},
    "risk.rules.write": frozenset({"hq_admin"}),
    "risk.alerts.read": MANAGERS | {"auditor"},
    "risk.alerts.ack": MANAGERS,
    # checkout (the saga; the store is the caller's) and refunds (the checkout's store scope)
    "checkouts.quote": COUNTER,
    "checkouts.create": COUNTER,
    "checkouts.read": COUNTER | {"auditor"},
    "checkouts.refund": STAFF,
    # loyalty (member reads are scoped through members first)
    "loyalty.points.read": COUNTER | {"auditor"},
    "loyalty.coupons.read": COUNTER | {"auditor"},
    "loyalty.rules.read": COUNTER | {"auditor"},  # tiers, earn rules, coupon templates, promotions
    "loyalty.rules.write": MANAGERS,  # earn rules, coupon templates, promotions (in the caller's scope)
    "loyalty.tiers.write": frozenset({"hq_admin"}),
    # Coupons create value: issuing them is HQ's (the loyalty service checks it again).
    "loyalty.coupons.issue": frozenset({"hq_admin"}),
    # analytics (segments, computed by loyalty) and reports, within the caller's scope
    "analytics.read": MANAGERS | {"auditor"},
    "analytics.recompute": frozenset({"hq_admin"}),
    "reports.read": MANAGERS | {"auditor"},
    "reports.daily_summary": MANAGERS | {"auditor"},  # 营业汇报, also mailed by notify
    "loyalty.rewards.read": COUNTER | {"auditor"},
    "loyalty.rewards.write": frozenset({"hq_admin"}),
    "loyalty.referral.write": frozenset({"hq_admin"}),  # the referral rule (推荐有礼)
    "loyalty.redeem": COUNTER,
    # notify (the notify service checks role and scope again with the forwarded token)
    "notifications.read": COUNTER | {"auditor"},
    "notifications.retry": MANAGERS,  # a dead delivery back to pending
    "notify.templates.read": STAFF | {"auditor"},
    "notify.templates.write": frozenset({"hq_admin"}),
    "followups.read": STAFF,
    "followups.complete": STAFF,
    "followups.create": MANAGERS,  # for a segment's members, each at the home store
    "announcements.read": STAFF,  # as the notify service: terminals read no announcements
}


def allowed(principal: Principal, action: str) -> bool:
    roles = PERMISSIONS[action]
    return ANYONE in roles or principal.role in roles


def require(principal: Principal, action: str) -> None:
    if not allowed(principal, action):
        raise Forbidden(f"role {principal.role} may not do {action}")
