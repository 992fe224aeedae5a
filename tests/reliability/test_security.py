"""Security: TLS verified by default, credentials never printed, no frame ever evaluated,
every server on 127.0.0.1 only."""

from __future__ import annotations

import ast
import asyncio
import copy
import datetime
import ipaddress
import logging
import pickle
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve

from ws_stack.asyncio.connection import ConnectionConfig
from ws_stack.asyncio.mexc import MexcConnection
from ws_stack.asyncio.rest import HttpError, http_get
from ws_stack.asyncio.stream import MarketStream
from ws_stack.credentials import REDACTED, Credentials
from ws_stack.exceptions import ConfigError, ConnectionFailed
from ws_stack.messages import Venue, WebSocketMessageType
from ws_stack.mexc import encoder as mexc
from ws_stack.mexc.handler import MexcHandler
from ws_stack.reconnect import ReconnectionPolicy
from ws_stack.sim import FaultConfig, SimConfig, VenueSimulator
from ws_stack.sim.server import HOST

from .helpers import fast_config, wait_until
from .hostile import feed, make_handler

ROOT = Path(__file__).resolve().parents[2]
TWO_ATTEMPTS = ReconnectionPolicy(initial_delay=0.01, max_delay=0.01, max_attempts=2)

# -- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself (no CA anyone trusts)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


async def _mexc_like(ws: ServerConnection) -> None:
    """Acks the subscription, then sends book tickers."""
    request = await ws.recv()
    assert "SUBSCRIPTION" in request
    await ws.send(mexc.encode_ack("spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"))
    for number in range(3):
        await ws.send(
            mexc.encode_book_ticker("BTCUSDT", "1.5", "1", "1.6", "1", send_time_ms=number)
        )
    await ws.wait_closed()


def _tls_server_context(cert: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    return context


def test_wss_refuses_a_self_signed_certificate_by_default(run, self_signed, caplog, transport):
    async def test() -> None:
        tls = _tls_server_context(self_signed)
        async with serve(_mexc_like, "127.0.0.1", 0, ssl=tls) as server:
            port = server.sockets[0].getsockname()[1]
            connection = MexcConnection(
                MexcHandler(),
                [MexcConnection.subscription("BTCUSDT", "book_ticker")],
                url=f"wss://127.0.0.1:{port}/ws",
                config=fast_config(reconnect=TWO_ATTEMPTS, transport=transport),
            )
            with pytest.raises(ConnectionFailed, match="CERTIFICATE_VERIFY_FAILED"):
                await connection.start()
            assert connection.metrics().errors == {"connect_failed": 2}
            await connection.close()
        assert "VERIFICATION IS OFF" not in caplog.text

    run(test)


def test_wss_connects_only_with_the_loud_insecure_option(run, self_signed, caplog, transport):
    async def test() -> None:
        caplog.set_level(logging.WARNING, logger="ws_stack")
        tls = _tls_server_context(self_signed)
        async with serve(_mexc_like, "127.0.0.1", 0, ssl=tls) as server:
            port = server.sockets[0].getsockname()[1]
            handler = MexcHandler()
            tickers: list[object] = []
            handler.on(WebSocketMessageType.BOOK_TICKER, tickers.append)
            connection = MexcConnection(
                handler,
                [MexcConnection.subscription("BTCUSDT", "book_ticker")],
                url=f"wss://127.0.0.1:{port}/ws",
                config=fast_config(
                    reconnect=TWO_ATTEMPTS, insecure_skip_tls_verify=True, transport=transport
                ),
            )
            async with connection:
                await wait_until(lambda: len(tickers) == 3, "three tickers over TLS")
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("TLS CERTIFICATE VERIFICATION IS OFF" in w for w in warnings), warnings

    run(test)


def test_https_snapshots_verify_certificates_too(run, self_signed):
    async def test() -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(
            answer, "127.0.0.1", 0, ssl=_tls_server_context(self_signed)
        )
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(HttpError, match="CERTIFICATE_VERIFY_FAILED"):
                await http_get(f"https://127.0.0.1:{port}/api/v3/depth", timeout=5)
            body = await http_get(
                f"https://127.0.0.1:{port}/api/v3/depth", timeout=5, insecure_skip_tls_verify=True
            )
            assert body == b"{}"
        finally:
            server.close()
            await server.wait_closed()

    run(test)


def test_insecure_option_must_be_a_real_boolean():
    with pytest.raises(ConfigError, match="insecure_skip_tls_verify"):
        ConnectionConfig(insecure_skip_tls_verify="yes")  # type: ignore[arg-type]
    assert ConnectionConfig().insecure_skip_tls_verify is False


# -- credentials ----------------------------------------------------------------------------

KEY = "mx0vglKEYfor-reliability-7Qz"
SECRET = "sEcReT-0f-the-reliability-suite-9fK2"


def _leaks(text: str) -> bool:
    return KEY in text or SECRET in text


def test_credentials_never_show_in_text():
    credentials = Credentials(KEY, SECRET)
    config = fast_config(credentials=credentials)
    for text in (
        repr(credentials),
        str(credentials),
        f"{credentials}",
        f"{credentials!r:>80}",
        repr(config),
        str(config),
        f"{config}",
        f"{config} {config!r}",
        repr([config]),
        repr({"c": credentials}),
    ):
        assert not _leaks(text), text
        assert REDACTED in text
    assert credentials.api_key == KEY and credentials.api_secret == SECRET
    assert credentials.redact(f"key={KEY}&sig={SECRET}") == f"key={REDACTED}&sig={REDACTED}"
    assert copy.deepcopy(config).credentials is credentials
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(config)


def test_misplaced_secrets_are_not_echoed_in_errors():
    with pytest.raises(ConfigError) as info:
        ConnectionConfig(credentials=SECRET)  # type: ignore[arg-type]
    assert not _leaks(str(info.value))
    with pytest.raises(ConfigError) as info:
        Credentials(KEY, "  ")
    assert not _leaks(str(info.value))
    with pytest.raises(ConfigError, match="credentials in the WebSocket URL") as info:
        MexcConnection(MexcHandler(), url=f"wss://{KEY}:{SECRET}@wbs-api.mexc.com/ws")
    assert not _leaks(str(info.value))


def test_logs_never_print_credentials(run, caplog, transport):
    """A whole life of connections carrying credentials, logged at DEBUG by every library
    (websockets included): neither the key nor the secret appears anywhere."""

    async def test() -> None:
        caplog.set_level(logging.DEBUG)
        credentials = Credentials(KEY, SECRET)
        async with VenueSimulator(
            Venue.MEXC,
            SimConfig(rate_hz=200, faults=FaultConfig(close_after_frames=20, malformed_every=7)),
        ) as sim:
            stream = MarketStream(
                Venue.MEXC,
                ["BTCUSDT"],
                url=sim.ws_url,
                rest_url=sim.rest_url,
                config=fast_config(credentials=credentials),
                transport=transport,
            )
            async with stream:
                await wait_until(
                    lambda: stream.summary().metrics.reconnects >= 3, "three reconnects"
                )
                texts = [repr(stream.summary()), repr(stream.group.connections)]
            sim.set_faults(FaultConfig(refuse_connections_for=60))
            failing = MexcConnection(
                MexcHandler(),
                url=sim.ws_url,
                config=fast_config(
                    credentials=credentials, reconnect=TWO_ATTEMPTS, transport=transport
                ),
            )
            with pytest.raises(ConnectionFailed) as info:
                await failing.start()
            await failing.close()
            texts.append(str(info.value))
        texts += [record.getMessage() for record in caplog.records]
        texts += [caplog.text]
        assert len(caplog.records) > 20
        assert not any(_leaks(text) for text in texts)

    run(test)


# -- frames are data, never code --------------------------------------------------------------

_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
_FORBIDDEN_MODULES = {
    "pickle",
    "cPickle",
    "_pickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "jsonpickle",
    "yaml",
    "code",
    "codeop",
}


def _python_files(*folders: str) -> list[Path]:
    return [
        path
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not path.name.endswith("_pb2.py")
    ]


def test_no_frame_content_is_ever_evaluated_or_unpickled():
    """No module of ws_stack can run code it reads: no eval/exec, no unpickling."""
    offenders = []
    for path in _python_files("src/ws_stack"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and (node.func.id in _FORBIDDEN_CALLS)
            ):
                offenders.append(f"{path}:{node.lineno}: {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [alias.name for alias in node.names]
                )
                for name in names:
                    if name.split(".")[0] in _FORBIDDEN_MODULES:
                        offenders.append(f"{path}:{node.lineno}: import {name}")
    assert offenders == []


class _Trap:
    """Unpickling this would set ``fired``; evaluating the text below would too."""

    fired = False

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (setattr, (_Trap, "fired", True))


def test_code_and_pickles_in_frames_stay_inert():
    payloads: list[bytes | str] = [
        pickle.dumps(_Trap()),
        pickle.dumps(_Trap(), protocol=0),
        "__import__('tests').__setattr__('fired', True)",
        '{"c":"spot@public.deals.v3.api@BTCUSDT","d":"__import__(\'os\').system(\'false\')"}',
        '{"channel":"spot.trades","event":"update","result":{"price":"setattr(_Trap,1,1)"}}',
        b"\x80\x04\x95" + pickle.dumps(_Trap())[3:],
    ]
    for venue in Venue:
        outcome = feed(make_handler(venue), payloads)
        assert len(outcome.errors) == len(payloads)
    assert _Trap.fired is False


# -- 127.0.0.1 only ---------------------------------------------------------------------------

#: Calls that open a listening socket, by the name they are called with.
_SERVER_CALLS = {
    "serve",
    "start_server",
    "create_server",
    "HTTPServer",
    "ThreadingHTTPServer",
    "TCPServer",
    "ThreadingTCPServer",
    "bind",
}


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _mentions_loopback(node: ast.AST) -> bool:
    return any(
        (isinstance(n, ast.Constant) and n.value == "127.0.0.1")
        or (isinstance(n, ast.Name) and n.id == "HOST")
        for n in ast.walk(node)
    )


#: Written so that this file does not contain it (the scan below would find it).
_ANY_ADDRESS = ".".join("0" * 4)


def _expected_to_fail(tree: ast.AST) -> set[int]:
    """Lines inside ``with pytest.raises(...)``: where a test shows a bind is refused."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call) and _call_name(item.context_expr) == "raises"
            for item in node.items
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def test_every_server_in_the_code_binds_loopback():
    """Each call that listens names 127.0.0.1 (or the simulator's HOST, which is it), and
    no code names the any-address except to show that it is refused."""
    assert HOST == "127.0.0.1"
    offenders = []
    for path in _python_files("src", "tests", "benchmarks"):
        tree = ast.parse(path.read_text(), str(path))
        refused = _expected_to_fail(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _call_name(node) in _SERVER_CALLS
                and (node.args or node.keywords)
                and not _mentions_loopback(node)
            ):
                offenders.append(f"{path}:{node.lineno}")
            if (
                isinstance(node, ast.Constant)
                and node.value == _ANY_ADDRESS
                and (node.lineno not in refused)
            ):
                offenders.append(f"{path}:{node.lineno}: {node.value!r}")
    assert offenders == []
    makefile = (ROOT / "Makefile").read_text()
    for line in makefile.splitlines():
        if "http.server" in line:
            assert "--bind 127.0.0.1" in line, line


def test_simulator_listens_on_loopback_only(run):
    async def test() -> None:
        for venue in Venue:
            async with VenueSimulator(venue) as sim:
                assert sim._server is not None
                assert {s.getsockname()[0] for s in sim._server.sockets} == {"127.0.0.1"}
        for host in ("::", "10.0.0.1", "localhost"):
            with pytest.raises(ConfigError, match=r"127\.0\.0\.1"):
                VenueSimulator(Venue.MEXC, host=host)

    run(test)
