"""The words the services send as codes (roles, card states, kinds of transactions, means of
payment), as the pages show them: English labels marked for the catalogs, shown through
``label()`` in the reader's language. A code without a label is shown as it is."""

from __future__ import annotations

from services.gateway.web import i18n


def N_(message: str) -> str:
    """Marks a message for extraction (``make messages``); translated where it is shown."""
    return message


LABELS: dict[str, str] = {
    # roles
    "hq_admin": N_("HQ admin"),
    "region_manager": N_("Region manager"),
    "store_manager": N_("Store manager"),
    "clerk": N_("Clerk"),
    "terminal": N_("Store terminal"),
    "distributor": N_("Distributor"),
    "auditor": N_("Auditor"),
    # org units
    "hq": N_("Headquarters"),
    "region": N_("region"),
    "store": N_("store"),
    # card states
    "active": N_("active"),
    "lost": N_("lost"),
    "frozen": N_("frozen"),
    "expired": N_("expired"),
    "cancelled": N_("cancelled"),
    "replaced": N_("replaced"),
    # stored-value transactions
    "topup": N_("top-up"),
    "payment": N_("payment"),
    "refund": N_("refund"),
    "fee": N_("fee"),
    "adjustment": N_("adjustment"),
    "close": N_("account closed"),
    # points movements
    "earn": N_("earned"),
    "redeem": N_("redeemed"),
    "reserve": N_("held"),
    "release": N_("released"),
    "expire": N_("expired points"),
    "clawback": N_("clawed back"),
    "adjust": N_("adjusted"),
    "bonus": N_("bonus"),
    # discounts
    "tier": N_("Tier discount"),
    "card": N_("Card discount"),
    "promotion": N_("Promotion"),
    "coupon": N_("Coupon"),
    "points": N_("Points"),
    # means of payment and top-up channels
    "stored_value": N_("Stored value"),
    "cash": N_("Cash"),
    "bank_card": N_("Bank card"),
    "wechat_pay": N_("WeChat Pay"),
    "alipay": N_("Alipay"),
    "co_branded": N_("Co-branded card"),
    # kinds of card types, holders' roles on a card
    "personal": N_("Personal card"),
    "family": N_("Family card"),
    "group": N_("Group card"),
    "owner": N_("owner"),
    "holder": N_("holder"),
    "telecom": N_("Telecom card"),
    "online": N_("Online"),
    "batch": N_("Batch"),
    # checkouts
    "completed": N_("completed"),
    "partially_refunded": N_("partially refunded"),
    "refunded": N_("refunded"),
    "failed": N_("failed"),
    "started": N_("in progress"),
    # stored-value buckets, adjustments
    "principal": N_("principal"),
    "pending_approval": N_("waiting for approval"),
    "applied": N_("applied"),
    # risk rules and alerts
    "single_amount": N_("single amount"),
    "count_in_window": N_("count in a window"),
    "sum_in_window": N_("sum in a window"),
    "time_of_day": N_("time of day"),
    "chain_velocity": N_("chain velocity"),
    "alert": N_("alert"),
    "block": N_("block"),
    "open": N_("open"),
    "acknowledged": N_("acknowledged"),
    # report groupings
    "by_store": N_("Store"),
    "by_region": N_("Region"),
    "by_day": N_("Day"),
    # members, their segments, coupons, visits, feedback, notifications and import jobs
    "anonymized": N_("erased"),
    "male": N_("male"),
    "female": N_("female"),
    "other": N_("other"),
    "ally": N_("Ally"),
    "butterfly": N_("Butterfly"),
    "barnacle": N_("Barnacle"),
    "stranger": N_("Stranger"),
    "new": N_("New"),
    "declining": N_("Declining"),
    "at_risk": N_("At risk"),
    "churned": N_("Churned"),
    "available": N_("available"),
    "reserved": N_("reserved"),
    "redeemed": N_("redeemed"),
    "amount_off": N_("amount off"),
    "percent_off": N_("percent off"),
    "gift": N_("gift"),
    # promotions; what a risk rule watches
    "spend_x_save_y": N_("spend X, save Y"),
    "category_discount": N_("category discount"),
    "member_day": N_("member day"),
    "any": N_("any transaction"),
    "complaint": N_("complaint"),
    "suggestion": N_("suggestion"),
    "praise": N_("praise"),
    "handled": N_("handled"),
    "phone": N_("phone call"),
    "sms": N_("SMS"),
    "wechat": N_("WeChat"),
    "email": N_("Email"),
    "in_store": N_("in store"),
    "pending": N_("pending"),
    "sent": N_("sent"),
    "skipped": N_("skipped"),
    "dead": N_("undeliverable"),
    "queued": N_("queued"),
    "running": N_("running"),
}


def label(locale: str, code: str | None) -> str:
    if not code:
        return ""
    english = LABELS.get(code)
    return i18n.gettext(locale, english) if english else code
