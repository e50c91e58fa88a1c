#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Unit tests: hack/units.sh [pytest ARGS...]   (default: all of tests/unit)
# The collection is imported as ansible_collections.san.iscsi through the .build/live symlink
# that hack/venv.sh creates. pytest's exit code is passed through (5 = no tests collected).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
live=$repo/.build/live

if [[ ! -e $live/ansible_collections/san/iscsi/galaxy.yml ]]; then
    echo "hack/units.sh: $live/ansible_collections/san/iscsi is missing (make venv)" >&2
    exit 1
fi

cd "$repo"
export PYTHONPATH=$live${PYTHONPATH:+:$PYTHONPATH}
export PYTHONDONTWRITEBYTECODE=1
if [[ $# -eq 0 ]]; then
    set -- tests/unit
fi
exec "$venv/bin/python" -m pytest -c tests/unit/pytest.ini --rootdir "$repo" "$@"
