# Two commands do all set-up on a fresh machine:
#   make app    create .venv, install, start the app on http://localhost:8501
#   make test   create .venv, install (and Chromium for the browser test), run every test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: app test test-fast bench pretrain clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

app: $(VENV)/.installed
	$(BIN)/python -m streamlit run app.py

test: $(VENV)/.installed
	scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not browser"

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/train_throughput.py

pretrain: $(VENV)/.installed
	$(BIN)/python -m playground pretrain

clean:
	rm -rf $(VENV) .pytest_cache
