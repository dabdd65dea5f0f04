import datetime

from chainclub.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Balance(_message.Message):
    __slots__ = ("principal", "bonus", "total", "account_id", "card_no", "card_status", "status")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    principal: int
    bonus: int
    total: int
    account_id: str
    card_no: str
    card_status: str
    status: str
    def __init__(self, principal: _Optional[int] = ..., bonus: _Optional[int] = ..., total: _Optional[int] = ..., account_id: _Optional[str] = ..., card_no: _Optional[str] = ..., card_status: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class Transaction(_message.Message):
    __slots__ = ("transaction_id", "kind", "card_no", "account_id", "amount", "principal", "bonus", "bonus_points", "channel", "acting_store_path", "home_store_path", "request_id", "balance", "created_at", "related_transaction_id", "note", "alerts")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    BONUS_POINTS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    RELATED_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    transaction_id: str
    kind: str
    card_no: str
    account_id: str
    amount: int
    principal: int
    bonus: int
    bonus_points: int
    channel: str
    acting_store_path: str
    home_store_path: str
    request_id: str
    balance: Balance
    created_at: _timestamp_pb2.Timestamp
    related_transaction_id: str
    note: str
    alerts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, transaction_id: _Optional[str] = ..., kind: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[int] = ..., principal: _Optional[int] = ..., bonus: _Optional[int] = ..., bonus_points: _Optional[int] = ..., channel: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., request_id: _Optional[str] = ..., balance: _Optional[_Union[Balance, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., related_transaction_id: _Optional[str] = ..., note: _Optional[str] = ..., alerts: _Optional[_Iterable[str]] = ...) -> None: ...

class TopUpRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "amount", "channel", "acting_store_path")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    amount: int
    channel: str
    acting_store_path: str
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., amount: _Optional[int] = ..., channel: _Optional[str] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class PreviewTopUpRequest(_message.Message):
    __slots__ = ("card_no", "amount", "channel", "acting_store_path")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    amount: int
    channel: str
    acting_store_path: str
    def __init__(self, card_no: _Optional[str] = ..., amount: _Optional[int] = ..., channel: _Optional[str] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class TopUpPreview(_message.Message):
    __slots__ = ("amount", "bonus", "bonus_points", "rule_name", "rule_id")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    BONUS_POINTS_FIELD_NUMBER: _ClassVar[int]
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    amount: int
    bonus: int
    bonus_points: int
    rule_name: str
    rule_id: str
    def __init__(self, amount: _Optional[int] = ..., bonus: _Optional[int] = ..., bonus_points: _Optional[int] = ..., rule_name: _Optional[str] = ..., rule_id: _Optional[str] = ...) -> None: ...

class CapturePaymentRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "amount", "acting_store_path", "reference", "recorded_by_payer")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RECORDED_BY_PAYER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    amount: int
    acting_store_path: str
    reference: str
    recorded_by_payer: bool
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., amount: _Optional[int] = ..., acting_store_path: _Optional[str] = ..., reference: _Optional[str] = ..., recorded_by_payer: _Optional[bool] = ...) -> None: ...

class RefundPaymentRequest(_message.Message):
    __slots__ = ("request_id", "payment_request_id", "amount", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    payment_request_id: str
    amount: int
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., payment_request_id: _Optional[str] = ..., amount: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class GetPaymentRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("found", "transaction", "refunded")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    found: bool
    transaction: Transaction
    refunded: int
    def __init__(self, found: _Optional[bool] = ..., transaction: _Optional[_Union[Transaction, _Mapping]] = ..., refunded: _Optional[int] = ...) -> None: ...

class ChargeFeeRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "fee_type", "amount", "payment", "acting_store_path")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    fee_type: str
    amount: int
    payment: str
    acting_store_path: str
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., fee_type: _Optional[str] = ..., amount: _Optional[int] = ..., payment: _Optional[str] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class CloseAccountRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "fee", "acting_store_path")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    fee: int
    acting_store_path: str
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., fee: _Optional[int] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ("card_no", "account_id")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    account_id: str
    def __init__(self, card_no: _Optional[str] = ..., account_id: _Optional[str] = ...) -> None: ...

class ListTransactionsRequest(_message.Message):
    __slots__ = ("card_no", "page")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    page: _common_pb2.PageRequest
    def __init__(self, card_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListTransactionsResponse(_message.Message):
    __slots__ = ("transactions", "page")
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    transactions: _containers.RepeatedCompositeFieldContainer[Transaction]
    page: _common_pb2.PageInfo
    def __init__(self, transactions: _Optional[_Iterable[_Union[Transaction, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class Adjustment(_message.Message):
    __slots__ = ("id", "card_no", "amount", "bucket", "reason", "status", "requested_by", "approved_by", "transaction_id", "created_at", "rejected_by", "rejection_reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_BY_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    card_no: str
    amount: int
    bucket: str
    reason: str
    status: str
    requested_by: str
    approved_by: str
    transaction_id: str
    created_at: _timestamp_pb2.Timestamp
    rejected_by: str
    rejection_reason: str
    def __init__(self, id: _Optional[str] = ..., card_no: _Optional[str] = ..., amount: _Optional[int] = ..., bucket: _Optional[str] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., requested_by: _Optional[str] = ..., approved_by: _Optional[str] = ..., transaction_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rejected_by: _Optional[str] = ..., rejection_reason: _Optional[str] = ...) -> None: ...

class RequestAdjustmentRequest(_message.Message):
    __slots__ = ("request_id", "card_no", "amount", "bucket", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    card_no: str
    amount: int
    bucket: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., card_no: _Optional[str] = ..., amount: _Optional[int] = ..., bucket: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ApproveAdjustmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RejectAdjustmentRequest(_message.Message):
    __slots__ = ("adjustment_id", "reason")
    ADJUSTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    adjustment_id: str
    reason: str
    def __init__(self, adjustment_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListAdjustmentsRequest(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class ListAdjustmentsResponse(_message.Message):
    __slots__ = ("adjustments",)
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    adjustments: _containers.RepeatedCompositeFieldContainer[Adjustment]
    def __init__(self, adjustments: _Optional[_Iterable[_Union[Adjustment, _Mapping]]] = ...) -> None: ...

class BonusRule(_message.Message):
    __slots__ = ("id", "name", "min_amount", "bonus_amount", "bonus_points", "scope", "starts_at", "ends_at", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BONUS_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BONUS_POINTS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    min_amount: int
    bonus_amount: int
    bonus_points: int
    scope: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    active: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., min_amount: _Optional[int] = ..., bonus_amount: _Optional[int] = ..., bonus_points: _Optional[int] = ..., scope: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., active: _Optional[bool] = ...) -> None: ...

class ListBonusRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetBonusRuleActiveRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class DeleteBonusRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteBonusRuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBonusRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[BonusRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[BonusRule, _Mapping]]] = ...) -> None: ...

class TopUpPolicy(_message.Message):
    __slots__ = ("store_paths", "operators")
    STORE_PATHS_FIELD_NUMBER: _ClassVar[int]
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    store_paths: _containers.RepeatedScalarFieldContainer[str]
    operators: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, store_paths: _Optional[_Iterable[str]] = ..., operators: _Optional[_Iterable[str]] = ...) -> None: ...

class GetTopUpPolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RiskRule(_message.Message):
    __slots__ = ("id", "name", "kind", "threshold", "window_seconds", "action", "applies_to", "start_minute", "end_minute", "active", "scope")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    APPLIES_TO_FIELD_NUMBER: _ClassVar[int]
    START_MINUTE_FIELD_NUMBER: _ClassVar[int]
    END_MINUTE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    kind: str
    threshold: int
    window_seconds: int
    action: str
    applies_to: str
    start_minute: int
    end_minute: int
    active: bool
    scope: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., threshold: _Optional[int] = ..., window_seconds: _Optional[int] = ..., action: _Optional[str] = ..., applies_to: _Optional[str] = ..., start_minute: _Optional[int] = ..., end_minute: _Optional[int] = ..., active: _Optional[bool] = ..., scope: _Optional[str] = ...) -> None: ...

class SetRiskRuleActiveRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class DeleteRiskRuleRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteRiskRuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRiskRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRiskRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[RiskRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[RiskRule, _Mapping]]] = ...) -> None: ...

class Alert(_message.Message):
    __slots__ = ("id", "rule_id", "rule_name", "kind", "action", "card_no", "account_id", "amount", "transaction_kind", "acting_store_path", "home_store_path", "detail", "status", "acknowledged_by", "created_at", "transaction_ids", "acknowledgement_note", "acknowledged_at")
    ID_FIELD_NUMBER: _ClassVar[int]
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
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGEMENT_NOTE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
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
    status: str
    acknowledged_by: str
    created_at: _timestamp_pb2.Timestamp
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    acknowledgement_note: str
    acknowledged_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., rule_id: _Optional[str] = ..., rule_name: _Optional[str] = ..., kind: _Optional[str] = ..., action: _Optional[str] = ..., card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., amount: _Optional[int] = ..., transaction_kind: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., home_store_path: _Optional[str] = ..., detail: _Optional[str] = ..., status: _Optional[str] = ..., acknowledged_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transaction_ids: _Optional[_Iterable[str]] = ..., acknowledgement_note: _Optional[str] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ("status", "page")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    status: str
    page: _common_pb2.PageRequest
    def __init__(self, status: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts", "page")
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    page: _common_pb2.PageInfo
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class AcknowledgeAlertRequest(_message.Message):
    __slots__ = ("id", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    note: str
    def __init__(self, id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class BatchRow(_message.Message):
    __slots__ = ("card_no", "amount")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    amount: int
    def __init__(self, card_no: _Optional[str] = ..., amount: _Optional[int] = ...) -> None: ...

class StartBatchTopUpRequest(_message.Message):
    __slots__ = ("request_id", "rows", "acting_store_path")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    rows: _containers.RepeatedCompositeFieldContainer[BatchRow]
    acting_store_path: str
    def __init__(self, request_id: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[BatchRow, _Mapping]]] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class BatchRowResult(_message.Message):
    __slots__ = ("row", "card_no", "amount", "status", "transaction_id", "error_code", "message")
    ROW_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    row: int
    card_no: str
    amount: int
    status: str
    transaction_id: str
    error_code: str
    message: str
    def __init__(self, row: _Optional[int] = ..., card_no: _Optional[str] = ..., amount: _Optional[int] = ..., status: _Optional[str] = ..., transaction_id: _Optional[str] = ..., error_code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class BatchJob(_message.Message):
    __slots__ = ("job_id", "status", "total", "done", "failed", "rows")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    total: int
    done: int
    failed: int
    rows: _containers.RepeatedCompositeFieldContainer[BatchRowResult]
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., total: _Optional[int] = ..., done: _Optional[int] = ..., failed: _Optional[int] = ..., rows: _Optional[_Iterable[_Union[BatchRowResult, _Mapping]]] = ...) -> None: ...

class GetBatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class SettlementRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class StoreSettlement(_message.Message):
    __slots__ = ("store_path", "taken_in", "spent", "net")
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    TAKEN_IN_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    store_path: str
    taken_in: int
    spent: int
    net: int
    def __init__(self, store_path: _Optional[str] = ..., taken_in: _Optional[int] = ..., spent: _Optional[int] = ..., net: _Optional[int] = ...) -> None: ...

class SettlementResponse(_message.Message):
    __slots__ = ("stores",)
    STORES_FIELD_NUMBER: _ClassVar[int]
    stores: _containers.RepeatedCompositeFieldContainer[StoreSettlement]
    def __init__(self, stores: _Optional[_Iterable[_Union[StoreSettlement, _Mapping]]] = ...) -> None: ...

class TopUpReportRequest(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class TopUpFigures(_message.Message):
    __slots__ = ("key", "count", "principal", "bonus")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    principal: int
    bonus: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ..., principal: _Optional[int] = ..., bonus: _Optional[int] = ...) -> None: ...

class TopUpReportResponse(_message.Message):
    __slots__ = ("stores", "days")
    STORES_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    stores: _containers.RepeatedCompositeFieldContainer[TopUpFigures]
    days: _containers.RepeatedCompositeFieldContainer[TopUpFigures]
    def __init__(self, stores: _Optional[_Iterable[_Union[TopUpFigures, _Mapping]]] = ..., days: _Optional[_Iterable[_Union[TopUpFigures, _Mapping]]] = ...) -> None: ...

class GetLiabilityRequest(_message.Message):
    __slots__ = ("org_path",)
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    org_path: str
    def __init__(self, org_path: _Optional[str] = ...) -> None: ...

class Liability(_message.Message):
    __slots__ = ("org_path", "principal", "bonus", "total", "accounts")
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    org_path: str
    principal: int
    bonus: int
    total: int
    accounts: int
    def __init__(self, org_path: _Optional[str] = ..., principal: _Optional[int] = ..., bonus: _Optional[int] = ..., total: _Optional[int] = ..., accounts: _Optional[int] = ...) -> None: ...

class CardState(_message.Message):
    __slots__ = ("card_no", "account_id", "member_no", "status", "home_store_path", "card_type", "card_type_home_scope", "version", "terms")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_HOME_SCOPE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    account_id: str
    member_no: str
    status: str
    home_store_path: str
    card_type: str
    card_type_home_scope: str
    version: int
    terms: CardTerms
    def __init__(self, card_no: _Optional[str] = ..., account_id: _Optional[str] = ..., member_no: _Optional[str] = ..., status: _Optional[str] = ..., home_store_path: _Optional[str] = ..., card_type: _Optional[str] = ..., card_type_home_scope: _Optional[str] = ..., version: _Optional[int] = ..., terms: _Optional[_Union[CardTerms, _Mapping]] = ...) -> None: ...

class CardTerms(_message.Message):
    __slots__ = ("max_balance", "max_single_top_up", "joining_fee", "annual_fee", "replacement_fee")
    MAX_BALANCE_FIELD_NUMBER: _ClassVar[int]
    MAX_SINGLE_TOP_UP_FIELD_NUMBER: _ClassVar[int]
    JOINING_FEE_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_FEE_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENT_FEE_FIELD_NUMBER: _ClassVar[int]
    max_balance: int
    max_single_top_up: int
    joining_fee: int
    annual_fee: int
    replacement_fee: int
    def __init__(self, max_balance: _Optional[int] = ..., max_single_top_up: _Optional[int] = ..., joining_fee: _Optional[int] = ..., annual_fee: _Optional[int] = ..., replacement_fee: _Optional[int] = ...) -> None: ...

class SetCardStatusRequest(_message.Message):
    __slots__ = ("cards",)
    CARDS_FIELD_NUMBER: _ClassVar[int]
    cards: _containers.RepeatedCompositeFieldContainer[CardState]
    def __init__(self, cards: _Optional[_Iterable[_Union[CardState, _Mapping]]] = ...) -> None: ...

class SetCardStatusResponse(_message.Message):
    __slots__ = ("applied",)
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    applied: int
    def __init__(self, applied: _Optional[int] = ...) -> None: ...
