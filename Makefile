# Two entry points: `make demo` (set up, index the seeds, answer a question, start the UI)
# and `make test` (set up, run the whole test suite). Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test browser lint

SHELL := /bin/bash
# pip warns once per package about index locations a machine's pip configuration names but does not have.
PIP_QUIET = 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; exit $${PIPESTATUS[0]}

$(VENV)/.installed: pyproject.toml
	@echo "==> creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --upgrade pip $(PIP_QUIET)
	@echo "==> installing torch (CPU build, for the sentence-transformers path)"
	@# The CPU build of torch lies on local disk; a plain `torch` would pull GBs of CUDA wheels.
	@$(BIN)/pip install -q torch==2.13.0 $(PIP_QUIET)
	@echo "==> installing rag and its dependencies (a few minutes on a fresh machine)"
	@$(BIN)/pip install -q -e '.[st,milvus,dev]' $(PIP_QUIET)
	@# An editable install is not byte-compiled, and where PYTHONDONTWRITEBYTECODE is set no run ever writes the
	@# cache: every cold `rag ask` would compile the package again (~0.1 s).
	@$(BIN)/python -m compileall -q rag
	@echo "==> $(VENV) is ready"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/rag index seeds/
	$(BIN)/rag ask "厦门有多少持证社会工作者？"
	$(BIN)/rag ask "How many certified social workers does Fujian have?"
	$(BIN)/python ui.py

browser:
	@(command -v chromium >/dev/null && fc-list :lang=zh | grep -q .) || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-cjk) \
		|| echo "chromium could not be installed: the browser test will be skipped"

# pytest exits 5 when it collects no test; that is reported, not hidden as a failure of the build.
test: install browser
	$(BIN)/python -m pytest -q -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

lint: install
	$(BIN)/ruff check rag tests eval ui.py
	$(BIN)/lint-imports
