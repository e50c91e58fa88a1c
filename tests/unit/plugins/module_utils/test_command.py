# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command seam: one Runner for every external command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _command as command
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_blockdev import FakeModule, tool


def test_runner_wraps_with_timeout_and_c_locale():
    module = FakeModule([(['/sbin/blockdev'], (0, '', ''))])
    command.Runner(module).run('blockdev', ['--setro', '/dev/sdb'])
    assert module.commands == [tool('blockdev', '--setro', '/dev/sdb')]
    assert module.environ == [{'LC_ALL': 'C', 'LANG': 'C'}]


def test_runner_reports_timeout_with_command_and_output():
    module = FakeModule([(['/sbin/mount'], (124, '', 'killed'))])
    with pytest.raises(command.ToolError) as failed:
        command.Runner(module).run('mount', ['/dev/sdb', '/mnt'], timeout=300, what='mounting /dev/sdb')
    assert failed.value.msg == 'mounting /dev/sdb did not finish within 300s and was stopped: killed'
    assert failed.value.as_fail_kwargs() == {
        'msg': failed.value.msg, 'cmd': tool('mount', '/dev/sdb', '/mnt', timeout=300), 'rc': 124,
        'stdout': '', 'stderr': 'killed', 'error_code': 'command_failed'}


def test_runner_names_the_package_of_a_missing_tool():
    with pytest.raises(command.ToolError) as failed:
        command.Runner(FakeModule(missing=['dmsetup'])).run('dmsetup', ['ls'])
    assert failed.value.msg == 'dmsetup was not found in PATH (Debian/Ubuntu package: dmsetup)'


def test_runner_accepts_any_exit_code_when_asked_and_records_every_call():
    module = FakeModule([(['/sbin/udevadm'], (1, '', 'timed out'))])
    runner = command.Runner(module)
    assert runner.run('udevadm', ['settle', '--timeout=1'], ok=None) == (1, '', 'timed out')
    assert runner.calls == [tool('udevadm', 'settle', '--timeout=1')]


def test_a_tool_given_by_path_is_not_looked_up():
    module = FakeModule([(['/opt/bin/iscsiadm'], (0, 'ok', ''))])
    runner = command.Runner(module, kill_grace=10)
    assert runner.binary('/opt/bin/iscsiadm') == '/opt/bin/iscsiadm'
    runner.run('/opt/bin/iscsiadm', ['-m', 'session'])
    assert runner.calls[0][:4] == ['/usr/bin/timeout', '-k', '10', '60']


def test_concurrently_keeps_the_order_and_returns_every_error():
    """The calls overlap (each waits, at most 10 s, until all have started), and no failure is lost."""
    started = threading.Barrier(3, timeout=10)

    def call(value, error=None):
        def run():
            started.wait()
            if error is not None:
                raise error
            return value
        return run

    outcomes = command.concurrently([call('a'), call(None, SystemExit(1)), call(None, ValueError('c'))])
    assert outcomes[0] == ('a', None)
    assert outcomes[1][0] is None and isinstance(outcomes[1][1], SystemExit)
    assert outcomes[2][0] is None and str(outcomes[2][1]) == 'c'


def test_concurrently_runs_a_single_call_in_the_calling_thread():
    assert command.concurrently([threading.current_thread]) == [(threading.current_thread(), None)]
