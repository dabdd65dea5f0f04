"""Interactive API docs (Swagger UI at ``/docs``) served from the gateway's own files.

FastAPI's default ``/docs`` and ``/redoc`` load their scripts from a CDN, so they stay blank on
a machine without internet access (a store's back office, a closed network). Here Swagger UI
is vendored in ``services/gateway/docs_assets/swagger-ui-<version>/`` (from the npm package
``swagger-ui-dist``, with its LICENSE and a VERSION.txt) and mounted at ``/docs/assets``: the
page, its script, style sheet and favicon are all same-origin. Swagger UI 5 is needed: the
gateway's schema is OpenAPI 3.1, which Swagger UI 4 refuses to render. Its validator badge
(which would send the schema's URL to an outside validator) is switched off. ReDoc is not
served.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_FILES = Path(__file__).resolve().parent.parent / "docs_assets" / f"swagger-ui-{SWAGGER_UI_VERSION}"
DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
OAUTH2_REDIRECT_PATH = f"{DOCS_PATH}/oauth2-redirect"

router = APIRouter(include_in_schema=False)
router.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI_FILES), name="docs-assets")


@router.get(DOCS_PATH)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    app = request.app
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} — API docs",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_PATH}",
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get(OAUTH2_REDIRECT_PATH)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()
