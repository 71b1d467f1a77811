# weaviate-dev — every target is one documented command; see README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Our fixtures clean up after themselves, so testcontainers' reaper (an image to pull) is not
# needed; tests reach containers on published 127.0.0.1 ports.
export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_CONNECTION_MODE ?= docker_host

.PHONY: help install setup dev test unit integration bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

install: $(VENV)/.installed  ## create .venv with the toolkit, the reranker and test tools

$(VENV)/.installed: pyproject.toml reranker/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e ".[test]" -e "./reranker[torch,onnx,export]"
	touch $@

setup: install  ## Docker engine (installed/started if missing), base image, Weaviate server
	$(BIN)/weaviate-dev setup

dev: setup  ## our reranker on 127.0.0.1:8009 + a Weaviate reranking through it on :8080
	$(BIN)/weaviate-dev dev

test: setup  ## every test: unit and integration (real Docker, real Weaviate)
	$(BIN)/pytest

unit: install  ## the tests that need no Docker
	$(BIN)/pytest -m "not docker"

integration: setup  ## only the Docker/Weaviate tests
	$(BIN)/pytest -m docker

bench: install  ## the Weaviate-pattern reranker benchmark (prints figures; not a test)
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python -m bench run $(BENCH_ARGS)

clean:  ## remove the virtualenv (images and Go caches are kept)
	rm -rf $(VENV)
