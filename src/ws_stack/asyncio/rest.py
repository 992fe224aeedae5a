"""A minimal asyncio HTTP/1.1 GET, for the order-book snapshot.

The snapshot is one small GET per (re)sync, so this is deliberately tiny: stdlib only
(``asyncio.open_connection``, TLS for ``https``), ``Connection: close``, bodies delimited
by ``Content-Length``, chunked transfer encoding, or the end of the connection. No
redirects, no compression, no proxies. Cancellable, and bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.parse

from ws_stack.exceptions import WsStackError
from ws_stack.protocol import USER_AGENT

from .tls import client_tls_context

__all__ = ["HttpError", "http_get"]

#: Largest response body accepted (a 1000-level MEXC depth is ~60 kB).
MAX_BODY = 16 << 20
_MAX_HEADER_LINES = 100


class HttpError(WsStackError):
    """The GET failed: bad URL, connection error, non-200 status or malformed response."""


async def http_get(
    url: str,
    *,
    timeout: float = 10.0,
    max_body: int = MAX_BODY,
    insecure_skip_tls_verify: bool = False,
) -> bytes:
    """The body of ``GET url``; raise :class:`HttpError` unless the status is 200.

    ``https`` verifies the certificate and host name unless ``insecure_skip_tls_verify``.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {url!r}")
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: application/json\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                parts.hostname, port, ssl=_tls_context(insecure_skip_tls_verify) if secure else None
            )
            try:
                writer.write(request)
                await writer.drain()
                return await _read_response(reader, url, max_body)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except TimeoutError:
        raise HttpError(f"GET {url}: no complete answer within {timeout:g} s") from None
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise HttpError(f"GET {url}: {type(exc).__name__}: {exc}") from None


def _tls_context(insecure: bool) -> ssl.SSLContext:
    return client_tls_context(insecure)


async def _read_response(reader: asyncio.StreamReader, url: str, max_body: int) -> bytes:
    status_line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
    version, _, rest = status_line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise HttpError(f"GET {url}: not an HTTP/1.x response: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADER_LINES):
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise HttpError(f"GET {url}: more than {_MAX_HEADER_LINES} header lines")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader, url, max_body)
    elif "content-length" in headers:
        length = _int(headers["content-length"], url, "Content-Length", 10)
        if length > max_body:
            raise HttpError(f"GET {url}: body of {length} bytes exceeds {max_body}")
        body = await reader.readexactly(length)
    else:
        body = await reader.read(max_body + 1)
        if len(body) > max_body:
            raise HttpError(f"GET {url}: body exceeds {max_body} bytes")
    if code != "200":
        raise HttpError(f"GET {url}: HTTP {code} {reason}: {body[:200]!r}")
    return body


async def _read_chunked(reader: asyncio.StreamReader, url: str, max_body: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readline()).split(b";", 1)[0].strip()
        size = _int(size_line.decode("latin-1"), url, "chunk size", 16)
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readline()).strip():
                pass
            return b"".join(chunks)
        total += size
        if total > max_body:
            raise HttpError(f"GET {url}: body exceeds {max_body} bytes")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)  # CRLF after each chunk


def _int(text: str, url: str, what: str, base: int) -> int:
    try:
        value = int(text, base)
    except ValueError:
        raise HttpError(f"GET {url}: bad {what} {text[:40]!r}") from None
    if value < 0:
        raise HttpError(f"GET {url}: negative {what}")
    return value
