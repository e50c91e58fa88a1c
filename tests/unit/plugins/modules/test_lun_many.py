# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.lun luns: several LUNs cloned and mapped, or deleted (then prune_igroups once), in one call. Against the fake LIO/LVM
of the check-mode parity tests and the ONTAP emulator (REST and ZAPI)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lio_check_mode_parity import lab  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lun_map_initiators import delete_igroup_before_the_map
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lun_map_to import NEW, fresh
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_lio import count_saves

SNAPSHOT = dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a')


def two_clones_mapped_to_new(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    for name in ('lio_c1', 'lio_c2'):
        run_module(lun, dict(lab.connection, volume='labvg/pool', name=name, clone_from=SNAPSHOT,
                             map_to=dict(igroup='new', initiators=[NEW])))
    return [dict(volume='labvg/pool', name='lio_c1'), dict(path='labvg/pool/lio_c2')]


def test_lio_two_clones_and_their_igroup_deleted_in_one_call(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    entries = two_clones_mapped_to_new(lab, run_module)
    args = dict(lab.connection, luns=entries, state='absent', force=True, prune_igroups=['new'])
    before = lab.state()
    checked = run_module(lun, args, check_mode=True)
    assert (checked['changed'], checked['igroups_deleted'], checked['igroups_kept']) == (True, ['new'], [])
    assert [entry['path'] for entry in checked['luns']] == ['labvg/pool/lio_c1', 'labvg/pool/lio_c2']
    assert lab.state() == before

    result = run_module(lun, args)
    assert (result['changed'], result['igroups_deleted'], result['igroups_kept']) == (True, ['new'], [])
    assert result['luns'] == [
        dict(path='labvg/pool/lio_c1', changed=True, unmapped=[dict(igroup='new', lun_id=0)]),
        dict(path='labvg/pool/lio_c2', changed=True, unmapped=[dict(igroup='new', lun_id=1)])]
    assert fresh(lab).get_lun('labvg/pool', 'lio_c1') is None and fresh(lab).get_lun('labvg/pool', 'lio_c2') is None
    assert fresh(lab).get_igroup('new') is None
    assert fresh(lab).get_lun('labvg/pool', 'lio_a') is not None

    again = run_module(lun, args)
    assert (again['changed'], again['igroups_deleted']) == (False, [])
    assert [entry['changed'] for entry in again['luns']] == [False, False]


def test_lio_refused_entries_are_each_reported_and_a_mapped_igroup_is_kept(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    entries = two_clones_mapped_to_new(lab, run_module)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(lab.connection, luns=entries, state='absent', prune_igroups=['new']))
    result = failed.value.result
    assert result['error_code'] == 'conflict'
    assert result['msg'].startswith('labvg/pool/lio_c1: LUN labvg/pool/lio_c1 is mapped to igroup(s) new;')
    assert [(entry['path'], entry['changed'], entry.get('failed', False)) for entry in result['luns']] == [
        ('labvg/pool/lio_c1', False, True), ('labvg/pool/lio_c2', False, True)]
    assert fresh(lab).get_igroup('new') is not None

    gone = run_module(lun, dict(lab.connection, luns=entries[1:], state='absent', force=True, prune_igroups=['new']))
    assert (gone['changed'], gone['igroups_kept']) == (True, ['new'])
    assert fresh(lab).get_lun('labvg/pool', 'lio_c1') is not None and fresh(lab).get_lun('labvg/pool', 'lio_c2') is None


@pytest.mark.parametrize('args, message', [
    (dict(luns=[dict(volume='vol1', name='a', clone_from=dict(volume='vol1', snapshot='s1', lun='data01'))], state='absent'),
     'luns[].clone_from is only used with state=present and without size'),
    (dict(luns=[dict(volume='vol1', name='a')], clone_from=dict(volume='vol1', snapshot='s1', lun='data01')), 'mutually exclusive'),
    (dict(luns=[dict(name='a')], state='absent'), 'parameters are required together: name, volume'),
    (dict(luns=[dict(path='/vol/vol1/a', name='a', volume='vol1')], state='absent'), 'mutually exclusive'),
    (dict(luns=[dict(volume='vol1', name='a')], name='b', volume='vol1', state='absent'), 'mutually exclusive'),
    (dict(luns=[dict(volume='vol1', name='a'), dict(volume='vol1', name='b/c')], state='absent'), 'b/c'),
])
def test_bad_luns_fail_before_any_request(args, message, emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    ontap = Ontap(emulator, 'always')
    ontap.state.log = []
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(ontap.connection, **args))
    assert message in failed.value.result['msg']
    assert ontap.state.log == []


@pytest.mark.parametrize('use_rest', ['always', 'never'], ids=['rest', 'zapi'])
def test_ontap_two_clones_deleted_with_their_igroup_in_one_call(use_rest, emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    ontap = Ontap(emulator, use_rest)
    ontap.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    ontap.state.create_snapshot(ontap.state.volume_named('svm1', 'vol1'), 's1')
    for name in ('data01_c1', 'data01_c2'):
        run_module(lun, dict(ontap.connection, volume='vol1', name=name, clone_from=dict(volume='vol1', snapshot='s1', lun='data01'),
                             map_to=dict(igroup='browse', initiators=[NEW])))
    gone = run_module(lun, dict(ontap.connection, state='absent', force=True, prune_igroups=['browse'],
                                luns=[dict(volume='vol1', name='data01_c1'), dict(path='/vol/vol1/data01_c2')]))
    assert (gone['changed'], gone['igroups_deleted']) == (True, ['browse'])
    assert [entry['path'] for entry in gone['luns']] == ['/vol/vol1/data01_c1', '/vol/vol1/data01_c2']
    assert [entry['unmapped'] for entry in gone['luns']] == [[dict(igroup='browse', lun_id=0)], [dict(igroup='browse', lun_id=1)]]
    assert sorted(entry['name'] for entry in ontap.state.luns.values()) == ['/vol/vol1/data01']
    assert ('svm1', 'browse') not in ontap.state.igroup_by_name


# --- state=present ------------------------------------------------------------------------------------------

def clone_entries(*names, **source):
    return [dict(volume='labvg/pool', name=name, clone_from=dict(SNAPSHOT, **source)) for name in names]


def test_lio_two_clones_made_and_mapped_in_one_call(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    args = dict(lab.connection, luns=clone_entries('lio_c1', 'lio_c2'), map_to=dict(igroup='new', initiators=[NEW]))
    before = lab.state()
    checked = run_module(lun, args, check_mode=True)
    assert checked['changed'] is True
    assert [(entry['path'], entry['map']['igroup'], entry['igroup_created']) for entry in checked['luns']] == [
        ('labvg/pool/lio_c1', 'new', True), ('labvg/pool/lio_c2', 'new', False)]
    assert lab.state() == before

    result = run_module(lun, args)
    assert [(entry['lun']['name'], entry['lun_id'], entry['igroup_created'], entry['changed']) for entry in result['luns']] == [
        ('lio_c1', 0, True, True), ('lio_c2', 1, False, True)]
    assert [entry['lun']['wwid'] for entry in result['luns']] == [
        fresh(lab).get_lun('labvg/pool', name)['wwid'] for name in ('lio_c1', 'lio_c2')]
    assert fresh(lab).get_igroup('new')['maps'] == [dict(path='labvg/pool/lio_c1', lun_id=0), dict(path='labvg/pool/lio_c2', lun_id=1)]

    again = run_module(lun, args)
    assert again['changed'] is False and [entry['lun_id'] for entry in again['luns']] == [0, 1]


def test_lio_a_batch_saves_the_configuration_once(lab, run_module, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    saves = count_saves(monkeypatch)
    names = ('lio_c1', 'lio_c2', 'lio_c3')
    made = run_module(lun, dict(lab.connection, luns=clone_entries(*names), map_to=dict(igroup='new', initiators=[NEW])))
    assert ([entry['lun_id'] for entry in made['luns']], len(saves)) == ([0, 1, 2], 1)
    gone = run_module(lun, dict(lab.connection, luns=[dict(volume='labvg/pool', name=name) for name in names],
                                state='absent', force=True, prune_igroups=['new']))
    assert (gone['igroups_deleted'], len(saves)) == (['new'], 2)


def test_lio_a_failing_entry_stops_the_call_and_the_entries_before_it_are_reported(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    entries = clone_entries('lio_c1') + clone_entries('lio_c2', snapshot='nosuch') + clone_entries('lio_c3')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(lab.connection, luns=entries, map_to=dict(igroup='new', initiators=[NEW])))
    result = failed.value.result
    assert (result['error_code'], result['changed']) == ('not_found', True)
    assert result['msg'] == "labvg/pool/lio_c2: snapshot 'nosuch' does not exist in volume 'labvg/pool'"
    assert [(entry['path'], entry.get('failed', False), entry['changed']) for entry in result['luns']] == [
        ('labvg/pool/lio_c1', False, True), ('labvg/pool/lio_c2', True, False)]
    assert result['luns'][1]['lun'] is None
    assert fresh(lab).get_lun('labvg/pool', 'lio_c1')['maps'] == [dict(igroup='new', lun_id=0)]
    with open(lab.connection['save_file']) as handle:  # the batch's one save ran after the failure too
        assert 'lio_c1' in [so['name'] for so in json.load(handle)['storage_objects']]
    assert fresh(lab).get_lun('labvg/pool', 'lio_c2') is None and fresh(lab).get_lun('labvg/pool', 'lio_c3') is None


def test_lio_a_map_failing_after_its_clone_reports_the_clone_in_the_entry(lab, run_module, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    """The igroup vanishing under a batch's map (the race the role's retry answers): the entry reports its clone
    and the map planned, with the error_code the role tests."""
    delete_igroup_before_the_map(lab, monkeypatch, 'plain')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(lab.connection, luns=clone_entries('lio_c1', 'lio_c2'), map_to=dict(igroup='plain')))
    result = failed.value.result
    assert (result['error_code'], result['changed']) == ('igroup_not_found', True)
    assert len(result['luns']) == 1
    entry = result['luns'][0]
    assert (entry['path'], entry['failed'], entry['changed'], entry['error_code']) == (
        'labvg/pool/lio_c1', True, True, 'igroup_not_found')
    assert entry['lun']['wwid'] == fresh(lab).get_lun('labvg/pool', 'lio_c1')['wwid']
    assert entry['map'] == dict(igroup='plain', path='labvg/pool/lio_c1', lun_id=None, vserver=None)
    assert fresh(lab).get_lun('labvg/pool', 'lio_c2') is None


@pytest.mark.parametrize('use_rest', ['always', 'never'], ids=['rest', 'zapi'])
def test_ontap_two_clones_made_and_mapped_in_one_call(use_rest, emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    ontap = Ontap(emulator, use_rest)
    ontap.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    ontap.state.create_snapshot(ontap.state.volume_named('svm1', 'vol1'), 's1')
    source = dict(volume='vol1', snapshot='s1', lun='data01')
    args = dict(ontap.connection, luns=[dict(volume='vol1', name='data01_c1', clone_from=source),
                                        dict(path='/vol/vol1/data01_c2', clone_from=source)],
                map_to=dict(igroup='browse', initiators=[NEW]))
    result = run_module(lun, args)
    assert [(entry['path'], entry['lun_id']) for entry in result['luns']] == [('/vol/vol1/data01_c1', 0), ('/vol/vol1/data01_c2', 1)]
    assert sorted(entry['name'] for entry in ontap.state.luns.values()) == [
        '/vol/vol1/data01', '/vol/vol1/data01_c1', '/vol/vol1/data01_c2']
    assert run_module(lun, args)['changed'] is False


@pytest.mark.parametrize('use_rest', ['always', 'never'], ids=['rest', 'zapi'])
def test_ontap_clone_of_a_lun_the_snapshot_does_not_hold_fails_and_makes_nothing(use_rest, emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    """The premise of iscsi_root's trial clone before a reset to a host's own snapshot: ONTAP snapshots belong to the
    volume (lun null in san_info), and only a clone tells whether one holds a LUN made after it."""
    ontap = Ontap(emulator, use_rest)
    ontap.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    ontap.state.create_snapshot(ontap.state.volume_named('svm1', 'vol1'), 's1')
    ontap.state.add_lun('svm1', '/vol/vol1/root_ws01', 1048576)
    args = dict(ontap.connection, volume='vol1', name='root_ws01_trial',
                clone_from=dict(volume='vol1', snapshot='s1', lun='root_ws01'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, args)
    # ONTAP's own code: ZAPI's EFILENOTFOUND, or the failed clone job's code over REST
    assert failed.value.result['error_code'] == {'always': '4', 'never': '13113'}[use_rest], failed.value.result
    assert sorted(entry['name'] for entry in ontap.state.luns.values()) == ['/vol/vol1/data01', '/vol/vol1/root_ws01']
    # the LUN the snapshot does hold clones
    assert run_module(lun, dict(args, name='data01_trial', clone_from=dict(args['clone_from'], lun='data01')))['changed'] is True
