# Two entry points for people: `make run` and `make test`. Both build .venv first, from the lock.
# On machines without an NVIDIA GPU we pin the CPU build of torch; see README for CUDA.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
# torch is installed first and kept out of the lock: the CPU build here and in CI, your own
# CUDA or ROCm build on a GPU machine (README). Its dependencies are pinned in the lock.
TORCH_SPEC ?= torch==2.13.0
LOCK   := requirements/lock.txt
STAMP  := $(VENV)/.installed
PINS   := $(VENV)/constraints.txt
ARGS   ?= projects/sample.storyboard

.PHONY: run test test-fast lint check system-deps bench clean lock check-latest wheel smoke

# Everything but torch comes from the lock, with hashes and without resolving (--no-deps): a new
# release elsewhere cannot change what a fresh clone installs. torch's own dependencies are held
# to the lock's releases too (the lock without hashes, as constraints). `pip check` proves the
# whole environment consistent.
$(STAMP): $(LOCK) $(PINS) pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed (python3.11 not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --constraint $(PINS) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

# The lock without its hashes, for the installs that resolve (torch's dependencies, pipx).
$(PINS): $(LOCK)
	@mkdir -p $(VENV)
	grep -E '^[A-Za-z0-9_.-]+==' $(LOCK) | sed 's/ *\\$$//' > $@

system-deps:
	@bash tools/system-deps.sh

run: $(STAMP) system-deps
	$(PY) main.py $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) system-deps lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# For quick iteration: the same lint, then every test but those marked slow (over about 5 s each:
# the benchmarks' CPU smoke runs, a story from the built-in model). `make test` and CI run all.
test-fast: $(STAMP) system-deps lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Refresh the lock: the newest releases pyproject.toml allows, resolved for every platform.
lock: $(STAMP)
	bash tools/lock.sh $(VENV)/bin/uv

# Drift check: the newest allowed releases, not the lock, in a scratch venv, then lint and tests.
check-latest:
	bash tools/check_latest.sh "$(PYTHON)" "$(TORCH_SPEC)"

wheel: $(STAMP)
	rm -rf dist && $(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

# The wheel alone in a clean venv, run from outside the source tree (CI runs it after the tests).
smoke: wheel system-deps $(PINS)
	bash tools/wheel_smoke.sh "$(PYTHON)" "$(TORCH_SPEC)" $(LOCK) $(PINS)

bench: $(STAMP)
	$(PY) -m bench.project_io

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist build
