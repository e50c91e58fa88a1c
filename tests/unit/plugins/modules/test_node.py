# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _iscsiadm
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.modules import node
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import (
    FakeCommands, fixture, iscsiadm)

TARGET = 'iqn.2026-11.lab.test:a'
LIST = iscsiadm('-m', 'node', '-P', '1')
SHOW = iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '-o', 'show')


def update(name, value):
    return iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '-o', 'update',
                    '-n', name, '-v', value)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    db = tmp_path / 'nodes'
    record_dir = db / TARGET / '10.10.1.1,3260,1'
    record_dir.mkdir(parents=True)
    (record_dir / 'default').write_text(fixture('node_record_file.txt').replace('lab.test:b', 'lab.test:a'))
    commands = FakeCommands(monkeypatch)
    commands.record_file = str(record_dir / 'default')
    commands.paths = HostPaths(node_db_dirs=(str(db),))
    return commands


@pytest.fixture
def run_module(run_module, fake):
    """Every module run of this file finds the node database in tmp_path."""
    return functools.partial(run_module, paths=fake.paths)


def show_with(**changes):
    text = fixture('node_show.txt')
    for name, value in changes.items():
        name = name.replace('__', '.').replace('_0_', '[0]')
        lines = [line for line in text.splitlines() if line.startswith(name + ' = ')]
        text = text.replace(lines[0], '%s = %s' % (name, value))
    return text


def test_no_change_runs_two_iscsiadm_processes(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    result = run_module(node, {'target': TARGET.upper(), 'portal': '10.10.1.1', 'settings': {'node.startup': 'Manual'}})
    assert result['changed'] is False
    assert result['created'] is False
    assert result['updated'] == []
    assert result['record']['target'] == TARGET
    assert result['record']['tpgt'] == 1
    assert result['record']['settings']['node.session.auth.password'] == '********'
    assert len(fake.iscsiadm_calls()) == 2
    fake.done()


def test_settings_change_with_diff(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    fake.expect(update('node.session.timeo.replacement_timeout', '15'))
    fake.expect(update('node.startup', 'automatic'))
    fake.expect(SHOW, out=show_with(node__startup='automatic'))
    result = run_module(node, {'target': TARGET, 'portal': '10.10.1.1:3260',
                               'settings': {'node.startup': 'automatic',
                                            'node.session.timeo.replacement_timeout': 15}}, diff=True)
    assert result['changed'] is True
    assert result['updated'] == ['node.session.timeo.replacement_timeout', 'node.startup']
    assert result['diff'] == {
        'before': 'node.session.timeo.replacement_timeout = 120\nnode.startup = manual\n',
        'after': 'node.session.timeo.replacement_timeout = 15\nnode.startup = automatic\n',
    }
    fake.done()


def test_check_mode_changes_nothing(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    result = run_module(node, {'target': TARGET, 'portal': '10.10.1.1', 'settings': {'node.startup': 'automatic'},
                               'chap_username': 'host1', 'chap_password': 'secret-one'}, check_mode=True)
    assert result['changed'] is True
    assert result['updated'] == ['node.session.auth.authmethod', 'node.session.auth.username', 'node.startup',
                                 'node.session.auth.password']
    assert result['record']['settings']['node.startup'] == 'automatic'
    assert 'secret-one' not in repr(result)
    assert 'node.session.auth.password = ' not in open(fake.record_file).read()
    fake.done()


def test_chap_password_goes_to_the_record_file_not_the_command_line(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    fake.expect(update('node.session.auth.authmethod', 'CHAP'))
    fake.expect(update('node.session.auth.username', 'host1'))
    fake.expect(update('node.session.auth.username_in', 'array1'))
    fake.expect(SHOW, out=show_with(node__session__auth__authmethod='CHAP'))
    args = {'target': TARGET, 'portal': '10.10.1.1', 'chap_username': 'host1', 'chap_password': 'secret-one',
            'chap_username_in': 'array1', 'chap_password_in': 'secret-two'}
    result = run_module(node, args)
    assert result['changed'] is True
    assert result['updated'][-2:] == ['node.session.auth.password', 'node.session.auth.password_in']
    assert not any('secret-one' in arg or 'secret-two' in arg for call in fake.calls for arg in call)
    assert _iscsiadm.read_record_value(fake.record_file, 'node.session.auth.password') == 'secret-one'
    assert _iscsiadm.read_record_value(fake.record_file, 'node.session.auth.password_in') == 'secret-two'
    fake.done()
    # same passwords again: compared with the file, so nothing to do
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=show_with(node__session__auth__authmethod='CHAP', node__session__auth__username='host1',
                                    node__session__auth__username_in='array1',
                                    node__session__auth__password_in='********'))
    assert run_module(node, args)['changed'] is False
    fake.done()


def test_update_password_on_create_keeps_an_existing_password(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=show_with(node__session__auth__authmethod='CHAP', node__session__auth__username='host1'))
    result = run_module(node, {'target': TARGET, 'portal': '10.10.1.1', 'chap_username': 'host1',
                               'chap_password': 'new-secret', 'update_password': 'on_create'})
    assert result['changed'] is False
    assert 'new-secret' not in open(fake.record_file).read()
    fake.done()


def test_create_record_with_tpgt(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', '10.10.2.1:3260,2', '-I', 'default'))
    show_b = iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.2.1:3260', '-I', 'default', '-o', 'show')
    fake.expect(show_b, out=fixture('node_show.txt').replace('10.10.1.1', '10.10.2.1'))
    fake.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.2.1:3260', '-I', 'default', '-o', 'update',
                         '-n', 'node.startup', '-v', 'automatic'))
    fake.expect(show_b, out=show_with(node__startup='automatic').replace('10.10.1.1', '10.10.2.1'))
    result = run_module(node, {'target': TARGET, 'portal': '10.10.2.1:3260,2',
                               'settings': {'node.startup': 'automatic'}}, diff=True)
    assert result['changed'] is True
    assert result['created'] is True
    assert result['diff']['before'] == ''
    assert result['record']['portal'] == '10.10.2.1:3260'
    fake.done()


def test_create_in_check_mode_runs_only_the_listing(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    result = run_module(node, {'target': TARGET, 'portal': '[fd5a:1::2]'}, check_mode=True)
    assert result['changed'] is True
    assert result['created'] is True
    assert result['record']['portal'] == '[fd5a:1::2]:3260'
    fake.done()


def test_absent_refuses_while_a_session_uses_the_record(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    fake.expect(iscsiadm('-m', 'session', '-P', '1'),
                out='Target: %s (non-flash)\n\tCurrent Portal: 10.10.1.1:3260,1\n\tPersistent Portal: '
                    '10.10.1.1:3260,1\n\t\tIface Name: default\n\t\tSID: 3\n' % TARGET)
    with pytest.raises(ModuleFailed) as failed:
        run_module(node, {'target': TARGET, 'portal': '10.10.1.1', 'state': 'absent'})
    assert failed.value.result['msg'].startswith('session 3 uses node record %s 10.10.1.1:3260: log out first' % TARGET)
    fake.done()


def test_absent_deletes_and_is_idempotent(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    fake.expect(iscsiadm('-m', 'session', '-P', '1'), rc=21)
    fake.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '-o', 'delete'))
    assert run_module(node, {'target': TARGET, 'portal': '10.10.1.1', 'state': 'absent'})['changed'] is True
    fake.done()
    fake.expect(LIST, rc=21, err='iscsiadm: No records found\n')
    assert run_module(node, {'target': TARGET, 'portal': '10.10.1.1', 'state': 'absent'})['changed'] is False
    fake.done()


@pytest.mark.parametrize('args, message', [
    ({'target': 'iqn.2026-11.lab_test:a'}, "characters not allowed"),
    ({'target': 'eui.123'}, '16 hex digits'),
    ({'portal': ':3260'}, 'has no host'),
    ({'portal': 'fd5a:1:::1'}, 'malformed IPv6'),
    ({'settings': {'node.session.auth.password': 'x'}}, 'is a secret'),
    ({'settings': {'node.conn[0].address': '10.0.0.1'}}, 'identifies the record'),
    ({'chap_username_in': 'a', 'chap_password_in': 'b'}, 'needs one-way CHAP'),
])
def test_bad_input_fails_before_any_command(run_module, fake, args, message):
    params = dict({'target': TARGET, 'portal': '10.10.1.1'}, **args)
    with pytest.raises(ModuleFailed) as failed:
        run_module(node, params)
    assert message in failed.value.result['msg']
    assert fake.calls == []


def test_unknown_setting_fails_before_any_change(run_module, fake):
    fake.expect(LIST, out=fixture('node_P1.txt'))
    fake.expect(SHOW, out=fixture('node_show.txt'))
    with pytest.raises(ModuleFailed) as failed:
        settings = {'node.startup': 'automatic', 'node.bogus': 1}
        run_module(node, {'target': TARGET, 'portal': '10.10.1.1', 'settings': settings})
    assert failed.value.result['msg'].startswith('unknown node setting(s): node.bogus')
    fake.done()


def test_missing_iscsiadm(run_module, fake):
    fake.binaries.pop('iscsiadm')
    with pytest.raises(ModuleFailed) as failed:
        run_module(node, {'target': TARGET, 'portal': '10.10.1.1'})
    assert 'install the open-iscsi package' in failed.value.result['msg']


def test_iscsiadm_failure_reports_cmd_rc_stderr(run_module, fake):
    fake.expect(LIST, rc=6, err='iscsiadm: could not lock db\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(node, {'target': TARGET, 'portal': '10.10.1.1'})
    result = failed.value.result
    assert result['rc'] == 6
    assert result['cmd'] == LIST
    assert result['stderr'] == 'iscsiadm: could not lock db\n'
    assert 'node database' in result['msg']
    assert os.path.exists(fake.record_file)
