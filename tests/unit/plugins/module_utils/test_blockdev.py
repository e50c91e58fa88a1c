# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _command as command

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'lun_mount')
TIMEOUT = ['/usr/bin/timeout', '-k', '5']


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def tool(name, *args, **kwargs):
    """The argv Runner builds for NAME ARGS (timeout-wrapped, binaries in /sbin)."""
    return TIMEOUT + [str(kwargs.get('timeout', 60)), '/sbin/%s' % name] + [str(arg) for arg in args]


class FakeModule(object):
    """Stands in for AnsibleModule at the run_command seam: canned replies, every argv recorded.

    replies: list of (argv prefix without the timeout wrapper, (rc, stdout, stderr) or a callable(argv)).
    The first matching entry answers; an unexpected command fails the test.
    """

    def __init__(self, replies=None, missing=()):
        self.replies = list(replies or [])
        self.commands = []
        self.environ = []
        self.missing = set(missing)
        self.check_mode = False
        self._diff = False
        self.warnings = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        if name in self.missing:
            return None
        return '/usr/bin/timeout' if name == 'timeout' else '/sbin/%s' % name

    def run_command(self, argv, environ_update=None, **kwargs):
        self.commands.append(list(argv))
        self.environ.append(environ_update)
        tail = argv[4:] if argv[0] == '/usr/bin/timeout' else argv
        for prefix, reply in self.replies:
            if list(tail[:len(prefix)]) == list(prefix):
                return reply(argv) if callable(reply) else reply
        raise AssertionError('unexpected command: %r' % (argv,))

    def warn(self, msg):
        self.warnings.append(msg)


class FakeSys(object):
    """A /sys/class/block + /sys/dev/block + /sys/block tree and a /dev with nodes and links."""

    def __init__(self, root):
        self.sys = str(root.join('sys'))
        self.dev = str(root.join('dev'))
        os.makedirs(os.path.join(self.sys, 'class', 'block'))
        os.makedirs(os.path.join(self.sys, 'dev', 'block'))
        os.makedirs(os.path.join(self.sys, 'block'))
        os.makedirs(os.path.join(self.dev, 'mapper'))
        os.makedirs(os.path.join(self.sys, 'devices', 'virtual', 'block'))

    @staticmethod
    def write(path, text):
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with open(path, 'w') as handle:
            handle.write(text)

    def add(self, name, majmin, sectors=131072, parent=None, partition=None, dm_name=None, dm_uuid=None, ro=0,
            stat='0 0 0 0 0 0 0 0 0 0 0'):
        """A block device; partitions live inside their disk's directory, like the kernel's."""
        if parent:
            real = os.path.join(os.path.realpath(os.path.join(self.sys, 'class', 'block', parent)), name)
        else:
            real = os.path.join(self.sys, 'devices', 'virtual', 'block', name)
        os.makedirs(os.path.join(real, 'holders'))
        os.makedirs(os.path.join(real, 'slaves'))
        self.write(os.path.join(real, 'dev'), majmin + '\n')
        self.write(os.path.join(real, 'size'), '%d\n' % sectors)
        self.write(os.path.join(real, 'ro'), '%d\n' % ro)
        self.write(os.path.join(real, 'stat'), stat + '\n')
        if partition is not None:
            self.write(os.path.join(real, 'partition'), '%d\n' % partition)
        if dm_name:
            self.write(os.path.join(real, 'dm', 'name'), dm_name + '\n')
            self.write(os.path.join(real, 'dm', 'uuid'), (dm_uuid or '') + '\n')
            os.symlink(os.path.join('..', name), os.path.join(self.dev, 'mapper', dm_name))
        for link in (os.path.join(self.sys, 'class', 'block', name), os.path.join(self.sys, 'dev', 'block', majmin)):
            os.symlink(real, link)
        if not parent:
            os.symlink(real, os.path.join(self.sys, 'block', name))
        self.write(os.path.join(self.dev, name), '')
        return real

    def hold(self, lower, upper):
        """UPPER (a dm device) is built on LOWER."""
        os.symlink(os.path.join('..', '..', upper),
                   os.path.join(self.sys, 'class', 'block', lower, 'holders', upper))
        os.symlink(os.path.join('..', '..', lower),
                   os.path.join(self.sys, 'class', 'block', upper, 'slaves', lower))

    def link(self, kind, entry, name):
        directory = os.path.join(self.dev, 'disk', kind)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        os.symlink(os.path.join('..', '..', name), os.path.join(directory, entry))

    def set(self, name, attribute, value):
        self.write(os.path.join(self.sys, 'class', 'block', name, attribute), value + '\n')


@pytest.fixture
def fakesys(tmpdir):
    return FakeSys(tmpdir)


# --- probes ---------------------------------------------------------------------------------------------

def test_parse_blkid_export_unescapes_blanks():
    fields = blockdev.parse_blkid_export(fixture('blkid_ext4_label_space.txt'))
    assert fields['LABEL'] == 'my label'
    assert fields['TYPE'] == 'ext4'
    assert fields['USAGE'] == 'filesystem'


def test_parse_blkid_export_of_a_dirty_ext4():
    fields = blockdev.parse_blkid_export(fixture('blkid_ext4_dirty.txt'))
    assert (fields['TYPE'], fields['USAGE'], fields['LABEL']) == ('ext4', 'filesystem', 'wholefs')


def test_probe_reads_the_device_itself_not_the_cache():
    module = FakeModule([(['/sbin/blkid'], (0, fixture('blkid_xfs.txt'), ''))])
    fields = blockdev.probe(command.Runner(module), '/dev/sdb')
    assert module.commands == [tool('blkid', '-p', '-o', 'export', '/dev/sdb')]
    assert (fields['TYPE'], fields['UUID']) == ('xfs', '7ce76ef0-5503-4921-b8df-191c7342f731')


def test_probe_of_blank_device_is_empty():
    module = FakeModule([(['/sbin/blkid'], (2, '', ''))])
    assert blockdev.probe(command.Runner(module), '/dev/sdc') == {}


def test_probe_refuses_ambivalent_signatures():
    module = FakeModule([(['/sbin/blkid'], (8, '', 'ambivalent result (probably more filesystems on the device)'))])
    with pytest.raises(command.ToolError) as failed:
        blockdev.probe(command.Runner(module), '/dev/sdc')
    assert failed.value.rc == 8
    assert 'contradicting signatures' in failed.value.msg


def test_parse_partx_pairs_gpt_with_names():
    rows = blockdev.parse_partx_pairs(fixture('partx_gpt.txt'))
    assert [(row['nr'], row['start'], row['sectors'], row['name'], row['scheme']) for row in rows] == [
        (1, 2048, 32768, 'first', 'gpt'), (2, 34816, 65536, 'my data', 'gpt')]


def test_partitions_lists_the_on_disk_table():
    module = FakeModule([(['/sbin/partx'], (0, fixture('partx_dos.txt'), ''))])
    rows = blockdev.partitions(command.Runner(module), '/dev/sdb')
    assert module.commands == [tool('partx', '--pairs', '--output', 'NR,START,SECTORS,TYPE,UUID,NAME,SCHEME',
                                    '/dev/sdb')]
    assert [(row['nr'], row['type']) for row in rows] == [(1, '0x83'), (2, '0x8e')]


# --- sysfs --------------------------------------------------------------------------------------------

def test_partition_devices_of_a_disk_and_of_a_multipath_map(fakesys):
    fakesys.add('sdb', '8:16')
    fakesys.add('sdb1', '8:17', parent='sdb', partition=1)
    fakesys.add('sdb2', '8:18', parent='sdb', partition=2)
    fakesys.add('dm-0', '253:0', dm_name='mpatha', dm_uuid='mpath-36001405abc')
    fakesys.add('dm-1', '253:1', dm_name='mpatha-part1', dm_uuid='part1-mpath-36001405abc')
    fakesys.hold('dm-0', 'dm-1')
    assert blockdev.partition_devices('sdb', fakesys.sys) == {1: 'sdb1', 2: 'sdb2'}
    assert blockdev.partition_devices('dm-0', fakesys.sys) == {1: 'dm-1'}
    assert blockdev.whole_disk('sdb2', fakesys.sys) == 'sdb'
    assert blockdev.device_path('dm-1', fakesys.sys, '/dev') == '/dev/mapper/mpatha-part1'


def test_lower_devices_walks_slaves_and_partitions(fakesys):
    fakesys.add('sdc', '8:32')
    fakesys.add('sdc1', '8:33', parent='sdc', partition=1)
    fakesys.add('dm-2', '253:2', dm_name='ovl', dm_uuid='SANISCSI-OVL-ovl')
    fakesys.add('dm-3', '253:3', dm_name='vg_clone-data', dm_uuid='LVM-x')
    fakesys.hold('sdc1', 'dm-2')
    fakesys.hold('dm-2', 'dm-3')
    assert blockdev.lower_devices('dm-3', fakesys.sys) == ['dm-2', 'sdc1', 'sdc']
    assert blockdev.is_overlay('dm-2', fakesys.sys)
    assert not blockdev.is_overlay('dm-3', fakesys.sys)


def test_io_stat_and_read_only_flag(fakesys):
    fakesys.add('sdd', '8:48', ro=1, stat='1449 0 93048 1390 3 0 24 5 0 1316 1396 0 0 0 0')
    stat = blockdev.io_stat('sdd', fakesys.sys)
    assert (stat['read_sectors'], stat['write_ios'], stat['write_sectors']) == (93048, 3, 24)
    assert blockdev.is_read_only('sdd', fakesys.sys) is True
    assert blockdev.size_bytes('sdd', fakesys.sys) == 131072 * 512


def test_kernel_name_resolves_links(fakesys):
    fakesys.add('sde', '8:64')
    fakesys.link('by-id', 'wwn-0x6001405aaa', 'sde')
    assert blockdev.kernel_name(os.path.join(fakesys.dev, 'disk', 'by-id', 'wwn-0x6001405aaa'), fakesys.sys) == 'sde'
    assert blockdev.name_of_majmin('8:64', fakesys.sys) == 'sde'
    assert blockdev.name_of_majmin('8:80', fakesys.sys) is None


def test_stable_identifier_prefers_wwn_and_never_lvm_links(fakesys):
    fakesys.add('sdf', '8:80')
    fakesys.add('sdf1', '8:81', parent='sdf', partition=1)
    fakesys.link('by-id', 'lvm-pv-uuid-abc', 'sdf1')
    fakesys.link('by-id', 'scsi-36001405bbb-part1', 'sdf1')
    fakesys.link('by-id', 'wwn-0x6001405bbb-part1', 'sdf1')
    fakesys.link('by-path', 'ip-10.10.1.1:3260-iscsi-iqn.x-lun-0-part1', 'sdf1')
    assert blockdev.stable_identifier('sdf1', fakesys.dev) == os.path.join(fakesys.dev, 'disk', 'by-id',
                                                                           'wwn-0x6001405bbb-part1')
    fakesys.link('by-path', 'ip-10.10.1.1:3260-iscsi-iqn.x-lun-0', 'sdf')
    assert blockdev.stable_identifier('sdf', fakesys.dev) == os.path.join(
        fakesys.dev, 'disk', 'by-path', 'ip-10.10.1.1:3260-iscsi-iqn.x-lun-0')


def test_stable_identifier_never_a_udev_temp_link(fakesys):
    # udev creates '.#wwn-0x...<id>' and renames it over the link: never a name for fstab
    fakesys.add('sdg', '8:96')
    fakesys.link('by-id', '.#wwn-0x6001405ccc8e1f2a', 'sdg')
    fakesys.link('by-path', 'ip-10.10.1.1:3260-iscsi-iqn.x-lun-2', 'sdg')
    assert blockdev.stable_links('sdg', fakesys.dev)['by-id'] == []
    assert blockdev.stable_identifier('sdg', fakesys.dev) == os.path.join(
        fakesys.dev, 'disk', 'by-path', 'ip-10.10.1.1:3260-iscsi-iqn.x-lun-2')


# --- overlay ----------------------------------------------------------------------------------------------

def test_create_overlay_sends_writes_to_a_scratch_loop(fakesys, tmpdir):
    fakesys.add('sdc1', '8:33', sectors=2097152)
    overlay_dir = str(tmpdir.join('run'))
    module = FakeModule([(['/sbin/losetup', '--find'], (0, '/dev/loop7\n', '')),
                         (['/sbin/dmsetup', 'create'], (0, '', ''))])
    path = blockdev.create_overlay(command.Runner(module), os.path.join(fakesys.dev, 'sdc1'), 'san_iscsi_ovl_vg_c',
                                   overlay_dir=overlay_dir, sysfs_root=fakesys.sys)
    cow = os.path.join(overlay_dir, 'san_iscsi_ovl_vg_c.cow')
    assert path == '/dev/mapper/san_iscsi_ovl_vg_c'
    assert module.commands == [
        tool('losetup', '--find', '--show', cow),
        tool('dmsetup', 'create', 'san_iscsi_ovl_vg_c', '--uuid', 'SANISCSI-OVL-san_iscsi_ovl_vg_c',
             '--table', '0 2097152 snapshot 8:33 /dev/loop7 P 8'),
    ]
    assert os.path.getsize(cow) == blockdev.OVERLAY_COW_BYTES


def test_create_overlay_failure_detaches_the_loop(fakesys, tmpdir):
    fakesys.add('sdc', '8:32')
    overlay_dir = str(tmpdir.join('run'))
    cow = os.path.join(overlay_dir, 'ovl.cow')
    fakesys.add('loop7', '7:7')
    fakesys.write(os.path.join(fakesys.sys, 'block', 'loop7', 'loop', 'backing_file'), cow + '\n')
    module = FakeModule([(['/sbin/losetup', '--find'], (0, '/dev/loop7\n', '')),
                         (['/sbin/dmsetup', 'create'], (1, '', 'device-mapper: reload ioctl failed')),
                         (['/sbin/losetup', '--detach'], (0, '', ''))])
    with pytest.raises(command.ToolError):
        blockdev.create_overlay(command.Runner(module), os.path.join(fakesys.dev, 'sdc'), 'ovl',
                                overlay_dir=overlay_dir, sysfs_root=fakesys.sys)
    assert module.commands[-1] == tool('losetup', '--detach', '/dev/loop7')
    assert not os.path.exists(cow)


def test_remove_overlay_removes_map_loop_and_file(fakesys, tmpdir):
    overlay_dir = str(tmpdir.join('run'))
    os.makedirs(overlay_dir)
    cow = os.path.join(overlay_dir, 'ovl.cow')
    open(cow, 'w').close()
    fakesys.add('dm-4', '253:4', dm_name='ovl', dm_uuid='SANISCSI-OVL-ovl')
    fakesys.add('loop3', '7:3')
    fakesys.write(os.path.join(fakesys.sys, 'block', 'loop3', 'loop', 'backing_file'), cow + '\n')
    module = FakeModule([(['/sbin/dmsetup', 'remove'], (0, '', '')), (['/sbin/losetup', '--detach'], (0, '', ''))])
    blockdev.remove_overlay(command.Runner(module), 'ovl', overlay_dir=overlay_dir, sysfs_root=fakesys.sys)
    assert module.commands == [tool('dmsetup', 'remove', '--retry', 'ovl'), tool('losetup', '--detach', '/dev/loop3')]
    assert not os.path.exists(cow)


def test_reads_as_zeros_looks_at_the_first_and_last_span(tmp_path):
    disk = tmp_path / 'disk'
    disk.write_bytes(b'\0' * 10)
    assert blockdev.reads_as_zeros(str(disk), span=4)
    for data in (b'x' + b'\0' * 9, b'\0' * 9 + b'x'):
        disk.write_bytes(data)
        assert not blockdev.reads_as_zeros(str(disk), span=4)
    disk.write_bytes(b'\0' * 4 + b'xx' + b'\0' * 4)      # the middle is not read
    assert blockdev.reads_as_zeros(str(disk), span=4)
    disk.write_bytes(b'\0\0x')                           # shorter than a span
    assert not blockdev.reads_as_zeros(str(disk), span=4)


# `dmsetup table` of one multipath map on host2 (lab, multipath-tools 0.11): with both paths, then left without
# paths and queueing after a logout that flushed nothing, then after multipathd stopped queueing.
MPATH_TABLE_TWO_PATHS = '0 524288 multipath 1 queue_if_no_path 1 alua 1 1 service-time 0 2 1 8:16 1 8:48 1\n'
MPATH_TABLE_NO_PATH_QUEUEING = '0 524288 multipath 1 queue_if_no_path 0 0 0 \n'
MPATH_TABLE_NO_PATH_FAILING = '0 524288 multipath 0 0 0 0 \n'


def test_multipath_features_are_the_counted_words_after_the_target_type():
    assert blockdev.multipath_features(MPATH_TABLE_TWO_PATHS) == ['queue_if_no_path']
    assert blockdev.multipath_features(MPATH_TABLE_NO_PATH_FAILING) == []
    assert blockdev.multipath_features('0 2048 multipath 2 queue_if_no_path retain_attached_hw_handler 0 0 0') == [
        'queue_if_no_path', 'retain_attached_hw_handler']
    assert blockdev.multipath_features('0 2048 linear 8:16 0') == []


def test_queueing_maps_without_paths_reads_only_the_maps_without_paths(fakesys):
    fakesys.add('sdb', '8:16')
    fakesys.add('dm-0', '253:0', dm_name='mpatha', dm_uuid='mpath-3600140550004')  # a path: not read
    fakesys.hold('sdb', 'dm-0')
    fakesys.add('dm-1', '253:1', dm_name='mpathb', dm_uuid='mpath-36001405d78c0')  # no path, queueing
    fakesys.add('dm-2', '253:2', dm_name='mpathc', dm_uuid='mpath-36001405aaaa')  # no path, fails I/O
    fakesys.add('dm-3', '253:3', dm_name='vg-lv', dm_uuid='LVM-abc')  # not multipath
    module = FakeModule([(['/sbin/dmsetup', 'table', 'mpathb'], (0, MPATH_TABLE_NO_PATH_QUEUEING, '')),
                         (['/sbin/dmsetup', 'table', 'mpathc'], (0, MPATH_TABLE_NO_PATH_FAILING, ''))])
    assert blockdev.queueing_maps_without_paths(command.Runner(module), fakesys.sys) == ['mpathb']
    assert [argv[4:] for argv in module.commands] == [['/sbin/dmsetup', 'table', 'mpathb'],
                                                      ['/sbin/dmsetup', 'table', 'mpathc']]


def test_queueing_maps_without_paths_runs_nothing_on_a_host_without_such_maps(fakesys):
    fakesys.add('sdb', '8:16')
    fakesys.add('dm-0', '253:0', dm_name='mpatha', dm_uuid='mpath-3600140550004')
    fakesys.hold('sdb', 'dm-0')
    module = FakeModule([], missing=('dmsetup',))
    assert blockdev.queueing_maps_without_paths(command.Runner(module), fakesys.sys) == []
    fakesys.add('dm-1', '253:1', dm_name='mpathb', dm_uuid='mpath-36001405d78c0')
    assert blockdev.queueing_maps_without_paths(command.Runner(module), fakesys.sys) == []  # no dmsetup
    assert module.commands == []
