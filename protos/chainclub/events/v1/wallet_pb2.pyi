import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TopUpCompleted(_message.Message):
    __slots__ = ("transaction_id", "card_no", "account_id", "member_no", "amount", "bonus", "bonus_points", "channel", "acting_store_path", "home_store_path", "at", "request_id")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    BONUS_POINTS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    card_no: str
    account_id: str
    member_no: str
    amount: int
    bonus: int
    bonus_points: int
    channel: str
    acting_store_path: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, transaction_id: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., member_no: _Optional[str] = ..., amount: _Optional[int] = ..., bonus: _Optional[int] = ..., bonus_points: _Optional[int] = ..., channel: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class PaymentCaptured(_message.Message):
    __slots__ = ("transaction_id", "request_id", "card_no", "account_id", "member_no", "amount", "principal", "bonus", "acting_store_path", "home_store_path", "reference", "at", "recorded_by_payer")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_PAYER_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    request_id: str
    card_no: str
    account_id: str
    member_no: str
    amount: int
    principal: int
    bonus: int
    acting_store_path: str
    home_store_path: str
    reference: str
    at: _timestamp_pb2.Timestamp
    recorded_by_payer: bool
    def __init__(self, transaction_id: _Optional[str] = ..., request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., member_no: _Optional[str] = ..., amount: _Optional[int] = ..., principal: _Optional[int] = ..., bonus: _Optional[int] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., reference: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_by_payer: _Optional[bool] = ...) -> None: ...

class PaymentRefunded(_message.Message):
    __slots__ = ("transaction_id", "payment_transaction_id", "payment_request_id", "card_no", "account_id", "member_no", "amount", "principal", "bonus", "acting_store_path", "home_store_path", "at")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    payment_transaction_id: str
    payment_request_id: str
    card_no: str
    account_id: str
    member_no: str
    amount: int
    principal: int
    bonus: int
    acting_store_path: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, transaction_id: _Optional[str] = ..., payment_transaction_id: _Optional[str] = ..., payment_request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., member_no: _Optional[str] = ..., amount: _Optional[int] = ..., principal: _Optional[int] = ..., bonus: _Optional[int] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FeeCharged(_message.Message):
    __slots__ = ("transaction_id", "card_no", "account_id", "member_no", "fee_type", "amount", "payment", "acting_store_path", "home_store_path", "at")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    card_no: str
    account_id: str
    member_no: str
    fee_type: str
    amount: int
    payment: str
    acting_store_path: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, transaction_id: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., member_no: _Optional[str] = ..., fee_type: _Optional[str] = ..., amount: _Optional[int] = ..., payment: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdjustmentApplied(_message.Message):
    __slots__ = ("adjustment_id", "transaction_id", "card_no", "account_id", "member_no", "amount", "bucket", "reason", "requested_by", "approved_by", "home_store_path", "at")
    ADJUSTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    adjustment_id: str
    transaction_id: str
    card_no: str
    account_id: str
    member_no: str
    amount: int
    bucket: str
    reason: str
    requested_by: str
    approved_by: str
    home_store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, adjustment_id: _Optional[str] = ..., transaction_id: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., member_no: _Optional[str] = ..., amount: _Optional[int] = ..., bucket: _Optional[str] = ..., reason: _Optional[str] = ..., requested_by: _Optional[str] = ..., approved_by: _Optional[str] = ..., home_store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AlertRaised(_message.Message):
    __slots__ = ("alert_id", "rule_id", "rule_name", "kind", "action", "card_no", "account_id", "amount", "transaction_kind", "acting_store_path", "home_store_path", "detail", "at", "transaction_ids")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_KIND_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    rule_id: str
    rule_name: str
    kind: str
    action: str
    card_no: str
    account_id: str
    amount: int
    transaction_kind: str
    acting_store_path: str
    home_store_path: str
    detail: str
    at: _timestamp_pb2.Timestamp
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alert_id: _Optional[str] = ..., rule_id: _Optional[str] = ..., rule_name: _Optional[str] = ..., kind: _Optional[str] = ..., action: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[int] = ..., transaction_kind: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., detail: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transaction_ids: _Optional[_Iterable[str]] = ...) -> None: ...
