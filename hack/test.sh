#!/usr/bin/env bash
# The test command behind `make test`: every layer runs (a failure does not hide the others), then one summary.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
venv=${VENV:-$PWD/.venv}
results=()
failed=0

layer() {
    local name=$1 start=$SECONDS status
    shift
    printf '\n=== %s: %s\n' "$name" "$*"
    if "$@"; then status=passed; else status=FAILED; failed=$((failed + 1)); fi
    results+=("$(printf '%-14s %-7s %5d s' "$name" "$status" $((SECONDS - start)))")
}

layer sanity hack/sanity.sh
layer sanity-oldest hack/sanity-oldest.sh
layer lint hack/lint.sh
layer units hack/units.sh
layer ee "$venv/bin/python" hack/ee-check.py
layer docs hack/docs-lint.sh
layer integration "$venv/bin/python" lab/labctl.py test

printf '\n=== summary (total %d s)\n' "$SECONDS"
printf '%s\n' "${results[@]}"
printf 'layers: %d passed, %d failed\n' $(( ${#results[@]} - failed )) "$failed"
[ "$failed" -eq 0 ]
