# Two commands do all set-up on a fresh machine:
#   make app    create .venv, install, start the app on http://localhost:8501 (this machine only;
#               HOST=0.0.0.0 serves the LAN: see "Serving a class on a LAN" in the README)
#   make app-dev the same with full error details (tracebacks) for development
#   make test   create .venv, install (and Chromium for the browser test), run every test
#   make cluster install Ray, for PLAYGROUND_EXECUTOR=ray
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: app app-dev test test-fast bench pretrain cluster clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

HOST ?= 127.0.0.1
PORT ?= 8501

app: $(VENV)/.installed
	$(BIN)/python -m streamlit run app.py --server.address $(HOST) --server.port $(PORT)

app-dev: $(VENV)/.installed
	$(BIN)/python -m streamlit run app.py --server.address $(HOST) --server.port $(PORT) --client.showErrorDetails full

test: $(VENV)/.installed
	scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m "not browser"

# Ray for PLAYGROUND_EXECUTOR=ray (see "Attaching a Ray cluster" in the README)
cluster: | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt -r requirements-cluster.txt

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/train_throughput.py

pretrain: $(VENV)/.installed
	$(BIN)/python -m playground pretrain

clean:
	rm -rf $(VENV) .pytest_cache
