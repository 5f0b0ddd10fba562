#!/usr/bin/env bash
# Runs the native kernel many times under valgrind's memcheck and fails if any
# block allocated by the extension (a stack frame in pyimgaug's _core module) is
# definitely or indirectly lost. CPython's own allocations that it never frees at
# exit are ignored: only loss records with a _core frame count.
#
#   scripts/leakcheck.sh            # 300 calls of each kind (a few minutes)
#   CALLS=50 scripts/leakcheck.sh   # quicker
#
# Uses the pyimgaug that `$PYTHON` (default python3) imports, normally the regular
# (non-sanitized) build; valgrind cannot run an ASan build. When $PYTHON has no
# pyimgaug, the script installs this source tree (and numpy) into its own virtual
# environment, build/leakcheck-venv, and uses that.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
CALLS=${CALLS:-300}
OUT_DIR=${LEAKCHECK_DIR:-$ROOT/build/leakcheck}
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/valgrind.log"
DRIVER="$OUT_DIR/driver.py"

command -v valgrind >/dev/null || { echo "leakcheck.sh: valgrind is not installed" >&2; exit 2; }
if ! (cd / && "$PYTHON" -c 'import pyimgaug._core' 2>/dev/null); then
    VENV="$ROOT/build/leakcheck-venv"
    if ! (cd / && "$VENV/bin/python" -c 'import pyimgaug._core' 2>/dev/null); then
        echo "== $PYTHON has no pyimgaug: installing this source tree into $VENV"
        "$PYTHON" -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q "$ROOT"
    fi
    PYTHON="$VENV/bin/python"
fi
# The real interpreter, not a wrapper script (valgrind would trace the wrapper).
PYEXE=$("$PYTHON" -c 'import sys; print(sys.executable)')

cat > "$DRIVER" <<'EOF'
# Calls every kernel path (resize filters, warp orders and modes, dtypes,
# out=, threads, failing calls) many times.
import os
import sys

import numpy as np

import pyimgaug
from pyimgaug import _core, transform_batch

calls = int(sys.argv[1])
rng = np.random.default_rng(0)
u8 = rng.integers(0, 256, (6, 20, 24, 3), dtype=np.uint8)
u16 = rng.integers(0, 65536, (3, 17, 13, 1), dtype=np.uint16)
f32 = rng.random((3, 15, 16, 4), dtype=np.float32)
mats = np.tile(np.array([[0.9, 0.2, -1.0], [-0.1, 1.1, 2.5], [0, 0, 1]]), (6, 1, 1))
out = np.empty((6, 18, 19, 3), np.float32)
filters = ["nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"]
modes = ["constant", "nearest", "reflect", "wrap"]
for i in range(calls):
    threads = 1 + i % 2
    transform_batch(u8, mats, output_size=(18, 19), resize_to=(16, 30), resample=filters[i % 6],
                    order=i % 2, fill_mode=modes[i % 4], out=out, num_threads=threads)
    transform_batch(list(u8[:3]), mats[:3], output_size=(9, 40), order=1, dtype="uint8", num_threads=threads)
    transform_batch(u16, mats[:3], resize_to=(11, 9), resample=filters[(i + 1) % 6], dtype="float64",
                    fill_mode=modes[(i + 2) % 4], num_threads=threads)
    transform_batch(f32, None, resize_to=(7, 21), resample=filters[(i + 3) % 6], scale=2.0, offset=-1.0)
    transform_batch([u8[0], u8[1, :10, ::-1], u8[2, ::-1]], mats[:3], output_size=(12, 12), num_threads=threads)
    for bad in (dict(resize_to=(1, 1), images=[np.zeros((1, 400000), np.uint8)]),  # too wide to tabulate
                dict(resample="bogus"), dict(out=np.empty((1, 2, 2, 3), np.float32))):
        images = bad.pop("images", u8)
        try:
            transform_batch(images, **bad)
        except (ValueError, TypeError, MemoryError):
            pass
print("ran", calls, "iterations; extension:", _core.__file__, "avx2:", _core.cpu_has_avx2(),
      "openmp:", _core._has_openmp)
EOF

echo "== valgrind memcheck: $CALLS iterations (log: $LOG)"
# PYTHONMALLOC=malloc: every Python allocation goes through malloc, which
# valgrind tracks exactly (pymalloc's arenas would hide and confuse it).
PYTHONMALLOC=malloc valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --num-callers=40 --log-file="$LOG" \
    "$PYEXE" "$DRIVER" "$CALLS" | tee "$OUT_DIR/driver.out"
grep -q "^ran $CALLS iterations" "$OUT_DIR/driver.out" || { echo "leakcheck.sh: the driver did not finish" >&2; exit 2; }
if ! grep -q -e "LEAK SUMMARY" -e "All heap blocks were freed" "$LOG"; then
    echo "leakcheck.sh: valgrind produced no leak summary (see $LOG)" >&2
    exit 2
fi

# Loss records (definitely / indirectly lost) with a frame in the extension
# (its file, pyimgaug/_core*.so, or a pyimgaug:: symbol).
ours=$(awk '
    /are (definitely|indirectly) lost/ { rec = $0; inrec = 1; next }
    inrec && /^==[0-9]+== *$/ { if (rec ~ ext) print rec "\n"; inrec = 0; next }
    inrec { rec = rec "\n" $0 }
    END { if (inrec && rec ~ ext) print rec }
' ext='pyimgaug/_core|pyimgaug::' "$LOG")
# Invalid reads/writes or uses of uninitialised values inside the extension.
errors=$(awk '
    /^==[0-9]+== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Mismatched free)/ { rec = $0; inrec = 1; next }
    inrec && /^==[0-9]+== *$/ { if (rec ~ ext) print rec "\n"; inrec = 0; next }
    inrec { rec = rec "\n" $0 }
' ext='pyimgaug/_core|pyimgaug::' "$LOG")

echo "== valgrind summary (whole process, CPython included):"
sed -n '/LEAK SUMMARY/,/suppressed/p' "$LOG" | sed 's/^==[0-9]*== /    /'
if [[ -n "$ours" || -n "$errors" ]]; then
    echo "== leakcheck.sh: FAILED: leaks or memory errors in the extension:"
    printf '%s\n%s\n' "$ours" "$errors" | head -n 200
    exit 1
fi
echo "== leakcheck.sh: no definite/indirect leak and no memory error with a frame in _core"
