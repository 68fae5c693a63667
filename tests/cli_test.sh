#!/bin/sh
# The glnn command line end to end: help and versions, option syntax and exit statuses (0 success, 1 runtime error,
# 2 usage error), info, model (table, JSON, Graphviz), run (classifier and any model, pictures and .npy inputs,
# outputs, repeated runs, profiles), bench (from any folder, --list, filters) and conv, and bad input.
# Usage: cli_test.sh PATH/TO/glnn   (run from the repository root).  Parts that need ../shared's model, numpy or
# Graphviz's dot are skipped without them.
set -u
GLNN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PY=/usr/bin/python3
REF=reference # the plain-C reference (device name); every result here is checked on it
MODEL=../shared/models/dog_classifier.chunks
IMG=../shared/images/bg.bmp
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0
passes=0
skips=0
fail() {
    echo "FAIL $*"
    failures=$((failures + 1))
}
check() { # check NAME EXPECTED_STATUS COMMAND... ; stdout/stderr in $TMP/out, $TMP/err
    name=$1 want=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$name: exit status $got, expected $want"
        cat "$TMP/err"
        return 1
    fi
    passes=$((passes + 1))
}
expect() { # expect NAME FILE PATTERN: a fixed string in $TMP/FILE
    if ! grep -qF -- "$3" "$TMP/$2"; then
        fail "$1: '$3' not in $2:"
        cat "$TMP/$2"
        passes=$((passes - 1))
        return 1
    fi
}
absent() { # absent NAME FILE PATTERN
    if grep -qF -- "$3" "$TMP/$2"; then
        fail "$1: '$3' in $2"
        passes=$((passes - 1))
        return 1
    fi
}
pycheck() { # pycheck NAME CODE [ARGS...]: Python asserts on files ($TMP/out is sys.argv[1])
    name=$1 code=$2
    shift 2
    if ! "$PY" -c "$code" "$TMP/out" "$@" 2>"$TMP/pyerr"; then
        fail "$name:"
        cat "$TMP/pyerr"
        return 1
    fi
}
have_model() { [ -f "$MODEL" ] && [ -f "$IMG" ]; }
have_numpy() { "$PY" -c 'import numpy' 2>/dev/null; }
skip() {
    echo "skip: $*"
    skips=$((skips + 1))
}

# ---- help, version, option syntax, exit statuses ----
check help 0 "$GLNN" --help && expect help out "usage: glnn COMMAND" && expect help out "Exit status: 0 on success, 1 on a runtime error"
check no-args 2 "$GLNN" && expect no-args err "usage: glnn"
check version 0 "$GLNN" --version && expect version out "glnn 0."
check version-args 2 "$GLNN" --version extra
check help-run 0 "$GLNN" help run && expect help-run out "usage: glnn run [OPTIONS] MODEL.chunks INPUT..." &&
    expect help-run out "--profile" && absent help-run out "--filter"
check run-help 0 "$GLNN" run --help && expect run-help out "usage: glnn run" && cp "$TMP/out" "$TMP/help1"
check help-is-run-help 0 "$GLNN" help run && cmp -s "$TMP/out" "$TMP/help1" || fail "help-is-run-help: differs"
check bench-help 0 "$GLNN" bench -h && expect bench-help out "--list" && absent bench-help out "--profile"
check help-unknown 2 "$GLNN" help frobnicate && expect help-unknown err "unknown command 'frobnicate'"
check unknown-command 2 "$GLNN" frobnicate && expect unknown-command err "unknown command 'frobnicate'"
check unknown-option 2 "$GLNN" info --frob && expect unknown-option err "unknown option '--frob'" &&
    expect unknown-option err "glnn info --help"
check option-elsewhere 2 "$GLNN" run --filter x "$MODEL" "$IMG" && expect option-elsewhere err "does not apply to 'run'"
check model-runs 2 "$GLNN" model "$MODEL" --runs 5 && expect model-runs err "option '--runs' does not apply to 'model'"
check info-extra 2 "$GLNN" info extra && expect info-extra err "unexpected argument 'extra'"
check model-extra 2 "$GLNN" model "$MODEL" "$MODEL" && expect model-extra err "unexpected argument"
check run-needs-args 2 "$GLNN" run "$MODEL" && expect run-needs-args err "missing arguments"
check flag-value 2 "$GLNN" info --json=yes && expect flag-value err "takes no value"
check needs-value 2 "$GLNN" run "$MODEL" "$IMG" --top && expect needs-value err "'--top' needs a value"
check bad-runs 2 "$GLNN" bench --runs 0 && expect bad-runs err "positive integer"
check bad-runs-eq 2 "$GLNN" run --runs=-3 "$MODEL" "$IMG" && expect bad-runs-eq err "positive integer, got '-3'"
check bad-input-size 2 "$GLNN" model "$MODEL" --input 12 && expect bad-input-size err "--input needs HxW"

# ---- info ----
check info-eq 0 "$GLNN" info --device=$REF && expect info-eq out "device: cpu reference"
check info-space 0 "$GLNN" info --device $REF && expect info-space out "device: cpu reference"
check info-json 0 "$GLNN" info --device=$REF --json &&
    pycheck info-json 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["version"].startswith("0.") and r["device"] == "cpu reference" and r["gpu"] is False, r
assert "max_sampled_channels" in r["report"], r'
check bad-device 1 "$GLNN" info --device banana && expect bad-device err "unknown device 'banana'"
check device-from-env 1 env GLNN_DEVICE=gpu0 "$GLNN" info && expect device-from-env err "unknown device 'gpu0'" &&
    expect device-from-env err "GLNN_DEVICE"
check path-from-env 1 env GLNN_PATH=vertex "$GLNN" info && expect path-from-env err "GLNN_PATH"
# A GPU path by name with the device left to auto: a GPU (the software renderer here), never the CPU back end.
check path-implies-gpu 0 env -u GLNN_DEVICE MESA_GLES_VERSION_OVERRIDE=3.1 "$GLNN" info --path fragment &&
    expect path-implies-gpu out "path: fragment"

# ---- bad files ----
printf 'ops:\n  - _name: a\n' >"$TMP/listing.chunks"
check text-as-model 1 "$GLNN" model "$TMP/listing.chunks" && expect text-as-model err "not a chunk file"
check missing-model 1 "$GLNN" run --device $REF "$TMP/none.chunks" "$IMG" && expect missing-model err "none.chunks"

if have_model; then
    # ---- model ----
    check model 0 "$GLNN" model "$MODEL" && expect model out "398405856 multiply-adds" &&
        expect model out "45 operations, 61 connections (17 into a second input, 15 shuffled)" &&
        expect model out "211672 weights" && expect model out "b1-scale (shuffle 8)" &&
        expect model out "b1-stage1-pw, b0-conv"
    check model-json 0 "$GLNN" model "$MODEL" --json &&
        pycheck model-json 'import json, sys
r = json.load(open(sys.argv[1]))
ops = r["operations"]
assert len(ops) == 45 and r["connections"] == 61 and r["weights"] == 211672 and r["multiply_adds"] == 398405856
assert sum(o["weights"] for o in ops) == 211672 and ops[1]["output"] == [191, 191, 32]
dw = ops[3]
assert dw["name"] == "b1-stage1-dw" and dw["parameters"]["num_groups"] == 8 and dw["weights"] == 1152 + 32, dw
assert {(i["input"], i["source"]) for i in dw["inputs"]} == {(0, "b1-stage1-pw"), (1, "b0-conv")}, dw
assert ops[7]["inputs"] == [{"input": 0, "source": "b1-scale", "output": 0, "shuffle": 8}], ops[7]
assert ops[0]["inputs"] == [{"input": 0, "data": True}] and ops[44]["output"] is None'
    check model-dot 0 "$GLNN" model "$MODEL" --dot && expect model-dot out 'digraph "dog_classifier"' &&
        expect model-dot out '"b0-conv" -> "b1-stage1-dw" [label="191x191x32 (residual)", style=dashed]' &&
        expect model-dot out 'shuffle 8' && cp "$TMP/out" "$TMP/model.dot"
    if command -v dot >/dev/null 2>&1; then
        check dot-renders 0 dot -Tsvg "$TMP/model.dot" && expect dot-renders out "<svg"
    else
        skip "Graphviz's dot not installed"
    fi
    check dot-and-json 2 "$GLNN" model "$MODEL" --dot --json

    # ---- run: a classifier ----
    check run-ref 0 "$GLNN" run --device $REF "$MODEL" "$IMG" && expect run-ref out "Eskimo_dog"
    check run-json 0 "$GLNN" run --device=$REF --json --top 3 "$MODEL" "$IMG" &&
        pycheck run-json 'import json, sys
r = json.load(open(sys.argv[1]))
assert len(r) == 1 and r[0]["input"].endswith("bg.bmp") and r[0]["ms"] > 0 and r[0]["runs"] == 1
top = r[0]["top"]
assert len(top) == 3 and all(set(t) == {"label", "index", "probability"} for t in top)
assert top[0]["label"] == "Eskimo_dog" and top[0]["probability"] >= top[1]["probability"]'
    check run-runs 0 "$GLNN" run --device $REF --runs 3 --warmup 1 --json "$MODEL" "$IMG" &&
        pycheck run-runs 'import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["runs"] == 3 and r["warmup"] == 1 and 0 < r["min_ms"] <= r["ms"], r'
    check run-runs-text 0 "$GLNN" run --device $REF --runs 2 "$MODEL" "$IMG" && expect run-runs-text out "median" &&
        expect run-runs-text out "over 2 runs"
    check run-profile 0 "$GLNN" run --device $REF --profile "$MODEL" "$IMG" && expect run-profile out "timer: wall" &&
        expect run-profile out "b0-conv" && expect run-profile out "texel fetches"
    check run-profile-json 0 "$GLNN" run --device $REF --profile --json "$MODEL" "$IMG" &&
        pycheck run-profile-json 'import json, sys
p = json.load(open(sys.argv[1]))[0]["profile"]
ops = p["ops"]
assert p["timer"] == "wall" and len(ops) == 45 and abs(sum(o["share"] for o in ops) - 1) < 1e-3, p
b0 = ops[1]
assert b0["op"] == "b0-conv" and b0["multiply_adds"] == 87554400 and b0["texel_fetches"] == 7296200
assert b0["ms"] > 0 and abs(b0["gmacs"] - b0["multiply_adds"] / b0["ms"] / 1e6) < 1e-2 * b0["gmacs"]'
    mkdir "$TMP/o"
    check run-output 0 "$GLNN" run --device $REF --output input --output-dir "$TMP/o" "$MODEL" "$IMG" &&
        expect run-output out "output of 'input': 385x385x3" && [ -s "$TMP/o/bg.input.png" ] ||
        fail "run-output: no PNG"
    if have_numpy; then
        pycheck run-output-npy 'import numpy as np, sys
a = np.load(sys.argv[2])
assert a.shape == (385, 385, 3) and a.dtype == np.uint8 and a.min() >= 0, (a.shape, a.dtype)' "$TMP/o/bg.input.npy"
    fi
    check run-output-probs 0 "$GLNN" run --device $REF --output softmax --output-dir "$TMP/o" "$MODEL" "$IMG" &&
        have_numpy && pycheck run-output-probs 'import numpy as np, sys
p = np.load(sys.argv[2])
assert p.shape == (120,) and p.dtype == np.float32 and abs(p.sum() - 1) < 1e-4 and p.argmax() == 97' \
        "$TMP/o/bg.softmax.npy"
    check run-output-unknown 1 "$GLNN" run --device $REF --output nosuch "$MODEL" "$IMG" &&
        expect run-output-unknown err "no operation 'nosuch'"

    # ---- bench: from any folder, the model case found where glnn is ----
    check bench-list 0 "$GLNN" bench --list && expect bench-list out "dog_classifier" &&
        expect bench-list out "conv3x3_64_512"
    check bench-list-json 0 "$GLNN" bench --list --json &&
        pycheck bench-list-json 'import json, sys
names = json.load(open(sys.argv[1]))
assert "conv1x1_64_128" in names and names[-1] == "dog_classifier", names'
    check bench-elsewhere 0 sh -c "cd '$TMP' && '$GLNN' bench --device $REF --runs 1 --json --filter dog" &&
        expect bench-elsewhere out '"name": "dog_classifier"' && expect bench-elsewhere out '"max_lsb_diff": 0'
    check bench-model-option 0 sh -c "cd '$TMP' && '$GLNN' bench --device $REF --runs 1 --filter dog \
        --model '$(pwd)/$MODEL' --image '$(pwd)/$IMG'" && expect bench-model-option out "dog_classifier"
else
    skip "../shared's dog classifier and pictures not found: model, run and bench cases"
fi
# Bad input on the dog classifier, else on the project's own model (models/fashion_mnist.chunks) with a 1x1 grey
# picture made here.
ERR_MODEL=
if have_model; then
    ERR_MODEL=$MODEL ERR_IMG=$IMG
elif [ -f models/fashion_mnist.chunks ]; then
    ERR_MODEL=models/fashion_mnist.chunks ERR_IMG=$TMP/grey.bmp
    printf 'BM\066\000\000\000\000\000\000\000\066\000\000\000\050\000\000\000\001\000\000\000\001\000\000\000\001\000\030\000\000\000\000\000\004\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\200\200\200\000' >"$ERR_IMG"
    check run-own-model 0 "$GLNN" run --device $REF "$ERR_MODEL" "$ERR_IMG" && expect run-own-model out "%"
fi
if [ -n "$ERR_MODEL" ]; then
    check missing-image 1 "$GLNN" run --device $REF "$ERR_MODEL" "$TMP/none.png" && expect missing-image err "none.png"
    head -c 200000 "$ERR_MODEL" >"$TMP/cut.chunks"
    check truncated-model 1 "$GLNN" run --device $REF "$TMP/cut.chunks" "$ERR_IMG" &&
        expect truncated-model err "truncated chunk record"
    check truncated-no-result 1 "$GLNN" run --device $REF --json "$TMP/cut.chunks" "$ERR_IMG" && [ ! -s "$TMP/out" ] ||
        fail "truncated-no-result: output printed"
    printf 'not an image' >"$TMP/bad.png"
    check bad-image 1 "$GLNN" run --device $REF "$ERR_MODEL" "$TMP/bad.png" && expect bad-image err "bad.png"
else
    skip "no model: the bad-input cases of run"
fi
check bench-nomatch 2 "$GLNN" bench --device $REF --filter nosuchcase && expect bench-nomatch err "matches no case"
# --filter takes comma-separated parts of case names; the reference is timed by the wall clock.
check bench-filter 0 "$GLNN" bench --device $REF --runs 1 --json --filter img3x3,pw_ &&
    expect bench-filter out '"name": "img3x3s2_32_256"' && expect bench-filter out '"name": "pw_128_256_28"' &&
    expect bench-filter out '"timer": "wall"' && absent bench-filter out conv1x1
check conv-json 0 "$GLNN" conv --device $REF --runs 1 --json &&
    pycheck conv-json 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["name"] == "conv3x3_32_256" and r["max_lsb_diff"] == 0 and r["median_ms"] > 0, r'

# ---- run: any model, .npy tensors in and out ----
if have_numpy; then
    # A 1×1 Conv2D 4->4 with weights 0.5 on the diagonal and bias 0.25: byte q becomes floor(q/2 + 64.25).
    "$PY" - "$TMP" <<'EOF'
import struct, sys
import numpy as np
tmp = sys.argv[1]
listing = ("ops:\n - _name: c\n   _type: conv2d\n   input_channels: 4\n   kernel_size: 1\n"
           "   output_channels: 4\n   use_bias: true\n").encode()
w = (np.eye(4, dtype="<f4") * 0.5).tobytes()
b = np.full(4, 0.25, "<f4").tobytes()
with open(tmp + "/tiny.chunks", "wb") as f:
    for cid, payload in ((b"", listing), (b"c/b", b), (b"c/w", w)):
        f.write(struct.pack("<I", len(cid)) + cid + struct.pack("<I", len(payload)) + payload)
q = (np.arange(2 * 3 * 4) * 11 % 256).astype(np.uint8).reshape(2, 3, 4)
np.save(tmp + "/x_u8.npy", q)
np.save(tmp + "/x_f32.npy", q.astype(np.float32) / 255)
np.save(tmp + "/x_255.npy", q.astype(np.float32))
np.save(tmp + "/expected.npy", np.floor(q.astype(np.float64) / 2 + 64.25).astype(np.uint8))
EOF
    check tiny-model 0 "$GLNN" model "$TMP/tiny.chunks" --input 2x3 && expect tiny-model out "2x3x4" &&
        expect tiny-model out "20 weights"
    check tiny-model-needs-size 1 "$GLNN" model "$TMP/tiny.chunks" && expect tiny-model-needs-size err "--input HxW"
    for x in x_u8 x_f32; do
        check "run-npy-$x" 0 "$GLNN" run --device $REF --output c --output-dir "$TMP" "$TMP/tiny.chunks" \
            "$TMP/$x.npy" && expect "run-npy-$x" out "output of 'c': 2x3x4" &&
            pycheck "run-npy-$x" 'import numpy as np, sys
got, want = np.load(sys.argv[2]), np.load(sys.argv[3])
assert got.dtype == np.uint8 and got.shape == (2, 3, 4) and np.array_equal(got, want), (got, want)' \
                "$TMP/$x.c.npy" "$TMP/expected.npy"
    done
    check run-npy-json 0 "$GLNN" run --device $REF --json "$TMP/tiny.chunks" "$TMP/x_u8.npy" &&
        pycheck run-npy-json 'import json, sys
r = json.load(open(sys.argv[1]))[0]
assert "top" not in r and r["result"]["op"] == "c" and r["result"]["shape"] == [2, 3, 4], r'
    check run-npy-255 1 "$GLNN" run --device $REF "$TMP/tiny.chunks" "$TMP/x_255.npy" &&
        expect run-npy-255 err "values must be in [0, 1]" && expect run-npy-255 err "divide 8-bit data by 255"
    if have_model; then
        check run-picture-on-tensor 1 "$GLNN" run --device $REF "$TMP/tiny.chunks" "$IMG" &&
            expect run-picture-on-tensor err "takes a tensor"
    fi
else
    skip "numpy not found: .npy cases"
fi

echo "cli: $passes passed, $failures failed, $skips skipped"
[ "$failures" -eq 0 ]
