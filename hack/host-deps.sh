#!/usr/bin/env bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Debian packages the lab and the tests need on the machine that runs them: hack/host-deps.sh
# Installs only what dpkg says is missing (apt-get update once, only then); a fast no-op otherwise.
set -euo pipefail

packages=(
    qemu-system-x86 qemu-utils  # lab guests (TCG) and their copy-on-write overlays
    debootstrap e2fsprogs       # guest image build (mkfs.ext4 -d)
    vde2                        # the two storage fabrics (vde_switch)
    openssh-client rsync        # reaching the guests; the sanity tree copy
    openssl                     # lab keys and certificates
    shellcheck                  # ansible-test sanity's shellcheck test
    python3-venv git make       # the venv, file listing, entry points
)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "hack/host-deps.sh: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "hack/host-deps.sh: not root and no sudo; as root run: apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq ||
    ! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    echo "hack/host-deps.sh: failed to install: ${missing[*]} (see apt's messages above)" >&2
    exit 1
fi
