# houston: the two commands a user needs are `make run` and `make test`.
# Both install their own Debian (and, for tests, npm) dependencies first.
BUILD       ?= build
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
LISTEN      ?= 127.0.0.1:8080
CMAKE_FLAGS ?=
# Compile in unity batches (several sources per compiler run, the big headers parsed once per
# batch): a third less time for a whole build. `make build UNITY=OFF` when editing a few files
# over and over, where one file per run rebuilds less.
UNITY       ?= ON

.PHONY: all deps deps-build configure build run test unit e2e ui-screenshots asan tsan fuzz bench format format-check tidy clean

all: build

deps:
	@scripts/install-deps.sh

deps-build:
	@scripts/install-deps.sh --build-only

configure: deps-build
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_UNITY_BUILD=$(UNITY) \
	  $(CMAKE_FLAGS) >/dev/null

# Leaves the server binary at build/houston.
build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Starts the server on the bundled example org with SQLite under var/, on http://127.0.0.1:8080.
run: build
	@mkdir -p var
	exec $(BUILD)/houston serve --config examples/org.yaml --db var/houston.db --listen $(LISTEN) \
	  --allow-egress 127.0.0.1/32

# Builds and runs every test: unit tests and end-to-end tests against real peers.
test: deps build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

unit: build
	@cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

e2e: deps build
	@cd $(BUILD) && ctest --output-on-failure -L e2e

# Runs the browser tests (tests/e2e/ui_*_test.py), which also take the screenshots in docs/ui/
# (desktop and phone size) that docs/ui.md shows.
ui-screenshots: deps build
	@cd $(BUILD) && HOUSTON_UI_SCREENSHOTS=$(CURDIR)/docs/ui ctest --output-on-failure -R 'e2e_ui_'

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer, built with clang 16 with the
# libFuzzer targets of fuzz/ beside them (one build for both: HOUSTON_FUZZ adds ASan, UBSan and
# libFuzzer's coverage to every source). The store contract tests' PostgreSQL variants (named
# .../postgres) are left to `make test` and `make tsan`, which run them too, to keep CI within
# its time; the PostgreSQL wrapper's own tests (PgDb*) run here. Linked with lld: the
# instrumented test binaries are about 300 MB each, and GNU ld took 15 s per binary (lld: 4 s).
# clang builds with a precompiled header of the common headers (cmake/pch.h, HOUSTON_PCH): a
# quarter less time.
ASAN_CONFIGURE = cmake -S . -B build-asan -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 \
	  -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DHOUSTON_FUZZ=ON \
	  -DHOUSTON_BUILD_BENCH=OFF -DHOUSTON_BUILD_E2E=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
asan: deps
	@if [ -f build-asan/CMakeCache.txt ] && ! grep -q '^HOUSTON_FUZZ:BOOL=ON' build-asan/CMakeCache.txt; then \
	  rm -rf build-asan; fi  # an older gcc ASan build: start over with clang
	@$(ASAN_CONFIGURE)
	@cmake --build build-asan -j $(JOBS) --target houston_unit_tests houston_fuzzers
	@cd build-asan && ctest --output-on-failure -L unit -j $(JOBS) -E '/postgres +#'

# The concurrent modules under ThreadSanitizer: the store (with the two-writer incident tests, the
# feed and sessions), the engine, the incident fan-out and the worker pools that the API's reads,
# analytics and postmortems run on. (Boost.Asio's atomic_thread_fence does not build under
# -fsanitize=thread with -Werror, so http, api and live are not in this build.)
tsan: deps-build
	@cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DHOUSTON_SANITIZE=thread \
	  -DHOUSTON_BUILD_BENCH=OFF -DHOUSTON_BUILD_E2E=OFF -DCMAKE_UNITY_BUILD=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target store_test pg_db_test paging_test core_test
	@cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j $(JOBS) -R 'StoreContractTest|IncidentStoreTest|IncidentConcurrencyTest|FeedContractTest|AuthContractTest|AlertExpiryTest|OpsgenieContractTest|PgDb|EngineTest|FanoutTest|Backoff|WorkerPoolTest'

# The libFuzzer targets of fuzz/ (built by `make asan`, in build-asan), each run FUZZ_SECONDS on a
# copy of its corpus, two at a time, with a fixed seed; a crash fails and names its input. Long
# runs: `make fuzz FUZZ_SECONDS=600` (fuzz/README.md).
FUZZ_SECONDS ?= 10
FUZZ_SEED    ?= 1
FUZZ_TARGETS ?=
fuzz: deps
	@$(ASAN_CONFIGURE)
	@cmake --build build-asan -j $(JOBS) --target houston_fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_SEED=$(FUZZ_SEED) fuzz/run.sh build-asan $(FUZZ_TARGETS)

bench: build
	@bench/run.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

format-check:
	@git ls-files '*.h' '*.cc' | xargs clang-format --dry-run -Werror

tidy: configure
	@git ls-files 'src/*.cc' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD) build-asan build-tsan
