# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.san_info against a scripted ONTAP REST seam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import san_info
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import BASE, REST_PARAMS, ontap_error, records
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
IGROUPS_URL = (BASE + '/api/protocols/san/igroups?fields=name%2Cuuid%2Cprotocol%2Cos_type%2Cinitiators.name%2C'
               'lun_maps.logical_unit_number%2Clun_maps.lun.name%2Csvm.name&name=host1&svm.name=svm1')
MAPS_URL = (BASE + '/api/protocols/san/lun-maps?fields=logical_unit_number%2Clun.name%2Clun.uuid%2Cigroup.name%2C'
            'igroup.uuid%2Csvm.name&igroup.name=host1&svm.name=svm1')
CONNECTION = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')


def test_filtered_igroups_and_maps(http, run_module):
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('GET', IGROUPS_URL, reply=records({'name': 'host1', 'uuid': 'ig-1', 'protocol': 'iscsi',
                                                   'os_type': 'linux', 'initiators': [], 'lun_maps': []}))
    http.expect('GET', MAPS_URL, reply=records({'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/l'},
                                                'igroup': {'name': 'host1'}, 'svm': {'name': 'svm1'}}))
    result = run_module(san_info, dict(CONNECTION, gather=['igroups', 'maps'], igroup='host1'), check_mode=True)
    assert [entry['name'] for entry in result['igroups']] == ['host1']
    assert result['maps'] == [{'igroup': 'host1', 'path': '/vol/vol1/l', 'lun_id': 0, 'vserver': 'svm1'}]
    assert (result['luns'], result['snapshots'], result['changed']) == ([], [], False)


def test_error_keeps_ontap_code(http, run_module):
    http.probe().expect('GET', SVM_URL, status=403, reply=ontap_error('6', 'not authorized for that command'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(san_info, dict(CONNECTION, gather=['luns']))
    assert failed.value.result['error_code'] == '6'
    assert 'not authorized for that command' in failed.value.result['msg']


VOL_URL = BASE + '/api/storage/volumes?fields=name%2Cuuid&name=vol1&svm.name=svm1'
SNAPS_URL = BASE + '/api/storage/volumes/v-1/snapshots?fields=name%2Cuuid%2Ccreate_time'


def clones_url(snapshot):
    return (BASE + '/api/storage/luns?comment=san.iscsi%3Aclone_from%3D%2Fvol%2Fvol1%2F.snapshot%2F' + snapshot
            + '%2F%2A&fields=name&svm.name=svm1')


def snapshot(name, create_time, lun=None):
    return dict(name=name, volume='vol1', lun=lun, create_time=create_time, clones=[], vserver=None, uuid=None)


def test_snapshots_before_picks_the_newest_snapshot_taken_strictly_before(http, run_module):
    snaps = [{'name': 'a', 'uuid': 's-a', 'create_time': '2026-11-19T10:00:00+00:00'},
             {'name': 'b', 'uuid': 's-b', 'create_time': '2026-11-19T13:00:00+02:00'},  # 11:00 UTC
             {'name': 'c', 'uuid': 's-c', 'create_time': '2026-11-19T12:00:00Z'},  # not before 12:00: excluded
             {'name': 'd', 'uuid': 's-d'}]
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'})).expect('GET', SNAPS_URL, reply=records(*snaps))
    for name in 'abcd':
        http.expect('GET', clones_url(name), reply=records())
    result = run_module(san_info, dict(CONNECTION, gather=['snapshots'], volume='vol1',
                                       snapshots_before='2026-11-19T12:00:00+00:00'), check_mode=True)
    assert [entry['name'] for entry in result['snapshots']] == ['a', 'b', 'c', 'd']
    assert result['snapshot_before']['name'] == 'b'
    assert result['snapshot_before'] == result['snapshots'][1]


def test_without_snapshots_before_nothing_is_picked(http, run_module):
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'})).expect('GET', SNAPS_URL, reply=records(
        {'name': 'a', 'uuid': 's-a', 'create_time': '2026-11-19T10:00:00+00:00'}))
    http.expect('GET', clones_url('a'), reply=records())
    result = run_module(san_info, dict(CONNECTION, gather=['snapshots'], volume='vol1'))
    assert result['snapshot_before'] is None and len(result['snapshots']) == 1


@pytest.mark.parametrize('extra, message', [
    (dict(snapshots_before='2026-11-19 12:00:00+00:00'), "snapshots_before '2026-11-19 12:00:00+00:00' is not a time"),
    (dict(snapshots_before='2026-11-19T12:00:00'), "snapshots_before '2026-11-19T12:00:00' is not a time"),
    (dict(snapshots_before='2026-11-19T12:00:00Z', gather=['igroups']), 'add snapshots to gather'),
])
def test_a_bad_snapshots_before_fails_before_any_request(http, run_module, extra, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(san_info, dict(dict(CONNECTION, gather=['snapshots']), **extra))
    assert message in failed.value.result['msg']
    assert failed.value.result['error_code'] == 'invalid'
    assert http.calls == []


def test_newest_before_skips_other_luns_and_untimed_snapshots_and_keeps_the_first_of_a_tie():
    limit = san_info.parse_time('2026-11-19T12:00:00+00:00', 'limit')
    snapshots = [snapshot('a', '2026-11-19T11:00:00+00:00', lun='data01'),
                 snapshot('b', '2026-11-19T11:00:00+00:00', lun='data01'),
                 snapshot('c', '2026-11-19T11:30:00+00:00', lun='data02'),
                 snapshot('d', None, lun='data01'),
                 snapshot('e', '2026-11-19T09:00:00+00:00')]
    assert san_info.newest_before(snapshots, limit, 'data01')['name'] == 'a'
    assert san_info.newest_before(snapshots, limit, None)['name'] == 'c'
    assert san_info.newest_before(snapshots, limit, 'data03')['name'] == 'e'
    assert san_info.newest_before(snapshots, san_info.parse_time('2026-11-19T09:00:00Z', 'limit'), None) is None


def test_an_unreadable_create_time_fails_instead_of_being_skipped():
    limit = san_info.parse_time('2026-11-19T12:00:00+00:00', 'limit')
    with pytest.raises(san_info.SanInvalid, match="create_time of snapshot 'a'"):
        san_info.newest_before([snapshot('a', '2026-11-19 11:00')], limit, None)


# --- query (JMESPath over the result) ------------------------------------------------------------------

def test_query_selects_from_the_result_without_jinja(http, run_module):
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('GET', IGROUPS_URL, reply=records(
        {'name': 'host1', 'uuid': 'ig-1', 'protocol': 'iscsi', 'os_type': 'linux',
         'initiators': [{'name': 'iqn.2026-11.lab:host1'}], 'lun_maps': []}))
    http.expect('GET', MAPS_URL, reply=records(
        {'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/a'}, 'igroup': {'name': 'host1'}, 'svm': {'name': 'svm1'}},
        {'logical_unit_number': 3, 'lun': {'name': '/vol/vol1/b'}, 'igroup': {'name': 'host1'}, 'svm': {'name': 'svm1'}}))
    query = "{paths: maps[?lun_id > `0`].path, owner: igroups[?contains(initiators, 'iqn.2026-11.lab:host1')].name | [0]}"
    result = run_module(san_info, dict(CONNECTION, gather=['igroups', 'maps'], igroup='host1', query=query))
    assert result['query_result'] == {'paths': ['/vol/vol1/b'], 'owner': 'host1'}
    assert len(result['maps']) == 2  # the full result is still there


def test_without_query_the_query_result_is_null(http, run_module):
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('GET', MAPS_URL, reply=records())
    result = run_module(san_info, dict(CONNECTION, gather=['maps'], igroup='host1'))
    assert result['query_result'] is None


def test_a_bad_query_fails_before_any_request(http, run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(san_info, dict(CONNECTION, gather=['luns'], query='luns[?name == '))
    assert failed.value.result['error_code'] == 'invalid'
    assert failed.value.result['options'] == ['query']
    assert failed.value.result['msg'].startswith('query is not a JMESPath expression')
    assert http.calls == []


def test_a_query_that_fails_on_the_data_names_the_option(http, run_module):
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('GET', MAPS_URL, reply=records(
        {'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/a'}, 'igroup': {'name': 'host1'}, 'svm': {'name': 'svm1'}}))
    with pytest.raises(ModuleFailed) as failed:
        run_module(san_info, dict(CONNECTION, gather=['maps'], igroup='host1', query='maps[0].lun_id | length(@)'))
    assert failed.value.result['error_code'] == 'invalid'
    assert failed.value.result['msg'].startswith('query failed on the result')


def test_a_query_without_jmespath_installed_fails_before_any_request(http, run_module, monkeypatch):
    monkeypatch.setattr(san_info, 'HAS_JMESPATH', False)
    with pytest.raises(ModuleFailed) as failed:
        run_module(san_info, dict(CONNECTION, gather=['luns'], query='luns'))
    assert failed.value.result['error_code'] == 'missing_library'
    assert 'jmespath' in failed.value.result['msg']
    assert http.calls == []
