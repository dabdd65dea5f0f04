"""The pages people use (Jinja2 + htmx, served by the gateway): the login page, the store
counter (``/counter``), the distributor portal (``/portal``) and the console (``/console``, its
dashboard ``/console/dashboard``).

Each page area is one module; all of them call the gateway's use-case functions, the same ones
the REST routes call. Browser assets are files under ``static/`` (third-party ones vendored and
pinned under ``static/vendor/<name>-<version>/`` with their licence); nothing comes from a CDN.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.gateway.web import (
    auth,
    console,
    console_bonus,
    console_cards,
    console_members,
    console_notify,
    console_ops,
    console_reports,
    console_rewards,
    console_rules,
    console_rules_edit,
    console_segments,
    counter,
    counter_rewards,
    counter_sales,
    dashboard,
    portal,
)
from services.gateway.web.core import WEB


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    for module in (
        auth,
        counter,
        counter_sales,
        counter_rewards,
        portal,
        console,
        dashboard,
        console_ops,
        console_reports,
        console_rules_edit,  # before console_rules: its row actions win over the {switch} routes
        console_rules,
        console_bonus,
        console_rewards,
        console_members,
        console_notify,
        console_segments,
        console_cards,
    ):
        app.include_router(module.router)
