# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _iscsiadm
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.modules import discovery
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import (
    FakeCommands, fixture, iscsiadm)

TARGET = 'iqn.2026-11.lab.san-iscsi:helperc-capture'
OTHER = 'iqn.2026-11.lab.san-iscsi:other'
SENDTARGETS = 'discovery_sendtargets.txt'
DISCOVER = iscsiadm('-m', 'discovery', '-t', 'sendtargets', '-p', '10.10.1.1:3260', '-I', 'default',
                    '-o', 'nonpersistent', timeout=300)
NODES = iscsiadm('-m', 'node', '-P', '1')


def new(portal, target=TARGET):
    return iscsiadm('-m', 'node', '-o', 'new', '-T', target, '-p', portal, '-I', 'default')


def tree(*entries):
    text = ''
    for target, portal in entries:
        text += 'Target: %s\n\tPortal: %s\n\t\tIface Name: default\n' % (target, portal)
    return text


@pytest.fixture
def fake(monkeypatch):
    return FakeCommands(monkeypatch)


def test_report_only_runs_one_nonpersistent_discovery(run_module, fake):
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    result = run_module(discovery, {'portal': '10.10.1.1', 'persist': False})
    assert result['changed'] is False
    assert [t['target'] for t in result['targets']] == [
        'iqn.2026-11.lab.san-iscsi:lmx', TARGET, 'iqn.2003-01.org.linux-iscsi.san:lab-smoke']
    assert [p['portal'] for p in result['targets'][1]['portals']] == [
        '10.10.1.1:3260', '10.10.2.1:3260', '[fd5a:1::1]:3260']
    fake.done()


def test_persist_adds_only_missing_filtered_records(run_module, fake):
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    fake.expect(NODES, out=tree((TARGET, '10.10.1.1:3260,1')))
    fake.expect(new('10.10.2.1:3260,1'))
    result = run_module(discovery, {'portal': '10.10.1.1', 'address_family': 'ipv4', 'targets': [TARGET]})
    assert result['changed'] is True
    assert result['added'] == ['%s 10.10.2.1:3260' % TARGET]
    assert [p['portal'] for p in result['targets'][0]['portals']] == ['10.10.1.1:3260', '10.10.2.1:3260']
    fake.done()


def test_persist_no_change_when_all_recorded(run_module, fake):
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    fake.expect(NODES, out=tree((TARGET, '10.10.1.1:3260,1'), (TARGET, '10.10.2.1:3260,1'),
                                (TARGET, '[fd5a:1::1]:3260,1')))
    result = run_module(discovery, {'portal': '10.10.1.1', 'targets': [TARGET]})
    assert result['changed'] is False
    assert result['added'] == []
    fake.done()


def test_filters_by_portal_and_target_exactly(run_module, fake):
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    result = run_module(discovery, {'portal': '10.10.1.1', 'persist': False, 'portals': ['[fd5a:1:0:0:0:0:0:1]']})
    assert result['targets'] == [{'target': TARGET, 'portals': [{'portal': '[fd5a:1::1]:3260', 'tpgt': 1}]}]
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    result = run_module(discovery, {'portal': '10.10.1.1', 'persist': False, 'targets': [TARGET[:-1]]})
    assert result['targets'] == []
    fake.done()
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    result = run_module(discovery, {'portal': '10.10.1.1', 'persist': False, 'address_family': 'ipv6',
                                    'targets': [TARGET.upper()]})
    assert result['targets'] == [{'target': TARGET, 'portals': [{'portal': '[fd5a:1::1]:3260', 'tpgt': 1}]}]


def test_check_mode_creates_nothing(run_module, fake):
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    fake.expect(NODES, rc=21)
    result = run_module(discovery, {'portal': '10.10.1.1'}, check_mode=True)
    assert result['changed'] is True
    assert len(result['added']) == 6
    assert '%s [fd5a:1::1]:3260' % TARGET in result['added']
    fake.done()


def test_prune_removes_stale_portal_but_not_one_in_use(run_module, fake):
    fake.expect(DISCOVER, out=fixture(SENDTARGETS))
    fake.expect(NODES, out=tree((TARGET, '10.10.1.1:3260,1'), (TARGET, '10.10.2.1:3260,1'),
                                (TARGET, '[fd5a:1::1]:3260,1'), (TARGET, '10.10.3.1:3260,1'),
                                (TARGET, '10.10.4.1:3260,1'), (OTHER, '10.10.3.1:3260,1')))
    fake.expect(iscsiadm('-m', 'session', '-P', '1'),
                out='Target: %s (non-flash)\n\tCurrent Portal: 10.10.4.1:3260,1\n\tPersistent Portal: '
                    '10.10.4.1:3260,1\n\t\tIface Name: default\n\t\tSID: 9\n' % TARGET)
    fake.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.3.1:3260', '-I', 'default', '-o', 'delete'))
    result = run_module(discovery, {'portal': '10.10.1.1', 'prune': True, 'targets': [TARGET]})
    assert result['changed'] is True
    assert result['removed'] == ['%s 10.10.3.1:3260' % TARGET]
    fake.done()


def test_discovery_chap_secret_goes_to_st_config(run_module, fake, tmp_path):
    st_dir = tmp_path / 'send_targets' / '10.10.1.1,3260'
    st_dir.mkdir(parents=True)
    st_config = st_dir / 'st_config'
    db = ['-m', 'discoverydb', '-t', 'sendtargets', '-p', '10.10.1.1:3260']
    fake.expect(iscsiadm(*(db + ['-o', 'show'])), rc=21)
    fake.expect(iscsiadm(*(db + ['-o', 'new'])))
    fake.expect(iscsiadm(*(db + ['-o', 'show'])), out=fixture('discoverydb_show.txt'))
    fake.expect(iscsiadm(*(db + ['-o', 'update', '-n', 'discovery.sendtargets.auth.authmethod', '-v', 'CHAP'])))
    fake.expect(iscsiadm(*(db + ['-o', 'update', '-n', 'discovery.sendtargets.auth.username', '-v', 'disco'])))
    fake.expect(iscsiadm(*(db + ['--discover', '-I', 'default', '-o', 'nonpersistent']), timeout=300),
                out=fixture(SENDTARGETS))
    st_config.write_text(fixture('discoverydb_show.txt').replace(' = <empty>\n', ' = \n'))
    result = run_module(discovery, {'portal': '10.10.1.1', 'persist': False, 'chap_username': 'disco',
                                    'chap_password': 'disco-secret'},
                        paths=HostPaths(sendtargets_db_dirs=(str(tmp_path / 'send_targets'),)))
    assert result['changed'] is True
    assert _iscsiadm.read_record_value(str(st_config), 'discovery.sendtargets.auth.password') == 'disco-secret'
    assert not any('disco-secret' in arg for call in fake.calls for arg in call)
    fake.done()


@pytest.mark.parametrize('args, message', [
    ({'portal': None}, 'portal is required'),
    ({'portal': '[fd5a::1'}, 'closing'),
    ({'type': 'isns', 'chap_username': 'a', 'chap_password': 'b'}, 'only supported with type=sendtargets'),
    ({'targets': ['iqn.bad']}, 'iqn.YYYY-MM'),
    ({'portals': ['300.1.1.1']}, 'not a valid IPv4'),
])
def test_bad_input(run_module, fake, args, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(discovery, dict({'portal': '10.10.1.1'}, **args))
    assert message in failed.value.result['msg']
    assert fake.calls == []


def test_unknown_portal_error_is_clear(run_module, fake):
    fake.expect(DISCOVER, rc=4, err='iscsiadm: cannot make connection to 10.10.1.1: No route to host\n'
                                    'iscsiadm: connection login retries (reopen_max) 5 exceeded\n'
                                    'iscsiadm: Could not perform SendTargets discovery: encountered '
                                    'connection failure\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(discovery, {'portal': '10.10.1.1'})
    assert failed.value.result['msg'] == (
        'sendtargets discovery at 10.10.1.1:3260: iscsiadm exited with 4 (transport error): '
        'iscsiadm: Could not perform SendTargets discovery: encountered connection failure')
    assert failed.value.result['rc'] == 4


def test_isns_and_firmware_discovery_commands(run_module, fake):
    fake.expect(iscsiadm('-m', 'discovery', '-t', 'isns', '-p', '10.10.1.5:3205', '-I', 'default',
                         '-o', 'nonpersistent', timeout=300), out=fixture(SENDTARGETS))
    result = run_module(discovery, {'type': 'isns', 'portal': '10.10.1.5:3205', 'persist': False,
                                    'targets': [TARGET]})
    assert len(result['targets'][0]['portals']) == 3
    fake.expect(iscsiadm('-m', 'discovery', '-t', 'fw', '-o', 'nonpersistent', timeout=300), rc=21,
                err='iscsiadm: No records found\n')
    result = run_module(discovery, {'type': 'fw', 'persist': False})
    assert result['targets'] == []
    assert result['changed'] is False
    fake.done()
