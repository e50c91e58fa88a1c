# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.san_info against a scripted ONTAP REST seam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _san_ontap_rest
from ansible_collections.san.iscsi.plugins.modules import san_info
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import BASE, REST_PARAMS, FakeRest, ontap_error, records
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
IGROUPS_URL = (BASE + '/api/protocols/san/igroups?fields=name%2Cuuid%2Cprotocol%2Cos_type%2Cinitiators.name%2C'
               'lun_maps.logical_unit_number%2Clun_maps.lun.name%2Csvm.name&name=host1&svm.name=svm1')
MAPS_URL = (BASE + '/api/protocols/san/lun-maps?fields=logical_unit_number%2Clun.name%2Clun.uuid%2Cigroup.name%2C'
            'igroup.uuid%2Csvm.name&igroup.name=host1&svm.name=svm1')
CONNECTION = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')


@pytest.fixture
def http(monkeypatch):
    fake = FakeRest()
    monkeypatch.setattr(_san_ontap_rest, 'open_url', fake)
    yield fake
    fake.done()


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
