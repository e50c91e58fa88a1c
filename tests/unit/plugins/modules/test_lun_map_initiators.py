# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.lun_map initiators: create a missing igroup and map in one run, or check an existing one.
Against the ONTAP emulator (REST and ZAPI) and the fake LIO/LVM of the check-mode parity tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun_map
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lio_check_mode_parity import (  # noqa: F401 pylint: disable=unused-import
    check_and_real_fail_alike, lab)
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_lio import HOST1, IQN

NEW = 'iqn.2026-11.lab.san-iscsi:new'


@pytest.fixture(params=['always', 'never'], ids=['rest', 'zapi'])
def ontap(request, emulator):  # noqa: F811 pylint: disable=redefined-outer-name
    array = Ontap(emulator, request.param)
    array.lun = array.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    array.state.add_igroup('svm1', 'host1', 'iscsi', 'linux', [HOST1, HOST1 + '0'])
    return array


def ontap_args(ontap, **extra):  # pylint: disable=redefined-outer-name
    return dict(ontap.connection, path='/vol/vol1/data01', **extra)


def test_ontap_missing_igroup_is_created_and_mapped(ontap, run_module):  # pylint: disable=redefined-outer-name
    args = ontap_args(ontap, igroup='new', initiators=[NEW.upper().replace('IQN', 'iqn')], lun_id=2)
    checked = run_module(lun_map, args, check_mode=True)
    assert (checked['changed'], checked['igroup_created'], checked['lun_id']) == (True, True, 2)
    assert ontap.writes() == []
    result = run_module(lun_map, args)
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, True, 2)
    if ontap.use_rest == 'always':
        assert ontap.writes() == [('POST', '/api/protocols/san/igroups'), ('POST', '/api/protocols/san/lun-maps')]
    else:
        assert [api for api, _inputs in ontap.writes()] == ['igroup-create', 'igroup-add', 'lun-map']
        assert ontap.writes()[0][1] == {'initiator-group-name': 'new', 'initiator-group-type': 'iscsi',
                                        'os-type': 'linux'}
        assert ontap.writes()[1][1] == {'initiator-group-name': 'new', 'initiator': NEW}
        assert ontap.writes()[2][1] == {'path': '/vol/vol1/data01', 'initiator-group': 'new', 'lun-id': '2'}
    created = ontap.state.igroups[ontap.igroup_uuid('new')]
    assert (created['protocol'], created['os_type'], created['initiators']) == ('iscsi', 'linux', [{'name': NEW}])
    assert list(ontap.state.maps.values()) == [{'lun_id': 2}]
    again = run_module(lun_map, args)
    assert (again['changed'], again['igroup_created'], again['lun_id']) == (False, False, 2)


def test_ontap_existing_igroup_with_the_initiators_just_maps(ontap, run_module):  # pylint: disable=redefined-outer-name
    result = run_module(lun_map, ontap_args(ontap, igroup='host1', initiators=[HOST1.upper().replace('IQN', 'iqn')]))
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, False, 0)
    assert [write[0] for write in ontap.writes()] == (['POST'] if ontap.use_rest == 'always' else ['lun-map'])


@pytest.mark.parametrize('mapped', [False, True])
def test_ontap_missing_initiator_fails_before_any_write(ontap, run_module, mapped):  # pylint: disable=redefined-outer-name
    """host1 holds HOST1 + '0' (host10): HOST1 + '00' must not match it by prefix, nor host10 by HOST1."""
    if mapped:
        ontap.state.map_lun(ontap.lun, ontap.state.igroups[ontap.igroup_uuid('host1')], 4)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, ontap_args(ontap, igroup='host1', initiators=[HOST1, HOST1 + '00', NEW]), check_mode=True)
    assert failed.value.result['msg'] == ("igroup 'host1' exists without initiator(s) %s, %s; add them with "
                                          "san.iscsi.igroup" % (HOST1 + '00', NEW))
    assert ontap.writes() == []


def test_ontap_missing_igroup_without_initiators_still_fails(ontap, run_module):  # pylint: disable=redefined-outer-name
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, ontap_args(ontap, igroup='new'))
    assert failed.value.result['msg'] == "igroup 'new' does not exist"
    assert ontap.writes() == []


def test_ontap_unknown_lun_fails_before_the_igroup_is_created(ontap, run_module):  # pylint: disable=redefined-outer-name
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict(ontap_args(ontap, igroup='new', initiators=[NEW]), path='/vol/vol1/nope'))
    assert failed.value.result['msg'] == 'LUN /vol/vol1/nope does not exist'
    assert ontap.writes() == [] and ('svm1', 'new') not in ontap.state.igroup_by_name


def test_initiators_with_state_absent_are_refused_before_any_request(ontap, run_module):  # pylint: disable=redefined-outer-name
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, ontap_args(ontap, igroup='host1', initiators=[HOST1], state='absent'))
    assert failed.value.result['msg'] == ('initiators is only used with state=present: it creates or checks the '
                                          'igroup of a new map')
    assert ontap.state.log == []


def test_invalid_initiator_name_fails_before_any_request(ontap, run_module):  # pylint: disable=redefined-outer-name
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, ontap_args(ontap, igroup='new', initiators=['host1']))
    assert 'host1' in failed.value.result['msg']
    assert ontap.state.log == []


def test_lio_missing_igroup_check_mode_then_real(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    args = dict(lab.connection, path='labvg/pool/lio_b', igroup='new', initiators=[NEW], lun_id=7)
    before = lab.state()
    checked = run_module(lun_map, args, check_mode=True)
    assert (checked['changed'], checked['igroup_created'], checked['lun_id']) == (True, True, 7)
    assert lab.state() == before
    result = run_module(lun_map, args)
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, True, 7)
    assert lab.backend.get_igroup('new')['initiators'] == [NEW]
    assert lab.backend.get_igroup('new')['maps'] == [dict(path='labvg/pool/lio_b', lun_id=7)]
    assert lab.lio.targets[IQN].tpg_map[1].acl_map[NEW].tag == 'new'
    assert lab.writes() == []


def test_lio_initiator_of_another_igroup_fails_alike_in_check_mode(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    message = check_and_real_fail_alike(lab, run_module, lun_map, dict(path='labvg/pool/lio_b', igroup='new',
                                                                       initiators=[HOST1]))
    assert message == 'initiator(s) already have an ACL in %s TPG 1: %s (igroup mapped)' % (IQN, HOST1)


def test_lio_existing_igroup_missing_an_initiator(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    message = check_and_real_fail_alike(lab, run_module, lun_map, dict(path='labvg/pool/lio_b', igroup='plain',
                                                                       initiators=[HOST1]))
    assert message == "igroup 'plain' exists without initiator(s) %s; add them with san.iscsi.igroup" % HOST1


@pytest.mark.parametrize('initiators, error', [
    ([NEW], None),
    (['iqn.2026-11.lab.san-iscsi:other'], "igroup 'new' exists without initiator(s) %s; add them with san.iscsi.igroup" % NEW),
])
def test_lio_igroup_created_meanwhile_by_another_run(lab, run_module, monkeypatch, initiators, error):  # noqa: F811 pylint: disable=redefined-outer-name
    # another run creates the igroup between this run's checks (igroup missing) and its create
    backend_class = type(lab.backend)
    original = backend_class.create_igroup

    def create_after_the_other_run(backend, *args):
        original(backend, 'new', 'iscsi', 'linux', initiators)
        return original(backend, *args)
    monkeypatch.setattr(backend_class, 'create_igroup', create_after_the_other_run)
    args = dict(lab.connection, path='labvg/pool/lio_b', igroup='new', initiators=[NEW], lun_id=7)
    if error:
        with pytest.raises(ModuleFailed) as failed:
            run_module(lun_map, args)
        assert failed.value.result['msg'] == error
        assert lab.backend.get_igroup('new')['maps'] == []
        return
    result = run_module(lun_map, args)
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, False, 7)
    assert lab.backend.get_igroup('new')['maps'] == [dict(path='labvg/pool/lio_b', lun_id=7)]


def delete_igroup_before_the_map(lab, monkeypatch, name):  # noqa: F811 pylint: disable=redefined-outer-name
    """Another run's teardown deletes igroup ``name`` between this run's checks and its map."""
    backend_class = type(lab.backend)
    original = backend_class.create_lun_map

    def map_after_the_other_run(backend, *args):
        backend.delete_igroup(name)
        return original(backend, *args)
    monkeypatch.setattr(backend_class, 'create_lun_map', map_after_the_other_run)


def test_lio_igroup_deleted_before_the_map_fails_with_igroup_not_found(lab, run_module, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    delete_igroup_before_the_map(lab, monkeypatch, 'plain')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict(lab.connection, path='labvg/pool/lio_b', igroup='plain'))
    assert failed.value.result['error_code'] == 'igroup_not_found'
    assert 'array_error_code' not in failed.value.result


def test_ontap_unmap_from_moves_the_lun_between_igroups(ontap, run_module):  # pylint: disable=redefined-outer-name
    """Unmapped from the old igroup first, then mapped to the new one with the same id; a re-run changes nothing."""
    old = ontap.state.igroups[ontap.igroup_uuid('host1')]
    ontap.state.map_lun(ontap.lun, old, 3)
    ontap.state.add_igroup('svm1', 'host2', 'iscsi', 'linux', [NEW])
    args = ontap_args(ontap, igroup='host2', lun_id=3, unmap_from=['host1'])
    result = run_module(lun_map, args)
    assert (result['changed'], result['unmapped'], result['lun_id']) == (True, ['host1'], 3)
    if ontap.use_rest == 'always':
        assert [write[0] for write in ontap.writes()] == ['DELETE', 'POST']
    else:
        assert [api for api, _inputs in ontap.writes()] == ['lun-unmap', 'lun-map']
    assert list(ontap.state.maps) == [(ontap.lun['uuid'], ontap.igroup_uuid('host2'))]
    again = run_module(lun_map, args)
    assert (again['changed'], again['unmapped']) == (False, [])


def test_unmap_from_with_state_absent_is_refused_before_any_request(ontap, run_module):  # pylint: disable=redefined-outer-name
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, ontap_args(ontap, igroup='host1', unmap_from=['host2'], state='absent'))
    assert failed.value.result['error_code'] == 'invalid' and ontap.state.log == []


def test_ontap_luns_create_the_igroup_once_and_map_each(ontap, run_module):  # pylint: disable=redefined-outer-name
    """Two LUNs to a missing igroup in one call: the igroup is created by the first map (the second finds it, with
    the initiators), each LUN mapped with its id; check mode predicts the same."""
    ontap.state.add_lun('svm1', '/vol/vol1/data02', 1048576)
    args = dict(ontap.connection, igroup='new', initiators=[NEW],
                luns=[dict(path='/vol/vol1/data01', lun_id=2), dict(path='/vol/vol1/data02', lun_id=3)])
    checked = run_module(lun_map, args, check_mode=True)
    assert ontap.writes() == []
    result = run_module(lun_map, args)
    for outcome in (checked, result):
        assert (outcome['changed'], outcome['igroup_created']) == (True, True)
        assert [(item['path'], item['lun_id']) for item in outcome['maps']] == [
            ('/vol/vol1/data01', 2), ('/vol/vol1/data02', 3)]
    if ontap.use_rest == 'always':
        assert ontap.writes() == [('POST', '/api/protocols/san/igroups')] + [('POST', '/api/protocols/san/lun-maps')] * 2
    else:
        assert [api for api, _inputs in ontap.writes()] == ['igroup-create', 'igroup-add', 'lun-map', 'lun-map']
    assert sorted(value['lun_id'] for value in ontap.state.maps.values()) == [2, 3]
    again = run_module(lun_map, args)
    assert again['changed'] is False and again['igroup_created'] is False
