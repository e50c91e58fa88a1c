# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.igroup against a scripted ONTAP REST seam: exact requests, check mode, bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import igroup
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import BASE, REST_PARAMS, records
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

IG_URL = (BASE + '/api/protocols/san/igroups?fields=name%2Cuuid%2Cprotocol%2Cos_type%2Cinitiators.name%2C'
          'lun_maps.logical_unit_number%2Clun_maps.lun.name%2Csvm.name&name=host1&svm.name=svm1')
SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
HOST1 = 'iqn.2026-11.lab.san-iscsi:host1'
HOST1B = 'iqn.2026-11.lab.san-iscsi:host1-b'
IGROUP = {'name': 'host1', 'uuid': 'ig-1', 'protocol': 'iscsi', 'os_type': 'linux', 'svm': {'name': 'svm1'},
          'initiators': [{'name': HOST1}], 'lun_maps': []}
CONNECTION = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')


def args(**extra):
    return dict(CONNECTION, name='host1', **extra)


def test_unchanged_igroup_costs_two_requests_and_compares_iqns_case_insensitively(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records(IGROUP))
    result = run_module(igroup, args(initiators=['IQN.2026-11.LAB.SAN-ISCSI:HOST1']))
    assert result['changed'] is False
    assert result['igroup']['initiators'] == [HOST1]
    assert len(http.calls) == 2


def test_create_in_check_mode_sends_no_write(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records()).expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    result = run_module(igroup, args(initiators=[HOST1]), check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['igroup']['initiators'] == [HOST1]
    assert 'initiator: %s' % HOST1 in result['diff']['after']
    assert http.writes() == []


def test_create(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records()).expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    http.expect('POST', BASE + '/api/protocols/san/igroups', body={
        'svm': {'name': 'svm1'}, 'name': 'host1', 'protocol': 'iscsi', 'os_type': 'linux',
        'initiators': [{'name': HOST1}]}, status=201, reply={})
    http.expect('GET', IG_URL, reply=records(IGROUP))
    result = run_module(igroup, args(initiators=[HOST1]))
    assert result['changed'] is True and result['added'] == [HOST1]
    assert result['igroup']['uuid'] == 'ig-1'


def test_unknown_vserver_fails_before_any_write(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records()).expect('GET', SVM_URL, reply=records())
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(initiators=[HOST1]))
    assert failed.value.result['msg'] == "vserver 'svm1' does not exist on cluster1"
    assert failed.value.result['error_code'] == '2621462'
    assert http.writes() == []


def test_invalid_iqn_fails_before_any_request(http, run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(initiators=['iqn.bogus']))
    assert 'iqn.bogus' in failed.value.result['msg']
    assert http.calls == []


@pytest.mark.parametrize('mode, initiators, added, removed', [
    ('replace', [HOST1B], [HOST1B], [HOST1]),
    ('add', [HOST1B], [HOST1B], []),
    ('remove', [HOST1.upper()], [], [HOST1]),
])
def test_initiators_modes_in_check_mode(http, run_module, mode, initiators, added, removed):
    http.probe().expect('GET', IG_URL, reply=records(IGROUP))
    result = run_module(igroup, args(initiators=initiators, initiators_mode=mode), check_mode=True)
    assert (result['changed'], result['added'], result['removed']) == (True, added, removed)
    assert result['igroup']['initiators'] == sorted(set([HOST1]) - set(removed) | set(added))
    assert http.writes() == []


def test_replace_adds_then_removes(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('GET', IG_URL, reply=records(IGROUP))
    http.expect('POST', BASE + '/api/protocols/san/igroups/ig-1/initiators', body={'records': [{'name': HOST1B}]},
                status=201, reply={})
    http.expect('GET', IG_URL, reply=records(dict(IGROUP, initiators=[{'name': HOST1}, {'name': HOST1B}])))
    http.expect('GET', IG_URL, reply=records(dict(IGROUP, initiators=[{'name': HOST1}, {'name': HOST1B}])))
    http.expect('DELETE', BASE + '/api/protocols/san/igroups/ig-1/initiators/iqn.2026-11.lab.san-iscsi%3Ahost1',
                reply={})
    http.expect('GET', IG_URL, reply=records(dict(IGROUP, initiators=[{'name': HOST1B}])))
    result = run_module(igroup, args(initiators=[HOST1B]))
    assert result['igroup']['initiators'] == [HOST1B]


def test_delete_while_mapped_needs_force_even_in_check_mode(http, run_module):
    mapped = dict(IGROUP, lun_maps=[{'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/data01'}}])
    http.probe().expect('GET', IG_URL, reply=records(mapped))
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(state='absent'), check_mode=True)
    assert failed.value.result['msg'] == "igroup 'host1' is mapped to /vol/vol1/data01; unmap first or set force=true"


def test_delete_with_force(http, run_module):
    mapped = dict(IGROUP, lun_maps=[{'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/data01'}}])
    http.probe().expect('GET', IG_URL, reply=records(mapped)).expect('GET', IG_URL, reply=records(mapped))
    http.expect('DELETE', BASE + '/api/protocols/san/igroups/ig-1?allow_delete_while_mapped=true', reply={})
    result = run_module(igroup, args(state='absent', force=True))
    assert result['changed'] is True and result['igroup'] is None


def test_absent_igroup_is_unchanged(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records())
    assert run_module(igroup, args(state='absent'))['changed'] is False


def test_protocol_change_is_refused(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records(IGROUP))
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(protocol='fcp', initiators=[HOST1]))
    assert 'cannot change' in failed.value.result['msg']


def test_refused_os_type_leaves_the_initiators_untouched(monkeypatch, run_module):
    """The os_type is changed first, so an array that refuses it fails before any initiator changes."""
    calls = []

    class RefusingBackend(object):
        def get_igroup(self, name):
            return dict(IGROUP, name=name, initiators=[HOST1], maps=[], vserver='svm1')

        def validate_igroup(self, current, planned):
            calls.append(('validate_igroup', planned['os_type']))

        def set_igroup_os_type(self, name, os_type):
            calls.append(('set_igroup_os_type', os_type))
            raise igroup.SanInvalid('os_type %r is not supported' % os_type)

        def add_initiators(self, name, initiators):
            calls.append(('add_initiators', initiators))

        def request_retries(self):
            return []

    monkeypatch.setattr(igroup, 'get_backend', lambda module: RefusingBackend())
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(initiators=[HOST1, HOST1B], initiators_mode='add', os_type='windows'))
    assert "os_type 'windows' is not supported" in failed.value.result['msg']
    assert calls == [('validate_igroup', 'windows'), ('set_igroup_os_type', 'windows')]


MAPPED = dict(IGROUP, initiators=[{'name': HOST1}, {'name': HOST1B}],
              lun_maps=[{'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/data01'}}])


@pytest.mark.parametrize('check_mode', [True, False])
@pytest.mark.parametrize('extra', [dict(initiators=[HOST1B], initiators_mode='remove'), dict(initiators=[HOST1])])
def test_removing_initiators_of_a_mapped_igroup_needs_force(http, run_module, check_mode, extra):
    http.probe().expect('GET', IG_URL, reply=records(MAPPED))
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(**extra), check_mode=check_mode)
    assert failed.value.result['msg'] == (
        "refusing to remove initiator(s) %s from igroup 'host1': it is mapped to /vol/vol1/data01 (LUN 0) and those "
        "hosts would lose access to them; unmap first or set force=true" % HOST1B)
    assert http.writes() == []


def test_forced_removal_from_a_mapped_igroup_allows_it_while_mapped(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records(MAPPED)).expect('GET', IG_URL, reply=records(MAPPED))
    http.expect('DELETE', BASE + '/api/protocols/san/igroups/ig-1/initiators/iqn.2026-11.lab.san-iscsi%3Ahost1-b'
                '?allow_delete_while_mapped=true', reply={})
    http.expect('GET', IG_URL, reply=records(dict(MAPPED, initiators=[{'name': HOST1}])))
    result = run_module(igroup, args(initiators=[HOST1B], initiators_mode='remove', force=True))
    assert (result['changed'], result['removed'], result['igroup']['initiators']) == (True, [HOST1B], [HOST1])
    assert result['igroup']['maps'] == [{'path': '/vol/vol1/data01', 'lun_id': 0}]


def test_adding_to_a_mapped_igroup_needs_no_force(http, run_module):
    http.probe().expect('GET', IG_URL, reply=records(MAPPED))
    result = run_module(igroup, args(initiators=['iqn.2026-11.lab.san-iscsi:host1-c'], initiators_mode='add'),
                        check_mode=True)
    assert result['changed'] is True and result['removed'] == []
    assert http.writes() == []


def test_an_igroup_another_run_deleted_meanwhile_is_absent_unchanged(http, run_module):
    # two restores through one browse host tear down their shared igroup at the same moment (seen in the lab)
    http.probe().expect('GET', IG_URL, reply=records(IGROUP)).expect('GET', IG_URL, reply=records())
    http.expect('GET', SVM_URL, reply=records({'name': 'svm1'}))  # the vserver is there: only the igroup went
    result = run_module(igroup, args(state='absent'))
    assert (result['changed'], result['removed'], 'diff' in result) == (False, [], False)


def test_a_mapped_igroup_is_refused_with_a_stable_code(http, run_module):
    mapped = dict(IGROUP, lun_maps=[{'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/data01'}}])
    http.probe().expect('GET', IG_URL, reply=records(mapped))
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(state='absent'))
    assert failed.value.result['error_code'] == 'igroup_mapped'
    assert http.writes() == []


def test_an_igroup_another_run_mapped_meanwhile_is_refused_as_mapped(http, run_module):
    # the module read it unmapped; the backend's own read before the delete finds the other run's map
    mapped = dict(IGROUP, lun_maps=[{'logical_unit_number': 0, 'lun': {'name': '/vol/vol1/data01'}}])
    http.probe().expect('GET', IG_URL, reply=records(IGROUP)).expect('GET', IG_URL, reply=records(mapped))
    with pytest.raises(ModuleFailed) as failed:
        run_module(igroup, args(state='absent'))
    assert failed.value.result['error_code'] == 'igroup_mapped'
    assert http.writes() == []
