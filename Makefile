# The product's front door: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      := .venv/bin/python
RASA    := .venv/bin/rasa
STAMP   := .venv/.installed

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run test train shell bench eval validate seed test-stories clean browser lint cluster cluster-reset haproxy drill

help:
	@echo "make run     set up on first use, load the demo data, train if needed, start everything"
	@echo "make test    lint, check the import rules, validate the data, train if needed, run every test, then the fault drills"
	@echo "make shell   talk to the assistant in this terminal (needs make run in another)"
	@echo "make train   train the model if config or data changed"
	@echo "make eval    NLU on a held-out split, then the conversation corpus (task success, next steps, fallbacks)"
	@echo "make bench   turn latency at 8 concurrent conversations; outreach planning over 10,000 accounts; the outreach send rate"
	@echo "make cluster the production shape: PostgreSQL, Redis, RASA_INSTANCES Rasa and action servers behind HAProxy"
	@echo "make cluster-reset  drop the cluster's databases and Redis keys: a fresh demo"
	@echo "make drill   kill -9 each kind of cluster process under 20 conversations, and the outage drills (make test runs them last)"

$(STAMP): requirements.lock pyproject.toml scripts/setup-venv.sh
	@scripts/setup-venv.sh

seed: $(STAMP)
	@.venv/bin/selfpay seed --if-empty

train: $(STAMP)
	@$(PY) -m bot.train

# the house's rules: ruff, and the import contracts in pyproject.toml
lint: $(STAMP)
	@.venv/bin/ruff check billing bot connectors desk selfpay tests bench
	@.venv/bin/lint-imports --no-cache

validate: $(STAMP)
	@$(PY) -m bot.validate

run: $(STAMP) seed train
	@$(PY) -m bot.serve

shell: $(STAMP)
	@$(PY) -m bot.chat

browser:
	@scripts/setup-browser.sh

haproxy:
	@scripts/setup-haproxy.sh

cluster: $(STAMP) haproxy train
	@$(PY) -m bot.cluster

cluster-reset: $(STAMP)
	@$(PY) -m bot.cluster --reset

# the fault drills against the cluster shape (tests/cluster/)
drill: $(STAMP) haproxy train
	@$(PY) -m pytest -q tests/cluster

test: $(STAMP) browser haproxy lint validate train
	@$(PY) -m pytest -q tests --ignore=tests/cluster
	@$(MAKE) --no-print-directory test-stories
	@$(PY) -m pytest -q tests/cluster

test-stories: $(STAMP)
	@$(PY) -m bot.test_stories

eval: $(STAMP) train
	@$(PY) -m bot.evaluate

bench: $(STAMP) train
	@$(PY) -m bench.turns
	@$(PY) -m bench.outreach_plan
	@$(PY) -m bench.outreach_send

clean:
	rm -rf var models results .pytest_cache
