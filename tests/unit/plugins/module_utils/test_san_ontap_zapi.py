# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exact ZAPI XML of the ONTAP ZAPI backend for every operation, success and error.
Only the HTTP seam (the connection OntapHttp opens, which netapp-lib posts through) is replaced."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.six.moves.urllib.error import HTTPError

from ansible_collections.san.iscsi.plugins.module_utils import _san_factory, _san_ontap_zapi
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanAuthError, SanConflict, SanConnectionError, SanError, SanInvalid, SanNotFound)
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import (
    OntapModule, VERSION_REPLY, VERSION_REQUEST, tls_failure, zapi_failed, zapi_passed, zapi_request)

IG_GET = ('<igroup-get-iter><query><initiator-group-info><initiator-group-name>host1</initiator-group-name>'
          '</initiator-group-info></query><max-records>500</max-records></igroup-get-iter>')
IG_MAPS = ('<lun-map-get-iter><query><lun-map-info><initiator-group>host1</initiator-group></lun-map-info></query>'
           '<max-records>500</max-records></lun-map-get-iter>')
IG_INFO = ('<num-records>1</num-records><attributes-list><initiator-group-info>'
           '<initiator-group-name>host1</initiator-group-name><initiator-group-type>iscsi</initiator-group-type>'
           '<initiator-group-os-type>linux</initiator-group-os-type><initiator-group-uuid>ig-1</initiator-group-uuid>'
           '<vserver>svm1</vserver><initiators><initiator-info><initiator-name>IQN.2026-11.lab.san-iscsi:host1'
           '</initiator-name></initiator-info></initiators></initiator-group-info></attributes-list>')
MAP_INFO = ('<num-records>1</num-records><attributes-list><lun-map-info><path>/vol/vol1/data01</path>'
            '<initiator-group>host1</initiator-group><lun-id>3</lun-id><vserver>svm1</vserver></lun-map-info>'
            '</attributes-list>')
NONE = '<num-records>0</num-records>'
LUN_GET = ('<lun-get-iter><query><lun-info><path>/vol/vol1/data01</path></lun-info></query>'
           '<max-records>500</max-records></lun-get-iter>')
LUN_INFO = ('<num-records>1</num-records><attributes-list><lun-info><path>/vol/vol1/data01</path>'
            '<volume>vol1</volume><size>1073741824</size><multiprotocol-type>linux</multiprotocol-type>'
            '<serial-number>wEmAbCdEfGhI</serial-number><comment/><mapped>false</mapped><uuid>l-1</uuid>'
            '<vserver>svm1</vserver></lun-info></attributes-list>')
VOL_GET = ('<volume-get-iter><query><volume-attributes><volume-id-attributes><name>vol1</name>'
           '<owning-vserver-name>svm1</owning-vserver-name></volume-id-attributes></volume-attributes></query>'
           '<max-records>500</max-records></volume-get-iter>')
VOL_INFO = ('<num-records>1</num-records><attributes-list><volume-attributes><volume-id-attributes><name>vol1</name>'
            '</volume-id-attributes></volume-attributes></attributes-list>')
SVM_GET = ('<vserver-get-iter><query><vserver-info><vserver-name>svm1</vserver-name></vserver-info></query>'
           '<max-records>500</max-records></vserver-get-iter>')
SNAP_GET = ('<snapshot-get-iter><query><snapshot-info><name>s1</name><volume>vol1</volume></snapshot-info></query>'
            '<max-records>500</max-records></snapshot-get-iter>')
SNAP_INFO = ('<num-records>1</num-records><attributes-list><snapshot-info><name>s1</name><volume>vol1</volume>'
             '<access-time>1795255200</access-time><snapshot-instance-uuid>s-1</snapshot-instance-uuid>'
             '</snapshot-info></attributes-list>')
CLONES_GET = ('<lun-get-iter><query><lun-info><comment>san.iscsi:clone_from=/vol/vol1/.snapshot/s1/*</comment>'
              '</lun-info></query><max-records>500</max-records></lun-get-iter>')
HOST1 = 'iqn.2026-11.lab.san-iscsi:host1'
CHAP_GET = ('<iscsi-initiator-auth-get-iter><query><iscsi-security-entry-info><initiator>iqn.2026-11.lab.san-iscsi:'
            'host1</initiator></iscsi-security-entry-info></query><max-records>500</max-records>'
            '</iscsi-initiator-auth-get-iter>')


def chap_info(auth_type='CHAP', user='host1', outbound_user=None, initiator=HOST1):
    users = ('<user-name>%s</user-name>' % user if user else '') + (
        '<outbound-user-name>%s</outbound-user-name>' % outbound_user if outbound_user else '')
    return ('<num-records>1</num-records><attributes-list><iscsi-security-entry-info><initiator>%s</initiator>'
            '<auth-type>%s</auth-type>%s<vserver>svm1</vserver></iscsi-security-entry-info></attributes-list>'
            % (initiator, auth_type, users))


ADD_AUTH = ('<iscsi-initiator-add-auth><initiator>iqn.2026-11.lab.san-iscsi:host1</initiator><auth-type>CHAP</auth-type>'
            '<user-name>host1</user-name><passphrase>in-secret-1</passphrase><outbound-user-name>array1'
            '</outbound-user-name><outbound-passphrase>out-secret-1</outbound-passphrase></iscsi-initiator-add-auth>')


def backend(zapi):
    zapi.expect(VERSION_REQUEST, VERSION_REPLY)
    return _san_factory.ontap_backend(OntapModule(use_rest='never'))


def expect(zapi, api_xml, reply_inner='', tunnel=True):
    zapi.expect(zapi_request(api_xml, tunnel), zapi_passed(reply_inner))


def test_use_rest_never_reads_the_ontapi_version_untunnelled(zapi):
    api = backend(zapi)
    assert isinstance(api, _san_ontap_zapi.OntapZapiBackend)
    assert api.server.get_api_version() == (1, 201)
    assert zapi.calls == [VERSION_REQUEST]


def test_wrong_credentials(zapi):
    zapi.expect(VERSION_REQUEST, HTTPError('https://cluster1', 401, 'Unauthorized', {}, None))
    with pytest.raises(SanAuthError) as raised:
        _san_factory.ontap_backend(OntapModule(use_rest='never'))
    assert raised.value.code == '401'


def test_tls_verification_failure(zapi):
    zapi.expect(VERSION_REQUEST, tls_failure('https://cluster1'))
    with pytest.raises(SanConnectionError, match='TLS certificate verification failed'):
        _san_factory.ontap_backend(OntapModule(use_rest='never'))


def test_unknown_vserver(zapi):
    api = backend(zapi)
    expect(zapi, SVM_GET, NONE, tunnel=False)
    with pytest.raises(SanNotFound, match="vserver 'svm1' does not exist"):
        api.check_connection()


def test_get_igroup_reads_initiators_and_maps(zapi):
    api = backend(zapi)
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, MAP_INFO)
    assert api.get_igroup('host1') == {
        'name': 'host1', 'protocol': 'iscsi', 'os_type': 'linux', 'initiators': ['iqn.2026-11.lab.san-iscsi:host1'],
        'maps': [{'path': '/vol/vol1/data01', 'lun_id': 3}], 'vserver': 'svm1', 'uuid': 'ig-1'}


def test_create_igroup_and_add_initiator(zapi):
    api = backend(zapi)
    expect(zapi, '<igroup-create><initiator-group-name>host1</initiator-group-name><initiator-group-type>iscsi'
                 '</initiator-group-type><os-type>linux</os-type></igroup-create>')
    expect(zapi, '<igroup-add><initiator-group-name>host1</initiator-group-name><initiator>'
                 'iqn.2026-11.lab.san-iscsi:host1</initiator></igroup-add>')
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, NONE)
    assert api.create_igroup('host1', 'iscsi', 'linux', ['iqn.2026-11.lab.san-iscsi:host1'])['name'] == 'host1'


def test_igroup_create_failure_carries_errno(zapi):
    api = backend(zapi)
    zapi.expect(zapi_request('<igroup-create><initiator-group-name>host1</initiator-group-name><initiator-group-type>'
                             'iscsi</initiator-group-type><os-type>linux</os-type></igroup-create>'),
                zapi_failed('13115', 'Invalid value specified for os-type'))
    with pytest.raises(SanError) as raised:
        api.create_igroup('host1', 'iscsi', 'linux', [])
    assert raised.value.code == '13115'
    assert 'Invalid value specified for os-type' in raised.value.message


def test_remove_initiator_and_set_os_type(zapi):
    api = backend(zapi)
    expect(zapi, '<igroup-remove><initiator-group-name>host1</initiator-group-name><initiator>'
                 'iqn.2026-11.lab.san-iscsi:host1</initiator><force>false</force></igroup-remove>')
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, NONE)
    api.remove_initiators('host1', ['iqn.2026-11.lab.san-iscsi:host1'])
    expect(zapi, '<igroup-remove><initiator-group-name>host1</initiator-group-name><initiator>'
                 'iqn.2026-11.lab.san-iscsi:host1-b</initiator><force>true</force></igroup-remove>')
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, NONE)
    api.remove_initiators('host1', ['iqn.2026-11.lab.san-iscsi:host1-b'], force=True)
    expect(zapi, '<igroup-set-os-type><initiator-group-name>host1</initiator-group-name><os-type>vmware</os-type>'
                 '</igroup-set-os-type>')
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, NONE)
    api.set_igroup_os_type('host1', 'vmware')


def test_delete_mapped_igroup(zapi):
    api = backend(zapi)
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, MAP_INFO)
    with pytest.raises(SanConflict, match='/vol/vol1/data01'):
        api.delete_igroup('host1')
    expect(zapi, IG_GET, IG_INFO)
    expect(zapi, IG_MAPS, MAP_INFO)
    expect(zapi, '<igroup-destroy><initiator-group-name>host1</initiator-group-name><force>true</force>'
                 '</igroup-destroy>')
    api.delete_igroup('host1', force=True)


def test_get_lun(zapi):
    api = backend(zapi)
    expect(zapi, LUN_GET, LUN_INFO)
    lun = api.get_lun('vol1', 'data01')
    assert (lun['serial'], lun['wwid'], lun['clone_parent']) == (
        'wEmAbCdEfGhI', 'naa.600a098077456d416243644566476849', None)


def test_get_lun_unknown_volume(zapi):
    api = backend(zapi)
    expect(zapi, LUN_GET, NONE)
    expect(zapi, VOL_GET, NONE)
    expect(zapi, SVM_GET, '<num-records>1</num-records><attributes-list><vserver-info><vserver-name>svm1'
                          '</vserver-name></vserver-info></attributes-list>', tunnel=False)
    with pytest.raises(SanNotFound, match="volume 'vol1'"):
        api.get_lun('vol1', 'data01')


def test_create_resize_delete_lun(zapi):
    api = backend(zapi)
    expect(zapi, VOL_GET, VOL_INFO)
    expect(zapi, '<lun-create-by-size><path>/vol/vol1/data01</path><size>1073741824</size><ostype>linux</ostype>'
                 '<space-reservation-enabled>false</space-reservation-enabled></lun-create-by-size>',
           '<actual-size>1073741824</actual-size>')
    expect(zapi, LUN_GET, LUN_INFO)
    api.create_lun('vol1', 'data01', 1073741824, 'linux')
    expect(zapi, LUN_GET, LUN_INFO)
    expect(zapi, '<lun-resize><path>/vol/vol1/data01</path><size>2147483648</size></lun-resize>')
    expect(zapi, LUN_GET, LUN_INFO.replace('1073741824', '2147483648'))
    assert api.resize_lun('vol1', 'data01', 2147483648)['size'] == 2147483648
    expect(zapi, LUN_GET, LUN_INFO)
    expect(zapi, '<lun-destroy><path>/vol/vol1/data01</path></lun-destroy>')
    api.delete_lun('vol1', 'data01')


def test_clone_create_with_snapshot_name(zapi):
    api = backend(zapi)
    source = {'volume': 'vol1', 'snapshot': 's1', 'lun': 'data01'}
    clone_info = LUN_INFO.replace('data01', 'data01_c')
    expect(zapi, SNAP_GET, SNAP_INFO)
    expect(zapi, '<clone-create><volume>vol1</volume><source-path>data01</source-path><destination-path>data01_c'
                 '</destination-path><snapshot-name>s1</snapshot-name></clone-create>')
    expect(zapi, LUN_GET.replace('data01', 'data01_c'), clone_info)
    expect(zapi, '<lun-set-comment><path>/vol/vol1/data01_c</path><comment>san.iscsi:clone_from=/vol/vol1/'
                 '.snapshot/s1/data01</comment></lun-set-comment>')
    expect(zapi, LUN_GET.replace('data01', 'data01_c'), clone_info.replace(
        '<comment/>', '<comment>san.iscsi:clone_from=/vol/vol1/.snapshot/s1/data01</comment>'))
    assert api.clone_lun('vol1', 'data01_c', source, 'linux')['clone_parent'] == source


def test_clone_of_a_missing_lun_in_the_snapshot_fails_with_errno(zapi):
    api = backend(zapi)
    expect(zapi, SNAP_GET, SNAP_INFO)
    zapi.expect(zapi_request('<clone-create><volume>vol1</volume><source-path>nope</source-path><destination-path>'
                             'c</destination-path><snapshot-name>s1</snapshot-name></clone-create>'),
                zapi_failed('15661', 'Source file does not exist'))
    with pytest.raises(SanError) as raised:
        api.clone_lun('vol1', 'c', {'volume': 'vol1', 'snapshot': 's1', 'lun': 'nope'}, 'linux')
    assert raised.value.code == '15661'


def test_lun_map_and_unmap(zapi):
    api = backend(zapi)
    expect(zapi, '<lun-map><path>/vol/vol1/data01</path><initiator-group>host1</initiator-group><lun-id>3</lun-id>'
                 '</lun-map>', '<lun-id-assigned>3</lun-id-assigned>')
    expect(zapi, '<lun-map-get-iter><query><lun-map-info><initiator-group>host1</initiator-group><path>'
                 '/vol/vol1/data01</path></lun-map-info></query><max-records>500</max-records></lun-map-get-iter>',
           MAP_INFO)
    assert api.create_lun_map('/vol/vol1/data01', 'host1', 3)['lun_id'] == 3
    expect(zapi, '<lun-unmap><path>/vol/vol1/data01</path><initiator-group>host1</initiator-group></lun-unmap>')
    api.delete_lun_map('/vol/vol1/data01', 'host1')


@pytest.mark.parametrize('errno', ['15661', '9003', '9017'])
def test_lun_map_unknown_igroup_is_not_found(zapi, errno):
    """EOBJECTNOTFOUND, EVDISK_ERROR_NO_SUCH_INITGROUP, EVDISK_ERROR_NO_SUCH_VDISK (netapp-lib errors.py)."""
    api = backend(zapi)
    zapi.expect(zapi_request('<lun-map><path>/vol/vol1/data01</path><initiator-group>nope</initiator-group>'
                             '</lun-map>'), zapi_failed(errno, 'initiator group "nope" does not exist'))
    with pytest.raises(SanNotFound) as raised:
        api.create_lun_map('/vol/vol1/data01', 'nope')
    assert raised.value.code == errno


def test_snapshot_create_and_refused_delete(zapi):
    api = backend(zapi)
    expect(zapi, VOL_GET, VOL_INFO)
    expect(zapi, '<snapshot-create><volume>vol1</volume><snapshot>s1</snapshot></snapshot-create>')
    expect(zapi, SNAP_GET, SNAP_INFO)
    expect(zapi, CLONES_GET, NONE)
    assert api.create_snapshot('vol1', 's1')['create_time'] == '2026-11-21T10:00:00+00:00'
    expect(zapi, CLONES_GET, LUN_INFO.replace('data01', 'data01_c'))
    with pytest.raises(SanConflict, match='/vol/vol1/data01_c'):
        api.delete_snapshot('vol1', 's1')
    expect(zapi, CLONES_GET, NONE)
    expect(zapi, '<snapshot-delete><volume>vol1</volume><snapshot>s1</snapshot></snapshot-delete>')
    api.delete_snapshot('vol1', 's1')


def test_get_iter_follows_next_tag(zapi):
    api = backend(zapi)
    all_igroups = ('<igroup-get-iter><query><initiator-group-info/></query><max-records>500</max-records>'
                   '</igroup-get-iter>')
    expect(zapi, all_igroups, IG_INFO + '<next-tag>500</next-tag>')
    expect(zapi, all_igroups.replace('</igroup-get-iter>', '<tag>500</tag></igroup-get-iter>'),
           IG_INFO.replace('>host1<', '>host2<'))
    expect(zapi, IG_MAPS, NONE)
    expect(zapi, IG_MAPS.replace('host1', 'host2'), NONE)
    assert [entry['name'] for entry in api.list_igroups()] == ['host1', 'host2']


# -- CHAP credentials ----------------------------------------------------------------------------------
def test_get_chap_is_one_iter_call_by_initiator(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, chap_info(outbound_user='array1', initiator='IQN.2026-11.Lab.San-iSCSI:Host1'))
    count = api.request_count()
    assert api.get_chap(HOST1) == {'initiator': HOST1, 'method': 'chap', 'user': 'host1', 'mutual_user': 'array1',
                                   'vserver': 'svm1'}
    assert api.request_count() == count + 1
    expect(zapi, CHAP_GET, NONE)
    assert api.get_chap(HOST1) is None


def test_set_chap_adds_the_entry_with_passphrases(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, NONE)
    expect(zapi, ADD_AUTH)
    expect(zapi, CHAP_GET, chap_info(outbound_user='array1'))
    assert api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1')['mutual_user'] == 'array1'


def test_set_chap_modifies_a_chap_entry_and_removes_mutual_chap(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, chap_info(outbound_user='array1'))
    expect(zapi, '<iscsi-initiator-modify-chap-params><initiator>iqn.2026-11.lab.san-iscsi:host1</initiator>'
                 '<user-name>host1b</user-name><passphrase>in-secret-2</passphrase><remove-outbound>true'
                 '</remove-outbound></iscsi-initiator-modify-chap-params>')
    expect(zapi, CHAP_GET, chap_info(user='host1b'))
    assert api.set_chap(HOST1, 'host1b', 'in-secret-2') == {
        'initiator': HOST1, 'method': 'chap', 'user': 'host1b', 'mutual_user': None, 'vserver': 'svm1'}


def test_set_chap_replaces_an_entry_of_method_deny(zapi):
    """modify-chap-params only changes CHAP entries: delete-auth, then add-auth."""
    api = backend(zapi)
    expect(zapi, CHAP_GET, chap_info(auth_type='deny', user=None))
    expect(zapi, '<iscsi-initiator-delete-auth><initiator>iqn.2026-11.lab.san-iscsi:host1</initiator>'
                 '</iscsi-initiator-delete-auth>')
    expect(zapi, ADD_AUTH)
    expect(zapi, CHAP_GET, chap_info(outbound_user='array1'))
    assert api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1')['method'] == 'chap'


def test_a_refused_replacement_puts_the_entry_back_and_names_no_secret(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, chap_info(auth_type='deny', user=None))
    expect(zapi, '<iscsi-initiator-delete-auth><initiator>iqn.2026-11.lab.san-iscsi:host1</initiator>'
                 '</iscsi-initiator-delete-auth>')
    zapi.expect(zapi_request(ADD_AUTH), zapi_failed('13110', 'passphrase in-secret-1 is not allowed'))
    expect(zapi, '<iscsi-initiator-add-auth><initiator>iqn.2026-11.lab.san-iscsi:host1</initiator><auth-type>deny'
                 '</auth-type></iscsi-initiator-add-auth>')
    with pytest.raises(SanInvalid) as raised:
        api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1')
    assert raised.value.code == '13110' and 'passphrase ******** is not allowed' in raised.value.message
    assert raised.value.__context__ is None


def test_an_existing_entry_on_add_is_a_conflict(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, NONE)
    zapi.expect(zapi_request(ADD_AUTH), zapi_failed('13130', 'duplicate entry'))
    with pytest.raises(SanConflict) as raised:
        api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1')
    assert raised.value.code == '13130'


def test_a_retried_chap_write_records_no_secret(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, NONE)
    zapi.expect(zapi_request(ADD_AUTH), zapi_failed('16', 'busy adding in-secret-1 and out-secret-1'))
    expect(zapi, ADD_AUTH)
    expect(zapi, CHAP_GET, chap_info(outbound_user='array1'))
    api.set_chap(HOST1, 'host1', 'in-secret-1', 'array1', 'out-secret-1')
    assert [retry['reason'] for retry in api.request_retries()] == ['errno 16: busy adding ******** and ********']


def test_delete_chap_and_delete_without_an_entry(zapi):
    api = backend(zapi)
    expect(zapi, CHAP_GET, chap_info())
    expect(zapi, '<iscsi-initiator-delete-auth><initiator>iqn.2026-11.lab.san-iscsi:host1</initiator>'
                 '</iscsi-initiator-delete-auth>')
    api.delete_chap(HOST1)
    expect(zapi, CHAP_GET, NONE)
    expect(zapi, SVM_GET, '<num-records>1</num-records><attributes-list><vserver-info><vserver-name>svm1'
                          '</vserver-name></vserver-info></attributes-list>', tunnel=False)
    with pytest.raises(SanNotFound) as raised:
        api.delete_chap(HOST1)
    assert raised.value.code == '13112'
