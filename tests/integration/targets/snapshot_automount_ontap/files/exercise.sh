#!/usr/bin/env bash
# Run on the browse host (host1) after the role with provider ontap, the emulator reachable at 127.0.0.1.
#   exercise.sh MOUNT_POINT KEY LABEL TARGET_IQN   (SAO_PASSWORD in the environment: the REST account's password)
# Prints "ok: ..." for each check passed and exits non-zero at the first that fails.
set -euo pipefail
mp=$1 key=$2 label=$3 iqn=$4
lun=${key%@*} snapshot=${key#*@}
helper=(/usr/local/libexec/san-iscsi/automount-san /etc/san-iscsi/automount-san.json)
fail() { echo "FAILED: $*"; journalctl -q -t san-iscsi-automount -n 20 --no-pager || true; exit 1; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"; }

# 1. the secret: a root-only file, nowhere else; the helper runs without ansible-core
[ "$(stat -c '%U %a' /etc/san-iscsi/automount-san.password)" = "root 600" ] || fail "password file: $(stat -c '%U %a' /etc/san-iscsi/automount-san.password)"
for f in /etc/san-iscsi/automount.json /etc/san-iscsi/automount-san.json; do
  [ "$(stat -c '%U %a' "$f")" = "root 600" ] || fail "$f is $(stat -c '%U %a' "$f")"
  if grep -qF -- "$SAO_PASSWORD" "$f"; then fail "the password is in $f"; fi
done
if python3 -c 'import ansible' 2>/dev/null; then fail "ansible-core is installed on the browse host: the test proves nothing"; fi
echo "ok: the REST password is in a root-only file only; no ansible-core on this host"

# 2. the by-name tree lists the volume's snapshot for the LUN (the role's refresh, through the helper)
[ -L "$mp/by-name/$lun/$snapshot" ] || fail "by-name lacks $lun/$snapshot: $(ls -R "$mp/by-name" 2>&1)"
[ "$(readlink "$mp/by-name/$lun/$snapshot")" = "$mp/$key" ] || fail "by-name link: $(readlink "$mp/by-name/$lun/$snapshot")"
echo "ok: by-name/$lun/$snapshot leads to $mp/$key"

# 3. the helper makes a clone and maps it (what a lookup asks first); the same key again answers the same clone
answer=$("${helper[@]}" attach "$key") || fail "attach: $answer"
clone=$(field "$answer" clone)
case $clone in "$label"-????????????????) ;; *) fail "clone name $clone" ;; esac
again=$("${helper[@]}" attach "$key") || fail "attach again: $again"
if [ "$(field "$again" clone)" != "$clone" ] || [ "$(field "$again" created)" != False ]; then fail "attach again: $again"; fi
if [ -z "$(field "$answer" wwid)" ] || [ "$(field "$answer" lun_id)" = None ]; then fail "attach answered $answer"; fi
echo "ok: attach made and mapped $clone (lun_id $(field "$answer" lun_id), $(field "$answer" wwid)); again: the same clone"
for request in "attach nosuch@$snapshot" "attach $lun@nosuch" "shell" "detach ../x@y"; do
  # shellcheck disable=SC2086  # the request's words
  if out=$("${helper[@]}" $request); then fail "'$request' answered $out"; fi
done
echo "ok: unknown LUNs and snapshots, other commands and malformed keys are refused"

# 4. this host has no record of that clone (as after a lookup killed half-way): the reaper deletes it
reaped=$(/usr/local/sbin/san-iscsi-automount reap) || fail "reap: $reaped"
[ "$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["reaped"]))' "$reaped")" = "$key" ] || fail "reaped: $reaped"
left=$("${helper[@]}" list) || fail "list: $left"
python3 -c 'import json,sys; sys.exit(1 if json.loads(sys.argv[1])["clones"] else 0)' "$left" || fail "clones left: $left"
echo "ok: the reaper deleted the orphaned clone through the helper"

# 5. a lookup whose login fails (the emulator serves no iSCSI: the portal's LIO has no such target) answers No such
# file or directory, and the clean-up after it leaves nothing: no clone on the SAN, no node record, no key
t=$(date +%s)
if out=$(ls "$mp/$key" 2>&1); then fail "a lookup that cannot log in listed: $out"; fi
case $out in *"No such file or directory"*) ;; *) fail "failed lookup: $out" ;; esac
echo "figure: a lookup whose login fails answered in $(($(date +%s) - t)) s"
journalctl -q -t san-iscsi-automount --since "@$t" --no-pager | grep -q "lookup '$key' failed" || fail "no failure logged"
left=$("${helper[@]}" list) || fail "list: $left"
python3 -c 'import json,sys; sys.exit(1 if json.loads(sys.argv[1])["clones"] else 0)' "$left" || fail "clones left: $left"
if iscsiadm -m node 2>/dev/null | grep -qi "$iqn"; then fail "a node record of $iqn is left"; fi
[ -z "$(ls /run/san-iscsi-automount/keys)" ] || fail "keys left: $(ls /run/san-iscsi-automount/keys)"
echo "ok: a lookup whose login failed left no clone, node record or key behind"

# 6. an unknown key through the automount point: No such file or directory
if out=$(ls "$mp/nosuch@$snapshot" 2>&1); then fail "unknown key listed: $out"; fi
case $out in *"No such file or directory"*) ;; *) fail "unknown key: $out" ;; esac
echo "ok: an unknown key is No such file or directory"
