# mini-operators: every target creates and uses its own virtual environment (.venv) and the pinned toolchain,
# built once into ~/.cache/mini-operators (see README.md). `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CLUSTER := $(PY) -m operators.devcluster
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv toolchain up up-nobuiltin down status demo test unit integration lint format crds docs docs-serve bench bench-deployment bench-service bench-netpol clean image chart-lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,docs]'
	@touch $@

venv: $(STAMP) ## create .venv and install the project with its dev and docs extras

toolchain: $(STAMP) ## build kube-apiserver & co., etcd, kwok and helm from the Go module proxy (cached)
	$(CLUSTER) build

up: toolchain ## start the local cluster (a no-op when it is up); prints the KUBECONFIG line
	$(CLUSTER) up

up-nobuiltin: toolchain ## start it without the built-in deployment/replicaset/endpointslice controllers
	$(CLUSTER) up --no-builtin-controllers

down: $(STAMP) ## stop the local cluster's processes and remove its state
	$(CLUSTER) down

status: $(STAMP) ## show the local cluster's components and nodes
	$(CLUSTER) status

demo: up ## the main job: cluster up, CRDs installed, operator running, a MiniReplicaSet converging
	$(PY) -m operators.demo

lint: $(STAMP) ## ruff, mypy --strict, import-linter
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

crds: $(STAMP) ## regenerate crds/ from the pydantic models
	$(PY) -m operators.api.crdgen

# NO_MKDOCS_2_WARNING: Material 9.7+ prints an end-of-life notice about itself on every build (not a build warning).
docs: $(STAMP) ## regenerate the reference pages, build the documentation site into site/ (--strict: no warning)
	$(PY) -m operators.docsgen
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: $(STAMP) ## serve the documentation site at http://127.0.0.1:8000, rebuilt on every change
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict

unit: $(STAMP) ## the unit tests only (no cluster)
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

integration: toolchain ## the integration tests (bring the local cluster up, or reuse it)
	$(VENV)/bin/pytest tests/integration $(PYTEST_ARGS)

test: lint toolchain ## everything CI runs: lint, unit and integration tests on the local cluster
	$(VENV)/bin/pytest -rs $(PYTEST_ARGS)

bench: up ## benchmarks (on demand; they print ratios against the built-in controllers)
	$(PY) benchmarks/replicaset.py

bench-deployment: up ## MiniDeployment against apps/v1 Deployment: a 100-replica rolling update, 50 x 20 fan-out
	$(PY) benchmarks/deployment.py

bench-service: up ## MiniService against KCM's EndpointSlice controller: readiness propagation, 1,000 Services over 10,000 pods
	$(PY) benchmarks/service.py

bench-netpol: $(STAMP) ## the NetworkPolicy engine's matrix benchmark (1,000 pods x 100 policies)
	$(PY) benchmarks/netpol_matrix.py

image: ## build the operator image mini-operators:dev (needs Docker; then kind load docker-image)
	@command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 || { \
	  echo "make image: no Docker here (no docker command, or no daemon answering it)."; \
	  echo "The Dockerfile is checked without it: tests/unit/test_chart.py (and hadolint where installed)."; \
	  exit 1; }
	docker build -t mini-operators:dev .

chart-lint: toolchain ## helm lint --strict the chart, with the pinned helm
	"$$($(PY) -c 'from operators.devcluster.versions import toolchain_dir; print(toolchain_dir() / "bin" / "helm")')" \
	  lint --strict charts/mini-operators

clean: ## remove .venv, caches and the built site in the work tree (not the toolchain cache)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info site
