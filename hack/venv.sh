#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Create or refresh the development venv: hack/venv.sh [VENV]  (default: .venv)
# Idempotent: re-running only installs what tests/requirements.txt or requirements.txt changed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${1:-$repo/.venv}
case $venv in /*) ;; *) venv=$PWD/$venv ;; esac

python=${PYTHON:-python3}
if ! version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); then
    echo "hack/venv.sh: cannot run '$python'; install Python >= 3.11 (Debian 12: apt-get install python3 python3-venv)" >&2
    echo "  or point PYTHON at one: make venv PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "hack/venv.sh: '$python' is Python $version; ansible-core 2.19 needs Python >= 3.11." >&2
    echo "  Install it (Debian 12: apt-get install python3 python3-venv) or set PYTHON=/path/to/python3.11+" >&2
    exit 1
fi

if [[ ! -x $venv/bin/python ]]; then
    echo "hack/venv.sh: creating $venv"
    if ! "$python" -m venv "$venv"; then
        echo "hack/venv.sh: '$python -m venv' failed; install the venv module (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi

# pip only reinstalls what is not already satisfied, so this is cheap when nothing changed.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$repo/tests/requirements.txt" -r "$repo/requirements.txt"

# ansible and pytest find the collection as ansible_collections/san/iscsi under .build/live,
# a symlink to the working tree, so edits are seen at once.
live=$repo/.build/live/ansible_collections/san
mkdir -p "$live"
ln -sfn "$repo" "$live/iscsi"

{
    echo "# written by hack/venv.sh; make rebuilds the venv when this is older than the requirements"
    "$venv/bin/python" -V
    "$venv/bin/python" -m pip freeze --disable-pip-version-check
} >"$venv/.stamp"
core=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
echo "hack/venv.sh: $venv ready (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), ansible-core $core)"
