# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clean-up for the lio_* integration targets, run on the san guest (ansible.builtin.script, python3).

  lio_cleanup.py --prefix lio_xyz_ [--name NAME ...] [--iqn IQN ...] [--dir DIR ...] [--check]

Removes exactly what a target made: the LIO targets named by --iqn, backstores whose name starts with
--prefix, thin LVs of labvg with that prefix (clones first), files with that prefix in each --dir; then
saves the configuration like the backend does. --name (a target that uses a user's names, such as the README's)
also takes the backstores and LVs named NAME or NAME_* (a clone of LUN NAME is NAME_LABEL). --check removes nothing and fails when anything is left.
Prints JSON {"removed": [...], "left": [...]}.
"""

import fcntl
import json
import os
import subprocess
import sys
import time
import argparse

from rtslib_fb import RTSRoot
from rtslib_fb.root import default_save_file

VG = "labvg"


def hold_lio_lock(seconds=300):
    """Take the lock the collection's LIO backend holds over every change (_san_lio.LOCK_NAME in /run/lock).

    rtslib picks a backstore's configfs index as the lowest free one, so two processes creating backstores at
    once can pick the same index and one fails ("This _Backstore already exists in configFS"). The lock is
    kept until this process exits. Copied in each helper script: each is sent to the SAN guest alone.
    """
    handle = open("/run/lock/san-iscsi-lio.lock", "a")  # pylint: disable=consider-using-with
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the LIO configuration lock stayed busy for %d s" % seconds)
            time.sleep(0.2)


def ours(name, args):
    return name.startswith(args.prefix) or any(name == own or name.startswith(own + "_") for own in args.name)


def lvs(args):
    out = subprocess.run(["lvs", "--noheadings", "-o", "lv_name,lv_tags", VG], check=True, capture_output=True,
                         text=True, env=dict(os.environ, LC_ALL="C"), timeout=120).stdout
    rows = [line.split() + [""] for line in out.splitlines() if line.strip()]
    # clones (tagged san.iscsi.clone_of) before the snapshots they come from
    return sorted((row[0] for row in rows if ours(row[0], args)),
                  key=lambda name: next(0 if "clone_of" in row[1] else 1 for row in rows if row[0] == name))


def leftovers(args):
    root = RTSRoot()
    left = ["target " + t.wwn for t in root.targets if t.wwn in args.iqn]
    left += ["backstore " + so.name for so in root.storage_objects if ours(so.name, args)]
    left += ["lv %s/%s" % (VG, name) for name in lvs(args)]
    for directory in args.dir:
        if os.path.isdir(directory):
            left += [os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.startswith(args.prefix)]
    return left


def clean(args):
    removed = []
    root = RTSRoot()
    for target in list(root.targets):
        if target.wwn in args.iqn:
            target.delete()
            removed.append("target " + target.wwn)
    for so in list(root.storage_objects):
        if ours(so.name, args):
            so.delete()
            removed.append("backstore " + so.name)
    for name in lvs(args):
        subprocess.run(["lvremove", "--yes", "%s/%s" % (VG, name)], check=True, capture_output=True, timeout=120,
                       env=dict(os.environ, LC_ALL="C"))
        removed.append("lv %s/%s" % (VG, name))
    for directory in args.dir:
        if os.path.isdir(directory):
            for name in sorted(os.listdir(directory)):
                if name.startswith(args.prefix):
                    os.unlink(os.path.join(directory, name))
                    removed.append(os.path.join(directory, name))
    if removed and os.path.exists(default_save_file):
        root.save_to_file(default_save_file)
    return removed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--name", action="append", default=[])
    parser.add_argument("--iqn", action="append", default=[])
    parser.add_argument("--dir", action="append", default=[])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if not args.prefix.startswith("lio_"):
        raise SystemExit("refusing a prefix that does not start with lio_")
    if not all(args.name):
        raise SystemExit("refusing an empty --name")
    lock = hold_lio_lock()  # noqa: F841  pylint: disable=unused-variable
    removed = [] if args.check else clean(args)
    left = leftovers(args)
    print(json.dumps({"removed": removed, "left": left}))
    return 1 if args.check and left else 0


if __name__ == "__main__":
    sys.exit(main())
