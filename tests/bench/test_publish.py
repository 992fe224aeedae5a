"""Publishing (``ws_stack_bench.publish``): a self-contained page that renders the history.

The browser test publishes the results the session's gate runs recorded in the throwaway
clone (three commits of the order-book parses' instruction counts and the pool), serves them on
127.0.0.1 and loads the page in Debian's headless Chromium through Debian's
chromium-driver (same version as the browser, so no driver download and no version
drift), with selenium as the client. A second browser test loads html_results/ as
committed the same way.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ws_stack_bench.project import Project
from ws_stack_bench.publish import (
    NOISE_PAGE,
    VENDORED,
    external_references,
    make_self_contained,
    publish,
)
from ws_stack_bench.where import FLAME_LIBRARIES

from .conftest import GateHistory, frame_names

ASV_PAGE = Path(__import__("asv").__file__).parent / "www" / "index.html"


def _fake_npm_cache(cache: Path) -> None:
    """node_modules as npm would leave it, with stand-in files (no network): asv's page's
    libraries and the flame graphs'."""
    files = [(item.package, item.version, item.path) for item in VENDORED]
    for package_name, version, path in [*files, *FLAME_LIBRARIES]:
        package = cache / "node_modules" / package_name
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(f"/* {package_name} {version} */\n")
        (package / "package.json").write_text(json.dumps({"version": version}))


def test_the_page_is_rewired_to_local_copies(tmp_path: Path) -> None:
    html = tmp_path / "html"
    html.mkdir()
    shutil.copy(ASV_PAGE, html / "index.html")
    assert external_references(html)  # asv's own page loads from CDNs
    _fake_npm_cache(tmp_path / "npm")
    copied = make_self_contained(html, tmp_path / "npm", npm="/nonexistent/npm")
    assert external_references(html) == []
    page = (html / "index.html").read_text()
    for item in VENDORED:
        assert item.cdn_url not in page
        assert f'"{item.local}"' in page
        assert (html / item.local).is_file()
    assert "vendor/jquery@3.3.1/dist/jquery.min.js" in copied
    assert "vendor/d3-flame-graph@5.0.0/dist/d3-flamegraph.umd.min.js" in copied
    assert (html / "vendor" / "d3@7.9.0" / "dist" / "d3.min.js").is_file()
    assert (html / "vendor" / "SHA256SUMS").read_text().count("vendor/") == len(copied)


def test_the_graph_pages_link_their_flame_graphs_once(tmp_path: Path) -> None:
    from ws_stack_bench.publish import _link_flame_graphs

    (tmp_path / "index.html").write_text("<html><body><p>asv</p></body></html>")
    links = tmp_path / "graphs.json"
    links.write_text(json.dumps({"bench_x.AInstructions.track_a": "flame/bench_x.html"}))
    for _ in range(2):  # published again: replaced, not added
        _link_flame_graphs(tmp_path, links)
    page = (tmp_path / "index.html").read_text()
    assert page.count('<script id="ws-stack-flame-links">') == 1
    assert '{"bench_x.AInstructions.track_a": "flame/bench_x.html"}' in page
    assert page.endswith("</script>\n</body></html>")


def test_an_unknown_external_file_is_refused(tmp_path: Path) -> None:
    from ws_stack_bench.publish import PublishError

    html = tmp_path / "html"
    html.mkdir()
    (html / "index.html").write_text('<script src="https://example.invalid/new.js"></script>')
    with pytest.raises(PublishError, match=r"example\.invalid/new\.js"):
        make_self_contained(html, tmp_path / "npm", npm="/nonexistent/npm")


# -- the published history in a browser -------------------------------------------------


@pytest.fixture
def served(gate_history: GateHistory, tmp_path: Path) -> Iterator[str]:
    """The gate runs' results, published and served on 127.0.0.1; yields the base URL."""
    clone = Project(gate_history.clone)
    config = clone.derive(
        tmp_path / "asv.conf.json",
        results_dir=gate_history.results_dir,
        html_dir=tmp_path / "html",
    )
    publish(Project(gate_history.clone, config))
    html = tmp_path / "html"
    assert external_references(html) == []

    with _serving(html) as url:
        yield url


@contextlib.contextmanager
def _serving(html: Path) -> Iterator[str]:
    """``html`` served on 127.0.0.1 (a free port) while the block runs; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# Points with a value, per plotted series, of the graph on the page (None: not plotted yet).
PLOTTED_POINTS = """
var plot = window.jQuery && jQuery('#main-graph').data('plot');
if (!plot) { return null; }
return plot.getData().map(function (series) {
    return series.data.filter(function (p) { return p && p[1] !== null && !isNaN(p[1]); }).length;
});
"""


def _graph_url(base: str, benchmark: str, **params: Any) -> str:
    query = "&".join(f"p-{key}={quote(repr(value))}" for key, value in params.items())
    return f"{base}index.html#{benchmark}" + (f"?{query}" if query else "")


def _plotted(browser: Any, url: str, screenshot: Path, timeout: float = 30.0) -> list[int]:
    browser.get("about:blank")
    browser.get(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        points = browser.execute_script(PLOTTED_POINTS)
        if points:
            return points
        time.sleep(0.2)
    browser.save_screenshot(str(screenshot))
    pytest.fail(f"no graph rendered at {url} (screenshot: {screenshot})")


GATEIO_DELTA = {"venue": "gateio", "format": "json", "kind": "update", "depth": 20}
POOL = ("bench_pool.HandlerStream.track_miss_ratio", {"format": "protobuf"})
#: Graphs of the gate's runs (counts and the pool): a parametrised count and a ratio.
GATE_GRAPHS = dict([("bench_codec.ParseOrderBookInstructions.track_parse", GATEIO_DELTA), POOL])
#: Graphs the committed history has: a parametrised timing, its count and a ratio.
COMMITTED_GRAPHS = {
    "bench_codec.ParseOrderBook.time_parse": GATEIO_DELTA,
    "bench_codec.ParseOrderBookInstructions.track_parse": GATEIO_DELTA,
    POOL[0]: POOL[1],
}


def _assert_renders_offline(
    served: str, browser: Any, tmp_path: Path, graphs: dict[str, dict[str, Any]]
) -> None:
    """``graphs`` plot at least two commits each, the page logs no error and every request
    it makes stays on ``served``."""
    for benchmark, params in graphs.items():
        url = _graph_url(served, benchmark, **params)
        points = _plotted(browser, url, tmp_path / f"{benchmark}.png")
        assert max(points) >= 2, f"{benchmark}: fewer than two commits plotted ({points})"
        assert browser.execute_script("return jQuery('#title').text();") == benchmark
        assert browser.execute_script("return jQuery('#main-graph canvas').length;") > 0

    logged = browser.get_log("browser")
    errors = [entry for entry in logged if entry["level"] == "SEVERE"]
    assert errors == [], f"the page logged errors: {errors}"
    # Every network request stayed on the local server (chrome:// pages are the browser's
    # own): the page needs no internet.
    requested = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.add(message["params"]["request"]["url"])
    network = {url for url in requested if url.startswith(("http:", "https:", "ws:", "wss:"))}
    outside = sorted(url for url in network if not url.startswith(served))
    assert any("/vendor/jquery@3.3.1/" in url for url in network), sorted(network)
    assert outside == [], f"requests left 127.0.0.1: {outside}"


@pytest.mark.slow
def test_published_history_renders_offline_in_chromium(
    served: str, browser: Any, tmp_path: Path
) -> None:
    _assert_renders_offline(served, browser, tmp_path, GATE_GRAPHS)
    # The noise table is published with the page and linked from its navigation bar.
    browser.get(served + "index.html")
    assert browser.execute_script("return jQuery('#nav-li-noise a').attr('href');") == NOISE_PAGE
    browser.get(served + NOISE_PAGE)
    rows = browser.execute_script("return document.querySelectorAll('table tr').length;")
    assert rows > 1, "the noise table has no benchmark"


@pytest.mark.slow
def test_the_committed_history_renders_offline_in_chromium(browser: Any, tmp_path: Path) -> None:
    """html_results/ as committed (what a person browses after cloning) renders offline."""
    html = Path(__file__).resolve().parents[2] / "html_results"
    if not (html / "index.json").exists():
        pytest.skip("no published history here (make bench publishes one)")
    with _serving(html) as served:
        _assert_renders_offline(served, browser, tmp_path, COMMITTED_GRAPHS)
        # The page of where each counted call's work goes, from the navigation bar.
        browser.get(served + "index.html")
        assert browser.execute_script("return jQuery('#nav-li-where a').attr('href');") == (
            "where.html"
        )
        browser.get(served + "where.html")
        sections = browser.execute_script("return document.querySelectorAll('h2').length;")
        tables = browser.execute_script("return document.querySelectorAll('table').length;")
        assert sections >= 20 and tables >= 2 * sections, (sections, tables)
        # Each counted call's flame graph, linked from its section, draws its functions.
        flames = browser.execute_script(
            "return [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
            ".filter(href => href.startsWith('flame/'));"
        )
        if not flames:
            pytest.skip("the committed page predates flame graphs (make bench publishes them)")
        assert len(flames) >= 20, flames
        apply = next(href for href in flames if "ApplyDeltaInstructions" in href)
        browser.get(served + apply)
        # The book's apply: a Python frame on the pure-Python book, the compiled twin's C
        # function where the measured commit had it (docs/compiled.md).
        names = " ".join(frame_names(browser))
        assert "LocalOrderBook.apply (ws_stack/book.py:" in names or "BookCore_5apply" in names
        # A count benchmark's graph page links the same flame graphs.
        browser.get(served + "index.html#bench_book.ApplyDeltaInstructions.track_apply_delta")
        link = browser.execute_script(
            "return document.getElementById('ws-stack-flame')?.getAttribute('href');"
        )
        assert link == apply
        browser.get(served + "index.html#bench_book.ApplyDelta.time_apply_delta")  # a time
        assert browser.execute_script("return document.getElementById('ws-stack-flame');") is None


def test_the_committed_history_carries_every_vendored_file() -> None:
    """html_results/ as committed renders without internet: git holds every file its page
    loads from vendor/ (a too-wide ignore rule once kept jQuery and bootstrap out)."""
    root = Path(__file__).resolve().parents[2]
    sums = root / "html_results" / "vendor" / "SHA256SUMS"
    if not sums.exists() or not (root / ".git").exists():
        pytest.skip("no published history in a git checkout here")
    listed = [line.split(maxsplit=1)[1] for line in sums.read_text().splitlines() if line]
    tracked = subprocess.run(
        ["git", "ls-files", "html_results/vendor"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    missing = [path for path in listed if f"html_results/{path}" not in tracked]
    assert listed and missing == [], f"vendored but not committed: {missing}"
