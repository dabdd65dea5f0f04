"""The permission matrix of the endpoints that call the services (members, cards, stored value,
checkout, loyalty, rewards, analytics, reports, notify): every role × every endpoint.

The gateway fixture runs WITHOUT the downstream services, so an allowed request usually ends in
the service-unavailable 503 (or a 4xx the gateway raises itself, e.g. 404 for an unknown
checkout, 422 for an unknown sku, 200 for reports the gateway computes). That still proves the
permission layer, which is all this table is about. A cell is one of:

- ``401``: no token (the anonymous column; none of these endpoints is public);
- ``403``: the role may not do the action (problem code ``forbidden``);
- ``ok``:  the role may: the answer is neither 401 nor 403.

The ``action`` column names the entry of services/gateway/permissions.py PERMISSIONS the
endpoint requires; ``test_matrix_agrees_with_the_permission_table`` derives every cell from it,
so the table cannot drift from PERMISSIONS, and the live test checks the routes against both.
Every request is valid (body, Idempotency-Key where money or points move), so only permission
decides; path parameters are dummy values.

The role is checked before the request is validated: test_permissions_services_invalid.py sends
the same endpoints an invalid body or query, over this table.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from services.gateway.permissions import ANYONE, PERMISSIONS
from services.gateway.routes import (
    analytics,
    cards,
    checkout,
    loyalty,
    member_io,
    members,
    notify,
    reports,
    rewards,
    wallet,
)

pytestmark = pytest.mark.integration

ROLES = (
    "hq_admin",
    "region_manager",
    "store_manager",
    "clerk",
    "terminal",
    "distributor",
    "auditor",
    "anonymous",
)

# hq = hq_admin, rm = region_manager, sm = store_manager, term = terminal, dist = distributor
MATRIX = """
endpoint                                                 action                    hq  rm  sm  clerk term dist auditor anonymous
GET    /members/custom-fields                            custom_fields.read        ok  ok  ok  ok    ok   403  ok      401
PUT    /members/custom-fields/{key}                      custom_fields.write       ok  403 403 403   403  403  403     401
POST   /members                                          members.register          ok  ok  ok  ok    ok   403  403     401
GET    /members                                          members.read              ok  ok  ok  ok    ok   403  ok      401
POST   /members/identify                                 members.identify          ok  ok  ok  ok    ok   403  403     401
GET    /members/{member_no}                              members.read              ok  ok  ok  ok    ok   403  ok      401
PATCH  /members/{member_no}                              members.update            ok  ok  ok  ok    ok   403  403     401
DELETE /members/{member_no}                              members.anonymize         ok  ok  ok  403   403  403  403     401
POST   /members/{member_no}/visits                       visits.write              ok  ok  ok  ok    ok   403  403     401
GET    /members/{member_no}/visits                       visits.read               ok  ok  ok  ok    ok   403  ok      401
POST   /members/{member_no}/feedback                     feedback.write            ok  ok  ok  ok    ok   403  403     401
GET    /members/{member_no}/feedback                     feedback.read             ok  ok  ok  ok    ok   403  ok      401
POST   /members/{member_no}/feedback/{feedback_id}/handle feedback.handle          ok  ok  ok  403   403  403  403     401
POST   /members/imports                                  members.import            ok  ok  ok  403   403  403  403     401
GET    /members/imports/{job_id}                         members.import            ok  ok  ok  403   403  403  403     401
GET    /members/export.xlsx                              members.export            ok  ok  ok  403   403  403  ok      401
GET    /cards/{card_no}                                  cards.read                ok  ok  ok  ok    ok   403  ok      401
POST   /cards/{card_no}/report-loss                      cards.report_loss         ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/cancel-loss                      cards.manage              ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/freeze                           cards.manage              ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/unfreeze                         cards.manage              ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/cancel                           cards.manage              ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/replace                          cards.manage              ok  ok  ok  ok    ok   403  403     401
POST   /members/{member_no}/cards                        cards.manage              ok  ok  ok  ok    ok   403  403     401
GET    /card-types                                       card_types.read           ok  ok  ok  ok    ok   403  ok      401
POST   /card-types                                       card_types.write          ok  403 403 403   403  403  403     401
POST   /cards/{card_no}/top-ups                          wallet.top_up             ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/top-ups/preview                  wallet.top_up             ok  ok  ok  ok    ok   403  403     401
GET    /cards/{card_no}/balance                          wallet.balance            ok  ok  ok  ok    ok   403  ok      401
GET    /cards/{card_no}/transactions                     wallet.transactions       ok  ok  ok  ok    ok   403  ok      401
POST   /cards/{card_no}/fees                             wallet.fee                ok  ok  ok  ok    ok   403  403     401
POST   /cards/{card_no}/close                            wallet.close              ok  ok  ok  403   403  403  403     401
POST   /wallet/batch-top-ups                             wallet.batch              ok  ok  ok  403   403  403  403     401
GET    /wallet/batch-top-ups/{job_id}                    wallet.batch              ok  ok  ok  403   403  403  403     401
POST   /wallet/adjustments                               wallet.adjust             ok  403 403 403   403  403  403     401
POST   /wallet/adjustments/{adjustment_id}/approve       wallet.adjust             ok  403 403 403   403  403  403     401
POST   /wallet/adjustments/{adjustment_id}/reject        wallet.adjust             ok  403 403 403   403  403  403     401
GET    /wallet/adjustments                               wallet.adjustments.read   ok  403 403 403   403  403  ok      401
GET    /wallet/bonus-rules                               wallet.bonus_rules.read   ok  ok  ok  ok    ok   403  ok      401
POST   /wallet/bonus-rules                               wallet.bonus_rules.write  ok  ok  ok  403   403  403  403     401
PATCH  /wallet/bonus-rules/{rule_id}                     wallet.bonus_rules.write  ok  ok  ok  403   403  403  403     401
POST   /wallet/bonus-rules/{rule_id}/deactivate          wallet.bonus_rules.write  ok  ok  ok  403   403  403  403     401
POST   /wallet/bonus-rules/{rule_id}/activate            wallet.bonus_rules.write  ok  ok  ok  403   403  403  403     401
DELETE /wallet/bonus-rules/{rule_id}                     wallet.bonus_rules.write  ok  ok  ok  403   403  403  403     401
GET    /wallet/top-up-policy                             wallet.policy.read        ok  ok  ok  ok    ok   403  ok      401
PUT    /wallet/top-up-policy                             wallet.policy.write       ok  403 403 403   403  403  403     401
GET    /wallet/settlement                                wallet.settlement         ok  ok  ok  403   403  403  ok      401
GET    /wallet/settlement.xlsx                           wallet.settlement         ok  ok  ok  403   403  403  ok      401
GET    /wallet/liability                                 wallet.liability          ok  ok  ok  403   403  403  ok      401
GET    /risk/rules                                       risk.rules.read           ok  ok  ok  403   403  403  ok      401
POST   /risk/rules                                       risk.rules.write          ok  403 403 403   403  403  403     401
PATCH  /risk/rules/{rule_id}                             risk.rules.write          ok  403 403 403   403  403  403     401
POST   /risk/rules/{rule_id}/deactivate                  risk.rules.write          ok  403 403 403   403  403  403     401
POST   /risk/rules/{rule_id}/activate                    risk.rules.write          ok  403 403 403   403  403  403     401
DELETE /risk/rules/{rule_id}                             risk.rules.write          ok  403 403 403   403  403  403     401
GET    /risk/alerts                                      risk.alerts.read          ok  ok  ok  403   403  403  ok      401
POST   /risk/alerts/{alert_id}/ack                       risk.alerts.ack           ok  ok  ok  403   403  403  403     401
POST   /checkouts/quote                                  checkouts.quote           ok  ok  ok  ok    ok   403  403     401
POST   /checkouts                                        checkouts.create          ok  ok  ok  ok    ok   403  403     401
GET    /checkouts/{checkout_id}                          checkouts.read            ok  ok  ok  ok    ok   403  ok      401
POST   /checkouts/{checkout_id}/refund                   checkouts.refund          ok  ok  ok  ok    403  403  403     401
GET    /members/{member_no}/points                       loyalty.points.read       ok  ok  ok  ok    ok   403  ok      401
GET    /members/{member_no}/points/history               loyalty.points.read       ok  ok  ok  ok    ok   403  ok      401
GET    /members/{member_no}/coupons                      loyalty.coupons.read      ok  ok  ok  ok    ok   403  ok      401
GET    /members/{member_no}/purchases                    members.purchases         ok  ok  ok  ok    ok   403  ok      401
GET    /loyalty/tiers                                    loyalty.rules.read        ok  ok  ok  ok    ok   403  ok      401
POST   /loyalty/tiers                                    loyalty.tiers.write       ok  403 403 403   403  403  403     401
GET    /loyalty/earn-rules                               loyalty.rules.read        ok  ok  ok  ok    ok   403  ok      401
POST   /loyalty/earn-rules                               loyalty.rules.write       ok  ok  ok  403   403  403  403     401
GET    /loyalty/coupon-templates                         loyalty.rules.read        ok  ok  ok  ok    ok   403  ok      401
POST   /loyalty/coupon-templates                         loyalty.rules.write       ok  ok  ok  403   403  403  403     401
POST   /loyalty/coupon-templates/{template_id}/issue     loyalty.coupons.issue     ok  403 403 403   403  403  403     401
GET    /loyalty/promotions                               loyalty.rules.read        ok  ok  ok  ok    ok   403  ok      401
POST   /loyalty/promotions                               loyalty.rules.write       ok  ok  ok  403   403  403  403     401
DELETE /loyalty/tiers/{code}                             loyalty.tiers.write       ok  403 403 403   403  403  403     401
POST   /loyalty/earn-rules/{rule_id}/deactivate          loyalty.rules.write       ok  ok  ok  403   403  403  403     401
POST   /loyalty/earn-rules/{rule_id}/activate            loyalty.rules.write       ok  ok  ok  403   403  403  403     401
DELETE /loyalty/earn-rules/{rule_id}                     loyalty.rules.write       ok  ok  ok  403   403  403  403     401
POST   /loyalty/promotions/{promotion_id}/deactivate     loyalty.rules.write       ok  ok  ok  403   403  403  403     401
POST   /loyalty/promotions/{promotion_id}/activate       loyalty.rules.write       ok  ok  ok  403   403  403  403     401
DELETE /loyalty/promotions/{promotion_id}                loyalty.rules.write       ok  ok  ok  403   403  403  403     401
POST   /loyalty/coupon-templates/{template_id}/deactivate loyalty.rules.write       ok  ok  ok  403   403  403  403     401
POST   /loyalty/coupon-templates/{template_id}/activate  loyalty.rules.write       ok  ok  ok  403   403  403  403     401
PATCH  /loyalty/earn-rules/{rule_id}                     loyalty.rules.write       ok  ok  ok  403   403  403  403     401
PATCH  /loyalty/coupon-templates/{template_id}           loyalty.rules.write       ok  ok  ok  403   403  403  403     401
PATCH  /loyalty/promotions/{promotion_id}                loyalty.rules.write       ok  ok  ok  403   403  403  403     401
GET    /loyalty/rewards                                  loyalty.rewards.read      ok  ok  ok  ok    ok   403  ok      401
POST   /loyalty/rewards                                  loyalty.rewards.write     ok  403 403 403   403  403  403     401
PATCH  /loyalty/rewards/{reward_id}                      loyalty.rewards.write     ok  403 403 403   403  403  403     401
POST   /loyalty/rewards/{reward_id}/deactivate           loyalty.rewards.write     ok  403 403 403   403  403  403     401
POST   /loyalty/rewards/{reward_id}/activate             loyalty.rewards.write     ok  403 403 403   403  403  403     401
DELETE /loyalty/rewards/{reward_id}                      loyalty.rewards.write     ok  403 403 403   403  403  403     401
GET    /loyalty/referral-rule                            loyalty.rules.read        ok  ok  ok  ok    ok   403  ok      401
PUT    /loyalty/referral-rule                            loyalty.referral.write    ok  403 403 403   403  403  403     401
POST   /members/{member_no}/redemptions                  loyalty.redeem            ok  ok  ok  ok    ok   403  403     401
GET    /analytics/rfm                                    analytics.read            ok  ok  ok  403   403  403  ok      401
GET    /analytics/quadrants                              analytics.read            ok  ok  ok  403   403  403  ok      401
GET    /analytics/lifecycle                              analytics.read            ok  ok  ok  403   403  403  ok      401
POST   /analytics/segments/recompute                     analytics.recompute       ok  403 403 403   403  403  403     401
POST   /analytics/segments/{segment}/follow-ups          followups.create          ok  ok  ok  403   403  403  403     401
GET    /reports/sales                                    reports.read              ok  ok  ok  403   403  403  ok      401
GET    /reports/sales.xlsx                               reports.read              ok  ok  ok  403   403  403  ok      401
GET    /reports/daily-summary                            reports.daily_summary     ok  ok  ok  403   403  403  ok      401
GET    /reports/daily-summary.xlsx                       reports.daily_summary     ok  ok  ok  403   403  403  ok      401
GET    /reports/top-ups                                  reports.read              ok  ok  ok  403   403  403  ok      401
GET    /reports/top-ups.xlsx                             reports.read              ok  ok  ok  403   403  403  ok      401
GET    /reports/points-liability                         reports.read              ok  ok  ok  403   403  403  ok      401
GET    /reports/points-liability.xlsx                    reports.read              ok  ok  ok  403   403  403  ok      401
GET    /notifications                                    notifications.read        ok  ok  ok  ok    ok   403  ok      401
POST   /notifications/{delivery_id}/retry                notifications.retry       ok  ok  ok  403   403  403  403     401
GET    /notify/templates                                 notify.templates.read     ok  ok  ok  ok    403  403  ok      401
GET    /notify/templates/{event}/{channel}               notify.templates.read     ok  ok  ok  ok    403  403  ok      401
PUT    /notify/templates/{event}/{channel}               notify.templates.write    ok  403 403 403   403  403  403     401
POST   /notify/templates/{event}/{channel}/preview       notify.templates.write    ok  403 403 403   403  403  403     401
GET    /follow-ups                                       followups.read            ok  ok  ok  ok    403  403  403     401
POST   /follow-ups/{follow_up_id}/complete               followups.complete        ok  ok  ok  ok    403  403  403     401
GET    /announcements                                    announcements.read        ok  ok  ok  ok    403  403  403     401
"""

ROUTERS = (members, member_io, cards, wallet, checkout, loyalty, rewards, analytics, reports, notify)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    action: str
    cells: dict[str, str]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    role: str
    expected: str  # "401", "403" or "ok"

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} | {self.role} -> {self.expected}"


def _rows() -> list[Row]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, body = lines[0], lines[1:]
    assert header == ["endpoint", "action", "hq", "rm", "sm", "clerk", "term", "dist", "auditor", "anonymous"]
    rows = []
    for method, path, action, *cells in body:
        assert len(cells) == len(ROLES), (method, path)
        assert set(cells) <= {"401", "403", "ok"}, (method, path, cells)
        rows.append(Row(method, path, action, dict(zip(ROLES, cells, strict=True))))
    return rows


ROWS = _rows()
CASES = [Case(r.method, r.path, role, cell) for r in ROWS for role, cell in r.cells.items()]


def _derived(action: str, role: str) -> str:
    """The cell PERMISSIONS implies: no token -> 401, role not granted -> 403, else ok."""
    if role == "anonymous":
        return "401"
    roles = PERMISSIONS[action]
    return "ok" if ANYONE in roles or role in roles else "403"


# --- the table itself ---------------------------------------------------------------------------
def test_matrix_has_no_duplicate_rows():
    endpoints = [(r.method, r.path) for r in ROWS]
    assert len(endpoints) == len(set(endpoints))


def test_matrix_agrees_with_the_permission_table():
    unknown = sorted({r.action for r in ROWS} - PERMISSIONS.keys())
    assert unknown == [], f"actions not in PERMISSIONS: {unknown}"
    wrong = [
        f"{r.method} {r.path} | {role}: table says {cell}, PERMISSIONS[{r.action!r}] says {_derived(r.action, role)}"
        for r in ROWS
        for role, cell in r.cells.items()
        if cell != _derived(r.action, role)
    ]
    assert wrong == []


def test_matrix_has_a_row_for_every_route_of_these_routers():
    # A new endpoint in these routers needs its row in the matrix before it lands.
    routes = {
        (method, route.path.removeprefix("/api/v1"))
        for module in ROUTERS
        for route in module.router.routes
        for method in route.methods
    }
    assert routes == {(r.method, r.path) for r in ROWS}


# --- the world ---------------------------------------------------------------------------------
@dataclass
class World:
    store: str  # the code of the store S1 (under region R1) most principals sit on
    tokens: dict[str, str | None] = field(default_factory=dict)


@pytest.fixture(scope="module")
async def world(gateway) -> World:
    r1 = await gateway.unit("region", "HQ")
    s1 = await gateway.unit("store", r1["code"])
    w = World(s1["code"])
    w.tokens["hq_admin"] = gateway.admin
    on = {"region_manager": r1, "store_manager": s1, "clerk": s1, "distributor": r1, "auditor": r1}
    for role, unit in on.items():
        _, w.tokens[role] = await gateway.user(role, unit["code"], "A" if role == "distributor" else None)
    w.tokens["terminal"] = await gateway.terminal_token(*await gateway.terminal(s1["code"]))
    w.tokens["anonymous"] = None
    return w


# --- one valid request per endpoint ------------------------------------------------------------
Request = tuple[str, dict]  # concrete path (without /api/v1), httpx kwargs

MEMBER, CARD, JOB, ID = "M00000000001", "C00000000001", "job-1", "id-1"
UNKNOWN_SKU = [{"sku": "NO-SUCH-SKU-IN-THIS-TEST", "qty": 1}]  # 422 before any saga starts


def _requests(w: World) -> dict[tuple[str, str], Callable[[], Request]]:
    def get(path: str, **params: object) -> Callable[[], Request]:
        return lambda: (path, {"params": params} if params else {})

    def send(path: str, body: object = None) -> Callable[[], Request]:
        return lambda: (path, {} if body is None else {"json": body})

    csv = b"name,phone\nAda,13800000000\n"
    return {
        # members
        ("GET", "/members/custom-fields"): get("/members/custom-fields"),
        ("PUT", "/members/custom-fields/{key}"): send("/members/custom-fields/shoe_size", {"type": "string"}),
        ("POST", "/members"): send(
            "/members", {"name": "Ada", "phone": "13800000000", "home_store": w.store}
        ),
        ("GET", "/members"): get("/members", limit=10),
        ("POST", "/members/identify"): send("/members/identify", {"card_no": CARD}),
        ("GET", "/members/{member_no}"): get(f"/members/{MEMBER}"),
        ("PATCH", "/members/{member_no}"): send(f"/members/{MEMBER}", {"name": "Ada L."}),
        ("DELETE", "/members/{member_no}"): send(f"/members/{MEMBER}"),
        ("POST", "/members/{member_no}/visits"): send(
            f"/members/{MEMBER}/visits", {"channel": "phone", "outcome": "called"}
        ),
        ("GET", "/members/{member_no}/visits"): get(f"/members/{MEMBER}/visits"),
        ("POST", "/members/{member_no}/feedback"): send(
            f"/members/{MEMBER}/feedback", {"kind": "praise", "content": "Nice tea"}
        ),
        ("GET", "/members/{member_no}/feedback"): get(f"/members/{MEMBER}/feedback"),
        ("POST", "/members/{member_no}/feedback/{feedback_id}/handle"): send(
            f"/members/{MEMBER}/feedback/{ID}/handle", {"resolution": "thanked"}
        ),
        ("POST", "/members/imports"): lambda: (
            "/members/imports",
            {"files": {"file": ("members.csv", csv, "text/csv")}},
        ),
        ("GET", "/members/imports/{job_id}"): get(f"/members/imports/{JOB}"),
        ("GET", "/members/export.xlsx"): get("/members/export.xlsx"),
        # cards
        ("GET", "/cards/{card_no}"): get(f"/cards/{CARD}"),
        **{
            ("POST", f"/cards/{{card_no}}/{slug}"): send(f"/cards/{CARD}/{slug}", {"reason": "asked"})
            for slug in ("report-loss", "cancel-loss", "freeze", "unfreeze", "cancel")
        },
        ("POST", "/cards/{card_no}/replace"): send(f"/cards/{CARD}/replace", {"fee_payment": "cash"}),
        ("POST", "/members/{member_no}/cards"): send(f"/members/{MEMBER}/cards", {"card_type": "std"}),
        ("GET", "/card-types"): get("/card-types"),
        ("POST", "/card-types"): send("/card-types", {"code": "PERM", "name": "Perm", "kind": "personal"}),
        # stored value
        ("POST", "/cards/{card_no}/top-ups"): send(f"/cards/{CARD}/top-ups", {"amount": 1000}),
        ("POST", "/cards/{card_no}/top-ups/preview"): send(
            f"/cards/{CARD}/top-ups/preview", {"amount": 1000}
        ),
        ("GET", "/cards/{card_no}/balance"): get(f"/cards/{CARD}/balance"),
        ("GET", "/cards/{card_no}/transactions"): get(f"/cards/{CARD}/transactions"),
        ("POST", "/cards/{card_no}/fees"): send(f"/cards/{CARD}/fees", {"fee_type": "annual", "amount": 100}),
        ("POST", "/cards/{card_no}/close"): send(f"/cards/{CARD}/close", {"fee": 0}),
        ("POST", "/wallet/batch-top-ups"): send(
            "/wallet/batch-top-ups", {"rows": [{"card_no": CARD, "amount": 100}]}
        ),
        ("GET", "/wallet/batch-top-ups/{job_id}"): get(f"/wallet/batch-top-ups/{JOB}"),
        ("POST", "/wallet/adjustments"): send(
            "/wallet/adjustments", {"card_no": CARD, "amount": 100, "reason": "till error"}
        ),
        ("POST", "/wallet/adjustments/{adjustment_id}/approve"): send(f"/wallet/adjustments/{ID}/approve"),
        ("POST", "/wallet/adjustments/{adjustment_id}/reject"): send(
            f"/wallet/adjustments/{ID}/reject", {"reason": "duplicate"}
        ),
        ("GET", "/wallet/adjustments"): get("/wallet/adjustments"),
        ("GET", "/wallet/bonus-rules"): get("/wallet/bonus-rules"),
        ("POST", "/wallet/bonus-rules"): send(
            "/wallet/bonus-rules", {"name": "Top up 100", "min_amount": 10000, "bonus_amount": 500}
        ),
        ("PATCH", "/wallet/bonus-rules/{rule_id}"): send(f"/wallet/bonus-rules/{ID}", {"bonus_amount": 600}),
        ("POST", "/wallet/bonus-rules/{rule_id}/deactivate"): send(f"/wallet/bonus-rules/{ID}/deactivate"),
        ("POST", "/wallet/bonus-rules/{rule_id}/activate"): send(f"/wallet/bonus-rules/{ID}/activate"),
        ("DELETE", "/wallet/bonus-rules/{rule_id}"): send(f"/wallet/bonus-rules/{ID}"),
        ("GET", "/wallet/top-up-policy"): get("/wallet/top-up-policy"),
        ("PUT", "/wallet/top-up-policy"): send("/wallet/top-up-policy", {"stores": [], "operators": []}),
        ("GET", "/wallet/settlement"): get("/wallet/settlement"),
        ("GET", "/wallet/settlement.xlsx"): get("/wallet/settlement.xlsx"),
        ("GET", "/wallet/liability"): get("/wallet/liability"),
        ("GET", "/risk/rules"): get("/risk/rules"),
        ("POST", "/risk/rules"): send(
            "/risk/rules", {"name": "Big", "kind": "single_amount", "threshold": 100000, "action": "alert"}
        ),
        ("GET", "/risk/alerts"): get("/risk/alerts"),
        ("POST", "/risk/alerts/{alert_id}/ack"): send(f"/risk/alerts/{ID}/ack"),
        ("PATCH", "/risk/rules/{rule_id}"): send(f"/risk/rules/{ID}", {"threshold": 5}),
        ("POST", "/risk/rules/{rule_id}/deactivate"): send(f"/risk/rules/{ID}/deactivate"),
        ("POST", "/risk/rules/{rule_id}/activate"): send(f"/risk/rules/{ID}/activate"),
        ("DELETE", "/risk/rules/{rule_id}"): send(f"/risk/rules/{ID}"),
        # checkout
        ("POST", "/checkouts/quote"): send("/checkouts/quote", {"lines": UNKNOWN_SKU}),
        ("POST", "/checkouts"): send("/checkouts", {"lines": UNKNOWN_SKU}),
        ("GET", "/checkouts/{checkout_id}"): get(f"/checkouts/{uuid.uuid4()}"),
        ("POST", "/checkouts/{checkout_id}/refund"): send(f"/checkouts/{uuid.uuid4()}/refund"),
        # loyalty
        ("GET", "/members/{member_no}/points"): get(f"/members/{MEMBER}/points"),
        ("GET", "/members/{member_no}/points/history"): get(f"/members/{MEMBER}/points/history"),
        ("GET", "/members/{member_no}/purchases"): get(f"/members/{MEMBER}/purchases"),
        ("GET", "/members/{member_no}/coupons"): get(f"/members/{MEMBER}/coupons"),
        ("GET", "/loyalty/tiers"): get("/loyalty/tiers"),
        ("POST", "/loyalty/tiers"): send("/loyalty/tiers", {"code": "perm", "name": "Perm", "rank": 1}),
        ("GET", "/loyalty/earn-rules"): get("/loyalty/earn-rules"),
        ("POST", "/loyalty/earn-rules"): send("/loyalty/earn-rules", {"name": "Base"}),
        ("GET", "/loyalty/coupon-templates"): get("/loyalty/coupon-templates"),
        ("POST", "/loyalty/coupon-templates"): send(
            "/loyalty/coupon-templates", {"name": "5 off", "kind": "amount_off", "amount_off": 500}
        ),
        ("POST", "/loyalty/coupon-templates/{template_id}/issue"): send(
            f"/loyalty/coupon-templates/{ID}/issue", {"member_nos": [MEMBER]}
        ),
        ("GET", "/loyalty/promotions"): get("/loyalty/promotions"),
        ("POST", "/loyalty/promotions"): send(
            "/loyalty/promotions",
            {"name": "100 save 10", "kind": "spend_x_save_y", "spend_threshold": 10000, "save_amount": 1000},
        ),
        ("DELETE", "/loyalty/tiers/{code}"): send("/loyalty/tiers/perm"),
        **{
            (method, f"{base}{tail}"): send(f"{concrete}{tail}")
            for base, concrete in (
                ("/loyalty/earn-rules/{rule_id}", f"/loyalty/earn-rules/{ID}"),
                ("/loyalty/promotions/{promotion_id}", f"/loyalty/promotions/{ID}"),
            )
            for method, tail in (("POST", "/deactivate"), ("POST", "/activate"), ("DELETE", ""))
        },
        ("POST", "/loyalty/coupon-templates/{template_id}/deactivate"): send(
            f"/loyalty/coupon-templates/{ID}/deactivate"
        ),
        ("POST", "/loyalty/coupon-templates/{template_id}/activate"): send(
            f"/loyalty/coupon-templates/{ID}/activate"
        ),
        ("PATCH", "/loyalty/earn-rules/{rule_id}"): send(f"/loyalty/earn-rules/{ID}", {"name": "Base"}),
        ("PATCH", "/loyalty/coupon-templates/{template_id}"): send(
            f"/loyalty/coupon-templates/{ID}", {"min_spend": 1000}
        ),
        ("PATCH", "/loyalty/promotions/{promotion_id}"): send(f"/loyalty/promotions/{ID}", {"active": False}),
        # rewards
        ("GET", "/loyalty/rewards"): get("/loyalty/rewards"),
        ("POST", "/loyalty/rewards"): send(
            "/loyalty/rewards", {"name": "Mug", "points_cost": 100, "stock": 5}
        ),
        ("POST", "/members/{member_no}/redemptions"): send(
            f"/members/{MEMBER}/redemptions", {"reward_id": ID}
        ),
        ("PATCH", "/loyalty/rewards/{reward_id}"): send(f"/loyalty/rewards/{ID}", {"stock_delta": 1}),
        ("POST", "/loyalty/rewards/{reward_id}/deactivate"): send(f"/loyalty/rewards/{ID}/deactivate"),
        ("POST", "/loyalty/rewards/{reward_id}/activate"): send(f"/loyalty/rewards/{ID}/activate"),
        ("DELETE", "/loyalty/rewards/{reward_id}"): send(f"/loyalty/rewards/{ID}"),
        ("GET", "/loyalty/referral-rule"): get("/loyalty/referral-rule"),
        ("PUT", "/loyalty/referral-rule"): send("/loyalty/referral-rule", {"active": False}),
        # analytics and reports
        ("GET", "/analytics/rfm"): get("/analytics/rfm"),
        ("GET", "/analytics/quadrants"): get("/analytics/quadrants"),
        ("GET", "/analytics/lifecycle"): get("/analytics/lifecycle"),
        ("POST", "/analytics/segments/recompute"): send("/analytics/segments/recompute"),
        ("POST", "/analytics/segments/{segment}/follow-ups"): send(
            "/analytics/segments/new/follow-ups", {"purpose": "call", "due_on": "2100-01-01"}
        ),
        ("GET", "/reports/sales"): get("/reports/sales"),
        ("GET", "/reports/sales.xlsx"): get("/reports/sales.xlsx"),
        ("GET", "/reports/daily-summary"): get("/reports/daily-summary", date="2026-11-23"),
        ("GET", "/reports/daily-summary.xlsx"): get("/reports/daily-summary.xlsx"),
        ("GET", "/reports/top-ups"): get("/reports/top-ups"),
        ("GET", "/reports/top-ups.xlsx"): get("/reports/top-ups.xlsx"),
        ("GET", "/reports/points-liability"): get("/reports/points-liability"),
        ("GET", "/reports/points-liability.xlsx"): get("/reports/points-liability.xlsx", group_by="region"),
        # notifications, templates, follow-ups, announcements
        ("GET", "/notifications"): get("/notifications", member_no=MEMBER),
        ("POST", "/notifications/{delivery_id}/retry"): send(f"/notifications/{ID}/retry"),
        ("GET", "/notify/templates"): get("/notify/templates"),
        ("GET", "/notify/templates/{event}/{channel}"): get("/notify/templates/welcome/sms"),
        ("PUT", "/notify/templates/{event}/{channel}"): send(
            "/notify/templates/welcome/sms", {"body": "欢迎 {{ name }}"}
        ),
        ("POST", "/notify/templates/{event}/{channel}/preview"): send(
            "/notify/templates/welcome/sms/preview", {"body": "欢迎"}
        ),
        ("GET", "/follow-ups"): get("/follow-ups", due_before="2030-01-01"),
        ("POST", "/follow-ups/{follow_up_id}/complete"): send(
            f"/follow-ups/{ID}/complete", {"outcome": "called"}
        ),
        ("GET", "/announcements"): get("/announcements"),
    }


def test_every_row_has_a_request():
    assert set(_requests(World("S"))) == {(r.method, r.path) for r in ROWS}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_permission(gateway, world, case):
    path, kw = _requests(world)[(case.method, case.path)]()
    # Every request carries a fresh Idempotency-Key: endpoints that need one must not stop at 400.
    kw["headers"] = {"Idempotency-Key": uuid.uuid4().hex}
    r = await gateway.call(case.method, f"/api/v1{path}", world.tokens[case.role], **kw)
    got = f"{case.id}: got {r.status_code}: {r.text[:300]}"
    if case.expected == "ok":
        assert r.status_code not in (401, 403), got
        if r.status_code >= 400:  # a problem from the gateway or the (absent) service, never auth
            assert r.headers["content-type"].startswith("application/problem+json"), got
            assert r.json()["code"] not in ("unauthenticated", "forbidden", "idempotency_key_required"), got
        return
    assert r.status_code == int(case.expected), got
    assert r.headers["content-type"].startswith("application/problem+json"), got
    assert r.json()["code"] == {"401": "unauthenticated", "403": "forbidden"}[case.expected], got
