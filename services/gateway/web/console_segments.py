"""The console's member analysis (会员分析, ``/console/segments``) and follow-ups (回访任务,
``/console/follow-ups``).

Member analysis (managers and auditors, ``analytics.read``): when loyalty last computed the
segments and, for HQ (``analytics.recompute``), recomputing them now; the RFM quadrants 知己 /
蝴蝶 / 藤壶 / 过客 (a ring chart and a table of counts) and the lifecycle stages (a bar chart and
a table) of the caller's scope or an org unit inside it; per segment a link to its members and,
for ``loyalty.coupons.issue``, issuing a coupon template to it (an Idempotency-Key made when the
form is shown) as a job whose page shows its progress and can be left and opened again
(services/gateway/issue_jobs.py); for managers (``followups.create``), creating a follow-up task for every member
of a segment at the member's home store, with what to call about and a due date (the form's
Idempotency-Key is the batch key: sending it twice creates nothing twice).

Follow-ups (staff, ``followups.read`` / ``followups.complete``): the 333 tasks (3 days, 3 weeks,
3 months after a first purchase at a store) due by a date (default today, so today's and the
overdue ones) in the caller's scope, per store, with the call window and the member as the
members service shows them to the caller; completing one with an outcome and notes closes it
and notify records a visit on the member.

Every call goes through the use cases the REST routes share (services/gateway/analytics.py,
loyalty.py, notify.py, org.py); the services keep each caller inside its scope."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from kit.errors import ChainclubError, problem_for
from services.gateway import analytics, issue_jobs, loyalty, notify, org, reports, segment_follow_ups
from services.gateway.deps import Page, scoped_key
from services.gateway.permissions import MANAGERS, STAFF
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
AnalystsCtx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]
StaffCtx = Annotated[PageContext, Depends(gate(STAFF))]
StoreParam = Annotated[str, Query(max_length=64)]

QUADRANTS: dict[str, tuple[str, str]] = {  # name, what it means (F × M against the medians)
    "ally": (N_("Allies"), N_("Buy often and spend much")),
    "butterfly": (N_("Butterflies"), N_("Buy seldom but spend much")),
    "barnacle": (N_("Barnacles"), N_("Buy often but spend little")),
    "stranger": (N_("Strangers"), N_("Buy seldom and spend little")),
}
QUADRANT_COLORS = ["#15803d", "#7c3aed", "#b45309", "#64748b"]  # in the order of QUADRANTS
STAGES: dict[str, tuple[str, str]] = {
    "new": (N_("New buyers"), N_("First purchase less than 30 days ago")),
    "active": (N_("Active buyers"), N_("Bought within the last 90 days")),
    "declining": (N_("Declining buyers"), N_("Bought within 90 days, but spent less than half of the 90 days before")),
    "at_risk": (N_("Buyers at risk"), N_("Last purchase 90 to 180 days ago")),
    "churned": (N_("Churned buyers"), N_("No purchase for more than 180 days")),
}  # fmt: skip
FOLLOW_UP_STAGES = {
    "3d": N_("3 days after the first purchase"),
    "3w": N_("3 weeks after the first purchase"),
    "3m": N_("3 months after the first purchase"),
    "ask": N_("For a segment"),
}
VISIT_CHANNELS = {
    "phone": N_("Phone call"),
    "wechat": N_("WeChat"),
    "sms": N_("SMS"),
    "in_store": N_("In store"),
    "other": N_("Other"),
}
FOLLOW_UPS_PAGE = 100
# Refusals shown on the screen (anything else is an error page).
ISSUE_REFUSALS = (
    "invalid_argument", "not_found", "out_of_scope", "conflict", "forbidden", "idempotency_key_required",
    "idempotency_key_reused",
)  # fmt: skip


def _need(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _posted(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf" and isinstance(v, str)}


async def _units(ctx: PageContext, kinds: tuple[str, ...]) -> list[Any]:
    """The org units of the caller's scope a filter may name (the scope's own unit is "all")."""
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
    return [u for u in units if u.kind in kinds and u.path != ctx.p.scope]


def _today(ctx: PageContext) -> date:
    return reports.today(ctx.state, datetime.now(UTC))


# --- member analysis (会员分析) ------------------------------------------------------------------
def _usable_templates(templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Coupon templates that can still be issued: not past their end, not exhausted."""
    now = datetime.now(UTC)
    out = []
    for t in templates:
        until = t.get("valid_until")
        if until and datetime.fromisoformat(until.replace("Z", "+00:00")) <= now:
            continue
        if t.get("total_quantity") and t.get("issued", 0) >= t["total_quantity"]:
            continue
        out.append(t)
    return out


async def _segments(ctx: PageContext, store: str = "", status: int = 200, **values: Any) -> Response:
    _need(ctx, "analytics.read")
    errors: dict[str, str] = {}
    units = await _units(ctx, ("region", "store"))
    try:
        quadrants, stages, rfm = await asyncio.gather(
            analytics.quadrants(ctx.state, ctx.p, store or None, limit=1),
            analytics.lifecycle(ctx.state, ctx.p, store or None, limit=1),
            analytics.rfm(ctx.state, ctx.p, store or None, limit=1),
        )
    except ChainclubError as exc:
        if exc.reason != "invalid_argument" or not store:
            raise
        errors["store"] = ctx._("There is no such store or region in your scope.")
        store, status = "", 422
        quadrants, stages, rfm = await asyncio.gather(
            analytics.quadrants(ctx.state, ctx.p, limit=1),
            analytics.lifecycle(ctx.state, ctx.p, limit=1),
            analytics.rfm(ctx.state, ctx.p, limit=1),
        )
    templates: list[dict[str, Any]] = []
    if ctx.allowed("loyalty.coupons.issue") and ctx.allowed("loyalty.rules.read"):
        templates = _usable_templates(await loyalty.coupon_templates(ctx.state, ctx.p))
    scored = rfm["members"]
    quadrant_rows = [
        {"code": code, "name": ctx._(name), "hint": ctx._(hint), "count": quadrants["counts"].get(code, 0)}
        for code, (name, hint) in QUADRANTS.items()
    ]
    stage_rows = [
        {"code": code, "name": ctx._(name), "hint": ctx._(hint), "count": stages["counts"].get(code, 0)}
        for code, (name, hint) in STAGES.items()
    ]
    chart = {
        "locale": "zh-CN" if ctx.locale == "zh_CN" else "en",
        "quadrants": {
            "unit": "count",
            "colors": QUADRANT_COLORS,
            "labels": [r["name"] for r in quadrant_rows],
            "series": [{"name": ctx._("Members"), "values": [r["count"] for r in quadrant_rows]}],
        },
        "stages": {
            "unit": "count",
            "labels": [r["name"] for r in stage_rows],
            "series": [{"name": ctx._("Members"), "values": [r["count"] for r in stage_rows]}],
        },
    }
    unit = next((u for u in units if u.code == store), None)
    page = {
        "done": None,
        "refused": None,
        "refused_detail": None,
        "issue_form": {},
        "issue_errors": {},
        "follow_form": {},
        "follow_errors": {},
        "follow_link": None,
        "tomorrow": (_today(ctx) + timedelta(days=1)).isoformat(),
        **values,
    }
    return ctx.render(
        "console/segments/segments.html", status=status, store=store, unit=unit, units=units, errors=errors,
        quadrants=quadrant_rows, stages=stage_rows, scored=scored, rfm=rfm, computed_at=rfm["computed_at"],
        median_frequency=quadrants["median_frequency"], median_monetary=quadrants["median_monetary"],
        templates=templates, chart=chart, **page,
    )  # fmt: skip


def _segment_names(ctx: PageContext) -> dict[str, str]:
    return {code: ctx._(name) for code, (name, _hint) in (QUADRANTS | STAGES).items()}


@router.get("/console/segments")
async def segments(ctx: AnalystsCtx, store: StoreParam = "") -> Response:
    return await _segments(ctx, store.strip())


@router.post("/console/segments/recompute")
async def recompute(ctx: AnalystsCtx) -> Response:
    _need(ctx, "analytics.recompute")
    form = await _posted(ctx)
    done = await analytics.recompute(ctx.state, ctx.request, ctx.p)
    message = ctx._(
        "Recomputed the segments of %(count)s members at %(time)s.",
        count=ctx.fmt.number(done["members"]),
        time=ctx.fmt.datetime(done["computed_at"]),
    )
    return await _segments(ctx, form.get("store", "")[:64], done=message)


@router.post("/console/segments/issue")
async def issue(ctx: AnalystsCtx) -> Response:
    """A coupon template to every member of a quadrant or lifecycle stage (of the org unit the
    screen shows), once per form (its Idempotency-Key)."""
    _need(ctx, "loyalty.coupons.issue")
    form = await _posted(ctx)
    store, segment, template_id = (
        form.get("store", "")[:64],
        form.get("segment", ""),
        form.get("template_id", ""),
    )
    names = _segment_names(ctx)
    if segment not in names:
        return await _segments(ctx, store, 422, refused=ctx._("Choose a segment."))
    if not template_id:
        errors = {segment: ctx._("Choose a coupon template.")}
        return await _segments(ctx, store, 422, issue_form=form, issue_errors=errors)
    try:
        key = scoped_key(ctx.p, form.get("key", ""))
        scope = await org.unit_path(ctx.state, ctx.p, store, field="store") if store else ctx.p.scope
        templates = {t["id"]: t for t in await loyalty.coupon_templates(ctx.state, ctx.p)}
        if template_id not in templates:
            raise ChainclubError("there is no such coupon template", reason="not_found")
        job = await issue_jobs.start(ctx.state, ctx.request, ctx.p, key, template_id, segment, scope)
    except ChainclubError as exc:
        if exc.reason not in ISSUE_REFUSALS:
            raise
        status = problem_for(exc)[0]
        refused = ctx._("The coupons were not issued.")
        return await _segments(ctx, store, status, refused=refused, refused_detail=exc.detail)
    return ctx.redirect(f"/console/segments/issue-jobs/{job['job_id']}")


async def _job_page(ctx: PageContext, job_id: str, fragment: bool) -> Response:
    job = await issue_jobs.get(ctx.state, ctx.p, job_id[:64])  # another scope's: the 404 page
    templates = {t["id"]: t["name"] for t in await loyalty.coupon_templates(ctx.state, ctx.p)}
    names = _segment_names(ctx)
    values = {"job": job, "template_name": templates.get(job["template_id"], job["template_id"]),
              "segment": names.get(job["segment"], job["segment"])}  # fmt: skip
    if fragment:
        return ctx.render("console/segments/_issue_progress.html", **values)
    return ctx.render("console/segments/issue_job.html", **values)


@router.get("/console/segments/issue-jobs/{job_id}")
async def issue_job(job_id: str, ctx: AnalystsCtx) -> Response:
    """How far issuing a coupon to a segment has got; it can be left and opened again."""
    _need(ctx, "loyalty.coupons.issue")
    return await _job_page(ctx, job_id, fragment=False)


@router.get("/console/segments/issue-jobs/{job_id}/progress")
async def issue_job_progress(job_id: str, ctx: AnalystsCtx) -> Response:
    _need(ctx, "loyalty.coupons.issue")
    return await _job_page(ctx, job_id, fragment=True)


def _follow_up_form(ctx: PageContext, form: dict[str, str]) -> tuple[dict[str, str], date | None]:
    """The follow-up form's errors per field (purpose, due_on) and its due date."""
    errors: dict[str, str] = {}
    purpose = form.get("purpose", "")
    if not purpose or len(purpose) > 500:
        errors["purpose"] = ctx._("Write what to call about (at most 500 characters).")
    due: date | None = None
    try:
        due = date.fromisoformat(form.get("due_on", ""))
    except ValueError:
        errors["due_on"] = ctx._("Enter a date as YYYY-MM-DD.")
    if due is not None and due < _today(ctx):
        errors["due_on"] = ctx._("The due date cannot be in the past.")
    return errors, due


@router.post("/console/segments/follow-ups")
async def create_follow_ups(ctx: AnalystsCtx) -> Response:
    """A follow-up for every member of a quadrant or lifecycle stage (of the org unit the screen
    shows), each at the member's home store, once per form (its Idempotency-Key)."""
    _need(ctx, "followups.create")
    form = await _posted(ctx)
    store, segment = form.get("store", "")[:64], form.get("segment", "")
    names = _segment_names(ctx)
    if segment not in names:
        return await _segments(ctx, store, 422, refused=ctx._("Choose a segment."))
    errors, due = _follow_up_form(ctx, form)
    if errors or due is None:
        return await _segments(ctx, store, 422, follow_form=form, follow_errors=errors)
    body = segment_follow_ups.SegmentFollowUpsBody(purpose=form["purpose"], due_on=due, store=store or None)
    try:
        key = scoped_key(ctx.p, form.get("key", ""))
        done = await segment_follow_ups.create_for_segment(ctx.state, ctx.request, ctx.p, key, segment, body)
    except ChainclubError as exc:
        if exc.reason not in ISSUE_REFUSALS:
            raise
        field = exc.extra.get("field")
        if exc.reason == "invalid_argument" and field in ("purpose", "due_on"):
            return await _segments(ctx, store, 422, follow_form=form, follow_errors={field: exc.detail})
        refused = ctx._("The follow-ups were not created.")
        return await _segments(ctx, store, problem_for(exc)[0], refused=refused, refused_detail=exc.detail)
    message = ctx._(
        "Created %(created)s follow-ups for %(segment)s, due %(day)s, each at the member's home store "
        "(%(existing)s had been created already).",
        created=ctx.fmt.number(done["created"]),
        segment=names[segment],
        day=ctx.fmt.date(due),
        existing=ctx.fmt.number(done["existing"]),
    )
    return await _segments(
        ctx, store, 201, done=message, follow_link=f"/console/follow-ups?due={due.isoformat()}"
    )


# --- follow-ups (回访任务) -----------------------------------------------------------------------
def _due(text: str, today: date) -> tuple[date, bool]:
    """The chosen "due by" date (default today) and whether what was sent was not a date."""
    if not text:
        return today, False
    try:
        return date.fromisoformat(text), False
    except ValueError:
        return today, True


async def _follow_ups(
    ctx: PageContext, due_text: str = "", store: str = "", cursor: str = "", status: int = 200, **values: Any
) -> Response:
    _need(ctx, "followups.read")
    today = _today(ctx)
    due, bad_date = _due(due_text, today)
    errors: dict[str, str] = {}
    if bad_date:
        errors["due"], status = ctx._("Enter a date as YYYY-MM-DD."), 422
    stores = await _units(ctx, ("store",))
    due_before = (due + timedelta(days=1)).isoformat()
    try:
        page = await notify.follow_ups(ctx.state, ctx.p, store or None, due_before, "open", FOLLOW_UPS_PAGE,
                                       cursor or None)  # fmt: skip
    except ChainclubError as exc:
        if exc.reason != "invalid_argument" or not store:
            raise
        errors["store"], status, store = ctx._("There is no such store in your scope."), 422, ""
        page = await notify.follow_ups(ctx.state, ctx.p, None, due_before, "open", FOLLOW_UPS_PAGE)
    try:  # names and phones help the call; without the members service the tasks still show
        people = await notify.follow_up_members(ctx.state, ctx.p, [f["member_no"] for f in page["items"]])
    except ChainclubError:
        people = {}
    names = {u.path: u.name for u in stores}
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in page["items"]:
        groups.setdefault(f["store_path"], []).append(f)
    per_store = [
        {"path": path, "name": names.get(path) or path.rsplit("/", 1)[-1], "items": items}
        for path, items in sorted(groups.items())
    ]
    page_values = {"done": None, "refused": None, "row_errors": {}, "row_form": {}, **values}
    return ctx.render(
        "console/segments/follow_ups.html", status=status, due=due, today=today, store=store, stores=stores,
        errors=errors, per_store=per_store, people=people, count=len(page["items"]),
        next_cursor=page["next_cursor"], cursor=cursor, stage_names=FOLLOW_UP_STAGES, channels=VISIT_CHANNELS,
        **page_values,
    )  # fmt: skip


@router.get("/console/follow-ups")
async def follow_ups(
    ctx: StaffCtx,
    due: Annotated[str, Query(max_length=10)] = "",
    store: StoreParam = "",
    cursor: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    return await _follow_ups(ctx, due.strip(), store.strip(), cursor.strip())


@router.post("/console/follow-ups/{follow_up_id}/complete")
async def complete(follow_up_id: str, ctx: StaffCtx) -> Response:
    _need(ctx, "followups.complete")
    form = await _posted(ctx)
    due, store = form.get("due", "")[:10], form.get("store", "")[:64]
    outcome, notes = form.get("outcome", ""), form.get("notes", "")
    channel = form.get("channel") if form.get("channel") in VISIT_CHANNELS else "phone"
    problem = None
    if not outcome or len(outcome) > 200:
        problem = ctx._("Write the outcome of the call (at most 200 characters).")
    elif len(notes) > 2000:
        problem = ctx._("Notes are at most 2000 characters.")
    if problem:
        return await _follow_ups(ctx, due, store, status=422, row_errors={follow_up_id: problem},
                                 row_form={follow_up_id: form})  # fmt: skip
    try:
        done = await notify.complete_follow_up(
            ctx.state, ctx.request, ctx.p, follow_up_id, outcome, notes, channel
        )
    except ChainclubError as exc:
        if exc.reason == "conflict":
            refused = ctx._("This follow-up was completed already.")
        elif exc.reason == "not_found":
            refused = ctx._("There is no such follow-up in your scope.")
        elif exc.reason == "invalid_argument":
            return await _follow_ups(ctx, due, store, status=422, row_errors={follow_up_id: exc.detail},
                                     row_form={follow_up_id: form})  # fmt: skip
        else:
            raise
        status = 409 if exc.reason == "conflict" else 404
        return await _follow_ups(ctx, due, store, status=status, refused=refused)
    message = ctx._(
        "Follow-up of member %(member)s completed; the visit is recorded on the member.",
        member=done["member_no"],
    )
    return await _follow_ups(ctx, due, store, done=message)
