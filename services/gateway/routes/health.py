"""Liveness, readiness (all four services answer gRPC health), metrics, JWKS."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.gateway.deps import State

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: State) -> JSONResponse:
    services = await state.clients.health()
    ready = all(v == "SERVING" for v in services.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "services": services}, status_code=200 if ready else 503
    )


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/.well-known/jwks.json")
async def jwks(state: State) -> dict:
    return state.keys.jwks()
