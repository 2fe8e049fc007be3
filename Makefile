# Two commands matter: `make demo` (the main job) and `make test`. Both set everything up on
# first use, offline but for the package registries: a venv in .venv from requirements.txt and
# node_modules from package-lock.json (solc-js, Anvil, Ganache, OpenZeppelin).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

# The npm compiler stands in for a native solc (tools/solc); Anvil and Ganache come from npm.
export SOLCX_BINARY_PATH := $(CURDIR)/tools/solc/bin
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
export PYTHONPATH := $(CURDIR)
# Brownie and hypothesis keep caches; keep them inside the repo, never in $HOME.
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib

NETWORK ?= development

.PHONY: help setup compile test test-python test-contracts test-ganache demo bench clean

help:
	@echo "make demo    deploy the bond on a local Anvil that keeps its state in .demo/, and show it"
	@echo "make test    compile, then run the Python tests and the contract tests on Anvil and Ganache"
	@echo "make bench   measure gas, throughput and page speed; write reports/bench*.json and a summary"
	@echo "make setup   only install (venv + npm packages); every target does this on first use"

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

compile: setup
	brownie compile

test: compile test-python test-contracts test-ganache

test-python: compile
	$(BIN)/python -m pytest -p no:pytest-brownie -q tests/python tests/e2e

test-contracts: compile
	brownie test tests/contracts

test-ganache: compile
	brownie test tests/contracts --network ganache-cli

demo: compile
	$(BIN)/python -m greenbond.demo $(DEMO_ARGS)

# Each part starts its own local chain; run nothing else on ports 8545/8555 meanwhile.
bench: compile
	brownie run scripts/bench.py
	$(BIN)/python -m greenbond.feeder.bench
	$(BIN)/python -m greenbond.pageview_bench
	$(BIN)/python -m greenbond.benchreport

clean:
	rm -rf build .demo .cache reports/*.tmp
