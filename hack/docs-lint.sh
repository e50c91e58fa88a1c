#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Lint the rendered docs' sources: hack/docs-lint.sh [antsibull-docs lint-collection-docs ARGS...]
# antsibull-docs (pinned in tests/requirements.txt) checks docs/docsite/ (extra-docs.yml, links.yml, the
# RST guides: labels, toctree, rstcheck, and their :ansplugin:/:ansopt: references) and, with --plugin-docs,
# renders every module's and role's documentation to RST and validates its schema and markup (O(), M(), ...
# must name options and plugins that exist). It runs on the collection as installed in .build/live
# (ansible_collections/san/iscsi, a symlink to the working tree, as hack/venv.sh makes it), offline.
# Any message is an error: the exit status is antsibull-docs', non-zero when it reported something.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
live=$repo/.build/live

if [[ ! -x $venv/bin/antsibull-docs ]]; then
    echo "hack/docs-lint.sh: $venv/bin/antsibull-docs is missing (make venv)" >&2
    exit 1
fi
if [[ ! -e $live/ansible_collections/san/iscsi/galaxy.yml ]]; then
    mkdir -p "$live/ansible_collections/san"
    ln -sfn "$repo" "$live/ansible_collections/san/iscsi"
fi

cd "$repo"
export ANSIBLE_COLLECTIONS_PATH=$live
export ANSIBLE_HOME=$repo/.build/ansible-home
export PATH=$venv/bin:$PATH
[[ -t 1 ]] || export NO_COLOR=1

antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
    --validate-collection-refs dependent --disallow-unknown-collection-refs \
    "$@" "$live/ansible_collections/san/iscsi"
echo "hack/docs-lint.sh: docs/docsite, module and role docs clean"
