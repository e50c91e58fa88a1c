#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# ansible-test sanity on the oldest ansible-core that meta/runtime.yml claims (requires_ansible):
# hack/sanity-oldest.sh [ansible-test sanity ARGS...]
# Creates .venv-oldest with only that ansible-core (ansible-test comes with it; every sanity tool
# lives in ansible-test's own per-test venvs) when it is missing or pinned differently, then runs
# hack/sanity.sh with it. Keep CORE at the newest patch of the series requires_ansible names.
set -euo pipefail

CORE=2.17.14

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$repo/.venv-oldest
python=${PYTHON:-python3}

mkdir -p "$repo/.build"
(
    # One creator at a time; a second run waits, then finds the venv ready.
    flock 8
    if [[ $(cat "$venv/.stamp" 2>/dev/null) != "ansible-core==$CORE" ]]; then
        echo "hack/sanity-oldest.sh: creating $venv (ansible-core $CORE)"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core==$CORE"
        echo "ansible-core==$CORE" >"$venv/.stamp"
    fi
) 8>"$repo/.build/venv-oldest.lock"

VENV=$venv exec "$repo/hack/sanity.sh" "$@"
