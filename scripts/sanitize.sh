#!/usr/bin/env bash
# Builds the native kernel with AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the kernel tests (including the hostile-input property test) under it.
#
#   scripts/sanitize.sh                 # build (a few minutes) + run tests/test_kernel_*.py, test_png.py and test_jpeg.py
#   scripts/sanitize.sh -k hostile      # extra arguments go to pytest
#
# The sanitized package and the test extra (numpy, scipy, Pillow, pytest,
# hypothesis, ...) are installed into their own virtual environment,
# build/sanitize-venv, made from $PYTHON without its site-packages: nothing is
# installed into or removed from that interpreter, and nothing of it is needed.
#
# Exit status: non-zero when the build fails, a test fails, or any sanitizer
# report was written (UBSan is built with -fno-sanitize-recover=all, so undefined
# behaviour aborts the test run; ASan aborts on its first error anyway).
#
# Environment: PYTHON (default python3), CXX (default g++; its runtime is preloaded),
# SANITIZE (default address,undefined), SANITIZE_VENV, SANITIZE_BUILD_DIR,
# SANITIZE_SKIP_BUILD=1 to rerun the tests against the existing build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

PYTHON=${PYTHON:-python3}
CXX=${CXX:-g++}
SANITIZE=${SANITIZE:-address,undefined}
VENV=$(realpath -m "${SANITIZE_VENV:-build/sanitize-venv}")
BUILD_DIR=${SANITIZE_BUILD_DIR:-build/sanitize}
LOG_DIR=$ROOT/build/sanitize-logs

if [[ "$($CXX --version | head -n1)" == *clang* ]]; then
    echo "sanitize.sh: expects GCC (it preloads GCC's libasan); set CXX=g++" >&2
    exit 2
fi
ASAN_LIB=$($CXX -print-file-name=libasan.so)
if [[ ! -e "$ASAN_LIB" ]]; then
    echo "sanitize.sh: $CXX has no libasan.so (install the compiler's sanitizer runtime)" >&2
    exit 2
fi
# Python is a C program, so libstdc++ arrives only with the extension, after ASan
# has set up its interceptors; ASan's __cxa_throw interceptor then finds no real
# function and aborts on the first C++ exception (the bindings throw to report bad
# arguments). Preloading libstdc++ beside ASan lets it resolve at start-up.
STDCXX_LIB=$($CXX -print-file-name=libstdc++.so)
PRELOAD="$ASAN_LIB $STDCXX_LIB"

# A venv left by an older version of this script saw the base interpreter's packages.
if grep -qs '^include-system-site-packages = true' "$VENV/pyvenv.cfg"; then
    echo "== $VENV was made with --system-site-packages: making it afresh"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "== creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"

if [[ "${SANITIZE_SKIP_BUILD:-0}" != 1 ]]; then
    echo "== building pyimgaug with -fsanitize=$SANITIZE into $VENV (build dir $BUILD_DIR)"
    # The build runs without isolation so that build/sanitize is reused (incremental
    # rebuilds): the build requirements go into the venv first.
    "$VPY" -m pip install -q scikit-build-core pybind11 ninja cmake
    "$VPY" -m pip install ".[test]" --no-build-isolation --no-cache-dir -q \
        -C "build-dir=$BUILD_DIR" \
        -C "cmake.build-type=RelWithDebInfo" \
        -C "cmake.define.PYIMGAUG_SANITIZE=$SANITIZE" \
        -C "cmake.define.CMAKE_CXX_FLAGS=-fno-sanitize-recover=all -fsanitize=float-cast-overflow"
fi

# Run from a neutral directory, and prove we got the sanitized extension before
# trusting a clean run.
CORE=$(cd / && LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0 "$VPY" -c 'import pyimgaug._core as c; print(c.__file__)')
case "$CORE" in
    "$VENV"/*) ;;
    *) echo "sanitize.sh: imported $CORE, not the venv's build" >&2; exit 2 ;;
esac
symbols=$(nm -D "$CORE" 2>/dev/null || true)
if [[ "$symbols" != *__asan_* ]] || { [[ "$SANITIZE" == *undefined* ]] && [[ "$symbols" != *__ubsan_* ]]; }; then
    echo "sanitize.sh: $CORE is not built with -fsanitize=$SANITIZE" >&2
    exit 2
fi
echo "== extension: $CORE"

rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"
# detect_leaks=0: CPython does not free everything at exit (scripts/leakcheck.sh
# checks the extension for leaks with valgrind). allocator_may_return_null=1: a
# huge allocation request must become MemoryError, as it does without ASan.
# ASan writes its reports to $LOG_DIR/asan.<pid> (child processes included).
# UBSan (GCC's runtime) ignores log_path and writes to stderr, so pytest runs with
# --capture=sys (native writes to fd 2 are not swallowed, even when UBSan aborts
# the process) and its whole output is scanned for reports.
set +e
env LD_PRELOAD="$PRELOAD" \
    ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:abort_on_error=1:log_path=$LOG_DIR/asan" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    PYTHONFAULTHANDLER=1 \
    "$VENV/bin/pytest" tests/test_kernel_*.py tests/test_png.py tests/test_jpeg.py -q -p no:cacheprovider --capture=sys "$@" 2>&1 | tee "$LOG_DIR/pytest.log"
status=${PIPESTATUS[0]}
set -e

pattern='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer'
asan_files=$(find "$LOG_DIR" -name 'asan.*' -type f | sort)
ubsan_lines=$(grep -E "$pattern" "$LOG_DIR/pytest.log" | sed -E "s/^(E )?[[:space:]]*[.sxXFE]*//" | sort -u || true)
n_reports=$(( $(echo -n "$asan_files" | grep -c . || true) + $(echo -n "$ubsan_lines" | grep -c . || true) ))
if [[ $n_reports -gt 0 ]]; then
    echo "== sanitizer reports:"
    [[ -z "$ubsan_lines" ]] || echo "$ubsan_lines"
    for f in $asan_files; do
        echo "--- $f"
        cat "$f"
    done
    [[ $status -ne 0 ]] || status=1
fi
if [[ $status -eq 0 ]]; then
    echo "== sanitize.sh: ASan+UBSan ($SANITIZE): tests passed, 0 sanitizer reports"
else
    echo "== sanitize.sh: FAILED (exit $status; $n_reports sanitizer report(s); log $LOG_DIR/pytest.log)"
fi
exit $status
