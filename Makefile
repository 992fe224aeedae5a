# The README's two commands: `make test` and `make bench`. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test bench lint proto clean

# How many commits of history `make bench` measures (stored results are reused).
BENCH_COMMITS ?= 20

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Benchmark the last $(BENCH_COMMITS) commits with asv and publish html_results/.
bench: $(STAMP)
	$(BIN)/asv machine --yes
	mkdir -p .asv
	git rev-list --first-parent --max-count=$(BENCH_COMMITS) HEAD > .asv/commits.txt
	$(BIN)/asv run --skip-existing-commits --show-stderr HASHFILE:.asv/commits.txt
	$(BIN)/asv publish
	@echo "History published: open html_results/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks

# Regenerate the committed protobuf modules from src/ws_stack/mexc/proto/*.proto.
proto: $(STAMP)
	$(BIN)/python -m ws_stack.mexc.proto.generate

clean:
	rm -rf $(VENV) .asv html_results/.tmp
