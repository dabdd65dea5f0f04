from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Balance(_message.Message):
    __slots__ = ("principal", "bonus", "total")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    BONUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    principal: int
    bonus: int
    total: int
    def __init__(self, principal: _Optional[int] = ..., bonus: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class PageRequest(_message.Message):
    __slots__ = ("limit", "cursor")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class PageInfo(_message.Message):
    __slots__ = ("next_cursor",)
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    next_cursor: str
    def __init__(self, next_cursor: _Optional[str] = ...) -> None: ...

class GetServiceInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServiceInfo(_message.Message):
    __slots__ = ("service", "version", "schema_revision", "caller_sub", "caller_role", "caller_scope")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_REVISION_FIELD_NUMBER: _ClassVar[int]
    CALLER_SUB_FIELD_NUMBER: _ClassVar[int]
    CALLER_ROLE_FIELD_NUMBER: _ClassVar[int]
    CALLER_SCOPE_FIELD_NUMBER: _ClassVar[int]
    service: str
    version: str
    schema_revision: str
    caller_sub: str
    caller_role: str
    caller_scope: str
    def __init__(self, service: _Optional[str] = ..., version: _Optional[str] = ..., schema_revision: _Optional[str] = ..., caller_sub: _Optional[str] = ..., caller_role: _Optional[str] = ..., caller_scope: _Optional[str] = ...) -> None: ...

class DailySummaryRequest(_message.Message):
    __slots__ = ("date", "org_path")
    DATE_FIELD_NUMBER: _ClassVar[int]
    ORG_PATH_FIELD_NUMBER: _ClassVar[int]
    date: str
    org_path: str
    def __init__(self, date: _Optional[str] = ..., org_path: _Optional[str] = ...) -> None: ...

class StoreFigures(_message.Message):
    __slots__ = ("store_path", "figures")
    class FiguresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STORE_PATH_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    store_path: str
    figures: _containers.ScalarMap[str, int]
    def __init__(self, store_path: _Optional[str] = ..., figures: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DailySummaryResponse(_message.Message):
    __slots__ = ("date", "stores")
    DATE_FIELD_NUMBER: _ClassVar[int]
    STORES_FIELD_NUMBER: _ClassVar[int]
    date: str
    stores: _containers.RepeatedCompositeFieldContainer[StoreFigures]
    def __init__(self, date: _Optional[str] = ..., stores: _Optional[_Iterable[_Union[StoreFigures, _Mapping]]] = ...) -> None: ...
