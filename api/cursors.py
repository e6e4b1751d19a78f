"""Cursors of row connections: an order key and the query that issued it.

Pages are keyset pages: a cursor holds the order key of the last row it
returned (sort value and position, see ``engine.select.order_key``) and a
fingerprint of the query that issued it, so a deep page costs what the first
costs, and a cursor of another query, view or version of the split is
refused instead of silently paging something else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from evalql.api.errors import BadUserInput
from evalql.engine.select import NO_CURSOR

_CURSOR = struct.Struct(">B8sq")  # format version, query fingerprint, order key
_CURSOR_VERSION = 1


def fingerprint(*parts: object) -> bytes:
    """8 bytes naming a query: the same parts give the same bytes."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()


def encode_cursor(query: bytes, key: int) -> str:
    """``encode_cursor(b"12345678", 7)`` -> ``"ATEyMzQ1Njc4AAAAAAAAAAc"``."""
    raw = _CURSOR.pack(_CURSOR_VERSION, query, key)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str | None, query: bytes) -> int:
    """The order key in cursor ``text`` (``NO_CURSOR`` for None).

    BAD_USER_INPUT for text that is not a cursor, and for a cursor another
    query issued (another view, filter, selection, order or split version).
    """
    if text is None:
        return NO_CURSOR
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        version, issuer, key = _CURSOR.unpack(raw)
    except (binascii.Error, ValueError, struct.error):
        version, issuer, key = -1, b"", -1
    if version != _CURSOR_VERSION or key < 0:
        raise BadUserInput(f'after: "{_clip(text)}" is not a cursor of this connection')
    if issuer != query:
        raise BadUserInput(
            "after: the cursor was issued for a different query (another view, "
            "filter, selection, order, or an older version of the split); "
            "ask for the first page again without after"
        )
    return key


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
