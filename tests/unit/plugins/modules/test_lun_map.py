# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.lun_map against a scripted ONTAP REST seam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun_map
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import BASE, REST_PARAMS, ontap_error, records
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

MAP_URL = (BASE + '/api/protocols/san/lun-maps?fields=logical_unit_number%2Clun.name%2Clun.uuid%2Cigroup.name%2C'
           'igroup.uuid%2Csvm.name&igroup.name=host1&lun.name=%2Fvol%2Fvol1%2Fdata01&svm.name=svm1')
LUN_URL = (BASE + '/api/storage/luns?fields=name%2Cuuid%2Clocation.volume.name%2Cspace.size%2Cos_type%2C'
           'serial_number%2Ccomment%2Clun_maps.logical_unit_number%2Clun_maps.igroup.name%2Csvm.name'
           '&name=%2Fvol%2Fvol1%2Fdata01&svm.name=svm1')
IG_URL = (BASE + '/api/protocols/san/igroups?fields=name%2Cuuid%2Cprotocol%2Cos_type%2Cinitiators.name%2C'
          'lun_maps.logical_unit_number%2Clun_maps.lun.name%2Csvm.name&name=host1&svm.name=svm1')
SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
MAP = {'logical_unit_number': 3, 'lun': {'name': '/vol/vol1/data01', 'uuid': 'l-1'},
       'igroup': {'name': 'host1', 'uuid': 'ig-1'}, 'svm': {'name': 'svm1'}}
LUN = {'name': '/vol/vol1/data01', 'uuid': 'l-1', 'location': {'volume': {'name': 'vol1'}}, 'space': {'size': 4096},
       'os_type': 'linux', 'serial_number': 'wEmAbCdEfGhI', 'comment': '', 'svm': {'name': 'svm1'}, 'lun_maps': []}
IGROUP = {'name': 'host1', 'uuid': 'ig-1', 'protocol': 'iscsi', 'os_type': 'linux', 'svm': {'name': 'svm1'},
          'initiators': [], 'lun_maps': [{'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/other'}}]}
CONNECTION = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')


def args(**extra):
    return dict(CONNECTION, volume='vol1', lun='data01', igroup='host1', **extra)


def test_existing_map_is_two_requests(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records(MAP))
    result = run_module(lun_map, args(lun_id=3))
    assert (result['changed'], result['lun_id']) == (False, 3)
    assert len(http.calls) == 2


@pytest.mark.parametrize('extra, message', [
    (dict(lun_id=4096), 'lun_id 4096 is out of range: provider ontap allows 0-4095'),
    (dict(lun_id=5000), 'lun_id 5000 is out of range: provider ontap allows 0-4095'),
    (dict(lun_id=-1), 'lun_id -1 is out of range: provider ontap allows 0-4095'),
    (dict(lun=None, volume=None, path='vol1/data01'), "LUN path 'vol1/data01' is not /vol/<volume>/<lun>"),
    (dict(lun=None, volume=None, path='/vol/vol1/a/b'), "LUN path '/vol/vol1/a/b' is not /vol/<volume>/<lun>"),
    (dict(volume='.snapshot'), "invalid ONTAP volume name '.snapshot'"),
    (dict(initiators=['host1']), 'initiators: '),
    (dict(portals=['10.0.0.1']), 'option(s) portals do(es) not apply to provider ontap'),
    (dict(target='iqn.2026-11.lab:t'), 'option(s) target do(es) not apply to provider ontap'),
    (dict(tpg=2), 'option(s) tpg do(es) not apply to provider ontap'),
])
def test_bad_input_fails_before_any_request(http, run_module, extra, message):
    """Checked before connecting: no request reaches ONTAP (was: the probe, then the refusal)."""
    params = dict(args(), **extra)
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict((key, value) for key, value in params.items() if value is not None))
    assert failed.value.result['msg'].startswith(message)
    assert failed.value.result['error_code'] == 'invalid'
    assert failed.value.result['retries'] == []
    assert http.calls == [] and http.connections == 0


def test_other_id_needs_remap(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records(MAP))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args(lun_id=5))
    assert 'as LUN 3, not 5; set remap=true' in failed.value.result['msg']


def test_remap(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records(MAP))
    http.expect('GET', IG_URL, reply=records(dict(IGROUP, lun_maps=IGROUP['lun_maps'] + [
        {'logical_unit_number': 3, 'lun': {'name': '/vol/vol1/data01'}}])))
    http.expect('GET', MAP_URL, reply=records(MAP))
    http.expect('DELETE', BASE + '/api/protocols/san/lun-maps/l-1/ig-1', reply={})
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'host1'},
        'logical_unit_number': 5}, status=201, reply={})
    http.expect('GET', MAP_URL, reply=records(dict(MAP, logical_unit_number=5)))
    assert run_module(lun_map, args(lun_id=5, remap=True))['lun_id'] == 5


def test_remap_to_an_id_used_by_another_lun_fails_before_the_unmap(http, run_module):
    """The real run unmaps first: a map refused afterwards would leave the LUN unmapped."""
    http.probe().expect('GET', MAP_URL, reply=records(MAP)).expect('GET', IG_URL, reply=records(IGROUP))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args(lun_id=0, remap=True), check_mode=True)
    assert failed.value.result['msg'] == "LUN id 0 is already used in igroup 'host1' by /vol/vol1/other"
    assert http.writes() == []


def test_igroup_without_a_free_id_fails_in_check_mode(http, run_module):
    full = dict(IGROUP, lun_maps=[{'logical_unit_number': number, 'lun': {'name': '/vol/vol1/l%d' % number}}
                                  for number in range(4096)])
    http.probe().expect('GET', MAP_URL, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', IG_URL, reply=records(full))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args(), check_mode=True)
    assert failed.value.result['msg'] == "igroup 'host1' uses every LUN id 0-4095"


def test_new_map_check_mode_validates_lun_and_igroup(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', IG_URL, reply=records(IGROUP))
    result = run_module(lun_map, args(lun_id=1), check_mode=True)
    assert result['changed'] is True and result['map']['lun_id'] == 1
    assert http.writes() == []


def test_new_map_lets_ontap_pick_the_id(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'host1'}},
        status=201, reply={})
    http.expect('GET', MAP_URL, reply=records(dict(MAP, logical_unit_number=1)))
    assert run_module(lun_map, args())['lun_id'] == 1


def test_lun_id_used_by_another_lun_fails_before_any_write(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', IG_URL, reply=records(IGROUP))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args(lun_id=0))
    assert failed.value.result['msg'] == "LUN id 0 is already used in igroup 'host1' by /vol/vol1/other"


def test_unknown_igroup(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', IG_URL, reply=records())
    http.expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args())
    assert failed.value.result['msg'] == "igroup 'host1' does not exist"
    assert failed.value.result['error_code'] == 'igroup_not_found'
    assert http.writes() == []


def test_absent_unmaps(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records(MAP)).expect('GET', MAP_URL, reply=records(MAP))
    http.expect('DELETE', BASE + '/api/protocols/san/lun-maps/l-1/ig-1', reply={})
    result = run_module(lun_map, dict(CONNECTION, path='/vol/vol1/data01', igroup='host1', state='absent'))
    assert result['changed'] is True and result['map'] is None


def test_missing_igroup_is_created_from_initiators_then_mapped(http, run_module):
    new_ig_url = IG_URL.replace('name=host1', 'name=new')
    new_map_url = MAP_URL.replace('igroup.name=host1', 'igroup.name=new')
    created = dict(IGROUP, name='new', uuid='ig-2', initiators=[{'name': 'iqn.2026-11.lab.san-iscsi:new'}], lun_maps=[])
    http.probe().expect('GET', new_map_url, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', new_ig_url, reply=records())
    http.expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('POST', BASE + '/api/protocols/san/igroups', body={
        'svm': {'name': 'svm1'}, 'name': 'new', 'protocol': 'iscsi', 'os_type': 'linux',
        'initiators': [{'name': 'iqn.2026-11.lab.san-iscsi:new'}]}, status=201, reply={})
    http.expect('GET', new_ig_url, reply=records(created))
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'new'}},
        status=201, reply={})
    http.expect('GET', new_map_url, reply=records(dict(MAP, igroup={'name': 'new', 'uuid': 'ig-2'}, logical_unit_number=0)))
    result = run_module(lun_map, dict(args(), igroup='new', initiators=['IQN.2026-11.lab.san-iscsi:new']))
    assert (result['changed'], result['igroup_created'], result['lun_id']) == (True, True, 0)


def map_refused_as_not_found(http, run_module, code, igroup_after):
    """A new map ONTAP refuses with ``code`` (404) after the checks passed; the igroup then reads ``igroup_after``."""
    http.probe().expect('GET', MAP_URL, reply=records())
    http.expect('GET', LUN_URL, reply=records(LUN)).expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'host1'}},
        status=404, reply=ontap_error(code, 'The specified object does not exist.'))
    http.expect('GET', IG_URL, reply=records(*igroup_after))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args())
    return failed.value.result


def test_an_igroup_deleted_between_the_read_and_the_map_fails_with_its_own_code(http, run_module):
    # another run's teardown deletes the igroup after this run read it: roles test error_code, not the message
    result = map_refused_as_not_found(http, run_module, '5374878', [])
    assert (result['error_code'], result['array_error_code']) == ('igroup_not_found', '5374878')


def test_a_lun_that_vanished_after_the_read_keeps_the_arrays_code(http, run_module):
    result = map_refused_as_not_found(http, run_module, '5374875', [IGROUP])
    assert result['error_code'] == '5374875' and 'array_error_code' not in result


def test_unknown_lun_has_a_stable_code(http, run_module):
    http.probe().expect('GET', MAP_URL, reply=records()).expect('GET', LUN_URL, reply=records())
    http.expect('GET', BASE + '/api/storage/volumes?fields=name%2Cuuid&name=vol1&svm.name=svm1',
                reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, args())
    assert failed.value.result['error_code'] == 'lun_not_found'


def test_ontap_options_are_refused_with_provider_lio(http, run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun_map, dict(provider='lio', target='iqn.2026-11.lab:t1', hostname='cluster1', use_rest='never',
                                 volume='labvg/pool', lun='data01', igroup='host1'))
    assert failed.value.result['msg'] == 'option(s) hostname, use_rest do(es) not apply to provider lio'
    assert (failed.value.result['error_code'], failed.value.result['options']) == ('invalid', ['hostname', 'use_rest'])
    assert http.calls == []
