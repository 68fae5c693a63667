#!/bin/sh
# Installs the Debian 12 packages glnn needs to build and test, when some are missing.
set -e
# python3-torch: glnn.torch (PyTorch layers, export, import) and its tests; dataset-fashion-mnist: the
# Fashion-MNIST pictures of the project's own model (examples/fashion_mnist, `make demo`, its tests).
PACKAGES="build-essential cmake pkg-config libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri
libpng-dev libjpeg-dev libcmocka-dev python3-dev python3-numpy python3-pytest python3-setuptools python3-venv
clang libclang-rt-14-dev valgrind python3-torch dataset-fashion-mnist"
# On x86-64, `make test-aarch64` (part of `make test`): Debian's aarch64 cross compiler, qemu-user, and the arm64
# libraries the library and the tests link, from Debian's multiarch arm64 packages (which bring libc6:arm64, the
# loader qemu runs the programs with).
CROSS_PACKAGES="gcc-aarch64-linux-gnu qemu-user libpng-dev:arm64 libjpeg-dev:arm64 libcmocka-dev:arm64"
[ "$(dpkg --print-architecture)" = amd64 ] && PACKAGES="$PACKAGES $CROSS_PACKAGES"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
case "$missing" in
*:arm64*) dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64 ;;
esac
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
