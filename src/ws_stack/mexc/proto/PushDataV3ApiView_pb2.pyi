from ws_stack.mexc.proto import PublicDealsV3Api_pb2 as _PublicDealsV3Api_pb2
from ws_stack.mexc.proto import PublicAggreDealsV3Api_pb2 as _PublicAggreDealsV3Api_pb2
from ws_stack.mexc.proto import PublicAggreBookTickerV3Api_pb2 as _PublicAggreBookTickerV3Api_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublicAggreDepthsV3ApiView(_message.Message):
    __slots__ = ("asks", "bids", "eventType", "fromVersion", "toVersion")
    ASKS_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    EVENTTYPE_FIELD_NUMBER: _ClassVar[int]
    FROMVERSION_FIELD_NUMBER: _ClassVar[int]
    TOVERSION_FIELD_NUMBER: _ClassVar[int]
    asks: _containers.RepeatedScalarFieldContainer[bytes]
    bids: _containers.RepeatedScalarFieldContainer[bytes]
    eventType: str
    fromVersion: str
    toVersion: str
    def __init__(self, asks: _Optional[_Iterable[bytes]] = ..., bids: _Optional[_Iterable[bytes]] = ..., eventType: _Optional[str] = ..., fromVersion: _Optional[str] = ..., toVersion: _Optional[str] = ...) -> None: ...

class PublicIncreaseDepthsV3ApiView(_message.Message):
    __slots__ = ("asks", "bids", "eventType", "version")
    ASKS_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    EVENTTYPE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    asks: _containers.RepeatedScalarFieldContainer[bytes]
    bids: _containers.RepeatedScalarFieldContainer[bytes]
    eventType: str
    version: str
    def __init__(self, asks: _Optional[_Iterable[bytes]] = ..., bids: _Optional[_Iterable[bytes]] = ..., eventType: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class PublicLimitDepthsV3ApiView(_message.Message):
    __slots__ = ("asks", "bids", "eventType", "version")
    ASKS_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    EVENTTYPE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    asks: _containers.RepeatedScalarFieldContainer[bytes]
    bids: _containers.RepeatedScalarFieldContainer[bytes]
    eventType: str
    version: str
    def __init__(self, asks: _Optional[_Iterable[bytes]] = ..., bids: _Optional[_Iterable[bytes]] = ..., eventType: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class PushDataV3ApiWrapperView(_message.Message):
    __slots__ = ("channel", "publicDeals", "publicIncreaseDepths", "publicLimitDepths", "publicAggreDepths", "publicAggreDeals", "publicAggreBookTicker", "symbol", "symbolId", "createTime", "sendTime")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PUBLICDEALS_FIELD_NUMBER: _ClassVar[int]
    PUBLICINCREASEDEPTHS_FIELD_NUMBER: _ClassVar[int]
    PUBLICLIMITDEPTHS_FIELD_NUMBER: _ClassVar[int]
    PUBLICAGGREDEPTHS_FIELD_NUMBER: _ClassVar[int]
    PUBLICAGGREDEALS_FIELD_NUMBER: _ClassVar[int]
    PUBLICAGGREBOOKTICKER_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SYMBOLID_FIELD_NUMBER: _ClassVar[int]
    CREATETIME_FIELD_NUMBER: _ClassVar[int]
    SENDTIME_FIELD_NUMBER: _ClassVar[int]
    channel: str
    publicDeals: _PublicDealsV3Api_pb2.PublicDealsV3Api
    publicIncreaseDepths: PublicIncreaseDepthsV3ApiView
    publicLimitDepths: PublicLimitDepthsV3ApiView
    publicAggreDepths: PublicAggreDepthsV3ApiView
    publicAggreDeals: _PublicAggreDealsV3Api_pb2.PublicAggreDealsV3Api
    publicAggreBookTicker: _PublicAggreBookTickerV3Api_pb2.PublicAggreBookTickerV3Api
    symbol: str
    symbolId: str
    createTime: int
    sendTime: int
    def __init__(self, channel: _Optional[str] = ..., publicDeals: _Optional[_Union[_PublicDealsV3Api_pb2.PublicDealsV3Api, _Mapping]] = ..., publicIncreaseDepths: _Optional[_Union[PublicIncreaseDepthsV3ApiView, _Mapping]] = ..., publicLimitDepths: _Optional[_Union[PublicLimitDepthsV3ApiView, _Mapping]] = ..., publicAggreDepths: _Optional[_Union[PublicAggreDepthsV3ApiView, _Mapping]] = ..., publicAggreDeals: _Optional[_Union[_PublicAggreDealsV3Api_pb2.PublicAggreDealsV3Api, _Mapping]] = ..., publicAggreBookTicker: _Optional[_Union[_PublicAggreBookTickerV3Api_pb2.PublicAggreBookTickerV3Api, _Mapping]] = ..., symbol: _Optional[str] = ..., symbolId: _Optional[str] = ..., createTime: _Optional[int] = ..., sendTime: _Optional[int] = ...) -> None: ...
