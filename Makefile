# pimrec: the two commands that set everything up on a fresh machine.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: demo test venv bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch is pinned and installed first (CPU build); the project's own range accepts it.
$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# Synthetic Criteo-format rows of the demo's reproduction (`codesign reproduce --budget tiny`).
DEMO_ROWS ?= 50000

# The standard DRAM traces on the three plain profiles; then where PIM pays off on hbm2_pim:
# its advantage map (GEMM shapes x batch sizes, host vs PIM) and the Criteo DLRM example
# kernel by kernel with its host-only, naive and best plans at batch 1..256, printed and
# written (tables, heatmaps, timelines) in demo_out/compare/; then the co-design
# reproduction at budget tiny on two operating points (hbm2_pim at batch 1 and 256) in
# demo_out/reproduce (its finished stages are skipped when
# the demo runs again); prints the B/C tables and where report.md is.
demo: $(STAMP)
	$(VENV)/bin/python -m pimsim.cli.demo
	$(VENV)/bin/pimsim compare --profile hbm2_pim --quiet --out demo_out/compare/hbm2_pim
	$(VENV)/bin/pimsim compare --profile hbm2_pim --quiet --workload examples/criteo_dlrm_b256.yaml \
		--out demo_out/compare/criteo_dlrm_hbm2_pim
	$(VENV)/bin/codesign reproduce --dataset criteo --synthetic-rows $(DEMO_ROWS) \
		--profile hbm2_pim --batch 1,256 --latency-limit-us none --budget tiny --out demo_out/reproduce

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 tests

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/sim_speed.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
