"""Publishing the history: ``asv publish``, then a page that needs no internet.

asv's ``index.html`` loads jQuery, flot, bootstrap, stupidtable and blueimp-md5 from CDNs.
:func:`make_self_contained` installs the same libraries from the npm registry (into a
cache under ``.asv/``, so a later publish works offline), copies them to
``<html_dir>/vendor/`` and points the page at the copies. One exception: stupidtable
1.0.1 (cdnjs) was never published to npm; ``stupid-table-plugin`` 1.1.3 is the oldest
release there and keeps the ``stupidtable()``/``stupidsort()`` API asv calls.

The page still needs HTTP (it fetches its JSON with XHR, which browsers refuse over
``file://``): ``make serve`` serves it on 127.0.0.1.

:func:`publish` gives asv's Regressions page each benchmark's own threshold, from its noise
on identical code (:mod:`ws_stack_bench.noise`), reports no regression of a floor, and
publishes the noise table as ``noise.html``, linked from the page's navigation bar.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ws_stack_bench import noise as noise_module
from ws_stack_bench import where
from ws_stack_bench.noise import Noise
from ws_stack_bench.project import Project
from ws_stack_bench.results import benchmark_meta, benchmark_names, machines

__all__ = [
    "NOISE_PAGE",
    "VENDORED",
    "PublishError",
    "all_noise",
    "external_references",
    "make_self_contained",
    "publish",
    "vendor_flame_libraries",
]


class PublishError(Exception):
    """The published page could not be made self-contained."""


@dataclass(frozen=True)
class Vendored:
    """One file the page loads from a CDN, and where the same release lives in npm."""

    cdn_url: str
    package: str
    version: str
    #: Path of the file inside the npm package.
    path: str
    #: Directory of the package copied along (bootstrap's CSS needs its fonts).
    tree: str | None = None

    @property
    def local(self) -> str:
        return f"vendor/{self.package}@{self.version}/{self.path}"


_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
_JSDELIVR = "https://cdn.jsdelivr.net/npm"

#: Every external file of asv 0.6.6's index.html. flot 0.8.3 ships no minified files on
#: npm, so the page gets the unminified files of the same release.
VENDORED: tuple[Vendored, ...] = (
    Vendored("https://code.jquery.com/jquery-3.3.1.min.js", "jquery", "3.3.1",
             "dist/jquery.min.js"),
    Vendored(f"{_CDNJS}/flot/0.8.3/jquery.flot.min.js", "flot", "0.8.3", "jquery.flot.js"),
    Vendored(f"{_CDNJS}/flot/0.8.3/jquery.flot.time.min.js", "flot", "0.8.3",
             "jquery.flot.time.js"),
    Vendored(f"{_CDNJS}/flot/0.8.3/jquery.flot.selection.min.js", "flot", "0.8.3",
             "jquery.flot.selection.js"),
    Vendored(f"{_CDNJS}/flot/0.8.3/jquery.flot.categories.min.js", "flot", "0.8.3",
             "jquery.flot.categories.js"),
    Vendored(f"{_JSDELIVR}/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js", "flot-orderbars",
             "1.0.0", "js/jquery.flot.orderBars.js"),
    Vendored(f"{_CDNJS}/stupidtable/1.0.1/stupidtable.min.js", "stupid-table-plugin", "1.1.3",
             "stupidtable.min.js"),
    Vendored(f"{_CDNJS}/blueimp-md5/2.19.0/js/md5.min.js", "blueimp-md5", "2.19.0",
             "js/md5.min.js"),
    Vendored(f"{_JSDELIVR}/bootstrap@3.1.1/dist/js/bootstrap.min.js", "bootstrap", "3.1.1",
             "dist/js/bootstrap.min.js", tree="dist"),
    Vendored(f"{_JSDELIVR}/bootstrap@3.1.1/dist/css/bootstrap.min.css", "bootstrap", "3.1.1",
             "dist/css/bootstrap.min.css", tree="dist"),
)  # fmt: skip

# A <script> or <link> tag that loads something from outside.
_EXTERNAL_TAG = re.compile(
    r"<(script|link)\b[^>]*?\b(?:src|href)=\"(https?://[^\"]+)\"[^>]*>", re.IGNORECASE
)


def _packages() -> dict[str, str]:
    """Every npm package the published pages load: asv's, and the flame graphs'."""
    wanted = {item.package: item.version for item in VENDORED}
    wanted.update((package, version) for package, version, _ in where.FLAME_LIBRARIES)
    return wanted


def _installed_version(cache: Path, package: str) -> str | None:
    manifest = cache / "node_modules" / package / "package.json"
    try:
        version = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version if isinstance(version, str) else None


def install_packages(cache: Path, npm: str | None = None) -> Path:
    """Install the pinned npm packages into ``cache`` (skipped when already there)."""
    wanted = _packages()
    if all(_installed_version(cache, pkg) == ver for pkg, ver in wanted.items()):
        return cache / "node_modules"
    npm = npm or shutil.which("npm")
    if npm is None:
        raise PublishError(
            "npm is needed once to fetch the page's JavaScript libraries "
            "(Debian: apt-get install npm)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    manifest = {"name": "ws-stack-asv-page", "private": True, "dependencies": wanted}
    (cache / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=cache,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise PublishError(f"npm install failed ({done.returncode}):\n{done.stderr.strip()}")
    wrong = {p: _installed_version(cache, p) for p, v in wanted.items()}
    wrong = {p: got for p, got in wrong.items() if got != wanted[p]}
    if wrong:
        raise PublishError(f"npm installed unexpected versions: {wrong}")
    return cache / "node_modules"


def make_self_contained(html_dir: Path, cache: Path, npm: str | None = None) -> list[str]:
    """Rewire ``html_dir/index.html`` to local copies of its CDN files; return their paths."""
    index = html_dir / "index.html"
    page = index.read_text(encoding="utf-8")
    by_url = {item.cdn_url: item for item in VENDORED}
    unknown = sorted({m.group(2) for m in _EXTERNAL_TAG.finditer(page)} - set(by_url))
    if unknown:
        raise PublishError(
            "asv's page loads files this publisher does not know (an asv upgrade?): "
            + ", ".join(unknown)
        )
    modules = install_packages(cache, npm)
    copied: list[str] = []
    manifest: dict[str, str] = {}
    for item in VENDORED:
        if item.cdn_url not in page:
            continue
        source_root = modules / item.package
        target_root = html_dir / "vendor" / f"{item.package}@{item.version}"
        if item.tree is not None:
            if not (target_root / item.tree).exists():
                shutil.copytree(source_root / item.tree, target_root / item.tree)
        else:
            (target_root / item.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_root / item.path, target_root / item.path)
        data = (target_root / item.path).read_bytes()
        manifest[item.local] = hashlib.sha256(data).hexdigest()
        copied.append(item.local)

    def rewire(match: re.Match[str]) -> str:
        item = by_url[match.group(2)]
        if match.group(1).lower() == "script":
            return f'<script src="{item.local}" onerror="js_load_failure()">'
        return f'<link rel="stylesheet" href="{item.local}">'

    page = _EXTERNAL_TAG.sub(rewire, page)
    index.write_text(page, encoding="utf-8")
    # The flame graphs' libraries (the Where page's), which asv's page does not load.
    for local in vendor_flame_libraries(html_dir, cache, npm):
        manifest[local] = hashlib.sha256((html_dir / local).read_bytes()).hexdigest()
        copied.append(local)
    (html_dir / "vendor" / "SHA256SUMS").write_text(
        "".join(f"{digest}  {path}\n" for path, digest in sorted(manifest.items()))
    )
    return copied


def vendor_flame_libraries(folder: Path, cache: Path, npm: str | None = None) -> list[str]:
    """Copy the flame graphs' libraries (``where.FLAME_LIBRARIES``, from the npm cache
    ``cache``) to ``folder/vendor/``; their paths under ``folder``."""
    modules = install_packages(cache, npm)
    copied = []
    for package, version, file in where.FLAME_LIBRARIES:
        local = f"vendor/{package}@{version}/{file}"
        (folder / local).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(modules / package / file, folder / local)
        copied.append(local)
    return copied


def external_references(html_dir: Path) -> list[str]:
    """URLs that a published page would still fetch from outside (empty when self-contained)."""
    found = []
    pages = [*html_dir.glob("*.html"), *html_dir.glob(f"{where.FLAME_DIR}/*.html")]
    for page in sorted(pages):
        found += [m.group(2) for m in _EXTERNAL_TAG.finditer(page.read_text(encoding="utf-8"))]
    return found


NOISE_PAGE = "noise.html"
_NOISE_LINK = f'<li id="nav-li-noise"><a href="{NOISE_PAGE}">Noise</a></li>'
_REGRESSIONS_LINK = re.compile(r'(<li id="nav-li-regressions">.*?</li>)')


def all_noise(project: Project) -> list[Noise]:
    """Every benchmark's noise, the largest any machine in the results shows."""
    largest: dict[str, Noise] = {}
    for machine in machines(project.results_dir):
        for item in noise_module.measure_noise(project, machine):
            if item.benchmark not in largest or item.spread > largest[item.benchmark].spread:
                largest[item.benchmark] = item
    return [largest[name] for name in sorted(largest)]


_WHERE_LINK = f'<li id="nav-li-where"><a href="{where.PAGE}">Where</a></li>'


def _link_page(html_dir: Path, link: str) -> None:
    """``link`` (a navigation-bar item) right after the Regressions one, once."""
    index = html_dir / "index.html"
    page = index.read_text(encoding="utf-8")
    if link not in page:
        page = _REGRESSIONS_LINK.sub(lambda match: match.group(1) + link, page, count=1)
        index.write_text(page, encoding="utf-8")


#: What asv's page runs to link a count benchmark's graph to its flame graphs: a link
#: above the graph while the address (``#name?params``) names a benchmark of ``links``.
_FLAME_LINKS_SCRIPT = """<script id="ws-stack-flame-links">
(function () {
  var links = %s;
  function show() {
    var name = decodeURIComponent(window.location.hash.slice(1)).split("?")[0];
    var old = document.getElementById("ws-stack-flame");
    if (old) { old.remove(); }
    if (!links[name]) { return; }
    var link = document.createElement("a");
    link.id = "ws-stack-flame";
    link.href = links[name];
    link.textContent = "Flame graphs of this call (Python and C)";
    link.style.cssText = "position:fixed;top:60px;right:24px;z-index:1000;" +
      "background:#fff;border:1px solid #ccc;padding:4px 8px";
    document.body.appendChild(link);
  }
  window.addEventListener("hashchange", show);
  window.addEventListener("load", show);
})();
</script>"""
_FLAME_LINKS_TAG = re.compile(r'<script id="ws-stack-flame-links">.*?</script>', re.S)


def _link_flame_graphs(html_dir: Path, links: Path) -> None:
    """asv's page links each count benchmark's graph to its flame graphs (``links``:
    benchmark name to page, as the Where page wrote it), once."""
    if not links.is_file():
        return
    index = html_dir / "index.html"
    page = _FLAME_LINKS_TAG.sub("", index.read_text(encoding="utf-8"))
    mapping = json.dumps(json.loads(links.read_text()), sort_keys=True).replace("</", "<\\/")
    script = _FLAME_LINKS_SCRIPT % mapping
    index.write_text(page.replace("</body>", script + "\n</body>", 1), encoding="utf-8")


def where_page(project: Project) -> Path:
    """Where ``make bench`` keeps the page of breakdowns between publishes."""
    return project.work_dir / "where" / where.PAGE


def write_where_page(project: Project, out: TextIO) -> int:
    """The breakdown of every instruction-count benchmark (first parameters) and of every
    lone call's cache misses at the working tree's package, kept for publishing (see
    :func:`publish`); how many of the first."""
    started = time.monotonic()
    found: dict[str, dict[str, Any]] = {}
    done: set[str] = set()
    for key in where.first_cases(benchmark_meta(project.results_dir)):
        data = where.breakdown(project, key)
        method = str(data.get("method", key))
        if method in done:  # another track of the same call (allocations, per frame)
            continue
        done.add(method)
        found[key] = data
    misses = where.lone_breakdown(project, where.lone_cases(benchmark_meta(project.results_dir)))
    path = where_page(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    where.write_page(project.rev_parse("HEAD"), found, path, misses)
    print(f"Where page: {len(found)} counted calls and {len(misses)} lone calls broken down "
          f"in {time.monotonic() - started:.0f} s", file=out)  # fmt: skip
    return len(found)


def publish(project: Project, noise: Sequence[Noise] | None = None) -> list[str]:
    """``asv publish`` into the configured ``html_dir`` with thresholds from ``noise``
    (measured from the stored results when not given), then make it self-contained.

    Returns the vendored files; raises :class:`PublishError` if anything fails.
    """
    noise = all_noise(project) if noise is None else noise
    limits = noise_module.thresholds(noise, benchmark_names(project.results_dir))
    config = project.derive(
        project.work_dir / "publish" / "asv.conf.json",
        regressions_thresholds=limits,
        regressions_first_commits=noise_module.first_commits(),
    )
    done = subprocess.run(project.asv("publish", config=config), cwd=project.root, check=False)
    if done.returncode != 0:
        raise PublishError(f"asv publish failed ({done.returncode})")
    copied = make_self_contained(project.html_dir, project.work_dir / "npm")
    noise_module.write_page(noise, limits, project.html_dir / NOISE_PAGE)
    _link_page(project.html_dir, _NOISE_LINK)
    kept = where_page(project)
    if kept.is_file():
        shutil.copy(kept, project.html_dir / where.PAGE)
        flames = project.html_dir / where.FLAME_DIR
        if flames.is_dir():
            shutil.rmtree(flames)
        if (kept.parent / where.FLAME_DIR).is_dir():
            shutil.copytree(kept.parent / where.FLAME_DIR, flames)
            _link_flame_graphs(project.html_dir, flames / where.GRAPH_LINKS)
        _link_page(project.html_dir, _WHERE_LINK)
    left = external_references(project.html_dir)
    if left:
        raise PublishError(f"the page still loads {', '.join(left)}")
    return copied
