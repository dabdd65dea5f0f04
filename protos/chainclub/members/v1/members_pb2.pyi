import datetime

from chainclub.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Consents(_message.Message):
    __slots__ = ("sms", "email", "wechat")
    SMS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    WECHAT_FIELD_NUMBER: _ClassVar[int]
    sms: bool
    email: bool
    wechat: bool
    def __init__(self, sms: _Optional[bool] = ..., email: _Optional[bool] = ..., wechat: _Optional[bool] = ...) -> None: ...

class CardSummary(_message.Message):
    __slots__ = ("card_no", "card_type", "status", "account_id", "primary")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    card_type: str
    status: str
    account_id: str
    primary: bool
    def __init__(self, card_no: _Optional[str] = ..., card_type: _Optional[str] = ..., status: _Optional[str] = ..., account_id: _Optional[str] = ..., primary: _Optional[bool] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("member_no", "name", "gender", "birthday", "phone", "email", "id_number", "address", "income_band", "occupation", "preferences", "home_store", "home_store_path", "source", "referrer_member_no", "joined_on", "consents", "tags", "custom_fields_json", "tier", "status", "pii_masked", "cards", "created_at", "updated_at")
    class PreferencesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    INCOME_BAND_FIELD_NUMBER: _ClassVar[int]
    OCCUPATION_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REFERRER_MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    JOINED_ON_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_JSON_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PII_MASKED_FIELD_NUMBER: _ClassVar[int]
    CARDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    name: str
    gender: str
    birthday: str
    phone: str
    email: str
    id_number: str
    address: str
    income_band: str
    occupation: str
    preferences: _containers.ScalarMap[str, str]
    home_store: str
    home_store_path: str
    source: str
    referrer_member_no: str
    joined_on: str
    consents: Consents
    tags: _containers.RepeatedScalarFieldContainer[str]
    custom_fields_json: str
    tier: str
    status: str
    pii_masked: bool
    cards: _containers.RepeatedCompositeFieldContainer[CardSummary]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, member_no: _Optional[str] = ..., name: _Optional[str] = ..., gender: _Optional[str] = ..., birthday: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ..., id_number: _Optional[str] = ..., address: _Optional[str] = ..., income_band: _Optional[str] = ..., occupation: _Optional[str] = ..., preferences: _Optional[_Mapping[str, str]] = ..., home_store: _Optional[str] = ..., home_store_path: _Optional[str] = ..., source: _Optional[str] = ..., referrer_member_no: _Optional[str] = ..., joined_on: _Optional[str] = ..., consents: _Optional[_Union[Consents, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., custom_fields_json: _Optional[str] = ..., tier: _Optional[str] = ..., status: _Optional[str] = ..., pii_masked: _Optional[bool] = ..., cards: _Optional[_Iterable[_Union[CardSummary, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterMemberRequest(_message.Message):
    __slots__ = ("name", "phone", "gender", "birthday", "email", "id_number", "address", "income_band", "occupation", "preferences", "home_store_path", "source", "referrer_member_no", "card_type", "tags", "custom_fields_json", "consents", "has_consents")
    class PreferencesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    GENDER_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    INCOME_BAND_FIELD_NUMBER: _ClassVar[int]
    OCCUPATION_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REFERRER_MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELDS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    HAS_CONSENTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    phone: str
    gender: str
    birthday: str
    email: str
    id_number: str
    address: str
    income_band: str
    occupation: str
    preferences: _containers.ScalarMap[str, str]
    home_store_path: str
    source: str
    referrer_member_no: str
    card_type: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    custom_fields_json: str
    consents: Consents
    has_consents: bool
    def __init__(self, name: _Optional[str] = ..., phone: _Optional[str] = ..., gender: _Optional[str] = ..., birthday: _Optional[str] = ..., email: _Optional[str] = ..., id_number: _Optional[str] = ..., address: _Optional[str] = ..., income_band: _Optional[str] = ..., occupation: _Optional[str] = ..., preferences: _Optional[_Mapping[str, str]] = ..., home_store_path: _Optional[str] = ..., source: _Optional[str] = ..., referrer_member_no: _Optional[str] = ..., card_type: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., custom_fields_json: _Optional[str] = ..., consents: _Optional[_Union[Consents, _Mapping]] = ..., has_consents: _Optional[bool] = ...) -> None: ...

class GetMemberRequest(_message.Message):
    __slots__ = ("member_no",)
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    def __init__(self, member_no: _Optional[str] = ...) -> None: ...

class SearchMembersRequest(_message.Message):
    __slots__ = ("phone", "q", "tag", "tier", "store_path", "birthday_month", "member_nos", "page")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    BIRTHDAY_MONTH_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    phone: str
    q: str
    tag: str
    tier: str
    store_path: str
    birthday_month: int
    member_nos: _containers.RepeatedScalarFieldContainer[str]
    page: _common_pb2.PageRequest
    def __init__(self, phone: _Optional[str] = ..., q: _Optional[str] = ..., tag: _Optional[str] = ..., tier: _Optional[str] = ..., store_path: _Optional[str] = ..., birthday_month: _Optional[int] = ..., member_nos: _Optional[_Iterable[str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class SearchMembersResponse(_message.Message):
    __slots__ = ("members", "page")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    page: _common_pb2.PageInfo
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class UpdateMemberRequest(_message.Message):
    __slots__ = ("member_no", "values", "update_mask")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    values: RegisterMemberRequest
    update_mask: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_no: _Optional[str] = ..., values: _Optional[_Union[RegisterMemberRequest, _Mapping]] = ..., update_mask: _Optional[_Iterable[str]] = ...) -> None: ...

class AnonymizeMemberRequest(_message.Message):
    __slots__ = ("member_no", "reason")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    reason: str
    def __init__(self, member_no: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class IdentifyMemberRequest(_message.Message):
    __slots__ = ("card_no", "phone")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    phone: str
    def __init__(self, card_no: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class IdentifyMemberResponse(_message.Message):
    __slots__ = ("member_no", "display_name", "tier", "card_no", "card_status", "card_type", "account_id", "home_store_path", "phone_masked")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_STATUS_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    PHONE_MASKED_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    display_name: str
    tier: str
    card_no: str
    card_status: str
    card_type: str
    account_id: str
    home_store_path: str
    phone_masked: str
    def __init__(self, member_no: _Optional[str] = ..., display_name: _Optional[str] = ..., tier: _Optional[str] = ..., card_no: _Optional[str] = ..., card_status: _Optional[str] = ..., card_type: _Optional[str] = ..., account_id: _Optional[str] = ..., home_store_path: _Optional[str] = ..., phone_masked: _Optional[str] = ...) -> None: ...

class CardHolder(_message.Message):
    __slots__ = ("member_no", "role")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    role: str
    def __init__(self, member_no: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class Card(_message.Message):
    __slots__ = ("card_no", "card_type", "status", "member_no", "holders", "account_id", "home_store_path", "issued_on", "expires_on", "replaced_by", "replaces", "discount_bps", "member_home_store_path", "card_type_home_scope", "max_balance", "max_single_top_up", "joining_fee", "annual_fee", "replacement_fee", "version")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOLDERS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ISSUED_ON_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_ON_FIELD_NUMBER: _ClassVar[int]
    REPLACED_BY_FIELD_NUMBER: _ClassVar[int]
    REPLACES_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_HOME_SCOPE_FIELD_NUMBER: _ClassVar[int]
    MAX_BALANCE_FIELD_NUMBER: _ClassVar[int]
    MAX_SINGLE_TOP_UP_FIELD_NUMBER: _ClassVar[int]
    JOINING_FEE_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_FEE_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENT_FEE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    card_type: str
    status: str
    member_no: str
    holders: _containers.RepeatedCompositeFieldContainer[CardHolder]
    account_id: str
    home_store_path: str
    issued_on: str
    expires_on: str
    replaced_by: str
    replaces: str
    discount_bps: int
    member_home_store_path: str
    card_type_home_scope: str
    max_balance: int
    max_single_top_up: int
    joining_fee: int
    annual_fee: int
    replacement_fee: int
    version: int
    def __init__(self, card_no: _Optional[str] = ..., card_type: _Optional[str] = ..., status: _Optional[str] = ..., member_no: _Optional[str] = ..., holders: _Optional[_Iterable[_Union[CardHolder, _Mapping]]] = ..., account_id: _Optional[str] = ..., home_store_path: _Optional[str] = ..., issued_on: _Optional[str] = ..., expires_on: _Optional[str] = ..., replaced_by: _Optional[str] = ..., replaces: _Optional[str] = ..., discount_bps: _Optional[int] = ..., member_home_store_path: _Optional[str] = ..., card_type_home_scope: _Optional[str] = ..., max_balance: _Optional[int] = ..., max_single_top_up: _Optional[int] = ..., joining_fee: _Optional[int] = ..., annual_fee: _Optional[int] = ..., replacement_fee: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class GetCardRequest(_message.Message):
    __slots__ = ("card_no",)
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    def __init__(self, card_no: _Optional[str] = ...) -> None: ...

class IssueCardRequest(_message.Message):
    __slots__ = ("member_no", "card_type", "holder_member_nos")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_MEMBER_NOS_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    card_type: str
    holder_member_nos: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, member_no: _Optional[str] = ..., card_type: _Optional[str] = ..., holder_member_nos: _Optional[_Iterable[str]] = ...) -> None: ...

class ChangeCardStatusRequest(_message.Message):
    __slots__ = ("card_no", "action", "reason", "acting_store_path")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    action: str
    reason: str
    acting_store_path: str
    def __init__(self, card_no: _Optional[str] = ..., action: _Optional[str] = ..., reason: _Optional[str] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class ReplaceCardRequest(_message.Message):
    __slots__ = ("card_no", "fee_payment", "acting_store_path")
    CARD_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_PAYMENT_FIELD_NUMBER: _ClassVar[int]
    ACTING_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    card_no: str
    fee_payment: str
    acting_store_path: str
    def __init__(self, card_no: _Optional[str] = ..., fee_payment: _Optional[str] = ..., acting_store_path: _Optional[str] = ...) -> None: ...

class CardType(_message.Message):
    __slots__ = ("code", "name", "kind", "joining_fee", "annual_fee", "replacement_fee", "validity_months", "max_holders", "discount_bps", "home_scope", "is_default", "active", "max_balance", "max_single_top_up")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    JOINING_FEE_FIELD_NUMBER: _ClassVar[int]
    ANNUAL_FEE_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENT_FEE_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_MONTHS_FIELD_NUMBER: _ClassVar[int]
    MAX_HOLDERS_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    HOME_SCOPE_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    MAX_BALANCE_FIELD_NUMBER: _ClassVar[int]
    MAX_SINGLE_TOP_UP_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    kind: str
    joining_fee: int
    annual_fee: int
    replacement_fee: int
    validity_months: int
    max_holders: int
    discount_bps: int
    home_scope: str
    is_default: bool
    active: bool
    max_balance: int
    max_single_top_up: int
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., joining_fee: _Optional[int] = ..., annual_fee: _Optional[int] = ..., replacement_fee: _Optional[int] = ..., validity_months: _Optional[int] = ..., max_holders: _Optional[int] = ..., discount_bps: _Optional[int] = ..., home_scope: _Optional[str] = ..., is_default: _Optional[bool] = ..., active: _Optional[bool] = ..., max_balance: _Optional[int] = ..., max_single_top_up: _Optional[int] = ...) -> None: ...

class ListCardTypesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCardTypesResponse(_message.Message):
    __slots__ = ("card_types",)
    CARD_TYPES_FIELD_NUMBER: _ClassVar[int]
    card_types: _containers.RepeatedCompositeFieldContainer[CardType]
    def __init__(self, card_types: _Optional[_Iterable[_Union[CardType, _Mapping]]] = ...) -> None: ...

class FieldDefinition(_message.Message):
    __slots__ = ("key", "label", "type", "required", "choices", "active")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    type: str
    required: bool
    choices: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[str] = ..., required: _Optional[bool] = ..., choices: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ...) -> None: ...

class ListFieldDefinitionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFieldDefinitionsResponse(_message.Message):
    __slots__ = ("fields",)
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    fields: _containers.RepeatedCompositeFieldContainer[FieldDefinition]
    def __init__(self, fields: _Optional[_Iterable[_Union[FieldDefinition, _Mapping]]] = ...) -> None: ...

class Visit(_message.Message):
    __slots__ = ("id", "member_no", "channel", "outcome", "notes", "staff", "store_path", "at")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    STAFF_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    member_no: str
    channel: str
    outcome: str
    notes: str
    staff: str
    store_path: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., member_no: _Optional[str] = ..., channel: _Optional[str] = ..., outcome: _Optional[str] = ..., notes: _Optional[str] = ..., staff: _Optional[str] = ..., store_path: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AddVisitRequest(_message.Message):
    __slots__ = ("member_no", "channel", "outcome", "notes", "store_path", "on_behalf_of")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    channel: str
    outcome: str
    notes: str
    store_path: str
    on_behalf_of: str
    def __init__(self, member_no: _Optional[str] = ..., channel: _Optional[str] = ..., outcome: _Optional[str] = ..., notes: _Optional[str] = ..., store_path: _Optional[str] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class ListVisitsRequest(_message.Message):
    __slots__ = ("member_no", "page")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    page: _common_pb2.PageRequest
    def __init__(self, member_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListVisitsResponse(_message.Message):
    __slots__ = ("visits", "page")
    VISITS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    visits: _containers.RepeatedCompositeFieldContainer[Visit]
    page: _common_pb2.PageInfo
    def __init__(self, visits: _Optional[_Iterable[_Union[Visit, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class Feedback(_message.Message):
    __slots__ = ("id", "member_no", "kind", "content", "status", "resolution", "created_by", "handled_by", "created_at", "handled_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    HANDLED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    HANDLED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    member_no: str
    kind: str
    content: str
    status: str
    resolution: str
    created_by: str
    handled_by: str
    created_at: _timestamp_pb2.Timestamp
    handled_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., member_no: _Optional[str] = ..., kind: _Optional[str] = ..., content: _Optional[str] = ..., status: _Optional[str] = ..., resolution: _Optional[str] = ..., created_by: _Optional[str] = ..., handled_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., handled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AddFeedbackRequest(_message.Message):
    __slots__ = ("member_no", "kind", "content")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    kind: str
    content: str
    def __init__(self, member_no: _Optional[str] = ..., kind: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ListFeedbackRequest(_message.Message):
    __slots__ = ("member_no", "page")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    page: _common_pb2.PageRequest
    def __init__(self, member_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListFeedbackResponse(_message.Message):
    __slots__ = ("feedback", "page")
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    feedback: _containers.RepeatedCompositeFieldContainer[Feedback]
    page: _common_pb2.PageInfo
    def __init__(self, feedback: _Optional[_Iterable[_Union[Feedback, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class HandleFeedbackRequest(_message.Message):
    __slots__ = ("member_no", "id", "resolution")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    id: str
    resolution: str
    def __init__(self, member_no: _Optional[str] = ..., id: _Optional[str] = ..., resolution: _Optional[str] = ...) -> None: ...

class ImportHeader(_message.Message):
    __slots__ = ("file_name", "format", "stores", "default_home_store_path")
    class StoresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    format: str
    stores: _containers.ScalarMap[str, str]
    default_home_store_path: str
    def __init__(self, file_name: _Optional[str] = ..., format: _Optional[str] = ..., stores: _Optional[_Mapping[str, str]] = ..., default_home_store_path: _Optional[str] = ...) -> None: ...

class ImportChunk(_message.Message):
    __slots__ = ("header", "data")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    header: ImportHeader
    data: bytes
    def __init__(self, header: _Optional[_Union[ImportHeader, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class ImportRowError(_message.Message):
    __slots__ = ("row", "field", "message", "code")
    ROW_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    row: int
    field: str
    message: str
    code: str
    def __init__(self, row: _Optional[int] = ..., field: _Optional[str] = ..., message: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ImportJob(_message.Message):
    __slots__ = ("job_id", "status", "total", "created", "updated", "unchanged", "failed", "errors", "file_name", "message")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    status: str
    total: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    file_name: str
    message: str
    def __init__(self, job_id: _Optional[str] = ..., status: _Optional[str] = ..., total: _Optional[int] = ..., created: _Optional[int] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., failed: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ..., file_name: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class GetImportJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListMemberDatesRequest(_message.Message):
    __slots__ = ("kind", "date", "page")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    date: str
    page: _common_pb2.PageRequest
    def __init__(self, kind: _Optional[str] = ..., date: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class MemberDate(_message.Message):
    __slots__ = ("member_no", "home_store_path", "years")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    YEARS_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    home_store_path: str
    years: int
    def __init__(self, member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ..., years: _Optional[int] = ...) -> None: ...

class ListMemberDatesResponse(_message.Message):
    __slots__ = ("members", "page")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[MemberDate]
    page: _common_pb2.PageInfo
    def __init__(self, members: _Optional[_Iterable[_Union[MemberDate, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...
