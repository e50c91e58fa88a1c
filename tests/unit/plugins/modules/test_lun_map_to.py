# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.lun map_to (a LUN or clone created and mapped in one call) and prune_igroups (a LUN and its
emptied igroups deleted in one call). Against the ONTAP emulator (REST and ZAPI) and the fake LIO/LVM of the
check-mode parity tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _san_lio
from ansible_collections.san.iscsi.plugins.modules import igroup, lun
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lio_check_mode_parity import lab  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lun_map_initiators import delete_igroup_before_the_map
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_lio import HOST1, FakeModule, count_saves

NEW = 'iqn.2026-11.lab.san-iscsi:new'


def fresh(lab):  # noqa: F811 pylint: disable=redefined-outer-name
    """A backend that reads the fake LIO and LVM anew (the lab's own caches its LVM reports)."""
    return _san_lio.LioBackend(FakeModule(dict(lab.connection, tpg=1), lab.commands))


LIO_CLONE = dict(volume='labvg/pool', name='lio_c', clone_from=dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a'))


def test_lio_clone_mapped_to_a_new_igroup_check_mode_then_real(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    args = dict(lab.connection, map_to=dict(igroup='new', initiators=[NEW.replace('iqn', 'IQN')]), **LIO_CLONE)
    before = lab.state()
    checked = run_module(lun, args, check_mode=True)
    assert (checked['changed'], checked['igroup_created'], checked['lun_id']) == (True, True, None)
    assert checked['map'] == dict(igroup='new', path='labvg/pool/lio_c', lun_id=None, vserver=None)
    assert lab.state() == before
    result = run_module(lun, args)
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, True, 0)
    assert result['lun']['clone_parent'] == dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a')
    assert result['lun']['maps'] == [dict(igroup='new', lun_id=0)]
    assert fresh(lab).get_igroup('new')['initiators'] == [NEW]
    assert fresh(lab).get_igroup('new')['maps'] == [dict(path='labvg/pool/lio_c', lun_id=0)]
    assert fresh(lab).get_lun('labvg/pool', 'lio_c')['wwid'] == result['lun']['wwid']
    again = run_module(lun, args)
    assert (again['changed'], again['igroup_created'], again['lun_id']) == (False, False, 0)


def test_lio_existing_lun_mapped_elsewhere_is_mapped_to_the_igroup_too(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    result = run_module(lun, dict(lab.connection, volume='labvg/pool', name='lio_b', map_to=dict(igroup='plain', lun_id=4)))
    assert (result['changed'], result['lun_id'], result['igroup_created']) == (True, 4, False)
    assert sorted(entry['igroup'] for entry in fresh(lab).get_lun('labvg/pool', 'lio_b')['maps']) == ['mapped', 'plain']


def test_lio_existing_map_with_another_lun_id_fails_before_any_change(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    before = lab.state()
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(lab.connection, volume='labvg/pool', name='lio_b', map_to=dict(igroup='mapped', lun_id=5)))
    assert failed.value.result['error_code'] == 'conflict'
    assert 'set remap=true' in failed.value.result['msg']
    assert lab.state() == before


def test_lio_igroup_without_the_initiator_fails_before_the_clone(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    before = lab.state()
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(lab.connection, map_to=dict(igroup='plain', initiators=[HOST1]), **LIO_CLONE))
    assert failed.value.result['msg'] == "igroup 'plain' exists without initiator(s) %s; add them with san.iscsi.igroup" % HOST1
    assert failed.value.result.get('changed', False) is False
    assert lab.state() == before


def test_lio_map_failing_after_the_clone_reports_the_clone(lab, run_module, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    delete_igroup_before_the_map(lab, monkeypatch, 'plain')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(lab.connection, map_to=dict(igroup='plain'), **LIO_CLONE))
    result = failed.value.result
    assert (result['error_code'], result['changed']) == ('igroup_not_found', True)
    assert result['lun']['wwid'] == fresh(lab).get_lun('labvg/pool', 'lio_c')['wwid']
    assert result['map'] == dict(igroup='plain', path='labvg/pool/lio_c', lun_id=None, vserver=None)
    assert fresh(lab).get_lun('labvg/pool', 'lio_c')['maps'] == []


def test_lio_delete_prunes_the_emptied_igroup_and_keeps_a_mapped_one(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    run_module(lun, dict(lab.connection, map_to=dict(igroup='new', initiators=[NEW]), **LIO_CLONE))
    run_module(lun, dict(lab.connection, volume='labvg/pool', name='lio_b', map_to=dict(igroup='plain')))
    args = dict(lab.connection, volume='labvg/pool', name='lio_c', state='absent', force=True,
                prune_igroups=['new', 'plain', 'gone'])
    before = lab.state()
    checked = run_module(lun, args, check_mode=True)
    assert (checked['changed'], checked['igroups_deleted'], checked['igroups_kept']) == (True, ['new'], ['plain'])
    assert lab.state() == before
    result = run_module(lun, args)
    assert (result['changed'], result['igroups_deleted'], result['igroups_kept']) == (True, ['new'], ['plain'])
    assert result['unmapped'] == [dict(igroup='new', lun_id=0)]
    assert fresh(lab).get_lun('labvg/pool', 'lio_c') is None
    assert fresh(lab).get_igroup('new') is None and fresh(lab).get_igroup('plain') is not None
    again = run_module(lun, args)
    assert (again['changed'], again['igroups_deleted'], again['igroups_kept']) == (False, [], ['plain'])


def test_lio_igroup_mapped_by_another_run_before_the_prune_is_kept(lab, run_module, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    run_module(lun, dict(lab.connection, map_to=dict(igroup='new', initiators=[NEW]), **LIO_CLONE))
    backend_class = type(lab.backend)
    original = backend_class.delete_igroup

    def delete_after_the_other_run_mapped(backend, name, force=False):
        backend.create_lun_map('labvg/pool/lio_b', name, 3)
        return original(backend, name, force=force)
    monkeypatch.setattr(backend_class, 'delete_igroup', delete_after_the_other_run_mapped)
    result = run_module(lun, dict(lab.connection, volume='labvg/pool', name='lio_c', state='absent', force=True,
                                  prune_igroups=['new']))
    assert (result['igroups_deleted'], result['igroups_kept']) == ([], ['new'])
    assert fresh(lab).get_igroup('new')['maps'] == [dict(path='labvg/pool/lio_b', lun_id=3)]


@pytest.mark.parametrize('args', [
    dict(state='absent', map_to=dict(igroup='new')),
    dict(prune_igroups=['new']),
    dict(map_to=dict(igroup='new', initiators=['host1'])),
    dict(map_to=dict(igroup='new', lun_id=-1)),
])
def test_bad_map_options_fail_before_any_request(args, emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    ontap = Ontap(emulator, 'always')
    ontap.state.log = []
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(ontap.connection, volume='vol1', name='data01', **args))
    assert failed.value.result['error_code'] == 'invalid'
    assert ontap.state.log == []


@pytest.fixture(params=['always', 'never'], ids=['rest', 'zapi'])
def ontap(request, emulator):  # noqa: F811 pylint: disable=redefined-outer-name
    array = Ontap(emulator, request.param)
    array.lun = array.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    volume = array.state.volume_named('svm1', 'vol1')
    array.state.create_snapshot(volume, 's1')
    return array


def test_ontap_clone_mapped_then_deleted_with_its_igroup(ontap, run_module):  # pylint: disable=redefined-outer-name
    args = dict(ontap.connection, volume='vol1', name='data01_c', clone_from=dict(volume='vol1', snapshot='s1', lun='data01'),
                map_to=dict(igroup='browse', initiators=[NEW]))
    checked = run_module(lun, args, check_mode=True)
    assert (checked['changed'], checked['igroup_created'], checked['map']['vserver']) == (True, True, 'svm1')
    assert ontap.writes() == []
    result = run_module(lun, args)
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, True, 0)
    if ontap.use_rest == 'always':
        assert [write[1] for write in ontap.writes()][-2:] == ['/api/protocols/san/igroups', '/api/protocols/san/lun-maps']
    else:
        assert [api for api, _inputs in ontap.writes()][-3:] == ['igroup-create', 'igroup-add', 'lun-map']
    uuid = ontap.igroup_uuid('browse')
    assert [name for (lun_uuid, igroup_uuid) in ontap.state.maps if igroup_uuid == uuid
            for name in [ontap.state.luns[lun_uuid]['name']]] == ['/vol/vol1/data01_c']
    again = run_module(lun, args)
    assert (again['changed'], again['lun_id']) == (False, 0)
    ontap.state.log = []
    del ontap.zapi_calls[:]
    gone = run_module(lun, dict(ontap.connection, volume='vol1', name='data01_c', state='absent', force=True,
                                prune_igroups=['browse']))
    assert (gone['changed'], gone['igroups_deleted'], gone['igroups_kept']) == (True, ['browse'], [])
    assert ('svm1', 'browse') not in ontap.state.igroup_by_name
    assert len(ontap.state.luns) == 1


# --- reuse_igroup ------------------------------------------------------------------------------------------

def test_lio_reuse_igroup_maps_to_the_igroup_holding_the_initiator(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    holder = run_module(lun, dict(lab.connection, volume='labvg/pool', name='lio_b', map_to=dict(igroup='holder', initiators=[NEW])))
    assert holder['igroup_created'] is True
    args = dict(lab.connection, map_to=dict(igroup='role_made', initiators=[NEW.upper().replace('IQN', 'iqn')], reuse_igroup=True),
                **LIO_CLONE)
    before = lab.state()
    checked = run_module(lun, args, check_mode=True)
    assert (checked['igroup_created'], checked['map']['igroup']) == (False, 'holder')
    assert lab.state() == before
    result = run_module(lun, args)
    assert (result['changed'], result['igroup_created'], result['map']['igroup'], result['lun_id']) == (True, False, 'holder', 1)
    assert fresh(lab).get_igroup('role_made') is None
    assert fresh(lab).get_igroup('holder')['maps'] == [dict(path='labvg/pool/lio_b', lun_id=0), dict(path='labvg/pool/lio_c', lun_id=1)]
    again = run_module(lun, args)
    assert (again['changed'], again['map']['igroup']) == (False, 'holder')


def test_lio_reuse_igroup_creates_the_named_igroup_when_none_holds_the_initiator(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    result = run_module(lun, dict(lab.connection, map_to=dict(igroup='role_made', initiators=[NEW], reuse_igroup=True), **LIO_CLONE))
    assert (result['igroup_created'], result['map']['igroup']) == (True, 'role_made')
    assert fresh(lab).get_igroup('role_made')['initiators'] == [NEW]


def test_reuse_igroup_without_initiators_fails_before_any_request(emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    ontap = Ontap(emulator, 'always')
    ontap.state.log = []
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(ontap.connection, volume='vol1', name='data01', map_to=dict(igroup='x', reuse_igroup=True)))
    assert (failed.value.result['error_code'], failed.value.result['msg']) == (
        'invalid', 'reuse_igroup needs initiators (those the igroup to reuse must hold)')
    assert ontap.state.log == []


def test_ontap_reuse_igroup_prefers_the_named_igroup_then_the_first_by_name(ontap, run_module):  # pylint: disable=redefined-outer-name
    for name in ('zeta', 'alpha'):
        run_module(igroup, dict(ontap.connection, name=name, initiators=[NEW, HOST1]))
    args = dict(ontap.connection, volume='vol1', name='data01_c', clone_from=dict(volume='vol1', snapshot='s1', lun='data01'),
                map_to=dict(igroup='zeta', initiators=[NEW], reuse_igroup=True))
    assert run_module(lun, args)['map']['igroup'] == 'zeta'
    other = dict(args, name='data01_d', map_to=dict(igroup='role_made', initiators=[NEW], reuse_igroup=True))
    result = run_module(lun, other)
    assert (result['map']['igroup'], result['igroup_created']) == ('alpha', False)
    assert ('svm1', 'role_made') not in ontap.state.igroup_by_name


def test_lio_clone_map_and_delete_with_prune_save_the_configuration_once_each(lab, run_module, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    saves = count_saves(monkeypatch)
    made = run_module(lun, dict(lab.connection, map_to=dict(igroup='new', initiators=[NEW]), **LIO_CLONE))
    assert (made['igroup_created'], made['map']['igroup'], len(saves)) == (True, 'new', 1)
    gone = run_module(lun, dict(lab.connection, volume='labvg/pool', name='lio_c', state='absent', force=True,
                                prune_igroups=['new']))
    assert (gone['unmapped'], gone['igroups_deleted'], len(saves)) == ([dict(igroup='new', lun_id=0)], ['new'], 2)
    assert fresh(lab).get_lun('labvg/pool', 'lio_c') is None and fresh(lab).get_igroup('new') is None
