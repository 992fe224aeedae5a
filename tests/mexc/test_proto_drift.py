"""The committed ``*_pb2`` modules match the ``.proto`` files, which state the wire facts."""

from __future__ import annotations

from pathlib import Path

from google.protobuf.descriptor import Descriptor

from ws_stack.mexc.proto import generate
from ws_stack.mexc.proto.PublicAggreBookTickerV3Api_pb2 import PublicAggreBookTickerV3Api
from ws_stack.mexc.proto.PublicAggreDealsV3Api_pb2 import PublicAggreDealsV3Api
from ws_stack.mexc.proto.PublicAggreDepthsV3Api_pb2 import PublicAggreDepthsV3Api
from ws_stack.mexc.proto.PublicDealsV3Api_pb2 import PublicDealsV3Api
from ws_stack.mexc.proto.PublicIncreaseDepthsV3Api_pb2 import PublicIncreaseDepthsV3Api
from ws_stack.mexc.proto.PublicLimitDepthsV3Api_pb2 import PublicLimitDepthsV3Api
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

FIX = "the generated protobuf modules are out of date: run `make proto` and commit the result"


def _modules(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.glob("*_pb2.py*")}


def test_committed_modules_match_proto_files(tmp_path: Path) -> None:
    generate.generate(tmp_path)
    fresh = _modules(generate.generated_dir(tmp_path))
    committed = _modules(generate.PROTO_DIR)
    assert fresh, "protoc generated nothing"
    assert sorted(committed) == sorted(fresh), f"{FIX} (files differ)"
    stale = sorted(name for name in fresh if fresh[name] != committed[name])
    assert not stale, f"{FIX}: {', '.join(stale)}"


def test_every_proto_file_has_a_module() -> None:
    for proto in generate.PROTO_DIR.glob("*.proto"):
        assert (generate.PROTO_DIR / f"{proto.stem}_pb2.py").exists(), f"{proto.name}: {FIX}"


def _numbers(message: type | Descriptor) -> dict[str, int]:
    descriptor = message if isinstance(message, Descriptor) else message.DESCRIPTOR
    return {field.name: field.number for field in descriptor.fields}


def test_wrapper_field_numbers_are_the_wire_facts() -> None:
    assert _numbers(PushDataV3ApiWrapper) == {
        "channel": 1,
        "symbol": 3,
        "symbolId": 4,
        "createTime": 5,
        "sendTime": 6,
        "publicDeals": 301,
        "publicIncreaseDepths": 302,
        "publicLimitDepths": 303,
        "publicAggreDepths": 313,
        "publicAggreDeals": 314,
        "publicAggreBookTicker": 315,
    }
    oneof = PushDataV3ApiWrapper.DESCRIPTOR.oneofs_by_name["body"]
    assert {field.number for field in oneof.fields} == {301, 302, 303, 313, 314, 315}


def test_body_field_numbers_are_the_wire_facts() -> None:
    deal = {"price": 1, "quantity": 2, "tradeType": 3, "time": 4}
    level = {"price": 1, "quantity": 2}
    for deals in (PublicDealsV3Api, PublicAggreDealsV3Api):
        assert _numbers(deals) == {"deals": 1, "eventType": 2}
        assert _numbers(deals.DESCRIPTOR.fields_by_name["deals"].message_type) == deal
    for depths in (PublicIncreaseDepthsV3Api, PublicLimitDepthsV3Api):
        assert _numbers(depths) == {"asks": 1, "bids": 2, "eventType": 3, "version": 4}
    assert _numbers(PublicAggreDepthsV3Api) == {
        "asks": 1,
        "bids": 2,
        "eventType": 3,
        "fromVersion": 4,
        "toVersion": 5,
    }
    for depths in (PublicIncreaseDepthsV3Api, PublicLimitDepthsV3Api, PublicAggreDepthsV3Api):
        item = depths.DESCRIPTOR.fields_by_name["asks"].message_type
        assert _numbers(item) == level
    assert _numbers(PublicAggreBookTickerV3Api) == {
        "bidPrice": 1,
        "bidQuantity": 2,
        "askPrice": 3,
        "askQuantity": 4,
    }


def test_generated_modules_import_each_other_inside_the_package() -> None:
    source = (generate.PROTO_DIR / "PushDataV3ApiWrapper_pb2.py").read_text()
    assert "from ws_stack.mexc.proto import PublicAggreDepthsV3Api_pb2" in source
    assert PushDataV3ApiWrapper.DESCRIPTOR.full_name == "ws_stack.mexc.PushDataV3ApiWrapper"
