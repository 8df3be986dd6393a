# synack: the two commands a newcomer needs are `make run` and `make test`.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-unit test-asan test-fuzz fuzz-soak clean bench soak install

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/synack sim

# Every test: the normal build, the ASan+UBSan build, then the fuzz targets (clang).
test: deps test-unit test-asan test-fuzz
	@echo "make test: all suites passed"

# ctest keeps a passing test's output to itself; sockdiff's summary lines (the comparison, and
# synack's side under valgrind) are shown anyway, not those of its self-tests.
SOCKDIFF_SUMMARY = awk '/^[0-9]+\/[0-9]+ Testing: /{t=$$3} /^sockdiff: [0-9]+ scenarios/ && \
	(t == "sockdiff" || t == "sockdiff_valgrind")' Testing/Temporary/LastTest.log

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) && { $(SOCKDIFF_SUMMARY) || true; }

test-asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DSK_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) && { $(SOCKDIFF_SUMMARY) || true; }

test-fuzz: deps
	@CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_SANITIZE=ON -DSK_FUZZ=ON -DSK_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS)
	cd $(BUILD)-fuzz && ctest --output-on-failure

# Each fuzz target for FUZZ_SECONDS (default an hour each) with libFuzzer's own seed, from its
# corpus in tests/fuzz/corpus/; then the corpus and what was found are minimised together
# (-merge=1) into the new corpus, the hand-made seed-* and regress-* inputs kept as they are.
# A crash stops the soak with its input in $(BUILD)-fuzz/artifacts/ (see docs/fuzzing.md).
FUZZ_SECONDS ?= 3600
FUZZ_TARGETS ?= $(notdir $(basename $(wildcard tests/fuzz/fuzz_*.c)))
fuzz-soak: deps
	@CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_SANITIZE=ON -DSK_FUZZ=ON -DSK_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  found=$(BUILD)-fuzz/soak/$$t; new=$(BUILD)-fuzz/soak/$$t.merged; corpus=tests/fuzz/corpus/$$t; \
	  rm -rf $$new; mkdir -p $$found $$new $(BUILD)-fuzz/artifacts; \
	  ./$(BUILD)-fuzz/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)-fuzz/artifacts/$$t- $$found $$corpus; \
	  ./$(BUILD)-fuzz/tests/fuzz/$$t -merge=1 -use_counters=0 $$new $$corpus $$found >$$found.merge.log 2>&1; \
	  cp $$corpus/seed-* $$corpus/regress-* $$new/ 2>/dev/null || true; \
	  rm -rf $$corpus && mv $$new $$corpus; \
	  echo "$$t: corpus $$(ls $$corpus | wc -l) files, $$(du -sh --apparent-size $$corpus | cut -f1)"; \
	done

# Goodput between two stacks in one process (clean 1500, clean 64K, 1 % loss vs the CC models),
# built with -O2 (Release, in $(BUILD)-release). BENCH_ARGS is passed through, e.g.
# BENCH_ARGS="--bytes 100000000".
BENCH_ARGS ?=
# Every subject side by side (bench/run_bench.sh, as root): synack, the kernel and lwIP over a
# wire, the raw TAP limit, in memory beside the kernel's loopback, memory per connection and
# 1 to 1,000,000 connections; a table, build-release/bench-out/results.json and an SVG per
# metric. BENCH_QUICK=1: the seconds-long smoke run that `make test` also runs (bench_smoke).
BENCH_QUICK ?= 0
bench: deps
	@cmake -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" -DSK_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)-release -j $(JOBS)
	BENCH_QUICK=$(BENCH_QUICK) bash bench/run_bench.sh $(BUILD)-release

# The property test with many more seeded fault schedules than `make test` runs.
SOAK_SCHEDULES ?= 20000
soak: build
	@cmake --build $(BUILD) -j $(JOBS) --target test_property_faults
	SK_PROPERTY_SCHEDULES=$(SOAK_SCHEDULES) ./$(BUILD)/tests/test_property_faults

# The static and shared library, headers, synack.pc and the CMake package under $(PREFIX).
PREFIX ?= /usr/local
install: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
