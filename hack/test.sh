#!/usr/bin/env bash
# The test command behind `make test`: every layer runs (a failure does not hide the others), then one summary.
#
# The static layers (sanity, sanity-oldest, lint, units, ee, docs) run one after the other in the background while
# the integration layer boots its lab and runs its first targets, the short `serial` ones (docs/testing.md says
# what the overlap measured: the machine's CPU is the limit). Each static layer's output goes to
# tests/output/layers/NAME.log; one line says when it ends, and the whole output is printed once integration ends.
# SAN_ISCSI_TEST_SEQUENTIAL=1 runs every layer in the foreground, one after the other, as before.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
venv=${VENV:-$PWD/.venv}
layers_dir=$PWD/tests/output/layers
STATIC_LAYERS=(sanity sanity-oldest lint units ee docs)

# The command of a layer, in the array `argv`.
layer_argv() {
    case $1 in
        sanity) argv=(hack/sanity.sh) ;;
        sanity-oldest) argv=(hack/sanity-oldest.sh) ;;
        lint) argv=(hack/lint.sh) ;;
        units) argv=(hack/units.sh) ;;
        ee) argv=("$venv/bin/python" hack/ee-check.py) ;;
        docs) argv=(hack/docs-lint.sh) ;;
        integration) argv=("$venv/bin/python" lab/labctl.py test) ;;
    esac
}

# One layer: NAME [LOG]. Without LOG its output streams; with it, it goes to LOG and one line tells the end.
# Appends "NAME STATUS SECONDS" to $layers_dir/results.
run_layer() {
    local name=$1 log=${2:-} start=$SECONDS status rc argv
    layer_argv "$name"
    # in the background and waited for, so that a signal reaches the traps below at once
    if [[ -z $log ]]; then
        printf '\n=== %s: %s\n' "$name" "${argv[*]}"
        # streamed, and kept for the recap at the end (CI shows only the output's last lines)
        "${argv[@]}" > >(tee "$layers_dir/$name.log") 2>&1 &
    else
        "${argv[@]}" >"$log" 2>&1 </dev/null &
    fi
    layer_pid=$!
    wait "$layer_pid"
    rc=$?
    layer_pid=
    if [[ $rc -eq 0 ]]; then status=passed; else status=FAILED; fi
    printf '%s %s %d\n' "$name" "$status" $((SECONDS - start)) >>"$layers_dir/results"
    if [[ -n $log ]]; then
        printf '[static] %s %s: %s in %d s (output: %s)\n' "$(date +%H:%M:%S)" "$name" "$status" \
            $((SECONDS - start)) "${log#"$PWD"/}"
    fi
}

static_pid=
layer_pid=
# An interrupted run stops what it started: the running layer (the lab's runner tears its lab down on SIGTERM)
# and the static layers' process group.
stop_layers() {
    if [[ -n $layer_pid ]] && kill -0 "$layer_pid" 2>/dev/null; then
        kill -TERM "$layer_pid" 2>/dev/null
        wait "$layer_pid" 2>/dev/null
    fi
    if [[ -n $static_pid ]] && kill -0 "$static_pid" 2>/dev/null; then
        kill -TERM -- "-$static_pid" 2>/dev/null
        wait "$static_pid" 2>/dev/null
    fi
}
trap stop_layers EXIT
trap 'exit 130' INT TERM HUP

if [[ ${1:-} == --static-layers ]]; then
    for name in "${STATIC_LAYERS[@]}"; do
        run_layer "$name" "$layers_dir/$name.log"
    done
    exit 0
fi

rm -rf "$layers_dir"
mkdir -p "$layers_dir"
: >"$layers_dir/results"

if [[ ${SAN_ISCSI_TEST_SEQUENTIAL:-} == 1 ]]; then
    for name in "${STATIC_LAYERS[@]}"; do
        run_layer "$name"
    done
    run_layer integration
else
    printf '=== static layers in the background (%s), outputs in %s\n' "${STATIC_LAYERS[*]}" "${layers_dir#"$PWD"/}"
    # its own process group, so that an interrupted run stops all of it
    setsid "$PWD/hack/test.sh" --static-layers &
    static_pid=$!
    run_layer integration
    wait "$static_pid"
    static_pid=
    for name in "${STATIC_LAYERS[@]}"; do
        layer_argv "$name"
        printf '\n=== %s: %s\n' "$name" "${argv[*]}"
        cat "$layers_dir/$name.log" 2>/dev/null || echo "(no output: the layer did not run)"
    done
fi

# What failed, again, where only the end of the output is kept: the lab's failed targets with their first failed
# task (labctl's summary), a lab error, and the failed static layers' last lines.
recap_failures() {
    local name
    if [[ -f $layers_dir/integration.log ]]; then
        grep -E -A1 '^  failed: ' "$layers_dir/integration.log" | grep -v '^--$'
        grep -E '^(integration: [0-9]+ passed|lab error: |interrupted$)' "$layers_dir/integration.log"
    fi
    for name in "${STATIC_LAYERS[@]}"; do
        if grep -qE "^$name FAILED" "$layers_dir/results" 2>/dev/null && [[ -f $layers_dir/$name.log ]]; then
            printf -- '--- %s, last lines:\n' "$name"
            tail -n 8 "$layers_dir/$name.log"
        fi
    done
}

printf '\n=== failures (recap)\n'
recap_failures
printf '\n=== summary (total %d s)\n' "$SECONDS"
failed=0
count=0
for name in "${STATIC_LAYERS[@]}" integration; do
    line=$(awk -v n="$name" '$1 == n' "$layers_dir/results")
    [[ -n $line ]] || line="$name FAILED 0"
    read -r _ status secs <<<"$line"
    printf '%-14s %-7s %5d s\n' "$name" "$status" "$secs"
    count=$((count + 1))
    if [[ $status != passed ]]; then failed=$((failed + 1)); fi
done
printf 'layers: %d passed, %d failed\n' $((count - failed)) "$failed"
[ "$failed" -eq 0 ]
