# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshot_browse run's host-side clean-up in one call; the role runs it as `python3 - ARGS` with the
script on stdin (raw).

  host_steps.py cleanup [--stop KEYDIR] [--remove PATH]... [--rmdir DIR]...

cleanup first stops a detached send of copy_paths.py that still runs from KEYDIR (its process group, TERM;
only when the pid in KEYDIR/pid is still that send's), then removes the run's relay files and directories
(--remove) and the empty mount points and directories (--rmdir, in the order given; one that is not empty is
an error, nothing in it is deleted); every step runs even when an earlier one
failed, and what is already gone counts as done. Prints one JSON object on one line, {"changed": bool,
"done": [...], "errors": [...]} ("changed": something was removed); exits 1 when a step failed. (The run's
iSCSI interface is created and deleted by san.iscsi.session.)
"""

import argparse
import errno
import json
import os
import shutil
import signal
import sys


def remove_tree_or_file(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def remove(path, remover, what, result):
    """Remove PATH with REMOVER; a PATH that is gone already counts as done, not as changed."""
    try:
        remover(path)
        result['done'].append('removed %s%s' % (what, path))
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            result['errors'].append(dict(msg='cannot remove %s%s: %s' % (what, path, exc.strerror)))


def stop_send(keydir, result):
    """TERM the process group of the detached send whose pid KEYDIR/pid holds, if that process is still the
    send of this KEYDIR (its command line names KEYDIR; a pid reused by another process is left alone)."""
    try:
        with open(os.path.join(keydir, 'pid')) as pid_in:
            pid = int(pid_in.read().strip() or 0)
        with open('/proc/%d/cmdline' % pid, 'rb') as cmdline_in:
            argv = cmdline_in.read().split(b'\0')
    except (OSError, ValueError):
        return
    if os.path.exists(os.path.join(keydir, 'result.json')) or keydir.encode() not in argv:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
        result['done'].append('stopped the copy still running (process group %d)' % pid)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            result['errors'].append(dict(msg='cannot stop the copy (process group %d): %s' % (pid, exc.strerror)))


def cleanup(args, result):
    if args.stop:
        stop_send(args.stop, result)
    for path in args.remove:
        remove(path, remove_tree_or_file, '', result)
    for directory in args.rmdir:
        remove(directory, os.rmdir, 'mount point ', result)


def parse(argv):
    parser = argparse.ArgumentParser(prog='host_steps.py')
    sub = parser.add_subparsers(dest='action')
    sub.required = True
    clean = sub.add_parser('cleanup')
    clean.add_argument('--stop')
    clean.add_argument('--remove', action='append', default=[])
    clean.add_argument('--rmdir', action='append', default=[])
    return parser.parse_args(argv)


def main(argv):
    args = parse(argv)
    result = dict(done=[], errors=[])
    cleanup(args, result)
    result['changed'] = bool(result['done'])
    print(json.dumps(result))
    return 1 if result['errors'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
