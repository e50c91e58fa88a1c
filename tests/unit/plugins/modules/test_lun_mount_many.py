# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lun_mount's ``mounts``: several mount points in one call, on the fake host of test_lun_mount."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun_mount
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lun_mount import (  # noqa: F401 pylint: disable=unused-import
    EXT4, SAFE_EXT4, run_module, world)


def three_snapshot_disks(world):
    """sdb, sdc and sdd each hold ext4 (as the clones of three snapshots of one LUN do)."""
    for index, name in enumerate(('sdb', 'sdc', 'sdd')):
        world.sysfs.add(name, '8:%d' % (16 * (index + 1)))
    world.reply(['blkid'], (0, EXT4, ''))
    world.reply(['blockdev', '--setro'], world.on_setro)
    world.reply(['mount'], world.on_mount)
    world.reply(['umount'], world.on_umount)
    return [dict(path=os.path.join(world.mnt, name), device=world.dev(name)) for name in ('sdb', 'sdc', 'sdd')]


def mounted_points(world):
    with open(world.mountinfo) as handle:
        return [line.split()[4] for line in handle][1:]


def test_three_snapshots_mount_in_one_call_each_as_its_own_call_would(world, run_module):
    entries = three_snapshot_disks(world)
    result = run_module(lun_mount, dict(mounts=entries, snapshot=True, fstab=world.fstab))
    assert result['changed'] is True
    assert [entry['mountpoint'] for entry in result['mounts']] == [entry['path'] for entry in entries]
    assert [entry['device'] for entry in result['mounts']] == [entry['device'] for entry in entries]
    assert all(entry['read_only'] and entry['options'] == SAFE_EXT4.split(',') for entry in result['mounts'])
    assert [argv for argv in world.tools() if argv[0] == 'mount'] == [
        ['mount', '-t', 'ext4', '-o', SAFE_EXT4, entry['device'], entry['path']] for entry in entries]
    assert mounted_points(world) == [entry['path'] for entry in entries]
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'
    assert 'mountpoint' not in result

    world.commands[:] = []
    again = run_module(lun_mount, dict(mounts=entries, snapshot=True, fstab=world.fstab))
    assert again['changed'] is False and [entry['changed'] for entry in again['mounts']] == [False] * 3
    assert [argv[0] for argv in world.tools()] == ['blkid'] * 3


def test_check_mode_predicts_every_mount_and_runs_nothing_but_probes(world, run_module):
    entries = three_snapshot_disks(world)
    result = run_module(lun_mount, dict(mounts=entries, snapshot=True, fstab=world.fstab), check_mode=True)
    assert result['changed'] is True and len(result['mounts']) == 3
    assert set(argv[0] for argv in world.tools()) == {'blkid'}
    assert mounted_points(world) == []


def test_a_mount_that_fails_stops_the_call_and_the_ones_before_it_are_reported(world, run_module):
    entries = three_snapshot_disks(world)
    entries[1] = dict(entries[1], device=os.path.join(world.sysfs.dev, 'nothere'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, dict(mounts=entries, snapshot=True, fstab=world.fstab))
    result = failed.value.result
    assert result['changed'] is True
    assert result['error_code'] == 'mount_refused'
    assert result['msg'] == '%s: %s is not a block device' % (entries[1]['path'], entries[1]['device'])
    assert [entry['mountpoint'] for entry in result['mounts']] == [entries[0]['path'], entries[1]['path']]
    assert result['mounts'][0]['changed'] is True and 'failed' not in result['mounts'][0]
    assert result['mounts'][1]['failed'] is True and result['mounts'][1]['error_code'] == 'mount_refused'
    assert mounted_points(world) == [entries[0]['path']]


def test_unmount_tries_every_entry_and_fails_at_the_end_naming_the_failed_one(world, run_module):
    entries = three_snapshot_disks(world)
    run_module(lun_mount, dict(mounts=entries, snapshot=True, fstab=world.fstab))
    world.commands[:] = []
    world.replies.insert(0, (['umount', entries[0]['path']], (32, '', 'umount: target is busy.')))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, dict(mounts=[dict(path=entry['path']) for entry in entries], state='unmounted'))
    result = failed.value.result
    assert [argv for argv in world.tools() if argv[0] == 'umount'] == [['umount', entry['path']] for entry in entries]
    assert mounted_points(world) == [entries[0]['path']]
    assert result['changed'] is True and result['rc'] == 32 and result['stderr'] == 'umount: target is busy.'
    assert result['error_code'] == 'command_failed'
    assert result['msg'].startswith(entries[0]['path'] + ': ')
    assert [entry.get('failed', False) for entry in result['mounts']] == [True, False, False]

    world.replies.pop(0)
    world.commands[:] = []
    done = run_module(lun_mount, dict(mounts=[dict(path=entry['path']) for entry in entries], state='unmounted'))
    assert [entry['changed'] for entry in done['mounts']] == [True, False, False]
    assert mounted_points(world) == []


@pytest.mark.parametrize('params, message', [
    (dict(mounts=[dict(path='/srv/a')]), 'mounts[0] (/srv/a) needs one of device, target, wwid or serial'),
    (dict(mounts=[dict(path='/srv/a', device='/dev/sdb')], device='/dev/sdc'), 'mutually exclusive'),
    (dict(mounts=[dict(path='/srv/a', device='/dev/sdb', wwid='naa.1')]), 'mutually exclusive'),
    (dict(mounts=[dict(path='/srv/a', lun=0)]), 'lun'),
    (dict(mounts=[dict(path='/srv/a', device='/dev/sdb')], path='/srv/b'), 'mutually exclusive'),
])
def test_bad_entries_are_refused_before_anything_runs(world, run_module, params, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, dict(params, fstab=world.fstab))
    assert message in failed.value.result['msg']
    assert world.commands == []


def test_without_path_or_mounts_the_module_says_which_it_needs(world, run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_mount, dict(state='unmounted', fstab=world.fstab))
    assert 'one of the following is required: path, mounts' in failed.value.result['msg']


def test_fstab_diffs_of_every_entry_come_as_a_list(world, run_module):
    entries = three_snapshot_disks(world)[:2]
    world.sysfs.link('by-id', 'wwn-0x6001405d3b6a1f0c2e4a4b8b9', 'sdb')
    world.sysfs.link('by-id', 'wwn-0x6001405d3b6a1f0c2e4a4b8c0', 'sdc')
    result = run_module(lun_mount, dict(mounts=entries, state='present', fstab=world.fstab), check_mode=True, diff=True)
    assert result['changed'] is True
    assert [diff['after'].splitlines()[-1].split()[1] for diff in result['diff']] == [entry['path'] for entry in entries]
    assert all('diff' not in entry for entry in result['mounts'])
    assert world.fstab_text() == 'UUID=1111 / ext4 errors=remount-ro 0 1\n'
