# weaviate-dev — every target is one documented command; see README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# Every install comes from uv.lock; --locked fails (and installs nothing) when pyproject.toml
# changed since the last `make lock`.
SYNC := $(UV) sync --locked
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
# Use the venv's own Python; never download one.
export UV_PYTHON_DOWNLOADS ?= never
# Our fixtures clean up after themselves, and what a killed run left (labelled with its id) is
# removed when the next session starts (src/weaviate_dev/testing/sweep.py), so testcontainers'
# reaper (an image to pull) is not needed; tests reach containers on published 127.0.0.1 ports.
export TESTCONTAINERS_RYUK_DISABLED ?= true
export TESTCONTAINERS_CONNECTION_MODE ?= docker_host

.PHONY: help toolkit install setup dev test unit integration test-arm64 bench lock clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The one install that is not `uv sync`: uv itself, pinned with hashes (exported from the lock
# beside the image's locked files); after this, `uv sync` keeps it at the locked version.
$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		--no-deps -r reranker/requirements/uv.txt

toolkit: $(UV)  ## .venv with the toolkit alone (docker SDK, requests, pyyaml, watchfiles, psutil, huggingface-hub): what `make dev` needs
	$(SYNC) --inexact

install: $(UV)  ## .venv with the toolkit, the test tools and the reranker with every engine (torch)
	$(SYNC) --extra test --group reranker

setup: install  ## Docker engine (installed/started if missing), base image, Weaviate server
	$(BIN)/weaviate-dev setup

dev: toolkit  ## our reranker on 127.0.0.1:8009 + a Weaviate reranking through it on :8080
	$(BIN)/weaviate-dev dev

# Two lanes (conftest.py): the tests that use the dev environment's ports one after another,
# the rest beside them. TEST_LANES=0 runs everything in one process, in order.
TEST_LANES ?= 2
test: setup  ## every test: unit and integration (real Docker, real Weaviate)
	$(BIN)/pytest $(if $(filter-out 0 1,$(TEST_LANES)),-n $(TEST_LANES) --dist loadscope)

unit: install  ## the tests that need no Docker
	$(BIN)/pytest -m "not docker"

integration: setup  ## only the Docker/Weaviate tests
	$(BIN)/pytest -m docker

test-arm64: setup  ## build + probe the default image for linux/arm64 (sets up BuildKit, qemu: minutes)
	$(BIN)/weaviate-dev setup cross
	$(BIN)/pytest reranker/tests/test_image_arm64.py

bench: $(UV)  ## the Weaviate-pattern reranker benchmark (prints figures; not a test)
	$(SYNC) --inexact --extra bench --group reranker
	$(BIN)/python -m bench run $(BENCH_ARGS)

lock: $(UV)  ## re-resolve pyproject.toml into uv.lock and re-export the requirement files
	$(BIN)/python tools/lock.py

clean:  ## remove the virtualenv (images and Go caches are kept)
	rm -rf $(VENV)
