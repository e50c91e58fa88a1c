# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The README's examples, as a user pastes them: each YAML task passes its module's argument validation (with
the module_defaults of its block), and each `ansible-playbook ... -e` command passes the argument spec of the
role its playbook runs (every required option given, every option known, types and choices right)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shlex

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_examples import (
    RULES, example_tasks, module_spec, san_group)

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
README = os.path.join(ROOT, 'README.md')


def readme():
    with open(README) as handle:
        return handle.read()


def yaml_documents():
    return [yaml.safe_load(block) for block in re.findall(r'^```yaml\n(.*?)^```', readme(), re.M | re.S)]


def yaml_blocks():
    """The YAML blocks that are task lists."""
    return [document for document in yaml_documents() if isinstance(document, list)]


def inventory():
    """The README's inventory.yml (the one YAML block that is a mapping)."""
    found = [document for document in yaml_documents() if isinstance(document, dict)]
    assert len(found) == 1, 'README.md: one inventory.yml block expected'
    return found[0]


def playbook_commands():
    """argv of each `ansible-playbook` command in an indented code block (continuation lines joined)."""
    text = re.sub(r'\\\n\s*', ' ', readme())
    return [shlex.split(line.strip()) for line in text.splitlines() if line.strip().startswith('ansible-playbook ')]


def extra_vars(argv):
    found = {}
    for flag, value in zip(argv, argv[1:]):
        if flag == '-e':
            found.update(json.loads(value) if value.startswith('{') else dict([value.split('=', 1)]))
    return found


def role_of(playbook):
    with open(os.path.join(ROOT, playbook)) as handle:
        plays = yaml.safe_load(handle)
    for play in plays:
        for role in play.get('roles', []):
            return (role['role'] if isinstance(role, dict) else role).split('.')[-1]
    raise AssertionError('%s runs no role' % playbook)


def role_spec(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        return yaml.safe_load(handle)['argument_specs']['main']['options']


def validator_for(options):
    """ArgumentSpecValidator for a role's options (argument_specs.yml keys that AnsibleModule knows)."""
    keys = ('type', 'required', 'default', 'choices', 'elements', 'options', 'no_log')
    spec = dict((name, dict((key, value) for key, value in option.items() if key in keys))
                for name, option in options.items())
    return ArgumentSpecValidator(spec)


def test_the_readme_has_yaml_tasks_and_playbook_commands():
    assert [task for block in yaml_blocks() for task, _defaults in example_tasks(block)], 'no YAML task in README.md'
    assert len(playbook_commands()) >= 2


def test_the_readme_inventory_names_every_host_the_commands_use():
    hosts = set(inventory()['all']['hosts'])
    for argv in playbook_commands():
        assert argv[1:3] == ['-i', 'inventory.yml']
        named = [value for name, value in extra_vars(argv).items()
                 if name.endswith(('_host', '_source', '_destination', '_source_host'))]
        assert named and set(named) <= hosts, (named, hosts)


def test_every_readme_task_passes_its_modules_argument_validation(monkeypatch):
    for block in yaml_blocks():
        for task, defaults in example_tasks(block):
            fqcn = [key for key in task if key.startswith('san.iscsi.')]
            assert len(fqcn) == 1, 'task %r names no san.iscsi module' % task.get('name')
            name = fqcn[0].split('.')[-1]
            _module, spec = module_spec(monkeypatch, name)
            params = {}
            if name in san_group():
                params.update(defaults.get('group/san.iscsi.san') or {})
            params.update(task[fqcn[0]] or {})
            validator = ArgumentSpecValidator(spec['argument_spec'],
                                              **dict((rule, spec[rule]) for rule in RULES if rule in spec))
            errors = validator.validate(params).error_messages
            assert errors == [], 'README task %r: %s' % (task.get('name'), errors)


@pytest.mark.parametrize('argv', playbook_commands(), ids=lambda argv: argv[3] if len(argv) > 3 else 'command')
def test_every_readme_playbook_command_passes_the_roles_argument_spec(argv):
    playbook = [arg for arg in argv if arg.startswith('playbooks/')][0]
    role = role_of(playbook)
    options = role_spec(role)
    site = dict((name, value) for name, value in inventory()['all']['vars'].items() if name.startswith(role + '_'))
    given = dict(site, **extra_vars(argv))
    unknown = sorted(set(given) - set(options))
    assert unknown == [], '%s: not options of the role: %s' % (playbook, unknown)
    errors = validator_for(options).validate(given).error_messages
    assert errors == [], '%s: %s' % (playbook, errors)
