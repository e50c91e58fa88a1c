# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import hashlib
import os
import stat

import pytest

from ansible.module_utils.common.warnings import get_warning_messages

from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.modules import initiator
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import FakeCommands

DEBIAN_FILE = ('## DO NOT EDIT OR REMOVE THIS FILE!\n'
               '## If you remove this file, the iSCSI daemon will not start.\n'
               '## If you change the InitiatorName, existing access control lists\n'
               '## may reject this initiator.  The InitiatorName must be unique\n'
               '## for each iSCSI initiator.  Do NOT duplicate iSCSI InitiatorNames.\n'
               'InitiatorName=iqn.1993-08.org.debian:01:5b1d9f7e3a2c\n')
SYSTEMCTL = ['/usr/bin/timeout', '-k', '5']


@pytest.fixture
def env(monkeypatch, tmp_path):
    path = tmp_path / 'initiatorname.iscsi'
    path.write_text(DEBIAN_FILE)
    os.chmod(str(path), 0o600)
    machine_id = tmp_path / 'machine-id'
    machine_id.write_text('0123456789abcdef0123456789abcdef\n')
    monkeypatch.setattr(initiator, 'MACHINE_ID_FILES', (str(machine_id),))
    sessions = tmp_path / 'sys' / 'class' / 'iscsi_session'
    sessions.mkdir(parents=True)
    commands = FakeCommands(monkeypatch, binaries={'timeout': '/usr/bin/timeout', 'systemctl': '/usr/bin/systemctl'})
    commands.path = path
    commands.sessions = sessions
    commands.paths = HostPaths(sysfs=str(tmp_path / 'sys'))
    return commands


@pytest.fixture
def run_module(run_module, env):
    """Every module run of this file sees the fake /sys."""
    return functools.partial(run_module, paths=env.paths)


def is_active(rc=0, state='active'):
    return (SYSTEMCTL + ['60', '/usr/bin/systemctl', 'is-active', 'iscsid.service'], rc, state + '\n')


def test_set_name_keeps_comments_and_mode_and_restarts_running_iscsid(run_module, env):
    argv, rc, out = is_active()
    env.expect(argv, rc, out)
    env.expect(SYSTEMCTL + ['120', '/usr/bin/systemctl', 'try-restart', 'iscsid.service'])
    (env.sessions / 'session1').mkdir()
    result = run_module(initiator, {'name': 'iqn.2026-11.lab.san-iscsi:host1', 'path': str(env.path)}, diff=True)
    assert result['changed'] is True
    assert result['name'] == 'iqn.2026-11.lab.san-iscsi:host1'
    assert result['previous_name'] == 'iqn.1993-08.org.debian:01:5b1d9f7e3a2c'
    assert result['restarted'] is True
    assert env.path.read_text() == DEBIAN_FILE.replace('iqn.1993-08.org.debian:01:5b1d9f7e3a2c',
                                                       'iqn.2026-11.lab.san-iscsi:host1')
    assert stat.S_IMODE(os.stat(str(env.path)).st_mode) == 0o600
    assert '+InitiatorName=iqn.2026-11.lab.san-iscsi:host1' not in result['diff']['before']
    assert 'InitiatorName=iqn.2026-11.lab.san-iscsi:host1' in result['diff']['after']
    assert any('keep the old initiator name iqn.1993-08.org.debian:01:5b1d9f7e3a2c' in warning
               for warning in get_warning_messages())
    env.done()


def test_same_name_in_other_case_is_no_change(run_module, env):
    result = run_module(initiator, {'name': 'IQN.1993-08.ORG.DEBIAN:01:5B1D9F7E3A2C', 'path': str(env.path)})
    assert result['changed'] is False
    assert result['name'] == 'iqn.1993-08.org.debian:01:5b1d9f7e3a2c'
    assert env.calls == []


def test_check_mode_writes_nothing_restarts_nothing(run_module, env):
    argv, rc, out = is_active()
    env.expect(argv, rc, out)
    result = run_module(initiator, {'name': 'iqn.2026-11.lab.san-iscsi:host1', 'path': str(env.path)},
                        check_mode=True)
    assert result['changed'] is True
    assert result['restarted'] is True
    assert env.path.read_text() == DEBIAN_FILE
    env.done()


def test_iscsid_not_running_is_not_started(run_module, env):
    argv, rc, out = is_active(rc=3, state='inactive')
    env.expect(argv, rc, out)
    result = run_module(initiator, {'name': 'iqn.2026-11.lab.san-iscsi:host1', 'path': str(env.path),
                                    'alias': 'host one'})
    assert result['restarted'] is False
    assert result['alias'] == 'host one'
    assert env.path.read_text().endswith('InitiatorName=iqn.2026-11.lab.san-iscsi:host1\nInitiatorAlias=host one\n')
    env.done()


def test_generate_is_stable_and_derived_from_machine_id(run_module, env):
    env.path.write_text('## placeholder\nGenerateName=yes\n')
    expected = 'iqn.2005-03.org.open-iscsi:' + hashlib.sha256(
        b'san.iscsi:0123456789abcdef0123456789abcdef').hexdigest()[:12]
    first = run_module(initiator, {'generate': True, 'path': str(env.path)})
    assert first['changed'] is True
    assert first['generated'] is True
    assert first['name'] == expected
    assert env.path.read_text() == '## placeholder\nInitiatorName=%s\n' % expected
    second = run_module(initiator, {'generate': True, 'path': str(env.path)})
    assert second['changed'] is False
    assert second['name'] == expected
    assert env.calls == []  # no previous name: nothing to restart


def test_generate_keeps_an_existing_valid_name(run_module, env):
    result = run_module(initiator, {'generate': True, 'path': str(env.path)})
    assert result['changed'] is False
    assert result['name'] == 'iqn.1993-08.org.debian:01:5b1d9f7e3a2c'


def test_missing_file_is_created(run_module, env, tmp_path):
    path = tmp_path / 'new' / 'initiatorname.iscsi'
    path.parent.mkdir()
    result = run_module(initiator, {'name': 'eui.02004567A425678D', 'path': str(path)})
    assert result['changed'] is True
    assert result['previous_name'] is None
    assert path.read_text() == 'InitiatorName=eui.02004567A425678D\n'


@pytest.mark.parametrize('args, message', [
    ({'name': 'iqn.2026-11.lab.san-iscsi:host_1'}, 'not allowed'),
    ({'name': 'naa.1234'}, '16 or 32 hex digits'),
    ({'name': 'iqn.2026-11.lab.san-iscsi:h', 'generate': True}, 'mutually exclusive'),
    ({'alias': 'two\nlines'}, 'single line'),
    ({'generate': True, 'generate_prefix': 'host1'}, 'must start with'),
])
def test_bad_input(run_module, env, args, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(initiator, dict(args, path=str(env.path)))
    assert message in failed.value.result['msg']
    assert env.path.read_text() == DEBIAN_FILE
    assert env.calls == []
