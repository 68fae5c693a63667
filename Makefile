# Convenience entry points; the build itself is CMake.  Both targets install missing Debian packages.
BUILD ?= build
PYTHON ?= /usr/bin/python3
JOBS ?= $(shell nproc)
export MESA_GLES_VERSION_OVERRIDE ?= 3.1

.PHONY: all deps build demo test clean

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPython3_EXECUTABLE=$(PYTHON)
	cmake --build $(BUILD) -j $(JOBS)

# The main job: device report, a Conv2D checked against the CPU reference, and the dog classifier
# on every picture in ../shared/images.
demo: build
	./$(BUILD)/glnn info
	./$(BUILD)/glnn conv --runs 3
	./$(BUILD)/glnn run ../shared/models/dog_classifier.chunks ../shared/images/*

test: build
	cd $(BUILD) && ctest --output-on-failure -j 1

clean:
	rm -rf $(BUILD)
