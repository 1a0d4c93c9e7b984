# `make test` and `make demo` work on a fresh machine that has Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test test-long demo demo-spark bench lint clean vendor

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench,spark]'
	@# Bytecode now, whatever PYTHONDONTWRITEBYTECODE says: start-up then never compiles.
	$(BIN)/python -m compileall -q -j 0 src $(VENV)/lib > /dev/null || true
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -q

test-long: $(STAMP)
	LAMINAR_TEST_LONG=1 $(BIN)/pytest -q -m '' -o timeout=1200  # a property test's 10x examples outlast 60 s

demo: $(STAMP)
	$(BIN)/python examples/demo.py

demo-spark: $(STAMP)
	$(BIN)/python examples/spark_price_alerts.py

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache

# Maintainers only: rebuild the console's vendored browser libraries (CodeMirror 6 +
# lang-sql bundle, uPlot) from npm; the result is committed. Needs node and npm.
vendor:
	bash vendor/build.sh
