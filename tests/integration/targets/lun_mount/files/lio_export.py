#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test helper on the san guest: export an existing block device (a thin snapshot LV) as one more LUN.

  lio_export.py add --iqn IQN --lun N --name NAME --dev /dev/labvg/LV --acl INITIATOR [--acl ...]
  lio_export.py remove --iqn IQN --lun N --name NAME

The target must exist (tests/integration/support/lio_fixture.py setup). `add` creates block backstore NAME,
LUN N in TPG 1 and the mapped LUN N for each ACL; `remove` deletes exactly those. Prints JSON with the WWN.
"""

import argparse
import fcntl
import json
import sys
import time

from rtslib_fb import LUN, BlockStorageObject, MappedLUN, NodeACL, RTSRoot


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
    digits = "".join(c for c in unit_serial.lower() if c in "0123456789abcdef")
    return "naa.6001405" + digits[:25]


def find_tpg(iqn):
    for target in RTSRoot().targets:
        if target.wwn == iqn:
            return next(iter(target.tpgs))
    raise SystemExit("no target %s" % iqn)


def add(args):
    tpg = find_tpg(args.iqn)
    storage = BlockStorageObject(args.name, dev=args.dev)
    lun = LUN(tpg, args.lun, storage)
    for initiator in args.acl:
        MappedLUN(NodeACL(tpg, initiator), args.lun, lun)
    return {"name": args.name, "lun": args.lun, "serial": storage.wwn, "wwn": naa_wwn(storage.wwn)}


def remove(args):
    tpg = find_tpg(args.iqn)
    for acl in tpg.node_acls:
        for mapped in acl.mapped_luns:
            if mapped.mapped_lun == args.lun:
                mapped.delete()
    for lun in tpg.luns:
        if lun.lun == args.lun:
            lun.delete()
    for storage in RTSRoot().storage_objects:
        if storage.name == args.name:
            storage.delete()
    return {"removed": args.name}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("add")
    p.add_argument("--iqn", required=True)
    p.add_argument("--lun", type=int, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--dev", required=True)
    p.add_argument("--acl", action="append", default=[])
    p.set_defaults(func=add)
    p = sub.add_parser("remove")
    p.add_argument("--iqn", required=True)
    p.add_argument("--lun", type=int, required=True)
    p.add_argument("--name", required=True)
    p.set_defaults(func=remove)
    args = parser.parse_args()
    lock = hold_lio_lock()  # noqa: F841  pylint: disable=unused-variable
    print(json.dumps(args.func(args)))


if __name__ == "__main__":
    sys.exit(main())
