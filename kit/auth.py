"""Tokens and scope: EdDSA (Ed25519) JWTs with ``kid``, a JWKS, and ``may_access``.

The gateway signs; every service verifies the forwarded token with the public keys and
applies scope itself. A principal's scope is one org path; it may touch a record iff the
record's path equals the scope or lies below it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from kit.errors import Unauthenticated

ALGORITHM = "EdDSA"
AUDIENCE = "chainclub"
ROLES = (
    "hq_admin",
    "region_manager",
    "store_manager",
    "clerk",
    "terminal",
    "distributor",
    "auditor",
    "service",
)

# A fixed development key so that every process of a dev suite agrees without setup.
# Production refuses it (kit.config.Settings.check_production).
_DEV_SEED = hashlib.sha256(b"chainclub development signing key - never in production").digest()


def may_access(scope: str, org_path: str) -> bool:
    """True iff ``org_path`` equals ``scope`` or lies below it (``HQ`` sees all)."""
    if not scope or not org_path:
        return False
    return org_path == scope or org_path.startswith(scope + "/")


def dev_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_DEV_SEED)


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def load_private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("CHAINCLUB_JWT_PRIVATE_KEY must be an Ed25519 private key (PEM)")
    return key


def is_dev_key(pem: str) -> bool:
    try:
        return _raw_private(load_private_key(pem)) == _DEV_SEED
    except ValueError:
        return False


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The JWK of a public key with ``kid`` = its RFC 7638 thumbprint."""
    x = _b64(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    kid = _b64(hashlib.sha256(canonical.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True)
class Principal:
    """Who is calling, as a verified token says."""

    sub: str
    role: str
    scope: str
    org_unit: str = ""
    price_level: str | None = None
    token: str = field(default="", repr=False, compare=False)

    def may_access(self, org_path: str) -> bool:
        return may_access(self.scope, org_path)


class KeySet:
    """Signs with one private key (optional) and verifies with every known public key."""

    def __init__(
        self,
        signing_key: Ed25519PrivateKey | None,
        extra_public: Iterable[Ed25519PublicKey] = (),
        *,
        issuer: str = "chainclub",
    ) -> None:
        self._signing = signing_key
        self.issuer = issuer
        self._public: dict[str, Ed25519PublicKey] = {}
        for pub in ([signing_key.public_key()] if signing_key else []) + list(extra_public):
            self._public[public_jwk(pub)["kid"]] = pub
        self.kid = public_jwk(signing_key.public_key())["kid"] if signing_key else None
        # Verified tokens, so a token forwarded on every hop is checked once per process.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_settings(cls, settings: Any) -> KeySet:
        signing = load_private_key(settings.jwt_private_key) if settings.jwt_private_key else None
        extra: list[Ed25519PublicKey] = []
        if settings.jwt_public_jwks:
            for jwk in json.loads(settings.jwt_public_jwks).get("keys", []):
                extra.append(OKPAlgorithm.from_jwk(json.dumps(jwk)))
        if signing is None and not extra:
            if settings.profile == "prod":
                raise RuntimeError("no token keys configured")
            signing = dev_private_key()
        return cls(signing, extra, issuer=settings.jwt_issuer)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [public_jwk(pub) for pub in self._public.values()]}

    def sign(self, claims: dict[str, Any], ttl: int, *, now: float | None = None) -> str:
        if self._signing is None:
            raise RuntimeError("this process holds no signing key")
        issued = int(now if now is not None else time.time())
        payload = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, self._signing, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; ``Unauthenticated`` for anything else. A token
        seen before is answered from memory until its ``exp`` (the signature cannot change
        without the token string changing)."""
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        principal, expires = self._verify(token)
        if len(self._verified) >= 50_000:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._public.get(kid or "")
            if key is None:
                raise Unauthenticated("token signed by an unknown key")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from None
        role, scope = claims.get("role"), claims.get("scope")
        if role not in ROLES or not isinstance(scope, str) or not scope:
            raise Unauthenticated("token lacks a valid role or scope")
        principal = Principal(
            sub=str(claims["sub"]),
            role=role,
            scope=scope,
            org_unit=str(claims.get("org_unit", "")),
            price_level=claims.get("price_level"),
            token=token,
        )
        return principal, float(claims["exp"])
