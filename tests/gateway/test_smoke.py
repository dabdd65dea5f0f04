import pytest

pytestmark = pytest.mark.integration


async def test_admin_sees_itself(gateway):
    r = await gateway.call("GET", "/api/v1/me", gateway.admin)
    assert r.status_code == 200
    assert r.json() == {
        "username": "admin",
        "role": "hq_admin",
        "org_unit": "HQ",
        "scope": "HQ",
        "price_level": None,
    }
    assert r.headers["x-request-id"]
