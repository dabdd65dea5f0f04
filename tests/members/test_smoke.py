import pytest

pytestmark = pytest.mark.integration


async def test_clerk_registers_a_member_at_its_own_store(world):
    region = await world.unit("region", "HQ")
    store = await world.unit("store", region)
    clerk = await world.staff("clerk", store)
    member = await world.register(clerk)
    assert member["home_store"] == store
    assert member["card"]["status"] == "active"
    assert member["phone"].startswith("+86")
