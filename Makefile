# synack: the two commands a newcomer needs are `make run` and `make test`.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-unit test-asan test-fuzz clean bench soak install

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

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DSK_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

test-fuzz: deps
	@CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_SANITIZE=ON -DSK_FUZZ=ON -DSK_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS)
	cd $(BUILD)-fuzz && ctest --output-on-failure

# Goodput between two stacks in one process (clean 1500, clean 64K, 1 % loss vs the CC models),
# built with -O2 (Release, in $(BUILD)-release). BENCH_ARGS is passed through, e.g.
# BENCH_ARGS="--bytes 100000000".
BENCH_ARGS ?=
bench: deps
	@cmake -S . -B $(BUILD)-release -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" -DSK_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD)-release -j $(JOBS) --target bench_goodput bench_kernel_loopback bench_connections
	./$(BUILD)-release/bench/bench_goodput $(BENCH_ARGS)
	./$(BUILD)-release/bench/bench_kernel_loopback
	./$(BUILD)-release/bench/bench_connections

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
