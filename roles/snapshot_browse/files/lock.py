# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Take or give back the snapshot_browse lock of a browse host (the igroup it shares between runs).

  lock.py acquire|release LOCKDIR LABEL STALE_SECONDS

acquire: mkdir LOCKDIR atomically and write LABEL into it; exits 0 when taken (also when this LABEL holds it
already, after a killed run), 75 (EX_TEMPFAIL) when another run holds it; a lock older than STALE_SECONDS
is broken. release: removes LOCKDIR when LABEL holds it. Prints JSON {"held_by": LABEL or null, "changed": bool}.
"""

import json
import os
import shutil
import sys
import time


def owner(lockdir):
    try:
        with open(os.path.join(lockdir, 'owner')) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def acquire(lockdir, label, stale):
    try:
        os.mkdir(lockdir, 0o700)
    except OSError:
        holder = owner(lockdir)
        age = time.time() - os.stat(lockdir).st_mtime
        if holder != label and age < stale:
            return 75, dict(held_by=holder, changed=False)
        shutil.rmtree(lockdir, ignore_errors=True)
        os.mkdir(lockdir, 0o700)
    with open(os.path.join(lockdir, 'owner'), 'w') as handle:
        handle.write(label + '\n')
    return 0, dict(held_by=label, changed=True)


def release(lockdir, label):
    if os.path.isdir(lockdir) and owner(lockdir) in (label, None):
        shutil.rmtree(lockdir, ignore_errors=True)
        return 0, dict(held_by=None, changed=True)
    return 0, dict(held_by=owner(lockdir), changed=False)


def main(argv):
    action, lockdir, label, stale = argv[1], argv[2], argv[3], int(argv[4])
    os.makedirs(os.path.dirname(lockdir), exist_ok=True)
    rc, result = acquire(lockdir, label, stale) if action == 'acquire' else release(lockdir, label)
    print(json.dumps(result))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
