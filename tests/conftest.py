from collections.abc import Iterator

import pytest

pytest.register_assert_rewrite("kit.testing")

from tests.support import stop_private_nats  # noqa: E402 - after the assert-rewrite registration

pytest_plugins = ["kit.testing"]


@pytest.fixture(scope="session", autouse=True)
def _private_nats_servers() -> Iterator[None]:
    """Stop the NATS servers the fixtures started for themselves (tests/support.py)."""
    yield
    stop_private_nats()
