# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.lun state=absent force=true: unmap from every igroup, then delete, in one run.
Against the ONTAP emulator (REST and ZAPI) and the fake LIO/LVM of the check-mode parity tests."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lio_check_mode_parity import lab  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_lio import IQN

MAPS = [dict(igroup='host1', lun_id=3), dict(igroup='host2', lun_id=5)]


@pytest.fixture(params=['always', 'never'], ids=['rest', 'zapi'])
def ontap(request, emulator):  # noqa: F811 pylint: disable=redefined-outer-name
    array = Ontap(emulator, request.param)
    data01 = array.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    for entry in MAPS:
        igroup = array.state.add_igroup('svm1', entry['igroup'], 'iscsi', 'linux',
                                        ['iqn.2026-11.lab.san-iscsi:%s' % entry['igroup']])
        array.state.map_lun(data01, igroup, entry['lun_id'])
    array.lun_uuid = data01['uuid']
    return array


def ontap_args(ontap, **extra):  # pylint: disable=redefined-outer-name
    return dict(ontap.connection, volume='vol1', name='data01', state='absent', **extra)


def test_ontap_mapped_lun_is_refused_without_force(ontap, run_module):  # pylint: disable=redefined-outer-name
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, ontap_args(ontap))
    assert failed.value.result['msg'] == ('LUN /vol/vol1/data01 is mapped to igroup(s) host1, host2; unmap it first '
                                          '(san.iscsi.lun_map state=absent) or set force=true')
    assert ontap.writes() == []
    assert sorted(ontap.state.maps.values(), key=lambda entry: entry['lun_id']) == [{'lun_id': 3}, {'lun_id': 5}]


def test_ontap_force_check_mode_predicts_without_writing(ontap, run_module):  # pylint: disable=redefined-outer-name
    result = run_module(lun, ontap_args(ontap, force=True), check_mode=True)
    assert (result['changed'], result['unmapped'], result['lun']) == (True, MAPS, None)
    assert ontap.writes() == []
    assert ontap.lun_uuid in ontap.state.luns and len(ontap.state.maps) == 2


def test_ontap_force_unmaps_every_igroup_then_deletes(ontap, run_module):  # pylint: disable=redefined-outer-name
    result = run_module(lun, ontap_args(ontap, force=True))
    assert (result['changed'], result['unmapped']) == (True, MAPS)
    if ontap.use_rest == 'always':
        maps = '/api/protocols/san/lun-maps/%s/%s'
        assert ontap.writes() == [('DELETE', maps % (ontap.lun_uuid, ontap.igroup_uuid('host1'))),
                                  ('DELETE', maps % (ontap.lun_uuid, ontap.igroup_uuid('host2'))),
                                  ('DELETE', '/api/storage/luns/%s' % ontap.lun_uuid)]
    else:
        assert ontap.writes() == [('lun-unmap', {'path': '/vol/vol1/data01', 'initiator-group': 'host1'}),
                                  ('lun-unmap', {'path': '/vol/vol1/data01', 'initiator-group': 'host2'}),
                                  ('lun-destroy', {'path': '/vol/vol1/data01'})]
    assert ontap.state.luns == {} and ontap.state.maps == {}
    assert [igroup['lun_maps'] for igroup in ontap.state.igroups.values()] == [[], []]
    again = run_module(lun, ontap_args(ontap, force=True))
    assert (again['changed'], again['unmapped']) == (False, [])


def test_ontap_force_on_an_unmapped_lun_is_a_plain_delete(ontap, run_module):  # pylint: disable=redefined-outer-name
    other = ontap.state.add_lun('svm1', '/vol/vol1/data02', 1048576)
    result = run_module(lun, dict(ontap_args(ontap, force=True), name='data02'))
    assert (result['changed'], result['unmapped']) == (True, [])
    assert [write[0] for write in ontap.writes()] == (['DELETE'] if ontap.use_rest == 'always' else ['lun-destroy'])
    assert other['uuid'] not in ontap.state.luns


def lio_args(lab, **extra):  # noqa: F811 pylint: disable=redefined-outer-name
    return dict(lab.connection, path='labvg/pool/lio_a', state='absent', **extra)


def test_lio_mapped_lun_is_refused_without_force(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    before = lab.state()
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, lio_args(lab))
    assert 'LUN labvg/pool/lio_a is mapped to igroup(s) mapped;' in failed.value.result['msg']
    assert lab.state() == before and lab.writes() == []


def test_lio_force_check_mode_then_real(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    before = lab.state()
    checked = run_module(lun, lio_args(lab, force=True), check_mode=True)
    assert (checked['changed'], checked['unmapped']) == (True, [dict(igroup='mapped', lun_id=0)])
    assert lab.state() == before and lab.writes() == []
    result = run_module(lun, lio_args(lab, force=True))
    assert (result['changed'], result['unmapped']) == (True, [dict(igroup='mapped', lun_id=0)])
    assert lab.writes() == [['/usr/bin/timeout', '-k', '5', '120', '/sbin/lvm', 'lvremove', '--yes', 'labvg/lio_a']]
    assert lab.backend.get_lun('labvg/pool', 'lio_a') is None
    acls = lab.lio.targets[IQN].tpg_map[1].acl_map
    assert sorted(acls) == sorted(['iqn.2026-11.lab.san-iscsi:host1', 'iqn.2026-11.lab.san-iscsi:host2',
                                   'iqn.2026-11.lab.san-iscsi:plain'])
    assert lab.backend.get_igroup('mapped')['maps'] == [dict(path='labvg/pool/lio_b', lun_id=1)]


def test_lio_failed_delete_maps_the_lun_again(lab, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    """force removes the igroup maps only: a failure of the delete itself stands, and the LUN is mapped again."""
    lab.commands.fail['lvremove'] = (5, '', '  Logical volume labvg/lio_a in use.\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, lio_args(lab, force=True))
    assert 'Logical volume labvg/lio_a in use.' in failed.value.result['stderr']
    assert failed.value.result['unmapped'] == []
    assert lab.backend.get_lun_map('labvg/pool/lio_a', 'mapped')['lun_id'] == 0
    assert lab.backend.get_lun('labvg/pool', 'lio_a') is not None
