# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.san.iscsi.plugins.modules import iscsid_config
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import FakeCommands, fixture


@pytest.fixture
def conf(monkeypatch, tmp_path):
    path = tmp_path / 'iscsid.conf'
    path.write_text(fixture('iscsid.conf.debian12'))
    os.chmod(str(path), 0o644)
    FakeCommands(monkeypatch, binaries={})
    return path


def changed_lines(before, after):
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new) if a != b]


def test_replace_active_and_uncomment_default_in_place(run_module, conf):
    original = conf.read_text()
    result = run_module(iscsid_config, {'path': str(conf), 'settings': {
        'node.startup': 'automatic', 'node.session.timeo.replacement_timeout': 5,
        'node.session.auth.authmethod': 'CHAP', 'node.session.auth.username': 'host1'}})
    assert result['changed'] is True
    assert result['updated'] == ['node.session.auth.authmethod', 'node.session.auth.username',
                                 'node.session.timeo.replacement_timeout', 'node.startup']
    assert changed_lines(original, conf.read_text()) == [
        ('node.startup = manual', 'node.startup = automatic'),
        ('#node.session.auth.authmethod = CHAP', 'node.session.auth.authmethod = CHAP'),
        ('#node.session.auth.username = username', 'node.session.auth.username = host1'),
        ('node.session.timeo.replacement_timeout = 120', 'node.session.timeo.replacement_timeout = 5'),
    ]
    assert stat.S_IMODE(os.stat(str(conf)).st_mode) == 0o644
    again = run_module(iscsid_config, {'path': str(conf), 'settings': {
        'node.startup': 'automatic', 'node.session.timeo.replacement_timeout': 5}})
    assert again['changed'] is False


def test_secret_makes_the_file_0600_and_is_masked(run_module, conf):
    original = conf.read_text()
    result = run_module(iscsid_config, {'path': str(conf),
                                        'secret_settings': {'discovery.sendtargets.auth.password': 'top-secret'}},
                        diff=True)
    assert result['changed'] is True
    assert result['mode'] == '0600'
    assert result['settings'] == {'discovery.sendtargets.auth.password': '********'}
    assert stat.S_IMODE(os.stat(str(conf)).st_mode) == 0o600
    assert changed_lines(original, conf.read_text()) == [
        ('#discovery.sendtargets.auth.password = password', 'discovery.sendtargets.auth.password = top-secret')]
    assert 'top-secret' not in result['diff']['after']
    assert 'discovery.sendtargets.auth.password = ********' in result['diff']['after']
    assert run_module(iscsid_config, {'path': str(conf), 'secret_settings': {
        'discovery.sendtargets.auth.password': 'top-secret'}})['changed'] is False


def test_null_comments_the_active_line_out(run_module, conf):
    result = run_module(iscsid_config, {'path': str(conf), 'settings': {'node.session.scan': None}})
    assert result['changed'] is True
    assert '# node.session.scan = auto' in conf.read_text().splitlines()
    assert result['settings'] == {'node.session.scan': None}
    assert run_module(iscsid_config, {'path': str(conf), 'settings': {'node.session.scan': None}})['changed'] is False


def test_unknown_setting_is_appended_and_booleans_are_yes_no(run_module, conf):
    settings = {'node.session.iscsi.FastAbort': False, 'node.conn[0].timeo.noop_out_interval': 10}
    run_module(iscsid_config, {'path': str(conf), 'settings': settings})
    text = conf.read_text()
    assert 'node.session.iscsi.FastAbort = No' in text.splitlines()
    assert 'node.conn[0].timeo.noop_out_interval = 10' in text.splitlines()


def test_check_mode_writes_nothing(run_module, conf):
    original = conf.read_text()
    result = run_module(iscsid_config, {'path': str(conf), 'settings': {'node.startup': 'automatic'}},
                        check_mode=True)
    assert result['changed'] is True
    assert result['settings'] == {'node.startup': 'automatic'}
    assert conf.read_text() == original


@pytest.mark.parametrize('args, message', [
    ({'settings': {'node.session.auth.password': 'x'}}, 'put it in secret_settings'),
    ({'secret_settings': {'node.startup': 'x'}}, 'not a password setting'),
    ({'settings': {'node startup': 'x'}}, 'is not a setting name'),
    ({'settings': {'node.startup': 'a\nb'}}, 'single line'),
])
def test_bad_input(run_module, conf, args, message):
    original = conf.read_text()
    with pytest.raises(ModuleFailed) as failed:
        run_module(iscsid_config, dict(args, path=str(conf)))
    assert message in failed.value.result['msg']
    assert conf.read_text() == original


def test_missing_file_names_open_iscsi(run_module, tmp_path, conf):
    with pytest.raises(ModuleFailed) as failed:
        run_module(iscsid_config, {'path': str(tmp_path / 'nope.conf'), 'settings': {'node.startup': 'manual'}})
    assert 'is open-iscsi installed' in failed.value.result['msg']
