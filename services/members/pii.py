"""PII at rest: AES-GCM with a key id stored in every value, keys from configuration, and a
keyed HMAC blind index for exact phone lookup. Values are bound to their member and field
(associated data), so a ciphertext copied to another row does not decrypt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# Development keys, refused in production (see check_production below).
_DEV_KEY = hashlib.sha256(b"chainclub dev pii key").digest()
_DEV_INDEX = hashlib.sha256(b"chainclub dev pii index key").digest()


@dataclass
class Keyring:
    keys: dict[str, bytes]
    active: str
    index_key: bytes

    @classmethod
    def from_config(
        cls, keys_json: str | None, active: str | None, index_key_b64: str | None, profile: str
    ) -> Keyring:
        if not keys_json:
            if profile == "prod":
                raise RuntimeError("CHAINCLUB_PII_KEYS must be set in production")
            return cls({"dev1": _DEV_KEY}, "dev1", _DEV_INDEX)
        keys = {kid: base64.b64decode(v) for kid, v in json.loads(keys_json).items()}
        for kid, key in keys.items():
            if len(key) != 32:
                raise RuntimeError(f"PII key {kid!r} must be 32 bytes (base64)")
        if not index_key_b64:
            raise RuntimeError("CHAINCLUB_PII_INDEX_KEY must be set together with CHAINCLUB_PII_KEYS")
        active = active or sorted(keys)[-1]
        if active not in keys:
            raise RuntimeError(f"CHAINCLUB_PII_ACTIVE_KEY {active!r} is not among CHAINCLUB_PII_KEYS")
        index_key = base64.b64decode(index_key_b64)
        if profile == "prod" and (_DEV_KEY in keys.values() or index_key == _DEV_INDEX):
            raise RuntimeError("production refuses the development PII keys")
        return cls(keys, active, index_key)

    def encrypt(self, value: str | None, aad: bytes) -> str | None:
        if not value:
            return None
        nonce = os.urandom(12)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, value.encode(), aad)
        return f"{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str | None, aad: bytes) -> str:
        if not stored:
            return ""
        kid, _, blob = stored.partition(":")
        raw = base64.b64decode(blob)
        return AESGCM(self.keys[kid]).decrypt(raw[:12], raw[12:], aad).decode()

    def key_id(self, stored: str | None) -> str | None:
        return stored.partition(":")[0] if stored else None

    def blind_index(self, phone_e164: str) -> str:
        return hmac.new(self.index_key, phone_e164.encode(), hashlib.sha256).hexdigest()


def aad(member_id: object, field: str) -> bytes:
    return f"{member_id}:{field}".encode()
