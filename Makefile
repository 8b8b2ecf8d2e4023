# gdlite: `make demo` and `make test` work from a fresh clone; see `make help`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEPS := $(VENV)/.deps-installed
DEV_DEPS := $(VENV)/.dev-deps-installed
NB_DEPS := $(VENV)/.notebook-deps-installed
LAB_DEPS := $(VENV)/.lab-deps-installed
EXT := gdlite/_C$(shell $(PYTHON) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
CSOURCES := $(wildcard csrc/core/*.c csrc/core/*.h csrc/core/*.def csrc/py/*.c csrc/py/*.h)
ASAN_DIR := build/asan
BLAS_INC = $(shell $(PY) -c "import scipy_openblas32 as s; print(s.get_include_dir())")
BLAS_LIB = $(shell $(PY) -c "import scipy_openblas32 as s; print(s.get_lib_dir())")

TSAN_DIR := build/tsan

.PHONY: help install dev build demo notebooks lab test bench asan tsan format format-check lint check-core clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEPS): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(NB_DEPS): requirements.txt requirements-notebooks.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-notebooks.txt
	touch $@

$(LAB_DEPS): $(NB_DEPS)
	$(PY) -m pip install --quiet jupyterlab
	touch $@

$(DEV_DEPS): requirements.txt requirements-notebooks.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(EXT): $(DEPS) $(CSOURCES) setup.py
	$(PY) setup.py --quiet build_ext --inplace -j 2
	$(PY) -m pip install --quiet --no-build-isolation --no-deps -e .

install: $(EXT)  ## create .venv, install what gdlite and the demo need, build in place

dev: install $(DEV_DEPS)  ## also the test toolchain (PyTorch, pytest, formatters)

build: $(EXT)  ## rebuild the extension after C changes

demo: install  ## run the main demo
	$(PY) -m gdlite.demo

notebooks: dev  ## re-execute the notebooks in place (12 hands a run to PyTorch)
	$(PY) notebooks/execute.py

lab: install $(LAB_DEPS)  ## open the notebooks in JupyterLab (installs it into .venv)
	$(VENV)/bin/jupyter lab notebooks

test: dev  ## run the whole test suite (two worker processes)
	$(PY) -m pytest -n 2 --dist loadfile

bench: dev  ## speed against PyTorch and NumPy (medians, ratios)
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_autograd.py
	$(PY) benchmarks/bench_indexing.py
	$(PY) benchmarks/bench_optim.py
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_sweep.py

asan: dev  ## plain-C core tests and the suite, under ASan+UBSan
	rm -rf $(ASAN_DIR) && mkdir -p $(ASAN_DIR)
	gcc -std=c11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer -ffp-contract=off -DGD_SANITIZE \
		-fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-Icsrc/core -I$(BLAS_INC) csrc/core/*.c tests/c/test_core.c \
		-L$(BLAS_LIB) -lscipy_openblas -Wl,-rpath,$(BLAS_LIB) -lm -ldl -o $(ASAN_DIR)/test_core
	ASAN_OPTIONS=detect_leaks=1 $(ASAN_DIR)/test_core
	GDLITE_SANITIZE=1 $(PY) setup.py --quiet build_ext --build-lib $(ASAN_DIR) \
		--build-temp $(ASAN_DIR)/tmp -j 2
	GDLITE_EXT_DIR=$(abspath $(ASAN_DIR))/gdlite \
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(PY) -m pytest -n 2 --dist loadfile -x

tsan: dev  ## the threading tests under ThreadSanitizer
	rm -rf $(TSAN_DIR) && mkdir -p $(TSAN_DIR)
	GDLITE_SANITIZE=thread $(PY) setup.py --quiet build_ext --build-lib $(TSAN_DIR) \
		--build-temp $(TSAN_DIR)/tmp -j 2
	# MKL's OpenMP runtime is not built for ThreadSanitizer (its own
	# synchronisation is invisible to it): the core's own kernels run here.
	GDLITE_MKL=0 GDLITE_EXT_DIR=$(abspath $(TSAN_DIR))/gdlite \
	LD_PRELOAD="$$(gcc -print-file-name=libtsan.so)" TSAN_OPTIONS=halt_on_error=1 \
		$(PY) -m pytest -x tests/test_threads.py

format: dev  ## format C and Python sources
	$(VENV)/bin/clang-format -i --style=file csrc/core/*.c csrc/core/*.h csrc/py/*.c csrc/py/*.h
	$(VENV)/bin/ruff format gdlite tests benchmarks notebooks/execute.py setup.py

format-check: dev  ## fail if anything is not formatted
	$(VENV)/bin/clang-format --dry-run --Werror --style=file csrc/core/*.c csrc/core/*.h csrc/py/*.c csrc/py/*.h
	$(VENV)/bin/ruff format --check gdlite tests benchmarks notebooks/execute.py setup.py

lint: dev  ## ruff checks
	$(VENV)/bin/ruff check gdlite tests benchmarks notebooks/execute.py setup.py

check-core:  ## the core includes no Python or NumPy headers
	@! grep -rnE 'Python\.h|numpy/' csrc/core && echo "csrc/core is pure C"

clean:  ## remove build products (keeps .venv)
	rm -rf build gdlite/_C*.so gdlite.egg-info
