# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's ZAPI driven by NetApp's own client, netapp-lib's NaServer (not our backend), over HTTPS:
the LUN, igroup, LUN-map, snapshot, clone and iSCSI security APIs ONTAP clients use, lun-map-list-info,
unknown elements and query fields refused as ONTAP refuses them ("Extra input", EINVALIDINPUTERROR), and
netapp-lib's errnos; then the ZAPI backend's CHAP methods against it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ssl

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _san_factory
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import SanInvalid
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import OntapModule
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_ontap_emulator import assert_chap_lifecycle
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import

zapi = pytest.importorskip('netapp_lib.api.zapi.zapi')
errors = pytest.importorskip('netapp_lib.api.zapi.errors')

IQN = 'iqn.2026-11.lab.san-iscsi:host1'


@pytest.fixture
def array(emulator, monkeypatch):  # noqa: F811 pylint: disable=redefined-outer-name
    """A fresh SVM svm1 with volume vol1 and a NaServer for it (TLS trusting the emulator's certificate)."""
    ontap = Ontap(emulator, 'never')
    monkeypatch.setattr(ssl, '_create_default_https_context',
                        lambda *args, **kwargs: ssl.create_default_context(cafile=emulator.cert))
    server = zapi.NaServer('127.0.0.1', transport_type='https', port=emulator.port, username='admin',
                           password='netapp1!')
    server.set_api_version(1, 201)
    server.set_vserver('svm1')
    ontap.server = server
    ontap.zapi = emulator.server.zapi
    return ontap


def call(array, api, tunnel=True, **children):  # pylint: disable=redefined-outer-name
    """invoke_successfully of ``api`` with ``children`` (underscores in names become dashes; a dict is a
    nested element). Returns the <results> NaElement."""
    request = zapi.NaElement(api)
    for name, value in children.items():
        add(request, name.replace('_', '-'), value)
    return array.server.invoke_successfully(request, enable_tunneling=tunnel)


def add(parent, name, value):
    if isinstance(value, dict):
        node = zapi.NaElement(name)
        for key, sub in value.items():
            add(node, key, sub)
        parent.add_child_elem(node)
    else:
        parent.add_new_child(name, str(value))


def refused(array, api, **children):  # pylint: disable=redefined-outer-name
    with pytest.raises(zapi.NaApiError) as raised:
        call(array, api, **children)
    return raised.value.code, raised.value.message


def setup_lun(array, mapped_to=None, lun_id=None):  # pylint: disable=redefined-outer-name
    call(array, 'lun-create-by-size', path='/vol/vol1/data01', size=1048576, ostype='linux',
         space_reservation_enabled='false')
    if mapped_to:
        call(array, 'igroup-create', initiator_group_name=mapped_to, initiator_group_type='iscsi', os_type='linux')
        call(array, 'igroup-add', initiator_group_name=mapped_to, initiator=IQN)
        extra = {'lun_id': lun_id} if lun_id is not None else {}
        call(array, 'lun-map', path='/vol/vol1/data01', initiator_group=mapped_to, **extra)


def test_lun_map_list_info_lists_the_igroups_of_a_lun(array):  # pylint: disable=redefined-outer-name
    setup_lun(array, 'host1', 7)
    call(array, 'igroup-create', initiator_group_name='host2', initiator_group_type='iscsi', os_type='linux')
    call(array, 'lun-map', path='/vol/vol1/data01', initiator_group='host2')
    groups = call(array, 'lun-map-list-info', path='/vol/vol1/data01').get_child_by_name('initiator-groups')
    found = dict((info.get_child_content('initiator-group-name'), info.get_child_content('lun-id'))
                 for info in groups.get_children())
    assert found == {'host1': '7', 'host2': '0'}
    assert refused(array, 'lun-map-list-info', path='/vol/vol1/nope')[0] == errors.EVDISK_ERROR_NO_SUCH_VDISK


@pytest.mark.parametrize('api, children, element', [
    ('lun-map', dict(path='/vol/vol1/data01', initiator_group='host1', lun_identifier='3'), 'lun-identifier'),
    ('igroup-create', dict(initiator_group_name='h2', initiator_group_type='iscsi', os='linux'), 'os'),
    ('lun-create-by-size', dict(path='/vol/vol1/d2', size='1048576', thin='true'), 'thin'),
    ('snapshot-create', dict(volume='vol1', snapshot='s1', lun='data01'), 'lun'),
    ('clone-create', dict(volume='vol1', source_path='data01', destination_path='c1', snapshot='s'), 'snapshot'),
    ('lun-get-iter', dict(query={'lun-info': {'paht': '/vol/vol1/data01'}}), 'paht'),
    ('lun-get-iter', dict(query={'lun-info': {'path': '/vol/vol1/data01'}}, max_record='5'), 'max-record'),
    ('igroup-get-iter', dict(query={'lun-info': {'path': '/vol/vol1/data01'}}), 'lun-info'),
    ('volume-get-iter', dict(query={'volume-attributes': {'volume-id-attributes': {'nam': 'vol1'}}}), 'nam'),
])
def test_unknown_elements_and_query_fields_are_refused(array, api, children, element):  # pylint: disable=redefined-outer-name
    """As ONTAP refuses them: nothing happens, errno EINVALIDINPUTERROR, reason "Extra input: <element>"."""
    setup_lun(array, 'host1')
    before = (len(array.state.luns), len(array.state.igroups), len(array.state.maps), len(array.state.snapshots))
    assert refused(array, api, **children) == (errors.EINVALIDINPUTERROR, 'Extra input: %s' % element)
    assert (len(array.state.luns), len(array.state.igroups), len(array.state.maps), len(array.state.snapshots)) == before


def test_missing_input_and_bad_values(array):  # pylint: disable=redefined-outer-name
    assert refused(array, 'lun-create-by-size', path='/vol/vol1/d') == (errors.EAPIMISSINGARGUMENT,
                                                                        'Missing input: size')
    assert refused(array, 'igroup-destroy', initiator_group_name='x', force='yes') == (
        errors.EINVALIDINPUTERROR, 'Invalid value specified for "force" element within "igroup-destroy": "yes"')
    assert refused(array, 'lun-create-by-size', path='vol1/d', size='1048576')[0] == errors.EINVALIDINPUTERROR
    assert refused(array, 'no-such-api') == (errors.EAPINOTFOUND, 'Unable to find API: no-such-api')


def test_errnos_of_igroups(array):  # pylint: disable=redefined-outer-name
    setup_lun(array, 'host1')
    assert refused(array, 'igroup-create', initiator_group_name='host1')[0] == errors.EVDISK_ERROR_INITGROUP_EXISTS
    assert refused(array, 'igroup-add', initiator_group_name='host1', initiator=IQN)[0] == \
        errors.EVDISK_ERROR_INITGROUP_HAS_NODE
    assert refused(array, 'igroup-add', initiator_group_name='host1', initiator='host2')[0] == \
        errors.EVDISK_ERROR_NOT_VALID_ISCSI_NAME
    assert refused(array, 'igroup-add', initiator_group_name='nope', initiator=IQN)[0] == \
        errors.EVDISK_ERROR_NO_SUCH_INITGROUP
    assert refused(array, 'igroup-remove', initiator_group_name='host1', initiator=IQN + 'x', force='true')[0] == \
        errors.EVDISK_ERROR_NODE_NOT_IN_INITGROUP
    assert refused(array, 'igroup-remove', initiator_group_name='host1', initiator=IQN, force='false')[0] == \
        errors.EVDISK_ERROR_INITGROUP_MAPS_EXIST
    assert refused(array, 'igroup-destroy', initiator_group_name='host1')[0] == errors.EVDISK_ERROR_INITGROUP_MAPS_EXIST
    call(array, 'igroup-rename', initiator_group_name='host1', initiator_group_new_name='host1b')
    call(array, 'igroup-destroy', initiator_group_name='host1b', force='true')
    assert array.state.igroups == {} and array.state.maps == {}


def test_errnos_of_luns_and_maps(array):  # pylint: disable=redefined-outer-name
    setup_lun(array, 'host1', 3)
    assert refused(array, 'lun-create-by-size', path='/vol/vol1/data01', size='1048576')[0] == \
        errors.EVDISK_ERROR_VDISK_EXISTS
    assert refused(array, 'lun-create-by-size', path='/vol/nope/d', size='1048576')[0] == \
        errors.EVDISK_ERROR_NO_SUCH_VOLUME
    assert refused(array, 'lun-destroy', path='/vol/vol1/data01')[0] == errors.EVDISK_ERROR_VDISK_EXPORTED
    assert refused(array, 'lun-resize', path='/vol/vol1/data01', size='4096')[0] == \
        errors.EVDISK_ERROR_MUST_SPECIFY_F_FLAG
    assert refused(array, 'lun-map', path='/vol/vol1/data01', initiator_group='host1')[0] == \
        errors.EVDISK_ERROR_LUN_MAPPING_CONFLICT
    call(array, 'lun-create-by-size', path='/vol/vol1/data02', size='1048576')
    assert refused(array, 'lun-map', path='/vol/vol1/data02', initiator_group='host1', lun_id='3')[0] == \
        errors.EVDISK_ERROR_LUN_MAPPING_CONFLICT
    assert refused(array, 'lun-map', path='/vol/vol1/nope', initiator_group='host1')[0] == \
        errors.EVDISK_ERROR_NO_SUCH_VDISK
    assert refused(array, 'lun-unmap', path='/vol/vol1/data02', initiator_group='host1')[0] == \
        errors.EVDISK_ERROR_NO_SUCH_LUNMAP
    call(array, 'lun-destroy', path='/vol/vol1/data01', force='true')
    assert ('svm1', '/vol/vol1/data01') not in array.state.lun_by_path


def test_errnos_of_snapshots_and_clones(array):  # pylint: disable=redefined-outer-name
    setup_lun(array)
    call(array, 'snapshot-create', volume='vol1', snapshot='s1', comment='before', **{'async': 'false'})
    assert refused(array, 'snapshot-create', volume='vol1', snapshot='s1')[0] == errors.ESNAPSHOTEXISTS
    assert refused(array, 'snapshot-create', volume='nope', snapshot='s1')[0] == errors.EVOLUMEDOESNOTEXIST
    assert refused(array, 'snapshot-delete', volume='vol1', snapshot='s2')[0] == errors.ESNAPSHOTDOESNOTEXIST
    assert refused(array, 'clone-create', volume='vol1', source_path='data01', destination_path='c1',
                   snapshot_name='s2')[0] == errors.ESNAPSHOTDOESNOTEXIST
    assert refused(array, 'clone-create', volume='vol1', source_path='other', destination_path='c1',
                   snapshot_name='s1')[0] == errors.EFILENOTFOUND
    call(array, 'clone-create', volume='vol1', source_path='data01', destination_path='c1', snapshot_name='s1',
         space_reserve='false')
    assert refused(array, 'clone-create', volume='vol1', source_path='data01', destination_path='c1',
                   snapshot_name='s1')[0] == errors.EVDISK_ERROR_VDISK_EXISTS
    lun = call(array, 'lun-get-iter', query={'lun-info': {'path': '/vol/vol1/c1'}}, max_records=1)
    assert lun.get_child_content('num-records') == '1'
    snaps = call(array, 'snapshot-get-iter', query={'snapshot-info': {'volume': 'vol1', 'name': 's1'}})
    assert snaps.get_child_content('num-records') == '1'
    call(array, 'snapshot-delete', volume='vol1', snapshot='s1', ignore_owners='false')


def test_vserver_apis_need_a_known_vserver(array):  # pylint: disable=redefined-outer-name
    array.server.set_vserver('nope')
    assert refused(array, 'lun-get-iter') == (errors.EVSERVERNOTFOUND, 'Specified vserver not found')


def test_busy_switch_answers_ebusy_and_changes_nothing(array):  # pylint: disable=redefined-outer-name
    array.zapi.busy_next = 1
    assert refused(array, 'igroup-create', initiator_group_name='h')[0] == errors.EONTAPI_EBUSY
    call(array, 'igroup-create', initiator_group_name='h')
    assert len(array.state.igroups) == 1


# -- iSCSI security (CHAP) -------------------------------------------------------------------------------
SECRETS = dict(user_name='host1', passphrase='in-secret-1', outbound_user_name='array1',
               outbound_passphrase='out-secret-1')


def entries(array, initiator=None):  # pylint: disable=redefined-outer-name
    """iscsi-initiator-auth-get-iter, as {element: text} per entry."""
    query = {'query': {'iscsi-security-entry-info': {'initiator': initiator}}} if initiator else {}
    found = call(array, 'iscsi-initiator-auth-get-iter', **query).get_child_by_name('attributes-list')
    return [dict((child.get_name().split('}')[-1], child.get_content()) for child in info.get_children())
            for info in (found.get_children() if found is not None else [])]


def test_entries_show_users_never_passphrases(array):  # pylint: disable=redefined-outer-name
    assert entries(array) == [{'initiator': 'default', 'auth-type': 'none', 'vserver': 'svm1'}]
    call(array, 'iscsi-initiator-add-auth', initiator=IQN, auth_type='CHAP', **SECRETS)
    assert entries(array, IQN.upper()) == [{'initiator': IQN, 'auth-type': 'CHAP', 'user-name': 'host1',
                                            'outbound-user-name': 'array1', 'vserver': 'svm1'}]
    answers = [call(array, 'iscsi-initiator-auth-get-iter'), call(array, 'iscsi-initiator-get-auth', initiator=IQN)]
    assert not [answer for answer in answers if 'secret' in answer.to_string().decode()]
    assert answers[1].get_child_content('user-name') == 'host1'
    # "If initiator is not found, default authentication method is returned"
    other = call(array, 'iscsi-initiator-get-auth', initiator=IQN + '-other')
    assert (other.get_child_content('auth-type'), other.get_child_content('user-name')) == ('none', None)


@pytest.mark.parametrize('api, children, errno', [
    ('iscsi-initiator-add-auth', dict(initiator=IQN, auth_type='CHAP', **SECRETS), errors.EDUPLICATEENTRY),
    ('iscsi-initiator-add-auth', dict(initiator=IQN + '-b', auth_type='chap', user_name='u' * 129,
                                      passphrase='in-secret-1'), errors.EISCSISECINVALIDINPUTERROR),
    ('iscsi-initiator-add-auth', dict(initiator=IQN + '-b', auth_type='CHAP', user_name='host',
                                      passphrase='p' * 513), errors.EISCSISECINVALIDINPUTERROR),
    ('iscsi-initiator-add-auth', dict(initiator=IQN + '-b', auth_type='CHAP', user_name='host', passphrase='same-one',
                                      outbound_user_name='array', outbound_passphrase='same-one'),
     errors.EISCSISECINVALIDINPUTERROR),
    ('iscsi-initiator-add-auth', dict(initiator=IQN + '-b', auth_type='CHAP', outbound_user_name='array',
                                      outbound_passphrase='out-secret-1'), errors.EISCSISECINVALIDINPUTERROR),
    ('iscsi-initiator-add-auth', dict(initiator=IQN + '-b', auth_type='kerberos'), errors.EISCSISECINVALIDAUTHTYPE),
    ('iscsi-initiator-add-auth', dict(initiator=IQN + '-b', auth_type='CHAP', user_name='host',
                                      password='0123abcd'), errors.EINVALIDINPUTERROR),
    ('iscsi-initiator-modify-chap-params', dict(initiator=IQN, remove_outbound='true', outbound_user_name='a',
                                                outbound_passphrase='out-secret-2'), errors.EISCSISECINVALIDINPUTERROR),
    ('iscsi-initiator-modify-chap-params', dict(initiator=IQN + '-deny', user_name='host', passphrase='in-secret-2'),
     errors.EISCSISECINVALIDAUTHTYPE),
    ('iscsi-initiator-modify-chap-params', dict(initiator=IQN + '-nope', user_name='h', passphrase='in-secret-2'),
     errors.EISCSISECINITNOTFOUNDERROR),
    ('iscsi-initiator-delete-auth', dict(initiator=IQN + '-nope'), errors.EISCSISECINITNOTFOUNDERROR),
    ('iscsi-initiator-delete-auth', dict(initiator='default'), errors.EISCSISECINVALIDINPUTERROR),
])
def test_errnos_of_iscsi_security(array, api, children, errno):  # pylint: disable=redefined-outer-name
    call(array, 'iscsi-initiator-add-auth', initiator=IQN, auth_type='CHAP', **SECRETS)
    call(array, 'iscsi-initiator-add-auth', initiator=IQN + '-deny', auth_type='deny')
    before = entries(array)
    code, reason = refused(array, api, **children)
    assert code == errno
    assert not [value for key, value in children.items() if 'pass' in key and value in reason]
    assert entries(array) == before


def test_modify_chap_params_and_the_default_entry(array):  # pylint: disable=redefined-outer-name
    call(array, 'iscsi-initiator-add-auth', initiator=IQN, auth_type='CHAP', **SECRETS)
    call(array, 'iscsi-initiator-modify-chap-params', initiator=IQN, user_name='host1b', passphrase='in-secret-2')
    assert entries(array, IQN)[0]['user-name'] == 'host1b' and entries(array, IQN)[0]['outbound-user-name'] == 'array1'
    call(array, 'iscsi-initiator-modify-chap-params', initiator=IQN, remove_outbound='true')
    assert 'outbound-user-name' not in entries(array, IQN)[0]
    call(array, 'iscsi-initiator-set-default-auth', auth_type='deny')
    assert call(array, 'iscsi-initiator-get-default-auth').get_child_content('auth-type') == 'deny'
    call(array, 'iscsi-initiator-delete-auth', initiator=IQN.upper())
    assert entries(array, IQN) == []


def zapi_backend(array):  # pylint: disable=redefined-outer-name
    return _san_factory.ontap_backend(OntapModule(**array.connection))


def test_backend_chap_lifecycle_over_zapi(array):  # pylint: disable=redefined-outer-name
    assert_chap_lifecycle(zapi_backend(array), IQN, errors.EISCSISECINITNOTFOUNDERROR)


def test_backend_replaces_a_deny_entry_and_puts_it_back_when_refused(array):  # pylint: disable=redefined-outer-name
    call(array, 'iscsi-initiator-add-auth', initiator=IQN.upper(), auth_type='deny')
    api = zapi_backend(array)
    assert api.get_chap(IQN)['method'] == 'deny'
    with pytest.raises(SanInvalid) as refused_change:
        api.set_chap(IQN, 'host1', 'same-secret', 'array1', 'same-secret')
    assert refused_change.value.code == errors.EISCSISECINVALIDINPUTERROR
    assert 'same-secret' not in refused_change.value.message
    assert entries(array, IQN) == [{'initiator': IQN.upper(), 'auth-type': 'deny', 'vserver': 'svm1'}]
    assert api.set_chap(IQN, 'host1', 'in-secret-1')['method'] == 'chap'
    assert [name for name, dummy in array.zapi_calls if name.startswith('iscsi-initiator-') and 'get' not in name][-2:] == [
        'iscsi-initiator-delete-auth', 'iscsi-initiator-add-auth']


def test_backend_cannot_delete_the_default_entry(array):  # pylint: disable=redefined-outer-name
    with pytest.raises(SanInvalid) as raised:
        zapi_backend(array).delete_chap('default')
    assert raised.value.code == errors.EISCSISECINVALIDINPUTERROR
    assert [entry['initiator'] for entry in entries(array)] == ['default']
