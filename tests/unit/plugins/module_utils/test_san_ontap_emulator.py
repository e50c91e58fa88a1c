# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONTAP emulator (tests/doubles) is strict where ONTAP is: these checks keep it honest, since the
integration targets and the benchmark trust it. Real HTTPS on loopback, real certificate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url

from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    emu = Emulator(str(tmp_path_factory.mktemp('emu'))).start()
    emu.populate('svm1', 'vol1', luns=3, igroups=2)
    yield emu
    emu.stop()


def call(emulator, method, path, body=None, password='netapp1!', raw=None):
    try:
        response = open_url('https://127.0.0.1:%d%s' % (emulator.port, path), method=method,
                            data=raw if raw is not None else (json.dumps(body) if body is not None else None),
                            url_username='admin', url_password=password, force_basic_auth=True,
                            ca_path=emulator.cert, timeout=10, headers={'Content-Type': 'application/json'})
        return response.getcode(), response.read()
    except HTTPError as exc:
        return exc.code, exc.read()


def rest(emulator, method, path, body=None, **kwargs):
    status, data = call(emulator, method, path, body, **kwargs)
    return status, json.loads(data) if data.startswith(b'{') else data


def test_wrong_password_is_401(emulator):
    status, body = rest(emulator, 'GET', '/api/cluster', password='nope')
    assert status == 401 and body['error']['code'] == '6'


def test_unknown_field_and_unknown_filter_are_rejected(emulator):
    assert rest(emulator, 'GET', '/api/storage/luns?fields=name,bogus')[1]['error'] == {
        'code': '2', 'message': 'Unexpected argument "bogus".', 'target': 'bogus'}
    assert rest(emulator, 'GET', '/api/storage/luns?colour=red')[0] == 400


def test_fields_projection_wildcards_and_paging(emulator):
    status, body = rest(emulator, 'GET', '/api/storage/luns?name=/vol/vol1/bulk_lun0000*&fields=space.size'
                                         '&max_records=2')
    assert status == 200 and body['num_records'] == 2
    assert set(body['records'][0]) == {'name', 'uuid', 'space'}
    status, body = rest(emulator, 'GET', body['_links']['next']['href'])
    assert body['num_records'] == 1 and '_links' in body and 'next' not in body['_links']


def test_snapshot_create_is_an_async_job(emulator, monkeypatch):
    monkeypatch.setattr(emulator.state, 'job_queue_seconds', 0.5)
    monkeypatch.setattr(emulator.state, 'job_run_seconds', 0.5)
    volume = rest(emulator, 'GET', '/api/storage/volumes?name=vol1')[1]['records'][0]
    status, body = rest(emulator, 'POST', '/api/storage/volumes/%s/snapshots' % volume['uuid'], {'name': 'j1'})
    assert status == 202
    job = '/api/cluster/jobs/%s' % body['job']['uuid']
    # queued, then running, then done, by the clock (State.job_queue_seconds, job_run_seconds)
    assert rest(emulator, 'GET', job)[1]['state'] == 'queued'
    time.sleep(emulator.state.job_queue_seconds)
    assert rest(emulator, 'GET', job)[1]['state'] in ('running', 'success')
    time.sleep(emulator.state.job_run_seconds)
    assert rest(emulator, 'GET', job)[1]['state'] == 'success'
    snaps = rest(emulator, 'GET', '/api/storage/volumes/%s/snapshots?name=j1' % volume['uuid'])[1]
    assert snaps['num_records'] == 1


def test_lun_map_errors_use_documented_codes(emulator):
    status, body = rest(emulator, 'POST', '/api/protocols/san/lun-maps', {
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/bulk_lun00000'}, 'igroup': {'name': 'nope'}})
    assert (status, body['error']['code']) == (404, '5374878')
    status, body = rest(emulator, 'POST', '/api/protocols/san/lun-maps', {
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/bulk_lun00000'}, 'igroup': {'name': 'bulk_ig0000'},
        'logical_unit_number': 4096})
    assert (status, body['error']['code']) == (400, '2')


def test_mapped_igroup_delete_needs_allow_delete_while_mapped(emulator):
    rest(emulator, 'POST', '/api/protocols/san/lun-maps', {
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/bulk_lun00001'}, 'igroup': {'name': 'bulk_ig0001'}})
    igroup = rest(emulator, 'GET', '/api/protocols/san/igroups?name=bulk_ig0001')[1]['records'][0]
    status, body = rest(emulator, 'DELETE', '/api/protocols/san/igroups/%s' % igroup['uuid'])
    assert (status, body['error']['code']) == (409, '1254213')
    assert rest(emulator, 'DELETE', '/api/protocols/san/igroups/%s?allow_delete_while_mapped=true'
                % igroup['uuid'])[0] == 200


def test_zapi_needs_vserver_tunnelling_and_reports_errno(emulator):
    request = (b'<?xml version="1.0" encoding="UTF-8"?><netapp xmlns="http://www.netapp.com/filer/admin" '
               b'version="1.201"%s><lun-get-iter><query><lun-info><path>/vol/vol1/bulk_lun00002</path></lun-info>'
               b'</query></lun-get-iter></netapp>')
    status, body = call(emulator, 'POST', '/servlets/netapp.servlets.admin.XMLrequest_filer', raw=request % b'')
    assert status == 200 and b'status="failed"' in body and b'errno="13005"' in body
    status, body = call(emulator, 'POST', '/servlets/netapp.servlets.admin.XMLrequest_filer',
                        raw=request % b' vfiler="svm1"')
    assert b'status="passed"' in body and b'<num-records>1</num-records>' in body


def test_removing_an_initiator_of_a_mapped_igroup_needs_force(emulator):
    """What san.iscsi.igroup force=true sends: REST allow_delete_while_mapped, ZAPI igroup-remove force."""
    rest(emulator, 'POST', '/api/protocols/san/lun-maps', {
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/bulk_lun00002'}, 'igroup': {'name': 'bulk_ig0000'}})
    igroup = rest(emulator, 'GET', '/api/protocols/san/igroups?name=bulk_ig0000')[1]['records'][0]
    path = '/api/protocols/san/igroups/%s/initiators/iqn.2026-11.emulator.bulk%%3Ahost0000' % igroup['uuid']
    status, body = rest(emulator, 'DELETE', path)
    assert (status, body['error']['code']) == (409, '1254213')
    request = (b'<?xml version="1.0" encoding="UTF-8"?><netapp xmlns="http://www.netapp.com/filer/admin" '
               b'version="1.201" vfiler="svm1"><igroup-remove><initiator-group-name>bulk_ig0000</initiator-group-name>'
               b'<initiator>iqn.2026-11.emulator.bulk:host0000</initiator><force>%s</force></igroup-remove></netapp>')
    zapi = '/servlets/netapp.servlets.admin.XMLrequest_filer'
    status, body = call(emulator, 'POST', zapi, raw=request % b'false')
    assert b'status="failed"' in body and b'errno="9029"' in body  # EVDISK_ERROR_INITGROUP_MAPS_EXIST
    status, body = call(emulator, 'POST', zapi, raw=request % b'true')
    assert b'status="passed"' in body
    assert rest(emulator, 'GET', '/api/protocols/san/igroups?name=bulk_ig0000&fields=initiators.name'
                )[1]['records'][0].get('initiators', []) == []
