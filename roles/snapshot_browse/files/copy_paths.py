# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy restore paths out of a mounted snapshot; the role runs it as `python3 - ARGS` with the script on stdin (raw).

  copy_paths.py pack   ROOT ARCHIVE --timeout S -- PATH...
  copy_paths.py unpack ARCHIVE STAGING DEST --timeout S [--backup-suffix SUF] [--dry-run] -- PATH...
  copy_paths.py local  ROOT DEST --timeout S [--backup-suffix SUF] [--dry-run] -- PATH...
  copy_paths.py space  --timeout S -- PATH=BYTES...

Every path is checked first (relative, no '..', exists, resolves inside ROOT; inside a directory every
symlink must point inside ROOT too); when one is refused nothing is copied. pack writes a GNU tar archive of
the paths (ACLs, xattrs, numeric owners, sparse files, POSIX format; mode 0600). unpack extracts ARCHIVE
into STAGING and rsyncs the paths from there into DEST, then removes ARCHIVE and STAGING whatever happened.
local rsyncs the paths from ROOT into DEST, after checking that DEST's filesystem has room for them (unless
--dry-run). space checks that each PATH's filesystem (that of its nearest existing directory) has BYTES free,
adding up the PATHs on one filesystem; the role runs it on the destination before a relayed archive is sent,
for the archive, its staging copy and the data. rsync -aAXHS --numeric-ids keeps owner, mode, times, ACLs,
xattrs, hard links and sparse files; with --backup-suffix, files it replaces are kept next to them
(--backup-dir is DEST itself: without a backup dir rsync forces --omit-dir-times); --dry-run only itemizes.

Prints one JSON object on one line: {"changed": bool, "paths": [{"path", "type", "size"}], "refused":
[{"path", "reason"}], "changes": [itemized rsync lines], "bytes": the paths' size on disk (pack and local),
"archive_bytes" (pack)} or, when a command fails, {"changed", "msg", "cmd", "rc", "stderr"}, or, when a
filesystem is too small, {"changed": false, "msg", "error_code": "no_space", "space": [{"path", "needed",
"free", "paths"}]}; "changed" is true when rsync changed (or, failing, may have changed) the destination. A
refused path or a failure is also told in one line on stderr, after the JSON line. Exits 0 on success, 1
otherwise. Every command runs with LC_ALL=C and the timeout.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys

TAR_ATTRS = ['--acls', '--xattrs', '--xattrs-include=*', '--numeric-owner']


class CopyError(Exception):
    def __init__(self, msg, **details):
        super(CopyError, self).__init__(msg)
        self.result = dict(details, msg=msg)


def inside(root, real):
    return real == root or real.startswith(root.rstrip('/') + '/')


def link_escapes(root, link):
    target = os.readlink(link)
    resolved = os.path.realpath(os.path.join(os.path.dirname(link), target))
    return None if inside(root, resolved) else 'symlink %s -> %s points outside the snapshot' % (
        os.path.relpath(link, root), target)


def allocated(info):
    """Bytes a file takes on disk (sparse files count their blocks, not their length)."""
    if hasattr(info, 'st_blocks'):
        return info.st_blocks * 512
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def check_tree(root, top):
    """(reason, bytes on disk under TOP): the first symlink under TOP that leaves ROOT, in the same walk."""
    total = 0
    for directory, dirs, files in os.walk(top):
        for name in dirs + files:
            full = os.path.join(directory, name)
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                reason = link_escapes(root, full)
                if reason:
                    return reason, total
            total += allocated(info)
    return None, total


def check(root, path):
    """(entry, None, bytes on disk) for a path that may be copied, (None, reason, 0) for one that is refused."""
    if not path or path.startswith('/') or '\0' in path:
        return None, 'must be a non-empty path relative to the snapshot root', 0
    if '..' in path.split('/'):
        return None, "may not contain '..'", 0
    full = os.path.join(root, path)
    if not os.path.lexists(full):
        return None, 'does not exist in the snapshot', 0
    parent_real = os.path.realpath(os.path.dirname(full.rstrip('/')))
    if not inside(root, parent_real):
        return None, 'a directory on the way is a symlink that leaves the snapshot', 0
    info = os.lstat(full)
    if stat.S_ISLNK(info.st_mode):
        reason = link_escapes(root, full)
        return (None, reason, 0) if reason else (dict(path=path, type='symlink', size=0), None, allocated(info))
    if stat.S_ISDIR(info.st_mode):
        reason, below = check_tree(root, full)
        return (None, reason, 0) if reason else (dict(path=path, type='directory', size=0), None,
                                                 allocated(info) + below)
    kind = 'file' if stat.S_ISREG(info.st_mode) else 'special'
    return dict(path=path, type=kind, size=info.st_size), None, allocated(info)


def check_paths(root, paths):
    """(entries that may be copied, refusals, their bytes on disk: files and directories, sparse files by
    their blocks); one walk of each directory checks its symlinks and sizes it."""
    root = os.path.realpath(root)
    found, refused, on_disk = [], [], 0
    for path in paths:
        entry, reason, size = check(root, path)
        if reason:
            refused.append(dict(path=path, reason=reason))
        else:
            found.append(entry)
            on_disk += size
    return found, refused, on_disk


def existing_dir(path):
    path = os.path.abspath(path)
    while not os.path.isdir(path):
        path = os.path.dirname(path)
    return path


def require_space(needs):
    """Fail with error_code no_space unless each filesystem has what the (path, bytes) pairs on it add up to."""
    per_fs = {}
    for path, needed in needs:
        directory = existing_dir(path)
        device = os.stat(directory).st_dev
        fs = per_fs.setdefault(device, dict(path=directory, needed=0, paths=[]))
        fs['needed'] += needed
        fs['paths'].append(path)
    short = []
    for fs in per_fs.values():
        info = os.statvfs(fs['path'])
        free = info.f_bavail * info.f_frsize
        if free < fs['needed']:
            short.append(dict(path=fs['path'], needed=fs['needed'], free=free, paths=fs['paths']))
    if short:
        told = ['the filesystem of %s needs %d bytes (%s), has %d free'
                % (fs['path'], fs['needed'], ', '.join(fs['paths']), fs['free']) for fs in short]
        raise CopyError('not enough space on the destination: %s; nothing was copied' % '; '.join(told),
                        error_code='no_space', space=short, changed=False)


def run(argv, timeout):
    env = dict(os.environ, LC_ALL='C')
    try:
        proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CopyError('%s did not finish within %d seconds' % (argv[0], timeout), cmd=argv, rc=None, stderr='')
    if proc.returncode != 0:
        raise CopyError('%s failed (rc %d): %s' % (argv[0], proc.returncode, proc.stderr.strip()),
                        cmd=argv, rc=proc.returncode, stderr=proc.stderr)
    return proc.stdout


def rsync(source_root, dest, paths, args):
    argv = ['rsync', '-aAXHS', '--numeric-ids', '--relative', '--itemize-changes']
    if args.backup_suffix:
        argv += ['--backup', '--backup-dir=' + dest, '--suffix=' + args.backup_suffix]
    if args.dry_run:
        argv.append('--dry-run')
    argv += [os.path.join(source_root, '.', path) for path in paths]
    argv.append(dest.rstrip('/') + '/')
    return [line for line in run(argv, args.timeout).splitlines() if line]


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def pack(args):
    found, refused, on_disk = check_paths(args.root, args.paths)
    if refused:
        return dict(paths=found, refused=refused, changes=[])
    argv = (['tar', '--create', '--file', args.archive, '--directory', args.root] + TAR_ATTRS
            + ['--sparse', '--format=posix', '--'] + args.paths)
    os.umask(0o077)
    try:
        run(argv, args.timeout)
    except CopyError:
        remove(args.archive)
        raise
    return dict(paths=found, refused=[], changes=[], bytes=on_disk, archive_bytes=os.stat(args.archive).st_size)


def unpack(args):
    try:
        remove(args.staging)  # a killed run of the same label may have left a partial one
        os.mkdir(args.staging, 0o700)
        run(['tar', '--extract', '--file', args.archive, '--directory', args.staging] + TAR_ATTRS
            + ['--same-owner', '--same-permissions'], args.timeout)
        changes = rsync(args.staging, args.dest, args.paths, args)
    finally:
        remove(args.archive)
        remove(args.staging)
    return dict(paths=[], refused=[], changes=changes)


def local(args):
    found, refused, on_disk = check_paths(args.root, args.paths)
    if refused:
        return dict(paths=found, refused=refused, changes=[])
    if not args.dry_run:
        require_space([(args.dest, on_disk)])
    return dict(paths=found, refused=[], changes=rsync(args.root, args.dest, args.paths, args), bytes=on_disk)


def space(args):
    needs = []
    for item in args.paths:
        path, sep, size = item.rpartition('=')
        if not sep or not path or not size.isdigit():
            raise CopyError('space: expected PATH=BYTES, got %r' % item, changed=False)
        needs.append((path, int(size)))
    require_space(needs)
    return dict(paths=[], refused=[], changes=[])


def parse(argv):
    parser = argparse.ArgumentParser(prog='copy_paths.py')
    sub = parser.add_subparsers(dest='action')
    sub.required = True
    for name, positional in (('pack', ['root', 'archive']), ('unpack', ['archive', 'staging', 'dest']),
                             ('local', ['root', 'dest']), ('space', [])):
        action = sub.add_parser(name)
        for arg in positional:
            action.add_argument(arg)
        action.add_argument('--timeout', type=int, required=True)
        if name not in ('pack', 'space'):
            action.add_argument('--backup-suffix')
            action.add_argument('--dry-run', action='store_true')
        action.add_argument('paths', nargs='+')
    return parser.parse_args(argv)


def main(argv):
    args = parse(argv)
    # pack writes only the run's relay archive, space nothing; a dry run writes nothing
    writes = args.action in ('unpack', 'local') and not getattr(args, 'dry_run', False)
    try:
        result = dict(pack=pack, unpack=unpack, local=local, space=space)[args.action](args)
    except (CopyError, OSError) as exc:
        failure = dict(getattr(exc, 'result', None) or dict(msg=str(exc)))
        # rsync may have copied part of it before it failed; a refusal before the copy changed nothing
        failure['changed'] = failure.get('changed', writes)
        print(json.dumps(failure))
        sys.stderr.write(failure['msg'] + '\n')
        return 1
    result['changed'] = writes and bool(result['changes'])
    print(json.dumps(result))
    for entry in result['refused']:
        sys.stderr.write('refused %s: %s; nothing was copied\n' % (entry['path'], entry['reason']))
    return 1 if result['refused'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
