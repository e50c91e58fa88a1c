#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# ansible-lint, production profile, offline (.ansible-lint): hack/lint.sh [ansible-lint ARGS...]
# Without paths it lints the whole project as git lists it: playbooks/, roles/,
# tests/integration/targets/ (roles played by the lab runner) and the collection metadata
# (galaxy.yml, meta/runtime.yml, changelogs, execution-environment.yml); .ansible-lint excludes the rest.
# The collection itself resolves as san.iscsi through .build/live (hack/venv.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
live=$repo/.build/live

[[ -e $live/ansible_collections/san/iscsi/galaxy.yml ]] || {
    echo "hack/lint.sh: $live/ansible_collections/san/iscsi is missing (make venv)" >&2
    exit 1
}

cd "$repo"
export ANSIBLE_COLLECTIONS_PATH=$live
export ANSIBLE_HOME=$repo/.build/ansible-home
export PATH=$venv/bin:$PATH
[[ -t 1 ]] || export NO_COLOR=1
exec ansible-lint --config-file "$repo/.ansible-lint" "$@"
