# Cross build for 64-bit Arm Linux with Debian's toolchain (gcc-aarch64-linux-gnu) and multiarch arm64 -dev packages
# (libpng-dev:arm64, libjpeg-dev:arm64, libcmocka-dev:arm64; scripts/install-deps.sh installs them), run under
# qemu-user: `make test-aarch64`, or
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DGLNN_GPU=OFF
#         -DGLNN_BUILD_PYTHON=OFF
# ctest runs the test programs through qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR); QEMU_CPU picks the CPU model
# (tests/CMakeLists.txt).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries and pkg-config files of the arm64 packages only; headers and programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# The loader and libc at run time are libc6:arm64's (/lib/ld-linux-aarch64.so.1, installed with the arm64 -dev
# packages), not the cross toolchain's copy in /usr/aarch64-linux-gnu: a different build of glibc, with which the
# multiarch libraries hang at start-up.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /)
