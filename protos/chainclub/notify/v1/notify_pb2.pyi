import datetime

from chainclub.common.v1 import common_pb2 as _common_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Template(_message.Message):
    __slots__ = ("event", "channel", "locale", "subject", "body", "marketing", "variables", "updated_at", "updated_by")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MARKETING_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    event: str
    channel: str
    locale: str
    subject: str
    body: str
    marketing: bool
    variables: _containers.RepeatedScalarFieldContainer[str]
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, event: _Optional[str] = ..., channel: _Optional[str] = ..., locale: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., marketing: _Optional[bool] = ..., variables: _Optional[_Iterable[str]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ("event", "channel", "locale")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    event: str
    channel: str
    locale: str
    def __init__(self, event: _Optional[str] = ..., channel: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[Template]
    def __init__(self, templates: _Optional[_Iterable[_Union[Template, _Mapping]]] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("event", "channel", "locale")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    event: str
    channel: str
    locale: str
    def __init__(self, event: _Optional[str] = ..., channel: _Optional[str] = ..., locale: _Optional[str] = ...) -> None: ...

class PutTemplateRequest(_message.Message):
    __slots__ = ("event", "channel", "locale", "subject", "body")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    event: str
    channel: str
    locale: str
    subject: str
    body: str
    def __init__(self, event: _Optional[str] = ..., channel: _Optional[str] = ..., locale: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class PreviewTemplateRequest(_message.Message):
    __slots__ = ("event", "channel", "locale", "subject", "body", "variables")
    class VariablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    event: str
    channel: str
    locale: str
    subject: str
    body: str
    variables: _containers.ScalarMap[str, str]
    def __init__(self, event: _Optional[str] = ..., channel: _Optional[str] = ..., locale: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., variables: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PreviewTemplateResponse(_message.Message):
    __slots__ = ("subject", "body")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    subject: str
    body: str
    def __init__(self, subject: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("id", "event_id", "event", "channel", "member_no", "recipient", "org_path", "status", "attempts", "last_error", "next_attempt_at", "sent_at", "created_at", "marketing")
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    MARKETING_FIELD_NUMBER: _ClassVar[int]
    id: str
    event_id: str
    event: str
    channel: str
    member_no: str
    recipient: str
    org_path: str
    status: str
    attempts: int
    last_error: str
    next_attempt_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    marketing: bool
    def __init__(self, id: _Optional[str] = ..., event_id: _Optional[str] = ..., event: _Optional[str] = ..., channel: _Optional[str] = ..., member_no: _Optional[str] = ..., recipient: _Optional[str] = ..., org_path: _Optional[str] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., last_error: _Optional[str] = ..., next_attempt_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., marketing: _Optional[bool] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("member_no", "status", "page")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    status: str
    page: _common_pb2.PageRequest
    def __init__(self, member_no: _Optional[str] = ..., status: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "page")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    page: _common_pb2.PageInfo
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class RetryDeliveryRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class FollowUp(_message.Message):
    __slots__ = ("id", "member_no", "store_path", "stage", "due_on", "window_start", "window_end", "status", "outcome", "notes", "completed_by", "completed_at", "visit_id", "checkout_id", "purpose", "batch_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_BY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    BATCH_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    member_no: str
    store_path: str
    stage: str
    due_on: str
    window_start: str
    window_end: str
    status: str
    outcome: str
    notes: str
    completed_by: str
    completed_at: _timestamp_pb2.Timestamp
    visit_id: str
    checkout_id: str
    purpose: str
    batch_key: str
    def __init__(self, id: _Optional[str] = ..., member_no: _Optional[str] = ..., store_path: _Optional[str] = ..., stage: _Optional[str] = ..., due_on: _Optional[str] = ..., window_start: _Optional[str] = ..., window_end: _Optional[str] = ..., status: _Optional[str] = ..., outcome: _Optional[str] = ..., notes: _Optional[str] = ..., completed_by: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., visit_id: _Optional[str] = ..., checkout_id: _Optional[str] = ..., purpose: _Optional[str] = ..., batch_key: _Optional[str] = ...) -> None: ...

class ListFollowUpsRequest(_message.Message):
    __slots__ = ("store_path", "due_before", "status", "page")
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    DUE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    store_path: str
    due_before: str
    status: str
    page: _common_pb2.PageRequest
    def __init__(self, store_path: _Optional[str] = ..., due_before: _Optional[str] = ..., status: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListFollowUpsResponse(_message.Message):
    __slots__ = ("follow_ups", "page")
    FOLLOW_UPS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    follow_ups: _containers.RepeatedCompositeFieldContainer[FollowUp]
    page: _common_pb2.PageInfo
    def __init__(self, follow_ups: _Optional[_Iterable[_Union[FollowUp, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...

class FollowUpTarget(_message.Message):
    __slots__ = ("member_no", "home_store_path")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    HOME_STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    home_store_path: str
    def __init__(self, member_no: _Optional[str] = ..., home_store_path: _Optional[str] = ...) -> None: ...

class CreateFollowUpsRequest(_message.Message):
    __slots__ = ("batch_key", "purpose", "due_on", "targets")
    BATCH_KEY_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    DUE_ON_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    batch_key: str
    purpose: str
    due_on: str
    targets: _containers.RepeatedCompositeFieldContainer[FollowUpTarget]
    def __init__(self, batch_key: _Optional[str] = ..., purpose: _Optional[str] = ..., due_on: _Optional[str] = ..., targets: _Optional[_Iterable[_Union[FollowUpTarget, _Mapping]]] = ...) -> None: ...

class CreateFollowUpsResponse(_message.Message):
    __slots__ = ("created", "existing")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    created: int
    existing: int
    def __init__(self, created: _Optional[int] = ..., existing: _Optional[int] = ...) -> None: ...

class CompleteFollowUpRequest(_message.Message):
    __slots__ = ("id", "outcome", "notes", "channel")
    ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    id: str
    outcome: str
    notes: str
    channel: str
    def __init__(self, id: _Optional[str] = ..., outcome: _Optional[str] = ..., notes: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class Announcement(_message.Message):
    __slots__ = ("id", "member_no", "org_path", "event", "subject", "body", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    member_no: str
    org_path: str
    event: str
    subject: str
    body: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., member_no: _Optional[str] = ..., org_path: _Optional[str] = ..., event: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAnnouncementsRequest(_message.Message):
    __slots__ = ("member_no", "page")
    MEMBER_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    member_no: str
    page: _common_pb2.PageRequest
    def __init__(self, member_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListAnnouncementsResponse(_message.Message):
    __slots__ = ("announcements", "page")
    ANNOUNCEMENTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    announcements: _containers.RepeatedCompositeFieldContainer[Announcement]
    page: _common_pb2.PageInfo
    def __init__(self, announcements: _Optional[_Iterable[_Union[Announcement, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageInfo, _Mapping]] = ...) -> None: ...
