import pytest

from chainclub.wallet.v1 import wallet_pb2 as pb

pytestmark = pytest.mark.integration


async def test_top_up_then_pay_over_grpc(wallet_world):
    w = wallet_world
    region = await w.unit("region", "HQ")
    store = await w.unit("store", region)
    clerk = await w.staff("clerk", store)
    card = await w.card(clerk)
    r = await w.top_up(clerk, card, 10_000)
    assert r.status_code == 201, r.text
    token = w.token_for("clerk", f"HQ/{region}/{store}")
    paid = await w.wallet.CapturePayment(
        pb.CapturePaymentRequest(request_id="p1-" + card, card_no=card, amount=3_000), metadata=w.md(token)
    )
    assert (paid.balance.principal, paid.balance.bonus) == (7_000, 0)
