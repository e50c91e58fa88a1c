# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES, as a user pastes them: each task's arguments (with the module_defaults of the
block around it, as Ansible merges them) pass the module's own argument validation - required options,
choices, types, mutually exclusive and required-if rules. Jinja expressions stay strings, as before templating."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

MODULES_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules')
MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith('.py') and name != '__init__.py')
RUNTIME = os.path.join(MODULES_DIR, '..', '..', 'meta', 'runtime.yml')
RULES = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class Captured(Exception):
    """Raised by the stand-in AnsibleModule: carries the keyword arguments main() built it with."""

    def __init__(self, kwargs):
        super(Captured, self).__init__('captured')
        self.kwargs = kwargs


def module_spec(monkeypatch, name):
    """The argument_spec and rules main() gives AnsibleModule (main() stops right there)."""
    module = importlib.import_module('ansible_collections.san.iscsi.plugins.modules.%s' % name)

    def capture(**kwargs):
        raise Captured(kwargs)
    monkeypatch.setattr(module, 'AnsibleModule', capture)
    with pytest.raises(Captured) as captured:
        module.main()
    return module, captured.value.kwargs


def example_tasks(tasks, defaults=None):
    """(task, module_defaults in force) for every task, blocks flattened."""
    for task in tasks:
        merged = dict(defaults or {})
        merged.update(task.get('module_defaults') or {})
        if 'block' in task:
            yield from example_tasks(task['block'], merged)
        else:
            yield task, merged


def san_group():
    with open(RUNTIME) as handle:
        return yaml.safe_load(handle)['action_groups']['san']


@pytest.mark.parametrize('name', MODULES)
def test_every_example_passes_the_modules_argument_validation(monkeypatch, name):
    module, spec = module_spec(monkeypatch, name)
    fqcn = 'san.iscsi.%s' % name
    tasks = [(task, defaults) for task, defaults in example_tasks(yaml.safe_load(module.EXAMPLES))
             if fqcn in task]
    assert tasks, '%s has no example task' % name
    validator = ArgumentSpecValidator(spec['argument_spec'], **dict((rule, spec[rule]) for rule in RULES if rule in spec))
    for task, defaults in tasks:
        params = {}
        if name in san_group():
            params.update(defaults.get('group/san.iscsi.san') or {})
        params.update(defaults.get(fqcn) or {})
        params.update(task[fqcn] or {})
        errors = validator.validate(params).error_messages
        assert errors == [], '%s, example %r: %s' % (name, task.get('name'), errors)
