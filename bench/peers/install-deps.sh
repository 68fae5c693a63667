#!/bin/sh
# Installs the Debian 12 packages the peer benchmarks (bench/peers, `make bench-peers`) need, when some are
# missing. Kept apart from scripts/install-deps.sh: glnn itself needs none of them.
set -e
PACKAGES="build-essential cmake libxnnpack-dev libpthreadpool-dev libopencv-dnn-dev"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
