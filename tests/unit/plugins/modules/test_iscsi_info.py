# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import socket

import pytest

from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.modules import iscsi_info
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_devices import FakeSysfs
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_portal_probe import free_port
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import (
    FakeCommands, fixture, iscsiadm)

TARGET = 'iqn.2026-11.lab.san-iscsi:helperc-capture'
SHOW = iscsiadm('-m', 'node', '-o', 'show')
SESSIONS = iscsiadm('-m', 'session', '-P', '3')


@pytest.fixture
def run_module(run_module, host):
    """Every module run of this file sees the fake tree."""
    return functools.partial(run_module, paths=host.paths)


@pytest.fixture
def host(monkeypatch, tmp_path):
    fake = FakeSysfs(tmp_path)
    initiator = tmp_path / 'initiatorname.iscsi'
    initiator.write_text('## comment\nInitiatorName=iqn.2026-11.lab.san-iscsi:host1\n')
    fake.paths = HostPaths(sysfs=fake.sys, dev=fake.dev, udev_db=fake.udev_db, mountinfo=fake.mountinfo,
                           initiator_file=str(initiator))
    fake.commands = FakeCommands(monkeypatch)
    return fake


def test_reports_everything_with_two_iscsiadm_calls(run_module, host):
    host.add_session(2, 3, target=TARGET)
    host.add_session(3, 4, target=TARGET, address='10.10.2.1')
    host.add_disk(2, 3, 0, 'sdc', target=TARGET)
    host.add_disk(3, 4, 0, 'sde', target=TARGET, portal='10.10.2.1:3260')
    host.add_dm('dm-0', 'mpatha', 'mpath-36001405c0ffee', ['sdc', 'sde'])
    host.mount(host.majors['dm-0'], '/dev/mapper/mpatha', '/srv/data')
    host.commands.expect(SHOW, out=fixture('lab_node_show_all.txt'))
    host.commands.expect(SESSIONS, out=fixture('session_P3.txt'))
    result = run_module(iscsi_info, {}, check_mode=True)
    assert result['changed'] is False
    assert result['initiator'] == {'name': 'iqn.2026-11.lab.san-iscsi:host1', 'alias': None}
    assert len(result['nodes']) == 6
    ipv6 = [n for n in result['nodes'] if n['portal'] == '[fd5a:1::1]:3260']
    assert ipv6 == [{'target': TARGET, 'portal': '[fd5a:1::1]:3260', 'tpgt': 1, 'iface': 'default',
                     'startup': 'manual'}]
    assert [s['sid'] for s in result['sessions']] == [1, 2, 3, 4]
    assert [d['name'] for d in result['devices']] == ['sdc', 'sde']
    assert result['devices'][0]['mountpoints'] == ['/srv/data']
    assert result['multipath'] == [{
        'name': 'mpatha', 'path': '/dev/mapper/mpatha', 'dm': 'dm-0', 'wwid': '36001405c0ffee',
        'paths': ['sdc', 'sde'], 'holders': [], 'mountpoints': ['/srv/data']}]
    host.commands.done()


def test_node_settings_mask_passwords(run_module, host):
    host.commands.expect(SHOW, out=fixture('node_show.txt'))
    host.commands.expect(SESSIONS, rc=21, err='iscsiadm: No active sessions.\n')
    result = run_module(iscsi_info, {'node_settings': True})
    settings = result['nodes'][0]['settings']
    assert settings['node.session.auth.password'] == '********'
    assert settings['node.session.auth.password_in'] == ''
    assert settings['node.startup'] == 'manual'
    assert result['sessions'] == []


def test_iscsiadm_error_is_reported(run_module, host):
    host.commands.expect(SHOW, rc=6, err='iscsiadm: could not read db\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(iscsi_info, {})
    assert failed.value.result['rc'] == 6
    assert failed.value.result['cmd'] == SHOW


def test_portals_are_checked_with_a_connection_each(run_module, host):
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)
    listening = '127.0.0.1:%d' % server.getsockname()[1]
    refusing = '127.0.0.1:%d' % free_port()
    host.commands.expect(SHOW, out=fixture('lab_node_show_all.txt'))
    host.commands.expect(SESSIONS, out=fixture('session_P3.txt'))
    try:
        result = run_module(iscsi_info, {'portals': [listening, refusing], 'portal_timeout': 1}, check_mode=True)
    finally:
        server.close()
    assert [(p['portal'], p['reachable']) for p in result['portals']] == [(listening, True), (refusing, False)]
    assert 'refused' in result['portals'][1]['error'].lower()


def test_without_portals_none_are_reported(run_module, host):
    host.commands.expect(SHOW, out=fixture('lab_node_show_all.txt'))
    host.commands.expect(SESSIONS, out=fixture('session_P3.txt'))
    assert run_module(iscsi_info, {}, check_mode=True)['portals'] == []


@pytest.mark.parametrize('params', [{'portals': ['10.0.0.1:99999']}, {'portals': ['']},
                                    {'portals': ['10.0.0.1'], 'portal_timeout': 0}])
def test_bad_portals_fail_before_any_command(run_module, host, params):
    with pytest.raises(ModuleFailed) as failed:
        run_module(iscsi_info, params, check_mode=True)
    assert failed.value.result['error_code'] == 'invalid'
    assert host.commands.calls == []
