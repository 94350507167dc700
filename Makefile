# The two commands: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test chaos bench golden clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.base
	$(BIN)/digest demo

# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser
# download is not used). Installing it needs root; elsewhere install `chromium` yourself.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The bounce mailbox test (tests/bounces/test_imap.py) starts Debian's Dovecot.
DOVECOT := /usr/sbin/dovecot
$(DOVECOT):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd

test: $(VENV)/.dev $(CHROMIUM) $(DOVECOT)
	$(BIN)/python -m pytest

# The chaos suite in full (tests/chaos/, docs/reliability.md): its own PostgreSQL cluster
# and Redis on free loopback ports, real Celery workers and beats, a fault-injecting relay;
# 13 scenarios on editions of 3,000 readers, the relay down for two minutes (~10 min).
# `make test` runs a short subset (tests/chaos/test_chaos.py). The table goes into
# docs/reliability.md; CHAOS_ARGS adds options (`--only NAME ...`, `--subscribers N`).
chaos: $(VENV)/.dev
	$(BIN)/python -m tests.chaos --write-docs $(CHAOS_ARGS)

# Rewrite the mail golden files (tests/render/golden/) from the current templates after a
# deliberate change; review `git diff tests/render/golden` before committing them.
golden: $(VENV)/.dev
	DIGEST_REGENERATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/render/test_golden.py

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache
