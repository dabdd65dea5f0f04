from collections.abc import Iterator

import pytest

pytest.register_assert_rewrite("kit.testing")

from kit.testing import Infra  # noqa: E402 - after the assert-rewrite registration
from tests.support import Suite, stop_private_nats, suite_on  # noqa: E402

pytest_plugins = ["kit.testing"]


@pytest.fixture(scope="session", autouse=True)
def _private_nats_servers() -> Iterator[None]:
    """Stop the NATS servers the fixtures started for themselves (tests/support.py)."""
    yield
    stop_private_nats()


@pytest.fixture(scope="session")
def suite(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    """The whole suite (`chainclub dev`) on the session's PostgreSQL and NATS, ready: one per
    test session (per xdist worker), shared by the e2e and browser tiers."""
    with suite_on(infra, tmp_path_factory.mktemp("suite")) as s:
        yield s
