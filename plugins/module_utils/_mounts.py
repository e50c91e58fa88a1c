# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mount seam: /proc/self/mountinfo, mount(8)/umount(8), /etc/fstab, and who holds a mount.

Parsers take text and return plain objects; commands go through _command.Runner; /proc and sysfs
are read under injectable roots. Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import signal
import tempfile
import time
from collections import namedtuple

from ansible_collections.san.iscsi.plugins.module_utils._blockdev import dm_name, majmin as device_majmin, read_file

MOUNT_TIMEOUT = 300

MountEntry = namedtuple('MountEntry', ['mount_id', 'parent_id', 'majmin', 'root', 'mountpoint', 'options',
                                       'fstype', 'source', 'super_options'])


def unescape_octal(field):
    return re.sub(r'\\([0-7]{3})', lambda match: chr(int(match.group(1), 8)), field)


def parse_mountinfo(text):
    """/proc/PID/mountinfo (proc(5)) -> [MountEntry], octal escapes decoded, in mount order."""
    entries = []
    for line in (text or '').splitlines():
        head, sep, tail = line.partition(' - ')
        fields = head.split()
        rest = tail.split()
        if not sep or len(fields) < 6 or len(rest) < 2:
            continue
        entries.append(MountEntry(
            mount_id=int(fields[0]), parent_id=int(fields[1]), majmin=fields[2],
            root=unescape_octal(fields[3]), mountpoint=unescape_octal(fields[4]),
            options=fields[5].split(','), fstype=rest[0], source=unescape_octal(rest[1]),
            super_options=rest[2].split(',') if len(rest) > 2 else []))
    return entries


def read_mountinfo(path='/proc/self/mountinfo'):
    with open(path) as handle:
        return parse_mountinfo(handle.read())


def mountpoints_of_devices(names, mountinfo='/proc/self/mountinfo', sysfs_root='/sys'):
    """Mount points whose source is one of the kernel NAMES (by major:minor, else by /dev path), in mount order."""
    names = list(names)
    majmins = set(filter(None, (device_majmin(name, sysfs_root) for name in names)))
    sources = set('/dev/%s' % name for name in names)
    sources.update('/dev/mapper/%s' % mapped for mapped in filter(None, (dm_name(n, sysfs_root) for n in names)))
    found = []
    for entry in parse_mountinfo(read_file(mountinfo, '')):
        if (entry.majmin in majmins or entry.source in sources) and entry.mountpoint not in found:
            found.append(entry.mountpoint)
    return found


def mount_at(entries, mountpoint):
    """The mount visible at MOUNTPOINT (the last one stacked there), or None."""
    found = None
    for entry in entries:
        if entry.mountpoint == mountpoint:
            found = entry
    return found


def mounts_of(entries, majmin):
    return [entry for entry in entries if entry.majmin == majmin]


def submounts(entries, mountpoint):
    prefix = mountpoint.rstrip('/') + '/'
    return [entry.mountpoint for entry in entries if entry.mountpoint.startswith(prefix)]


# A snapshot is mounted read-only, without set-id, devices or programs, and without replaying its journal or log
# (the filesystem's own no-replay option), so that nothing is ever written to it.
SNAPSHOT_BASE = ['ro', 'nosuid', 'nodev', 'noexec']
NO_REPLAY = {
    'ext3': ['noload'],
    'ext4': ['noload'],
    'xfs': ['norecovery', 'nouuid'],
    'btrfs': ['rescue=nologreplay'],
}


def snapshot_options(fstype):
    """The mount options of a snapshot holding FSTYPE."""
    return SNAPSHOT_BASE + NO_REPLAY.get(fstype, [])


def mount(runner, source, target, fstype, options, timeout=MOUNT_TIMEOUT):
    """mount -t FSTYPE -o OPTIONS SOURCE TARGET (both given, so fstab is never consulted)."""
    args = ['-t', fstype]
    if options:
        args += ['-o', ','.join(options)]
    runner.run('mount', args + [source, target], timeout=timeout, what='mounting %s on %s' % (source, target))


def umount(runner, target, timeout=MOUNT_TIMEOUT):
    runner.run('umount', [target], timeout=timeout, what='unmounting %s' % target)


# --- processes holding a mount ------------------------------------------------------------------

def _majmin_of_stat(st_dev):
    return '%d:%d' % (os.major(st_dev), os.minor(st_dev))


def _link_dev(path):
    try:
        return _majmin_of_stat(os.stat(path).st_dev)
    except OSError:
        return None


def _maps_devs(maps_text):
    """Device numbers ('8:17') of the files a process has mapped, from /proc/PID/maps."""
    devs = set()
    for line in maps_text.splitlines():
        fields = line.split()
        if len(fields) >= 6 and ':' in fields[3] and fields[4] != '0':
            major, minor = fields[3].split(':', 1)
            devs.add('%d:%d' % (int(major, 16), int(minor, 16)))
    return devs


def _owner(proc_dir):
    status = read_file(os.path.join(proc_dir, 'status')) or ''
    match = re.search(r'^Uid:\s+(\d+)', status, re.M)
    return int(match.group(1)) if match else None


def process_holders(majmin, proc_root='/proc', exclude=None):
    """Processes using files of the filesystem MAJMIN: [{'pid', 'uid', 'command', 'access'}].

    access lists what holds it, like fuser(1): cwd, root, exe, open files (fd), mapped files (mmap).
    """
    exclude = set(exclude or [os.getpid()])
    found = []
    for entry in sorted((e for e in os.listdir(proc_root) if e.isdigit()), key=int):
        pid = int(entry)
        if pid in exclude:
            continue
        proc_dir = os.path.join(proc_root, entry)
        access = [kind for kind in ('cwd', 'root', 'exe') if _link_dev(os.path.join(proc_dir, kind)) == majmin]
        fd_dir = os.path.join(proc_dir, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            fds = []
        if any(_link_dev(os.path.join(fd_dir, fd)) == majmin for fd in fds):
            access.append('fd')
        if majmin in _maps_devs(read_file(os.path.join(proc_dir, 'maps')) or ''):
            access.append('mmap')
        if access:
            cmdline = (read_file(os.path.join(proc_dir, 'cmdline')) or '').replace('\0', ' ').strip()
            command = cmdline or (read_file(os.path.join(proc_dir, 'comm')) or '').strip()
            found.append({'pid': pid, 'uid': _owner(proc_dir), 'command': command, 'access': access})
    return found


def describe_holders(processes):
    return ', '.join('%s (pid %d, %s)' % (proc['command'] or '?', proc['pid'], '+'.join(proc['access']))
                     for proc in processes)


def terminate(pids, grace=10, kill=os.kill, clock=time.monotonic, sleep=time.sleep, alive=None):
    """SIGTERM the PIDs, wait up to GRACE seconds, SIGKILL the ones left. Returns the pids killed."""
    alive = alive or _alive
    for pid in pids:
        _signal(kill, pid, signal.SIGTERM)
    deadline = clock() + grace
    while clock() < deadline and any(alive(pid) for pid in pids):
        sleep(0.2)
    killed = [pid for pid in pids if alive(pid)]
    for pid in killed:
        _signal(kill, pid, signal.SIGKILL)
    return killed


def _signal(kill, pid, signum):
    try:
        kill(pid, signum)
    except OSError:
        pass


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


# --- fstab ---------------------------------------------------------------------------------------

def fstab_escape(value):
    """fstab(5) fields cannot hold blanks or backslashes: write them as octal escapes."""
    return ''.join('\\%03o' % ord(char) if char in ' \t\n\\' else char for char in value)


def fstab_line(source, target, fstype, options, dump=0, passno=0):
    return '%s %s %s %s %d %d' % (fstab_escape(source), fstab_escape(target), fstype,
                                  ','.join(options) or 'defaults', dump, passno)


def fstab_mountpoint(line):
    """The mount point field of an fstab line, or None for comments and blank lines."""
    stripped = line.strip()
    if not stripped or stripped.startswith('#'):
        return None
    fields = stripped.split()
    return unescape_octal(fields[1]) if len(fields) >= 2 else None


def fstab_entries(text, mountpoint):
    return [line for line in text.splitlines() if fstab_mountpoint(line) == mountpoint]


def update_fstab(text, mountpoint, new_line):
    """Return TEXT with the entry for MOUNTPOINT replaced by NEW_LINE (appended when absent).

    NEW_LINE None removes every entry for MOUNTPOINT. Other lines, comments included, are kept as they are.
    """
    lines = text.splitlines()
    out = []
    placed = False
    for line in lines:
        if fstab_mountpoint(line) == mountpoint:
            if new_line is not None and not placed:
                out.append(new_line)
                placed = True
            continue
        out.append(line)
    if new_line is not None and not placed:
        out.append(new_line)
    return '\n'.join(out) + '\n' if out else ''


def read_text(path):
    if not os.path.exists(path):
        return ''
    with open(path) as handle:
        return handle.read()


def systemd_reads_fstab(runner, path, systemd_dir='/run/systemd/system'):
    """Whether PATH is the fstab systemd generates mount units from on this host (/etc/fstab, systemd running)."""
    return os.path.realpath(path) == '/etc/fstab' and os.path.isdir(systemd_dir) and runner.has('systemctl')


def reload_systemd_fstab(runner, path, systemd_dir='/run/systemd/system'):
    """After /etc/fstab changed on a systemd host: `systemctl daemon-reload`, so the mount units systemd
    generates from it match it again (otherwise util-linux mount prints a hint on every later mount, and
    systemd may act on the old entries). Another fstab file, or a host without systemd: nothing to do."""
    if systemd_reads_fstab(runner, path, systemd_dir):
        runner.run('systemctl', ['daemon-reload'], what='reloading systemd after the fstab change')


def write_fstab(module, path, text):
    """Replace PATH atomically (temp file in the same directory, then rename; mode/owner kept)."""
    directory = os.path.dirname(path) or '.'
    handle, temp = tempfile.mkstemp(prefix='.fstab.', dir=directory)
    try:
        with os.fdopen(handle, 'w') as stream:
            stream.write(text)
        if os.path.exists(path):
            module.atomic_move(temp, path)
        else:
            os.chmod(temp, 0o644)
            os.rename(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
