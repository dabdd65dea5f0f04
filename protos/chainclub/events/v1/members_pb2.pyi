import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MemberRegistered(_message.Message):
    __slots__ = ("member_no", "home_store_path", "source", "referrer_member_no", "joined_at", "card_no", "card_type", "birthday")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REFERRER_MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    home_store_path: str
    source: str
    referrer_member_no: str
    joined_at: _timestamp_pb2.Timestamp
    card_no: str
    card_type: str
    birthday: str
    def __init__(self, member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ..., source: _Optional[str] = ..., referrer_member_no: _Optional[str] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., card_no: _Optional[str] = ..., card_type: _Optional[str] = ..., birthday: _Optional[str] = ...) -> None: ...

class MemberUpdated(_message.Message):
    __slots__ = ("member_no", "home_store_path", "changed_fields")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    home_store_path: str
    changed_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ..., changed_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class MemberAnonymized(_message.Message):
    __slots__ = ("member_no", "home_store_path")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    home_store_path: str
    def __init__(self, member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ...) -> None: ...

class CardIssued(_message.Message):
    __slots__ = ("card_no", "member_no", "card_type", "home_store_path", "account_id", "joining_fee", "holder_member_nos", "card_type_home_scope", "version", "terms")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    JOINING_FEE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_HOME_SCOPE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    member_no: str
    card_type: str
    home_store_path: str
    account_id: str
    joining_fee: int
    holder_member_nos: _containers.RepeatedScalarFieldContainer[str]
    card_type_home_scope: str
    version: int
    terms: CardTypeTerms
    def __init__(self, card_no: _Optional[str] = ..., member_no: _Optional[str] = ..., card_type: _Optional[str] = ..., home_store_path: _Optional[str] = ..., account_id: _Optional[str] = ..., joining_fee: _Optional[int] = ..., holder_member_nos: _Optional[_Iterable[str]] = ..., card_type_home_scope: _Optional[str] = ..., version: _Optional[int] = ..., terms: _Optional[_Union[CardTypeTerms, _Mapping]] = ...) -> None: ...

class CardStatusChanged(_message.Message):
    __slots__ = ("card_no", "member_no", "from_status", "to_status", "home_store_path", "acting_store_path", "actor", "reason", "version", "account_id", "card_type", "card_type_home_scope")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_HOME_SCOPE_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    member_no: str
    from_status: str
    to_status: str
    home_store_path: str
    acting_store_path: str
    actor: str
    reason: str
    version: int
    account_id: str
    card_type: str
    card_type_home_scope: str
    def __init__(self, card_no: _Optional[str] = ..., member_no: _Optional[str] = ..., from_status: _Optional[str] = ..., to_status: _Optional[str] = ..., home_store_path: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., version: _Optional[int] = ..., account_id: _Optional[str] = ..., card_type: _Optional[str] = ..., card_type_home_scope: _Optional[str] = ...) -> None: ...

class CardReplaced(_message.Message):
    __slots__ = ("old_card_no", "new_card_no", "member_no", "home_store_path", "account_id", "replacement_fee", "fee_payment", "acting_store_path", "actor", "card_type", "card_type_home_scope", "new_card_version", "terms")
    OLD_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    NEW_CARD_NO_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENT_FEE_FIELD_NUMBER: _ClassVar[int]
    FEE_PAYMENT_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_HOME_SCOPE_FIELD_NUMBER: _ClassVar[int]
    NEW_CARD_VERSION_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    old_card_no: str
    new_card_no: str
    member_no: str
    home_store_path: str
    account_id: str
    replacement_fee: int
    fee_payment: str
    acting_store_path: str
    actor: str
    card_type: str
    card_type_home_scope: str
    new_card_version: int
    terms: CardTypeTerms
    def __init__(self, old_card_no: _Optional[str] = ..., new_card_no: _Optional[str] = ..., member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ..., account_id: _Optional[str] = ..., replacement_fee: _Optional[int] = ..., fee_payment: _Optional[str] = ..., acting_store_path: _Optional[str] = ..., actor: _Optional[str] = ..., card_type: _Optional[str] = ..., card_type_home_scope: _Optional[str] = ..., new_card_version: _Optional[int] = ..., terms: _Optional[_Union[CardTypeTerms, _Mapping]] = ...) -> None: ...

class CardTypeTerms(_message.Message):
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
