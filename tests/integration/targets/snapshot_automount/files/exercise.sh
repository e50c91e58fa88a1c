#!/usr/bin/env bash
# Run on the browse host (host1) after the role: every check of the automounter through the automount point.
#   exercise.sh MOUNT_POINT TARGET_IQN CYCLES EXT4_KEY A_SHA256 B_SHA256 XFS_KEY A_SHA256 B_SHA256 \
#     LVM_KEY A_SHA256 B_SHA256
# (the checksums of data/tree/a.txt and data/tree/sub/b.bin in each snapshot; LVM_KEY: XFS in the LV of a VG whose
# PV is the one partition of a GPT disk)
# Prints "figure: ..." lines (timings, bytes read) and "ok: ..." for each check passed; exits non-zero at the
# first check that fails. Every wait is bounded.
set -euo pipefail
mp=$1 iqn=$2 cycles=$3 ext4=$4 xfs=$7 lvm=${10}
declare -A a_sum=([$4]=$5 [$7]=$8 [${10}]=${11}) b_sum=([$4]=$6 [$7]=$9 [${10}]=${12})
state=/run/san-iscsi-automount
fail() { echo "FAILED: $*"; journalctl -q -t san-iscsi-automount -n 40 --no-pager || true; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
sums_ok() {  # KEY: the two files' checksums through the automount point
  local got_a got_b
  got_a=$(sha256sum "$mp/$1/data/tree/a.txt" | cut -d' ' -f1)
  got_b=$(sha256sum "$mp/$1/data/tree/sub/b.bin" | cut -d' ' -f1)
  if [ "$got_a" != "${a_sum[$1]}" ] || [ "$got_b" != "${b_sum[$1]}" ]; then fail "$1: checksums $got_a $got_b"; fi
}
# from the mount table only: a path walk into the automount point (mountpoint(1), stat) counts as a use and
# would keep autofs from ever expiring the mount
is_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }
wait_expired() {  # KEY: autofs unmounts it after its timeout (at most 60 s)
  for _ in $(seq 1 300); do is_mounted "$mp/$1" || return 0; sleep 0.2; done
  fail "$1 did not expire within 60 s"
}
options_of() { findmnt -n -o OPTIONS --target "$1"; }
disks_of() {  # WWID: how many SCSI disks of this host have it
  local n=0 w
  for w in /sys/block/sd*/device/wwid; do
    if [ -e "$w" ] && [ "$(tr '[:upper:]' '[:lower:]' < "$w")" = "$1" ]; then n=$((n + 1)); fi
  done
  echo "$n"
}
reap_until_gone() {  # KEY: run the reaper until it has reaped the key (the test's reap grace is 4 s; at most 60 s)
  for _ in $(seq 1 60); do
    [ -e "$state/keys/$1.json" ] || return 0
    /usr/local/sbin/san-iscsi-automount reap >/dev/null
    sleep 1
  done
  fail "the reaper did not reap $1 within 60 s"
}
record_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$state/keys/$1.json" "$2"; }
wwid_of() { record_field "$1" wwid; }

# 1. a cold key: nothing presented before
t=$(now); ls "$mp/$ext4/data/tree" >/dev/null; echo "figure: cold cd+ls $ext4: $(since "$t") s"
sums_ok "$ext4"
dev=$(record_field "$ext4" device)
read_kib=$(awk '{print $3 / 2}' "/sys/block/$dev/stat")
echo "figure: read from the clone's disk to mount and read the files ($ext4): ${read_kib} KiB"
# ext4's noload shows as norecovery in the mount table
for o in ro nosuid nodev noexec 'noload|norecovery'; do options_of "$state/mnt/$ext4" | tr ',' '\n' | grep -qxE "$o" || fail "staging mount lacks $o: $(options_of "$state/mnt/$ext4")"; done
# read from inside the automount: a process in it keeps autofs from expiring it (the test's timeout is 2 s) while
# findmnt looks, else a slow moment reads the autofs directory's own options
automount_options=$(cd "$mp/$ext4" && options_of .) || fail "cannot enter the automount $mp/$ext4"
for o in ro nosuid nodev noexec; do echo "$automount_options" | tr ',' '\n' | grep -qx "$o" || fail "automount lacks $o: $automount_options"; done
[ "$(blockdev --getro "/dev/$dev")" = 1 ] || fail "/dev/$dev is not read-only in the kernel"
if touch "$mp/$ext4/data/x" 2>/dev/null; then fail "wrote into the snapshot"; fi
echo "ok: cold key mounted read-only (ro,nosuid,nodev,noexec,noload), files intact"
t=$(now); ls "$mp/$ext4/data" >/dev/null; echo "figure: warm ls $ext4: $(since "$t") s"

# 2. a second snapshot at once: XFS in the one partition of a GPT disk (a reader holds the first one open: the
# test's timeout is 2 s, shorter than a cold mount)
(exec 9< "$mp/$ext4/data/tree/a.txt"; exec sleep 600) &
holder=$!
sums_ok "$xfs"
for o in ro norecovery nouuid; do options_of "$state/mnt/$xfs" | tr ',' '\n' | grep -qx "$o" || fail "xfs mount lacks $o"; done
is_mounted "$mp/$ext4" || fail "$ext4 went away while $xfs was mounted"
kill "$holder"; wait "$holder" 2>/dev/null || true
echo "ok: two snapshots mounted at once; the partitioned XFS one with norecovery,nouuid"

# 2b. XFS in an LV whose VG's PV is the one partition of a GPT disk: imported as a clone VG on an overlay, the LV
# read-only, the LUN untouched
t=$(now); sums_ok "$lvm"; echo "figure: cold cd+ls $lvm (LVM in a partition): $(since "$t") s"
source=$(findmnt -n -o SOURCE "$state/mnt/$lvm")
case $source in /dev/mapper/sbt_*_clone_*-data) ;; *) fail "$lvm is mounted from $source, not the clone VG's LV" ;; esac
for o in ro norecovery nouuid nosuid nodev noexec; do options_of "$state/mnt/$lvm" | tr ',' '\n' | grep -qx "$o" || fail "lvm mount lacks $o"; done
[ "$(blockdev --getro "$source")" = 1 ] || fail "$source is not read-only in the kernel"
lvm_disk=$(record_field "$lvm" device)
if [ "$(blockdev --getro "/dev/${lvm_disk}")" != 1 ] || [ "$(blockdev --getro "/dev/${lvm_disk}1")" != 1 ]; then fail "/dev/$lvm_disk is writable"; fi
echo "ok: XFS in an LV in a partitioned LUN mounted through a clone VG, read-only ($source)"

# 3. unknown and malformed keys: No such file or directory, quickly
for key in lio_sat_nosuch@lio_sat_nosuch_s1 no-at-sign lio_sat_ext4@; do
  t=$(now)
  if out=$(ls "$mp/$key" 2>&1); then fail "unknown key $key listed: $out"; fi
  case $out in *"No such file or directory"*) ;; *) fail "unknown key $key: $out" ;; esac
  echo "figure: unknown key '$key' answered in $(since "$t") s"
done
echo "ok: unknown keys are No such file or directory"

# 4. expiry cycles with re-access (warm: the staging mount is reused until the reaper runs)
t=$(now)
for i in $(seq 1 "$cycles"); do
  wait_expired "$ext4"
  sums_ok "$ext4"
done
echo "figure: $cycles expiry cycles with re-access in $(since "$t") s"
echo "ok: $cycles expiry cycles, each re-access read the right files"

# 5. expiry, then the reaper (once autofs's cached answer is older than the reap grace), then re-access (cold
# again), twice
for i in 1 2; do
  wait_expired "$ext4"
  wwid=$(wwid_of "$ext4")
  reap_until_gone "$ext4"
  [ "$(disks_of "$wwid")" = 0 ] || fail "the disk of $ext4 ($wwid) is still there"
  t=$(now); sums_ok "$ext4"; echo "figure: re-access after the reaper (cold) $(since "$t") s"
done
echo "ok: re-access after expiry and reaping works (twice)"

# 6. four processes open one cold key at once
wait_expired "$ext4"; wait_expired "$xfs"
reap_until_gone "$ext4"; reap_until_gone "$xfs"
t=$(now)
pids=()
for i in 1 2 3 4; do (sha256sum "$mp/$ext4/data/tree/a.txt" > "/run/lab-sat-par.$i" 2>&1) & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || fail "a parallel reader failed: $(cat /run/lab-sat-par.*)"; done
echo "figure: four processes on one cold key: $(since "$t") s"
for i in 1 2 3 4; do [ "$(cut -d' ' -f1 "/run/lab-sat-par.$i")" = "${a_sum[$ext4]}" ] || fail "reader $i: $(cat "/run/lab-sat-par.$i")"; done
rm -f /run/lab-sat-par.*
wwid=$(wwid_of "$ext4")
[ "$(disks_of "$wwid")" = 1 ] || fail "not exactly one disk for $wwid: $(disks_of "$wwid")"
echo "ok: four processes at once read the same snapshot through one clone and one disk"

# 7. the by-name tree
/usr/local/sbin/san-iscsi-automount refresh >/dev/null
[ -L "$mp/by-name/${ext4%@*}/${ext4#*@}" ] || fail "by-name lacks ${ext4%@*}/${ext4#*@}: $(ls -R "$mp/by-name" 2>&1)"
[ "$(sha256sum "$mp/by-name/${ext4%@*}/${ext4#*@}/data/tree/a.txt" | cut -d' ' -f1)" = "${a_sum[$ext4]}" ] || fail "by-name path"
echo "ok: by-name/${ext4%@*}/${ext4#*@} leads into the snapshot"

# 8. no fsck ever ran
[ ! -s /run/lab-sat-fsck-tripwire ] || fail "fsck ran: $(cat /run/lab-sat-fsck-tripwire)"
echo "ok: no fsck ran (tripwire empty)"

# 8b. a key still in use is not reaped: a process inside its staging mount keeps the mount, the disk and the clone
wait_expired "$ext4"
(cd "$state/mnt/$ext4/data" && exec sleep 600) &
busy=$!
sleep 5  # past the reap grace (4 s)
/usr/local/sbin/san-iscsi-automount reap >/dev/null
[ -e "$state/keys/$ext4.json" ] || fail "the reaper took down $ext4 while a process was inside it"
is_mounted "$state/mnt/$ext4" || fail "the staging mount of $ext4 in use was unmounted"
[ "$(disks_of "$(wwid_of "$ext4")")" = 1 ] || fail "the disk of $ext4 in use went away"
kill "$busy"; wait "$busy" 2>/dev/null || true
reap_until_gone "$ext4"
echo "ok: a key in use was kept by the reaper, and reaped once let go"

# 8c. the SAN side unreachable: a cold lookup answers No such file or directory, logs why, and leaves no session;
# the record it leaves is reaped once the SAN is back
config=/etc/san-iscsi/automount.json
cp "$config" /run/lab-sat-config.json
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["ssh_port"]=1; json.dump(c, open(sys.argv[1], "w"))' "$config"
t=$(date +%s)
out=$(ls "$mp/$ext4" 2>&1) && { cp /run/lab-sat-config.json "$config"; fail "a lookup without the SAN listed: $out"; }
cp /run/lab-sat-config.json "$config"
case $out in *"No such file or directory"*) ;; *) fail "lookup without the SAN: $out" ;; esac
journalctl -q -t san-iscsi-automount --since "@$t" --no-pager | grep -q "lookup '$ext4' failed (san)" || fail "no SAN failure logged"
if iscsiadm -m session 2>/dev/null | grep -qi "$iqn"; then fail "a session to $iqn after a lookup without the SAN"; fi
echo "figure: a lookup without the SAN answered in $(($(date +%s) - t)) s"
wait_expired "$ext4"
reap_until_gone "$ext4"
echo "ok: a lookup without the SAN failed cleanly, and its record was reaped once the SAN was back"

# 9. everything expires and is reaped: nothing is left on this host
wait_expired "$ext4"; wait_expired "$xfs"; wait_expired "$lvm"
for _ in $(seq 1 300); do is_mounted "$mp/by-name" || break; sleep 0.2; done
reap_until_gone "$ext4"; reap_until_gone "$xfs"; reap_until_gone "$lvm"
left=$(dmsetup ls 2>/dev/null | awk '/^san_iscsi_ovl_|_clone_/ {print $1}')
[ -z "$left" ] || fail "device-mapper devices left: $left"
[ -z "$(ls "$state/keys")" ] || fail "keys left: $(ls "$state/keys")"
[ -z "$(ls "$state/mnt")" ] || fail "staging mounts left: $(ls "$state/mnt")"
if iscsiadm -m session 2>/dev/null | grep -qi "$iqn"; then fail "a session to $iqn is left"; fi
if iscsiadm -m node 2>/dev/null | grep -qi "$iqn"; then fail "a node record of $iqn is left"; fi
echo "ok: after expiry and the reaper no mount, session or node record is left"
