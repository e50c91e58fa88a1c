# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _devices
from ansible_collections.san.iscsi.plugins.module_utils._command import Runner
from ansible_collections.san.iscsi.plugins.module_utils._mounts import mountpoints_of_devices

IQN = 'iqn.2026-11.lab.san-iscsi:t1'
WWID = 'naa.6001405a1b2c3d4e5f60718293a4b5c6'


class FakeSysfs(object):
    """A fake /sys + /dev + mountinfo laid out like the kernel's (same symlinks, same files)."""

    def __init__(self, root):
        self.root = str(root)
        self.sys = os.path.join(self.root, 'sys')
        self.dev = os.path.join(self.root, 'dev')
        self.mountinfo = os.path.join(self.root, 'mountinfo')
        self.udev_db = os.path.join(self.root, 'udev')
        self.majors = {}
        for directory in ('bus/scsi/devices', 'class/block', 'class/iscsi_session', 'class/iscsi_connection'):
            os.makedirs(os.path.join(self.sys, directory))
        for directory in ('disk/by-path', 'disk/by-id', 'mapper'):
            os.makedirs(os.path.join(self.dev, directory))
        os.makedirs(self.udev_db)
        self.write(self.mountinfo, '')

    @staticmethod
    def write(path, text):
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        with open(path, 'wb') as handle:
            handle.write(text if isinstance(text, bytes) else text.encode('utf-8'))

    @staticmethod
    def link(path, target):
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        os.symlink(os.path.relpath(target, directory), path)

    def add_session(self, sid, host, target=IQN, address='10.10.1.1', port=3260, state='LOGGED_IN'):
        session_dir = os.path.join(self.sys, 'devices/platform/host%d/session%d' % (host, sid))
        os.makedirs(session_dir)
        class_dir = os.path.join(self.sys, 'class/iscsi_session/session%d' % sid)
        self.write(os.path.join(class_dir, 'targetname'), target + '\n')
        self.write(os.path.join(class_dir, 'state'), state + '\n')
        self.link(os.path.join(class_dir, 'device'), session_dir)
        self.write(os.path.join(self.sys, 'devices/platform/host%d/scsi_host/host%d/scan' % (host, host)), '')
        self.link(os.path.join(self.sys, 'class/scsi_host/host%d' % host),
                  os.path.join(self.sys, 'devices/platform/host%d/scsi_host/host%d' % (host, host)))
        conn_dir = os.path.join(self.sys, 'class/iscsi_connection/connection%d:0' % sid)
        self.write(os.path.join(conn_dir, 'persistent_address'), address + '\n')
        self.write(os.path.join(conn_dir, 'persistent_port'), '%d\n' % port)
        return session_dir

    def add_disk(self, sid, host, lun, name, wwid=WWID, sectors=2097152, serial=None, portal='10.10.1.1:3260',
                 target=IQN, partitions=(), udev=True):
        hctl = '%d:0:0:%d' % (host, lun)
        if sid is None:
            parent = os.path.join(self.sys, 'devices/pci0000:00/host%d/target%d:0:0' % (host, host))
        else:
            parent = os.path.join(self.sys, 'devices/platform/host%d/session%d/target%d:0:0' % (host, sid, host))
        device_dir = os.path.join(parent, hctl)
        for field, value in (('wwid', wwid), ('vendor', 'LIO-ORG '), ('model', 'lun%d' % lun),
                             ('rev', '4.0 '), ('state', 'running')):
            self.write(os.path.join(device_dir, field), '%s\n' % value)
        if serial:
            self.write(os.path.join(device_dir, 'vpd_pg80'), b'\x00\x80\x00' + bytes([len(serial)]) + serial.encode())
        self.link(os.path.join(self.sys, 'bus/scsi/devices', hctl), device_dir)
        block_dir = self._block(os.path.join(device_dir, 'block', name), name, sectors)
        self.link(os.path.join(block_dir, 'device'), device_dir)
        for number in partitions:
            part = '%s%d' % (name, number)
            self._block(os.path.join(block_dir, part), part, sectors // 2)
            self.write(os.path.join(block_dir, part, 'partition'), '%d\n' % number)
        by_path = 'disk/by-path/ip-%s-iscsi-%s-lun-%d' % (portal, target, lun)
        by_id = 'disk/by-id/wwn-0x%s' % wwid[4:]
        # like udev: two disks asking for one link name get one link; each database entry lists both names
        for link in ([by_path] if sid is not None else []) + [by_id]:
            if not os.path.lexists(os.path.join(self.dev, link)):
                self.link(os.path.join(self.dev, link), os.path.join(self.dev, name))
        if udev:
            self.udev_entry(name, ['S:%s' % link for link in ([by_path] if sid is not None else []) + [by_id]])
        return hctl

    def udev_entry(self, name, lines):
        """Add lines to udev's database entry of a block device (b<major>:<minor>)."""
        with open(os.path.join(self.udev_db, 'b%s' % self.majors[name]), 'a') as handle:
            handle.write(''.join(line + '\n' for line in lines))

    def _block(self, block_dir, name, sectors):
        minor = len(self.majors)
        self.majors[name] = '8:%d' % minor
        self.write(os.path.join(block_dir, 'size'), '%d\n' % sectors)
        self.write(os.path.join(block_dir, 'dev'), '8:%d\n' % minor)
        os.makedirs(os.path.join(block_dir, 'holders'))
        self.link(os.path.join(self.sys, 'class/block', name), block_dir)
        self.write(os.path.join(self.dev, name), '')
        return block_dir

    def add_dm(self, name, dm_name, uuid, slaves):
        block_dir = os.path.join(self.sys, 'devices/virtual/block', name)
        self.write(os.path.join(block_dir, 'dm/name'), dm_name + '\n')
        self.write(os.path.join(block_dir, 'dm/uuid'), uuid + '\n')
        self.write(os.path.join(block_dir, 'dev'), '254:%d\n' % len(self.majors))
        self.majors[name] = '254:%d' % len(self.majors)
        os.makedirs(os.path.join(block_dir, 'holders'))
        self.link(os.path.join(self.sys, 'class/block', name), block_dir)
        os.makedirs(os.path.join(block_dir, 'slaves'))
        for slave in slaves:
            slave_dir = os.path.realpath(os.path.join(self.sys, 'class/block', slave))
            self.link(os.path.join(slave_dir, 'holders', name), block_dir)
            self.link(os.path.join(block_dir, 'slaves', slave), slave_dir)

    def mount(self, majmin, source, point, fstype='ext4'):
        with open(self.mountinfo, 'a') as handle:
            handle.write('%d 1 %s / %s rw,relatime shared:1 - %s %s rw\n' % (
                30 + len(open(self.mountinfo).read().splitlines()), majmin, point, fstype, source))

    def kwargs(self):
        return {'sysfs_root': self.sys, 'dev_root': self.dev, 'mountinfo': self.mountinfo}


@pytest.fixture
def fake(tmp_path):
    return FakeSysfs(tmp_path)


def test_session_devices_reads_every_attribute(fake):
    fake.add_session(1, 2)
    fake.add_disk(1, 2, 1, 'sdb', serial='abc123')
    fake.add_disk(1, 2, 0, 'sda', wwid='NAA.6001405FFFF', sectors=204800)
    devices = _devices.session_devices(1, **fake.kwargs())
    assert [d.name for d in devices] == ['sda', 'sdb']
    lun1 = devices[1].to_dict()
    assert lun1 == {
        'hctl': '2:0:0:1', 'lun': 1, 'name': 'sdb', 'path': os.path.join(fake.dev, 'sdb'),
        'by_path': [os.path.join(fake.dev, 'disk/by-path/ip-10.10.1.1:3260-iscsi-%s-lun-1' % IQN)],
        'by_id': [os.path.join(fake.dev, 'disk/by-id/wwn-0x6001405a1b2c3d4e5f60718293a4b5c6')],
        'wwid': WWID, 'serial': 'abc123', 'size_bytes': 2097152 * 512, 'vendor': 'LIO-ORG', 'model': 'lun1',
        'revision': '4.0', 'multipath': None, 'holders': [], 'partitions': [], 'mountpoints': [],
        'session_id': 1, 'target': IQN, 'portal': '10.10.1.1:3260', 'state': 'running',
    }
    assert devices[0].wwid == 'naa.6001405ffff'
    assert devices[0].size_bytes == 204800 * 512


def test_session_devices_only_that_session(fake):
    fake.add_session(1, 2)
    fake.add_session(2, 3, address='10.10.2.1')
    fake.add_disk(1, 2, 0, 'sda')
    fake.add_disk(2, 3, 0, 'sdb', portal='10.10.2.1:3260')
    fake.add_disk(None, 0, 0, 'vda')
    assert [d.name for d in _devices.session_devices(2, **fake.kwargs())] == ['sdb']
    assert _devices.session_devices(7, **fake.kwargs()) == []


def test_multipath_holders_and_mountpoints(fake):
    fake.add_session(1, 2)
    fake.add_session(2, 3, address='10.10.2.1')
    fake.add_disk(1, 2, 0, 'sda', partitions=(1,))
    fake.add_disk(2, 3, 0, 'sdb', portal='10.10.2.1:3260')
    fake.add_dm('dm-0', 'mpatha', 'mpath-36001405a1b2', ['sda', 'sdb'])
    fake.add_dm('dm-1', 'vg-lv', 'LVM-abcdef', ['dm-0'])
    fake.mount(fake.majors['dm-1'], '/dev/mapper/vg-lv', '/srv/my\\040data')
    fake.mount('0:55', '/dev/sda1', '/boot/efi', fstype='vfat')
    fake.mount('8:99', '/dev/sdz', '/elsewhere')
    devices = _devices.find_devices(target=IQN.upper(), **fake.kwargs())
    assert [d.name for d in devices] == ['sda', 'sdb']
    sda, sdb = devices
    assert sda.holders == ['dm-0', 'dm-1']
    assert sda.partitions == ['sda1']
    assert sda.multipath == '/dev/mapper/mpatha'
    assert sda.mountpoints == ['/srv/my data', '/boot/efi']
    assert sdb.mountpoints == ['/srv/my data']
    assert blockdev.upper_devices('dm-0', fake.sys, with_partitions=True) == ['dm-1']


def test_find_devices_filters_exactly(fake):
    fake.add_session(1, 2, target=IQN)
    fake.add_session(2, 3, target=IQN + '-b', address='fd5a:1::1')
    fake.add_disk(1, 2, 0, 'sda')
    fake.add_disk(1, 2, 3, 'sdb', wwid='naa.6001405000000000000000000000000b', serial='SER-B')
    fake.add_disk(2, 3, 0, 'sdc', target=IQN + '-b', portal='[fd5a:1::1]:3260')
    kwargs = fake.kwargs()
    # the target is never matched as a prefix of another one
    assert [d.name for d in _devices.find_devices(target=IQN, **kwargs)] == ['sda', 'sdb']
    assert [d.name for d in _devices.find_devices(portal='[fd5a:0001::1]:3260', **kwargs)] == ['sdc']
    assert _devices.find_devices(portal='[fd5a:1::1]:3261', **kwargs) == []
    assert [d.name for d in _devices.find_devices(target=IQN, lun=3, **kwargs)] == ['sdb']
    assert [d.name for d in _devices.find_devices(wwid='NAA.6001405000000000000000000000000B', **kwargs)] == ['sdb']
    assert [d.name for d in _devices.find_devices(serial='SER-B', **kwargs)] == ['sdb']
    assert _devices.find_devices(target=IQN, portal='10.10.2.1', **kwargs) == []
    assert _devices.find_devices(target=IQN + '-b', **kwargs)[0].portal == '[fd5a:1::1]:3260'


def test_find_devices_wwid_covers_non_iscsi_disks_but_target_does_not(fake):
    fake.add_disk(None, 0, 0, 'sdx', wwid='naa.1111')
    assert [d.name for d in _devices.find_devices(wwid='naa.1111', **fake.kwargs())] == ['sdx']
    assert _devices.find_devices(target=IQN, **fake.kwargs()) == []


def test_mountpoints_by_source_when_no_sysfs_entry(fake):
    fake.mount('0:40', '/dev/sdq', '/mnt/btrfs', fstype='btrfs')
    assert mountpoints_of_devices(['sdq'], fake.mountinfo, fake.sys) == ['/mnt/btrfs']
    assert mountpoints_of_devices(['sdq1'], fake.mountinfo, fake.sys) == []


class Clock(object):
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_session_host_scan_and_delete(fake):
    fake.add_session(4, 7)
    fake.add_disk(4, 7, 0, 'sdc')
    assert _devices.session_host(4, fake.sys) == 7
    _devices.scan_session(4, fake.sys)
    with open(os.path.join(fake.sys, 'class/scsi_host/host7/scan')) as handle:
        assert handle.read() == '- - -'
    blockdev.delete_scsi_device('sdc', fake.sys)
    with open(os.path.join(fake.sys, 'bus/scsi/devices/7:0:0:0/delete')) as handle:
        assert handle.read() == '1'
    assert _devices.session_host(5, fake.sys) is None
    with pytest.raises(OSError):
        _devices.scan_session(5, fake.sys)


def test_multipathd_running_and_swaps(tmp_path):
    (tmp_path / '1').mkdir()
    (tmp_path / '1' / 'comm').write_text('systemd\n')
    assert blockdev.multipathd_running(str(tmp_path)) is False
    (tmp_path / '812').mkdir()
    (tmp_path / '812' / 'comm').write_text('multipathd\n')
    assert blockdev.multipathd_running(str(tmp_path)) is True
    swaps = tmp_path / 'swaps'
    swaps.write_text('Filename\tType\tSize\tUsed\tPriority\n/dev/sdb2   partition\t1024\t0\t-2\n'
                     '/swapfile  file\t1024\t0\t-3\n')
    assert blockdev.swap_devices(str(swaps)) == ['sdb2']


def test_wait_returns_as_soon_as_nothing_is_missing():
    clock = Clock()
    answers = iter([(['a'], ['LUN 1']), (['a'], ['LUN 1']), (['a', 'b'], [])])
    settles = []

    def settle(seconds):
        settles.append(seconds)
        clock.now += 0.01
    result = _devices.wait_for_devices(lambda: next(answers), 5, poll=0.05, settle=settle, clock=clock,
                                       sleep=clock.sleep)
    assert result == ['a', 'b']
    assert settles == [5]
    assert clock.sleeps == [0.05]


def test_wait_backs_off_and_times_out_naming_what_is_missing():
    clock = Clock()
    with pytest.raises(_devices.DeviceWaitTimeout) as caught:
        _devices.wait_for_devices(lambda: (['sda'], ['LUN 2 of %s' % IQN]), 1, poll=0.1, clock=clock,
                                  sleep=clock.sleep)
    assert caught.value.missing == ['LUN 2 of %s' % IQN]
    assert caught.value.devices == ['sda']
    assert 'LUN 2 of %s' % IQN in str(caught.value)
    assert clock.sleeps[:3] == [0.1, 0.2, 0.4]
    assert max(clock.sleeps) <= _devices.MAX_POLL
    assert abs(sum(clock.sleeps) - 1.0) < 1e-9


def test_wait_rejects_non_positive_timeout():
    with pytest.raises(ValueError):
        _devices.wait_for_devices(lambda: ([], []), 0)


class FakeModule(object):
    def __init__(self, udevadm='/usr/bin/udevadm'):
        self.binaries = {'udevadm': udevadm, 'timeout': '/usr/bin/timeout'}
        self.commands = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.binaries.get(name)

    def run_command(self, args, environ_update=None):
        self.commands.append((args, environ_update))
        return 0, '', ''


def test_udev_settler_runs_bounded_settle_with_c_locale():
    module = FakeModule()
    settle = blockdev.udev_settler(Runner(module), timeout_cap=5)
    settle(3.2)
    settle(500)
    settle(0.2)
    c_locale = {'LC_ALL': 'C', 'LANG': 'C'}
    assert module.commands == [
        (['/usr/bin/timeout', '-k', '5', '9', '/usr/bin/udevadm', 'settle', '--timeout=4'], c_locale),
        (['/usr/bin/timeout', '-k', '5', '10', '/usr/bin/udevadm', 'settle', '--timeout=5'], c_locale),
        (['/usr/bin/timeout', '-k', '5', '6', '/usr/bin/udevadm', 'settle', '--timeout=1'], c_locale),
    ]
    blockdev.udev_settler(Runner(module))(500)
    assert module.commands[-1][0][-1] == '--timeout=%d' % blockdev.SETTLE_SLICE
    assert blockdev.udev_settler(Runner(FakeModule(udevadm=None))) is None


def test_lun_device_rejects_unknown_fields():
    with pytest.raises(TypeError):
        _devices.LunDevice(name='sda', colour='red')


def test_links_skip_udev_temp_links_and_links_that_vanish_while_read(fake, monkeypatch):
    # udev replaces a link by renaming '.#NAME<id>' over it; a scan can see either, or lose one mid-read.
    fake.add_session(1, 2)
    fake.add_disk(1, 2, 1, 'sdb')
    by_path = os.path.join(fake.dev, 'disk/by-path')
    fake.link(os.path.join(by_path, '.#ip-10.10.1.1:3260-iscsi-%s-lun-178d628f4c35badf96' % IQN),
              os.path.join(fake.dev, 'sdb'))
    vanishing = os.path.join(by_path, 'ip-10.10.2.1:3260-iscsi-%s-lun-1' % IQN)
    fake.link(vanishing, os.path.join(fake.dev, 'sdb'))
    realpath = os.path.realpath

    def realpath_losing_one_link(path, *args, **kwargs):
        if path == vanishing:
            raise FileNotFoundError(2, 'No such file or directory', path)
        return realpath(path, *args, **kwargs)

    monkeypatch.setattr(_devices.os.path, 'realpath', realpath_losing_one_link)
    devices = _devices.session_devices(1, **fake.kwargs())
    assert [d.by_path for d in devices] == [[os.path.join(by_path, 'ip-10.10.1.1:3260-iscsi-%s-lun-1' % IQN)]]


def test_udev_processed_iscsi_disk_reads_the_database_not_the_link(fake):
    fake.add_session(2, 3)
    fake.add_session(3, 4)
    fake.add_disk(2, 3, 1, 'sdc')
    fake.add_disk(3, 4, 1, 'sdd')  # same portal, target and LUN: the by-path link stays with sdc
    fake.add_disk(3, 4, 2, 'sde', udev=False)
    first, second, unprocessed = _devices.session_devices(2, **fake.kwargs()) + _devices.session_devices(
        3, **fake.kwargs())
    assert (first.by_path != [], second.by_path) == (True, [])
    assert [_devices.udev_processed_iscsi_disk(device, fake.sys, fake.udev_db)
            for device in (first, second, unprocessed)] == [True, True, False]
    assert blockdev.udev_links('sdd', fake.sys, fake.udev_db) == [
        'disk/by-path/ip-10.10.1.1:3260-iscsi-%s-lun-1' % IQN, 'disk/by-id/wwn-0x%s' % WWID[4:]]


def test_a_stale_udev_entry_of_another_lun_with_the_same_numbers_does_not_count(fake):
    fake.add_session(2, 3)
    fake.add_disk(2, 3, 1, 'sdc', udev=False)
    fake.udev_entry('sdc', ['S:disk/by-path/ip-10.10.1.1:3260-iscsi-%s-lun-7' % IQN,
                            'S:disk/by-path/ip-10.10.1.1:3260-iscsi-%s0-lun-1' % IQN])
    device, = _devices.session_devices(2, **fake.kwargs())
    assert _devices.udev_processed_iscsi_disk(device, fake.sys, fake.udev_db) is False


@pytest.mark.parametrize('lun, suffix', [
    (0, '-iscsi-%s-lun-0' % IQN),
    (255, '-iscsi-%s-lun-255' % IQN),
    (256, '-iscsi-%s-lun-0x0100000000000000' % IQN),
    (0x10002, '-iscsi-%s-lun-0x0002000100000000' % IQN),
])
def test_iscsi_path_suffix_follows_path_id(lun, suffix):
    assert _devices.iscsi_path_suffix(IQN, lun) == suffix
