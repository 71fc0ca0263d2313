# Two commands set everything up on a fresh machine:
#   make demo   create .venv from docker/requirements.lock (if missing or stale), run the main job
#   make test   create .venv the same way, run lint, format and architecture checks, then
#               the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := docker/requirements.lock
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test check demo lock clean image-check matrix bench

venv: $(STAMP)

# The venv is rebuilt whenever the lock or the package metadata changes.
$(STAMP): $(LOCK) setup.cfg setup.py pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-input --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-input --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

test: $(STAMP) check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint, format and the import contracts (pyproject.toml): seconds, so they run first.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

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

# The suite once per TensorFlow line (2.12-2.15): one nox session and venv each under .matrix/
# (noxfile.py; nox is the locked one in .venv), then the table, also in .matrix/results.md.
# MATRIX_ARGS go to nox, e.g. MATRIX_ARGS="-s tf-2.12 tf-2.15 -- -k adapter" (lines, then
# pytest's arguments) or "--reuse-venv=never" (fresh venvs); `.venv/bin/nox -l` lists the lines.
MATRIX_ARGS ?=
matrix: $(STAMP)
	MATRIX_PYTHON=$(PYTHON) $(BIN)/nox $(MATRIX_ARGS)

# Build docker/Dockerfile for real and run the suite and the demo in the image. Needs
# root and minutes; installs what it needs; not part of `make test`. See docker/README.md.
image-check:
	bash docker/verify.sh

# Benchmarks of the metric layer (per-step cost in Estimator.evaluate, graph size as classes
# grow, peak memory): prints the tables and writes benchmarks/results.md (15-20 min on 2
# cores; not part of `make test`). E.g. BENCH_ARGS="--quick" (smoke run), or
# BENCH_ARGS="--plot-python /path/to/python-with-matplotlib" for the optional PNG.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)
