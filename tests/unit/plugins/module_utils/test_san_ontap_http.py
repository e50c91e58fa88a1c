# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP(S) connection of an ONTAP module run (OntapHttp): keep-alive against the emulator over real
HTTPS, reconnection when the server closed it, and the bounded retries of busy answers (REST and ZAPI)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.module_utils.common.warnings import get_warning_messages
from ansible.module_utils.six.moves.urllib.error import HTTPError

from ansible_collections.san.iscsi.plugins.module_utils import _san_factory
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import SanConnectionError, SanError
from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_base import RETRY_DELAYS
from ansible_collections.san.iscsi.plugins.modules import lun, lun_map
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import (
    BASE, OntapModule, REST_PARAMS, VERSION_REPLY, VERSION_REQUEST, ontap_error, records, zapi_failed, zapi_passed,
    zapi_request)
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import

SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
SVM_GET = ('<vserver-get-iter><query><vserver-info><vserver-name>svm1</vserver-name></vserver-info></query>'
           '<max-records>500</max-records></vserver-get-iter>')
BUSY = ontap_error('503', 'Service Unavailable')


# -- one connection per run ----------------------------------------------------------------------------
@pytest.mark.parametrize('use_rest', ['always', 'never'])
def test_a_module_run_uses_one_connection(emulator, run_module, use_rest):  # noqa: F811 pylint: disable=redefined-outer-name
    """Against the emulator over real HTTPS: every request of a run (REST, or ZAPI through netapp-lib) on
    the one connection the emulator accepted."""
    array = Ontap(emulator, use_rest)
    array.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    connections, requests = emulator.server.connections, array.state.requests
    result = run_module(lun_map, dict(array.connection, path='/vol/vol1/data01', igroup='host9', lun_id=4,
                                      initiators=['iqn.2026-11.lab.san-iscsi:host9']))
    assert result['changed'] is True and result['lun_id'] == 4 and result['retries'] == []
    assert array.state.requests - requests >= 6
    assert emulator.server.connections - connections == 1


def test_auto_falling_back_to_zapi_keeps_the_probe_connection(emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    array = Ontap(emulator, 'auto')
    emulator.server.rest_enabled = False
    try:
        connections = emulator.server.connections
        result = run_module(lun, dict(array.connection, volume='vol1', name='data02', size='4M'))
    finally:
        emulator.server.rest_enabled = True
    assert result['changed'] is True
    assert [method for method, path in array.state.log[:2]] == ['GET', 'POST']  # REST probe (404), then ZAPI
    assert emulator.server.connections - connections == 1


def test_an_idle_connection_the_server_closed_is_replaced_before_the_next_request(http):
    http.probe().expect('GET', SVM_URL, reply=records({'name': 'svm1', 'uuid': 's-1'}))
    api = _san_factory.ontap_backend(OntapModule())
    api.client.http.conn.peer.close()  # the server closes the kept-alive connection
    api.check_connection()
    assert http.connections == 2 and api.request_retries() == []


# -- retries --------------------------------------------------------------------------------------------
def test_a_busy_read_is_retried_and_reported(http):
    http.expect('GET', BASE + '/api/cluster?fields=version', status=503, reply=BUSY)
    http.probe()
    api = _san_factory.ontap_backend(OntapModule())
    assert api.request_retries() == [{'method': 'GET', 'path': '/api/cluster', 'attempt': 1, 'delay': 0.5,
                                      'reason': 'HTTP 503 Error'}]
    assert http.sleeps == [0.5] and http.connections == 1


@pytest.mark.parametrize('status', [500, 502, 503, 504])
def test_a_read_busy_forever_gives_up_after_the_bound(http, status):
    for dummy in range(len(RETRY_DELAYS) + 1):
        http.expect('GET', BASE + '/api/cluster?fields=version', status=status, reply=BUSY)
    with pytest.raises(SanError) as raised:
        _san_factory.ontap_backend(OntapModule())
    assert raised.value.details['status'] == status
    assert [retry['attempt'] for retry in raised.value.details['retries']] == [1, 2, 3]
    assert http.sleeps == [0.5, 1.0, 2.0] and sum(http.sleeps) <= 3.5
    assert len(http.calls) == 4


def test_a_write_that_got_a_5xx_is_not_sent_again(http):
    """ONTAP documents no 5xx as "not done": a POST is sent once."""
    http.probe().expect('POST', BASE + '/api/protocols/san/lun-maps', body={
        'svm': {'name': 'svm1'}, 'lun': {'name': '/vol/vol1/d'}, 'igroup': {'name': 'h'}}, status=503, reply=BUSY)
    api = _san_factory.ontap_backend(OntapModule())
    with pytest.raises(SanError):
        api.create_lun_map('/vol/vol1/d', 'h')
    assert api.request_retries() == [] and http.sleeps == []


def test_a_refused_connection_is_retried_for_any_request(http, run_module):
    """Nothing was sent: retried, and the module result and warnings say so."""
    http.connect_failures = [ConnectionRefusedError(111, 'Connection refused')]
    http.probe().expect('GET', BASE + '/api/protocols/san/lun-maps?fields=logical_unit_number%2Clun.name%2Clun.uuid'
                        '%2Cigroup.name%2Cigroup.uuid%2Csvm.name&igroup.name=host1&lun.name=%2Fvol%2Fvol1%2Fdata01'
                        '&svm.name=svm1', reply=records())
    connection = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')
    result = run_module(lun_map, dict(connection, path='/vol/vol1/data01', igroup='host1', state='absent'))
    assert result['changed'] is False
    assert [(retry['path'], retry['attempt']) for retry in result['retries']] == [('/api/cluster', 1)]
    assert 'connection failed' in result['retries'][0]['reason']
    assert any('/api/cluster was sent again (attempt 2' in warning for warning in get_warning_messages())


def test_a_connection_refused_for_good_gives_up_after_the_bound(http):
    http.connect_failures = [ConnectionRefusedError(111, 'Connection refused')] * 4
    with pytest.raises(SanConnectionError) as raised:
        _san_factory.ontap_backend(OntapModule())
    assert 'cannot reach ONTAP' in raised.value.message
    assert len(raised.value.details['retries']) == 3 and http.calls == []


def test_zapi_busy_errno_is_retried(zapi):
    zapi.expect(VERSION_REQUEST, VERSION_REPLY)
    api = _san_factory.ontap_backend(OntapModule(use_rest='never'))
    lun_map_xml = ('<lun-map><path>/vol/vol1/d</path><initiator-group>h</initiator-group><lun-id>1</lun-id>'
                   '</lun-map>')
    zapi.expect(zapi_request(lun_map_xml), zapi_failed('16', 'Device or resource busy'))
    zapi.expect(zapi_request(lun_map_xml), zapi_passed('<lun-id-assigned>1</lun-id-assigned>'))
    api.invoke(_element(lun_map_xml))
    assert [(retry['path'], retry['reason']) for retry in api.request_retries()] == [
        ('ZAPI lun-map', 'errno 16: Device or resource busy')]


def test_zapi_http_503_is_retried_for_a_read_only(zapi):
    zapi.expect(VERSION_REQUEST, HTTPError('https://cluster1', 503, 'Service Unavailable', {}, None))
    zapi.expect(VERSION_REQUEST, VERSION_REPLY)
    api = _san_factory.ontap_backend(OntapModule(use_rest='never'))
    assert [retry['path'] for retry in api.request_retries()] == ['/servlets/netapp.servlets.admin.XMLrequest_filer']
    write = '<lun-unmap><path>/vol/vol1/d</path><initiator-group>h</initiator-group></lun-unmap>'
    zapi.expect(zapi_request(write), HTTPError('https://cluster1', 503, 'Service Unavailable', {}, None))
    with pytest.raises(SanError) as raised:
        api.delete_lun_map('/vol/vol1/d', 'h')
    assert raised.value.code == '503'
    assert len(api.request_retries()) == 1


def _element(xml):
    from xml.etree import ElementTree
    from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_zapi import element
    root = ElementTree.fromstring(xml)
    return element(root.tag, [(child.tag, child.text) for child in root])


# -- clone route ----------------------------------------------------------------------------------------
@pytest.mark.parametrize('use_rest, route', [('always', 'POST /api/storage/file/clone'),
                                             ('never', 'ZAPI clone-create with snapshot-name')])
def test_the_clone_route_is_in_the_result(emulator, run_module, use_rest, route):  # noqa: F811 pylint: disable=redefined-outer-name
    array = Ontap(emulator, use_rest)
    array.state.add_lun('svm1', '/vol/vol1/data01', 1048576)
    volume = array.state.volume_named('svm1', 'vol1')
    array.state.create_snapshot(volume, 'nightly')
    args = dict(array.connection, volume='vol1', name='restore', clone_from={
        'volume': 'vol1', 'snapshot': 'nightly', 'lun': 'data01'})
    assert run_module(lun, args, check_mode=True)['clone_route'] == route
    result = run_module(lun, args)
    assert (result['changed'], result['clone_route']) == (True, route)
    assert run_module(lun, args)['clone_route'] is None
    plain = run_module(lun, dict(array.connection, volume='vol1', name='plain', size='4M'))
    assert plain['clone_route'] is None
