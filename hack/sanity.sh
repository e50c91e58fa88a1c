#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# ansible-test sanity without Docker: hack/sanity.sh [ansible-test sanity ARGS...]
# ansible-test needs the tree at .../ansible_collections/san/iscsi, so the files git lists
# (tracked + untracked, minus ignored) are copied to .build/sanity/ansible_collections/san/iscsi.
# --venv makes ansible-test build its own per-test venvs (cached in ~/.ansible/test/venv).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
dest=$repo/.build/sanity/ansible_collections/san/iscsi

for tool in git rsync; do
    command -v "$tool" >/dev/null || { echo "hack/sanity.sh: $tool is missing (make host-deps)" >&2; exit 1; }
done
[[ -x $venv/bin/ansible-test ]] || { echo "hack/sanity.sh: $venv/bin/ansible-test missing (make venv)" >&2; exit 1; }

# One run at a time: runs share the arranged tree and ansible-test's tests/output in it.
mkdir -p "$repo/.build"
exec 9>"$repo/.build/sanity.lock"
if ! flock --nonblock 9; then
    echo "hack/sanity.sh: another sanity run is in progress; waiting for it" >&2
    flock 9
fi

list=$(mktemp)
trap 'rm -f "$list"' EXIT
# Files deleted in the work tree but still in the index are listed too: skip them.
git -C "$repo" ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do
        if [[ -e $repo/$f || -L $repo/$f ]]; then printf '%s\0' "$f"; fi
    done | LC_ALL=C sort -z -u >"$list"

mkdir -p "$dest"
rsync -a --from0 --files-from="$list" "$repo/" "$dest/"

# Remove what is no longer listed (renamed or deleted files), keeping ansible-test's own output.
(cd "$dest" && find . \( -path ./tests/output -o -path ./.git \) -prune -o \( -type f -o -type l \) -printf '%P\0' | LC_ALL=C sort -z) |
    LC_ALL=C comm -z -23 - "$list" |
    while IFS= read -r -d '' stale; do rm -f -- "$dest/$stale"; done
find "$dest" -mindepth 1 -depth -type d -empty ! -path "$dest/tests/output" ! -path "$dest/tests/output/*" \
    ! -path "$dest/.git" ! -path "$dest/.git/*" -delete

# ansible-test lists content with git when it finds a .git at or above the tree; without one of
# its own here it would find the work tree's, where .build/ is ignored, and skip every target.
# A repository without commits lists every copied file as untracked ('git ls-files --others').
[[ -d $dest/.git ]] || git init --quiet "$dest"

rm -f "$list"

# ansible-test bootstraps pip in its venvs with a get-pip script it downloads from the Ansible CI files host,
# which is not reachable from everywhere PyPI is; provide the cached copy it looks for first.
pip_version=$("$venv/bin/python" -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="any"))["pip"])')
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [[ ! -s $get_pip ]]; then
    mkdir -p "$(dirname "$get_pip")"
    cp "$repo/hack/get_pip_offline.py" "$get_pip"
fi

pyver=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$dest"
export PATH=$venv/bin:$PATH
exec ansible-test sanity --venv --python "$pyver" --color no "$@"
