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

from ansible_collections.san.iscsi.plugins.module_utils import _san_factory
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import SanInvalid, SanNotFound
from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import OntapModule

CREDENTIALS = '/api/protocols/san/iscsi/credentials'


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


# -- iSCSI credentials --------------------------------------------------------------------------------
def svm_uuid(emulator):
    return rest(emulator, 'GET', '/api/svm/svms?name=svm1')[1]['records'][0]['uuid']


def credential_body(initiator, chap, authentication_type='chap'):
    body = {'svm': {'name': 'svm1'}, 'initiator': initiator, 'authentication_type': authentication_type}
    if chap is not None:
        body['chap'] = chap
    return body


def count_credentials(emulator, initiator):
    return rest(emulator, 'GET', CREDENTIALS + '?initiator=%s' % initiator)[1]['num_records']


def rest_backend(emulator):
    return _san_factory.ontap_backend(OntapModule(hostname='127.0.0.1', http_port=emulator.port, password='netapp1!',
                                                  ca_path=emulator.cert, use_rest='always'))


def test_the_default_credential_of_an_svm_can_change_but_not_go(emulator):
    path = CREDENTIALS + '/%s/default' % svm_uuid(emulator)
    assert rest(emulator, 'GET', path + '?fields=authentication_type')[1]['authentication_type'] == 'none'
    status, body = rest(emulator, 'DELETE', path)
    assert (status, body['error']['code']) == (400, '5374148')
    assert rest(emulator, 'PATCH', path, {'authentication_type': 'deny'})[0] == 200
    assert rest(emulator, 'GET', path)[1]['authentication_type'] == 'deny'
    assert rest(emulator, 'PATCH', path, {'authentication_type': 'none'})[0] == 200


def test_passwords_are_write_only(emulator):
    initiator = 'iqn.2026-11.lab.san-iscsi:writeonly'
    chap = {'inbound': {'user': 'host', 'password': 'in-secret-1'}, 'outbound': {'user': 'array', 'password': 'out-secret-1'}}
    assert rest(emulator, 'POST', CREDENTIALS, credential_body(initiator, chap))[0] == 201
    entry = '%s/%s/%s' % (CREDENTIALS, svm_uuid(emulator), initiator.replace(':', '%3A'))
    for path in (CREDENTIALS + '?fields=*', CREDENTIALS + '?fields=**', CREDENTIALS + '?fields=chap', entry,
                 entry + '?fields=*'):
        status, data = call(emulator, 'GET', path)
        assert status == 200 and b'"user": "host"' in data and b'secret' not in data
    for query in ('fields=chap.inbound.password', 'chap.outbound.password=out-secret-1'):
        status, body = rest(emulator, 'GET', CREDENTIALS + '?' + query)
        assert (status, body['error']['code']) == (400, '2')


@pytest.mark.parametrize('chap, authentication_type, code', [
    ({'inbound': {'user': 'u' * 129, 'password': 'in-secret-1'}}, 'chap', '2'),
    ({'inbound': {'user': '', 'password': 'in-secret-1'}}, 'chap', '2'),
    ({'inbound': {'user': 'host', 'password': 'p' * 513}}, 'chap', '2'),
    ({'inbound': {'user': 'host', 'password': ''}}, 'chap', '2'),
    ({'inbound': {'user': 'host', 'password': 'same-secret'}, 'outbound': {'user': 'array', 'password': 'same-secret'}},
     'chap', '5374147'),
    ({'inbound': {'user': 'host', 'password': '0xabc'}}, 'chap', '5374145'),
    ({'inbound': {'user': 'host', 'password': '0xzz'}}, 'chap', '5374145'),
    ({'outbound': {'user': 'array', 'password': 'out-secret-1'}}, 'chap', '5374149'),
    (None, 'chap', '5374149'),
    ({'inbound': {'user': 'host', 'password': 'in-secret-1'}, 'outbound': {'user': 'array'}}, 'chap', '5374150'),
    ({'inbound': {'user': 'host', 'password': 'in-secret-1'}}, 'none', '5374900'),
    ({'inbound': {'user': 'host', 'password': 'in-secret-1'}}, 'deny', '5374900'),
])
def test_documented_refusals_of_a_new_credential(emulator, chap, authentication_type, code):
    initiator = 'iqn.2026-11.lab.san-iscsi:refused'
    status, body = rest(emulator, 'POST', CREDENTIALS, credential_body(initiator, chap, authentication_type))
    assert (status, body['error']['code']) == (400, code)
    passwords = [side['password'] for side in (chap or {}).values() if side.get('password')]
    assert not [password for password in passwords if password in body['error']['message']]
    assert count_credentials(emulator, initiator) == 0


@pytest.mark.parametrize('user, password', [('u' * 128, 'p' * 512), ('h', 'x'), ('host', '0xAb12')])
def test_the_limits_themselves_are_accepted(emulator, user, password):
    initiator = 'iqn.2026-11.lab.san-iscsi:limits-%d' % len(user + password)
    chap = {'inbound': {'user': user, 'password': password}}
    assert rest(emulator, 'POST', CREDENTIALS, credential_body(initiator, chap))[0] == 201
    assert rest(emulator, 'DELETE', '%s/%s/%s' % (CREDENTIALS, svm_uuid(emulator), initiator))[0] == 200


def test_duplicate_and_missing_credentials(emulator):
    initiator = 'iqn.2026-11.lab.san-iscsi:dup'
    assert rest(emulator, 'POST', CREDENTIALS, credential_body(initiator, None, 'deny'))[0] == 201
    status, body = rest(emulator, 'POST', CREDENTIALS, credential_body(initiator.upper(), None, 'none'))
    assert (status, body['error']['code']) == (409, '5374142')
    missing = '%s/%s/iqn.2026-11.lab.san-iscsi%%3Anope' % (CREDENTIALS, svm_uuid(emulator))
    for method, body in (('GET', None), ('PATCH', {'authentication_type': 'none'}), ('DELETE', None)):
        status, answer = rest(emulator, method, missing, body)
        assert (status, answer['error']['code']) == (404, '5374895')
    status, answer = rest(emulator, 'DELETE', CREDENTIALS + '/no-such-svm/' + initiator)
    assert (status, answer['error']['code']) == (404, '2621462')


def test_patch_clears_outbound_with_an_empty_user_and_refuses_chap_without_chap(emulator):
    initiator = 'iqn.2026-11.lab.san-iscsi:patch'
    chap = {'inbound': {'user': 'host', 'password': 'in-secret-1'}, 'outbound': {'user': 'array', 'password': 'out-secret-1'}}
    assert rest(emulator, 'POST', CREDENTIALS, credential_body(initiator, chap))[0] == 201
    entry = '%s/%s/%s' % (CREDENTIALS, svm_uuid(emulator), initiator)
    status, body = rest(emulator, 'PATCH', entry, {'chap': {'outbound': {'password': 'in-secret-1'}}})
    assert (status, body['error']['code']) == (400, '5374147')
    assert rest(emulator, 'PATCH', entry, {'chap': {'outbound': {'user': ''}}})[0] == 200
    assert rest(emulator, 'GET', entry)[1]['chap'] == {'inbound': {'user': 'host'}}
    status, body = rest(emulator, 'PATCH', entry, {'authentication_type': 'deny', 'chap': chap})
    assert (status, body['error']['code']) == (400, '5374900')
    assert rest(emulator, 'PATCH', entry, {'authentication_type': 'deny'})[0] == 200
    assert 'chap' not in rest(emulator, 'GET', entry)[1]


def assert_chap_lifecycle(api, name, missing_code):
    """Create with mutual CHAP, read back in one request, drop and add mutual CHAP, delete, delete again: the
    same steps over REST and ZAPI (test_san_ontap_emulator_zapi uses it too)."""
    assert api.get_chap(name) is None
    created = api.set_chap(name, 'life', 'in-secret-1', 'array', 'out-secret-1')
    assert created == {'initiator': name, 'method': 'chap', 'user': 'life', 'mutual_user': 'array', 'vserver': 'svm1'}
    count = api.request_count()
    assert api.get_chap(name) == created
    assert api.request_count() == count + 1
    assert api.set_chap(name, 'life2', 'in-secret-2') == dict(created, user='life2', mutual_user=None)
    assert api.set_chap(name, 'life2', 'in-secret-2', 'array2', 'out-secret-2')['mutual_user'] == 'array2'
    api.delete_chap(name)
    assert api.get_chap(name) is None
    with pytest.raises(SanNotFound) as missing:
        api.delete_chap(name)
    assert missing.value.code == missing_code


def test_backend_chap_lifecycle_over_rest(emulator):
    assert_chap_lifecycle(rest_backend(emulator), 'iqn.2026-11.lab.san-iscsi:life', '5374895')


@pytest.mark.parametrize('args, code', [(('host', 'same-secret', 'array', 'same-secret'), '5374147'),
                                        (('u' * 129, 'in-secret-1'), '2'), (('host', '0x123'), '5374145')])
def test_backend_reports_the_emulators_refusals_without_secrets(emulator, args, code):
    api = rest_backend(emulator)
    name = 'iqn.2026-11.lab.san-iscsi:refused-by-backend'
    with pytest.raises(SanInvalid) as raised:
        api.set_chap(name, *args)
    assert raised.value.code == code
    assert not [secret for secret in args[1::2] if secret in raised.value.message]
    assert api.get_chap(name) is None


def test_backend_finds_an_entry_whatever_the_case_of_its_initiator(emulator):
    api = rest_backend(emulator)
    assert rest(emulator, 'POST', CREDENTIALS, credential_body('IQN.2026-11.LAB.SAN-ISCSI:MIXED', None, 'deny'))[0] == 201
    name = 'iqn.2026-11.lab.san-iscsi:mixed'
    assert api.get_chap(name) == {'initiator': name, 'method': 'deny', 'user': None, 'mutual_user': None,
                                  'vserver': 'svm1'}
    assert api.set_chap(name, 'mixed', 'in-secret-1')['method'] == 'chap'
    api.delete_chap(name)
    assert count_credentials(emulator, name) == 0


def test_backend_cannot_delete_the_default_credential(emulator):
    with pytest.raises(SanInvalid) as raised:
        rest_backend(emulator).delete_chap('default')
    assert raised.value.code == '5374148'
    assert count_credentials(emulator, 'default') == 1
