# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONTAP emulator's REST conventions (ONTAP REST API reference: query parameters, query operators, bodies,
errors, jobs), one test per gap of issue 16 ("REST" 1-7) and per convention, over real HTTPS on loopback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys
import time

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import open_url

from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator

IQN = 'iqn.2026-11.lab.conventions:host1'


@pytest.fixture
def emulator(tmp_path):
    emu = Emulator(str(tmp_path)).start()
    emu.populate('svm1', 'vol1', luns=3, igroups=2)
    yield emu
    emu.stop()


def rest(emulator, method, path, body=None, headers=False):
    try:
        response = open_url('https://127.0.0.1:%d%s' % (emulator.port, path), method=method,
                            data=json.dumps(body) if body is not None else None, url_username='admin',
                            url_password='netapp1!', force_basic_auth=True, ca_path=emulator.cert, timeout=10,
                            headers={'Content-Type': 'application/json'})
        status, data, header = response.getcode(), response.read(), response.headers
    except HTTPError as exc:
        status, data, header = exc.code, exc.read(), exc.headers
    decoded = json.loads(data) if data else {}
    return (status, decoded, header) if headers else (status, decoded)


def uuid_of(emulator, collection, name):
    return rest(emulator, 'GET', '%s?name=%s' % (collection, quote(name, safe='')))[1]['records'][0]['uuid']


def volume_uuid(emulator):
    return uuid_of(emulator, '/api/storage/volumes', 'vol1')


# -- gap 1: fields= naming objects, * and ** --------------------------------------------------------
def test_gap1_fields_may_name_objects(emulator):
    status, body = rest(emulator, 'GET', '/api/protocols/san/igroups?name=bulk_ig0000&fields=name,uuid,svm,initiators,'
                                         'os_type,protocol,igroups&svm.name=svm1')
    assert status == 200 and body['num_records'] == 1
    record = body['records'][0]
    assert record['svm']['name'] == 'svm1' and record['svm']['uuid']
    assert record['initiators'] == [{'name': 'iqn.2026-11.emulator.bulk:host0000'}]
    lun = rest(emulator, 'GET', '/api/storage/luns?name=/vol/vol1/bulk_lun00000&fields=space')[1]['records'][0]
    assert lun['space'] == {'size': 1048576, 'guarantee': {'requested': False, 'reserved': False}}
    snap_uuid = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots?return_timeout=10' % volume_uuid(emulator),
                     {'name': 's1'})
    assert snap_uuid[0] == 201
    snap = rest(emulator, 'GET', '/api/storage/volumes/%s/snapshots?fields=volume' % volume_uuid(emulator))[1]
    assert snap['records'][0]['volume'] == {'name': 'vol1', 'uuid': volume_uuid(emulator)}


def test_fields_star_and_unknown_objects(emulator):
    lun = rest(emulator, 'GET', '/api/storage/luns?name=/vol/vol1/bulk_lun00000&fields=*')[1]['records'][0]
    assert {'status', 'space', 'location', 'serial_number', 'os_type', 'svm'} <= set(lun)
    assert rest(emulator, 'GET', '/api/storage/luns?fields=**')[0] == 200
    assert rest(emulator, 'GET', '/api/storage/luns?fields=spaceship')[1] == {'error': {
        'message': 'Unexpected argument "spaceship".', 'code': '2', 'target': 'spaceship'}}


# -- gap 2: fields ONTAP has ---------------------------------------------------------------------------
def test_gap2_lun_fields_ontap_has(emulator):
    status, body, headers = rest(emulator, 'POST', '/api/storage/luns', {
        'svm': {'name': 'svm1'}, 'name': '/vol/vol1/g2', 'os_type': 'linux', 'space': {'size': 1048576},
        'qos_policy': {'name': 'gold'}}, headers=True)
    assert status == 201 and headers['Location'].startswith('/api/storage/luns/')
    fields = 'qos_policy.name,status.state,location.volume.name,space.guarantee.requested'
    record = rest(emulator, 'GET', '/api/storage/luns?name=/vol/vol1/g2&fields=' + fields)[1]['records'][0]
    assert record['qos_policy'] == {'name': 'gold'} and record['status'] == {'state': 'online'}
    assert record['location'] == {'volume': {'name': 'vol1'}}
    assert record['space'] == {'guarantee': {'requested': False}}


def test_gap2_nested_igroups(emulator):
    status, dummy = rest(emulator, 'POST', '/api/protocols/san/igroups', {
        'svm': {'name': 'svm1'}, 'name': 'parent', 'os_type': 'linux', 'protocol': 'iscsi',
        'igroups': [{'name': 'bulk_ig0000'}, {'name': 'bulk_ig0001'}]})
    assert status == 201
    record = rest(emulator, 'GET', '/api/protocols/san/igroups?name=parent&fields=igroups.name')[1]['records'][0]
    assert [child['name'] for child in record['igroups']] == ['bulk_ig0000', 'bulk_ig0001']
    status, body = rest(emulator, 'POST', '/api/protocols/san/igroups/%s/initiators'
                        % uuid_of(emulator, '/api/protocols/san/igroups', 'parent'), {'name': IQN})
    assert (status, body['error']['code']) == (400, '2')


def test_gap2_snapshot_comment_expiry_and_svm_in_post(emulator):
    vol = volume_uuid(emulator)
    status, dummy = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots?return_timeout=10' % vol, {
        'name': 'kept', 'comment': 'for a week', 'expiry_time': '2026-12-09T00:00:00+00:00', 'svm': {'name': 'svm1'}})
    assert status == 201
    record = rest(emulator, 'GET', '/api/storage/volumes/%s/snapshots?name=kept&fields=comment,expiry_time' % vol)[1]
    assert record['records'][0]['comment'] == 'for a week'
    assert record['records'][0]['expiry_time'] == '2026-12-09T00:00:00+00:00'
    status, body = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots' % vol, {
        'name': 'other', 'svm': {'name': 'nope'}})
    assert (status, body['error']['code']) == (404, '2621462')


# -- gap 3: return_timeout on POST, PATCH, DELETE --------------------------------------------------------
def test_gap3_return_timeout_on_writes(emulator):
    igroup = uuid_of(emulator, '/api/protocols/san/igroups', 'bulk_ig0000')
    assert rest(emulator, 'POST', '/api/protocols/san/igroups/%s/initiators?return_timeout=30' % igroup,
                {'name': IQN})[0] == 201
    assert rest(emulator, 'PATCH', '/api/protocols/san/igroups/%s?return_timeout=30' % igroup,
                {'os_type': 'windows'})[0] == 200
    assert rest(emulator, 'DELETE', '/api/protocols/san/igroups/%s/initiators/%s?return_timeout=30'
                % (igroup, quote(IQN, safe='')))[0] == 200
    lun = uuid_of(emulator, '/api/storage/luns', '/vol/vol1/bulk_lun00000')
    assert rest(emulator, 'DELETE', '/api/storage/luns/%s?return_timeout=30' % lun)[0] == 200
    status, body = rest(emulator, 'PATCH', '/api/protocols/san/igroups/%s?return_timeout=121' % igroup,
                        {'os_type': 'linux'})
    assert (status, body['error']['target']) == (400, 'return_timeout')


def test_return_timeout_waits_for_a_job_and_without_it_a_job_is_returned(emulator):
    vol = volume_uuid(emulator)
    status, body = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots?return_timeout=15' % vol, {'name': 'now'})
    assert status == 201 and body['job']['uuid']
    assert rest(emulator, 'GET', '/api/storage/volumes/%s/snapshots?name=now' % vol)[1]['num_records'] == 1
    status, body = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots' % vol, {'name': 'later'})
    assert status == 202 and body['job']['_links']['self']['href'] == '/api/cluster/jobs/%s' % body['job']['uuid']


# -- gap 4: dotted and nested bodies ------------------------------------------------------------------
def test_gap4_dotted_keys_in_bodies(emulator):
    status, dummy = rest(emulator, 'POST', '/api/storage/luns', {
        'svm.name': 'svm1', 'name': '/vol/vol1/dotted', 'os_type': 'linux', 'space.size': 1048576})
    assert status == 201
    lun = uuid_of(emulator, '/api/storage/luns', '/vol/vol1/dotted')
    assert rest(emulator, 'PATCH', '/api/storage/luns/%s' % lun, {'space.guarantee.requested': True})[0] == 200
    record = rest(emulator, 'GET', '/api/storage/luns/%s?fields=space' % lun)[1]
    assert record['space'] == {'size': 1048576, 'guarantee': {'requested': True, 'reserved': True}}
    status, body = rest(emulator, 'PATCH', '/api/storage/luns/%s' % lun, {'space.size': 2097152,
                                                                          'space': {'size': 4194304}})
    assert (status, body['error']['code']) == (400, '2')


def test_read_only_create_only_and_unknown_body_fields_are_refused(emulator):
    status, body = rest(emulator, 'POST', '/api/storage/luns', {
        'svm': {'name': 'svm1'}, 'name': '/vol/vol1/ro', 'os_type': 'linux', 'space': {'size': 1048576},
        'serial_number': 'abc'})
    assert (status, body['error']) == (400, {'message': 'Field "serial_number" cannot be set in this operation.',
                                             'code': '2', 'target': 'serial_number'})
    igroup = uuid_of(emulator, '/api/protocols/san/igroups', 'bulk_ig0000')
    status, body = rest(emulator, 'PATCH', '/api/protocols/san/igroups/%s' % igroup, {'protocol': 'fcp'})
    assert (status, body['error']['target']) == (400, 'protocol')
    status, body = rest(emulator, 'PATCH', '/api/protocols/san/igroups/%s' % igroup, {'colour': 'red'})
    assert body['error'] == {'message': 'Unexpected argument "colour".', 'code': '2', 'target': 'colour'}
    status, body = rest(emulator, 'PATCH', '/api/protocols/san/igroups/%s' % igroup, {'os_type': 'plan9'})
    assert (status, body['error']['target']) == (400, 'os_type')


# -- gap 5: filter fields in the records --------------------------------------------------------------
def test_gap5_filter_fields_are_returned(emulator):
    body = rest(emulator, 'GET', '/api/storage/luns?svm.name=svm1&location.volume.name=vol1&os_type=linux'
                                 '&fields=space.size')[1]
    assert body['num_records'] == 3
    for record in body['records']:
        assert record['svm']['name'] == 'svm1' and record['location']['volume']['name'] == 'vol1'
        assert record['os_type'] == 'linux' and record['space']['size'] == 1048576


# -- gap 6: booleans in queries ----------------------------------------------------------------------
def test_gap6_query_booleans_ignore_case(emulator):
    rest(emulator, 'POST', '/api/protocols/san/lun-maps', {
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/bulk_lun00000'}, 'igroup': {'name': 'bulk_ig0000'}})
    igroup = uuid_of(emulator, '/api/protocols/san/igroups', 'bulk_ig0000')
    status, body = rest(emulator, 'DELETE', '/api/protocols/san/igroups/%s?allow_delete_while_mapped=yes' % igroup)
    assert (status, body['error']['target']) == (400, 'allow_delete_while_mapped')
    assert rest(emulator, 'DELETE', '/api/protocols/san/igroups/%s?allow_delete_while_mapped=True' % igroup)[0] == 200
    assert rest(emulator, 'GET', '/api/storage/luns?enabled=TRUE')[1]['num_records'] == 3
    assert rest(emulator, 'GET', '/api/storage/luns?enabled=False')[1]['num_records'] == 0


# -- gap 7: jobs queue, run and can fail ---------------------------------------------------------------
def test_gap7_jobs_queue_run_and_succeed(emulator, monkeypatch):
    monkeypatch.setattr(emulator.state, 'job_queue_seconds', 0.4)
    monkeypatch.setattr(emulator.state, 'job_run_seconds', 0.4)
    vol = volume_uuid(emulator)
    job = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots' % vol, {'name': 'j'})[1]['job']['uuid']
    states = []
    deadline = time.time() + 5
    while time.time() < deadline and (not states or states[-1] not in ('success', 'failure')):
        record = rest(emulator, 'GET', '/api/cluster/jobs/%s' % job)[1]
        if not states or states[-1] != record['state']:
            states.append(record['state'])
        time.sleep(0.05)
    assert states == ['queued', 'running', 'success']
    record = rest(emulator, 'GET', '/api/cluster/jobs/%s?fields=start_time,end_time' % job)[1]
    assert record['start_time'] <= record['end_time']


def test_gap7_the_next_job_fails_on_request(emulator):
    vol = volume_uuid(emulator)
    emulator.fail_next_job('Snapshot copy creation failed (injected).', 1638555)
    job = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots' % vol, {'name': 'doomed'})[1]['job']['uuid']
    time.sleep(emulator.state.job_queue_seconds + emulator.state.job_run_seconds)
    record = rest(emulator, 'GET', '/api/cluster/jobs/%s' % job)[1]
    assert (record['state'], record['code'], record['error']) == (
        'failure', 1638555, {'message': 'Snapshot copy creation failed (injected).', 'code': '1638555'})
    assert rest(emulator, 'GET', '/api/storage/volumes/%s/snapshots?name=doomed' % vol)[1]['num_records'] == 0
    # the switch is spent: the next job succeeds; over HTTP (for targets running the emulator as a process)
    status, dummy = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots?return_timeout=5' % vol, {'name': 'ok'})
    assert status == 201
    assert rest(emulator, 'POST', '/_emulator/control', {'fail_next_job': {'message': 'nope', 'code': 2}})[0] == 200
    status, body = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots?return_timeout=5' % vol, {'name': 'x'})
    assert (status, body['error']) == (400, {'message': 'nope', 'code': '2'})


# -- query conventions -----------------------------------------------------------------------------
def test_query_operators(emulator):
    def names(query):
        body = rest(emulator, 'GET', '/api/storage/luns?' + query)[1]
        return [record['name'].rsplit('/', 1)[1] for record in body['records']]
    assert names('name=*lun00001|*lun00002') == ['bulk_lun00001', 'bulk_lun00002']
    assert names('name=!*lun00001') == ['bulk_lun00000', 'bulk_lun00002']
    lun = uuid_of(emulator, '/api/storage/luns', '/vol/vol1/bulk_lun00002')
    rest(emulator, 'PATCH', '/api/storage/luns/%s' % lun, {'space': {'size': 4194304}})
    assert names('space.size=>1048576') == ['bulk_lun00002']
    assert names('space.size=<=1048576') == ['bulk_lun00000', 'bulk_lun00001']
    assert names('space.size=2000000..5000000') == ['bulk_lun00002']
    assert names('space.size=<1') == []
    status, body = rest(emulator, 'GET', '/api/storage/luns?space.size=big')
    assert (status, body['error']['target']) == (400, 'space.size')


def test_order_by_max_records_and_return_records(emulator):
    body = rest(emulator, 'GET', '/api/storage/luns?order_by=name%20desc&max_records=2')[1]
    assert [r['name'] for r in body['records']] == ['/vol/vol1/bulk_lun00002', '/vol/vol1/bulk_lun00001']
    following = rest(emulator, 'GET', body['_links']['next']['href'])[1]
    assert [r['name'] for r in following['records']] == ['/vol/vol1/bulk_lun00000']
    assert 'next' not in following['_links']
    assert rest(emulator, 'GET', '/api/storage/luns?return_records=false')[1] == {'num_records': 3}
    status, body = rest(emulator, 'POST', '/api/protocols/san/igroups?return_records=true', {
        'svm': {'name': 'svm1'}, 'name': 'rr', 'os_type': 'linux', 'protocol': 'iscsi'})
    assert status == 201 and body['num_records'] == 1 and body['records'][0]['name'] == 'rr'
    assert rest(emulator, 'GET', '/api/storage/luns?order_by=colour')[1]['error']['target'] == 'colour'


def test_without_netapp_ontap_the_model_fails_with_a_hint(monkeypatch):
    from ansible_collections.san.iscsi.tests.doubles import ontap_rest_model
    monkeypatch.setitem(sys.modules, 'netapp_ontap', None)  # import netapp_ontap now raises ImportError
    with pytest.raises(RuntimeError) as missing:
        ontap_rest_model.Models()
    assert 'netapp-ontap' in str(missing.value) and 'tests/requirements.txt' in str(missing.value)
