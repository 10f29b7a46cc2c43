# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test bench leaderboard clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pix2code demo

test: $(STAMP)
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) -p no:cacheprovider

bench: $(STAMP)
	$(PY) benchmarks/bench_env.py
	$(PY) benchmarks/bench_search.py

# Regenerates every published submission (leaderboard/submissions/*.json, resuming from journals),
# verifies them and rebuilds leaderboard/LEADERBOARD.md and leaderboard/site/ (~4.5 CPU-hours).
# Suites on CURI's released list run only with PIX2CODE_CURI_CONCEPT_LIST set.
LEADERBOARD_WORKERS ?= 2
leaderboard: $(STAMP)
	$(PY) -m leaderboard.publish --workers $(LEADERBOARD_WORKERS) $(LEADERBOARD_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
