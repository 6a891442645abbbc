# fourhour developer tasks. `make demo` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check bench lint format install system-deps clean assets chromium

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# WeasyPrint (PDF reports) needs Pango and HarfBuzz's subsetter, and the charts need Liberation
# Sans (metric-compatible with Arial, the font vl-convert lays the charts out in); installed only
# where missing.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
	fonts-liberation fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

system-deps:
	@libs="$$({ ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null)"; \
	if ! echo "$$libs" | grep -q libpangoft2 || ! echo "$$libs" | grep -q libharfbuzz-subset \
		|| ! fc-list 2>/dev/null | grep -qi "Liberation Sans"; then \
		echo "Installing $(SYSTEM_PACKAGES) (for the PDF reports)"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(SYSTEM_PACKAGES); \
	fi

$(STAMP): $(BIN)/python pyproject.toml constraints.txt | system-deps
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: system-deps $(STAMP)

# The web dashboard's front-end (npm: nhsuk-frontend, and axe-core for the accessibility tests),
# copied into a git-ignored folder that `fourhour serve` serves itself: never committed, never a
# CDN. The NHS font's @font-face rules point at a CDN, so they are dropped (Arial stands in).
VENDOR := src/fourhour/web/static/vendor
NHSUK := node_modules/nhsuk-frontend/dist/nhsuk

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

$(VENDOR)/.copied: node_modules/.package-lock.json
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)
	sed -E 's/@font-face\{[^}]*\}//g' $(NHSUK)/nhsuk-frontend.min.css > $(VENDOR)/nhsuk-frontend.min.css
	cp $(NHSUK)/nhsuk-frontend.min.js $(VENDOR)/
	cp -R $(NHSUK)/assets $(VENDOR)/assets
	cp node_modules/axe-core/axe.min.js $(VENDOR)/
	@touch $@

assets: $(VENDOR)/.copied

# Debian's Chromium drives the browser tests (Playwright with executable_path); only if missing.
chromium:
	@[ -x /usr/bin/chromium ] || { echo "Installing Debian's chromium (for the browser tests)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install \
			-y -qq --no-install-recommends chromium; }

demo: $(STAMP)
	$(BIN)/fourhour demo --dir demo

test: $(STAMP) assets chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The everyday loop: lint and the fast unit tests (no real data set, Spark, browser or slow
# end-to-end tests; `make test` runs everything).
check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -n 2 -q -m "not slow and not realdata and not spark" \
		--ignore=tests/browser

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/cli_bench.py
	$(BIN)/python bench/patients_bench.py
	$(BIN)/python bench/capacity_bench.py
	$(BIN)/python bench/forecast_bench.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) demo .pytest_cache build *.egg-info src/*.egg-info
