# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy restore paths out of a mounted snapshot; the role runs it as `python3 - ARGS` with the script on stdin (raw).

  copy_paths.py pack   ROOT ARCHIVE --timeout S -- PATH...
  copy_paths.py unpack ARCHIVE STAGING DEST --timeout S [--backup-suffix SUF] [--dry-run] -- PATH...
  copy_paths.py local  ROOT DEST --timeout S [--backup-suffix SUF] [--dry-run] -- PATH...
  copy_paths.py space  --timeout S -- PATH=BYTES...
  copy_paths.py offer  ROOT KEYDIR --label L --timeout S -- PATH...
  copy_paths.py accept STAGING --label L --public-key KEY --user U --valid-for S --timeout S -- PATH=BYTES...
  copy_paths.py send   ROOT KEYDIR ADDRESS --user U --port P --host-key KEY... --timeout S [--detach [--wait W]]
                       -- PATH...
  copy_paths.py progress KEYDIR --wait S --timeout S
  copy_paths.py place  STAGING DEST --label L --user U --timeout S [--backup-suffix SUF] [--dry-run] -- PATH...
  copy_paths.py revoke STAGING --label L --user U --timeout S
  copy_paths.py digest --version NAME ROOT [--version NAME ROOT]... --timeout S -- PATH

Every path is checked first (trailing slashes dropped; relative, no '..', exists, resolves inside ROOT; inside
a directory every symlink must point inside ROOT too); when one is refused nothing is copied. pack writes a
GNU tar archive of the paths (ACLs, xattrs, numeric owners, sparse files, POSIX format; mode 0600). unpack
extracts ARCHIVE into STAGING and rsyncs the paths from there into DEST, then removes ARCHIVE and STAGING
whatever happened. local rsyncs the paths from ROOT into DEST, after checking that DEST's filesystem has room
for them (unless --dry-run). space checks that each PATH's filesystem (that of its nearest existing directory)
has BYTES free, adding up the PATHs on one filesystem; the role runs it on the destination before a relayed
archive is sent, for the archive, its staging copy and the data. rsync -aAXHS --numeric-ids keeps owner, mode,
times, ACLs, xattrs, hard links and sparse files; with --backup-suffix, files it replaces are kept next to
them (--backup-dir is DEST itself: without a backup dir rsync forces --omit-dir-times); --dry-run only
itemizes.

The direct path (destination on another host, no data on the controller) is offer, accept, send, progress and
place. offer checks the paths on the browse host and makes a key pair for this run only in KEYDIR (0700).
accept, on the destination, checks the space for STAGING and the data (PATH=BYTES, as space does), makes
STAGING and lets that key in as user U for S seconds at most (OpenSSH expiry-time), with `restrict` and the
forced command `rrsync -wo -no-del -no-lock STAGING`: the key can only write into STAGING, nothing else (no
shell, no forwarding, no other path). It answers the destination's SSH host keys, which send pins (its own
known_hosts in KEYDIR, StrictHostKeyChecking=yes). send rsyncs the paths from ROOT into STAGING over SSH with
that key; with --detach it runs in the background (its own session) and writes KEYDIR/result.json when it
ends, rsync's --info=progress2 lines going to KEYDIR/progress, and with --wait W it then reports as progress
--wait W does (a copy that ends within W needs no second call). progress waits up to S seconds for that end
and reports the last progress line (bytes done, percent, rate, ETA) and, once ended, send's result. place
rsyncs STAGING into DEST (as unpack does), then removes STAGING and the run's key whatever happened. revoke
(the teardown on the destination) removes the run's key and STAGING; on the browse host, host_steps.py's
cleanup stops a detached send that still runs and removes KEYDIR.

digest (mode versions, and the live file) describes PATH in each ROOT (a mounted snapshot, or the live
filesystem), reading only: whether it exists, its type, size, mtime, numeric owner, mode and sha256. For a
directory, size and files add up its regular files, and sha256 is a tree digest: the sha256 of one line per
entry below it, each a JSON array (ASCII) - ["d", PATH], ["f", PATH, SHA256], ["l", PATH, TARGET], ["s", PATH]
for anything else - the lines sorted, each ending in a newline; so two trees have the same digest when they
hold the same names, types, contents and link targets (owner, mode and times do not count). Symlinks are
never followed; a PATH that exists but is refused (a directory on the way leaves ROOT) is reported with its
reason, not read. Answers "versions": [{"name",
"root", "exists", "type", "size", "files", "mtime", "uid", "gid", "mode", "sha256", "target", "refused"}].

Prints one JSON object on one line: {"changed": bool, "paths": [{"path", "type", "size"}], "refused":
[{"path", "reason"}], "changes": [itemized rsync lines], "bytes": the paths' size on disk (pack and local),
"archive_bytes" (pack)} or, when a command fails, {"changed", "msg", "cmd", "rc", "stderr"}, or, when a
filesystem is too small, {"changed": false, "msg", "error_code": "no_space", "space": [{"path", "needed",
"free", "paths"}]}; "changed" is true when rsync changed (or, failing, may have changed) the destination. A
refused path or a failure is also told in one line on stderr, after the JSON line. Exits 0 on success, 1
otherwise. Every command runs with LC_ALL=C and the timeout.
"""

import argparse
import fcntl
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import sys
import time

TAR_ATTRS = ['--acls', '--xattrs', '--xattrs-include=*', '--numeric-owner']
RSYNC_ATTRS = ['-aAXHS', '--numeric-ids', '--relative']
KEY_MARK = 'san-iscsi-restore:'
RRSYNC = ['/usr/bin/rrsync', '/usr/local/bin/rrsync']
HOST_KEY_ALIAS = 'san-iscsi-restore-destination'
KEYS_LOCK = '/run/lock/san-iscsi-authorized-keys.lock'
SSH_DIR = '/etc/ssh'
SAFE_PATH = re.compile(r'/[A-Za-z0-9._/@+-]+')
PROGRESS_POLL = 0.1  # seconds between looks for a detached send's result (a look is one stat)
SAFE_LABEL = re.compile(r'[A-Za-z0-9._-]+')
PUBLIC_KEY = re.compile(r'(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,2}')
PROGRESS = re.compile(r'^\s*([\d,]+)\s+(\d+)%\s+(\S+/s)\s+(\d+:\d\d:\d\d)')


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


def run(argv, timeout, what=None, stdout=subprocess.PIPE):
    """Run ARGV (no stdin, LC_ALL=C) for at most TIMEOUT seconds; its stdout (None when STDOUT is a file it
    writes to). A failure or timeout is a CopyError naming WHAT (default the command's name)."""
    what = what or argv[0]
    env = dict(os.environ, LC_ALL='C')
    try:
        proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CopyError('%s did not finish within %d seconds' % (what, timeout), cmd=argv, rc=None, stderr='')
    if proc.returncode != 0:
        raise CopyError('%s failed (rc %d): %s' % (what, proc.returncode, proc.stderr.strip()),
                        cmd=argv, rc=proc.returncode, stderr=proc.stderr)
    return proc.stdout


def rsync(source_root, dest, paths, args):
    argv = ['rsync'] + RSYNC_ATTRS + ['--itemize-changes']
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


def parse_needs(items):
    needs = []
    for item in items:
        path, sep, size = item.rpartition('=')
        if not sep or not path or not size.isdigit():
            raise CopyError('expected PATH=BYTES, got %r' % item, changed=False)
        needs.append((path, int(size)))
    return needs


def space(args):
    require_space(parse_needs(args.paths))
    return dict(paths=[], refused=[], changes=[])


def offer(args):
    """Check the paths on the browse host and make the run's key pair (KEYDIR/id_ed25519, 0700 directory)."""
    found, refused, on_disk = check_paths(args.root, args.paths)
    if refused:
        return dict(paths=found, refused=refused, changes=[])
    remove(args.keydir)  # a killed run of the same label may have left one
    os.mkdir(args.keydir, 0o700)
    key = os.path.join(args.keydir, 'id_ed25519')
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', KEY_MARK + args.label, '-f', key], args.timeout)
    with open(key + '.pub') as public:
        public_key = ' '.join(public.read().split()[:2])
    return dict(paths=found, refused=[], changes=[], bytes=on_disk, public_key=public_key)


def keys_file(user, create):
    """(authorized_keys path, uid, gid) of USER; with CREATE its .ssh directory is made (0700, USER's) when
    missing."""
    entry = pwd.getpwnam(user)
    ssh_dir = os.path.join(entry.pw_dir, '.ssh')
    if create and not os.path.isdir(ssh_dir):
        os.mkdir(ssh_dir, 0o700)
        os.chown(ssh_dir, entry.pw_uid, entry.pw_gid)
    return os.path.join(ssh_dir, 'authorized_keys'), entry.pw_uid, entry.pw_gid


def is_run_key(line, label):
    fields = line.split()
    return bool(fields) and fields[-1] == KEY_MARK + label


def edit_keys(user, label, new_line=None):
    """Remove USER's authorized_keys lines of run LABEL (the comment is exact), then add NEW_LINE when given.

    Every other line is kept byte for byte; the file is replaced atomically (same owner and mode) under a
    lock that the runs of this role share. Returns True when the file changed."""
    path, uid, gid = keys_file(user, create=bool(new_line))
    if not new_line and not os.path.exists(path):
        return False  # nothing to revoke; a revoke never makes ~/.ssh
    with open(KEYS_LOCK, 'a') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path) as current:
                lines = current.read().splitlines(True)
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            lines, mode = [], 0o600
        kept = [line for line in lines if not is_run_key(line, label)]
        if len(kept) == len(lines) and not new_line:
            return False
        if kept and not kept[-1].endswith('\n'):
            kept[-1] += '\n'
        wanted = kept + ([new_line + '\n'] if new_line else [])
        if wanted == lines:
            return False
        temp = path + '.san-iscsi-' + label
        with open(temp, 'w') as out:
            out.write(''.join(wanted))
            out.flush()
            os.fsync(out.fileno())
        os.chown(temp, uid, gid)
        os.chmod(temp, mode)
        os.rename(temp, path)
        return True


def host_keys():
    keys = []
    for name in sorted(os.listdir(SSH_DIR)):
        if name.startswith('ssh_host_') and name.endswith('_key.pub'):
            with open(os.path.join(SSH_DIR, name)) as public:
                keys.append(' '.join(public.read().split()[:2]))
    return keys


def accept(args):
    """Destination: check the space, make STAGING, and let the run's key write into STAGING only."""
    require_space(parse_needs(args.paths))
    rrsync = next((path for path in RRSYNC if os.access(path, os.X_OK)), None)
    if not rrsync:
        raise CopyError('rrsync (rsync 3.2.4 or later) is not installed on the destination; install it, or '
                        'restore through the controller (snapshot_browse_transfer: relay)',
                        error_code='no_rrsync', changed=False)
    if not SAFE_PATH.fullmatch(args.staging) or not PUBLIC_KEY.fullmatch(args.public_key):
        raise CopyError('accept: refusing staging path %r or public key %r' % (args.staging, args.public_key),
                        changed=False)
    keys = host_keys()
    if not keys:
        raise CopyError('the destination has no SSH host keys in /etc/ssh (ssh_host_*_key.pub), which the browse '
                        'host would pin; restore through the controller (snapshot_browse_transfer: relay)',
                        error_code='no_host_keys', changed=False)
    remove(args.staging)  # a killed run of the same label may have left a partial one
    os.mkdir(args.staging, 0o700)
    expiry = time.strftime('%Y%m%d%H%M%S', time.localtime(time.time() + args.valid_for))
    line = 'restrict,expiry-time="%s",command="%s -wo -no-del -no-lock %s" %s %s%s' % (
        expiry, rrsync, args.staging, args.public_key, KEY_MARK, args.label)
    edit_keys(args.user, args.label, line)
    return dict(paths=[], refused=[], changes=[], host_keys=keys, expiry=expiry)


def ssh_command(args, keydir):
    known_hosts = os.path.join(keydir, 'known_hosts')
    with open(known_hosts, 'w') as out:
        out.write(''.join('%s %s\n' % (HOST_KEY_ALIAS, key) for key in args.host_key))
    options = ['BatchMode=yes', 'IdentitiesOnly=yes', 'StrictHostKeyChecking=yes',
               'UserKnownHostsFile=' + known_hosts, 'GlobalKnownHostsFile=/dev/null', 'HostKeyAlias=' + HOST_KEY_ALIAS,
               'ConnectTimeout=30', 'ServerAliveInterval=15', 'ServerAliveCountMax=4']
    argv = ['ssh', '-F', '/dev/null', '-i', os.path.join(keydir, 'id_ed25519'), '-p', str(args.port)]
    for option in options:
        argv += ['-o', option]
    return ' '.join(shlex.quote(arg) for arg in argv)


def transfer(args):
    """rsync ROOT's paths into the destination's STAGING (rrsync maps the empty remote path to it); its
    --info=progress2 lines go to KEYDIR/progress. Returns the result that send reports."""
    host = '[%s]' % args.address if ':' in args.address else args.address
    argv = (['rsync'] + RSYNC_ATTRS + ['--info=progress2', '--no-inc-recursive', '--timeout=120',
                                       '-e', ssh_command(args, args.keydir)]
            + [os.path.join(args.root, '.', path) for path in args.paths] + ['%s@%s:' % (args.user, host)])
    started = time.monotonic()
    with open(os.path.join(args.keydir, 'progress'), 'w') as progress_out:
        run(argv, args.timeout, what='rsync to %s' % args.address, stdout=progress_out)
    return dict(paths=[], refused=[], changes=[], seconds=round(time.monotonic() - started, 1))


def raise_if_failed(result):
    """RESULT of a send (as written to result.json), or its failure raised again as the CopyError it was."""
    if result.get('failed'):
        raise CopyError(result['msg'], **{k: v for k, v in result.items() if k not in ('msg', 'failed')})
    return result


def write_result(keydir, result):
    temp = os.path.join(keydir, 'result.json.tmp')
    with open(temp, 'w') as out:
        json.dump(result, out)
    os.rename(temp, os.path.join(keydir, 'result.json'))


def detach(work, pid_file):
    """Run WORK in a grandchild in its own session and process group, fds on /dev/null; return at once, its
    pid in PID_FILE (written before this returns, so that a teardown right after finds it)."""
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return
    os.setsid()
    grandchild = os.fork()
    if grandchild:
        try:
            os.setpgid(grandchild, grandchild)  # as the grandchild does: whichever runs first, the group exists
            with open(pid_file, 'w') as out:
                out.write('%d\n' % grandchild)
        finally:
            os._exit(0)
    os.setpgid(0, 0)  # its own process group (rsync and ssh in it), which the teardown can stop at once
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 1024)  # nothing of the caller's (a pty, a pipe) may keep its session open
    try:
        work()
    finally:
        os._exit(0)


def send(args):
    for name in ('result.json', 'progress'):
        if os.path.exists(os.path.join(args.keydir, name)):
            os.unlink(os.path.join(args.keydir, name))

    def work():
        try:
            result = transfer(args)
            result['changed'] = False
        except (CopyError, OSError) as exc:
            result = dict(getattr(exc, 'result', None) or dict(msg=str(exc)), failed=True)
        write_result(args.keydir, result)
        return result

    if not args.detach:
        return raise_if_failed(work())
    detach(work, os.path.join(args.keydir, 'pid'))
    if args.wait:  # the first round of progress in the same call: a small copy has ended by then
        return dict(progress(args), detached=True)
    return dict(paths=[], refused=[], changes=[], detached=True)


def last_progress(path):
    """The last --info=progress2 record of the file at PATH (records end in CR or LF), parsed, or None."""
    try:
        with open(path, 'rb') as progress_in:
            progress_in.seek(0, os.SEEK_END)
            progress_in.seek(max(0, progress_in.tell() - 4096))
            tail = progress_in.read().decode('utf-8', 'replace')
    except OSError:
        return None
    for record in reversed(re.split(r'[\r\n]', tail)):
        match = PROGRESS.match(record)
        if match:
            return dict(bytes=int(match.group(1).replace(',', '')), percent=int(match.group(2)),
                        rate=match.group(3), eta=match.group(4))
    return None


def progress(args):
    """Wait up to --wait seconds for a detached send to end; report its last progress and, once ended, its
    result (the send's failure is this command's failure)."""
    result_path = os.path.join(args.keydir, 'result.json')
    deadline = time.monotonic() + args.wait
    while not os.path.exists(result_path) and time.monotonic() < deadline:
        time.sleep(PROGRESS_POLL)
    report = dict(paths=[], refused=[], changes=[], done=os.path.exists(result_path),
                  progress=last_progress(os.path.join(args.keydir, 'progress')))
    if report['done']:
        with open(result_path) as result_in:
            report['seconds'] = raise_if_failed(json.load(result_in)).get('seconds')
    return report


def place(args):
    """Destination: rsync STAGING into DEST, then remove STAGING and revoke the run's key, whatever happened."""
    try:
        changes = rsync(args.staging, args.dest, args.paths, args)
    finally:
        remove(args.staging)
        edit_keys(args.user, args.label)
    return dict(paths=[], refused=[], changes=changes)


def revoke(args):
    had_staging = os.path.lexists(args.staging)
    remove(args.staging)
    revoked = edit_keys(args.user, args.label)
    return dict(paths=[], refused=[], changes=[], revoked=revoked, removed_staging=had_staging,
                cleaned=revoked or had_staging)


def file_sha256(path, deadline):
    digest = hashlib.sha256()
    with open(path, 'rb') as data:
        for block in iter(lambda: data.read(1 << 20), b''):
            digest.update(block)
            if time.monotonic() > deadline:
                raise CopyError('digest did not finish within its timeout (reading %s)' % path, changed=False)
    return digest.hexdigest()


def tree_digest(top, deadline):
    """(sha256 of the sorted entry lines, bytes of regular files, regular files) of the tree under TOP."""
    lines, size, files = [], 0, 0
    for directory, dirs, names in os.walk(top):
        dirs.sort()
        for name in dirs + names:
            full = os.path.join(directory, name)
            rel = os.path.relpath(full, top)
            info = os.lstat(full)
            if stat.S_ISDIR(info.st_mode):
                entry = ['d', rel]
            elif stat.S_ISREG(info.st_mode):
                entry = ['f', rel, file_sha256(full, deadline)]
                size += info.st_size
                files += 1
            elif stat.S_ISLNK(info.st_mode):
                entry = ['l', rel, os.readlink(full)]
            else:
                entry = ['s', rel]
            # one JSON array per line: names and link targets with spaces or newlines cannot forge other lines
            lines.append(json.dumps(entry, ensure_ascii=True))
    lines.sort()
    text = ''.join(line + '\n' for line in lines)
    return hashlib.sha256(text.encode('utf-8', 'surrogateescape')).hexdigest(), size, files


def describe(name, root, path, deadline):
    """What PATH is in ROOT (one entry of digest's "versions")."""
    entry = dict(name=name, root=root, exists=False, type=None, size=None, files=None, mtime=None, uid=None,
                 gid=None, mode=None, sha256=None, target=None, refused=None)
    real_root = os.path.realpath(root)
    full = os.path.join(real_root, path)
    if not os.path.lexists(full):
        return entry
    entry['exists'] = True
    if not inside(real_root, os.path.realpath(os.path.dirname(full.rstrip('/')))):
        entry['refused'] = 'a directory on the way is a symlink that leaves the snapshot'
        return entry
    info = os.lstat(full)
    entry.update(mtime=int(info.st_mtime), uid=info.st_uid, gid=info.st_gid, mode='%04o' % stat.S_IMODE(info.st_mode))
    if stat.S_ISREG(info.st_mode):
        entry.update(type='file', size=info.st_size, files=1, sha256=file_sha256(full, deadline))
    elif stat.S_ISDIR(info.st_mode):
        digest, size, files = tree_digest(full, deadline)
        entry.update(type='directory', size=size, files=files, sha256=digest)
    elif stat.S_ISLNK(info.st_mode):
        target = os.readlink(full)
        entry.update(type='symlink', size=0, target=target,
                     sha256=hashlib.sha256(target.encode('utf-8', 'surrogateescape')).hexdigest())
    else:
        entry.update(type='special', size=0)
    return entry


def digest(args):
    if len(args.paths) != 1 or not args.paths[0] or args.paths[0].startswith('/') or '..' in args.paths[0].split('/'):
        raise CopyError('digest takes one path relative to the roots, without \'..\'', changed=False)
    deadline = time.monotonic() + args.timeout
    versions = [describe(name, root, args.paths[0], deadline) for name, root in args.version]
    return dict(paths=[], refused=[], changes=[], versions=versions)


def parse(argv):
    parser = argparse.ArgumentParser(prog='copy_paths.py')
    sub = parser.add_subparsers(dest='action')
    sub.required = True
    positionals = (('pack', ['root', 'archive']), ('unpack', ['archive', 'staging', 'dest']),
                   ('local', ['root', 'dest']), ('space', []), ('offer', ['root', 'keydir']),
                   ('accept', ['staging']), ('send', ['root', 'keydir', 'address']), ('progress', ['keydir']),
                   ('place', ['staging', 'dest']), ('revoke', ['staging']), ('digest', []))
    for name, positional in positionals:
        action = sub.add_parser(name)
        for arg in positional:
            action.add_argument(arg)
        action.add_argument('--timeout', type=int, required=True)
        if name in ('unpack', 'local', 'place'):
            action.add_argument('--backup-suffix')
            action.add_argument('--dry-run', action='store_true')
        if name in ('offer', 'accept', 'place', 'revoke'):
            action.add_argument('--label', required=True)
        if name in ('accept', 'send', 'place', 'revoke'):
            action.add_argument('--user', required=True)
        if name == 'accept':
            action.add_argument('--public-key', required=True)
            action.add_argument('--valid-for', type=int, required=True)
        if name == 'send':
            action.add_argument('--port', type=int, default=22)
            action.add_argument('--host-key', action='append', required=True)
            action.add_argument('--detach', action='store_true')
        if name == 'progress':
            action.add_argument('--wait', type=float, required=True)
        if name == 'send':
            action.add_argument('--wait', type=float, default=0)
        if name == 'digest':
            action.add_argument('--version', nargs=2, action='append', required=True, metavar=('NAME', 'ROOT'))
        action.add_argument('paths', nargs='*' if name in ('progress', 'revoke') else '+')
    return parser.parse_args(argv)


def main(argv):
    args = parse(argv)
    # 'dir/' and 'dir' name the same path; without the slash, lstat does not follow a symlink named so (a
    # 'link/' to a directory outside ROOT would otherwise pass the checks and be read through)
    args.paths = [path.rstrip('/') or path for path in args.paths]
    # pack, offer, accept and send write only the run's own relay files, key and staging copy; space and
    # progress nothing; a dry run writes nothing; revoke removes the run's own key and staging copy
    writes = args.action in ('unpack', 'local', 'place') and not getattr(args, 'dry_run', False)
    if getattr(args, 'label', None) is not None and not SAFE_LABEL.fullmatch(args.label):
        failure = dict(changed=False, msg='refusing run label %r: letters, digits, dot, dash and underscore only'
                       % args.label)
        print(json.dumps(failure))
        sys.stderr.write(failure['msg'] + '\n')
        return 1
    actions = dict(pack=pack, unpack=unpack, local=local, space=space, offer=offer, accept=accept, send=send,
                   progress=progress, place=place, revoke=revoke, digest=digest)
    try:
        result = actions[args.action](args)
    except (CopyError, OSError) as exc:
        failure = dict(getattr(exc, 'result', None) or dict(msg=str(exc)))
        # rsync may have copied part of it before it failed; a refusal before the copy changed nothing
        failure['changed'] = failure.get('changed', writes)
        print(json.dumps(failure))
        sys.stderr.write(failure['msg'] + '\n')
        return 1
    result['changed'] = (writes and bool(result['changes'])) or bool(result.pop('cleaned', False))
    print(json.dumps(result))
    for entry in result['refused']:
        sys.stderr.write('refused %s: %s; nothing was copied\n' % (entry['path'], entry['reason']))
    return 1 if result['refused'] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
