#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Build the collection tarball into .build/dist and check nothing of the dev or lab state is inside.
# The build runs on a copy of the files git lists (tracked + untracked, not ignored), so lab state,
# caches and scratch files in the work tree cannot ship; galaxy.yml's build_ignore then drops the
# dev-only trees.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
dist=$repo/.build/dist
src=$repo/.build/pkg/san.iscsi

rm -rf "$src"
mkdir -p "$src" "$dist"
git -C "$repo" ls-files -z -co --exclude-standard |
    while IFS= read -r -d '' f; do
        if [[ -e $repo/$f || -L $repo/$f ]]; then printf '%s\0' "$f"; fi
    done |
    rsync -a --from0 --files-from=- "$repo/" "$src/"

"$venv/bin/ansible-galaxy" collection build --force --output-path "$dist" "$src"

version=$("$venv/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$src/galaxy.yml")
tarball=$dist/san-iscsi-$version.tar.gz
[[ -f $tarball ]] || { echo "hack/build.sh: $tarball was not built" >&2; exit 1; }

listing=$(tar -tzf "$tarball")
# Development state, lab artefacts, images, caches and dev-only tooling must never ship.
forbidden='^execution-environment\.yml$|^(lab|hack|benchmarks|\.ci)/|(^|/)(\.venv|\.venv-oldest|\.build|\.lab|\.cache|\.ansible|\.git|__pycache__|\.pytest_cache|tests/output)(/|$)|\.(img|qcow2|raw|iso|pyc|tar\.gz)$'
if bad=$(grep -E "$forbidden" <<<"$listing"); then
    echo "hack/build.sh: $tarball contains paths that must not ship:" >&2
    echo "$bad" >&2
    exit 1
fi

files=$(grep -cv '/$' <<<"$listing" || true)
size=$(du -h "$tarball" | cut -f1)
echo "hack/build.sh: $tarball: $size, $files files, no forbidden paths"
