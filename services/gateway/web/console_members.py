"""The console's members screens (``/console/members``): search the scope's members (the
phone and every other filter are posted, never put in a URL), a member's record in tabs
(profile, consumption: purchases and stored value, points, coupons, visits, feedback,
notifications), edit and erase, the import of a CSV/XLSX with its progress and error report
(each refused row's problem in the reader's language, by its code), and the export of the list
as XLSX. The tier filter is loyalty's current tier.

The same use cases as the REST routes (members, member_io, wallet, loyalty, notify); role
rules from the permission table, scope from the services."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field, ValidationError
from starlette.datastructures import UploadFile

from kit.errors import ChainclubError
from services.gateway import loyalty, member_io, member_purchases, members, notify, org, wallet
from services.gateway.deps import Page
from services.gateway.member_schemas import FeedbackCreate, MemberUpdate, VisitCreate
from services.gateway.permissions import MANAGERS
from services.gateway.schemas import Strict
from services.gateway.web.core import N_, PageContext, PageForbidden, PageRoute, field_errors, gate

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ctx = Annotated[PageContext, Depends(gate(MANAGERS, "auditor"))]

PAGE_SIZE = 20
SEGMENTS = ("ally", "butterfly", "barnacle", "stranger", "new", "active", "declining", "at_risk", "churned")
TABS = (
    ("basic", N_("Profile"), "members.read"),
    ("consumption", N_("Consumption"), "wallet.transactions"),
    ("points", N_("Points"), "loyalty.points.read"),
    ("coupons", N_("Coupons"), "loyalty.coupons.read"),
    ("behaviour", N_("Visits"), "visits.read"),
    ("feedback", N_("Feedback"), "feedback.read"),
    ("notifications", N_("Notifications"), "notifications.read"),
)
# An import row error's code -> the message the clerk reads (the English ``message`` of the job
# is shown only for a code this screen does not know, e.g. a job from before codes).
IMPORT_ERRORS = {
    "name_required": N_("The name is empty."),
    "name_invalid": N_("The name is too long (at most 100 characters)."),
    "phone_required": N_("The phone number is empty."),
    "phone_invalid": N_("This is not a valid mobile phone number."),
    "phone_duplicate": N_("The same phone number is in an earlier row of the file."),
    "phone_taken": N_("Another member already has this phone number."),
    "gender_invalid": N_("Gender must be 男, 女 or 其他 (male, female, other)."),
    "birthday_invalid": N_("The birthday is not a real date (YYYY-MM-DD, not in the future)."),
    "email_invalid": N_("This is not a valid email address."),
    "store_unknown": N_("No store with this code in your scope."),
    "tags_invalid": N_("The tags are too many or too long."),
    "source_invalid": N_("Unknown source."),
    "consent_invalid": N_("A consent column must be 是/否, yes/no, true/false or 1/0."),
    "custom_field_invalid": N_("A custom field's value does not fit its type or choices."),
    "card_type_invalid": N_("Unknown card type."),
    "row_refused": N_("The row could not be saved; check it and upload it again."),
    "row_invalid": N_("The row is not valid."),
}
FIELD_MESSAGES = {
    "email": N_("Enter a valid email address, e.g. name@example.com."),
    "birthday": N_("Enter a date as YYYY-MM-DD, not in the future."),
}


class SearchForm(Strict):
    """The list's filters as posted (the limits of ``GET /api/v1/members``)."""

    q: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=32)
    tag: str = Field(default="", max_length=64)
    tier: str = Field(default="", max_length=32)
    segment: str = Field(default="", max_length=32)
    store: str = Field(default="", max_length=64)
    cursor: str = Field(default="", max_length=64)

    def filters(self) -> members.SearchFilters:
        return members.SearchFilters(
            phone=self.phone or None, q=self.q or None, tag=self.tag or None, tier=self.tier or None,
            store=self.store or None, segment=self.segment or None,
        )  # fmt: skip


def _need(ctx: PageContext, action: str) -> None:
    if not ctx.allowed(action):
        raise PageForbidden(ctx.p.role)


async def _posted(ctx: PageContext) -> dict[str, str]:
    return {k: str(v).strip() for k, v in (await ctx.form()).items() if k != "csrf" and isinstance(v, str)}


def _errors(ctx: PageContext, exc: Exception) -> dict[str, str]:
    """A refusal as messages per form field; what is not about the input is raised."""
    if isinstance(exc, ChainclubError) and exc.reason != "invalid_argument":
        raise exc
    out = field_errors(exc)
    for key in list(out):
        top = key.split(".")[0]
        if top in FIELD_MESSAGES:
            out[top] = ctx._(FIELD_MESSAGES[top])
        elif top != key:
            out[top] = out[key]
    return out


async def _stores(ctx: PageContext) -> list[Any]:
    units = (await org.list_units(ctx.state, ctx.p, Page(500, None), None)).items
    return [u for u in units if u.kind == "store"]


async def _tiers(ctx: PageContext) -> list[dict[str, Any]]:
    """The tiers to choose from (a text field instead while loyalty does not answer)."""
    if not ctx.allowed("loyalty.rules.read"):
        return []
    try:
        return await loyalty.tiers(ctx.state, ctx.p)
    except ChainclubError:
        return []


# --- the list --------------------------------------------------------------------------------
async def _list(ctx: PageContext, form: dict[str, str], status: int = 200) -> Response:
    errors: dict[str, str] = {}
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    try:
        search = SearchForm.model_validate(form)
        page = await members.search(ctx.state, ctx.p, search.filters(), PAGE_SIZE, search.cursor or None)
    except (ValidationError, ChainclubError) as exc:
        errors, status = _errors(ctx, exc), 422
    values = {
        "form": form,
        "errors": errors,
        "page": page,
        "segments": SEGMENTS,
        "stores": await _stores(ctx),
        "tiers": await _tiers(ctx),
    }
    template = "console/members/_search.html" if ctx.htmx else "console/members/list.html"
    return ctx.render(template, status=status, **values)


@router.get("/console/members")
async def list_members(
    ctx: Ctx,
    segment: Annotated[str, Query(max_length=32)] = "",
    store: Annotated[str, Query(max_length=64)] = "",
    tag: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The list, optionally opened on a segment, store or tag (links from other screens; no
    PII goes in a URL — phone and name are searched by posting the form)."""
    _need(ctx, "members.read")
    start = {k: v for k, v in {"segment": segment, "store": store, "tag": tag}.items() if v}
    return await _list(ctx, start)


@router.post("/console/members/search")
async def search_members(ctx: Ctx) -> Response:
    _need(ctx, "members.read")
    return await _list(ctx, await _posted(ctx))


@router.post("/console/members/export.xlsx")
async def export_members(ctx: Ctx) -> Response:
    """The list's filters (posted: the phone stays out of URLs and logs) as an XLSX download."""
    _need(ctx, "members.export")
    form = await _posted(ctx)
    form.pop("cursor", None)
    try:
        search = SearchForm.model_validate(form)
    except ValidationError:
        return await _list(ctx, form, 422)
    response = await member_io.export_xlsx(ctx.state, ctx.request, ctx.p, search.filters())
    return ctx.finish(response)


# --- import ----------------------------------------------------------------------------------
@router.get("/console/members/import")
async def import_form(ctx: Ctx) -> Response:
    _need(ctx, "members.import")
    return ctx.render("console/members/import.html", errors={})


@router.post("/console/members/import")
async def upload(ctx: Ctx) -> Response:
    _need(ctx, "members.import")
    file = (await ctx.form()).get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        errors = {"file": ctx._("Choose a CSV or XLSX file.")}
        return ctx.render("console/members/import.html", status=422, errors=errors)
    try:
        accepted = await member_io.upload_import(ctx.state, ctx.request, ctx.p, file)
    except ChainclubError as exc:
        if exc.reason not in ("invalid_argument", "import_too_large"):
            raise
        status = exc.spec.http_status
        return ctx.render("console/members/import.html", status=status, errors={"file": exc.detail})
    return ctx.redirect(f"/console/members/import/{accepted.job_id}")


def import_error_text(ctx: PageContext, code: str, message: str) -> str:
    """A refused row's problem in the reader's language (by its code)."""
    return ctx._(IMPORT_ERRORS[code]) if code in IMPORT_ERRORS else message


def _translated(ctx: PageContext, job: member_io.ImportJobPublic) -> list[dict[str, Any]]:
    return [
        {"row": e.row, "field": e.field, "code": e.code, "text": import_error_text(ctx, e.code, e.message)}
        for e in job.errors
    ]


@router.get("/console/members/import/{job_id}")
async def import_job(job_id: str, ctx: Ctx) -> Response:
    _need(ctx, "members.import")
    job = await member_io.import_job(ctx.state, ctx.p, job_id)
    return ctx.render("console/members/import_job.html", job=job, row_errors=_translated(ctx, job))


@router.get("/console/members/import/{job_id}/progress")
async def import_progress(job_id: str, ctx: Ctx) -> Response:
    _need(ctx, "members.import")
    job = await member_io.import_job(ctx.state, ctx.p, job_id)
    return ctx.render("console/members/_progress.html", job=job, row_errors=_translated(ctx, job))


@router.get("/console/members/import/{job_id}/errors.csv")
async def import_errors(job_id: str, ctx: Ctx) -> Response:
    """The rows the import refused: row (as numbered in the file), field, the problem in the
    reader's language (``message``) and its code."""
    _need(ctx, "members.import")
    job = await member_io.import_job(ctx.state, ctx.p, job_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "field", "message", "code"])  # a stable header: spreadsheets and scripts read it
    for e in _translated(ctx, job):
        writer.writerow([e["row"], e["field"], e["text"], e["code"]])
    response = Response(
        "\ufeff" + out.getvalue(),  # Excel reads UTF-8 with its byte order mark
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{job.job_id}-errors.csv"'},
    )
    return ctx.finish(response)


# --- a member --------------------------------------------------------------------------------
async def _tab_data(ctx: PageContext, member: dict[str, Any], tab: str, cursor: str | None) -> dict[str, Any]:
    no = member["member_no"]
    if tab == "consumption":
        cards = [
            (c, await wallet.transactions(ctx.state, ctx.p, c["card_no"], 50))
            for c in member["cards"]
            if c["status"] != "replaced" or c is member["card"]
        ]
        bought = None
        if ctx.allowed("members.purchases"):
            bought = await member_purchases.purchases(ctx.state, ctx.p, no, PAGE_SIZE, cursor)
        return {"cards": cards, "purchases": bought}
    if tab == "points":
        return {
            "points": await loyalty.points(ctx.state, ctx.p, no),
            "history": await loyalty.points_history(ctx.state, ctx.p, no, PAGE_SIZE, cursor),
        }
    if tab == "coupons":
        return {"coupons": (await loyalty.member_coupons(ctx.state, ctx.p, no))["items"]}
    if tab == "behaviour":
        return {"visits": await members.visits(ctx.state, ctx.p, no, PAGE_SIZE, cursor)}
    if tab == "feedback":
        return {"feedback": await members.feedback(ctx.state, ctx.p, no, PAGE_SIZE, cursor)}
    if tab == "notifications":
        return {"deliveries": await notify.deliveries(ctx.state, ctx.p, no, None, PAGE_SIZE, cursor)}
    return {}


async def _member(
    ctx: PageContext,
    member_no: str,
    tab: str = "basic",
    status: int = 200,
    cursor: str | None = None,
    **values: Any,
) -> Response:
    tabs = [(code, name) for code, name, action in TABS if ctx.allowed(action)]
    if tab not in {code for code, _name in tabs}:
        tab = "basic"
    member = await members.profile(ctx.state, ctx.p, member_no)
    data = await _tab_data(ctx, member, tab, cursor)
    shown = {
        "name": member["name"], "email": "" if member["pii_masked"] else member["email"] or "",
        "birthday": member["birthday"] or "", "gender": member["gender"] or "", "tags": ", ".join(member["tags"]),
        "consents": ",".join(k for k, v in member["consents"].items() if v),
    }  # fmt: skip
    defaults: dict[str, Any] = {"edit": {}, "errors": {}, "done": None, "shown": shown}
    return ctx.render(
        "console/members/detail.html", status=status, m=member, tab=tab, tabs=tabs,
        **{**defaults, **data, **values},
    )  # fmt: skip


@router.get("/console/members/{member_no}")
async def member_page(member_no: str, ctx: Ctx, tab: str = "basic", cursor: str | None = None) -> Response:
    _need(ctx, "members.read")
    done = None
    if ctx.request.query_params.get("erased"):
        done = ctx._("The member's personal data was erased.")
    elif ctx.request.query_params.get("saved"):
        done = ctx._("Saved.")
    return await _member(ctx, member_no, tab, cursor=(cursor or "")[:128] or None, done=done)


def _changes(form: dict[str, str], raw: list[str], current: dict[str, Any]) -> dict[str, Any]:
    """The edit form's fields that differ from the member as shown (a masked value the reader
    did not retype is not sent back)."""
    body: dict[str, Any] = {}
    for key in ("name", "email", "birthday", "gender"):
        value = form.get(key, "")
        if value != (current.get(key) or ""):
            if key == "email" and current["pii_masked"] and not value:
                continue
            body[key] = value
    tags = [t.strip() for t in form.get("tags", "").replace("，", ",").split(",") if t.strip()]
    if tags != current["tags"]:
        body["tags"] = tags
    consents = {k: f"consent_{k}" in raw for k in ("sms", "email", "wechat")}
    if consents != current["consents"]:
        body["consents"] = consents
    return body


@router.post("/console/members/{member_no}/edit")
async def edit_member(member_no: str, ctx: Ctx) -> Response:
    _need(ctx, "members.update")
    form = await _posted(ctx)
    raw = list((await ctx.form()).keys())
    current = await members.profile(ctx.state, ctx.p, member_no)
    try:
        body = MemberUpdate.model_validate(_changes(form, raw, current))
        if body.model_fields_set:
            await members.update(ctx.state, ctx.request, ctx.p, member_no, body)
    except (ValidationError, ChainclubError) as exc:
        form["consents"] = ",".join(k for k in ("sms", "email", "wechat") if f"consent_{k}" in raw)
        return await _member(ctx, member_no, status=422, edit=form, errors=_errors(ctx, exc))
    return ctx.redirect(f"/console/members/{member_no}?saved=1")


@router.get("/console/members/{member_no}/erase")
async def erase_confirm(member_no: str, ctx: Ctx) -> Response:
    _need(ctx, "members.anonymize")
    member = await members.profile(ctx.state, ctx.p, member_no)
    return ctx.render("console/members/erase.html", m=member)


@router.post("/console/members/{member_no}/erase")
async def erase(member_no: str, ctx: Ctx) -> Response:
    _need(ctx, "members.anonymize")
    await members.anonymize(ctx.state, ctx.request, ctx.p, member_no)
    return ctx.redirect(f"/console/members/{member_no}?erased=1")


@router.post("/console/members/{member_no}/visits")
async def add_visit(member_no: str, ctx: Ctx) -> Response:
    _need(ctx, "visits.write")
    form = await _posted(ctx)
    try:
        body = VisitCreate.model_validate(form)
        await members.add_visit(ctx.state, ctx.request, ctx.p, member_no, body)
    except (ValidationError, ChainclubError) as exc:
        return await _member(ctx, member_no, "behaviour", 422, edit=form, errors=_errors(ctx, exc))
    return ctx.redirect(f"/console/members/{member_no}?tab=behaviour")


@router.post("/console/members/{member_no}/feedback")
async def add_feedback(member_no: str, ctx: Ctx) -> Response:
    _need(ctx, "feedback.write")
    form = await _posted(ctx)
    try:
        body = FeedbackCreate.model_validate(form)
        await members.add_feedback(ctx.state, ctx.request, ctx.p, member_no, body)
    except (ValidationError, ChainclubError) as exc:
        return await _member(ctx, member_no, "feedback", 422, edit=form, errors=_errors(ctx, exc))
    return ctx.redirect(f"/console/members/{member_no}?tab=feedback")
