# The two commands of the README: `make demo` and `make test`. Both build .venv first, from the
# lock file (exact versions with hashes); pyproject.toml keeps the ranges. After changing a
# dependency in pyproject.toml run `make lock` (one command: resolves against the package
# registry and rewrites requirements.lock and requirements-test.lock).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(TEST_LOCK) | sha1sum | cut -c1-12)
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv
COMPILE = $(UV) pip compile pyproject.toml deploy/build-requirements.in --universal \
	--python-version 3.11 --generate-hashes --quiet $(LOCK_ARGS)

.PHONY: demo test lint translations lock lock-upgrade

$(STAMP): pyproject.toml $(TEST_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/flask --app portal demo $(if $(PORT),--port $(PORT),)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Re-resolve pyproject.toml's ranges into the two lock files (keeps the versions already locked
# where they still fit; `make lock-upgrade` takes the newest). The runtime lock is what the
# Dockerfile installs; the test lock adds the test extra at the same versions.
lock:
	test -x $(UV) || ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet 'uv>=0.5')
	$(COMPILE) -o $(LOCK)
	$(COMPILE) --extra test -c $(LOCK) -o $(TEST_LOCK)

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# Re-extract the English msgids and merge them into the Chinese catalog, then compile.
# Translate new entries in portal/translations/zh_CN/LC_MESSAGES/messages.po and run again.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations -l zh_CN \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d portal/translations --use-fuzzy
