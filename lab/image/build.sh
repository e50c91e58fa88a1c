#!/usr/bin/env bash
# Build the lab guest image from Debian's packages only.
# Usage: build.sh OUT_DIR [SUITE [KEY]]   (OUT_DIR must not exist; it appears atomically when the build succeeds)
# SUITE: bookworm (Debian 12, the default) or trixie (Debian 13); the same recipe builds both.
# KEY: an SSH private key whose KEY.pub root's login accepts (labctl.py gives every suite the same one);
# without it the build makes a key of its own.
# Produces: base.img (raw ext4 root), vmlinuz, initrd.img, id_ed25519[.pub], recipe.txt
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR [bookworm|trixie [KEY]]}
suite=${2:-bookworm}
key=${3:-}
[[ -z $key || ( -f $key && -f $key.pub ) ]] || { echo "build.sh: no key $key (and $key.pub)" >&2; exit 2; }
case $suite in
    bookworm | trixie) ;;
    *) echo "build.sh: unsupported suite $suite (bookworm or trixie)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
mirror=${SAN_ISCSI_LAB_MIRROR:-}
if [[ -z $mirror ]]; then
    # Use the mirror apt already uses on this machine (deb822 or one-line format).
    mirror=$(sed -n 's/^URIs: *\(\S*debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
    [[ -n $mirror ]] || mirror=$(awk '$1=="deb" && $3=="'"$suite"'" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    [[ -n $mirror ]] || mirror=http://deb.debian.org/debian
fi
packages=(
    systemd-sysv udev dbus python3 python3-apt openssh-server iproute2 iputils-ping kmod procps psmisc less
    open-iscsi multipath-tools kpartx lvm2 thin-provisioning-tools autofs nfs-kernel-server python3-rtslib-fb
    sg3-utils lsscsi e2fsprogs xfsprogs btrfs-progs dosfstools parted fdisk rsync acl attr
    dnsmasq-base grub-pc-bin grub2-common zstd
)

work=$(mktemp -d "$(dirname "$out")/.build.XXXXXX")
root=$work/rootfs
cleanup() {
    for m in dev/pts dev sys proc; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"; done
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '[image] %(%H:%M:%S)T %s\n' -1 "$*"; }

step "debootstrap $suite from $mirror"
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$root" "$mirror" \
    > "$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log"; exit 1; }

step "kernel and initramfs"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
in_chroot() { chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
in_chroot apt-get install -y -q --no-install-recommends initramfs-tools > "$work/kernel.log" 2>&1 \
    || { tail -n 30 "$work/kernel.log"; exit 1; }
# A small initramfs: only the modules the lab's guests boot with (virtio disk and NIC, ext4; open-iscsi's hook
# adds its own), without what the lvm2, thin-provisioning-tools and btrfs-progs hooks and open-iscsi's offload
# transports add (files/lab-small-initramfs), zstd -19. A diskless guest's GRUB reads whatever the golden image
# holds through iPXE's BIOS disk, at about 120 KB/s under TCG (docs/iscsi_root.md): Debian's MODULES=most makes
# a 42 MB initramfs, MODULES=list a 13.6 MB one (gzip: no zstd in minbase), this about 7 MB.
printf '%s\n' MODULES=list COMPRESS=zstd COMPRESSLEVEL=19 > "$root/etc/initramfs-tools/conf.d/lab.conf"
printf '%s\n' virtio_pci virtio_blk virtio_net virtio_scsi sd_mod ext4 >> "$root/etc/initramfs-tools/modules"
install -m 0755 "$here/files/lab-small-initramfs" "$root/etc/initramfs-tools/hooks/lab-small-initramfs"
in_chroot apt-get install -y -q --no-install-recommends linux-image-amd64 >> "$work/kernel.log" 2>&1 \
    || { tail -n 30 "$work/kernel.log"; exit 1; }
chroot "$root" apt-get clean

step "configure"
install -m 0755 "$here/files/lab-guest-init" "$root/usr/local/sbin/lab-guest-init"
install -m 0644 "$here/files/lab-guest-init.service" "$root/etc/systemd/system/lab-guest-init.service"
install -m 0755 "$here/files/lab-san-storage" "$root/usr/local/sbin/lab-san-storage"
install -m 0644 "$here/files/lab-san-storage.service" "$root/etc/systemd/system/lab-san-storage.service"
install -d -m 0755 "$root/etc/target"
install -m 0644 "$here/files/10-mgmt.network" "$root/etc/systemd/network/10-mgmt.network"
install -m 0644 "$here/files/journald.conf" "$root/etc/systemd/journald.conf.d/lab.conf" -D
install -m 0644 "$here/files/sshd.conf" "$root/etc/ssh/sshd_config.d/lab.conf"
echo 'LABEL=labroot / ext4 rw,errors=remount-ro 0 1' > "$root/etc/fstab"
: > "$root/etc/machine-id"; rm -f "$root/var/lib/dbus/machine-id"
# A placeholder; lab-guest-init writes each guest's own name at boot. No node records in the image.
echo 'InitiatorName=iqn.2026-11.lab.san-iscsi:unset' > "$root/etc/iscsi/initiatorname.iscsi"
rm -rf "$root/etc/iscsi/nodes/"* "$root/etc/iscsi/send_targets/"*
chroot "$root" systemctl enable -q systemd-networkd lab-guest-init.service lab-san-storage.service multipathd.service
chroot "$root" systemctl mask -q apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
    man-db.timer dpkg-db-backup.timer systemd-networkd-wait-online.service e2scrub_reap.service
# autofs and the NFS packages (nfs-kernel-server, nfs-common, rpcbind) enable their units when they are installed;
# no guest starts any of them at boot. The autofs_map target starts autofs on the host it uses and the NFS
# server on san only, and stops them again (nfs-server.service pulls in rpcbind, statd, mountd, idmapd and
# nfsdcld; an NFSv4 client needs none of them). Disabled, not masked, so that they can be started.
units=$(chroot "$root" dpkg-query -L autofs nfs-kernel-server nfs-common rpcbind \
    | sed -n 's#^\(/usr\)\?/lib/systemd/system/\([^/]*\)$#\2#p' | sort -u)
for unit in $units; do
    if [[ $(chroot "$root" systemctl is-enabled "$unit" 2>/dev/null) == enabled ]]; then
        chroot "$root" systemctl disable -q "$unit"
    fi
done
# systemd >= 256 (trixie) has a generator that looks for AF_VSOCK at every boot and daemon-reload and
# fails in these guests (no vsock device); SSH comes from ssh.service as on bookworm.
if [[ -e $root/usr/lib/systemd/system-generators/systemd-ssh-generator ]]; then
    install -d -m 0755 "$root/etc/systemd/system-generators"
    ln -sfn /dev/null "$root/etc/systemd/system-generators/systemd-ssh-generator"
fi
# systemctl (trixie's) wants /proc even offline: unmount only now.
for m in dev/pts dev sys proc; do umount "$root/$m"; done
# The LIO configuration restore at boot only matters on the SAN guest.
install -m 0644 -D "$here/files/san-only.conf" "$root/etc/systemd/system/rtslib-fb-targetctl.service.d/lab.conf"
if [[ -n $key ]]; then
    install -m 0600 "$key" "$work/id_ed25519"
    install -m 0644 "$key.pub" "$work/id_ed25519.pub"
else
    ssh-keygen -q -t ed25519 -N '' -C san-iscsi-lab -f "$work/id_ed25519"
fi
install -d -m 0700 "$root/root/.ssh"
install -m 0600 "$work/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd.img"
chmod 0644 "$work/vmlinuz" "$work/initrd.img"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

step "root filesystem image"
mkfs.ext4 -q -L labroot -d "$root" "$work/base.img" 4G
{ echo "suite=$suite"; echo "mirror=$mirror"; echo "packages=${packages[*]}";
  echo "kernel=$(basename "$root"/boot/vmlinuz-*)"; } > "$work/recipe.txt"
rm -rf "$root"
mv "$work" "$out"
trap - EXIT
step "done: $out"
