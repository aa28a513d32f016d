# Set-up, run and test. Every target creates the virtualenv and installs first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.install-stamp

.PHONY: install run serve test lint format clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Test-only tools from npm (axe-core, the W3C Nu validator); `npm ci` installs exactly the lock file.
NODE_STAMP := node_modules/.install-stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

.env: | $(STAMP)
	$(PY) scripts/make_dev_env.py .env

# One attempt at the English speech model; without it voice input is off and typing still works.
speech-models/.download-attempted: | $(STAMP)
	-timeout 180 $(PY) manage.py download_speech_model --timeout 15 \
		|| echo "Speech model not installed: voice input stays off (typing works). Retry: $(PY) manage.py download_speech_model"
	mkdir -p speech-models && touch $@

## run: set up, migrate, load demo data into an empty database, serve http://127.0.0.1:$(PORT) with one task worker
run: install .env speech-models/.download-attempted
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(MAKE) --no-print-directory serve

# The web server and one task worker, from the Procfile; Ctrl-C stops both.
# honcho gives the first process (web) the port passed with --port. It reads no
# .env itself (--env /dev/null): settings.py does, with the environment winning.
serve: install
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start --env /dev/null --procfile Procfile --port $(PORT)

## test: set up and run the whole suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
test: install .env $(NODE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache
