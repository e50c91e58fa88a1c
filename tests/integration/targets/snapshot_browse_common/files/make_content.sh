# shellcheck shell=bash
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Run on host1, logged in to the LUN: put the test content on DEVICE.
#   make_content.sh NAME KIND DEVICE [BIG_MIB]   (KIND: ext4 | xfs | xfs-part | lvm | lvm-part | blank)
# xfs-part: a GPT whose one partition holds the XFS filesystem. lvm: VG sbt_NAME on the whole disk, ext4 in its LV
# data. lvm-part: a GPT whose one partition is the PV of VG sbt_NAME, XFS in its LV data (the rest of the VG).
# The tree: data/tree/{a.txt (1234:1234 0640, ACL u:4321:r, xattr user.origin=ledger), sub/b.bin (64 KiB),
# link-in -> a.txt}, data/escape -> /etc/passwd (a symlink leaving the snapshot), data/big.bin (BIG_MIB MiB
# of random data, 1 when not given). Prints the tree's manifest; with BIG_MIB, then `big.bin SHA256` too.
set -euo pipefail
lv=$3
kind=$2
big_mib=${4:-1}
lvmcfg='devices { scan_lvs = 1 }'
mnt=$(mktemp -d)
dev=$lv
case $kind in
  blank) exit 0 ;;
  lvm)
    vg=sbt_$1
    pvcreate -q --config "$lvmcfg" "$lv" >/dev/null
    vgcreate -q --config "$lvmcfg" "$vg" "$lv" >/dev/null
    lvcreate -q -y --config "$lvmcfg" -L 48M -n data "$vg" >/dev/null
    dev=/dev/$vg/data
    mkfs.ext4 -q "$dev" >/dev/null ;;
  xfs-part|lvm-part)
    printf 'label: gpt\n,\n' | sfdisk -q "$lv" >/dev/null
    partx -u "$lv"
    udevadm settle
    dev=${lv}1
    if [ "$kind" = lvm-part ]; then
      vg=sbt_$1
      pvcreate -q --config "$lvmcfg" "$dev" >/dev/null
      vgcreate -q --config "$lvmcfg" "$vg" "$dev" >/dev/null
      lvcreate -q -y --config "$lvmcfg" -l 100%FREE -n data "$vg" >/dev/null
      dev=/dev/$vg/data
    fi
    mkfs.xfs -q "$dev" >/dev/null 2>&1 ;;
  *) mkfs."$kind" -q "$dev" >/dev/null 2>&1 ;;
esac
mount "$dev" "$mnt"
mkdir -p "$mnt/data/tree/sub"
printf 'quarterly figures: 42\n' > "$mnt/data/tree/a.txt"
head -c 65536 /dev/urandom > "$mnt/data/tree/sub/b.bin"
head -c "$((big_mib * 1048576))" /dev/urandom > "$mnt/data/big.bin"
ln -s a.txt "$mnt/data/tree/link-in"
ln -s /etc/passwd "$mnt/data/escape"
chown 1234:1234 "$mnt/data/tree/a.txt"
chmod 0640 "$mnt/data/tree/a.txt"
setfacl -m u:4321:r "$mnt/data/tree/a.txt"
setfattr -n user.origin -v ledger "$mnt/data/tree/a.txt"
touch -h -d '2026-01-02 03:04:05' "$mnt/data/tree/a.txt" "$mnt/data/tree/sub/b.bin" "$mnt/data/tree/link-in"
(cd "$mnt/data" && find tree -print0 | sort -z | xargs -0 stat -c '%n %F %u:%g %a %Y' && sha256sum tree/a.txt tree/sub/b.bin && getfacl -cp tree/a.txt && getfattr -d tree/a.txt) > "/var/tmp/$1.manifest"
big_sum=$(sha256sum < "$mnt/data/big.bin")
umount "$mnt"
rmdir "$mnt"
if [ "$kind" = lvm ] || [ "$kind" = lvm-part ]; then vgchange -q --config "$lvmcfg" -an "$vg" >/dev/null; fi
cat "/var/tmp/$1.manifest"
if [ -n "${4:-}" ]; then echo "big.bin ${big_sum%% *}"; fi
rm -f "/var/tmp/$1.manifest"
