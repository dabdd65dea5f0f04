import datetime

from chainclub.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Line(_message.Message):
    __slots__ = ("sku", "name", "category", "qty", "unit_price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    category: str
    qty: int
    unit_price: int
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[str] = ..., qty: _Optional[int] = ..., unit_price: _Optional[int] = ...) -> None: ...

class QuoteRequest(_message.Message):
    __slots__ = ("card_no", "member_no", "card_type", "card_discount_bps", "store_path", "lines", "coupon_code", "points_to_use", "member_home_store_path")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    CARD_DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODE_FIELD_NUMBER: _ClassVar[int]
    POINTS_TO_USE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    member_no: str
    card_type: str
    card_discount_bps: int
    store_path: str
    lines: _containers.RepeatedCompositeFieldContainer[Line]
    coupon_code: str
    points_to_use: int
    member_home_store_path: str
    def __init__(self, card_no: _Optional[str] = ..., member_no: _Optional[str] = ..., card_type: _Optional[str] = ..., card_discount_bps: _Optional[int] = ..., store_path: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[Line, _Mapping]]] = ..., coupon_code: _Optional[str] = ..., points_to_use: _Optional[int] = ..., member_home_store_path: _Optional[str] = ...) -> None: ...

class Discount(_message.Message):
    __slots__ = ("kind", "rule", "amount", "sku")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    kind: str
    rule: str
    amount: int
    sku: str
    def __init__(self, kind: _Optional[str] = ..., rule: _Optional[str] = ..., amount: _Optional[int] = ..., sku: _Optional[str] = ...) -> None: ...

class QuotedLine(_message.Message):
    __slots__ = ("sku", "qty", "unit_price", "discount", "amount")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    qty: int
    unit_price: int
    discount: int
    amount: int
    def __init__(self, sku: _Optional[str] = ..., qty: _Optional[int] = ..., unit_price: _Optional[int] = ..., discount: _Optional[int] = ..., amount: _Optional[int] = ...) -> None: ...

class PriceQuote(_message.Message):
    __slots__ = ("lines", "subtotal", "discounts", "points_used", "points_value", "total_due", "points_to_earn", "tier", "earn_rules")
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_USED_FIELD_NUMBER: _ClassVar[int]
    POINTS_VALUE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DUE_FIELD_NUMBER: _ClassVar[int]
    POINTS_TO_EARN_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    EARN_RULES_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[QuotedLine]
    subtotal: int
    discounts: _containers.RepeatedCompositeFieldContainer[Discount]
    points_used: int
    points_value: int
    total_due: int
    points_to_earn: int
    tier: str
    earn_rules: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, lines: _Optional[_Iterable[_Union[QuotedLine, _Mapping]]] = ..., subtotal: _Optional[int] = ..., discounts: _Optional[_Iterable[_Union[Discount, _Mapping]]] = ..., points_used: _Optional[int] = ..., points_value: _Optional[int] = ..., total_due: _Optional[int] = ..., points_to_earn: _Optional[int] = ..., tier: _Optional[str] = ..., earn_rules: _Optional[_Iterable[str]] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("checkout_id", "quote", "ttl_seconds")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    quote: QuoteRequest
    ttl_seconds: int
    def __init__(self, checkout_id: _Optional[str] = ..., quote: _Optional[_Union[QuoteRequest, _Mapping]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("checkout_id", "status", "quote", "expires_at")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    status: str
    quote: PriceQuote
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, checkout_id: _Optional[str] = ..., status: _Optional[str] = ..., quote: _Optional[_Union[PriceQuote, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Tender(_message.Message):
    __slots__ = ("method", "amount", "reference")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    method: str
    amount: int
    reference: str
    def __init__(self, method: _Optional[str] = ..., amount: _Optional[int] = ..., reference: _Optional[str] = ...) -> None: ...

class ConfirmRequest(_message.Message):
    __slots__ = ("checkout_id", "tenders", "quoted")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    TENDERS_FIELD_NUMBER: _ClassVar[int]
    QUOTED_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    tenders: _containers.RepeatedCompositeFieldContainer[Tender]
    quoted: QuotedCheckout
    def __init__(self, checkout_id: _Optional[str] = ..., tenders: _Optional[_Iterable[_Union[Tender, _Mapping]]] = ..., quoted: _Optional[_Union[QuotedCheckout, _Mapping]] = ...) -> None: ...

class QuotedCheckout(_message.Message):
    __slots__ = ("request", "quote")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    request: QuoteRequest
    quote: PriceQuote
    def __init__(self, request: _Optional[_Union[QuoteRequest, _Mapping]] = ..., quote: _Optional[_Union[PriceQuote, _Mapping]] = ...) -> None: ...

class Purchase(_message.Message):
    __slots__ = ("checkout_id", "member_no", "card_no", "store_path", "status", "quote", "tenders", "points_earned", "points_balance", "tier", "refunded_amount", "created_at")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    TENDERS_FIELD_NUMBER: _ClassVar[int]
    POINTS_EARNED_FIELD_NUMBER: _ClassVar[int]
    POINTS_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    member_no: str
    card_no: str
    store_path: str
    status: str
    quote: PriceQuote
    tenders: _containers.RepeatedCompositeFieldContainer[Tender]
    points_earned: int
    points_balance: int
    tier: str
    refunded_amount: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, checkout_id: _Optional[str] = ..., member_no: _Optional[str] = ..., card_no: _Optional[str] = ..., store_path: _Optional[str] = ..., status: _Optional[str] = ..., quote: _Optional[_Union[PriceQuote, _Mapping]] = ..., tenders: _Optional[_Iterable[_Union[Tender, _Mapping]]] = ..., points_earned: _Optional[int] = ..., points_balance: _Optional[int] = ..., tier: _Optional[str] = ..., refunded_amount: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RefundLine(_message.Message):
    __slots__ = ("sku", "qty")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    qty: int
    def __init__(self, sku: _Optional[str] = ..., qty: _Optional[int] = ...) -> None: ...

class RefundPurchaseRequest(_message.Message):
    __slots__ = ("request_id", "checkout_id", "lines")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    checkout_id: str
    lines: _containers.RepeatedCompositeFieldContainer[RefundLine]
    def __init__(self, request_id: _Optional[str] = ..., checkout_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[RefundLine, _Mapping]]] = ...) -> None: ...

class GetPurchaseRequest(_message.Message):
    __slots__ = ("checkout_id",)
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    def __init__(self, checkout_id: _Optional[str] = ...) -> None: ...

class GetPointsRequest(_message.Message):
    __slots__ = ("member_no",)
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    def __init__(self, member_no: _Optional[str] = ...) -> None: ...

class ExpiringPoints(_message.Message):
    __slots__ = ("points", "expires_on")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_ON_FIELD_NUMBER: _ClassVar[int]
    points: int
    expires_on: str
    def __init__(self, points: _Optional[int] = ..., expires_on: _Optional[str] = ...) -> None: ...

class PointsBalance(_message.Message):
    __slots__ = ("member_no", "balance", "reserved", "expiring", "tier")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    balance: int
    reserved: int
    expiring: _containers.RepeatedCompositeFieldContainer[ExpiringPoints]
    tier: str
    def __init__(self, member_no: _Optional[str] = ..., balance: _Optional[int] = ..., reserved: _Optional[int] = ..., expiring: _Optional[_Iterable[_Union[ExpiringPoints, _Mapping]]] = ..., tier: _Optional[str] = ...) -> None: ...

class PointsEntry(_message.Message):
    __slots__ = ("id", "kind", "points", "reference", "rules", "at")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    points: int
    reference: str
    rules: _containers.RepeatedScalarFieldContainer[str]
    at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., points: _Optional[int] = ..., reference: _Optional[str] = ..., rules: _Optional[_Iterable[str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPointsHistoryRequest(_message.Message):
    __slots__ = ("member_no", "page")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    page: _common_pb2.PageRequest
    def __init__(self, member_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListPointsHistoryResponse(_message.Message):
    __slots__ = ("entries", "page")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[PointsEntry]
    page: _common_pb2.PageInfo
    def __init__(self, entries: _Optional[_Iterable[_Union[PointsEntry, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class MemberCoupon(_message.Message):
    __slots__ = ("code", "template_id", "name", "kind", "amount_off", "percent_off_bps", "min_spend", "status", "valid_from", "valid_until")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_OFF_FIELD_NUMBER: _ClassVar[int]
    PERCENT_OFF_BPS_FIELD_NUMBER: _ClassVar[int]
    MIN_SPEND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    code: str
    template_id: str
    name: str
    kind: str
    amount_off: int
    percent_off_bps: int
    min_spend: int
    status: str
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., template_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., amount_off: _Optional[int] = ..., percent_off_bps: _Optional[int] = ..., min_spend: _Optional[int] = ..., status: _Optional[str] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListMemberCouponsRequest(_message.Message):
    __slots__ = ("member_no", "status")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    status: str
    def __init__(self, member_no: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class ListMemberCouponsResponse(_message.Message):
    __slots__ = ("coupons",)
    COUPONS_FIELD_NUMBER: _ClassVar[int]
    coupons: _containers.RepeatedCompositeFieldContainer[MemberCoupon]
    def __init__(self, coupons: _Optional[_Iterable[_Union[MemberCoupon, _Mapping]]] = ...) -> None: ...

class Tier(_message.Message):
    __slots__ = ("code", "name", "rank", "min_spend_12m", "min_points_12m", "discount_bps", "points_multiplier_bps", "birthday_gift_template_id", "birthday_points", "keep_spend_12m", "keep_points_12m")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    MIN_SPEND_12M_FIELD_NUMBER: _ClassVar[int]
    MIN_POINTS_12M_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    POINTS_MULTIPLIER_BPS_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_GIFT_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_POINTS_FIELD_NUMBER: _ClassVar[int]
    KEEP_SPEND_12M_FIELD_NUMBER: _ClassVar[int]
    KEEP_POINTS_12M_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    rank: int
    min_spend_12m: int
    min_points_12m: int
    discount_bps: int
    points_multiplier_bps: int
    birthday_gift_template_id: str
    birthday_points: int
    keep_spend_12m: int
    keep_points_12m: int
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., rank: _Optional[int] = ..., min_spend_12m: _Optional[int] = ..., min_points_12m: _Optional[int] = ..., discount_bps: _Optional[int] = ..., points_multiplier_bps: _Optional[int] = ..., birthday_gift_template_id: _Optional[str] = ..., birthday_points: _Optional[int] = ..., keep_spend_12m: _Optional[int] = ..., keep_points_12m: _Optional[int] = ...) -> None: ...

class ListTiersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTiersResponse(_message.Message):
    __slots__ = ("tiers",)
    TIERS_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[Tier]
    def __init__(self, tiers: _Optional[_Iterable[_Union[Tier, _Mapping]]] = ...) -> None: ...

class EarnRule(_message.Message):
    __slots__ = ("id", "name", "scope", "category", "points_per_yuan_bps", "member_day", "member_day_multiplier_bps", "birthday_month_multiplier_bps", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    POINTS_PER_YUAN_BPS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DAY_FIELD_NUMBER: _ClassVar[int]
    MEMBER_DAY_MULTIPLIER_BPS_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_MONTH_MULTIPLIER_BPS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    scope: str
    category: str
    points_per_yuan_bps: int
    member_day: int
    member_day_multiplier_bps: int
    birthday_month_multiplier_bps: int
    active: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., scope: _Optional[str] = ..., category: _Optional[str] = ..., points_per_yuan_bps: _Optional[int] = ..., member_day: _Optional[int] = ..., member_day_multiplier_bps: _Optional[int] = ..., birthday_month_multiplier_bps: _Optional[int] = ..., active: _Optional[bool] = ...) -> None: ...

class DeleteTierRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class DeleteTierResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetRuleActiveRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class DeleteRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteRuleResponse(_message.Message):
    __slots__ = ("id", "name", "scope")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    scope: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., scope: _Optional[str] = ...) -> None: ...

class UpdateEarnRuleRequest(_message.Message):
    __slots__ = ("rule", "fields")
    RULE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    rule: EarnRule
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rule: _Optional[_Union[EarnRule, _Mapping]] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateCouponTemplateRequest(_message.Message):
    __slots__ = ("template", "fields")
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    template: CouponTemplate
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, template: _Optional[_Union[CouponTemplate, _Mapping]] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdatePromotionRequest(_message.Message):
    __slots__ = ("promotion", "fields")
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class ListEarnRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEarnRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[EarnRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[EarnRule, _Mapping]]] = ...) -> None: ...

class CouponTemplate(_message.Message):
    __slots__ = ("id", "name", "kind", "amount_off", "percent_off_bps", "min_spend", "gift_sku", "valid_days", "valid_from", "valid_until", "scope", "per_member_limit", "total_quantity", "issued", "campaign", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_OFF_FIELD_NUMBER: _ClassVar[int]
    PERCENT_OFF_BPS_FIELD_NUMBER: _ClassVar[int]
    MIN_SPEND_FIELD_NUMBER: _ClassVar[int]
    GIFT_SKU_FIELD_NUMBER: _ClassVar[int]
    VALID_DAYS_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PER_MEMBER_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: str
    amount_off: int
    percent_off_bps: int
    min_spend: int
    gift_sku: str
    valid_days: int
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    scope: str
    per_member_limit: int
    total_quantity: int
    issued: int
    campaign: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., amount_off: _Optional[int] = ..., percent_off_bps: _Optional[int] = ..., min_spend: _Optional[int] = ..., gift_sku: _Optional[str] = ..., valid_days: _Optional[int] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scope: _Optional[str] = ..., per_member_limit: _Optional[int] = ..., total_quantity: _Optional[int] = ..., issued: _Optional[int] = ..., campaign: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ListCouponTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCouponTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[CouponTemplate]
    def __init__(self, templates: _Optional[_Iterable[_Union[CouponTemplate, _Mapping]]] = ...) -> None: ...

class IssueCouponsRequest(_message.Message):
    __slots__ = ("request_id", "template_id", "member_nos", "segment")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    template_id: str
    member_nos: _containers.RepeatedScalarFieldContainer[str]
    segment: str
    def __init__(self, request_id: _Optional[str] = ..., template_id: _Optional[str] = ..., member_nos: _Optional[_Iterable[str]] = ..., segment: _Optional[str] = ...) -> None: ...

class IssueCouponsResponse(_message.Message):
    __slots__ = ("issued", "skipped", "codes")
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    issued: int
    skipped: int
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, issued: _Optional[int] = ..., skipped: _Optional[int] = ..., codes: _Optional[_Iterable[str]] = ...) -> None: ...

class Promotion(_message.Message):
    __slots__ = ("id", "name", "kind", "spend_threshold", "save_amount", "category", "discount_bps", "day_of_month", "members_only", "scope", "starts_at", "ends_at", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPEND_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SAVE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    DAY_OF_MONTH_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_ONLY_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: str
    spend_threshold: int
    save_amount: int
    category: str
    discount_bps: int
    day_of_month: int
    members_only: bool
    scope: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    active: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., spend_threshold: _Optional[int] = ..., save_amount: _Optional[int] = ..., category: _Optional[str] = ..., discount_bps: _Optional[int] = ..., day_of_month: _Optional[int] = ..., members_only: _Optional[bool] = ..., scope: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., active: _Optional[bool] = ...) -> None: ...

class ListPromotionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPromotionsResponse(_message.Message):
    __slots__ = ("promotions",)
    PROMOTIONS_FIELD_NUMBER: _ClassVar[int]
    promotions: _containers.RepeatedCompositeFieldContainer[Promotion]
    def __init__(self, promotions: _Optional[_Iterable[_Union[Promotion, _Mapping]]] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ("checkout_id", "reason")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    reason: str
    def __init__(self, checkout_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RecomputeSegmentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RecomputeSegmentsResponse(_message.Message):
    __slots__ = ("members", "computed_at")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    members: int
    computed_at: _timestamp_pb2.Timestamp
    def __init__(self, members: _Optional[int] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SegmentQuery(_message.Message):
    __slots__ = ("store_path", "page", "segment")
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    store_path: str
    page: _common_pb2.PageRequest
    segment: str
    def __init__(self, store_path: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., segment: _Optional[str] = ...) -> None: ...

class MemberSegment(_message.Message):
    __slots__ = ("member_no", "home_store_path", "recency_days", "frequency", "monetary", "r", "f", "m", "quadrant", "lifecycle")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    RECENCY_DAYS_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MONETARY_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    F_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    QUADRANT_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    home_store_path: str
    recency_days: int
    frequency: int
    monetary: int
    r: int
    f: int
    m: int
    quadrant: str
    lifecycle: str
    def __init__(self, member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ..., recency_days: _Optional[int] = ..., frequency: _Optional[int] = ..., monetary: _Optional[int] = ..., r: _Optional[int] = ..., f: _Optional[int] = ..., m: _Optional[int] = ..., quadrant: _Optional[str] = ..., lifecycle: _Optional[str] = ...) -> None: ...

class ScoreCount(_message.Message):
    __slots__ = ("score", "count")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    score: int
    count: int
    def __init__(self, score: _Optional[int] = ..., count: _Optional[int] = ...) -> None: ...

class SegmentCount(_message.Message):
    __slots__ = ("segment", "count")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    segment: str
    count: int
    def __init__(self, segment: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class RfmReport(_message.Message):
    __slots__ = ("scope", "members", "r", "f", "m", "items", "page", "computed_at", "median_frequency", "median_monetary")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    F_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_MONETARY_FIELD_NUMBER: _ClassVar[int]
    scope: str
    members: int
    r: _containers.RepeatedCompositeFieldContainer[ScoreCount]
    f: _containers.RepeatedCompositeFieldContainer[ScoreCount]
    m: _containers.RepeatedCompositeFieldContainer[ScoreCount]
    items: _containers.RepeatedCompositeFieldContainer[MemberSegment]
    page: _common_pb2.PageInfo
    computed_at: _timestamp_pb2.Timestamp
    median_frequency: float
    median_monetary: float
    def __init__(self, scope: _Optional[str] = ..., members: _Optional[int] = ..., r: _Optional[_Iterable[_Union[ScoreCount, _Mapping]]] = ..., f: _Optional[_Iterable[_Union[ScoreCount, _Mapping]]] = ..., m: _Optional[_Iterable[_Union[ScoreCount, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[MemberSegment, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., median_frequency: _Optional[float] = ..., median_monetary: _Optional[float] = ...) -> None: ...

class QuadrantReport(_message.Message):
    __slots__ = ("scope", "counts", "items", "page", "computed_at", "median_frequency", "median_monetary")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_MONETARY_FIELD_NUMBER: _ClassVar[int]
    scope: str
    counts: _containers.RepeatedCompositeFieldContainer[SegmentCount]
    items: _containers.RepeatedCompositeFieldContainer[MemberSegment]
    page: _common_pb2.PageInfo
    computed_at: _timestamp_pb2.Timestamp
    median_frequency: float
    median_monetary: float
    def __init__(self, scope: _Optional[str] = ..., counts: _Optional[_Iterable[_Union[SegmentCount, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[MemberSegment, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., median_frequency: _Optional[float] = ..., median_monetary: _Optional[float] = ...) -> None: ...

class LifecycleReport(_message.Message):
    __slots__ = ("scope", "counts", "items", "page", "computed_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    scope: str
    counts: _containers.RepeatedCompositeFieldContainer[SegmentCount]
    items: _containers.RepeatedCompositeFieldContainer[MemberSegment]
    page: _common_pb2.PageInfo
    computed_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[str] = ..., counts: _Optional[_Iterable[_Union[SegmentCount, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[MemberSegment, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MembersInSegmentRequest(_message.Message):
    __slots__ = ("segment", "store_path")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    segment: str
    store_path: str
    def __init__(self, segment: _Optional[str] = ..., store_path: _Optional[str] = ...) -> None: ...

class MembersInSegmentResponse(_message.Message):
    __slots__ = ("member_nos",)
    MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    member_nos: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_nos: _Optional[_Iterable[str]] = ...) -> None: ...

class MembersOnTierRequest(_message.Message):
    __slots__ = ("tier", "store_path", "page")
    TIER_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    tier: str
    store_path: str
    page: _common_pb2.PageRequest
    def __init__(self, tier: _Optional[str] = ..., store_path: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class MembersOnTierResponse(_message.Message):
    __slots__ = ("member_nos", "page")
    MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_nos: _containers.RepeatedScalarFieldContainer[str]
    page: _common_pb2.PageInfo
    def __init__(self, member_nos: _Optional[_Iterable[str]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class ListMemberPurchasesRequest(_message.Message):
    __slots__ = ("member_no", "page")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    page: _common_pb2.PageRequest
    def __init__(self, member_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class MemberPurchase(_message.Message):
    __slots__ = ("checkout_id", "store_path", "status", "subtotal", "discount_total", "points_value", "total_due", "points_used", "points_earned", "refunded_amount", "created_at")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    POINTS_VALUE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DUE_FIELD_NUMBER: _ClassVar[int]
    POINTS_USED_FIELD_NUMBER: _ClassVar[int]
    POINTS_EARNED_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    store_path: str
    status: str
    subtotal: int
    discount_total: int
    points_value: int
    total_due: int
    points_used: int
    points_earned: int
    refunded_amount: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, checkout_id: _Optional[str] = ..., store_path: _Optional[str] = ..., status: _Optional[str] = ..., subtotal: _Optional[int] = ..., discount_total: _Optional[int] = ..., points_value: _Optional[int] = ..., total_due: _Optional[int] = ..., points_used: _Optional[int] = ..., points_earned: _Optional[int] = ..., refunded_amount: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListMemberPurchasesResponse(_message.Message):
    __slots__ = ("purchases", "page")
    PURCHASES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    purchases: _containers.RepeatedCompositeFieldContainer[MemberPurchase]
    page: _common_pb2.PageInfo
    def __init__(self, purchases: _Optional[_Iterable[_Union[MemberPurchase, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class MemberTiersRequest(_message.Message):
    __slots__ = ("member_nos",)
    MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    member_nos: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_nos: _Optional[_Iterable[str]] = ...) -> None: ...

class MemberTier(_message.Message):
    __slots__ = ("member_no", "tier")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    tier: str
    def __init__(self, member_no: _Optional[str] = ..., tier: _Optional[str] = ...) -> None: ...

class MemberTiersResponse(_message.Message):
    __slots__ = ("tiers",)
    TIERS_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[MemberTier]
    def __init__(self, tiers: _Optional[_Iterable[_Union[MemberTier, _Mapping]]] = ...) -> None: ...

class Reward(_message.Message):
    __slots__ = ("id", "name", "points_cost", "stock", "active", "created_at", "redeemed")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_COST_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REDEEMED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    points_cost: int
    stock: int
    active: bool
    created_at: _timestamp_pb2.Timestamp
    redeemed: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., points_cost: _Optional[int] = ..., stock: _Optional[int] = ..., active: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., redeemed: _Optional[int] = ...) -> None: ...

class ListRewardsRequest(_message.Message):
    __slots__ = ("active_only",)
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    def __init__(self, active_only: _Optional[bool] = ...) -> None: ...

class ListRewardsResponse(_message.Message):
    __slots__ = ("rewards",)
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    rewards: _containers.RepeatedCompositeFieldContainer[Reward]
    def __init__(self, rewards: _Optional[_Iterable[_Union[Reward, _Mapping]]] = ...) -> None: ...

class RedeemRewardRequest(_message.Message):
    __slots__ = ("request_id", "member_no", "reward_id", "qty")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    member_no: str
    reward_id: str
    qty: int
    def __init__(self, request_id: _Optional[str] = ..., member_no: _Optional[str] = ..., reward_id: _Optional[str] = ..., qty: _Optional[int] = ...) -> None: ...

class UpdateRewardRequest(_message.Message):
    __slots__ = ("id", "name", "points_cost", "stock_delta")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POINTS_COST_FIELD_NUMBER: _ClassVar[int]
    STOCK_DELTA_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    points_cost: int
    stock_delta: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., points_cost: _Optional[int] = ..., stock_delta: _Optional[int] = ...) -> None: ...

class SetRewardActiveRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class DeleteRewardRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteRewardResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetReferralRuleRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReferralRule(_message.Message):
    __slots__ = ("active", "referrer_points", "referrer_coupon_template_id", "referee_coupon_template_id", "updated_at")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    REFERRER_POINTS_FIELD_NUMBER: _ClassVar[int]
    REFERRER_COUPON_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    REFEREE_COUPON_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    active: bool
    referrer_points: int
    referrer_coupon_template_id: str
    referee_coupon_template_id: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, active: _Optional[bool] = ..., referrer_points: _Optional[int] = ..., referrer_coupon_template_id: _Optional[str] = ..., referee_coupon_template_id: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Redemption(_message.Message):
    __slots__ = ("id", "member_no", "reward_id", "reward_name", "qty", "points", "points_balance", "stock_left", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    REWARD_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_NAME_FIELD_NUMBER: _ClassVar[int]
    QTY_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_BALANCE_FIELD_NUMBER: _ClassVar[int]
    STOCK_LEFT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    member_no: str
    reward_id: str
    reward_name: str
    qty: int
    points: int
    points_balance: int
    stock_left: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., member_no: _Optional[str] = ..., reward_id: _Optional[str] = ..., reward_name: _Optional[str] = ..., qty: _Optional[int] = ..., points: _Optional[int] = ..., points_balance: _Optional[int] = ..., stock_left: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPointsLiabilityRequest(_message.Message):
    __slots__ = ("org_path",)
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    org_path: str
    def __init__(self, org_path: _Optional[str] = ...) -> None: ...

class StorePointsLiability(_message.Message):
    __slots__ = ("store_path", "members", "outstanding", "expiring_30_days", "expiring_90_days")
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_30_DAYS_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_90_DAYS_FIELD_NUMBER: _ClassVar[int]
    store_path: str
    members: int
    outstanding: int
    expiring_30_days: int
    expiring_90_days: int
    def __init__(self, store_path: _Optional[str] = ..., members: _Optional[int] = ..., outstanding: _Optional[int] = ..., expiring_30_days: _Optional[int] = ..., expiring_90_days: _Optional[int] = ...) -> None: ...

class PointsLiability(_message.Message):
    __slots__ = ("org_path", "as_of", "stores")
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    org_path: str
    as_of: str
    stores: _containers.RepeatedCompositeFieldContainer[StorePointsLiability]
    def __init__(self, org_path: _Optional[str] = ..., as_of: _Optional[str] = ..., stores: _Optional[_Iterable[_Union[StorePointsLiability, _Mapping]]] = ...) -> None: ...
