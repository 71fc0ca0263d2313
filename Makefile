# Two commands set everything up on a fresh machine:
#   make demo   create .venv from docker/requirements.lock (if missing or stale), run the main job
#   make test   create .venv the same way, and .venv-keras3 from docker/requirements-keras3.lock;
#               run lint, format, architecture and type checks, the whole test suite in .venv
#               (TensorFlow 2.15, Estimator; with tests/packaging: build, twine, the sdist's
#               install, each extra resolved for Python 3.9-3.13), then the Keras 3 tests in
#               .venv-keras3, then the smoke on Debian's own Python 3.9 (`make smoke`)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := docker/requirements.lock
STAMP  := $(VENV)/.installed
# Where Estimator is gone: TensorFlow 2.21, Keras 3, numpy 2, no tensorflow-estimator.
K3_VENV  := .venv-keras3
K3_BIN   := $(K3_VENV)/bin
K3_LOCK  := docker/requirements-keras3.lock
K3_STAMP := $(K3_VENV)/.installed
PYTEST_ARGS ?=
# The Keras 3 run: every test marked keras3 (the twins, import safety, the clear errors, the
# Keras half of `make destination`). `make test K3_PYTEST_ARGS=-x` etc.
K3_PYTEST_ARGS ?=
# Where `make destination` keeps the checkpoint and data its two halves share.
DESTINATION_DIR ?= .destination

.PHONY: venv venv-keras3 test test-keras3 smoke check docs demo destination lock clean \
	image-check matrix bench bench-migrate

venv: $(STAMP)
venv-keras3: $(K3_STAMP)

# Each venv is rebuilt whenever its lock or the package metadata changes: hash-checked
# installs of the lock, this package on top without dependencies, then pip check.
$(STAMP): $(LOCK) setup.cfg setup.py pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-input --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-input --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

$(K3_STAMP): $(K3_LOCK) setup.cfg setup.py pyproject.toml
	rm -rf $(K3_VENV)
	$(PYTHON) -m venv $(K3_VENV)
	$(K3_BIN)/python -m pip install --quiet --no-input --require-hashes --no-deps -r $(K3_LOCK)
	$(K3_BIN)/python -m pip install --quiet --no-input --no-deps --no-build-isolation -e .
	$(K3_BIN)/python -m pip check
	touch $@

# DESTINATION_PYTHON: the Keras half of tests/legacy_examples/test_destination.py runs there.
test: $(STAMP) $(K3_STAMP) check
	DESTINATION_PYTHON=$(abspath $(K3_BIN))/python $(BIN)/python -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-keras3
	$(MAKE) --no-print-directory smoke

test-keras3: $(K3_STAMP)
	$(K3_BIN)/python -m pytest -m keras3 $(K3_PYTEST_ARGS)

# A real interpreter besides the host's: the builders, adapter and twins tests on Debian
# bullseye's own Python 3.9 with docker/requirements-py39.lock (noxfile.py session `smoke`;
# the Debian root is made once by docker/debian-python.sh and kept in /var/tmp; needs root).
# 3-4 minutes, most of it the venv's install on the first run in a checkout.
smoke: $(STAMP)
	$(BIN)/nox -s smoke

# Lint, format, the import contracts, strict types of the public modules (pyproject.toml) and
# the docs site: seconds, so they run first.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(MAKE) --no-print-directory docs

# The documentation site (mkdocs.yml, docs/) into site/. --strict: a broken link or anchor, a
# missing include or an API reference that does not resolve fails the build. Not --quiet:
# mkdocs 1.6 then drops the warnings and --strict passes whatever they say.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

demo: $(STAMP)
	$(BIN)/estimator-metrics demo

# Leaving Estimator: the classifier example trained and evaluated as an Estimator with the
# builders in .venv (TensorFlow 2.15), then its checkpoint loaded into the equivalent Keras
# model and evaluated with model.evaluate and the twins in .venv-keras3 (TensorFlow 2.21,
# Keras 3); prints both sides and exits 1 if a metric differs beyond its tolerance.
destination: $(STAMP) $(K3_STAMP)
	$(BIN)/python -m estimator_metrics.legacy_examples.destination estimator \
	    --dir $(DESTINATION_DIR)
	$(K3_BIN)/python -m estimator_metrics.legacy_examples.destination keras \
	    --dir $(DESTINATION_DIR)

# Recompile the three locks (needs network; uses a throw-away uv). The Keras 3 lock's platform
# is newer: TensorFlow 2.21's wheels are tagged manylinux_2_27; the smoke's is for Python 3.9.
lock:
	rm -rf .lock-tools && $(PYTHON) -m venv .lock-tools
	.lock-tools/bin/python -m pip install --quiet uv
	.lock-tools/bin/uv pip compile docker/requirements.in --generate-hashes \
	    --python-version 3.11 --python-platform x86_64-manylinux_2_17 \
	    --no-header -o $(LOCK)
	.lock-tools/bin/uv pip compile docker/requirements-keras3.in --generate-hashes \
	    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	    --no-header -o $(K3_LOCK)
	.lock-tools/bin/uv pip compile docker/requirements-py39.in --generate-hashes \
	    --python-version 3.9 --python-platform x86_64-manylinux_2_17 \
	    --no-header -o docker/requirements-py39.lock
	rm -rf .lock-tools

clean:
	rm -rf $(VENV) $(K3_VENV) $(DESTINATION_DIR) build dist *.egg-info .pytest_cache site

# The suite once per (Python, TensorFlow line): Python 3.11 on the host with TensorFlow
# 2.12-2.15 (whole suite) and 2.16, 2.21 (Keras 3 tests); Debian bullseye's Python 3.9 with
# 2.12 and 2.15 (whole suite); Debian trixie's Python 3.13 with 2.21 (Keras 3 tests). One nox
# session and venv each under .matrix/ (noxfile.py; nox is the locked one in .venv), then the
# table, also in .matrix/results.md. About an hour on 2 quiet cores; needs root (Debian roots).
# MATRIX_ARGS go to nox, e.g. MATRIX_ARGS="-t tf2.12 -- -k adapter" (lines by tag, then
# pytest's arguments) or "--reuse-venv=never" (fresh venvs); `.venv/bin/nox -l` lists the lines.
MATRIX_ARGS ?=
matrix: $(STAMP)
	$(BIN)/nox $(MATRIX_ARGS)

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
	$(MAKE) --no-print-directory bench-migrate

# `estimator-metrics migrate` on a generated tree of 100 and 1,000 files shaped like public
# repositories: the single-process full parse against the command as shipped, time per file
# and peak memory; writes benchmarks/results-migrate.md (about 15 min on 2 cores). E.g.
# BENCH_MIGRATE_ARGS="--quick" (smoke run) or "--rounds 2".
BENCH_MIGRATE_ARGS ?=
bench-migrate: $(STAMP)
	$(BIN)/python -m benchmarks.migrate_scale $(BENCH_MIGRATE_ARGS)
