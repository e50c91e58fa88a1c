# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exact REST requests of the ONTAP REST backend for every operation, success and error.
Only the HTTP seam (the connection OntapHttp opens) is replaced."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _san_factory, _san_ontap_rest
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanAuthError, SanConflict, SanConnectionError, SanError, SanInvalid, SanNotFound)
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import (
    BASE, OntapModule, ontap_error, records, tls_failure)

IG_URL = (BASE + '/api/protocols/san/igroups?fields=name%2Cuuid%2Cprotocol%2Cos_type%2Cinitiators.name%2C'
          'lun_maps.logical_unit_number%2Clun_maps.lun.name%2Csvm.name&name=host1&svm.name=svm1')
LUN_URL = (BASE + '/api/storage/luns?fields=name%2Cuuid%2Clocation.volume.name%2Cspace.size%2Cos_type%2C'
           'serial_number%2Ccomment%2Clun_maps.logical_unit_number%2Clun_maps.igroup.name%2Csvm.name'
           '&name=%2Fvol%2Fvol1%2Fdata01&svm.name=svm1')
CLONE_URL = LUN_URL.replace('data01&', 'data01_c&')
VOL_URL = BASE + '/api/storage/volumes?fields=name%2Cuuid&name=vol1&svm.name=svm1'
SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
MAP_URL = (BASE + '/api/protocols/san/lun-maps?fields=logical_unit_number%2Clun.name%2Clun.uuid%2Cigroup.name%2C'
           'igroup.uuid%2Csvm.name&igroup.name=host1&lun.name=%2Fvol%2Fvol1%2Fdata01&svm.name=svm1')
SNAP_URL = BASE + '/api/storage/volumes/v-1/snapshots?fields=name%2Cuuid%2Ccreate_time&name=s1'
CLONES_URL = (BASE + '/api/storage/luns?comment=san.iscsi%3Aclone_from%3D%2Fvol%2Fvol1%2F.snapshot%2Fs1%2F%2A'
              '&fields=name&svm.name=svm1')
JOB_URL = BASE + '/api/cluster/jobs/j-1?fields=state%2Cmessage%2Ccode'

IGROUP = {'name': 'host1', 'uuid': 'ig-1', 'protocol': 'iscsi', 'os_type': 'linux', 'svm': {'name': 'svm1'},
          'initiators': [{'name': 'iqn.2026-11.lab.san-iscsi:host1'}], 'lun_maps': []}
MAPPED_IGROUP = dict(IGROUP, lun_maps=[{'logical_unit_number': 3, 'lun': {'name': '/vol/vol1/data01'}}])
LUN = {'name': '/vol/vol1/data01', 'uuid': 'l-1', 'location': {'volume': {'name': 'vol1'}},
       'space': {'size': 1073741824}, 'os_type': 'linux', 'serial_number': 'wEmAbCdEfGhI', 'comment': '',
       'svm': {'name': 'svm1'}, 'lun_maps': []}
MAP = {'logical_unit_number': 3, 'lun': {'name': '/vol/vol1/data01', 'uuid': 'l-1'},
       'igroup': {'name': 'host1', 'uuid': 'ig-1'}, 'svm': {'name': 'svm1'}}
VOLUME = {'name': 'vol1', 'uuid': 'v-1'}
SNAPSHOT = {'name': 's1', 'uuid': 's-1', 'create_time': '2026-11-21T10:00:00+00:00'}
JOB = {'job': {'uuid': 'j-1', '_links': {'self': {'href': '/api/cluster/jobs/j-1'}}}}
HOST1 = 'iqn.2026-11.lab.san-iscsi:host1'
CHAP_URL = (BASE + '/api/protocols/san/iscsi/credentials?fields=initiator%2Cauthentication_type%2Cchap.inbound.user%2C'
            'chap.outbound.user%2Csvm.name%2Csvm.uuid&initiator=iqn.2026-11.lab.san-iscsi%3Ahost1&svm.name=svm1')
CHAP_ENTRY_URL = BASE + '/api/protocols/san/iscsi/credentials/svm-1/iqn.2026-11.lab.san-iscsi%3Ahost1'
CHAP_RECORD = {'initiator': HOST1, 'authentication_type': 'chap', 'chap': {'inbound': {'user': 'host1'}},
               'svm': {'name': 'svm1', 'uuid': 'svm-1'}}
MUTUAL_RECORD = dict(CHAP_RECORD, chap={'inbound': {'user': 'host1'}, 'outbound': {'user': 'array1'}})
CHAP = {'initiator': HOST1, 'method': 'chap', 'user': 'host1', 'mutual_user': None, 'vserver': 'svm1'}


def backend(http, **params):
    http.probe()
    return _san_factory.ontap_backend(OntapModule(**params))


@pytest.fixture(autouse=True)
def _instant_waits(no_sleep):
    """Job polls and retry waits return at once in this file."""


def test_probe_picks_rest_and_counts_requests(http):
    result = backend(http)
    assert isinstance(result, _san_ontap_rest.OntapRestBackend)
    assert result.version == (9, 12, 1)
    assert result.request_count() == 1


def test_missing_connection_options_fail_before_any_request(http):
    with pytest.raises(SanInvalid, match='provider=ontap needs password'):
        _san_factory.ontap_backend(OntapModule(password=None))
    assert http.calls == []


def test_wrong_credentials_raise_auth_error_with_ontap_code(http):
    http.expect('GET', BASE + '/api/cluster?fields=version', status=401,
                reply=ontap_error('6', 'User is not authorized.'))
    with pytest.raises(SanAuthError) as raised:
        _san_factory.ontap_backend(OntapModule())
    assert raised.value.code == '6'
    assert "user 'admin'" in raised.value.message and 'HTTP 401' in raised.value.message


def test_tls_verification_failure_is_a_connection_error(http):
    http.expect('GET', BASE + '/api/cluster?fields=version', exception=tls_failure(BASE))
    with pytest.raises(SanConnectionError) as raised:
        _san_factory.ontap_backend(OntapModule())
    assert raised.value.code == 'tls'
    assert 'TLS certificate verification failed' in raised.value.message


def test_use_rest_always_refuses_an_old_cluster(http):
    http.expect('GET', BASE + '/api/cluster?fields=version', status=404, reply={})
    with pytest.raises(SanInvalid, match='use_rest=always'):
        _san_factory.ontap_backend(OntapModule(use_rest='always'))


def test_get_igroup_one_request_by_name(http):
    api = backend(http)
    http.expect('GET', IG_URL, reply=records(MAPPED_IGROUP))
    assert api.get_igroup('host1') == {
        'name': 'host1', 'protocol': 'iscsi', 'os_type': 'linux', 'initiators': ['iqn.2026-11.lab.san-iscsi:host1'],
        'maps': [{'path': '/vol/vol1/data01', 'lun_id': 3}], 'vserver': 'svm1', 'uuid': 'ig-1'}
    assert api.request_count() == 2


def test_get_igroup_absent_returns_none(http):
    api = backend(http)
    http.expect('GET', IG_URL, reply=records())
    assert api.get_igroup('host1') is None


def test_check_connection_unknown_vserver(http):
    api = backend(http)
    http.expect('GET', SVM_URL, reply=records())
    with pytest.raises(SanNotFound, match="vserver 'svm1' does not exist"):
        api.check_connection()


def test_create_igroup_posts_initiators_then_reads_back(http):
    api = backend(http)
    http.expect('POST', BASE + '/api/protocols/san/igroups', body={
        'svm': {'name': 'svm1'}, 'name': 'host1', 'protocol': 'iscsi', 'os_type': 'linux',
        'initiators': [{'name': 'iqn.2026-11.lab.san-iscsi:host1'}]}, status=201, reply={})
    http.expect('GET', IG_URL, reply=records(IGROUP))
    assert api.create_igroup('host1', 'iscsi', 'linux', ['iqn.2026-11.lab.san-iscsi:host1'])['uuid'] == 'ig-1'


def test_create_igroup_duplicate_carries_ontap_code(http):
    api = backend(http)
    http.expect('POST', BASE + '/api/protocols/san/igroups', body={
        'svm': {'name': 'svm1'}, 'name': 'host1', 'protocol': 'iscsi', 'os_type': 'linux'}, status=409,
        reply=ontap_error('1', 'An initiator group with the name "host1" already exists.'))
    with pytest.raises(SanError) as raised:
        api.create_igroup('host1', 'iscsi', 'linux', [])
    assert raised.value.code == '1'
    assert 'already exists' in raised.value.message


def test_add_and_remove_initiators(http):
    api = backend(http)
    http.expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('POST', BASE + '/api/protocols/san/igroups/ig-1/initiators',
                body={'records': [{'name': 'iqn.2026-11.lab.san-iscsi:host1-b'}]}, status=201, reply={})
    http.expect('GET', IG_URL, reply=records(IGROUP))
    api.add_initiators('host1', ['iqn.2026-11.lab.san-iscsi:host1-b'])
    http.expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('DELETE', BASE + '/api/protocols/san/igroups/ig-1/initiators/iqn.2026-11.lab.san-iscsi%3Ahost1',
                reply={})
    http.expect('GET', IG_URL, reply=records(dict(IGROUP, initiators=[])))
    assert api.remove_initiators('host1', ['iqn.2026-11.lab.san-iscsi:host1'], force=True)['initiators'] == []


def test_remove_initiators_from_a_mapped_igroup_needs_force(http):
    api = backend(http)
    http.expect('GET', IG_URL, reply=records(MAPPED_IGROUP))
    with pytest.raises(SanConflict) as refused:
        api.remove_initiators('host1', ['iqn.2026-11.lab.san-iscsi:host1'])
    assert refused.value.message == (
        "refusing to remove initiator(s) iqn.2026-11.lab.san-iscsi:host1 from igroup 'host1': it is mapped to "
        "/vol/vol1/data01 (LUN 3) and those hosts would lose access to them; unmap first or set force=true")
    assert http.writes() == []


@pytest.mark.parametrize('version', [(9, 6, 0), (9, 12, 1)])
def test_forced_removal_from_a_mapped_igroup_allows_it_while_mapped(http, version):
    """allow_delete_while_mapped is in the 9.6 REST reference of DELETE .../initiators/{name}: no version gate."""
    http.expect('GET', BASE + '/api/cluster?fields=version',
                reply={'version': dict(zip(('generation', 'major', 'minor'), version))})
    api = _san_factory.ontap_backend(OntapModule())
    assert api.version == version
    http.expect('GET', IG_URL, reply=records(MAPPED_IGROUP))
    http.expect('DELETE', BASE + '/api/protocols/san/igroups/ig-1/initiators/iqn.2026-11.lab.san-iscsi%3Ahost1'
                '?allow_delete_while_mapped=true', reply={})
    http.expect('GET', IG_URL, reply=records(dict(MAPPED_IGROUP, initiators=[])))
    assert api.remove_initiators('host1', ['iqn.2026-11.lab.san-iscsi:host1'], force=True)['maps'] == [
        {'path': '/vol/vol1/data01', 'lun_id': 3}]


def test_set_igroup_os_type_patches(http):
    api = backend(http)
    http.expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('PATCH', BASE + '/api/protocols/san/igroups/ig-1', body={'os_type': 'vmware'}, reply={})
    http.expect('GET', IG_URL, reply=records(dict(IGROUP, os_type='vmware')))
    assert api.set_igroup_os_type('host1', 'vmware')['os_type'] == 'vmware'


def test_delete_mapped_igroup_needs_force(http):
    api = backend(http)
    http.expect('GET', IG_URL, reply=records(MAPPED_IGROUP))
    with pytest.raises(SanConflict, match='mapped to /vol/vol1/data01'):
        api.delete_igroup('host1')
    http.expect('GET', IG_URL, reply=records(MAPPED_IGROUP))
    http.expect('DELETE', BASE + '/api/protocols/san/igroups/ig-1?allow_delete_while_mapped=true', reply={})
    api.delete_igroup('host1', force=True)
    assert http.writes() == [('DELETE', BASE + '/api/protocols/san/igroups/ig-1?allow_delete_while_mapped=true',
                              None)]


def test_get_lun_returns_serial_and_wwid(http):
    api = backend(http)
    http.expect('GET', LUN_URL, reply=records(LUN))
    lun = api.get_lun('vol1', 'data01')
    assert (lun['serial'], lun['wwid'], lun['size']) == ('wEmAbCdEfGhI', 'naa.600a098077456d416243644566476849',
                                                         1073741824)


def test_get_lun_in_unknown_volume(http):
    api = backend(http)
    http.expect('GET', LUN_URL, reply=records())
    http.expect('GET', VOL_URL, reply=records())
    http.expect('GET', SVM_URL, reply=records({'name': 'svm1', 'uuid': 'svm-1'}))
    with pytest.raises(SanNotFound, match="volume 'vol1' does not exist in vserver 'svm1'"):
        api.get_lun('vol1', 'data01')


def test_create_lun(http):
    api = backend(http)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('POST', BASE + '/api/storage/luns', body={'svm': {'name': 'svm1'}, 'name': '/vol/vol1/data01',
                                                          'os_type': 'linux', 'space': {'size': 1073741824}},
                status=201, reply={})
    http.expect('GET', LUN_URL, reply=records(LUN))
    assert api.create_lun('vol1', 'data01', 1073741824, 'linux')['path'] == '/vol/vol1/data01'


def test_clone_lun_from_snapshot_waits_for_the_job_and_records_the_parent(http):
    api = backend(http)
    source = {'volume': 'vol1', 'snapshot': 's1', 'lun': 'data01'}
    comment = 'san.iscsi:clone_from=/vol/vol1/.snapshot/s1/data01'
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('POST', BASE + '/api/storage/file/clone', body={
        'volume': {'name': 'vol1', 'uuid': 'v-1'}, 'source_path': '.snapshot/s1/data01',
        'destination_path': 'data01_c'}, status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'uuid': 'j-1', 'state': 'running'})
    http.expect('GET', JOB_URL, reply={'uuid': 'j-1', 'state': 'success'})
    clone = dict(LUN, name='/vol/vol1/data01_c', uuid='l-2')
    http.expect('GET', CLONE_URL, reply=records(clone))
    http.expect('PATCH', BASE + '/api/storage/luns/l-2', body={'comment': comment}, reply={})
    http.expect('GET', CLONE_URL, reply=records(dict(clone, comment=comment)))
    assert api.clone_lun('vol1', 'data01_c', source, 'linux')['clone_parent'] == source


def test_clone_job_failure_carries_the_job_message(http):
    api = backend(http)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('POST', BASE + '/api/storage/file/clone', body={
        'volume': {'name': 'vol1', 'uuid': 'v-1'}, 'source_path': '.snapshot/s1/nope',
        'destination_path': 'data01_c'}, status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'uuid': 'j-1', 'state': 'failure', 'code': 4,
                                       'message': 'Source file ".snapshot/s1/nope" does not exist.'})
    with pytest.raises(SanError) as raised:
        api.clone_lun('vol1', 'data01_c', {'volume': 'vol1', 'snapshot': 's1', 'lun': 'nope'}, 'linux')
    assert raised.value.code == '4'
    assert 'does not exist' in raised.value.message


def test_clone_from_another_volume_is_refused_without_requests(http):
    api = backend(http)
    with pytest.raises(SanInvalid, match='same volume'):
        api.clone_lun('vol1', 'c', {'volume': 'vol2', 'snapshot': 's1', 'lun': 'data01'}, 'linux')
    assert len(http.calls) == 1


def test_resize_grows_and_refuses_to_shrink(http):
    api = backend(http)
    http.expect('GET', LUN_URL, reply=records(LUN))
    http.expect('PATCH', BASE + '/api/storage/luns/l-1', body={'space': {'size': 2147483648}}, reply={})
    http.expect('GET', LUN_URL, reply=records(dict(LUN, space={'size': 2147483648})))
    assert api.resize_lun('vol1', 'data01', 2147483648)['size'] == 2147483648
    http.expect('GET', LUN_URL, reply=records(LUN))
    with pytest.raises(SanInvalid, match='refusing to shrink'):
        api.resize_lun('vol1', 'data01', 1024)


def test_delete_lun_refuses_while_mapped(http):
    api = backend(http)
    mapped = dict(LUN, lun_maps=[{'logical_unit_number': 3, 'igroup': {'name': 'host1'}}])
    http.expect('GET', LUN_URL, reply=records(mapped))
    with pytest.raises(SanConflict, match='mapped to igroup'):
        api.delete_lun('vol1', 'data01')
    http.expect('GET', LUN_URL, reply=records(LUN))
    http.expect('DELETE', BASE + '/api/storage/luns/l-1', reply={})
    api.delete_lun('vol1', 'data01')


def test_get_lun_map_is_one_request(http):
    api = backend(http)
    http.expect('GET', MAP_URL, reply=records(MAP))
    expected = {'igroup': 'host1', 'path': '/vol/vol1/data01', 'lun_id': 3, 'vserver': 'svm1'}
    assert api.get_lun_map('/vol/vol1/data01', 'host1') == expected
    assert api.request_count() == 2


def test_create_lun_map_with_id(http):
    api = backend(http)
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'host1'},
        'logical_unit_number': 3}, status=201, reply={})
    http.expect('GET', MAP_URL, reply=records(MAP))
    assert api.create_lun_map('/vol/vol1/data01', 'host1', 3)['lun_id'] == 3


def test_create_lun_map_unknown_igroup(http):
    api = backend(http)
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'host1'}}, status=404,
        reply=ontap_error('5374878', 'The specified initiator group does not exist.'))
    with pytest.raises(SanNotFound) as raised:
        api.create_lun_map('/vol/vol1/data01', 'host1')
    assert raised.value.code == '5374878'


def test_create_lun_map_id_in_use_is_a_conflict(http):
    api = backend(http)
    http.expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/data01'}, 'igroup': {'name': 'host1'},
        'logical_unit_number': 0}, status=409, reply=ontap_error('1', 'The logical unit number 0 is already in use.'))
    with pytest.raises(SanConflict, match='already in use'):
        api.create_lun_map('/vol/vol1/data01', 'host1', 0)


def test_delete_lun_map_uses_both_uuids(http):
    api = backend(http)
    http.expect('GET', MAP_URL, reply=records(MAP))
    http.expect('DELETE', BASE + '/api/protocols/san/lun-maps/l-1/ig-1', reply={})
    api.delete_lun_map('/vol/vol1/data01', 'host1')


def test_get_snapshot_lists_dependent_clones(http):
    api = backend(http)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('GET', CLONES_URL, reply=records({'name': '/vol/vol1/data01_c'}))
    assert api.get_snapshot('vol1', 's1')['clones'] == ['/vol/vol1/data01_c']


def test_create_snapshot_waits_for_job_and_confirms(http):
    api = backend(http)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('POST', BASE + '/api/storage/volumes/v-1/snapshots', body={'name': 's1'}, status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'uuid': 'j-1', 'state': 'success'})
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('GET', CLONES_URL, reply=records())
    assert api.create_snapshot('vol1', 's1')['create_time'] == '2026-11-21T10:00:00+00:00'


def test_job_that_never_finishes_times_out(http, monkeypatch):
    api = backend(http, job_timeout=0)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('POST', BASE + '/api/storage/volumes/v-1/snapshots', body={'name': 's1'}, status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'uuid': 'j-1', 'state': 'running'})
    with pytest.raises(SanError, match='still running'):
        api.create_snapshot('vol1', 's1')


def test_delete_snapshot_backing_a_clone_names_the_clone(http):
    api = backend(http)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('GET', CLONES_URL, reply=records({'name': '/vol/vol1/data01_c'}))
    with pytest.raises(SanConflict, match='backs LUN clone.s. /vol/vol1/data01_c'):
        api.delete_snapshot('vol1', 's1')
    assert http.writes() == []


def test_delete_snapshot(http):
    api = backend(http)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('GET', CLONES_URL, reply=records())
    http.expect('DELETE', BASE + '/api/storage/volumes/v-1/snapshots/s-1', status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'uuid': 'j-1', 'state': 'success'})
    api.delete_snapshot('vol1', 's1')


def test_list_follows_next_links(http):
    api = backend(http)
    first = records(IGROUP)
    first['_links'] = {'next': {'href': '/api/protocols/san/igroups?start.index=1'}}
    http.expect('GET', BASE + '/api/protocols/san/igroups?fields=name%2Cuuid%2Cprotocol%2Cos_type%2C'
                'initiators.name%2Clun_maps.logical_unit_number%2Clun_maps.lun.name%2Csvm.name&svm.name=svm1',
                reply=first)
    http.expect('GET', BASE + '/api/protocols/san/igroups?start.index=1', reply=records(dict(IGROUP, name='host2')))
    assert [entry['name'] for entry in api.list_igroups()] == ['host1', 'host2']


def test_lun_path_validation():
    with pytest.raises(SanInvalid):
        _san_ontap_rest.split_ontap_lun_path('/vol/vol1')
    assert _san_ontap_rest.split_ontap_lun_path('/vol/vol1/l1') == ('vol1', 'l1')
    assert _san_ontap_rest.parse_clone_comment('san.iscsi:clone_from=/vol/v/.snapshot/s/l') == {
        'volume': 'v', 'snapshot': 's', 'lun': 'l'}
    assert _san_ontap_rest.parse_clone_comment('user comment') is None


# -- CHAP credentials ----------------------------------------------------------------------------------
def test_get_chap_is_one_request_by_initiator(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records(MUTUAL_RECORD))
    assert api.get_chap(HOST1) == dict(CHAP, mutual_user='array1')
    assert api.request_count() == 2


def test_get_chap_lower_cases_the_arrays_spelling_and_returns_none_without_an_entry(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records(dict(CHAP_RECORD, initiator='IQN.2026-11.Lab.San-iSCSI:Host1')))
    assert api.get_chap(HOST1)['initiator'] == HOST1
    http.expect('GET', CHAP_URL, reply=records())
    assert api.get_chap(HOST1) is None


def test_set_chap_creates_the_entry_then_reads_it_back(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records())
    http.expect('POST', BASE + '/api/protocols/san/iscsi/credentials', body={
        'svm': {'name': 'svm1'}, 'initiator': HOST1, 'authentication_type': 'chap',
        'chap': {'inbound': {'user': 'host1', 'password': 'in-secret-1'},
                 'outbound': {'user': 'array1', 'password': 'out-secret-1'}}}, status=201, reply={})
    http.expect('GET', CHAP_URL, reply=records(MUTUAL_RECORD))
    assert api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1') == dict(CHAP, mutual_user='array1')


def test_set_chap_changes_the_user_and_clears_mutual_chap_with_an_empty_outbound_user(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records(MUTUAL_RECORD))
    http.expect('PATCH', CHAP_ENTRY_URL, body={'authentication_type': 'chap', 'chap': {
        'inbound': {'user': 'host1b', 'password': 'in-secret-2'}, 'outbound': {'user': ''}}}, reply={})
    http.expect('GET', CHAP_URL, reply=records(dict(CHAP_RECORD, chap={'inbound': {'user': 'host1b'}})))
    assert api.set_chap(HOST1, 'host1b', 'in-secret-2') == dict(CHAP, user='host1b')


def test_set_chap_turns_an_entry_of_method_deny_into_mutual_chap_at_the_arrays_url(http):
    api = backend(http)
    deny = {'initiator': 'IQN.2026-11.LAB.SAN-ISCSI:HOST1', 'authentication_type': 'deny',
            'svm': {'name': 'svm1', 'uuid': 'svm-1'}}
    http.expect('GET', CHAP_URL, reply=records(deny))
    http.expect('PATCH', BASE + '/api/protocols/san/iscsi/credentials/svm-1/IQN.2026-11.LAB.SAN-ISCSI%3AHOST1', body={
        'authentication_type': 'chap', 'chap': {'inbound': {'user': 'host1', 'password': 'in-secret-1'},
                                                'outbound': {'user': 'array1', 'password': 'out-secret-1'}}}, reply={})
    http.expect('GET', CHAP_URL, reply=records(MUTUAL_RECORD))
    assert api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1')['method'] == 'chap'


@pytest.mark.parametrize('args', [('host1', ''), ('host1', 's3cret', 'array1', None), ('host1', 's3cret', None, 'x')])
def test_set_chap_with_incomplete_input_sends_nothing(http, args):
    api = backend(http)
    with pytest.raises(SanInvalid):
        api.set_chap(HOST1, *args)
    assert len(http.calls) == 1


def test_set_chap_on_an_entry_created_meanwhile_is_a_conflict(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records())
    http.expect('POST', BASE + '/api/protocols/san/iscsi/credentials', body={
        'svm': {'name': 'svm1'}, 'initiator': HOST1, 'authentication_type': 'chap',
        'chap': {'inbound': {'user': 'host1', 'password': 'in-secret-1'}}}, status=409,
        reply=ontap_error('5374142', 'An iSCSI security credential already exists for the specified initiator.'))
    with pytest.raises(SanConflict) as raised:
        api.set_chap(HOST1, 'host1', 'in-secret-1')
    assert raised.value.code == '5374142'


def test_a_refusal_that_echoes_the_secrets_names_none_of_them(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records())
    body = {'svm': {'name': 'svm1'}, 'initiator': HOST1, 'authentication_type': 'chap',
            'chap': {'inbound': {'user': 'host1', 'password': 'same-secret'},
                     'outbound': {'user': 'array1', 'password': 'same-secret'}}}
    http.expect('POST', BASE + '/api/protocols/san/iscsi/credentials', body=body, status=400,
                reply=ontap_error('5374147', 'The passwords "same-secret" and "same-secret" must be different.'))
    with pytest.raises(SanInvalid) as raised:
        api.set_chap(HOST1, 'host1', 'same-secret', 'array1', 'same-secret')
    error = raised.value
    assert error.code == '5374147' and 'The passwords "********" and "********"' in error.message
    assert 'same-secret' not in repr(error.details) + str(error)
    # no chained exception (the unmasked one) would reach a traceback
    assert error.__context__ is None and error.__cause__ is None
    assert 'same-secret' not in ''.join(traceback.format_exception_only(type(error), error))


def test_delete_chap_deletes_the_entry_by_svm_uuid_and_initiator(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records(CHAP_RECORD))
    http.expect('DELETE', CHAP_ENTRY_URL, reply={})
    api.delete_chap(HOST1)
    assert http.writes() == [('DELETE', CHAP_ENTRY_URL, None)]


def test_delete_chap_without_an_entry_is_not_found(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records())
    http.expect('GET', SVM_URL, reply=records({'name': 'svm1', 'uuid': 'svm-1'}))
    with pytest.raises(SanNotFound, match='has no CHAP credentials') as raised:
        api.delete_chap(HOST1)
    assert raised.value.code == '5374895' and http.writes() == []


def test_delete_chap_of_an_entry_gone_meanwhile_is_not_found(http):
    api = backend(http)
    http.expect('GET', CHAP_URL, reply=records(CHAP_RECORD))
    http.expect('DELETE', CHAP_ENTRY_URL, status=404, reply=ontap_error(
        '5374895', 'The iSCSI security credential does not exist on the specified SVM.'))
    with pytest.raises(SanNotFound) as raised:
        api.delete_chap(HOST1)
    assert raised.value.code == '5374895'
