# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode predicts the real run with provider lio: igroup, lun, lun_map and snapshot run in check mode
and for real against the same fake LIO/LVM (the fakes of test_san_lio); input the LIO backend refuses fails
in both with the same message, and neither changes anything."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.san.iscsi.plugins.module_utils import _san_lio
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import SanError
from ansible_collections.san.iscsi.plugins.modules import igroup, lun, lun_map, snapshot
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_lio import (
    HOST1, HOST2, IQN, MIB, FakeCommands, FakeLio, FakeModule, Namespace, count_saves)

BINARIES = {'timeout': '/usr/bin/timeout', 'lvm': '/sbin/lvm', 'cp': '/bin/cp'}


class Lab(object):
    """Fake LIO + LVM seams shared by a setup backend and the modules under test."""

    def __init__(self, monkeypatch, tmp_path):
        self.lio = FakeLio()
        self.commands = FakeCommands()
        self.tmp_path = tmp_path
        monkeypatch.setattr(_san_lio, 'rtslib_fb', Namespace(self.lio))
        lock_dir = tmp_path / 'lock'
        lock_dir.mkdir()
        monkeypatch.setattr(_san_lio, 'LOCK_DIRS', (str(lock_dir),))
        commands = self.commands
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', lambda module, argv, **kwargs: commands(argv, **kwargs))
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path',
                            lambda module, name, required=False, opt_dirs=None: BINARIES[name])
        self.files = tmp_path / 'luns'
        self.files.mkdir()
        self.connection = dict(provider='lio', target=IQN, portals=['10.10.1.1'],
                               save_file=str(tmp_path / 'etc' / 'saveconfig.json'))
        self.backend = _san_lio.LioBackend(FakeModule(dict(self.connection, tpg=1), self.commands))

    def state(self):
        """Everything a write would change: LIO objects, LVs, data files."""
        return (_san_lio.rtslib_fb.RTSRoot().dump(), copy.deepcopy(self.commands.vgs), sorted(os.listdir(str(self.files))))

    def writes(self):
        return [argv for argv in self.commands.calls if argv[5] != 'lvs']


@pytest.fixture
def lab(monkeypatch, tmp_path):
    lab = Lab(monkeypatch, tmp_path)
    backend = lab.backend
    backend.create_lun('labvg/pool', 'lio_a', 64 * MIB, 'linux')
    backend.create_lun('labvg/pool', 'lio_b', 64 * MIB, 'linux')
    backend.create_lun(str(lab.files), 'lio_f', MIB, 'linux')
    backend.create_snapshot('labvg/pool', 'lio_s', 'lio_a')
    backend.create_igroup('mapped', 'iscsi', 'linux', [HOST1, HOST2])
    backend.create_lun_map('labvg/pool/lio_a', 'mapped', 0)
    backend.create_lun_map('labvg/pool/lio_b', 'mapped', 1)
    backend.create_igroup('plain', 'iscsi', 'linux', ['iqn.2026-11.lab.san-iscsi:plain'])
    del lab.commands.calls[:]
    return lab


def check_and_real_fail_alike(lab, run_module, module, args):
    """Return the message after asserting that check mode and the real run fail with it, changing nothing."""
    before = lab.state()
    with pytest.raises(ModuleFailed) as checked:
        run_module(module, dict(lab.connection, **args), check_mode=True)
    with pytest.raises(ModuleFailed) as real:
        run_module(module, dict(lab.connection, **args))
    assert checked.value.result['msg'] == real.value.result['msg']
    assert lab.state() == before
    assert lab.writes() == []
    return real.value.result['msg']


NEW_IGROUP = dict(name='new', initiators=['iqn.2026-11.lab.san-iscsi:new'])


@pytest.mark.parametrize('args, message', [
    (dict(NEW_IGROUP, initiators=[]), "igroup 'new' has no initiators: a LIO igroup is a set of node ACLs"),
    (dict(NEW_IGROUP, initiators_mode='remove'), "igroup 'new' has no initiators"),
    (dict(NEW_IGROUP, protocol='fcp'), "LIO igroups support protocol iscsi only, not 'fcp'"),
    (dict(NEW_IGROUP, os_type='windows'), "LIO igroups have no os_type: omit os_type or use linux, not 'windows'"),
    (dict(NEW_IGROUP, name='bad name'), "igroup name 'bad name' is not valid on LIO"),
    (dict(NEW_IGROUP, initiators=[HOST1.upper().replace('IQN', 'iqn')]),
     'initiator(s) already have an ACL in %s TPG 1: %s (igroup mapped)' % (IQN, HOST1)),
    (dict(name='plain', initiators=[], initiators_mode='replace'),
     "removing iqn.2026-11.lab.san-iscsi:plain would leave igroup 'plain' empty"),
    (dict(name='plain', initiators=['iqn.2026-11.lab.san-iscsi:plain'], initiators_mode='remove'),
     "removing iqn.2026-11.lab.san-iscsi:plain would leave igroup 'plain' empty"),
    (dict(name='plain', os_type='windows'), "not 'windows'"),
    (dict(name='plain', initiators=[HOST2], initiators_mode='add'), '%s (igroup mapped)' % HOST2),
])
def test_igroup_refusals(lab, run_module, args, message):
    assert message in check_and_real_fail_alike(lab, run_module, igroup, args)


@pytest.mark.parametrize('args', [
    dict(name='mapped', initiators=[HOST2], initiators_mode='remove'),
    dict(name='mapped', initiators=[HOST1], initiators_mode='replace'),
])
def test_removing_initiators_of_a_mapped_igroup_needs_force(lab, run_module, args):
    assert check_and_real_fail_alike(lab, run_module, igroup, args) == (
        "refusing to remove initiator(s) %s from igroup 'mapped': it is mapped to labvg/pool/lio_a (LUN 0), "
        "labvg/pool/lio_b (LUN 1) and those hosts would lose access to them; unmap first or set force=true" % HOST2)


def test_forced_removal_from_a_mapped_igroup(lab, run_module):
    args = dict(lab.connection, name='mapped', initiators=[HOST2], initiators_mode='remove', force=True)
    checked = run_module(igroup, args, check_mode=True)
    result = run_module(igroup, args)
    assert checked['changed'] is result['changed'] is True
    assert checked['igroup']['initiators'] == result['igroup']['initiators'] == [HOST1]
    assert result['igroup']['maps'] == [dict(path='labvg/pool/lio_a', lun_id=0), dict(path='labvg/pool/lio_b', lun_id=1)]
    assert sorted(lab.lio.targets[IQN].tpg_map[1].acl_map) == sorted([HOST1, 'iqn.2026-11.lab.san-iscsi:plain'])


def test_snapshot_refusals(lab, run_module):
    assert check_and_real_fail_alike(lab, run_module, snapshot, dict(volume='labvg/pool', name='lio_t')) == (
        'lun is required to create a snapshot on LIO: a snapshot copies one LUN')
    assert check_and_real_fail_alike(lab, run_module, snapshot, dict(volume='labvg/pool', name='lio_b',
                                                                     lun='lio_a')) == (
        'logical volume labvg/lio_b exists already')


@pytest.mark.parametrize('args, message', [
    (dict(volume='labvg/pool', name='lio_n', size='1M', os_type='two words'),
     "os_type 'two words' is not valid: use letters, digits and + _ . -"),
    (dict(volume='labvg/pool', name='lio_f', size='1M'),
     "a LIO backstore named 'lio_f' exists already"),
    (dict(volume='labvg/pool', name='lio_c', clone_from=dict(volume='labvg/pool', snapshot='lio_s', lun='lio_b')),
     "snapshot 'lio_s' of volume 'labvg/pool' holds LUN 'lio_a', not 'lio_b'"),
    (dict(volume='FILES', name='lio_c', clone_from=dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a')),
     'LIO clones live in the volume of their snapshot'),
    (dict(volume='FILES', name='lio_f', size='16M'), 'LIO cannot grow a fileio backstore'),
])
def test_lun_refusals(lab, run_module, args, message):
    if args['volume'] == 'FILES':
        args = dict(args, volume=str(lab.files))
    assert message in check_and_real_fail_alike(lab, run_module, lun, args)


def test_remap_to_a_used_id_keeps_the_map(lab, run_module):
    """Remapping unmaps first: the id must be checked before, or the LUN would end up unmapped."""
    args = dict(path='labvg/pool/lio_b', igroup='mapped', lun_id=0, remap=True)
    message = check_and_real_fail_alike(lab, run_module, lun_map, args)
    assert message == "LUN id 0 is already used in igroup 'mapped' by labvg/pool/lio_a"
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'mapped')['lun_id'] == 1


def predicted_then_saved_once(lab, run_module, monkeypatch, args):
    """lun_map ARGS in check mode (changing nothing), then for real (saving the LIO configuration once):
    both results."""
    before = lab.state()
    predicted = run_module(lun_map, args, check_mode=True)
    assert lab.state() == before
    saves = count_saves(monkeypatch)
    moved = run_module(lun_map, args)
    assert len(saves) == 1
    return predicted, moved


def test_unmap_from_moves_a_lun_to_another_igroup_in_one_call(lab, run_module, monkeypatch):
    """The move lvm_migrate makes: unmapped from the old host's igroup, then mapped to the new one, same id
    (the configuration saved once, with both changes)."""
    args = dict(lab.connection, path='labvg/pool/lio_b', igroup='plain', lun_id=1, unmap_from=['mapped', 'nosuch'])
    predicted, moved = predicted_then_saved_once(lab, run_module, monkeypatch, args)
    for result in (predicted, moved):
        assert result['changed'] is True and result['unmapped'] == ['mapped'] and result['lun_id'] == 1
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'mapped') is None
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'plain')['lun_id'] == 1
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'mapped')['lun_id'] == 0  # the other LUN stays
    again = run_module(lun_map, args)
    assert again['changed'] is False and again['unmapped'] == []


def test_unmap_from_on_a_lun_mapped_to_both_unmaps_the_old_one(lab, run_module):
    lab.backend.create_lun_map('labvg/pool/lio_a', 'plain', 0)
    result = run_module(lun_map, dict(lab.connection, path='labvg/pool/lio_a', igroup='plain', unmap_from=['mapped']))
    assert result['changed'] is True and result['unmapped'] == ['mapped'] and result['lun_id'] == 0
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'mapped') is None


@pytest.mark.parametrize('args, message', [
    (dict(path='labvg/pool/lio_b', igroup='plain', lun_id=0, unmap_from=['plain']), 'unmap_from lists igroup'),
    (dict(path='labvg/pool/lio_b', igroup='nosuch', unmap_from=['mapped']), "igroup 'nosuch' does not exist"),
])
def test_unmap_from_checks_everything_before_the_first_unmap(lab, run_module, args, message):
    assert message in check_and_real_fail_alike(lab, run_module, lun_map, args)
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'mapped')['lun_id'] == 1


def test_unmap_from_with_a_used_id_keeps_the_old_map(lab, run_module):
    lab.backend.create_lun_map('labvg/pool/lio_a', 'plain', 1)
    args = dict(path='labvg/pool/lio_b', igroup='plain', lun_id=1, unmap_from=['mapped'])
    assert 'LUN id 1 is already used' in check_and_real_fail_alike(lab, run_module, lun_map, args)
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'mapped')['lun_id'] == 1


def test_a_map_failing_after_the_unmap_says_what_was_unmapped(lab, run_module, monkeypatch):
    def refuse(backend, path, igroup, lun_id=None):
        raise SanError('the array refused the map', 'map_failed')

    monkeypatch.setattr(_san_lio.LioBackend, 'create_lun_map', refuse)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict(lab.connection, path='labvg/pool/lio_b', igroup='plain', lun_id=1,
                                 unmap_from=['mapped']))
    result = failed.value.result
    assert (result['error_code'], result['unmapped'], result['changed']) == ('map_failed', ['mapped'], True)
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'mapped') is None


def test_a_failure_before_any_unmap_reports_no_change(lab, run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict(lab.connection, path='labvg/pool/nosuch', igroup='plain', unmap_from=['mapped']))
    assert 'unmapped' not in failed.value.result and not failed.value.result.get('changed')


# --- several LUNs in one call (luns) ---------------------------------------------------------------------------

BOTH = [dict(path='labvg/pool/lio_a', lun_id=0), dict(path='labvg/pool/lio_b', lun_id=1)]


def test_luns_move_every_lun_in_one_call_with_one_save(lab, run_module, monkeypatch):
    """lvm_migrate's move of a VG's LUNs: each unmapped from the old igroup and mapped to the new one with its id,
    predicted alike in check mode; LIO saves its configuration once for all of them."""
    args = dict(lab.connection, igroup='plain', unmap_from=['mapped'], luns=BOTH)
    predicted, moved = predicted_then_saved_once(lab, run_module, monkeypatch, args)
    for result in (predicted, moved):
        assert result['changed'] is True and (result['map'], result['lun_id'], result['unmapped']) == (None, None, [])
        assert [(item['path'], item['changed'], item['lun_id'], item['unmapped']) for item in result['maps']] == [
            ('labvg/pool/lio_a', True, 0, ['mapped']), ('labvg/pool/lio_b', True, 1, ['mapped'])]
    assert moved['maps'][1]['map']['igroup'] == 'plain'
    for path, lun_id in (('labvg/pool/lio_a', 0), ('labvg/pool/lio_b', 1)):
        assert lab.backend.get_lun_map(path, 'mapped') is None
        assert lab.backend.get_lun_map(path, 'plain')['lun_id'] == lun_id
    again = run_module(lun_map, args)
    assert again['changed'] is False and [item['changed'] for item in again['maps']] == [False, False]


def test_luns_each_with_its_own_unmap_from(lab, run_module):
    lab.backend.create_igroup('third', 'iscsi', 'linux', ['iqn.2026-11.lab.san-iscsi:third'])
    lab.backend.delete_lun_map('labvg/pool/lio_b', 'mapped')
    lab.backend.create_lun_map('labvg/pool/lio_b', 'third', 1)
    luns = [dict(BOTH[0]), dict(BOTH[1], unmap_from=['third'])]
    result = run_module(lun_map, dict(lab.connection, igroup='plain', unmap_from=['mapped'], luns=luns))
    assert [item['unmapped'] for item in result['maps']] == [['mapped'], ['third']]
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'third') is None


def test_luns_are_all_checked_before_the_first_change(lab, run_module):
    """The second LUN's id is taken in the igroup: the first LUN is not moved either (check mode says the same)."""
    lab.backend.create_lun('labvg/pool', 'lio_c', 64 * MIB, 'linux')
    lab.backend.create_lun_map('labvg/pool/lio_c', 'plain', 1)
    del lab.commands.calls[:]
    args = dict(igroup='plain', unmap_from=['mapped'], luns=BOTH)
    assert 'LUN id 1 is already used' in check_and_real_fail_alike(lab, run_module, lun_map, args)
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'mapped')['lun_id'] == 0


@pytest.mark.parametrize('luns, message', [
    ([dict(path='labvg/pool/lio_a', lun_id=0), dict(path='labvg/pool/lio_a', lun_id=1)],
     'luns: labvg/pool/lio_a given more than once'),
    ([dict(path='labvg/pool/lio_a', lun_id=2), dict(path='labvg/pool/lio_b', lun_id=2)],
     'luns: LUN id 2 given to more than one LUN'),
    ([dict(path='labvg/pool/lio_a', lun_id=0), dict(path='labvg/pool/lio_b', lun_id=1, unmap_from=['plain'])],
     'unmap_from lists igroup'),
])
def test_luns_given_wrong_fail_before_any_change(lab, run_module, luns, message):
    assert message in check_and_real_fail_alike(lab, run_module, lun_map, dict(igroup='plain', luns=luns))


@pytest.mark.parametrize('extra', [dict(path='labvg/pool/lio_a'), dict(lun_id=3), dict(luns=[])])
def test_luns_do_not_mix_with_one_luns_options(lab, run_module, extra):
    params = dict(lab.connection, igroup='plain', luns=BOTH)
    params.update(extra)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, params)
    assert 'luns' in failed.value.result['msg']
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'mapped')['lun_id'] == 0


def test_a_failure_part_way_says_which_luns_were_moved(lab, run_module, monkeypatch):
    """The second LUN's map fails after its unmap: the first LUN is moved, the second is mapped nowhere, and the
    failed result's maps say both."""
    real = _san_lio.LioBackend.create_lun_map

    def refuse_the_second(backend, path, igroup, lun_id=None):
        if path == 'labvg/pool/lio_b':
            raise SanError('the array refused the map', 'map_failed')
        return real(backend, path, igroup, lun_id)

    monkeypatch.setattr(_san_lio.LioBackend, 'create_lun_map', refuse_the_second)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict(lab.connection, igroup='plain', unmap_from=['mapped'], luns=BOTH))
    result = failed.value.result
    assert (result['error_code'], result['changed']) == ('map_failed', True)
    assert [(item['path'], item['changed'], item['lun_id'], item['unmapped']) for item in result['maps']] == [
        ('labvg/pool/lio_a', True, 0, ['mapped']), ('labvg/pool/lio_b', True, None, ['mapped'])]
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'plain')['lun_id'] == 0
    assert lab.backend.get_lun_map('labvg/pool/lio_b', 'mapped') is None


def test_luns_absent_unmaps_each(lab, run_module):
    result = run_module(lun_map, dict(lab.connection, igroup='mapped', state='absent', luns=[
        dict(path='labvg/pool/lio_a'), dict(path='labvg/pool/lio_b'), dict(path='labvg/pool/lio_s')]))
    assert [(item['path'], item['changed']) for item in result['maps']] == [
        ('labvg/pool/lio_a', True), ('labvg/pool/lio_b', True), ('labvg/pool/lio_s', False)]
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'mapped') is None
