# `make run`: install, initialise or upgrade the database (keeping its data), serve on http://127.0.0.1:$(PORT)
# `make test`: install, run the whole suite (SQLite and PostgreSQL)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

.PHONY: run test bench install chromium

install: $(STAMP) $(WEB_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Web assets (bpmn-js, bpmnlint) from the npm registry, exactly as package-lock.json pins them.
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $(WEB_STAMP)

run: install
	$(BIN)/workflows init --demo
	$(BIN)/workflows serve --port $(PORT)

test: install chromium
	$(BIN)/python -m pytest -q
	cd web && npm test --silent

# Browser tests drive the system's Chromium (Debian package; Playwright's own browser downloads are not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

bench: $(STAMP)
	$(BIN)/python bench/case_throughput.py
