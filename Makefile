# Every target builds or refreshes .venv from the pinned requirements first,
# so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test migrate bench clean

run: $(STAMP)
	$(PY) -m server

test: $(STAMP)
	@# Browser tests use Debian's Chromium when present (.ci/run installs it),
	@# otherwise Playwright's own build, downloaded once.
	@[ -x /usr/bin/chromium ] || $(PY) -m playwright install chromium
	$(PY) -m pytest

migrate: $(STAMP)
	$(PY) -m server.db

bench: $(STAMP)
	$(PY) -m tests.bench

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11+ is required ($(PYTHON) is $$($(PYTHON) --version))"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache
