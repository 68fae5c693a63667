# Convenience entry points; the build itself is CMake.  Both targets install missing Debian packages.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PEERS_BUILD ?= build-peers
AARCH64_BUILD ?= build-aarch64
PYTHON ?= /usr/bin/python3
JOBS ?= $(shell nproc)
# Seconds each libFuzzer harness runs in `make test` (tests/fuzz; `make fuzz FUZZ_SECONDS=600` for long runs).
FUZZ_SECONDS ?= 20
export MESA_GLES_VERSION_OVERRIDE ?= 3.1

.PHONY: all deps build demo test test-aarch64 test-asan test-fuzz fuzz bench-peers clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE=$(PYTHON)
	cmake --build $(BUILD) -j $(JOBS)

# The main job: device report, a Conv2D checked against the CPU reference, then the project's own model
# (models/fashion_mnist.chunks): a few Fashion-MNIST test pictures classified beside their true labels, the
# accuracy over the 10,000 test pictures and the time per picture on the GPU (a hardware one, else Mesa's software
# renderer), on the fast CPU back end and on the plain-C reference; with ../shared present, also the dog
# classifier on every picture in ../shared/images.
DEMO_ENV = PYTHONPATH=$(BUILD)/python
demo: build
	./$(BUILD)/glnn info
	./$(BUILD)/glnn conv --runs 3
	./$(BUILD)/glnn model models/fashion_mnist.chunks
	$(DEMO_ENV) $(PYTHON) examples/fashion_mnist/evaluate.py --device gpu --show 10
	$(DEMO_ENV) $(PYTHON) examples/fashion_mnist/evaluate.py --device cpu
	$(DEMO_ENV) $(PYTHON) examples/fashion_mnist/evaluate.py --device reference
	@if [ -f ../shared/models/dog_classifier.chunks ]; then \
		echo ./$(BUILD)/glnn run ../shared/models/dog_classifier.chunks ../shared/images/*; \
		./$(BUILD)/glnn run ../shared/models/dog_classifier.chunks ../shared/images/*; \
	else \
		echo "(../shared not found: the Beatmup dog classifier part of the demo is skipped)"; \
	fi

# Every test: the ctest suite (C tests, valgrind memcheck over the CPU-device tests, CLI, Python), then on x86-64
# the fast CPU back end's AArch64 kernels under qemu-user, then the whole suite again built with AddressSanitizer +
# UndefinedBehaviorSanitizer, then each fuzz harness for FUZZ_SECONDS seconds.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 1
	@if [ "$$(uname -m)" = x86_64 ]; then $(MAKE) --no-print-directory test-aarch64; fi
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-fuzz

# The fast CPU back end's AArch64 NEON kernels (with and without the dot-product extension) and its portable C
# kernels against the plain-C reference, cross-compiled (cmake/aarch64-linux-gnu.cmake: Debian's aarch64 gcc,
# multiarch arm64 libraries, the library without the GPU back ends) and run under qemu-user on emulated Cortex-A76
# and A72 CPUs (tests/CMakeLists.txt).  Correctness only: no timing under emulation.
test-aarch64: deps
	cmake -S . -B $(AARCH64_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DGLNN_GPU=OFF -DGLNN_BUILD_PYTHON=OFF
	cmake --build $(AARCH64_BUILD) -j $(JOBS) --target test_cpu_kernels test_backends
	cd $(AARCH64_BUILD) && ctest --output-on-failure -j 1

# ASan + UBSan build of the library and the C tests; CPU tests run with leak detection, GPU tests without
# (tests/CMakeLists.txt).  The Python module is left out: it would need the ASan runtime preloaded.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLNN_SANITIZE=ON -DGLNN_BUILD_PYTHON=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j 1

# libFuzzer harnesses (clang), seeded from ../shared and the tests' listings; FUZZ_SECONDS each.
test-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGLNN_FUZZ=ON \
		-DGLNN_BUILD_TESTS=OFF -DGLNN_BUILD_PYTHON=OFF -DGLNN_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j 1 -L fuzz

fuzz: test-fuzz

# The CPU peers of issue 14 (XNNPACK, OpenCV DNN from Debian) for glnn's benchmark layers, only when asked: a
# CMake project of its own (bench/peers) with its own package list; then bench/peers/compare.py.
bench-peers:
	@./bench/peers/install-deps.sh
	cmake -S bench/peers -B $(PEERS_BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(PEERS_BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(AARCH64_BUILD) $(PEERS_BUILD)
