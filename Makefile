# Two commands set everything up on a fresh machine:
#   make demo   create .venv from docker/requirements.lock (if missing or stale), run the main job
#   make test   create .venv the same way, run the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := docker/requirements.lock
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test demo lock clean

venv: $(STAMP)

# The venv is rebuilt whenever the lock or the package metadata changes.
$(STAMP): $(LOCK) setup.cfg setup.py
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-input --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-input --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/estimator-metrics demo

# Recompile the lock from docker/requirements.in (needs network; uses a throw-away uv).
lock:
	rm -rf .lock-tools && $(PYTHON) -m venv .lock-tools
	.lock-tools/bin/python -m pip install --quiet uv
	.lock-tools/bin/uv pip compile docker/requirements.in --generate-hashes \
	    --python-version 3.11 --python-platform x86_64-manylinux_2_17 \
	    --no-header -o $(LOCK)
	rm -rf .lock-tools

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
