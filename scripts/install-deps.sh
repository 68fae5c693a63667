#!/bin/sh
# Installs the Debian 12 packages glnn needs to build and test, when some are missing.
set -e
# python3-torch: glnn.torch (PyTorch layers, export, import) and its tests; dataset-fashion-mnist: the
# Fashion-MNIST pictures of the project's own model (examples/fashion_mnist, `make demo`, its tests).
PACKAGES="build-essential cmake pkg-config libegl-dev libgles-dev libegl-mesa0 libgl1-mesa-dri
libpng-dev libjpeg-dev libcmocka-dev python3-dev python3-numpy python3-pytest python3-setuptools python3-venv
clang libclang-rt-14-dev valgrind python3-torch dataset-fashion-mnist"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
