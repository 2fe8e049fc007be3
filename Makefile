# Two commands matter: `make demo` (the main job) and `make test`. Both set everything up on
# first use, offline but for the package registries: a venv in .venv from requirements.txt and
# node_modules from package-lock.json (solc-js, Anvil, Ganache, OpenZeppelin).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SLITHER_VENV := .venv-slither
BIN := $(CURDIR)/$(VENV)/bin

# The npm compiler stands in for a native solc (tools/solc); Anvil and Ganache come from npm.
export SOLCX_BINARY_PATH := $(CURDIR)/tools/solc/bin
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
export PYTHONPATH := $(CURDIR)
# Brownie and hypothesis keep caches; keep them inside the repo, never in $HOME.
export MPLCONFIGDIR := $(CURDIR)/.cache/matplotlib

NETWORK ?= development

.PHONY: help setup compile slither slither-analysis fuzz test test-python python-tests test-contracts test-ganache test-ganache-full demo bench load clean

help:
	@echo "make demo    deploy the bond on a local Anvil that keeps its state in .demo/; serve the investor page"
	@echo "             (:8501) and the issuer back office (127.0.0.1:8502, a demo login is printed)"
	@echo "make test    compile, Slither, the Python tests, the contract tests on Anvil and the Ganache compatibility suite"
	@echo "make test-ganache-full  the whole contract suite on Ganache too (make fuzz's company: long)"
	@echo "make bench   measure gas, throughput and page speed; write reports/bench*.json and a summary"
	@echo "make load    load test: 1,000 holders, 10,000 transfers, a coupon to all, a year of reports; reports/load.json"
	@echo "make setup   only install (venv + npm packages + the greenbond command); every target does this on first use"
	@echo "make slither static analysis (own venv .venv-slither); fails on any unsuppressed High/Medium finding"
	@echo "make fuzz    the stateful property tests with 10x the CI examples (GREENBOND_FUZZ_FACTOR)"

setup: $(VENV)/.installed node_modules/.installed

# requirements.txt pins every dependency; then the package itself, editable, without its (empty)
# dependencies (pyproject.toml): the `greenbond` command in .venv/bin. The build backend comes from
# the registry into pip's isolated build environment (a fresh venv has no `wheel` for setuptools 65).
$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

compile: setup
	brownie compile

# Slither's analysis (one process, about 45 s) runs beside the Python tests (two workers that
# often wait on their chains and browsers): 3 min 9 s for both against 3 min 50 s one after the
# other, measured on a set-up clone. Everything that writes build/ (compile, Slither's AST check)
# runs before them. The contract suites stay apart: beside each other or beside the Python tests
# they are slower on two cores (docs/testing.md).
test: compile $(SLITHER_VENV)/.installed
	$(BIN)/python tools/slither_compile.py
	@$(MAKE) --no-print-directory -j2 --output-sync=target slither-analysis python-tests
	@$(MAKE) --no-print-directory test-contracts test-ganache

# Slither needs its own venv (its pins differ from Brownie's). tools/slither_compile.py checks
# Brownie's build against one solc run (recompiling everything only when an incremental build
# mixed runs) and keeps the interface ASTs Brownie drops, which Slither needs.
# Accepted findings are suppressed in the contracts and explained in docs/slither-triage.md.

$(SLITHER_VENV)/.installed: requirements-slither.txt
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet -r requirements-slither.txt
	@touch $@

SLITHER_ANALYSIS = $(SLITHER_VENV)/bin/slither . --compile-force-framework brownie --ignore-compile \
	--config-file slither.config.json --fail-medium

slither: setup $(SLITHER_VENV)/.installed
	$(BIN)/python tools/slither_compile.py
	$(SLITHER_ANALYSIS)

# (make test's parts that run side by side: neither compiles)
slither-analysis:
	$(SLITHER_ANALYSIS)

# The stateful property tests with 10x the examples CI runs (each test reads
# GREENBOND_FUZZ_FACTOR as a multiplier of its own CI numbers; unset = CI).
FUZZ_FACTOR ?= 10
FUZZ_TESTS := tests/contracts/integration/test_bond_stateful.py \
	tests/contracts/CouponSchedule/test_schedule_stateful.py \
	tests/contracts/ImpactOracle/test_oracle_stateful.py \
	tests/contracts/Offering/test_offering_stateful.py \
	tests/contracts/Security/test_system_stateful.py

# The five tests on two workers (each test whole on one): 24 min at 10x here, measured
# (system 883 s, bond 870 s, offering 338 s, oracle 294 s, schedule 194 s).
FUZZ_ARGS ?= -n $(TEST_WORKERS) --durations=5

fuzz: compile
	@$(call PORTS_FREE,8545 8546)
	GREENBOND_FUZZ_FACTOR=$(FUZZ_FACTOR) brownie test $(FUZZ_TESTS) $(FUZZ_ARGS)

# Two workers (this is a 2-core machine): Python test files are spread over them whole
# (--dist loadfile keeps a file's module fixtures, such as a demo-like chain, built once).
TEST_WORKERS ?= 2

PYTHON_TESTS = $(BIN)/python -m pytest -p no:pytest-brownie -q -n $(TEST_WORKERS) --dist loadfile tests/python tests/e2e

test-python: compile
	$(PYTHON_TESTS)

python-tests:
	$(PYTHON_TESTS)

# Brownie's xdist workers each launch their own Anvil on 8545 + worker number (8545, 8546):
# refuse to start when something already listens there (a `make demo` chain on 8546), since
# Brownie would attach to it and run the tests against it.
PORTS_FREE = for port in $(1); do \
	  if (exec 3<>/dev/tcp/127.0.0.1/$$port) 2>/dev/null; then \
	    echo "error: port $$port is in use (a make demo chain?); the contract tests need it: stop it first" >&2; exit 1; fi; \
	done

test-contracts: compile
	@$(call PORTS_FREE,8545 8546)
	brownie test tests/contracts -n $(TEST_WORKERS)

# The Ganache compatibility suite: the tests marked `compat` (deploy, a bond's whole life, each
# contract's main paths, the register at a date) on Ganache; the full suite runs on Anvil.
test-ganache: compile
	@$(call PORTS_FREE,8555)
	brownie test tests/contracts -m compat --network ganache-cli

test-ganache-full: compile
	@$(call PORTS_FREE,8555)
	brownie test tests/contracts --network ganache-cli

demo: compile
	$(BIN)/python -m greenbond.demo $(DEMO_ARGS)

# Each part starts its own local chain; run nothing else on ports 8545/8555 meanwhile.
bench: compile
	brownie run scripts/bench.py
	$(BIN)/python -m bench.feeder
	$(BIN)/python -m bench.pageview
	$(BIN)/python -m bench.schedule
	$(BIN)/python -m bench.report

# Starts its own Anvil on a free port; exits non-zero if anything was lost (reports/load.json says what).
load: compile
	$(BIN)/python -m bench.load $(LOAD_ARGS)

clean:
	rm -rf build .demo .cache reports/*.tmp
