# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshot_browse run's small host-side steps, one call each; the role runs it with the script module.

  host_steps.py iface-new IFACE --timeout S
  host_steps.py cleanup [--remove PATH]... [--rmdir DIR] [--iface IFACE] --timeout S

iface-new creates the run's open-iscsi interface (`iscsiadm -m iface -I IFACE -o new`); one left by a
killed run of the same label is reused. cleanup removes the run's relay files and directories (--remove),
the empty mount point (--rmdir; a mount point that is not empty is an error, nothing in it is deleted) and
the run's interface (--iface); every step runs even when an earlier one failed, and what is already gone
counts as done. Prints JSON {"changed": bool, "done": [...], "errors": [...]}; exits 1 when a step failed.
"""

import argparse
import errno
import json
import os
import shutil
import subprocess
import sys

IFACE_EXISTS = 'already exists'
IFACE_MISSING = 'Could not read iface info'


def iscsiadm_iface(iface, operation, timeout):
    argv = ['iscsiadm', '-m', 'iface', '-I', iface, '-o', operation]
    proc = subprocess.run(argv, env=dict(os.environ, LC_ALL='C'), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
    return argv, proc


def iface_new(args, result):
    argv, proc = iscsiadm_iface(args.iface, 'new', args.timeout)
    if proc.returncode == 0:
        result['done'].append('created iface %s' % args.iface)
    # rc 15: the iface exists (with sessions on it after a killed run of the same label); the login reuses it
    elif proc.returncode != 15 and IFACE_EXISTS not in proc.stderr:
        result['errors'].append(dict(msg='iscsiadm could not create iface %s' % args.iface, cmd=argv,
                                     rc=proc.returncode, stderr=proc.stderr))


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


def delete_iface(iface, timeout, result):
    argv, proc = iscsiadm_iface(iface, 'delete', timeout)
    if proc.returncode == 0:
        result['done'].append('deleted iface %s' % iface)
    elif IFACE_MISSING not in proc.stderr:
        result['errors'].append(dict(msg='iscsiadm could not delete iface %s' % iface, cmd=argv,
                                     rc=proc.returncode, stderr=proc.stderr))


def cleanup(args, result):
    for path in args.remove:
        remove(path, remove_tree_or_file, '', result)
    if args.rmdir:
        remove(args.rmdir, os.rmdir, 'mount point ', result)
    if args.iface:
        delete_iface(args.iface, args.timeout, result)


def parse(argv):
    parser = argparse.ArgumentParser(prog='host_steps.py')
    sub = parser.add_subparsers(dest='action')
    sub.required = True
    new = sub.add_parser('iface-new')
    new.add_argument('iface')
    clean = sub.add_parser('cleanup')
    clean.add_argument('--remove', action='append', default=[])
    clean.add_argument('--rmdir')
    clean.add_argument('--iface')
    for action in (new, clean):
        action.add_argument('--timeout', type=int, required=True)
    return parser.parse_args(argv)


def main(argv):
    args = parse(argv)
    result = dict(done=[], errors=[])
    try:
        if args.action == 'cleanup':
            cleanup(args, result)
        else:
            iface_new(args, result)
    except subprocess.TimeoutExpired as exc:
        result['errors'].append(dict(msg='%s did not finish within %s seconds' % (exc.cmd[0], exc.timeout),
                                     cmd=exc.cmd))
    result['changed'] = bool(result['done'])
    print(json.dumps(result))
    return 1 if result['errors'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
