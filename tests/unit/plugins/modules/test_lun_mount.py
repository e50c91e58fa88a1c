# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import functools
import json
import os

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun_mount
from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _host_lock
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils._lvm import NO_BACKUP
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed, route_commands
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_blockdev import FakeSys, fixture

IQN = 'iqn.2026-11.lab.san-iscsi:lm'
WWID = 'naa.6001405d3b6a1f0c2e4a4b8b9c0d1e2f'
SAFE_EXT4 = 'ro,nosuid,nodev,noexec,noload'
SAFE_XFS = 'ro,nosuid,nodev,noexec,norecovery,nouuid'
EXT4 = 'DEVNAME=/dev/sdb\nLABEL=data\nUUID=0b9c1f53-2d5e-4a0e-9f3b-3f1b3c2d4e5f\nVERSION=1.0\nTYPE=ext4\nUSAGE=filesystem\n'
PV = 'DEVNAME=/dev/sdc\nUUID=Yk2bcd-7Ufp-OxRp-3OQ6-jqmZ-CQhG-5FGl0x\nVERSION=LVM2 001\nTYPE=LVM2_member\nUSAGE=raid\n'


def lvm_json(kind, rows):
    return json.dumps({'report': [{kind: rows}]}, indent=2) + '\n'


class World(object):
    """A fake host: sysfs, /dev, mountinfo, /proc, fstab, and the commands that change them."""

    def __init__(self, tmpdir, monkeypatch):
        self.tmp = tmpdir
        self.sysfs = FakeSys(tmpdir)
        self.mountinfo = str(tmpdir.join('mountinfo'))
        self.proc = str(tmpdir.join('proc').ensure(dir=True))
        self.fstab = str(tmpdir.join('fstab'))
        self.overlays = str(tmpdir.join('run-san-iscsi'))
        self.online = str(tmpdir.join('run-lvm').ensure(dir=True))
        self.devices_dir = str(tmpdir.join('lvm-devices'))
        self.backup_dir = str(tmpdir.join('lvm-backup').ensure(dir=True))
        self.archive_dir = str(tmpdir.join('lvm-archive').ensure(dir=True))
        self.mnt = str(tmpdir.join('mnt'))
        with open(self.mountinfo, 'w') as handle:
            handle.write('27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n')
        with open(self.fstab, 'w') as handle:
            handle.write('UUID=1111 / ext4 errors=remount-ro 0 1\n')
        self.replies = []
        self.commands = []
        self.next_mount_id = 100
        self.paths = HostPaths(sysfs=self.sysfs.sys, dev=self.sysfs.dev, proc=self.proc, mountinfo=self.mountinfo,
                               overlay_dir=self.overlays, lvm_devices_dir=self.devices_dir,
                               lvm_online_dir=self.online, lvm_backup_dir=self.backup_dir,
                               lvm_archive_dir=self.archive_dir)
        route_commands(monkeypatch, self._run_command)

    def dev(self, name):
        return os.path.join(self.sysfs.dev, name)

    def mapper(self, name):
        return os.path.join(self.sysfs.dev, 'mapper', name)

    def reply(self, prefix, result):
        self.replies.append((list(prefix), result))

    def _run_command(self, argv, environ_update=None, **kwargs):
        assert environ_update['LC_ALL'] == 'C'
        self.commands.append(list(argv))
        tail = self._readable(argv)
        for prefix, reply in self.replies:
            if tail[:len(prefix)] == prefix:
                return reply(tail) if callable(reply) else reply
        raise AssertionError('unexpected command: %r' % (argv,))

    @staticmethod
    def _readable(argv):
        if argv[0] == '/usr/bin/timeout':
            assert argv[1:3] == ['-k', '5'] and argv[3].isdigit()
            argv = argv[4:]
        return [os.path.basename(argv[0])] + list(argv[1:])

    def tools(self):
        """The commands run, without the timeout wrapper and with /sbin/ dropped: easier to read."""
        return [self._readable(argv) for argv in self.commands]

    # --- effects of commands --------------------------------------------------------------------

    def on_setro(self, tail):
        self.sysfs.set(blockdev.kernel_name(tail[-1], self.sysfs.sys), 'ro', '1')
        return 0, '', ''

    def on_mount(self, tail):
        fstype, source, target = tail[2], tail[-2], tail[-1]
        options = tail[4] if tail[3] == '-o' else 'rw'
        name = blockdev.kernel_name(source, self.sysfs.sys)
        majmin = blockdev.majmin(name, self.sysfs.sys)
        self.add_mount(majmin, target, fstype, source, options)
        return 0, '', ''

    def add_mount(self, majmin, target, fstype, source, options):
        self.next_mount_id += 1
        with open(self.mountinfo, 'a') as handle:
            handle.write('%d 27 %s / %s %s - %s %s %s\n' % (self.next_mount_id, majmin, target.replace(' ', '\\040'),
                                                            options, fstype, source, options))

    def on_umount(self, tail):
        with open(self.mountinfo) as handle:
            lines = [line for line in handle if line.split()[4] != tail[-1]]
        with open(self.mountinfo, 'w') as handle:
            handle.writelines(lines)
        return 0, '', ''

    def fstab_text(self):
        with open(self.fstab) as handle:
            return handle.read()


@pytest.fixture
def world(tmpdir, monkeypatch):
    return World(tmpdir, monkeypatch)


@pytest.fixture
def run_module(run_module, world):
    """Every module run of this file sees the world's fake host."""
    return functools.partial(run_module, paths=world.paths)


def args(world, **kwargs):
    base = {'path': os.path.join(world.mnt, 'x'), 'fstab': world.fstab}
    base.update(kwargs)
    return base


# --- filesystem on the whole disk ---------------------------------------------------------------------

def test_snapshot_ext4_whole_disk_is_read_only_without_journal_replay(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.reply(['blkid'], (0, EXT4, ''))
    world.reply(['blockdev', '--setro'], world.on_setro)
    world.reply(['mount'], world.on_mount)
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), snapshot=True))
    path = os.path.join(world.mnt, 'x')
    assert world.tools() == [
        ['blkid', '-p', '-o', 'export', world.dev('sdb')],
        ['blockdev', '--setro', world.dev('sdb')],
        ['mount', '-t', 'ext4', '-o', SAFE_EXT4, world.dev('sdb'), path],
    ]
    assert result['changed'] is True
    assert result['options'] == SAFE_EXT4.split(',')
    assert result['read_only'] is True
    assert (result['fstype'], result['device'], result['partition']) == ('ext4', world.dev('sdb'), None)
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'  # snapshots are not persistent by default

    world.commands[:] = []
    again = run_module(lun_mount, args(world, device=world.dev('sdb'), snapshot=True))
    assert again['changed'] is False
    assert world.tools() == [['blkid', '-p', '-o', 'export', world.dev('sdb')]]


def test_extra_options_are_merged_after_the_safe_ones(world, run_module):
    world.sysfs.add('sdb', '8:16', ro=1)
    world.reply(['blkid'], (0, fixture('blkid_xfs.txt'), ''))
    world.reply(['mount'], world.on_mount)
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), snapshot=True, options=['noatime,inode64']))
    assert result['options'] == SAFE_XFS.split(',') + ['noatime', 'inode64']
    assert world.tools()[-1][:4] == ['mount', '-t', 'xfs', '-o']
    assert world.tools()[-1][4] == SAFE_XFS + ',noatime,inode64'


def test_snapshot_btrfs_skips_log_replay(world, run_module):
    world.sysfs.add('sdb', '8:16', ro=1)
    world.reply(['blkid'], (0, fixture('blkid_btrfs.txt'), ''))
    world.reply(['mount'], world.on_mount)
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), snapshot=True))
    assert world.tools()[-1] == ['mount', '-t', 'btrfs', '-o', 'ro,nosuid,nodev,noexec,rescue=nologreplay',
                                 world.dev('sdb'), os.path.join(world.mnt, 'x')]
    assert result['label'] == 'btrfsfs'


@pytest.mark.parametrize('option', ['rw', 'exec', 'suid', 'dev', 'defaults'])
def test_options_cancelling_safe_ones_fail_before_anything_runs(world, run_module, option):
    world.sysfs.add('sdb', '8:16')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb'), snapshot=True, options=[option]))
    assert "option '%s' would cancel the safe option" % option in failed.value.result['msg']
    assert world.commands == []


def test_unsafe_options_let_the_user_win(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.reply(['blkid'], (0, EXT4, ''))
    world.reply(['blockdev', '--setro'], world.on_setro)
    world.reply(['mount'], world.on_mount)
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), snapshot=True, options=['exec'],
                                        unsafe_options=True))
    assert result['options'] == ['ro', 'nosuid', 'nodev', 'noload', 'exec']


def test_blank_lun_is_an_error_and_never_formatted(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.reply(['blkid'], (2, '', ''))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb')))
    assert failed.value.result['msg'] == ('%s is blank: no filesystem, partition table or LVM signature was found '
                                          '(this module never formats a device)' % world.dev('sdb'))
    assert world.tools() == [['blkid', '-p', '-o', 'export', world.dev('sdb')]]


def test_swap_is_not_mounted(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.reply(['blkid'], (0, 'DEVNAME=/dev/sdb\nUUID=abc\nVERSION=1\nTYPE=swap\nUSAGE=other\n', ''))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb')))
    assert 'holds swap (other), which is neither a filesystem nor an LVM PV' in failed.value.result['msg']


def test_expected_fstype_mismatch_fails(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.reply(['blkid'], (0, EXT4, ''))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb'), fstype='xfs'))
    assert failed.value.result['msg'] == '%s holds ext4, not xfs' % world.dev('sdb')


# --- partitions ------------------------------------------------------------------------------------------

def _disk_with_partitions(world, blkid_by_device, table):
    world.sysfs.add('sdb', '8:16')
    world.sysfs.add('sdb1', '8:17', parent='sdb', partition=1)
    world.sysfs.add('sdb2', '8:18', parent='sdb', partition=2)

    def blkid(tail):
        return blkid_by_device[os.path.basename(tail[-1])]
    world.reply(['blkid'], blkid)
    world.reply(['partx'], (0, fixture(table), ''))


def test_single_filesystem_partition_is_chosen_and_recorded_in_fstab(world, run_module):
    _disk_with_partitions(world, {
        'sdb': (0, fixture('blkid_dos_table.txt'), ''),
        'sdb1': (0, EXT4.replace('/dev/sdb', '/dev/sdb1'), ''),
        'sdb2': (2, '', ''),
    }, 'partx_dos.txt')
    world.sysfs.link('by-uuid', '0b9c1f53-2d5e-4a0e-9f3b-3f1b3c2d4e5f', 'sdb1')
    world.reply(['mount'], world.on_mount)
    path = os.path.join(world.mnt, 'x')
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), options=['noatime']), diff=True)
    assert world.tools() == [
        ['blkid', '-p', '-o', 'export', world.dev('sdb')],
        ['partx', '--pairs', '--output', 'NR,START,SECTORS,TYPE,UUID,NAME,SCHEME', world.dev('sdb')],
        ['blkid', '-p', '-o', 'export', world.dev('sdb1')],
        ['blkid', '-p', '-o', 'export', world.dev('sdb2')],
        ['mount', '-t', 'ext4', '-o', 'noatime', world.dev('sdb1'), path],
    ]
    line = 'UUID=0b9c1f53-2d5e-4a0e-9f3b-3f1b3c2d4e5f %s ext4 noatime,_netdev,nofail 0 0' % path
    assert result['partition'] == 1
    assert result['fstab_line'] == line
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n%s\n' % line
    assert result['diff']['after'] == world.fstab_text()


def test_two_filesystems_are_ambiguous(world, run_module):
    _disk_with_partitions(world, {
        'sdb': (0, fixture('blkid_gpt_table.txt'), ''),
        'sdb1': (0, EXT4.replace('LABEL=data', 'LABEL=one'), ''),
        'sdb2': (0, fixture('blkid_xfs.txt'), ''),
    }, 'partx_gpt.txt')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb')))
    assert failed.value.result['msg'] == (
        '2 partitions of %s hold a filesystem or LVM PV; choose one with partition: 1 (ext4, label one); '
        '2 (xfs, label xfsfs)' % world.dev('sdb'))
    assert failed.value.result['candidates'] == [1, 2]
    assert not [cmd for cmd in world.tools() if cmd[0] in ('mount', 'blockdev')]


def test_partition_two_of_gpt_by_number_snapshot_fstab_uses_by_id(world, run_module):
    _disk_with_partitions(world, {
        'sdb': (0, fixture('blkid_gpt_table.txt'), ''),
        'sdb2': (0, fixture('blkid_xfs.txt'), ''),
    }, 'partx_gpt.txt')
    world.sysfs.link('by-id', 'wwn-0x6001405d3b6a1f0c2e4a4b8b9-part2', 'sdb2')
    world.sysfs.link('by-uuid', '7ce76ef0-5503-4921-b8df-191c7342f731', 'sdb2')
    world.reply(['blockdev', '--setro'], world.on_setro)
    world.reply(['mount'], world.on_mount)
    path = os.path.join(world.mnt, 'x')
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), partition=2, snapshot=True, persistent=True))
    assert world.tools()[2:] == [
        ['blkid', '-p', '-o', 'export', world.dev('sdb2')],
        ['blockdev', '--setro', world.dev('sdb2')],
        ['blockdev', '--setro', world.dev('sdb')],
        ['mount', '-t', 'xfs', '-o', SAFE_XFS, world.dev('sdb2'), path],
    ]
    # a snapshot's UUID is its original's too: only the LUN's own name is unambiguous
    assert result['fstab_line'] == '%s %s xfs %s,_netdev,nofail 0 0' % (
        os.path.join(world.sysfs.dev, 'disk', 'by-id', 'wwn-0x6001405d3b6a1f0c2e4a4b8b9-part2'), path, SAFE_XFS)


def test_missing_partition_number_lists_what_exists(world, run_module):
    _disk_with_partitions(world, {'sdb': (0, fixture('blkid_gpt_table.txt'), '')}, 'partx_gpt.txt')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb'), partition=3))
    assert failed.value.result['msg'] == '%s (gpt label) has no partition 3; it has: 1, 2' % world.dev('sdb')


def test_fstab_refuses_unstable_names(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.reply(['blkid'], (0, EXT4, ''))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb'), state='present'))
    assert 'refusing to write /dev/sdb to fstab' in failed.value.result['msg']
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'


def test_present_in_check_mode_shows_the_diff_and_writes_nothing(world, run_module):
    world.sysfs.add('sdb', '8:16')
    world.sysfs.link('by-id', 'wwn-0x6001405d3b6a1f0c2e4a4b8b9', 'sdb')
    world.reply(['blkid'], (0, EXT4, ''))
    path = os.path.join(world.mnt, 'x')
    result = run_module(lun_mount, args(world, device=world.dev('sdb'), state='present'), check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff']['after'].endswith('%s ext4 _netdev,nofail 0 0\n' % path)
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'
    assert world.tools() == [['blkid', '-p', '-o', 'export', world.dev('sdb')]]


# --- source resolution ------------------------------------------------------------------------------------

def _iscsi_disk(world, name, majmin, sid=1, host=2, lun=0, wwid=WWID):
    hctl = '%d:0:0:%d' % (host, lun)
    sys = world.sysfs.sys
    device_dir = os.path.join(sys, 'devices', 'platform', 'host%d' % host, 'session%d' % sid,
                              'target%d:0:0' % host, hctl)
    for field, value in (('wwid', wwid), ('vendor', 'LIO-ORG'), ('model', 'fx'), ('rev', '4.0'), ('state', 'running')):
        world.sysfs.write(os.path.join(device_dir, field), value + '\n')
    if not os.path.isdir(os.path.join(sys, 'bus', 'scsi', 'devices')):
        os.makedirs(os.path.join(sys, 'bus', 'scsi', 'devices'))
    os.symlink(device_dir, os.path.join(sys, 'bus', 'scsi', 'devices', hctl))
    world.sysfs.write(os.path.join(sys, 'class', 'iscsi_session', 'session%d' % sid, 'targetname'), IQN + '\n')
    world.sysfs.write(os.path.join(sys, 'class', 'iscsi_session', 'session%d' % sid, 'state'), 'LOGGED_IN\n')
    conn = os.path.join(sys, 'class', 'iscsi_connection', 'connection%d:0' % sid)
    world.sysfs.write(os.path.join(conn, 'persistent_address'), '10.10.1.1\n')
    world.sysfs.write(os.path.join(conn, 'persistent_port'), '3260\n')
    real = os.path.join(device_dir, 'block', name)
    os.makedirs(os.path.join(real, 'holders'))
    os.makedirs(os.path.join(real, 'slaves'))
    for field, value in (('dev', majmin), ('size', '131072'), ('ro', '0'), ('stat', '0 0 0 0 0 0 0 0 0 0 0')):
        world.sysfs.write(os.path.join(real, field), value + '\n')
    os.symlink(real, os.path.join(sys, 'class', 'block', name))
    os.symlink(real, os.path.join(sys, 'dev', 'block', majmin))
    os.symlink(device_dir, os.path.join(real, 'device'))
    world.sysfs.write(world.dev(name), '')


def test_target_and_lun_resolve_through_sysfs(world, run_module):
    _iscsi_disk(world, 'sdd', '8:48', lun=0, wwid='naa.6001405aaaaaaaaaaaaaaaaaaaaaaaa')
    _iscsi_disk(world, 'sde', '8:64', lun=1)
    world.reply(['blkid'], (0, EXT4, ''))
    world.reply(['mount'], world.on_mount)
    result = run_module(lun_mount, args(world, target=IQN.upper(), lun=1, persistent=False))
    assert result['lun_device'] == world.dev('sde')
    assert world.tools()[0] == ['blkid', '-p', '-o', 'export', world.dev('sde')]


def test_path_device_under_multipath_uses_the_map(world, run_module):
    _iscsi_disk(world, 'sdd', '8:48', sid=1, host=2)
    _iscsi_disk(world, 'sde', '8:64', sid=2, host=3)
    world.sysfs.add('dm-0', '253:0', dm_name='mpatha', dm_uuid='mpath-36001405d3b6a1f0c2e4a4b8b9c0d1e2f')
    world.sysfs.hold('sdd', 'dm-0')
    world.sysfs.hold('sde', 'dm-0')
    world.reply(['blkid'], (0, EXT4, ''))
    world.reply(['blockdev', '--setro'], world.on_setro)
    world.reply(['mount'], world.on_mount)
    result = run_module(lun_mount, args(world, wwid=WWID.upper(), snapshot=True))
    assert result['lun_device'] == world.mapper('mpatha')
    assert world.tools()[:4] == [
        ['blkid', '-p', '-o', 'export', world.mapper('mpatha')],
        ['blockdev', '--setro', world.mapper('mpatha')],
        ['blockdev', '--setro', world.dev('sdd')],
        ['blockdev', '--setro', world.dev('sde')],
    ]


def test_no_such_lun_times_out_with_what_was_looked_for(world, run_module):
    world.reply(['udevadm', 'settle'], (0, '', ''))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, wwid='naa.600140500000000000000000000000000', timeout=1))
    assert failed.value.result['msg'] == ('no block device found for wwid=naa.600140500000000000000000000000000 '
                                          'within 1s (is the session logged in?)')


# --- unmounting ------------------------------------------------------------------------------------------

def test_busy_unmount_lists_the_processes(world, run_module, tmpdir):
    busy_dir = tmpdir.join('busy').ensure(dir=True)
    st_dev = os.stat(str(busy_dir)).st_dev
    majmin = '%d:%d' % (os.major(st_dev), os.minor(st_dev))
    path = os.path.join(world.mnt, 'x')
    world.add_mount(majmin, path, 'ext4', '/dev/sdb', 'ro')
    proc = tmpdir.join('proc', '4242')
    proc.join('fd').ensure(dir=True)
    os.symlink(str(busy_dir), str(proc.join('cwd')))
    proc.join('cmdline').write_binary(b'bash\0')
    proc.join('status').write('Uid:\t1000\t1000\t1000\t1000\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, state='unmounted'))
    assert failed.value.result['msg'] == '%s is busy: bash (pid 4242, cwd); stop them or use force: true' % path
    assert failed.value.result['processes'] == [{'pid': 4242, 'uid': 1000, 'command': 'bash', 'access': ['cwd']}]
    assert world.commands == []


def test_daemon_reload_false_leaves_the_reload_to_the_caller_and_says_it_is_due(world, run_module, monkeypatch):
    monkeypatch.setattr(lun_mount.mounts, 'systemd_reads_fstab', lambda runner, path, *_: path == world.fstab)
    world.reply(['systemctl'], (0, '', ''))
    path = os.path.join(world.mnt, 'x')
    for name, reload in (('x', True), ('y', False)):
        world.sysfs.add('sd' + name, '8:%d' % (16 if reload else 32))
        world.add_mount('8:%d' % (16 if reload else 32), os.path.join(world.mnt, name), 'ext4', world.dev('sd' + name),
                        'rw')
        with open(world.fstab, 'a') as handle:
            handle.write('UUID=%s %s ext4 _netdev,nofail 0 0\n' % (name, os.path.join(world.mnt, name)))
    world.reply(['umount'], world.on_umount)

    reloaded = run_module(lun_mount, args(world, state='absent'))
    assert world.tools() == [['umount', path], ['systemctl', 'daemon-reload']]
    assert 'reload_needed' not in reloaded

    world.commands[:] = []
    left = run_module(lun_mount, args(world, path=os.path.join(world.mnt, 'y'), state='absent', daemon_reload=False))
    assert world.tools() == [['umount', os.path.join(world.mnt, 'y')]]
    assert left['changed'] is True and left['reload_needed'] is True
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'
    again = run_module(lun_mount, args(world, path=os.path.join(world.mnt, 'y'), state='absent', daemon_reload=False))
    assert again['changed'] is False and 'reload_needed' not in again


def test_absent_unmounts_and_removes_the_fstab_entry(world, run_module):
    world.sysfs.add('sdb', '8:16')
    path = os.path.join(world.mnt, 'x')
    world.add_mount('8:16', path, 'ext4', world.dev('sdb'), 'rw')
    with open(world.fstab, 'a') as handle:
        handle.write('UUID=abc %s ext4 _netdev,nofail 0 0\n' % path)
    world.reply(['umount'], world.on_umount)
    result = run_module(lun_mount, args(world, state='absent'))
    assert world.tools() == [['umount', path]]
    assert result['changed'] is True
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'
    again = run_module(lun_mount, args(world, state='absent'))
    assert again['changed'] is False


# --- LVM -----------------------------------------------------------------------------------------------

PV_UUID = 'Yk2bcd-7Ufp-OxRp-3OQ6-jqmZ-CQhG-5FGl0x'
VG_UUID = 'hVwz1c-ZKx3-pB0u-7y2R-0d4y-KQWE-3v0S7c'
CLONE = 'datavg_clone_0d1e2f'


def _lvm_world(world, host_rows, lvs_rows=None):
    """sdc holds a PV of datavg (one LV 'data' in a thin pool); the host's own LVM view is HOST_ROWS."""
    world.sysfs.add('sdc', '8:32')
    world.sysfs.write(os.path.join(world.sysfs.sys, 'class', 'block', 'sdc', 'device', 'wwid'), WWID + '\n')
    sdc = world.dev('sdc')
    ovl = world.mapper('san_iscsi_ovl_' + CLONE)
    lvs_rows = lvs_rows or [
        {'lv_name': 'data', 'vg_name': 'datavg', 'lv_uuid': 'a', 'lv_attr': 'Vwi-a-tz--', 'segtype': 'thin',
         'lv_path': '/dev/datavg/data', 'lv_dm_path': '/dev/mapper/datavg-data', 'lv_active': 'active'},
        {'lv_name': 'pool', 'vg_name': 'datavg', 'lv_uuid': 'b', 'lv_attr': 'twi-aotz--', 'segtype': 'thin-pool',
         'lv_path': '', 'lv_dm_path': '/dev/mapper/datavg-pool', 'lv_active': 'active'}]

    def on_create(tail):
        world.sysfs.add('dm-5', '253:5', dm_name=tail[2], dm_uuid=tail[4])
        world.sysfs.hold('sdc', 'dm-5')
        return 0, '', ''

    def on_activate(tail):
        world.sysfs.add('dm-6', '253:6', dm_name=CLONE + '-data', dm_uuid='LVM-' + 'x' * 64, ro=1)
        world.sysfs.hold('dm-5', 'dm-6')
        return 0, '', ''

    clone_lvs = [dict(row, vg_name=CLONE, lv_dm_path=world.mapper('%s-%s' % (CLONE, row['lv_name'])))
                 for row in lvs_rows]
    pv_row = {'pv_name': sdc, 'pv_uuid': PV_UUID, 'vg_name': 'datavg', 'vg_uuid': VG_UUID}
    world.reply(['blkid', '-p', '-o', 'export', sdc], (0, PV, ''))
    world.reply(['blkid', '-p', '-o', 'export', world.mapper(CLONE + '-data')], (0, fixture('blkid_xfs.txt'), ''))
    world.reply(['blockdev', '--setro'], world.on_setro)
    world.reply(['lvm', 'pvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
                 'pv_name,pv_uuid,vg_name,vg_uuid', '--readonly', '--devices', sdc], (0, lvm_json('pv', [pv_row]), ''))
    world.reply(['lvm', 'vgs'], (0, lvm_json('vg', [{'vg_name': 'datavg', 'vg_uuid': VG_UUID, 'pv_count': '1',
                                                     'lv_count': '2', 'vg_attr': 'wz--n-'}]), ''))
    world.reply(['lvm', 'lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
                 'lv_name,vg_name,lv_uuid,lv_attr,segtype,lv_path,lv_dm_path,lv_active', '--readonly', '--devices', sdc,
                 'datavg'], (0, lvm_json('lv', lvs_rows), ''))
    world.reply(['lvm', 'lvs'], (0, lvm_json('lv', clone_lvs), ''))
    world.reply(['lvm', 'pvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
                 'pv_name,pv_uuid,vg_name,vg_uuid', '--devices', ovl],
                (0, lvm_json('pv', [dict(pv_row, pv_name=ovl, vg_name=CLONE, pv_uuid='new', vg_uuid='new')]), ''))
    world.reply(['lvm', 'pvs', '--reportformat', 'json', '-o'], (0, lvm_json('pv', host_rows), ''))
    world.reply(['losetup', '--find'], (0, '/dev/loop0\n', ''))
    world.reply(['dmsetup', 'create'], on_create)
    world.reply(['udevadm', 'settle'], (0, '', ''))
    world.reply(['lvm', 'lvmconfig'], (0, 'use_devicesfile=0\ndevicesfile="system.devices"\n', ''))
    world.reply(['lvm', 'vgimportclone'], (0, '', ''))
    world.reply(['lvm', 'vgchange', '--setautoactivation'], (0, '', ''))
    world.reply(['lvm', 'lvchange', '--activate', 'y'], on_activate)
    world.reply(['mount'], world.on_mount)
    return sdc, ovl


ORIGINAL_ON_HOST = [{'pv_name': '/dev/sdb', 'pv_uuid': PV_UUID, 'vg_name': 'datavg', 'vg_uuid': VG_UUID}]


def test_lvm_snapshot_is_imported_as_a_clone_on_an_overlay(world, run_module):
    sdc, ovl = _lvm_world(world, ORIGINAL_ON_HOST)
    path = os.path.join(world.mnt, 'x')
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    report = ['--reportformat', 'json', '--units', 'b', '--nosuffix', '-o']
    cow = os.path.join(world.overlays, 'san_iscsi_ovl_%s.cow' % CLONE)
    assert world.tools() == [
        ['blkid', '-p', '-o', 'export', sdc],
        ['lvm', 'pvs'] + report + ['pv_name,pv_uuid,vg_name,vg_uuid', '--readonly', '--devices', sdc],
        ['lvm', 'vgs'] + report + ['vg_name,vg_uuid,pv_count,lv_count,vg_attr', '--readonly', '--devices', sdc],
        ['lvm', 'lvs'] + report + ['lv_name,vg_name,lv_uuid,lv_attr,segtype,lv_path,lv_dm_path,lv_active',
                                   '--readonly', '--devices', sdc, 'datavg'],
        ['lvm', 'pvs', '--reportformat', 'json', '-o', 'pv_name,pv_uuid,vg_name,vg_uuid'],
        ['blockdev', '--setro', sdc],
        ['losetup', '--find', '--show', cow],
        ['dmsetup', 'create', 'san_iscsi_ovl_' + CLONE, '--uuid', 'SANISCSI-OVL-san_iscsi_ovl_' + CLONE,
         '--table', '0 131072 snapshot 8:32 /dev/loop0 P 8'],
        ['udevadm', 'settle', '--timeout=30'],
        ['lvm', 'lvmconfig', '--typeconfig', 'full', 'devices/use_devicesfile', 'devices/devicesfile'],
        ['lvm', 'vgimportclone', '--basevgname', CLONE, '--config', NO_BACKUP, ovl],
        ['lvm', 'pvs'] + report + ['pv_name,pv_uuid,vg_name,vg_uuid', '--devices', ovl],
        ['lvm', 'vgchange', '--setautoactivation', 'n', '--config', NO_BACKUP, '--devices', ovl, CLONE],
        ['lvm', 'lvchange', '--activate', 'y', '--ignoreactivationskip', '--config',
         'activation { read_only_volume_list = [ "%s/data" ] }' % CLONE, '--devices', ovl, '%s/data' % CLONE],
        ['lvm', 'lvs'] + report + ['lv_name,vg_name,lv_uuid,lv_attr,segtype,lv_path,lv_dm_path,lv_active',
                                   '--devices', ovl, CLONE],
        ['blkid', '-p', '-o', 'export', world.mapper(CLONE + '-data')],
        ['mount', '-t', 'xfs', '-o', SAFE_XFS, world.mapper(CLONE + '-data'), path],
    ]
    assert (result['vg'], result['lv'], result['clone_vg']) == ('datavg', 'data', CLONE)
    assert result['read_only'] is True
    assert not [cmd for cmd in world.tools() if 'datavg/data' in cmd or cmd[-1] == 'datavg' and cmd[1] != 'lvs']

    world.commands[:] = []
    again = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert again['changed'] is False
    assert (again['vg'], again['lv'], again['clone_vg']) == ('datavg', 'data', CLONE)
    assert [cmd[:2] for cmd in world.tools()] == [['blkid', '-p'], ['lvm', 'pvs']]


def test_lvm_snapshot_in_check_mode_only_reads(world, run_module):
    sdc, _ovl = _lvm_world(world, ORIGINAL_ON_HOST)
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True), check_mode=True)
    assert result['changed'] is True
    assert result['clone_vg'] == CLONE
    assert [cmd[:2] for cmd in world.tools()] == [['blkid', '-p'], ['lvm', 'pvs'], ['lvm', 'vgs'], ['lvm', 'lvs'],
                                                  ['lvm', 'pvs']]


def test_lvm_clash_without_snapshot_fails_without_touching_anything(world, run_module):
    sdc, _ovl = _lvm_world(world, ORIGINAL_ON_HOST)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, persistent=False))
    assert failed.value.result['msg'] == (
        'the VG on %s (datavg) clashes with VG datavg of this host (on /dev/sdb): it looks like a snapshot or '
        'clone; set snapshot: true to import it as a clone' % sdc)
    assert [cmd[:2] for cmd in world.tools()] == [['blkid', '-p'], ['lvm', 'pvs'], ['lvm', 'vgs'], ['lvm', 'lvs'],
                                                  ['lvm', 'pvs']]


def test_lvm_several_lvs_need_a_choice(world, run_module):
    rows = [{'lv_name': name, 'vg_name': 'datavg', 'lv_uuid': name, 'lv_attr': '-wi-a-----', 'segtype': 'linear',
             'lv_path': '/dev/datavg/' + name, 'lv_dm_path': '', 'lv_active': ''} for name in ('home', 'var')]
    sdc, _ovl = _lvm_world(world, [], lvs_rows=rows)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['msg'] == 'VG datavg has 2 LVs that can hold a filesystem (home, var); choose one with lv'


def test_snapshot_lun_held_by_something_else_than_its_own_lvs_is_refused(world, run_module):
    sdc, _ovl = _lvm_world(world, [])
    world.sysfs.add('dm-2', '253:2', dm_name='datavg-data', dm_uuid='LVM-' + 'y' * 64)
    world.sysfs.hold('sdc', 'dm-2')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['msg'] == (
        '%s is in use by dm-2 (datavg-data), not by LVs of VG datavg stored on it; a snapshot LUN must not be '
        'used directly: stop using it first' % sdc)
    assert failed.value.result['changed'] is False
    assert not [cmd for cmd in world.tools() if cmd[0] in ('losetup', 'dmsetup', 'mount', 'blockdev')
                or cmd[:2] == ['lvm', 'vgchange']]


# --- a snapshot LUN whose VG LVM autoactivated on login (under its original name) ---------------------------

AUTO_LV_UUID = 'Kq3vOe-w8aB-0J1k-Yt2c-6mTs-VXhd-ZlNbQe'
ON_THE_LUN_ONLY = [{'pv_name': '/dev/sdc', 'pv_uuid': PV_UUID, 'vg_name': 'datavg', 'vg_uuid': VG_UUID}]
LINEAR_DATA = [{'lv_name': 'data', 'vg_name': 'datavg', 'lv_uuid': AUTO_LV_UUID, 'lv_attr': '-wi-a-----',
                'segtype': 'linear', 'lv_path': '/dev/datavg/data', 'lv_dm_path': '/dev/mapper/datavg-data',
                'lv_active': 'active'}]


def _autoactivated(world, host_rows, lvs_rows=None, upper_uuid=None, on='sdc'):
    """_lvm_world where LVM's autoactivation put datavg/data (dm-2) on ON; UPPER_UUID stacks dm-3 on dm-2."""
    host_rows = [dict(row, pv_name=world.dev('sdc')) if row['pv_name'] == '/dev/sdc' else row for row in host_rows]
    sdc, ovl = _lvm_world(world, host_rows, lvs_rows=lvs_rows or LINEAR_DATA)
    lv_dm_uuid = 'LVM-' + VG_UUID.replace('-', '') + AUTO_LV_UUID.replace('-', '')
    world.sysfs.add('dm-2', '253:2', dm_name='datavg-data', dm_uuid=lv_dm_uuid)
    world.sysfs.hold(on, 'dm-2')
    if upper_uuid:
        world.sysfs.add('dm-3', '253:3', dm_name='upper', dm_uuid=upper_uuid)
        world.sysfs.hold('dm-2', 'dm-3')

    def on_deactivate(tail):
        for name in ('dm-3', 'dm-2'):
            if os.path.exists(os.path.join(world.sysfs.sys, 'class', 'block', name)):
                for lower in os.listdir(os.path.join(world.sysfs.sys, 'class', 'block', name, 'slaves')):
                    os.unlink(os.path.join(world.sysfs.sys, 'class', 'block', lower, 'holders', name))
        return 0, '', ''
    world.replies.insert(0, (['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', sdc,
                              'datavg'], on_deactivate))
    return sdc, ovl


def test_autoactivated_vg_of_the_lun_is_deactivated_then_imported(world, run_module):
    sdc, ovl = _autoactivated(world, ON_THE_LUN_ONLY)
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    tools = world.tools()
    deactivate = ['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', sdc, 'datavg']
    assert tools[4:7] == [
        ['lvm', 'pvs', '--reportformat', 'json', '-o', 'pv_name,pv_uuid,vg_name,vg_uuid'],
        deactivate,
        ['blockdev', '--setro', sdc],
    ]
    assert tools.count(['lvm', 'pvs', '--reportformat', 'json', '-o', 'pv_name,pv_uuid,vg_name,vg_uuid']) == 1
    assert ['lvm', 'vgimportclone', '--basevgname', CLONE, '--config', NO_BACKUP, ovl] in tools
    assert tools[-1][0] == 'mount'
    assert result['deactivated_vg'] == 'datavg'
    assert (result['vg'], result['lv'], result['clone_vg']) == ('datavg', 'data', CLONE)
    assert os.listdir(os.path.join(world.sysfs.sys, 'class', 'block', 'sdc', 'holders')) == ['dm-5']


def test_autoactivated_vg_in_check_mode_is_reported_not_deactivated(world, run_module):
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY)
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True), check_mode=True)
    assert result['changed'] is True
    assert result['deactivated_vg'] == 'datavg'
    assert [cmd[:2] for cmd in world.tools()] == [['blkid', '-p'], ['lvm', 'pvs'], ['lvm', 'vgs'], ['lvm', 'lvs'],
                                                  ['lvm', 'pvs']]


def test_autoactivated_thin_stack_of_the_same_vg_is_deactivated(world, run_module):
    thin_uuid = 'LVM-' + VG_UUID.replace('-', '') + 'T' * 32 + '-tpool'
    rows = [  # the pool is open (its thin LV is active): not a user of the LUN
        {'lv_name': 'data', 'vg_name': 'datavg', 'lv_uuid': 'a', 'lv_attr': 'Vwi-a-tz--', 'segtype': 'thin',
         'lv_path': '/dev/datavg/data', 'lv_dm_path': '/dev/mapper/datavg-data', 'lv_active': 'active'},
        {'lv_name': 'pool', 'vg_name': 'datavg', 'lv_uuid': 'b', 'lv_attr': 'twi-aotz--', 'segtype': 'thin-pool',
         'lv_path': '', 'lv_dm_path': '/dev/mapper/datavg-pool', 'lv_active': 'active'}]
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY, lvs_rows=rows, upper_uuid=thin_uuid)
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert result['deactivated_vg'] == 'datavg'
    assert ['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', sdc, 'datavg'] in world.tools()


def test_autoactivated_lv_with_a_foreign_device_on_top_is_refused(world, run_module):
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY, upper_uuid='CRYPT-LUKS2-' + 'c' * 32 + '-upper')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['msg'].startswith('%s is in use by dm-3 (upper), not by LVs of VG datavg' % sdc)
    assert not [cmd for cmd in world.tools() if cmd[:2] == ['lvm', 'vgchange'] or cmd[0] == 'blockdev']


@pytest.mark.parametrize('lv_attr,mounted,what', [
    ('-wi-ao----', False, 'data (open)'),
    ('-wi-a-----', True, 'datavg-data (mounted at /srv/other)'),
])
def test_autoactivated_lv_in_use_is_never_deactivated(world, run_module, lv_attr, mounted, what):
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY, lvs_rows=[dict(LINEAR_DATA[0], lv_attr=lv_attr)])
    if mounted:
        world.add_mount('253:2', '/srv/other', 'ext4', world.mapper('datavg-data'), 'rw')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['msg'] == (
        'LVs of VG datavg on the snapshot LUN %s are in use: %s; refusing to deactivate them (unmount and close '
        'them first)' % (sdc, what.replace('datavg-data', world.mapper('datavg-data'))))
    assert not [cmd for cmd in world.tools() if cmd[:2] == ['lvm', 'vgchange'] or cmd[0] == 'blockdev']


def test_active_vg_that_the_host_also_has_elsewhere_is_never_deactivated(world, run_module):
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY + ORIGINAL_ON_HOST)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['msg'] == (
        "LVs of VG datavg are active on the snapshot LUN %s, but this host also has that VG or its PV on /dev/sdb; "
        "refusing to deactivate what may be this host's own VG" % sdc)
    assert not [cmd for cmd in world.tools() if cmd[:2] == ['lvm', 'vgchange'] or cmd[0] == 'blockdev']


@pytest.mark.parametrize('warning,where', [
    ('  WARNING: Not using device /dev/sdb for PV %s.', '/dev/sdb'),
    ('  WARNING: PV %s prefers device /dev/sdb because device is used by LV.', '/dev/sdb'),
])
def test_active_vg_on_a_duplicate_pv_is_never_deactivated(world, run_module, warning, where):
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY)
    world.replies.insert(0, (['lvm', 'pvs', '--reportformat', 'json', '-o'], (
        0, lvm_json('pv', [dict(ON_THE_LUN_ONLY[0], pv_name=sdc)]), warning % PV_UUID + '\n')))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert "this host also has that VG or its PV on %s; refusing" % where in failed.value.result['msg']
    assert not [cmd for cmd in world.tools() if cmd[:2] == ['lvm', 'vgchange']]


def test_autoactivated_on_another_path_to_the_same_lun_is_deactivated(world, run_module):
    """Without a multipath map each path is a disk: LVM may have activated the VG on the other one (sdd)."""
    world.sysfs.add('sdd', '8:48')
    world.sysfs.write(os.path.join(world.sysfs.sys, 'class', 'block', 'sdd', 'device', 'wwid'), WWID + '\n')
    world.sysfs.add('sde', '8:64')
    world.sysfs.write(os.path.join(world.sysfs.sys, 'class', 'block', 'sde', 'device', 'wwid'), 'naa.600140599\n')
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY, on='sdd')
    sdd = world.dev('sdd')
    world.replies.insert(0, (['lvm', 'pvs', '--reportformat', 'json', '-o'], (
        0, lvm_json('pv', [dict(ON_THE_LUN_ONLY[0], pv_name=sdd)]),
        '  WARNING: Not using device %s for PV %s.\n  WARNING: PV %s prefers device %s because device is used by '
        'LV.\n' % (sdc, PV_UUID, PV_UUID, sdd))))
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert result['deactivated_vg'] == 'datavg'
    assert ['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', sdc, 'datavg'] in world.tools()
    assert os.listdir(os.path.join(world.sysfs.sys, 'class', 'block', 'sdd', 'holders')) == []


def test_autoactivated_lun_the_host_lvm_lists_under_no_name_is_deactivated(world, run_module):
    """Two paths, no multipath map: LVM drops both as multipath components (same WWID); pvscan had activated one."""
    sdc, _ovl = _autoactivated(world, [{'pv_name': '/dev/vda2', 'pv_uuid': 'o', 'vg_name': 'sysvg', 'vg_uuid': 's'}])
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert result['deactivated_vg'] == 'datavg'
    assert ['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', sdc, 'datavg'] in world.tools()


def test_autoactivation_landing_during_the_import_is_undone(world, run_module):
    """udev starts LVM's autoactivation without waiting for it: here it activates datavg while the clone is imported."""
    sdc, ovl = _autoactivated(world, ON_THE_LUN_ONLY)
    os.unlink(os.path.join(world.sysfs.sys, 'class', 'block', 'sdc', 'holders', 'dm-2'))
    os.unlink(os.path.join(world.sysfs.sys, 'class', 'block', 'dm-2', 'slaves', 'sdc'))
    activate_clone = [reply for prefix, reply in world.replies if prefix == ['lvm', 'lvchange', '--activate', 'y']][0]

    def on_activate(tail):
        world.sysfs.hold('sdc', 'dm-2')
        return activate_clone(tail)
    world.replies.insert(0, (['lvm', 'lvchange', '--activate', 'y'], on_activate))
    result = run_module(lun_mount, args(world, device=sdc, snapshot=True))
    report = ['--reportformat', 'json', '--units', 'b', '--nosuffix', '-o']
    tools = world.tools()
    activated = tools.index(['lvm', 'lvchange', '--activate', 'y', '--ignoreactivationskip', '--config',
                             'activation { read_only_volume_list = [ "%s/data" ] }' % CLONE, '--devices', ovl,
                             '%s/data' % CLONE])
    assert tools[activated + 1:activated + 3] == [
        ['lvm', 'lvs'] + report + ['lv_name,vg_name,lv_uuid,lv_attr,segtype,lv_path,lv_dm_path,lv_active',
                                   '--readonly', '--devices', sdc, 'datavg'],
        ['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', sdc, 'datavg'],
    ]
    assert result['deactivated_vg'] == 'datavg'
    assert tools[-1][0] == 'mount'
    assert os.listdir(os.path.join(world.sysfs.sys, 'class', 'block', 'sdc', 'holders')) == ['dm-5']


def test_lv_still_active_after_deactivation_stops_the_import(world, run_module):
    sdc, _ovl = _autoactivated(world, ON_THE_LUN_ONLY)
    world.replies.insert(0, (['lvm', 'vgchange', '--activate', 'n'], (0, '', '')))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['msg'] == '%s is still in use by dm-2 (datavg-data) after deactivating VG datavg' % sdc
    assert failed.value.result['changed'] is True
    assert not [cmd for cmd in world.tools() if cmd[0] in ('blockdev', 'losetup', 'dmsetup')]


def test_clone_import_failure_removes_the_overlay(world, run_module):
    sdc, ovl = _lvm_world(world, ORIGINAL_ON_HOST)
    world.replies.insert(0, (['lvm', 'vgimportclone'], (5, '', '  Cannot import clone')))
    world.reply(['lvm', 'vgchange', '--activate', 'n'], (5, '', '  Volume group not found'))
    world.reply(['dmsetup', 'remove'], (0, '', ''))
    world.sysfs.add('loop0', '7:0')
    world.sysfs.write(os.path.join(world.sysfs.sys, 'block', 'loop0', 'loop', 'backing_file'),
                      os.path.join(world.overlays, 'san_iscsi_ovl_%s.cow\n' % CLONE))
    world.reply(['losetup', '--detach'], (0, '', ''))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True))
    assert failed.value.result['rc'] == 5
    assert 'Cannot import clone' in failed.value.result['msg']
    assert world.tools()[-2:] == [['dmsetup', 'remove', '--retry', 'san_iscsi_ovl_' + CLONE],
                                  ['losetup', '--detach', '/dev/loop0']]
    assert os.listdir(world.overlays) == []


def test_unmount_of_a_clone_removes_every_trace(world, run_module):
    sdc, ovl = _lvm_world(world, ORIGINAL_ON_HOST)
    run_module(lun_mount, args(world, device=sdc, snapshot=True))
    world.sysfs.add('loop0', '7:0')
    world.sysfs.write(os.path.join(world.sysfs.sys, 'block', 'loop0', 'loop', 'backing_file'),
                      os.path.join(world.overlays, 'san_iscsi_ovl_%s.cow\n' % CLONE))
    os.makedirs(os.path.join(world.online, 'pvs_online'))
    os.makedirs(os.path.join(world.online, 'vgs_online'))
    world.sysfs.write(os.path.join(world.online, 'pvs_online', 'newpvid'), '253:5\nvg:%s\ndev:/dev/dm-5\n' % CLONE)
    world.sysfs.write(os.path.join(world.online, 'pvs_online', 'otherpvid'), '8:16\nvg:datavg\n')
    world.sysfs.write(os.path.join(world.online, 'vgs_online', CLONE), '')
    for directory, entry in ((world.backup_dir, CLONE), (world.backup_dir, 'datavg'),
                             (world.archive_dir, CLONE + '_00000-386717652.vg'),
                             (world.archive_dir, 'datavg_00000-1094423384.vg'),
                             (world.archive_dir, CLONE + 'x_00000-1.vg')):
        world.sysfs.write(os.path.join(directory, entry), 'contents = "Text Format Volume Group"\n')
    world.commands[:] = []
    world.replies = [r for r in world.replies if r[0][:2] != ['lvm', 'lvs']]
    world.reply(['umount'], world.on_umount)
    world.reply(['lvm', 'lvchange', '--activate', 'n'], (0, '', ''))
    world.reply(['lvm', 'lvs'], (0, lvm_json('lv', [
        {'lv_name': 'data', 'vg_name': CLONE, 'lv_uuid': 'a', 'lv_attr': 'Vwi---tz--', 'segtype': 'thin',
         'lv_path': '', 'lv_dm_path': '', 'lv_active': ''}]), ''))
    world.reply(['lvm', 'vgchange', '--activate', 'n'], (0, '', ''))
    world.reply(['dmsetup', 'remove'], (0, '', ''))
    world.reply(['losetup', '--detach'], (0, '', ''))
    path = os.path.join(world.mnt, 'x')
    result = run_module(lun_mount, args(world, state='unmounted'))
    assert result['changed'] is True
    assert result['clone_vg'] == CLONE
    assert world.tools() == [
        ['umount', path],
        ['lvm', 'lvchange', '--activate', 'n', '--devices', ovl, '%s/data' % CLONE],
        ['lvm', 'lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o',
         'lv_name,vg_name,lv_uuid,lv_attr,segtype,lv_path,lv_dm_path,lv_active', '--devices', ovl, CLONE],
        ['lvm', 'lvmconfig', '--typeconfig', 'full', 'devices/use_devicesfile', 'devices/devicesfile'],
        ['lvm', 'vgchange', '--activate', 'n', '--config', NO_BACKUP, '--devices', ovl, CLONE],
        ['dmsetup', 'remove', '--retry', 'san_iscsi_ovl_' + CLONE],
        ['losetup', '--detach', '/dev/loop0'],
    ]
    assert os.listdir(os.path.join(world.online, 'pvs_online')) == ['otherpvid']
    assert os.listdir(os.path.join(world.online, 'vgs_online')) == []
    assert os.listdir(world.overlays) == []
    assert os.listdir(world.backup_dir) == ['datavg']
    assert sorted(os.listdir(world.archive_dir)) == ['datavg_00000-1094423384.vg', CLONE + 'x_00000-1.vg']


def test_clone_cannot_be_persistent(world, run_module):
    sdc, _ovl = _lvm_world(world, ORIGINAL_ON_HOST)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=sdc, snapshot=True, persistent=True))
    assert 'cannot go to fstab' in failed.value.result['msg']
    assert [cmd[0] for cmd in world.tools()] == ['blkid']


def test_same_lun_devices_are_the_other_paths_or_their_same_partition(world):
    sysfs = world.sysfs
    for name, majmin, wwid in (('sdc', '8:32', WWID), ('sdd', '8:48', WWID.upper()), ('sde', '8:64', 'naa.600140599')):
        sysfs.add(name, majmin)
        sysfs.write(os.path.join(sysfs.sys, 'class', 'block', name, 'device', 'wwid'), wwid + '\n')
        for number in (1, 2):
            sysfs.add('%s%d' % (name, number), '8:%d' % (int(majmin[2:]) + number), parent=name, partition=number)
    assert blockdev.same_lun_devices('sdc', sysfs.sys) == ['sdc', 'sdd']
    assert blockdev.same_lun_devices('sdd2', sysfs.sys) == ['sdd2', 'sdc2']
    sysfs.add('dm-7', '253:7', dm_name='mpatha', dm_uuid='mpath-' + WWID)
    assert blockdev.same_lun_devices('dm-7', sysfs.sys) == ['dm-7']
    assert blockdev.upper_devices('sdc', sysfs.sys) == []


def test_present_waits_for_the_host_lock_and_fails_clearly_when_it_stays_held(world, run_module, monkeypatch):
    world.sysfs.add('sdb', '8:16')
    world.sysfs.link('by-id', 'wwn-0x6001405d3b6a1f0c2e4a4b8b9', 'sdb')
    world.reply(['blkid'], (0, EXT4, ''))
    monkeypatch.setattr(_host_lock, 'HOST_LOCK_WAIT', 0.2)
    path = _host_lock.HOST_LOCK_PATH
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as other:  # another run edits fstab: its own open file description holds the flock
        other.write('pid 4242: edit /etc/fstab for /srv/other (since 2026-12-02 12:00:00)\n')
        other.flush()
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(ModuleFailed) as failed:
            run_module(lun_mount, args(world, device=world.dev('sdb'), state='present'))
    assert 'waited 0.2s for the host lock' in failed.value.result['msg']
    assert failed.value.result['msg'].endswith('held by pid 4242: edit /etc/fstab for /srv/other (since 2026-12-02 12:00:00)')
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'


def test_a_mount_point_that_is_a_file_is_refused_before_anything_runs(world, run_module):
    world.sysfs.add('sdb', '8:16')
    path = os.path.join(world.mnt, 'x')
    os.makedirs(world.mnt)
    with open(path, 'w') as handle:
        handle.write('not a directory\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, args(world, device=world.dev('sdb')))
    assert failed.value.result['error_code'] == 'mountpoint_not_directory'
    assert world.commands == []
