# `make run`: install, initialise or upgrade the database (keeping its data), serve on http://127.0.0.1:$(PORT)
# `make test`: install, run the whole suite (SQLite and PostgreSQL), then the bounded fuzz run
# `make fuzz`: schemathesis against a local server on a free port, as every demo role (FUZZ_EXAMPLES per operation;
# FUZZ_SECONDS > 0: fuzzing again and again for that long)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# A second server (`PORT=5101 make run`) gets its own database beside the first's, unless one is given
DATABASE_URL ?= $(or $(WORKFLOWS_DATABASE_URL),sqlite:///var/workflows$(if $(filter 5000,$(PORT)),,-$(PORT)).db)
FUZZ_SECONDS ?= 0
FUZZ_EXAMPLES ?= 1
FUZZ_PHASES ?= examples,fuzzing
# pytest workers: one more than the cores. A worker often waits (Chromium drawing a page, a server or scheduler
# process starting, a long poll, PostgreSQL): measured on 2 cores, two workers kept the cores 57 % busy (352 CPU-s
# over 308 s), so a third takes up the waits. On a quiet 2-core machine a fresh clone's `.ci/run` took 4 min 18 s in
# all with three (pytest 3 min 24 s; two workers: 3 min 49 s).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
STAMP := $(VENV)/.installed
WEB_STAMP := web/node_modules/.installed

.PHONY: run test fuzz bench bench-instructions bench-scale install chromium

install: $(STAMP) $(WEB_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Web assets (bpmn-js, bpmnlint, ECharts, htmx) from the npm registry, exactly as package-lock.json pins them, and
# the browser bundles built from them into web/dist (not in git). A package the npm cache already holds is taken
# from it (--prefer-offline): the lock pins it by checksum, so a clean checkout (CI) does not fetch it again.
$(WEB_STAMP): web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*.* web/src/*/*.*)
	cd web && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	cd web && npm run build --silent
	touch $(WEB_STAMP)

run: install
	$(BIN)/workflows --database-url $(DATABASE_URL) init --demo
	$(BIN)/workflows --database-url $(DATABASE_URL) serve --port $(PORT)

# pytest across the cores (pytest-xdist); compiled modules kept in __pycache__ even where the environment turns
# that off (PYTHONDONTWRITEBYTECODE), or every worker of every run compiles and rewrites the whole tree again.
test: install chromium
	$(BIN)/lint-imports --no-cache
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal
	cd web && npm test --silent
	$(MAKE) --no-print-directory fuzz

fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_api.py --seconds $(FUZZ_SECONDS) --examples $(FUZZ_EXAMPLES) --phases $(FUZZ_PHASES)

# Browser tests drive the system's Chromium (Debian package; Playwright's own browser downloads are not used).
chromium:
	@(command -v chromium && dpkg -s fonts-noto-cjk) >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk)

bench: $(STAMP)
	$(BIN)/python bench/case_throughput.py

# Instructions a case costs (callgrind: the same from run to run, to compare two trees).
bench-instructions: $(STAMP)
	$(BIN)/python bench/instructions.py

# A million cases on PostgreSQL (a database of its own on 127.0.0.1:5432): the desk's and the statistics' p50/p95.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py
