import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PurchaseRecorded(_message.Message):
    __slots__ = ("checkout_id", "member_no", "card_no", "store_path", "subtotal", "total_due", "discount_total", "points_used", "points_earned", "first_purchase_at_store", "at", "home_store_path")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DUE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    POINTS_USED_FIELD_NUMBER: _ClassVar[int]
    POINTS_EARNED_FIELD_NUMBER: _ClassVar[int]
    FIRST_PURCHASE_AT_STORE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    member_no: str
    card_no: str
    store_path: str
    subtotal: int
    total_due: int
    discount_total: int
    points_used: int
    points_earned: int
    first_purchase_at_store: bool
    at: _timestamp_pb2.Timestamp
    home_store_path: str
    def __init__(self, checkout_id: _Optional[str] = ..., member_no: _Optional[str] = ..., card_no: _Optional[str] = ..., store_path: _Optional[str] = ..., subtotal: _Optional[int] = ..., total_due: _Optional[int] = ..., discount_total: _Optional[int] = ..., points_used: _Optional[int] = ..., points_earned: _Optional[int] = ..., first_purchase_at_store: _Optional[bool] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., home_store_path: _Optional[str] = ...) -> None: ...

class PurchaseRefunded(_message.Message):
    __slots__ = ("checkout_id", "request_id", "member_no", "store_path", "amount", "points_restored", "points_clawed_back", "at")
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POINTS_RESTORED_FIELD_NUMBER: _ClassVar[int]
    POINTS_CLAWED_BACK_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    checkout_id: str
    request_id: str
    member_no: str
    store_path: str
    amount: int
    points_restored: int
    points_clawed_back: int
    at: _timestamp_pb2.Timestamp
    def __init__(self, checkout_id: _Optional[str] = ..., request_id: _Optional[str] = ..., member_no: _Optional[str] = ..., store_path: _Optional[str] = ..., amount: _Optional[int] = ..., points_restored: _Optional[int] = ..., points_clawed_back: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PointsChanged(_message.Message):
    __slots__ = ("member_no", "kind", "points", "balance", "reference", "rules", "expires_on", "home_store_path", "at")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_ON_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    kind: str
    points: int
    balance: int
    reference: str
    rules: _containers.RepeatedScalarFieldContainer[str]
    expires_on: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, member_no: _Optional[str] = ..., kind: _Optional[str] = ..., points: _Optional[int] = ..., balance: _Optional[int] = ..., reference: _Optional[str] = ..., rules: _Optional[_Iterable[str]] = ..., expires_on: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TierChanged(_message.Message):
    __slots__ = ("member_no", "from_tier", "to_tier", "home_store_path", "at")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    FROM_TIER_FIELD_NUMBER: _ClassVar[int]
    TO_TIER_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    from_tier: str
    to_tier: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, member_no: _Optional[str] = ..., from_tier: _Optional[str] = ..., to_tier: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CouponChanged(_message.Message):
    __slots__ = ("member_no", "code", "template_id", "name", "kind", "valid_until", "home_store_path", "at")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    code: str
    template_id: str
    name: str
    kind: str
    valid_until: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, member_no: _Optional[str] = ..., code: _Optional[str] = ..., template_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., valid_until: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
