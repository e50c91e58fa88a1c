# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal

from ansible_collections.san.iscsi.plugins.module_utils import _command as command
from ansible_collections.san.iscsi.plugins.module_utils import _mounts as mounts
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_blockdev import FakeModule, fixture, tool


# --- mountinfo -------------------------------------------------------------------------------------

def test_parse_mountinfo_decodes_octal_escapes():
    entries = mounts.parse_mountinfo(fixture('mountinfo_local.txt'))
    assert [(e.mountpoint, e.majmin, e.fstype, e.source) for e in entries] == [
        ('/', '254:0', 'ext4', '/dev/vda'), ('/tmp/hd/mnt/sp ace', '7:5', 'ext4', '/dev/loop5')]
    assert entries[1].options == ['ro', 'noexec', 'relatime']
    assert entries[1].super_options == ['ro']


def test_mount_at_returns_the_top_of_a_stack_and_ignores_prefixes():
    text = ('30 27 8:16 / /mnt/a rw - ext4 /dev/sdb rw\n'
            '31 27 8:32 / /mnt/ab rw - xfs /dev/sdc rw\n'
            '32 30 8:48 / /mnt/a ro - xfs /dev/sdd ro\n'
            '33 30 8:64 / /mnt/a/sub rw - ext4 /dev/sde rw\n')
    entries = mounts.parse_mountinfo(text)
    assert mounts.mount_at(entries, '/mnt/a').source == '/dev/sdd'
    assert mounts.mount_at(entries, '/mnt') is None
    assert mounts.submounts(entries, '/mnt/a') == ['/mnt/a/sub']
    assert [e.mountpoint for e in mounts.mounts_of(entries, '8:32')] == ['/mnt/ab']


def test_mount_never_consults_fstab_and_umount_names_the_target():
    module = FakeModule([(['/sbin/mount'], (0, '', '')), (['/sbin/umount'], (0, '', ''))])
    runner = command.Runner(module)
    mounts.mount(runner, '/dev/sdb1', '/srv/x', 'ext4', ['ro', 'noload'])
    mounts.umount(runner, '/srv/x')
    assert module.commands == [tool('mount', '-t', 'ext4', '-o', 'ro,noload', '/dev/sdb1', '/srv/x', timeout=300),
                               tool('umount', '/srv/x', timeout=300)]


# --- processes holding a mount ------------------------------------------------------------------------

def _fake_proc(tmpdir, pid, cwd=None, fds=(), maps='', cmdline=b'', comm='', uid=0):
    proc = tmpdir.join('proc', str(pid))
    proc.ensure(dir=True)
    proc.join('fd').ensure(dir=True)
    if cwd:
        os.symlink(cwd, str(proc.join('cwd')))
    for number, target in enumerate(fds):
        os.symlink(target, str(proc.join('fd', str(number))))
    proc.join('maps').write(maps)
    proc.join('cmdline').write_binary(cmdline)
    proc.join('comm').write(comm + '\n')
    proc.join('status').write('Name:\t%s\nUid:\t%d\t%d\t%d\t%d\n' % (comm, uid, uid, uid, uid))
    return str(tmpdir.join('proc'))


def test_process_holders_finds_cwd_open_files_and_maps(tmpdir):
    data = tmpdir.join('data').ensure(dir=True)
    data.join('file').write('x')
    st_dev = os.stat(str(data)).st_dev
    majmin = '%d:%d' % (os.major(st_dev), os.minor(st_dev))
    maps_line = '7f00-7f01 r--p 00000000 %02x:%02x 12 /srv/x/lib.so\n' % (os.major(st_dev), os.minor(st_dev))
    _fake_proc(tmpdir, 100, cwd=str(data), cmdline=b'bash\0', comm='bash', uid=1000)
    _fake_proc(tmpdir, 200, fds=[str(data.join('file'))], cmdline=b'tail\0-f\0file\0', comm='tail')
    _fake_proc(tmpdir, 300, maps=maps_line, comm='daemon')
    proc_root = _fake_proc(tmpdir, 400, cwd='/proc', comm='unrelated')
    found = mounts.process_holders(majmin, proc_root, exclude=[])
    assert found == [
        {'pid': 100, 'uid': 1000, 'command': 'bash', 'access': ['cwd']},
        {'pid': 200, 'uid': 0, 'command': 'tail -f file', 'access': ['fd']},
        {'pid': 300, 'uid': 0, 'command': 'daemon', 'access': ['mmap']},
    ]
    assert mounts.describe_holders(found[:2]) == 'bash (pid 100, cwd), tail -f file (pid 200, fd)'


def test_terminate_escalates_to_sigkill_for_survivors():
    sent = []
    now = [0.0]
    survivors = {11}

    def clock():
        now[0] += 1
        return now[0]

    killed = mounts.terminate([10, 11], grace=3, kill=lambda pid, sig: sent.append((pid, sig)), clock=clock,
                              sleep=lambda seconds: None, alive=lambda pid: pid in survivors)
    assert killed == [11]
    assert sent == [(10, signal.SIGTERM), (11, signal.SIGTERM), (11, signal.SIGKILL)]


# --- fstab ------------------------------------------------------------------------------------------

FSTAB = ('# /etc/fstab: static file system information.\n'
         'UUID=1111 / ext4 errors=remount-ro 0 1\n'
         '/dev/sdb1 /srv/data ext4 defaults 0 2\n'
         'UUID=2222 /srv/data2 xfs defaults 0 0\n')


def test_fstab_line_escapes_blanks_and_never_asks_for_fsck():
    line = mounts.fstab_line('/dev/disk/by-id/wwn-0x6001405a-part1', '/srv/my data', 'ext4',
                             ['noatime', '_netdev', 'nofail'])
    assert line == '/dev/disk/by-id/wwn-0x6001405a-part1 /srv/my\\040data ext4 noatime,_netdev,nofail 0 0'
    assert mounts.fstab_mountpoint(line) == '/srv/my data'


def test_update_fstab_replaces_only_the_exact_mountpoint():
    new = 'UUID=3333 /srv/data ext4 _netdev,nofail 0 0'
    after = mounts.update_fstab(FSTAB, '/srv/data', new)
    assert after.splitlines() == ['# /etc/fstab: static file system information.', 'UUID=1111 / ext4 errors=remount-ro 0 1',
                                  new, 'UUID=2222 /srv/data2 xfs defaults 0 0']


def test_update_fstab_appends_and_removes():
    new = 'UUID=4444 /srv/new ext4 _netdev,nofail 0 0'
    assert mounts.update_fstab(FSTAB, '/srv/new', new) == FSTAB + new + '\n'
    removed = mounts.update_fstab(FSTAB, '/srv/data', None)
    assert '/srv/data ' not in removed
    assert 'UUID=2222 /srv/data2 xfs defaults 0 0' in removed
    assert mounts.update_fstab(FSTAB, '/srv/none', None) == FSTAB


def test_update_fstab_collapses_duplicate_entries():
    text = FSTAB + '/dev/sdc1 /srv/data ext4 defaults 0 0\n'
    new = 'UUID=5555 /srv/data ext4 _netdev,nofail 0 0'
    assert mounts.fstab_entries(mounts.update_fstab(text, '/srv/data', new), '/srv/data') == [new]


class _AtomicModule(object):
    def __init__(self):
        self.moves = []

    def atomic_move(self, src, dest):
        self.moves.append(dest)
        os.rename(src, dest)


def test_write_fstab_replaces_atomically(tmpdir):
    path = tmpdir.join('fstab')
    path.write(FSTAB)
    module = _AtomicModule()
    mounts.write_fstab(module, str(path), 'new\n')
    assert path.read() == 'new\n'
    assert module.moves == [str(path)]
    assert sorted(os.listdir(str(tmpdir))) == ['fstab']


class _Runner(object):
    def __init__(self, has=True):
        self.calls = []
        self._has = has

    def has(self, name):
        return self._has

    def run(self, tool, args, **kwargs):
        self.calls.append([tool] + list(args))
        return 0, '', ''


def test_systemd_is_reloaded_after_etc_fstab_changed_only(tmpdir):
    systemd = str(tmpdir.join('systemd').ensure(dir=True))
    runner = _Runner()
    mounts.reload_systemd_fstab(runner, '/etc/fstab', systemd_dir=systemd)
    assert runner.calls == [['systemctl', 'daemon-reload']]
    other = _Runner()
    mounts.reload_systemd_fstab(other, str(tmpdir.join('fstab')), systemd_dir=systemd)
    mounts.reload_systemd_fstab(other, '/etc/fstab', systemd_dir=str(tmpdir.join('no-systemd')))
    mounts.reload_systemd_fstab(_Runner(has=False), '/etc/fstab', systemd_dir=systemd)
    assert other.calls == []


def test_systemd_reads_only_etc_fstab_on_a_systemd_host(tmpdir):
    systemd = str(tmpdir.join('systemd').ensure(dir=True))
    assert mounts.systemd_reads_fstab(_Runner(), '/etc/fstab', systemd_dir=systemd) is True
    assert mounts.systemd_reads_fstab(_Runner(), str(tmpdir.join('fstab')), systemd_dir=systemd) is False
    assert mounts.systemd_reads_fstab(_Runner(), '/etc/fstab', systemd_dir=str(tmpdir.join('none'))) is False
    assert mounts.systemd_reads_fstab(_Runner(has=False), '/etc/fstab', systemd_dir=systemd) is False
