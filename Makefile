# One entry point for people and CI: `make demo`, `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test mutants lint bench vectors clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/renkou demo

test: lint
	$(PY) -m pytest

# Each defence of tests/mutants/mutants.toml removed in a scratch copy: its tests must fail.
mutants: $(STAMP)
	$(PY) -m tests.mutants

# What CI checks before the tests: lint, formatting and types (pinned versions, see
# pyproject.toml); mypy reads its packages and strictness from [tool.mypy].
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m tests.bench --all

vectors: $(STAMP)
	$(PY) -m protocol.vectors.generate

clean:
	rm -rf $(VENV)
