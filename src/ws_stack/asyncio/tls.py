"""The TLS settings of ws_stack's clients (WebSocket connection and REST snapshot GET).

Both verify the certificate and host name of the server by default; only the explicit,
loudly logged ``insecure_skip_tls_verify`` option turns that off, for a test server with
a self-signed certificate.
"""

from __future__ import annotations

import ssl

__all__ = ["insecure_tls_context"]


def insecure_tls_context() -> ssl.SSLContext:
    """A client TLS context that verifies nothing (``insecure_skip_tls_verify`` only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
