#!/bin/sh
# The install the README shows, without touching Debian's Python: a virtual environment that sees Debian's numpy
# (--system-site-packages), `pip install --no-build-isolation .` offline (setup.py builds the library with CMake in
# build-pip/ of the source tree), then the package used from that environment alone.
# Usage: venv_install.sh SOURCE_DIR [PYTHON]   (PYTHON: default /usr/bin/python3)
set -eu
SRC=$(cd "$1" && pwd)
PY=${2:-/usr/bin/python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset PYTHONPATH
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1

"$PY" -m venv --system-site-packages "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --no-build-isolation --no-index --quiet "$SRC" >"$TMP/pip.log" 2>&1 ||
    { cat "$TMP/pip.log"; echo "FAIL pip install"; exit 1; }
cd "$TMP"
"$TMP/venv/bin/python" - "$TMP/venv" "$SRC" <<'PYEOF'
import os, pathlib, sys
import numpy as np
import glnn

venv, src = sys.argv[1], pathlib.Path(sys.argv[2])
assert glnn.__file__.startswith(os.path.realpath(venv)) or glnn.__file__.startswith(venv), glnn.__file__
package = pathlib.Path(glnn.__file__).parent
assert (package / "__init__.pyi").is_file() and (package / "nnets.pyi").is_file() and (package / "py.typed").is_file()
# A 1x1 convolution on the reference, checked by hand: byte q becomes floor(q/2 + 64.25).
x = (np.arange(24) * 11 % 256).astype(np.uint8).reshape(2, 3, 4)
y = glnn.conv2d(x, np.eye(4, dtype=np.float32).reshape(1, 1, 4, 4) * 0.5, np.full(4, 0.25, np.float32),
                device="reference")
assert np.array_equal(y, np.floor(x / 2 + 64.25).astype(np.uint8)), y
model = src.parent / "shared" / "models" / "dog_classifier.chunks"
if model.is_file():
    data = glnn.ChunkFile(model)
    task = glnn.InferenceTask(glnn.nnets.DeserializedModel(data), data, device="reference")
    task.connect(glnn.load_image(src.parent / "shared" / "images" / "bg.bmp"), "input")
    task.run()
    assert data.labels[task.get_probabilities().argmax()] == "Eskimo_dog"
print("venv: glnn %s from %s" % (glnn.__version__, package))
PYEOF
