#!/usr/bin/env bash
# The Pillow version matrix: the resize and flow_from_directory differential tests
# (pytest marker `pillow_matrix`) under each Pillow release, each in its own venv.
#
#   scripts/pillow_matrix.sh                  # Pillow 9.5.0 10.4.0 11.3.0 12.3.0 13.0.0
#   scripts/pillow_matrix.sh 12.3.0           # any list of releases
#
# Builds the pyimgaug wheel once, then per release: a fresh venv with the wheel's
# test extra and that Pillow, `pytest -m pillow_matrix`, and
# scripts/pillow_matrix_diff.py (largest differences from Pillow and Keras).
# Prints a summary table; exits non-zero if any release fails.
# Environment: PYTHON (default python3), PILLOW_MATRIX_DIR (default build/pillow-matrix).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
WORK=${PILLOW_MATRIX_DIR:-$ROOT/build/pillow-matrix}
RELEASES=("$@")
[ ${#RELEASES[@]} -gt 0 ] || RELEASES=(9.5.0 10.4.0 11.3.0 12.3.0 13.0.0)

rm -rf "$WORK/dist"
mkdir -p "$WORK/dist"
echo "== building the pyimgaug wheel once"
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$ROOT"
WHEEL=$(ls "$WORK"/dist/pyimgaug-*.whl)

ROWS=()
STATUS=0
for V in "${RELEASES[@]}"; do
    VENV="$WORK/venv-pillow-$V"
    LOG="$WORK/pillow-$V.log"
    echo "== Pillow $V ($VENV, log $LOG)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    if ! "$VENV/bin/pip" install --quiet "${WHEEL}[test]" "pillow==$V" >"$LOG" 2>&1; then
        cat "$LOG"
        ROWS+=("$V|?|?|install failed|?|?")
        STATUS=1
        continue
    fi
    # The venv's own pytest (not `python -m pytest`), so `import pyimgaug` finds
    # the installed wheel rather than the source folder.
    set +e
    "$VENV/bin/pytest" -m pillow_matrix -q -p no:cacheprovider >>"$LOG" 2>&1
    RC=$?
    set -e
    SUMMARY=$(grep -E "^(=+ )?[0-9]+ (passed|failed)" "$LOG" | tail -1 | sed -E 's/^=+ //; s/ =+$//')
    PASSED=$(grep -oE "[0-9]+ passed" <<<"$SUMMARY" | grep -oE "[0-9]+" || echo 0)
    FAILED=$(grep -oE "[0-9]+ failed" <<<"$SUMMARY" | grep -oE "[0-9]+" || echo 0)
    ERRORS=$(grep -oE "[0-9]+ errors?" <<<"$SUMMARY" | grep -oE "[0-9]+" || echo 0)
    [ "$RC" -eq 0 ] || { tail -30 "$LOG"; STATUS=1; }
    echo "$SUMMARY"
    if DIFF=$("$VENV/bin/python" -P scripts/pillow_matrix_diff.py 2>>"$LOG"); then
        FIELDS=$("$VENV/bin/python" -c 'import json,sys; d=json.loads(sys.argv[1]); print("%s|%s|%s|%s" % (d["behaviour"], d["probe"], d["resize_max_abs_diff"], d["directory_max_abs_diff"]))' "$DIFF")
        IFS='|' read -r BEHAVIOUR PROBE RMAX DMAX <<<"$FIELDS"
        [ "$RMAX" = "0" ] && [ "$DMAX" = "0.0" ] || STATUS=1
    else
        BEHAVIOUR="?"; PROBE="?"; RMAX="error"; DMAX="error"; STATUS=1
    fi
    ROWS+=("$V|$BEHAVIOUR|$PROBE|$PASSED passed, $FAILED failed, $ERRORS errors|$RMAX|$DMAX")
done

echo
echo "| Pillow | behaviour selected | probe | pillow_matrix tests | max abs diff, resize vs Pillow (uint8) | max abs diff, flow_from_directory vs Keras |"
echo "|---|---|---|---|---|---|"
for R in "${ROWS[@]}"; do
    IFS='|' read -r A B C D E F <<<"$R"
    echo "| $A | $B | $C | $D | $E | $F |"
done
exit $STATUS
