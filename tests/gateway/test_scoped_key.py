"""``deps.scoped_key``: the Idempotency-Key header and a page's form field are scoped to the
caller alike (the sha256 of sub and key); a missing, blank or too long key is refused."""

from __future__ import annotations

import hashlib

import pytest

from kit.auth import Principal
from kit.errors import ChainclubError, InvalidArgument
from services.gateway.deps import scoped_key

pytestmark = pytest.mark.unit

CLERK = Principal(sub="clerk_1", role="clerk", scope="HQ/R1/S1")
TERMINAL = Principal(sub="terminal_1", role="terminal", scope="HQ/R1/S1")


def test_a_key_is_scoped_to_its_caller():
    assert scoped_key(CLERK, "1") == hashlib.sha256(b"clerk_1\n1").hexdigest()
    assert scoped_key(CLERK, "1") != scoped_key(TERMINAL, "1")
    assert scoped_key(CLERK, "k" * 255) == scoped_key(CLERK, "k" * 255)


@pytest.mark.parametrize("key", ["", " ", "\t"])
def test_a_missing_key_is_required(key):
    with pytest.raises(ChainclubError) as refused:
        scoped_key(CLERK, key)
    assert refused.value.reason == "idempotency_key_required"


def test_a_key_longer_than_255_characters_is_invalid():
    with pytest.raises(InvalidArgument) as refused:
        scoped_key(CLERK, "k" * 256)
    assert refused.value.extra == {"field": "Idempotency-Key"}
