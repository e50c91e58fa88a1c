# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test fixture for integration targets: LIO targets, ACLs and LUNs on the lab's SAN guest (rtslib_fb).

Run on the san guest (ansible.builtin.script with executable python3). Prints JSON on stdout.

  lio_fixture.py setup --iqn IQN --portal 10.10.1.1 --portal 10.10.2.1 --acl INITIATOR \
                       --lun NAME:SIZE[:block|fileio] [--lun ...] [--acl-without-luns INITIATOR]
                       [--chap USER:SECRET] [--mutual-chap USER:SECRET]
  lio_fixture.py teardown --iqn IQN      removes the target and exactly the backstores setup created
  lio_fixture.py tpg --iqn IQN --disable|--enable   take the target's portal group offline / online
  lio_fixture.py show --iqn IQN

Backstores are named fx_<NAME>: `block` is a thin LV labvg/fx_<NAME> in the thin pool labvg/pool,
`fileio` a sparse file under /var/lib/lab-fixture/. This is a test double for the SAN side; the collection's
own LIO backend is plugins/module_utils/_san_lio.py.
"""

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
import time

from rtslib_fb import (BlockStorageObject, FabricModule, FileIOStorageObject, LUN, MappedLUN, NetworkPortal,
                       NodeACL, RTSRoot, Target, TPG)

STATE_DIR = "/var/lib/lab-fixture"
VG, POOL = "labvg", "pool"
SIZE_RE = re.compile(r"^(\d+)([KMGT])$")
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


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


def naa_wwn(unit_serial):
    """The NAA 6 designator the kernel derives from a backstore's unit serial (spc_gen_naa_6h_vendor_specific)."""
    digits = "".join(c for c in unit_serial.lower() if c in "0123456789abcdef")
    return "naa.6001405" + digits[:25]


def state_path(iqn):
    return os.path.join(STATE_DIR, re.sub(r"[^A-Za-z0-9_.-]", "_", iqn) + ".json")


def lvm(*args):
    subprocess.run(["lvm"] + list(args), check=True, env=dict(os.environ, LC_ALL="C"), timeout=120,
                   stdout=subprocess.DEVNULL)


def parse_lun(spec):
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not SIZE_RE.match(parts[1]) or (len(parts) == 3 and parts[2] not in ("block", "fileio")):
        raise SystemExit("bad --lun %r: want NAME:SIZE[:block|fileio], SIZE like 64M or 1G" % spec)
    number, unit = SIZE_RE.match(parts[1]).groups()
    return {"name": parts[0], "size": int(number) * UNITS[unit], "type": parts[2] if len(parts) == 3 else "block"}


def create_backstore(lun):
    name = "fx_" + lun["name"]
    if lun["type"] == "block":
        lvm("lvcreate", "-q", "--thin", "-V", "%db" % lun["size"], "-n", name, "%s/%s" % (VG, POOL))
        path = "/dev/%s/%s" % (VG, name)
        try:
            return BlockStorageObject(name, dev=path), path
        except Exception:
            lvm("lvremove", "-q", "-f", "%s/%s" % (VG, name))  # not in the state file yet: teardown would miss it
            raise
    os.makedirs(STATE_DIR, exist_ok=True)
    path = os.path.join(STATE_DIR, name + ".img")
    with open(path, "wb") as img:
        img.truncate(lun["size"])
    return FileIOStorageObject(name, path, size=lun["size"], write_back=False), path


def split_secret(value):
    user, secret = value.partition(":")[::2]
    if not user or not secret:
        raise SystemExit("CHAP must be USER:SECRET")
    return user, secret


def setup(args):
    if os.path.exists(state_path(args.iqn)):
        raise SystemExit("fixture %s exists; teardown first" % args.iqn)
    luns = [parse_lun(spec) for spec in args.lun]
    os.makedirs(STATE_DIR, exist_ok=True)
    record = {"target": args.iqn, "portals": args.portal, "luns": [], "acls": args.acl + args.acl_without_luns}
    with open(state_path(args.iqn), "w") as state:  # written first so teardown can clean a half-made fixture
        json.dump(record, state)
    target = Target(FabricModule("iscsi"), args.iqn, mode="create")
    tpg = TPG(target, 1, mode="create")
    tpg.set_attribute("authentication", "1" if args.chap else "0")
    tpg.set_attribute("generate_node_acls", "0")
    tpg.set_attribute("demo_mode_write_protect", "0")
    for portal in args.portal:
        NetworkPortal(tpg, portal, 3260, mode="create")
    tpg_luns = []
    for index, lun in enumerate(luns):
        storage, path = create_backstore(lun)
        tpg_luns.append(LUN(tpg, index, storage))
        record["luns"].append({"name": lun["name"], "lun": index, "backstore": storage.name, "type": lun["type"],
                               "path": path, "size": lun["size"], "serial": storage.wwn,
                               "wwn": naa_wwn(storage.wwn)})
        with open(state_path(args.iqn), "w") as state:
            json.dump(record, state)
    for initiator in args.acl + args.acl_without_luns:
        acl = NodeACL(tpg, initiator, mode="create")
        if args.chap:
            acl.chap_userid, acl.chap_password = split_secret(args.chap)
        if args.mutual_chap:
            acl.chap_mutual_userid, acl.chap_mutual_password = split_secret(args.mutual_chap)
        if initiator in args.acl:
            for tpg_lun in tpg_luns:
                MappedLUN(acl, tpg_lun.lun, tpg_lun)
    tpg.enable = True
    return record


def teardown(args):
    path = state_path(args.iqn)
    record = json.load(open(path)) if os.path.exists(path) else {"luns": []}
    for target in RTSRoot().targets:
        if target.wwn == args.iqn:
            target.delete()
    names = {lun["backstore"]: lun for lun in record["luns"]}
    for storage in RTSRoot().storage_objects:
        if storage.name in names:
            storage.delete()
    for lun in record["luns"]:
        if lun["type"] == "block" and os.path.exists(lun["path"]):
            lvm("lvremove", "-q", "-f", "%s/%s" % (VG, lun["backstore"]))
        elif lun["type"] == "fileio" and os.path.exists(lun["path"]):
            os.unlink(lun["path"])
    if os.path.exists(path):
        os.unlink(path)
    return {"target": args.iqn, "removed": sorted(names)}


def find_tpg(iqn):
    for target in RTSRoot().targets:
        if target.wwn == iqn:
            return next(iter(target.tpgs))
    raise SystemExit("no target %s" % iqn)


def set_tpg(args):
    tpg = find_tpg(args.iqn)
    tpg.enable = bool(args.enable)
    return {"target": args.iqn, "enabled": tpg.enable}


def show(args):
    path = state_path(args.iqn)
    record = json.load(open(path)) if os.path.exists(path) else {}
    record["exists"] = any(t.wwn == args.iqn for t in RTSRoot().targets)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--iqn", required=True)
    p.add_argument("--portal", action="append", default=[])
    p.add_argument("--acl", action="append", default=[])
    p.add_argument("--acl-without-luns", action="append", default=[])
    p.add_argument("--lun", action="append", default=[])
    p.add_argument("--chap")
    p.add_argument("--mutual-chap")
    p.set_defaults(func=setup)
    for name, func in (("teardown", teardown), ("show", show)):
        p = sub.add_parser(name)
        p.add_argument("--iqn", required=True)
        p.set_defaults(func=func)
    p = sub.add_parser("tpg")
    p.add_argument("--iqn", required=True)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--enable", action="store_true")
    group.add_argument("--disable", action="store_true")
    p.set_defaults(func=set_tpg)
    args = parser.parse_args()
    lock = hold_lio_lock()  # noqa: F841  pylint: disable=unused-variable
    print(json.dumps(args.func(args), indent=1))


if __name__ == "__main__":
    sys.exit(main())
