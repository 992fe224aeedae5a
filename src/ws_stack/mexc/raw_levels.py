"""Order-book levels straight from their raw protobuf encodings, in one msgspec call.

The view (``PushDataV3ApiView.proto``) hands each side of a depth body over as a list of
raw level encodings. :func:`levels_from_raw` turns them into :class:`Level` objects when
it can prove every one canonical, that is read exactly as the real schema reads it, and
returns ``None`` otherwise: the caller then decodes the frame with the real schema.
"""

from __future__ import annotations

from struct import Struct

import msgspec

from ws_stack.messages import Level

__all__ = ["levels_from_raw"]

# One msgspec call converts every level, where the real schema builds three Python
# objects per level (the item and its two strings). It works because a canonical level is
#
#     0x0A <len P> P 0x12 <len Q> Q          (price = field 1, quantity = field 2)
#
# and MessagePack's str8 is 0xD9 <len> <bytes>. Rewriting both tag bytes to 0xD9 and
# putting a fixarray-of-2 header (0x92) in front of each level turns it into exactly the
# MessagePack array [P, Q] with the *same length bytes*, so msgspec's decoder walks the
# protobuf length prefixes itself and, with strict=False, converts each string to a
# float in C under the Price/Size bounds. The levels are joined with a "," in front of
# each; replace(",\n") rewrites separator and price tag together (so a length byte of
# 10 is left alone) and translate() rewrites every 0x12. The list's own array header
# (of n levels) goes in front; msgspec reads it first, and what follows is about the
# bytes after it.
#
# Why a successful decode proves every level canonical, i.e. equal to the real schema's
# reading (the safe path's), given the checks made first: (a) the text is ASCII, so the
# only bytes >= 0x80 afterwards are the 0x92 and 0xD9 we wrote, and 0x92 is the only
# array header; (b) "," occurs exactly n times, so only as our separators; (c) 0x12
# occurs exactly n times; (d) no 0xD9 follows a 0xD9 (a length byte of 18 would have
# been rewritten: such frames take the safe path).
# msgspec must read n arrays of exactly two floats and no trailing byte. Values are
# str8 strings holding a number (so never a 0x92, 0xD9, "," or tag byte) or one-byte
# fixints. An array starts only at a 0x92, and a 0x92 can be neither a value nor inside
# one, nor a length byte (the 0xD9 we wrote after it would then sit in a number string),
# so there are exactly n 0x92, i.e. by (b) every separator was followed by 0x0A: array k
# is level k, read exactly to its end. Every 0xD9 must be a str8 header: it is no fixint,
# cannot sit in a number string nor, by (d), be a length byte. There are 2n of them (n
# price tags by the above, n quantity tags by (c)) for 2n values, so no value is a fixint
# and level k reads: the str8 at its rewritten 0x0A, whose length byte is ASCII and not
# a rewritten tag, hence the protobuf length, and whose bytes P are a number string;
# then the str8 at its 0x12 (a price tag's 0xD9 always follows a 0x92), again with the
# protobuf length and a number string Q, ending the level. So each level is exactly
# 0x0A |P| P 0x12 |Q| Q, the canonical encoding of {price: P, quantity: Q}. Where msgspec
# accepts a number string it reads the same float as float() (both round correctly; it
# rejects "nan", " 1", "1_0", ".5"..., which then take the safe path), and it applies the
# same bounds as check_price / check_size. Any other input fails a check or the decode,
# and the frame is decoded again with the real schema, which names the error.

_PRICE_TAG_AFTER_SEP = b",\n"
_ARRAY_AND_STR8 = b"\x92\xd9"
_QUANTITY_TAG = b"\x12"
_QUANTITY_TAG_TO_STR8 = bytes.maketrans(_QUANTITY_TAG, b"\xd9")
_MISREAD_LENGTH = b"\xd9\xd9"
_ARRAY32 = Struct(">BI").pack
#: MessagePack fixarray headers, for the usual handful of levels (array32 beyond).
_FIXARRAY = tuple(bytes((0x90 | n,)) for n in range(16))
_LEVEL_ERRORS = (msgspec.DecodeError, UnicodeError)
_decode_raw_levels = msgspec.msgpack.Decoder(list[Level], strict=False).decode


def levels_from_raw(asks: list[bytes], bids: list[bytes]) -> tuple[list[Level], list[Level]] | None:
    """Both sides' levels from their raw encodings, or ``None`` if not provably canonical."""
    n = len(asks) + len(bids)
    if not n:
        return [], []
    raw = b",".join([b"", *asks, *bids])
    if not raw.isascii() or raw.count(b",") != n or raw.count(_QUANTITY_TAG) != n:
        return None
    header = _FIXARRAY[n] if n < 16 else _ARRAY32(0xDD, n)
    packed = header + raw.replace(_PRICE_TAG_AFTER_SEP, _ARRAY_AND_STR8).translate(
        _QUANTITY_TAG_TO_STR8
    )
    if packed.find(_MISREAD_LENGTH) != -1:  # not `in`: bytes.__contains__ tries an int first
        return None
    try:
        levels = _decode_raw_levels(packed)
    except _LEVEL_ERRORS:
        return None
    split = len(asks)
    return levels[:split], levels[split:]
