# Flint: one entry point. `make up` and `make test` each run `setup` first.
SHELL := /bin/bash
PY := .venv/bin/python
STACK := $(PY) deploy/stack.py

.PHONY: help setup up down status logs reset test test-fast bench asyncapi
help:
	@echo "make up      set up and start Kafka, PostgreSQL and the Flint services"
	@echo "make test    set up and run the whole test suite (starts what it needs)"
	@echo "make status | logs | down | reset"
	@echo "make bench   benchmarks (on demand)"
	@echo "make asyncapi  regenerate docs/asyncapi/ from the contracts"

setup:
	@bash deploy/setup.sh

up: setup
	@$(STACK) up

# The tests run a stack of their own under .flint/test (see tests/support/stack.py).
TEST_STACK := FLINT_STATE_DIR=.flint/test

down:
	@python3 deploy/stack.py down
	@$(TEST_STACK) python3 deploy/stack.py down

status:
	@python3 deploy/stack.py status

logs:
	@python3 deploy/stack.py logs $(NAME)

reset:
	@$(TEST_STACK) python3 deploy/stack.py down
	@python3 deploy/stack.py reset

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) -m bench

asyncapi: setup
	@$(PY) -m flint_contracts.asyncapi --write docs/asyncapi
