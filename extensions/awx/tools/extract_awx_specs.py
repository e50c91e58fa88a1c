# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vendor the argument specs of the awx.awx modules that apply extensions/awx/config/, and the way
infra.aap_configuration maps its variables onto their options, into tests/unit/extensions/awx_specs.json.

The unit tests (tests/unit/extensions/test_awx_config.py) check the configuration against this file, so they
need neither the network nor the awx.awx collection. Refresh it from local clones (or bare mirrors) of the two
repositories; nothing is imported from them, the module sources are parsed with ``ast``::

    git clone --bare https://github.com/ansible/awx awx.git
    git clone --bare https://github.com/redhat-cop/infra.aap_configuration aap.git
    python extensions/awx/tools/extract_awx_specs.py --awx awx.git --aap aap.git \\
        --output tests/unit/extensions/awx_specs.json

Each module's ``argument_spec = dict(...)`` literal in ``main()`` (and its ``mutually_exclusive``,
``required_if``, ``required_one_of``, ``required_together`` lists) is evaluated from the syntax tree; a name
such as ``KIND_CHOICES`` is resolved from the module's top-level literal assignments. From
infra.aap_configuration's ``roles/<role>/tasks/main.yml`` the first task's module options are read with the
item keys each option's template takes (``__item.organization.name`` -> item key ``organization``), the keys
marked ``| mandatory``, and the variable the loop runs over. From AWX's ``awx/main/constants.py`` come
ENV_BLOCKLIST (environment variables a credential type may not inject) and SURVEY_TYPE_MAPPING (the type of a
survey question's default, by question type).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import ast
import json
import os
import re
import subprocess
import sys

import yaml

MODULES = ('credential_type', 'credential', 'execution_environment', 'project', 'job_template')
MODULE_PATH = 'awx_collection/plugins/modules/%s.py'
# infra.aap_configuration role -> awx.awx module it calls
AAP_ROLES = {
    'controller_credential_types': 'credential_type',
    'controller_credentials': 'credential',
    'controller_execution_environments': 'execution_environment',
    'controller_projects': 'project',
    'controller_job_templates': 'job_template',
}
AAP_TASKS_PATH = 'roles/%s/tasks/main.yml'
# AWX's own limits the configuration must respect: environment variables a credential may not inject, and
# the Python types of each survey question type's default (type names here).
CONSTANTS_PATH = 'awx/main/constants.py'
CONSTANTS = ('ENV_BLOCKLIST', 'SURVEY_TYPE_MAPPING')
CHECK_LISTS = ('mutually_exclusive', 'required_if', 'required_one_of', 'required_together')


class Source(object):
    """Files of one repository at one commit: a bare mirror (``git --git-dir``) or a work tree."""

    def __init__(self, path, ref):
        self.path = path
        self.ref = ref
        bare = os.path.isfile(os.path.join(path, 'HEAD')) and os.path.isdir(os.path.join(path, 'objects'))
        self.git = ['git', '--git-dir', path] if bare else ['git', '-C', path]
        self.commit = self._git('rev-parse', ref + '^{commit}').strip()
        self.date = self._git('show', '-s', '--format=%cI', self.commit).strip()

    def _git(self, *args):
        return subprocess.check_output(self.git + list(args), universal_newlines=True)

    def read(self, path):
        return self._git('show', '%s:%s' % (self.commit, path))


def literal(node, names):
    """The Python value of a literal syntax node; ``dict(k=v)``, ``list(NAME.keys())`` and names in ``names``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == 'dict' and not node.args:
            return dict((keyword.arg, literal(keyword.value, names)) for keyword in node.keywords)
        if node.func.id == 'frozenset' and len(node.args) == 1 and not node.keywords:
            return sorted(literal(node.args[0], names))
        if node.func.id == 'list' and len(node.args) == 1 and not node.keywords:
            inner = node.args[0]
            if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == 'keys'
                    and not inner.args):
                return list(literal(inner.func.value, names).keys())
            return list(literal(inner, names))
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    try:
        return ast.literal_eval(node)
    except ValueError as error:
        raise ValueError('not a literal at line %d: %s' % (node.lineno, ast.dump(node))) from error


def module_spec(text):
    """argument_spec and the check lists of the awx.awx module source ``text``."""
    tree = ast.parse(text)
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                names[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    main = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == 'main']
    if not main:
        raise ValueError('no main()')
    found = {}
    for node in ast.walk(main[0]):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == 'argument_spec' or name in CHECK_LISTS:
                found[name] = literal(node.value, names)
    if 'argument_spec' not in found:
        raise ValueError('no argument_spec = dict(...) in main()')
    result = {'argument_spec': found.pop('argument_spec')}
    for name in CHECK_LISTS:
        if name in found:
            result[name] = [list(entry) for entry in found[name]]
    return result


def type_names(node):
    """A literal whose leaves are names of types (``str``, ``(float, int)``), with the names as strings."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Tuple):
        return [type_names(element) for element in node.elts]
    if isinstance(node, ast.Dict):
        return dict((ast.literal_eval(key), type_names(value)) for key, value in zip(node.keys, node.values))
    raise ValueError('not a literal of type names at line %d' % node.lineno)


def constants(text):
    """CONSTANTS from the source of awx/main/constants.py."""
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == 'SURVEY_TYPE_MAPPING':
                found[name] = type_names(node.value)
            elif name in CONSTANTS:
                found[name] = literal(node.value, {})
    missing = sorted(set(CONSTANTS) - set(found))
    if missing:
        raise ValueError('%s not found' % ', '.join(missing))
    return found


TASK_KEYWORDS = frozenset((
    'name', 'loop', 'loop_control', 'no_log', 'async', 'poll', 'register', 'changed_when', 'failed_when', 'vars',
    'when', 'tags', 'until', 'retries', 'delay', 'delegate_to', 'ignore_errors', 'block', 'environment'))


def role_mapping(text, module):
    """What the first task of an infra.aap_configuration role's tasks/main.yml passes to ``module``."""
    tasks = yaml.safe_load(text)
    task = tasks[0]
    keys = [key for key in task if key not in TASK_KEYWORDS]
    if len(keys) != 1 or keys[0].split('.')[-1] != module:
        raise ValueError('first task calls %s, not %s' % (keys, module))
    options = task[keys[0]]
    loop_var = task['loop_control']['loop_var']
    variable = re.search(r'\belse\s+(\w+)', task['loop']).group(1)
    item_key = re.compile(r'\b%s\.((?:related\.)?\w+)' % re.escape(loop_var))
    mandatory = re.compile(r'\b%s\.(\w+)\s*\|\s*mandatory\b' % re.escape(loop_var))
    item_keys = {}
    required = set()
    for option, template in sorted(options.items()):
        template = str(template)
        for key in item_key.findall(template):
            if key.startswith('related.'):
                continue
            item_keys.setdefault(key, option)
            if item_keys[key] != option:
                raise ValueError('item key %s feeds both %s and %s' % (key, item_keys[key], option))
        required.update(mandatory.findall(template))
    return {'variable': variable, 'module': module, 'item_keys': item_keys, 'mandatory': sorted(required)}


def extract(awx, aap):
    """The content of awx_specs.json from two Source objects."""
    modules = {}
    for name in MODULES:
        path = MODULE_PATH % name
        spec = module_spec(awx.read(path))
        spec['path'] = path
        modules[name] = spec
    roles = {}
    for role, module in sorted(AAP_ROLES.items()):
        roles[role] = role_mapping(aap.read(AAP_TASKS_PATH % role), module)
        roles[role]['path'] = AAP_TASKS_PATH % role
    return {
        'generator': 'extensions/awx/tools/extract_awx_specs.py',
        'awx': {'repository': 'https://github.com/ansible/awx', 'commit': awx.commit, 'committed': awx.date,
                'modules': modules, 'constants': constants(awx.read(CONSTANTS_PATH)),
                'constants_path': CONSTANTS_PATH},
        'infra_aap_configuration': {'repository': 'https://github.com/redhat-cop/infra.aap_configuration',
                                    'commit': aap.commit, 'committed': aap.date, 'roles': roles},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--awx', required=True, help='clone or bare mirror of github.com/ansible/awx')
    parser.add_argument('--awx-ref', default='HEAD')
    parser.add_argument('--aap', required=True,
                        help='clone or bare mirror of github.com/redhat-cop/infra.aap_configuration')
    parser.add_argument('--aap-ref', default='HEAD')
    parser.add_argument('--output', default='-', help='JSON file to write (default: stdout)')
    args = parser.parse_args(argv)
    data = extract(Source(args.awx, args.awx_ref), Source(args.aap, args.aap_ref))
    text = json.dumps(data, indent=1, sort_keys=True) + '\n'
    if args.output == '-':
        sys.stdout.write(text)
    else:
        with open(args.output, 'w') as handle:
            handle.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
