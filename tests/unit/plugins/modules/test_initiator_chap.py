# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.initiator_chap with provider lio against the fake LIO of test_san_lio: idempotency by comparing
secrets, check mode, bad input refused before any change, and no secret in any result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.san.iscsi.plugins.modules import initiator_chap
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.modules.san_emulator import Ontap, emulator  # noqa: F401 pylint: disable=unused-import
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_san_lio import HOST1, HOST2, IQN
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_lio_check_mode_parity import Lab

SECRET = 'host1-secret-0001'
MUTUAL = 'target-secret-01'


@pytest.fixture
def lab(monkeypatch, tmp_path):
    lab = Lab(monkeypatch, tmp_path)
    lab.backend.create_igroup('host1', 'iscsi', 'linux', [HOST1, HOST2])
    return lab


def args(lab, **extra):
    return dict(dict(lab.connection, initiator=HOST1), **extra)


def acl(lab, initiator=HOST1):
    return lab.lio.targets[IQN].tpg_map[1].acl_map[initiator]


def test_set_then_repeat_is_unchanged(lab, run_module):
    first = run_module(initiator_chap, args(lab, chap_user='host1', chap_secret=SECRET, mutual_user='tgt', mutual_secret=MUTUAL),
                       diff=True)
    assert first['changed'] is True and first['secret_written'] is True
    assert first['chap'] == dict(initiator=HOST1, method='chap', user='host1', mutual_user='tgt', vserver=None)
    assert (acl(lab).chap_password, acl(lab).chap_mutual_password) == (SECRET, MUTUAL)
    assert acl(lab).authenticates() and not acl(lab, HOST2).authenticates()
    assert 'secret: (set, written by this run)' in first['diff']['after']
    again = run_module(initiator_chap, args(lab, chap_user='host1', chap_secret=SECRET, mutual_user='tgt', mutual_secret=MUTUAL))
    assert again['changed'] is False and again['secret_written'] is False
    for result in (first, again):
        assert SECRET not in json.dumps(result) and MUTUAL not in json.dumps(result)


def test_a_new_secret_is_written_even_with_update_secret_on_create_where_lio_shows_it(lab, run_module):
    run_module(initiator_chap, args(lab, chap_user='host1', chap_secret=SECRET))
    result = run_module(initiator_chap, args(lab, chap_user='host1', chap_secret='host1-secret-0002', update_secret='on_create'))
    assert result['changed'] is True and acl(lab).chap_password == 'host1-secret-0002'


def test_check_mode_changes_nothing(lab, run_module):
    before = lab.state()
    result = run_module(initiator_chap, args(lab, chap_user='host1', chap_secret=SECRET), check_mode=True)
    assert result['changed'] is True and result['chap']['user'] == 'host1'
    assert lab.state() == before


def test_absent_removes_and_repeats_unchanged(lab, run_module):
    run_module(initiator_chap, args(lab, chap_user='host1', chap_secret=SECRET))
    gone = run_module(initiator_chap, args(lab, state='absent'))
    assert gone['changed'] is True and gone['chap'] is None
    assert acl(lab).chap_userid == '' and not acl(lab).authenticates()
    assert run_module(initiator_chap, args(lab, state='absent'))['changed'] is False


@pytest.mark.parametrize('check_mode', [True, False])
def test_initiator_in_no_igroup_fails_with_its_code(lab, run_module, check_mode):
    with pytest.raises(ModuleFailed) as failed:
        run_module(initiator_chap, args(lab, initiator='iqn.2026-11.lab.san-iscsi:stranger', chap_user='u', chap_secret=SECRET),
                   check_mode=check_mode)
    assert failed.value.result['error_code'] == 'initiator_not_found'


@pytest.mark.parametrize('extra, option', [
    (dict(chap_user='a user', chap_secret=SECRET), 'chap_user'),
    (dict(chap_user='host1', chap_secret='short'), 'chap_secret'),
    (dict(chap_user='host1', chap_secret=SECRET + ' x'), 'chap_secret'),
    (dict(chap_user='host1', chap_secret=SECRET, mutual_user='tgt', mutual_secret=SECRET), 'mutual_secret'),
    (dict(initiator='host1', chap_user='host1', chap_secret=SECRET), 'initiator'),
])
def test_bad_input_fails_before_any_change_without_the_secret(lab, run_module, extra, option):
    before = lab.state()
    with pytest.raises(ModuleFailed) as failed:
        run_module(initiator_chap, dict(args(lab), **extra))
    assert failed.value.result['options'] == [option]
    assert failed.value.result['error_code'] == 'invalid'
    assert SECRET not in json.dumps(failed.value.result) and 'short' not in failed.value.result['msg']
    assert lab.state() == before


# --- ONTAP, against the emulator (REST and ZAPI) -----------------------------------------------------------

@pytest.fixture(params=['always', 'never'], ids=['rest', 'zapi'])
def ontap(request, emulator):  # noqa: F811 pylint: disable=redefined-outer-name
    return Ontap(emulator, request.param)


def ontap_args(ontap, **extra):  # pylint: disable=redefined-outer-name
    return dict(dict(ontap.connection, initiator=HOST1.upper().replace('IQN', 'iqn')), **extra)


def stored(ontap):  # pylint: disable=redefined-outer-name
    """{lower-cased initiator: entry} of the emulated svm1's iSCSI security."""
    svm_uuid = ontap.state.svm_named('svm1')['uuid']
    return dict((initiator, record) for (uuid, initiator), record in ontap.state.credentials.items()
                if uuid == svm_uuid)


def test_ontap_set_and_repeat_on_create_is_unchanged_and_always_writes_again(ontap, run_module):  # pylint: disable=redefined-outer-name
    first = run_module(initiator_chap, ontap_args(ontap, chap_user='host1', chap_secret=SECRET, mutual_user='svm1',
                                                  mutual_secret=MUTUAL, update_secret='on_create'))
    assert first['changed'] is True
    assert first['chap'] == dict(initiator=HOST1, method='chap', user='host1', mutual_user='svm1', vserver='svm1')
    assert len(ontap.writes()) == 1
    again = run_module(initiator_chap, ontap_args(ontap, chap_user='host1', chap_secret=SECRET, mutual_user='svm1',
                                                  mutual_secret=MUTUAL, update_secret='on_create'))
    assert again['changed'] is False and len(ontap.writes()) == 1
    rotate = run_module(initiator_chap, ontap_args(ontap, chap_user='host1', chap_secret='host1-secret-0002',
                                                   mutual_user='svm1', mutual_secret=MUTUAL))
    assert rotate['changed'] is True and rotate['secret_written'] is True and len(ontap.writes()) == 2
    for result in (first, again, rotate):
        assert SECRET not in json.dumps(result) and 'host1-secret-0002' not in json.dumps(result)


def test_ontap_check_mode_sends_no_write_and_absent_deletes_the_entry(ontap, run_module):  # pylint: disable=redefined-outer-name
    checked = run_module(initiator_chap, ontap_args(ontap, chap_user='host1', chap_secret=SECRET), check_mode=True)
    assert checked['changed'] is True and ontap.writes() == []
    run_module(initiator_chap, ontap_args(ontap, chap_user='host1', chap_secret=SECRET))
    assert HOST1 in stored(ontap)
    gone = run_module(initiator_chap, ontap_args(ontap, state='absent'))
    assert gone['changed'] is True and HOST1 not in stored(ontap)
    assert 'default' in stored(ontap)
    assert run_module(initiator_chap, ontap_args(ontap, state='absent'))['changed'] is False


def test_ontap_a_new_user_drops_mutual_chap(ontap, run_module):  # pylint: disable=redefined-outer-name
    run_module(initiator_chap, ontap_args(ontap, chap_user='host1', chap_secret=SECRET, mutual_user='svm1',
                                          mutual_secret=MUTUAL))
    result = run_module(initiator_chap, ontap_args(ontap, chap_user='host1b', chap_secret=SECRET,
                                                   update_secret='on_create'))
    assert result['changed'] is True
    assert result['chap']['user'] == 'host1b' and result['chap']['mutual_user'] is None


def test_ontap_bad_input_sends_no_request(emulator, run_module):  # noqa: F811 pylint: disable=redefined-outer-name
    array = Ontap(emulator, 'always')
    array.state.log = []
    with pytest.raises(ModuleFailed) as failed:
        run_module(initiator_chap, ontap_args(array, chap_user='host1', chap_secret='short'))
    assert failed.value.result['options'] == ['chap_secret'] and array.state.log == []


def test_ontap_absent_leaves_a_deny_entry_made_elsewhere(ontap, run_module):  # pylint: disable=redefined-outer-name
    ontap.state.add_credential(ontap.state.svm_named('svm1'), HOST1, 'deny')
    result = run_module(initiator_chap, ontap_args(ontap, state='absent'))
    assert result['changed'] is False and ontap.writes() == []
    assert result['chap']['method'] == 'deny' and stored(ontap)[HOST1]['authentication_type'] == 'deny'
