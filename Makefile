# A thin wrapper around CMake for the README's commands.
#
#   make test              build (Debug) and run every test through ctest
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan
#   make test SANITIZE=thread   the same under ThreadSanitizer
#   make bench             build Release and run acto-bench (BENCH_ARGS=...)
#   make demo              build Release and run acto-demo: a supervised,
#                          traced log pipeline; its files go to DEMO_OUT
#                          (build/demo-out); DEMO_ARGS=... for more options
#
# WERROR=1 turns warnings into errors (CI sets it). Each mode builds in its
# own folder under build/, so switching modes never reconfigures.

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
WERROR ?=
SANITIZE ?=
BENCH_ARGS ?=
DEMO_OUT ?= $(BUILD_DIR)/demo-out
DEMO_ARGS ?=

ifeq ($(SANITIZE),)
  TEST_DIR := $(BUILD_DIR)/debug
  SAN :=
else ifeq ($(SANITIZE),thread)
  TEST_DIR := $(BUILD_DIR)/tsan
  SAN := thread
else
  TEST_DIR := $(BUILD_DIR)/asan
  SAN := address
endif

CMAKE_FLAGS := -DACTO_SANITIZE=$(SAN) -DACTO_WERROR=$(if $(WERROR),ON,OFF)

.PHONY: all deps test-deps test release bench demo clean

all: test

deps:
	@tools/install-deps.sh

# The tests need a browser besides (acto-trace's HTML in Chromium).
test-deps:
	@tools/install-deps.sh --test

test: test-deps
	cmake -S . -B $(TEST_DIR) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(TEST_DIR) -j $(JOBS)
	cd $(TEST_DIR) && ctest --output-on-failure -j $(JOBS)

# The Release build the benchmarks and the demo share (no tests).
release: deps
	cmake -S . -B $(BUILD_DIR)/release -DCMAKE_BUILD_TYPE=Release \
	    -DACTO_BUILD_TESTS=OFF -DACTO_WERROR=$(if $(WERROR),ON,OFF)
	cmake --build $(BUILD_DIR)/release -j $(JOBS)

bench: release
	$(BUILD_DIR)/release/tools/acto-bench/acto-bench $(BENCH_ARGS)

demo: release
	$(BUILD_DIR)/release/tools/acto-demo/acto-demo --out $(DEMO_OUT) $(DEMO_ARGS)

clean:
	rm -rf $(BUILD_DIR)
