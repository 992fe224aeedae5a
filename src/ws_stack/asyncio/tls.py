"""The TLS settings of ws_stack's clients (WebSocket connection and REST snapshot GET).

Both verify the certificate and host name of the server by default; only the explicit,
loudly logged ``insecure_skip_tls_verify`` option turns that off, for a test server with
a self-signed certificate.
"""

from __future__ import annotations

import ssl

__all__ = ["client_tls_context", "insecure_tls_context"]


def client_tls_context(insecure_skip_tls_verify: bool = False) -> ssl.SSLContext:
    """The context of a ``wss://`` or ``https://`` client: Python's default, which verifies
    the certificate against the system's CAs and the host name; or, only with the loud
    option, :func:`insecure_tls_context`. Both WebSocket transports use it."""
    if insecure_skip_tls_verify:
        return insecure_tls_context()
    return ssl.create_default_context()


def insecure_tls_context() -> ssl.SSLContext:
    """A client TLS context that verifies nothing (``insecure_skip_tls_verify`` only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
