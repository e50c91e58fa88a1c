# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_script_host.ScriptModule: the seams' module interface outside Ansible, with real commands."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.san.iscsi.plugins.module_utils._command import Runner, ToolError
from ansible_collections.san.iscsi.plugins.module_utils._script_host import ScriptFailure, ScriptModule


def test_finds_tools_in_path_and_the_sbin_directories(tmp_path):
    tool = tmp_path / 'mytool'
    tool.write_text('#!/bin/sh\n')
    tool.chmod(0o755)
    (tmp_path / 'plain').write_text('not executable')
    module = ScriptModule(path=str(tmp_path))
    assert module.get_bin_path('mytool') == str(tool)
    assert module.get_bin_path('plain') is None
    assert module.get_bin_path('nosuch-tool-here') is None
    assert ScriptModule(path='').get_bin_path('sh', opt_dirs=['/bin']) == '/bin/sh'


def test_a_required_tool_that_is_missing_fails_like_a_module():
    with pytest.raises(ScriptFailure) as caught:
        ScriptModule(path='').get_bin_path('nosuch-tool-here', required=True)
    assert caught.value.result['error_code'] == 'missing_tool'


def test_run_command_returns_text_and_takes_the_environment_update():
    rc, out, err = ScriptModule().run_command(['/bin/sh', '-c', 'echo "$LC_ALL"; echo oops >&2; exit 3'],
                                              environ_update={'LC_ALL': 'C'})
    assert (rc, out, err) == (3, 'C\n', 'oops\n')
    assert ScriptModule().run_command(['/bin/cat'], data='in')[1] == 'in'
    assert ScriptModule().run_command(['/nonexistent/tool'])[0] == 127


def test_fail_json_raises_with_the_result_and_warnings_are_kept():
    seen = []
    module = ScriptModule(params={'provider': 'lio'}, warn=seen.append)
    module.warn('careful')
    assert module.warnings == ['careful'] and seen == ['careful'] and module.params == {'provider': 'lio'}
    with pytest.raises(ScriptFailure) as caught:
        module.fail_json(msg='broken', error_code='x', rc=1)
    assert caught.value.result == {'msg': 'broken', 'error_code': 'x', 'rc': 1} and str(caught.value) == 'broken'


def test_the_command_seam_runs_on_it():
    runner = Runner(ScriptModule(path=os.environ.get('PATH', '/usr/bin:/bin')))
    assert runner.run('sh', ['-c', 'echo ok'])[1] == 'ok\n'
    assert runner.calls[0][0].endswith('timeout')  # bounded by coreutils timeout, as in a module
    with pytest.raises(ToolError):
        runner.run('sh', ['-c', 'exit 4'])
