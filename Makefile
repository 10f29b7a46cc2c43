# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test bench clean

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

clean:
	rm -rf $(VENV) build *.egg-info
