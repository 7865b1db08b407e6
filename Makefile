# Flint: one entry point. `make up` and `make test` each run `setup` first.
SHELL := /bin/bash
PY := .venv/bin/python
STACK := $(PY) deploy/stack.py

.PHONY: help setup up demo down status logs reset test test-fast bench faults openapi asyncapi
help:
	@echo "make up      set up and start Kafka, PostgreSQL, the Flint services and the example plugins, then a narrated demo (DEMO=0 skips it)"
	@echo "make test    set up and run the whole test suite (starts what it needs)"
	@echo "make status | logs | down | reset"
	@echo "make bench   benchmarks (on demand; BENCH_QUICK=1 for a short run): one table, JSON in bench/results/"
	@echo "make faults  the long fault suite (its own Kafka, PostgreSQL and services, broken under load)"
	@echo "make up REPLICAS=2   two API and two worker processes per service"
	@echo "make openapi  regenerate docs/openapi/<service>.json"
	@echo "make asyncapi  regenerate docs/asyncapi/ from the contracts"

setup:
	@bash deploy/setup.sh

# Processes per service (deploy/stack.py, FLINT_REPLICAS): `make up REPLICAS=2`.
REPLICAS ?= 1

up: setup
	@FLINT_REPLICAS=$(REPLICAS) $(STACK) up $(if $(filter 0,$(DEMO)),--no-demo)

# The narrated demo again, on the running stack (`make up` runs it once).
demo:
	@$(PY) -m deploy.demo run

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

# The fault suite's long version (the short one runs inside `make test`): tests/faults.
faults: setup
	@FLINT_FAULTS_LONG=1 $(PY) -m pytest -m faults tests/faults $(PYTEST_ARGS)

# Each service's OpenAPI document, generated from its routes (tests/http fails when one is stale).
OPENAPI_SERVICES := installs orders refunds invoicing
openapi: setup
	@for service in $(OPENAPI_SERVICES); do \
	  $(PY) -m flint_chassis.http.write_openapi flint_$$service.app:openapi_app docs/openapi/$$service.json || exit 1; \
	done

asyncapi: setup
	@$(PY) -m flint_contracts.asyncapi --write docs/asyncapi
