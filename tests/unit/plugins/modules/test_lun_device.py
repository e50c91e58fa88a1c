# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lun_device on a fake sysfs: removing exactly the disks of the LUNs asked for, refusing LUNs in use, and
rescanning for LUNs mapped after the login."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.modules import lun_device
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_devices import IQN, FakeSysfs

WWID_A = 'naa.6001405aaaaaaaaaaaaaaaaaaaaaaaaaa'
WWID_B = 'naa.6001405bbbbbbbbbbbbbbbbbbbbbbbbbb'
OTHER_IQN = 'iqn.2026-11.lab.san-iscsi:other'


@pytest.fixture
def fs(tmpdir, monkeypatch):
    fake = FakeSysfs(tmpdir)
    fake.proc = str(tmpdir.join('proc').ensure(dir=True))
    with open(os.path.join(fake.proc, 'swaps'), 'w') as handle:
        handle.write('Filename\tType\tSize\tUsed\tPriority\n')
    fake.commands = []

    def run_command(module, argv, **kwargs):
        fake.commands.append(argv)
        return 0, '', ''
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    # the fake /dev has plain files: flushing their buffers is the kernel's business, not the test's
    monkeypatch.setattr(blockdev, 'flush_device', lambda path: None)
    fake.add_session(1, 2)
    fake.add_session(2, 3, address='10.10.2.1')
    fake.add_disk(1, 2, 0, 'sda', wwid=WWID_A)
    fake.add_disk(2, 3, 0, 'sdb', wwid=WWID_A, portal='10.10.2.1:3260')
    fake.add_disk(1, 2, 1, 'sdc', wwid=WWID_B)
    return fake


@pytest.fixture
def run_module(run_module, fs):
    paths = HostPaths(sysfs=fs.sys, dev=fs.dev, proc=fs.proc, mountinfo=fs.mountinfo, udev_db=fs.udev_db)
    return functools.partial(run_module, paths=paths)


def deleted(fs, name):
    path = os.path.join(fs.sys, 'class', 'block', name, 'device', 'delete')
    return os.path.exists(path) and open(path).read() == '1'


def failure(run_module, **params):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_device, params)
    return failed.value.result


def test_absent_deletes_every_path_of_exactly_the_luns_asked_for(fs, run_module):
    result = run_module(lun_device, dict(wwids=[WWID_A.upper()], state='absent'))
    assert result['changed'] is True
    assert result['removed'] == [os.path.join(fs.dev, 'sda'), os.path.join(fs.dev, 'sdb')]
    assert deleted(fs, 'sda') and deleted(fs, 'sdb') and not deleted(fs, 'sdc')


def test_absent_in_check_mode_deletes_nothing(fs, run_module):
    result = run_module(lun_device, dict(wwids=[WWID_A, WWID_B], state='absent'), check_mode=True)
    assert result['changed'] is True and len(result['removed']) == 3
    assert not any(deleted(fs, name) for name in ('sda', 'sdb', 'sdc'))


def test_absent_without_disks_is_unchanged(fs, run_module):
    result = run_module(lun_device, dict(wwids=['naa.6001405cccccccccccccccccccccccccc'], state='absent'))
    assert result['changed'] is False and result['removed'] == []
    assert result['luns'] == [{'wwid': 'naa.6001405cccccccccccccccccccccccccc', 'devices': [], 'multipath': None}]


def test_a_mounted_lun_is_refused_and_nothing_is_removed(fs, run_module):
    fs.mount(fs.majors['sdc'], '/dev/sdc', '/srv/data')
    result = failure(run_module, wwids=[WWID_A, WWID_B], state='absent')
    assert result['error_code'] == 'devices_busy'
    assert '/srv/data' in result['msg'] and result['changed'] is False
    assert not any(deleted(fs, name) for name in ('sda', 'sdb', 'sdc'))


def test_a_lun_with_an_active_lv_on_its_multipath_map_is_refused(fs, run_module):
    fs.add_dm('dm-0', 'mpatha', 'mpath-3' + WWID_A[4:], ['sda', 'sdb'])
    fs.add_dm('dm-1', 'vg-lv', 'LVM-abcdef', ['dm-0'])
    result = failure(run_module, wwids=[WWID_A], state='absent')
    assert result['error_code'] == 'devices_busy' and 'vg-lv' in result['msg']
    assert fs.commands == []


def test_anything_else_stacked_on_a_lun_is_refused(fs, run_module):
    fs.add_dm('dm-0', 'secret', 'CRYPT-LUKS2-abc', ['sdc'])
    result = failure(run_module, wwids=[WWID_B], state='absent')
    assert result['error_code'] == 'devices_busy' and 'dm-0' in result['msg']


def test_an_idle_multipath_map_is_flushed_before_its_paths_are_deleted(fs, run_module, monkeypatch):
    fs.add_dm('dm-0', 'mpatha', 'mpath-3' + WWID_A[4:], ['sda', 'sdb'])
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                        lambda module, name, required=False, opt_dirs=None: '/sbin/%s' % name)
    result = run_module(lun_device, dict(wwids=[WWID_A], state='absent'))
    assert [argv[-2:] for argv in fs.commands] == [['-f', 'mpatha']]
    assert result['removed'] == [os.path.join(fs.dev, 'sda'), os.path.join(fs.dev, 'sdb')]


def test_a_disk_on_another_transport_is_refused(fs, run_module):
    fs.add_disk(None, 5, 0, 'sdd', wwid=WWID_B)
    result = failure(run_module, wwids=[WWID_B], state='absent')
    assert result['error_code'] == 'not_iscsi' and not deleted(fs, 'sdc')


def test_present_with_every_lun_there_changes_nothing(fs, run_module):
    result = run_module(lun_device, dict(wwids=[WWID_A, WWID_B], multipath='no'))
    assert result['changed'] is False and result['scanned'] == []
    assert [lun['devices'] for lun in result['luns']] == [[os.path.join(fs.dev, 'sda'), os.path.join(fs.dev, 'sdb')],
                                                          [os.path.join(fs.dev, 'sdc')]]


def test_present_rescans_only_the_targets_sessions_and_waits_for_the_new_lun(fs, run_module, monkeypatch):
    fs.add_session(3, 4, target=OTHER_IQN, address='10.10.1.1')
    wwid_new = 'naa.6001405dddddddddddddddddddddddddd'
    scans = []

    def scan(sid, sysfs_root):
        scans.append(sid)
        if len(scans) == 2:  # the kernel finds the LUN mapped after the login
            fs.add_disk(2, 3, 7, 'sde', wwid=wwid_new, portal='10.10.2.1:3260')
    monkeypatch.setattr(lun_device.devices, 'scan_session', scan)
    result = run_module(lun_device, dict(wwids=[wwid_new], multipath='no', target=IQN.upper()))
    assert scans == [1, 2] and result['scanned'] == [1, 2]
    assert result['changed'] is True and result['luns'][0]['devices'] == [os.path.join(fs.dev, 'sde')]


def test_present_times_out_naming_the_missing_lun(fs, run_module, monkeypatch):
    monkeypatch.setattr(lun_device.devices, 'scan_session', lambda sid, sysfs_root: None)
    result = failure(run_module, wwids=['naa.6001405eeeeeeeeeeeeeeeeeeeeeeeeee'], multipath='no', timeout=1)
    assert result['error_code'] == 'timeout'
    assert result['missing'] == ['a disk of LUN naa.6001405eeeeeeeeeeeeeeeeeeeeeeeeee']


def test_present_in_check_mode_scans_nothing(fs, run_module, monkeypatch):
    monkeypatch.setattr(lun_device.devices, 'scan_session', lambda sid, sysfs_root: pytest.fail('scanned'))
    result = run_module(lun_device, dict(wwids=['naa.6001405eeeeeeeeeeeeeeeeeeeeeeeeee'], multipath='no'),
                        check_mode=True)
    assert result['changed'] is True and result['scanned'] == [1, 2]
