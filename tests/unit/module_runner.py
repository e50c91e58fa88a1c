# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process and get its result dict back.

Tests use the ``run_module`` fixture (tests/unit/conftest.py) and import the exception for
failures from here::

    from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

    def test_present(run_module):
        result = run_module(my_module, {'name': 'x'}, check_mode=True)
        assert result['changed'] is True

    def test_bad_name(run_module):
        with pytest.raises(ModuleFailed) as failed:
            run_module(my_module, {'name': ''})
        assert failed.value.result['msg'] == '...'
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import json

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils.testing import patch_module_args  # ansible-core >= 2.19
except ImportError:
    patch_module_args = None


class ModuleExited(Exception):
    """exit_json was called; .result holds its keyword arguments."""

    def __init__(self, result):
        super(ModuleExited, self).__init__(result)
        self.result = result


class ModuleFailed(Exception):
    """fail_json was called; .result holds its keyword arguments (msg, cmd, rc, ...)."""

    def __init__(self, result):
        super(ModuleFailed, self).__init__(result.get('msg'))
        self.result = result


def _exit_json(module, **kwargs):
    kwargs.setdefault('changed', False)
    raise ModuleExited(kwargs)


def _fail_json(module, msg, **kwargs):
    kwargs['failed'] = True
    kwargs['msg'] = msg
    raise ModuleFailed(kwargs)


def patch_exits(monkeypatch):
    """Make AnsibleModule.exit_json/fail_json raise instead of printing and exiting."""
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', _fail_json)


@contextlib.contextmanager
def fed_module_args(args):
    """Feed args to the next AnsibleModule the way ansible-core does for this version."""
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    saved = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved


def call_main(module, args, check_mode=False, diff=False, **main_kwargs):
    """Run module.main(**main_kwargs) with args (exits patched); return the exit_json dict.

    main_kwargs: what a module's main() takes besides its args, e.g. paths=HostPaths(...) of a fake tree."""
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with fed_module_args(module_args):
        try:
            module.main(**main_kwargs)
        except ModuleExited as exited:
            return exited.result
    raise AssertionError('%s.main() returned without calling exit_json or fail_json' % module.__name__)


def fake_bin_path(module, name, required=False, opt_dirs=None):
    """get_bin_path of a fake host: coreutils timeout in /usr/bin, every other tool in /sbin."""
    return '/usr/bin/timeout' if name == 'timeout' else '/sbin/%s' % name


def route_commands(monkeypatch, handler):
    """Send every AnsibleModule.run_command(argv, **kwargs) to HANDLER(argv, **kwargs) (the fake host's
    commands), and find every tool at fake_bin_path's place."""
    def run_command(module, argv, **kwargs):
        return handler(argv, **kwargs)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', fake_bin_path)
