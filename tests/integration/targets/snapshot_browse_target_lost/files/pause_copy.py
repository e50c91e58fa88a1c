# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run on the browse host while a restore runs (python3 -c SOURCE ARGS, as an async command): wait until a
process has FILE open (the role's copy reading the mounted clone), note the recovery timeout of the iSCSI
sessions of iface IFACE (or set it to RECOVERY_TMO seconds through sysfs, when given), then stop that process with
SIGSTOP, so that the test takes the target away in the middle of the copy without racing it. Resume it with
`kill -CONT PID`.

  pause_copy.py FILE IFACE TIMEOUT [RECOVERY_TMO]

Prints JSON {"pid", "cmdline", "offset", "size", "sessions": {name: recovery_tmo as found}, "waited"}. Exits 1
when no process opens FILE within TIMEOUT seconds, or when the sessions of IFACE went away (the run ended
before its copy).
"""

import json
import os
import signal
import sys
import time

SESSIONS = "/sys/class/iscsi_session"


def read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (IOError, OSError):
        return None


def reader_of(path):
    """(pid, fd) of a process that has path open, or None."""
    for pid in (entry for entry in os.listdir("/proc") if entry.isdigit()):
        fd_dir = "/proc/%s/fd" % pid
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(os.path.join(fd_dir, fd)) == path:
                    return int(pid), fd
            except OSError:
                continue
    return None


def sessions_of(iface):
    names = sorted(os.listdir(SESSIONS)) if os.path.isdir(SESSIONS) else []
    return [name for name in names if read(os.path.join(SESSIONS, name, "ifacename")) == iface]


def shorten_recovery(iface, seconds):
    before = {}
    for name in sessions_of(iface):
        before[name] = read(os.path.join(SESSIONS, name, "recovery_tmo"))
        if seconds is not None:
            with open(os.path.join(SESSIONS, name, "recovery_tmo"), "w") as handle:
                handle.write(str(seconds))
    return before


def main():
    if len(sys.argv) not in (4, 5):
        raise SystemExit(__doc__)
    path, iface, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    recovery = int(sys.argv[4]) if len(sys.argv) == 5 and sys.argv[4] else None
    start = time.monotonic()
    logged_in = False
    found = reader_of(path)
    while found is None:
        if sessions_of(iface):
            logged_in = True
        elif logged_in:
            print(json.dumps({"msg": "the sessions of iface %s went away before a process opened %s" % (iface, path)}))
            return 1
        if time.monotonic() - start > timeout:
            print(json.dumps({"msg": "no process opened %s within %d s" % (path, timeout)}))
            return 1
        time.sleep(0.1)
        found = reader_of(path)
    pid, fd = found
    sessions = shorten_recovery(iface, recovery)
    os.kill(pid, signal.SIGSTOP)
    pos = (read("/proc/%d/fdinfo/%s" % (pid, fd)) or "pos: -1").splitlines()[0].split()[1]
    print(json.dumps({"pid": pid, "cmdline": (read("/proc/%d/cmdline" % pid) or "").split("\0"),
                      "offset": int(pos), "size": os.stat(path).st_size, "sessions": sessions,
                      "waited": round(time.monotonic() - start, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
