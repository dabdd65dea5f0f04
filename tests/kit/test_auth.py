"""Tokens (EdDSA JWTs with kid, JWKS) and scope (``may_access``)."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from kit.auth import KeySet, Principal, dev_private_key, is_dev_key, may_access, private_key_pem
from kit.errors import Unauthenticated

pytestmark = pytest.mark.unit

CLAIMS = {"sub": "staff-17", "role": "store_manager", "scope": "HQ/EAST/SH001", "org_unit": "SH001"}


@pytest.fixture
def keys() -> KeySet:
    return KeySet(Ed25519PrivateKey.generate())


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_signed_token_verifies_to_its_principal(keys: KeySet) -> None:
    token = keys.sign({**CLAIMS, "price_level": "wholesale"}, ttl=300)
    principal = keys.verify(token)
    assert principal == Principal(
        sub="staff-17", role="store_manager", scope="HQ/EAST/SH001", org_unit="SH001", price_level="wholesale"
    )
    assert principal.token == token
    assert jwt.get_unverified_header(token)["kid"] == keys.kid
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_a_token_signed_with_another_key_is_rejected(keys: KeySet) -> None:
    other = KeySet(Ed25519PrivateKey.generate())
    with pytest.raises(Unauthenticated):
        keys.verify(other.sign(CLAIMS, ttl=300))


def test_a_token_from_another_key_under_a_known_kid_is_rejected(keys: KeySet) -> None:
    forged = jwt.encode(
        {
            "iss": "chainclub",
            "aud": "chainclub",
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
            **CLAIMS,
        },
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    with pytest.raises(Unauthenticated):
        keys.verify(forged)


def test_an_expired_token_is_rejected(keys: KeySet) -> None:
    token = keys.sign(CLAIMS, ttl=300, now=time.time() - 10_000)
    with pytest.raises(Unauthenticated, match="expired"):
        keys.verify(token)


def test_a_token_whose_payload_was_edited_is_rejected(keys: KeySet) -> None:
    token = keys.sign(CLAIMS, ttl=300)
    header, payload, signature = token.split(".")
    claims = json.loads(_b64decode(payload))
    assert claims["scope"] == "HQ/EAST/SH001"
    claims["scope"] = "HQ"
    edited = ".".join([header, _b64encode(json.dumps(claims).encode()), signature])
    with pytest.raises(Unauthenticated):
        keys.verify(edited)


def test_an_unsigned_token_is_rejected(keys: KeySet) -> None:
    header = _b64encode(json.dumps({"alg": "none", "typ": "JWT", "kid": keys.kid}).encode())
    payload = _b64encode(
        json.dumps(
            {
                "iss": "chainclub",
                "aud": "chainclub",
                "iat": int(time.time()),
                "exp": int(time.time()) + 300,
                **CLAIMS,
            }
        ).encode()
    )
    with pytest.raises(Unauthenticated):
        keys.verify(f"{header}.{payload}.")


def test_a_token_for_another_issuer_is_rejected() -> None:
    key = Ed25519PrivateKey.generate()
    token = KeySet(key, issuer="someone-else").sign(CLAIMS, ttl=300)
    with pytest.raises(Unauthenticated):
        KeySet(key).verify(token)


@pytest.mark.parametrize(
    "claims",
    [
        {**CLAIMS, "role": "emperor"},
        {k: v for k, v in CLAIMS.items() if k != "role"},
        {**CLAIMS, "scope": ""},
        {k: v for k, v in CLAIMS.items() if k != "scope"},
        {k: v for k, v in CLAIMS.items() if k != "sub"},
    ],
    ids=["unknown-role", "no-role", "empty-scope", "no-scope", "no-sub"],
)
def test_a_token_without_a_valid_role_scope_or_subject_is_rejected(
    keys: KeySet, claims: dict[str, str]
) -> None:
    with pytest.raises(Unauthenticated):
        keys.verify(keys.sign(claims, ttl=300))


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c"])
def test_garbage_is_rejected_as_unauthenticated(keys: KeySet, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        keys.verify(garbage)


def test_jwks_lists_the_kid_and_its_public_keys_alone_verify(keys: KeySet) -> None:
    jwks = keys.jwks()
    assert [k["kid"] for k in jwks["keys"]] == [keys.kid]
    assert all(set(k) >= {"kty", "crv", "x", "kid", "alg"} and "d" not in k for k in jwks["keys"])
    verifier = KeySet(None, [OKPAlgorithm.from_jwk(json.dumps(k)) for k in jwks["keys"]])
    assert verifier.verify(keys.sign(CLAIMS, ttl=300)).scope == "HQ/EAST/SH001"
    with pytest.raises(RuntimeError):
        verifier.sign(CLAIMS, ttl=300)  # holds no private key


def test_a_rotated_key_set_verifies_tokens_of_the_old_and_the_new_key() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    rotated = KeySet(new, [old.public_key()])
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {KeySet(old).kid, KeySet(new).kid}
    assert rotated.verify(KeySet(old).sign(CLAIMS, ttl=300)).sub == "staff-17"
    assert rotated.verify(rotated.sign(CLAIMS, ttl=300)).sub == "staff-17"


def test_the_development_key_is_recognised() -> None:
    assert is_dev_key(private_key_pem(dev_private_key()))
    assert not is_dev_key(private_key_pem(Ed25519PrivateKey.generate()))


@pytest.mark.parametrize(
    ("scope", "org_path", "allowed"),
    [
        ("HQ", "HQ", True),
        ("HQ", "HQ/EAST/SH001", True),
        ("HQ/EAST", "HQ/EAST", True),
        ("HQ/EAST", "HQ/EAST/SH001", True),
        ("HQ/EAST", "HQ/EAST/NORTH/SH009", True),
        ("HQ/EAST", "HQ/EASTERN/X", False),  # a prefix of the text is not a subtree
        ("HQ/EAST", "HQ/WEST/SH002", False),
        ("HQ/EAST", "HQ", False),  # never upwards
        ("HQ/EAST/SH001", "HQ/EAST/SH002", False),
        ("", "HQ", False),
        ("", "", False),
        ("HQ", "", False),
    ],
)
def test_may_access_sees_its_own_subtree_only(scope: str, org_path: str, allowed: bool) -> None:
    assert may_access(scope, org_path) is allowed
    assert Principal(sub="s", role="clerk", scope=scope).may_access(org_path) is allowed


def test_a_verified_token_is_remembered_only_until_it_expires(monkeypatch) -> None:
    import time as real_time

    from kit import auth as auth_module

    keys = KeySet(Ed25519PrivateKey.generate())
    token = keys.sign({"sub": "u", "role": "clerk", "scope": "HQ/E/S1"}, ttl=60)
    first = keys.verify(token)
    assert keys.verify(token) == first  # from memory
    checked: list[str] = []
    verify_for_real = keys._verify

    def counting(t: str):  # type: ignore[no-untyped-def]
        checked.append(t)
        return verify_for_real(t)

    monkeypatch.setattr(keys, "_verify", counting)
    keys.verify(token)
    assert checked == []  # still valid: answered from memory
    later = real_time.time() + 3600
    monkeypatch.setattr(auth_module.time, "time", lambda: later)
    keys.verify(token)  # past its exp the memory does not answer: the token is checked again
    assert checked == [token]
