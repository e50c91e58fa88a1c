# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX configuration as code in extensions/awx/ against what applies it and what runs it.

- Each item of the controller_* variables against the argument spec of the awx.awx module that
  infra.aap_configuration calls for it (vendored with the variable -> option mapping in awx_specs.json by
  extensions/awx/tools/extract_awx_specs.py; no network, no awx.awx needed).
- The credential types against AWX's own validation of inputs and injectors (awx/main/fields.py
  CredentialTypeInputField, CredentialTypeInjectorField), the surveys against AWX's survey spec validation
  (awx/api/views JobTemplateSurveySpec._validate_spec_data, awx/main/models/mixins.py
  SurveyJobTemplateMixin._survey_element_validation), re-implemented here from the AWX commit in awx_specs.json.
- The surveys and the credentials against the roles' argument specs and the wrapper playbooks; then, end to
  end, a sample survey answer and sample credential inputs are handed over the way AWX does (survey defaults,
  extra vars written as !unsafe YAML and read back by ansible-core, inject_credential's environment and files),
  converted by the wrapper with Ansible's own templar, and the role variables that result are validated with
  the role's argument spec (and the SAN options with the SAN modules' argument spec).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import importlib.util
import json
import os
import re

from unittest import mock

import pytest
import yaml

from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import BOOLEANS
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.utils.yaml import from_yaml
from ansible.plugins.loader import lookup_loader
from ansible.template import Templar, trust_as_template

from ansible_collections.san.iscsi.plugins.doc_fragments.san import ModuleDocFragment
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import san_argument_spec
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
AWX_DIR = os.path.join(REPO, 'extensions', 'awx')
CONFIG_DIR = os.path.join(AWX_DIR, 'config')
PLAYBOOK_DIR = os.path.join(AWX_DIR, 'playbooks')
with open(os.path.join(os.path.dirname(__file__), 'awx_specs.json')) as _specs:
    SPECS = json.load(_specs)
MODULES = SPECS['awx']['modules']
AWX_CONSTANTS = SPECS['awx']['constants']
AAP_ROLES = SPECS['infra_aap_configuration']['roles']
ROLE_OF_VARIABLE = dict((role['variable'], role) for role in AAP_ROLES.values())


class Unsafe(str):
    """A string tagged !unsafe: Ansible passes it on as written, never renders it."""


class ConfigLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML as include_vars reads it, keeping track of !unsafe."""


ConfigLoader.add_constructor('!unsafe', lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load_config():
    config = {}
    for name in sorted(os.listdir(CONFIG_DIR)):
        if name.endswith('.yml'):
            with open(os.path.join(CONFIG_DIR, name)) as handle:
                data = yaml.load(handle, Loader=ConfigLoader)  # nosec - a SafeLoader
            assert not set(data) & set(config), name
            config.update(data)
    return config


CONFIG = load_config()
CREDENTIAL_TYPES = dict((item['name'], item) for item in CONFIG['controller_credential_types'])
CREDENTIALS = dict((item['name'], item) for item in CONFIG['controller_credentials'])
TEMPLATES = dict((item['name'], item) for item in CONFIG['controller_templates'])
ITEMS = [(variable, item) for variable in sorted(CONFIG) for item in CONFIG[variable]]


def is_template(value):
    return isinstance(value, str) and '{{' in value


def read_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def role_options(role):
    """The options of roles/<role>/meta/argument_specs.yml (entry point main)."""
    specs = read_yaml(os.path.join(REPO, 'roles', role, 'meta', 'argument_specs.yml'))
    return specs['argument_specs']['main']['options']


def role_defaults(role):
    path = os.path.join(REPO, 'roles', role, 'defaults', 'main.yml')
    return DataLoader().load_from_file(path, trusted_as_template=True)


ENV_LOOKUP = re.compile(r"lookup\('ansible\.builtin\.env', '(\w+)'")


class Wrapper(object):
    """A wrapper playbook of extensions/awx/playbooks/ and what it accepts."""

    def __init__(self, playbook):
        self.path = os.path.join(REPO, playbook)
        plays = read_yaml(self.path)
        # the role's play last; before it, at most one play that only connects to the hosts (migrate.yml)
        assert 1 <= len(plays) <= 2, playbook
        self.play = plays[-1]
        self.connect_plays = plays[:-1]
        entry = self.play['roles'][0]
        self.role_fqcn = entry['role']
        assert self.role_fqcn.startswith('san.iscsi.'), self.role_fqcn
        self.role = self.role_fqcn.split('.')[-1]
        self.role_params = entry.get('vars', {})
        assert 'vars' not in self.play, 'play vars go in vars/*_survey.yml, where the tests read them'
        here = os.path.dirname(self.path)
        self.vars_files = [os.path.join(here, name) for name in self.play.get('vars_files', [])]
        self.play_vars = {}
        for path in self.vars_files:
            self.play_vars.update(DataLoader().load_from_file(path, trusted_as_template=True))
        self.task_files = [os.path.join(here, task['ansible.builtin.import_tasks'])
                           for task in self.play.get('pre_tasks', []) if 'ansible.builtin.import_tasks' in task]
        self.facts_tasks = []
        for path in self.task_files:
            self.facts_tasks.extend(task for task in DataLoader().load_from_file(path, trusted_as_template=True)
                                    if 'ansible.builtin.set_fact' in task)
        self.argument_spec = self.play_vars['san_iscsi_awx_argument_spec']
        self.options = role_options(self.role)
        self.env_read = set()
        for path in [self.path] + self.vars_files + self.task_files:
            with open(path) as handle:
                self.env_read.update(ENV_LOOKUP.findall(handle.read()))

    def credential_facts(self):
        """What the imported tasks set with set_fact, from the environment (os.environ) as it is now."""
        facts = {}
        for task in self.facts_tasks:
            templar = Templar(loader=DataLoader(), variables=dict(task.get('vars', {})))
            if templar.template(trust_as_template('{{ %s }}' % task['when'])):
                facts.update(templar.template(task['ansible.builtin.set_fact']))
        return facts

    def fact_names(self):
        return set(name for task in self.facts_tasks for name in task['ansible.builtin.set_fact'])


def wrapper(template):
    return Wrapper(template['playbook'])


# --- the vendored specs ----------------------------------------------------------------------------------------


def test_vendored_specs_name_their_source():
    assert re.match('^[0-9a-f]{40}$', SPECS['awx']['commit'])
    assert re.match('^[0-9a-f]{40}$', SPECS['infra_aap_configuration']['commit'])
    assert sorted(MODULES) == ['credential', 'credential_type', 'execution_environment', 'job_template', 'project']
    for name, module in MODULES.items():
        assert module['path'] == 'awx_collection/plugins/modules/%s.py' % name
        assert module['argument_spec']['name'] == {'required': True}
    assert 'PATH' in AWX_CONSTANTS['ENV_BLOCKLIST']
    assert sorted(AWX_CONSTANTS['SURVEY_TYPE_MAPPING']) == ['float', 'integer', 'multiplechoice', 'multiselect',
                                                            'password', 'text', 'textarea']
    assert sorted(ROLE_OF_VARIABLE) == ['controller_credential_types', 'controller_credentials',
                                        'controller_execution_environments', 'controller_projects',
                                        'controller_templates']


def load_tool():
    path = os.path.join(AWX_DIR, 'tools', 'extract_awx_specs.py')
    spec = importlib.util.spec_from_file_location('extract_awx_specs', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_the_generator_reads_the_argument_spec_literal_and_the_role_mapping():
    tool = load_tool()
    source = '\n'.join([
        "KIND = {'ssh': 'Machine', 'cloud': 'Cloud'}",
        "def main():",
        "    argument_spec = dict(",
        "        name=dict(required=True),",
        "        kind=dict(choices=list(KIND.keys())),",
        "        inputs=dict(type='dict', no_log=True),",
        "        pull=dict(choices=['always', 'missing'], default='missing'),",
        "    )",
        "    mutually_exclusive = [('organization', 'user')]",
        "    module = ControllerAPIModule(argument_spec=argument_spec)",
    ])
    assert tool.module_spec(source) == {
        'argument_spec': {'name': {'required': True}, 'kind': {'choices': ['ssh', 'cloud']},
                          'inputs': {'type': 'dict', 'no_log': True},
                          'pull': {'choices': ['always', 'missing'], 'default': 'missing'}},
        'mutually_exclusive': [['organization', 'user']]}
    tasks = '\n'.join([
        '- name: "Managing Things"',
        '  job_template:',
        '    name: "{{ __item.name | mandatory }}"',
        '    survey_spec: "{{ __item.related.survey_spec | default(__item.survey_spec | default(__item.survey)) }}"',
        '    organization: "{{ __item.organization.name | default(__item.organization | default(omit, true)) }}"',
        '    controller_host: "{{ aap_hostname | default(omit, true) }}"',
        '  loop: "{{ things if things is defined else controller_things }}"',
        '  loop_control:',
        '    loop_var: __item',
    ])
    assert tool.role_mapping(tasks, 'job_template') == {
        'variable': 'controller_things', 'module': 'job_template', 'mandatory': ['name'],
        'item_keys': {'name': 'name', 'survey_spec': 'survey_spec', 'survey': 'survey_spec',
                      'organization': 'organization'}}
    constants = '\n'.join([
        "ENV_BLOCKLIST = frozenset(('PATH', 'JOB_ID'))",
        "SURVEY_TYPE_MAPPING = {'text': str, 'integer': int, 'float': (float, int)}",
    ])
    assert tool.constants(constants) == {'ENV_BLOCKLIST': ['JOB_ID', 'PATH'],
                                         'SURVEY_TYPE_MAPPING': {'text': 'str', 'integer': 'int',
                                                                 'float': ['float', 'int']}}


# --- every item against its awx.awx module -----------------------------------------------------------------------


def test_every_variable_is_applied_by_infra_aap_configuration():
    assert set(CONFIG) <= set(ROLE_OF_VARIABLE), sorted(set(CONFIG) - set(ROLE_OF_VARIABLE))


def plausible(value, option):
    """Whether ``value`` fits the option's type (a template string fits any: it is rendered when applied)."""
    kind = option.get('type', 'str')
    if is_template(value):
        return True
    if kind == 'str':
        return isinstance(value, str)
    if kind == 'bool':
        return isinstance(value, bool)
    if kind == 'int':
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == 'float':
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == 'list':
        return isinstance(value, list) and all(plausible(element, {'type': option.get('elements', 'str')})
                                               for element in value)
    if kind == 'dict':
        return isinstance(value, dict)
    raise AssertionError('type %s not handled' % kind)


@pytest.mark.parametrize('variable, item', ITEMS, ids=[variable + ':' + item['name'] for variable, item in ITEMS])
def test_item_keys_are_options_of_the_module_with_plausible_values(variable, item):
    role = ROLE_OF_VARIABLE[variable]
    spec = MODULES[role['module']]['argument_spec']
    unknown = sorted(set(item) - set(role['item_keys']))
    assert not unknown, 'infra.aap_configuration ignores %s of %s' % (unknown, variable)
    options = {}
    for key, value in item.items():
        option = role['item_keys'][key]
        assert option in spec, (key, option)
        assert option not in options, 'two keys for option %s' % option
        options[option] = value
        assert plausible(value, spec[option]), (key, value, spec[option])
        if 'choices' in spec[option] and not is_template(value):
            assert value in spec[option]['choices'], (key, value, spec[option]['choices'])
    for option, definition in spec.items():
        if definition.get('required'):
            assert option in options, 'required option %s missing' % option
    for key in role['mandatory']:
        assert key in item, 'infra.aap_configuration needs %s' % key
    for group in MODULES[role['module']].get('mutually_exclusive', []):
        assert len(set(group) & set(options)) <= 1, group


def test_references_between_items_resolve():
    environments = set(item['name'] for item in CONFIG['controller_execution_environments'])
    projects = set(item['name'] for item in CONFIG['controller_projects'])
    for project in CONFIG['controller_projects']:
        assert project['default_environment'] in environments
    for credential in CREDENTIALS.values():
        assert credential['credential_type'] in CREDENTIAL_TYPES
    for template in TEMPLATES.values():
        assert template['project'] in projects
        assert template['execution_environment'] in environments
        assert set(template['credentials']) <= set(CREDENTIALS), template['credentials']
        assert os.path.isfile(os.path.join(REPO, template['playbook'])), template['playbook']
        assert template['playbook'].startswith('extensions/awx/playbooks/')


def test_the_execution_environment_is_the_one_execution_environment_yml_builds():
    built = read_yaml(os.path.join(REPO, 'execution-environment.yml'))['options']['tags']
    images = [item['image'] for item in CONFIG['controller_execution_environments']]
    assert images == built == ['san-iscsi-ee:0.1.0']
    assert [item['pull'] for item in CONFIG['controller_execution_environments']] == ['missing']


def walk_strings(value, path=''):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from walk_strings(inner, '%s.%s' % (path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from walk_strings(inner, '%s[%d]' % (path, index))
    elif isinstance(value, str):
        yield path, value


def test_templates_are_rendered_when_applied_only_where_meant():
    """Injector templates are AWX's (!unsafe, passed as written); nothing else in the job templates,
    projects and environments is a template; credential inputs are variables of the site (rendered)."""
    for ctype in CREDENTIAL_TYPES.values():
        for path, value in walk_strings(ctype['injectors']):
            assert isinstance(value, Unsafe) or '{{' not in value, path
        for path, value in walk_strings(ctype['inputs']):
            assert '{{' not in value, path
    for variable in ('controller_templates', 'controller_projects', 'controller_execution_environments'):
        for path, value in walk_strings(CONFIG[variable]):
            assert '{{' not in value and '{%' not in value, (variable, path)
            assert not isinstance(value, Unsafe), (variable, path)
    for credential in CREDENTIALS.values():
        for path, value in walk_strings(credential['inputs']):
            assert not isinstance(value, Unsafe), path


# --- credential types as AWX validates them ----------------------------------------------------------------------

FIELD_KEYS = {'type', 'format', 'choices', 'id', 'label', 'help_text', 'multiline', 'secret', 'ask_at_runtime',
              'default'}
NAME = re.compile(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$')
EXTRA_VAR_NAME = re.compile(r'^[a-zA-Z_\{\}]+[a-zA-Z0-9_\{\}]*$')
FILE_LABEL = re.compile(r'^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$')
ASCII = re.compile(r'^[\x00-\x7F]*$')
SECRET_LOOKING = re.compile(r'password|secret|token|private|passphrase')


@pytest.mark.parametrize('name', sorted(CREDENTIAL_TYPES))
def test_credential_type_inputs_as_awx_validates_them(name):
    ctype = CREDENTIAL_TYPES[name]
    assert ctype['kind'] in ('cloud', 'net'), 'AWX creates custom credential types of kind cloud or net only'
    inputs = ctype['inputs']
    assert set(inputs) <= {'fields', 'required'}
    ids = []
    for field in inputs['fields']:
        assert set(field) <= FIELD_KEYS, field
        assert {'id', 'label'} <= set(field)
        assert NAME.match(field['id']) and field['id'] != 'tower'
        assert isinstance(field['label'], str)
        kind = field.get('type', 'string')
        assert kind in ('string', 'boolean')
        if 'default' in field:
            expected = {'string': str, 'boolean': bool}[kind]
            assert type(field['default']) is expected  # pylint: disable=unidiomatic-typecheck
        for key in ('choices', 'multiline', 'format', 'secret'):
            assert key not in field or kind == 'string', (field['id'], key)
        for key in ('multiline', 'secret', 'ask_at_runtime'):
            assert isinstance(field.get(key, False), bool)
        ids.append(field['id'])
    assert len(ids) == len(set(ids))
    assert set(inputs['required']) <= set(ids)


@pytest.mark.parametrize('name', sorted(CREDENTIAL_TYPES))
def test_secret_inputs_are_secret(name):
    for field in CREDENTIAL_TYPES[name]['inputs']['fields']:
        if SECRET_LOOKING.search(field['id']):
            assert field.get('secret') is True, field['id']


def check_injector_names(node, where):
    assert isinstance(node, dict), where
    for key, value in node.items():
        assert EXTRA_VAR_NAME.match(key), '%s: AWX refuses the name %r' % (where, key)
        if isinstance(value, dict):
            check_injector_names(value, where + '.' + key)
        elif isinstance(value, list):
            assert all(isinstance(element, (str, dict, list)) for element in value)
        else:
            assert isinstance(value, str), '%s.%s: injected values are templates (strings)' % (where, key)


class AwxNamespace(object):
    """The `tower` namespace of AWX's injector templates."""


def awx_validation_namespace(ctype):
    """As CredentialTypeInjectorField.validate: every declared input, and tower.filename[.<label>]."""
    namespace = dict((field['id'], 'EXAMPLE') for field in ctype['inputs']['fields'])
    tower = AwxNamespace()
    labels = list(ctype['injectors'].get('file', {}))
    if 'template' in labels:
        assert len(labels) == 1, 'Must use multi-file syntax when injecting multiple files'
        tower.filename = 'EXAMPLE_FILENAME'
    elif labels:
        tower.filename = AwxNamespace()
        for label in labels:
            setattr(tower.filename, label.split('.', 1)[1], 'EXAMPLE_FILENAME')
    namespace['tower'] = tower
    return namespace


@pytest.mark.parametrize('name', sorted(CREDENTIAL_TYPES))
def test_credential_type_injectors_as_awx_validates_them(name):
    ctype = CREDENTIAL_TYPES[name]
    injectors = ctype['injectors']
    assert set(injectors) <= {'file', 'env', 'extra_vars'}
    for label in injectors.get('file', {}):
        assert FILE_LABEL.match(label), label
    for variable, template in injectors.get('env', {}).items():
        assert NAME.match(variable) and ASCII.match(template), variable
        assert not variable.startswith('ANSIBLE_') and variable not in AWX_CONSTANTS['ENV_BLOCKLIST'], variable
    check_injector_names(injectors.get('extra_vars', {}), 'extra_vars')
    namespace = awx_validation_namespace(ctype)
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for path, template in walk_strings(injectors):
        try:
            strict.from_string(template).render(namespace)
        except UndefinedError as error:
            raise AssertionError('%s uses an undefined field (%s)' % (path, error)) from error
        for key in re.findall(r'\.(\w+)', path.replace('extra_vars.', '', 1)):
            strict.from_string(key).render(namespace)


@pytest.mark.parametrize('name', sorted(CREDENTIAL_TYPES))
def test_credentials_hand_over_environment_variables_not_extra_vars(name):
    """AWX writes injected extra vars as !unsafe YAML and ansible-core 2.19 reads them back with YAML's implicit
    types (a password 0123 would arrive as 83); environment values arrive as typed. Files hold no secret."""
    ctype = CREDENTIAL_TYPES[name]
    assert 'extra_vars' not in ctype['injectors']
    assert ctype['injectors']['env']
    secrets = [field['id'] for field in ctype['inputs']['fields'] if field.get('secret')]
    for path, template in walk_strings(ctype['injectors'].get('file', {})):
        for secret in secrets:
            assert not re.search(r'\b%s\b' % secret, template), path


# --- credentials -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('name', sorted(CREDENTIALS))
def test_credential_inputs_fit_their_type_and_secrets_come_from_vault(name):
    credential = CREDENTIALS[name]
    ctype = CREDENTIAL_TYPES[credential['credential_type']]
    fields = dict((field['id'], field) for field in ctype['inputs']['fields'])
    assert set(credential['inputs']) <= set(fields)
    assert set(ctype['inputs']['required']) <= set(credential['inputs'])
    for key, value in credential['inputs'].items():
        field = fields[key]
        if field.get('type', 'string') == 'boolean':
            assert isinstance(value, bool), key
        else:
            assert isinstance(value, str), key
        if field.get('secret'):
            assert re.match(r'^\{\{ *vault_\w+ *(\|[^}]*)?\}\}$', value), '%s: secrets come from vault variables' % key
    for field in fields.values():
        if field.get('type') == 'boolean' and field.get('default') is True:
            # AWX injects false for a boolean the credential does not hold, whatever the default says.
            assert credential['inputs'].get(field['id']) is True, field['id']


# --- AWX's injection, simulated ----------------------------------------------------------------------------------


def awx_inject(ctype, inputs):
    """What AWX's CredentialType.inject_credential makes of ``inputs``: (env, extra_vars, files by path)."""
    tower = AwxNamespace()
    namespace = {'tower': tower}
    for key, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[key] = value
    for field in ctype['inputs']['fields']:
        if field.get('type', 'string') == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = False
    sandbox = ImmutableSandboxedEnvironment()
    files = {}
    for number, (label, template) in enumerate(sorted(ctype['injectors'].get('file', {}).items())):
        path = '/runner/env/tmp%d' % number
        files[path] = sandbox.from_string(template).render(**namespace)
        if '.' not in label:
            tower.filename = path
        else:
            if not hasattr(tower, 'filename'):
                tower.filename = AwxNamespace()
            setattr(tower.filename, label.split('.', 1)[1], path)
    env = dict((key, sandbox.from_string(template).render(**namespace))
               for key, template in ctype['injectors'].get('env', {}).items())

    def build(node):
        if isinstance(node, dict):
            return dict((build(key), build(value)) for key, value in node.items())
        if isinstance(node, list):
            return [build(value) for value in node]
        return sandbox.from_string(node).render(**namespace)
    return env, build(ctype['injectors'].get('extra_vars', {})), files


@contextlib.contextmanager
def job_environment(env):
    """os.environ of the job: ours without SAN_ISCSI_* variables, plus what the credentials inject.

    ansible.builtin.env is looked up as env: this process has not installed Ansible's collection loader (the
    collection is imported from PYTHONPATH), which resolves the ansible.builtin names."""
    job = dict((key, value) for key, value in os.environ.items() if not key.startswith('SAN_ISCSI_'))
    job.update(env)
    real_get = lookup_loader.get

    def get(name, *args, **kwargs):
        return real_get('env' if name == 'ansible.builtin.env' else name, *args, **kwargs)
    with mock.patch.dict(os.environ, job, clear=True), mock.patch.object(lookup_loader, 'get', get):
        yield


SECRET = '0123'  # YAML would read it back as the number 83
SECRET_IN = 'yes{{ no_var }}'  # YAML: true; Jinja: a template
CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
ONTAP_INPUTS = {'hostname': 'cluster1-mgmt.example.com', 'username': 'ansible', 'password': SECRET,
                'vserver': 'svm_iscsi', 'ca_cert': CA, 'validate_certs': True}
CHAP_INPUTS = {'username': 'iqn-host', 'password': SECRET, 'username_in': 'array1', 'password_in': SECRET_IN,
               'discovery': True}
SAMPLE_INPUTS = {'san.iscsi ONTAP API': ONTAP_INPUTS, 'san.iscsi iSCSI CHAP': CHAP_INPUTS}


def test_every_credential_type_has_sample_inputs():
    assert sorted(SAMPLE_INPUTS) == sorted(CREDENTIAL_TYPES)


@pytest.mark.parametrize('with_ca', [True, False], ids=['ca_cert', 'system-cas'])
def test_the_ontap_credential_gives_the_san_modules_valid_connection_options(with_ca):
    inputs = dict(ONTAP_INPUTS)
    if not with_ca:
        del inputs['ca_cert']
    env, extra_vars, files = awx_inject(CREDENTIAL_TYPES['san.iscsi ONTAP API'], inputs)
    assert extra_vars == {}
    play = wrapper(TEMPLATES['san.iscsi restore'])
    with job_environment(env):
        facts = play.credential_facts()
    with job_environment({}):
        assert play.credential_facts() == {}, 'without the credential the inventory decides'
    fragment = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']
    for role in ('snapshot_browse', 'lvm_migrate'):
        assert facts[role + '_provider'] == 'ontap'
        assert facts[role + '_san_host'] == 'localhost'
        san = facts[role + '_san']
        assert set(san) <= set(fragment) - {'provider'}
        result = ArgumentSpecValidator(san_argument_spec()).validate(dict(san, provider='ontap'))
        assert not result.error_messages, result.error_messages
        params = result.validated_parameters
        assert params['validate_certs'] is True and params['password'] == SECRET
        assert backend_class(type('Module', (), {'params': params})).provider == 'ontap'
        if with_ca:
            assert files[params['ca_path']] == CA
        else:
            assert params['ca_path'] is None
        # the secret goes to the option the SAN modules never log, and nowhere else
        assert san_argument_spec()['password']['no_log'] is True
        assert [key for key, value in san.items() if value == SECRET] == ['password']
        assert set(key for key in facts if key.startswith(role)) <= set(role_options(role))
    assert all(task.get('no_log') is True for task in play.facts_tasks), 'set_fact would print the password'


@pytest.mark.parametrize('port,expected', [('8443', 8443), (' 443 ', 443), ('', None)])
def test_the_ontap_credential_port_becomes_http_port(port, expected):
    env, _extra_vars, _files = awx_inject(CREDENTIAL_TYPES['san.iscsi ONTAP API'], dict(ONTAP_INPUTS, port=port))
    assert env['SAN_ISCSI_ONTAP_PORT'] == port
    play = wrapper(TEMPLATES['san.iscsi release'])
    with job_environment(env):
        facts = play.credential_facts()
        checks = port_checks(play)
    assert checks == [True, True]
    for role in ('snapshot_browse', 'lvm_migrate'):
        assert facts[role + '_san'].get('http_port') == expected
        validated = ArgumentSpecValidator(san_argument_spec()).validate(dict(facts[role + '_san'], provider='ontap'))
        assert not validated.error_messages and validated.validated_parameters['http_port'] == expected


@pytest.mark.parametrize('port', ['0', '65536', 'https', '-1', '80 80'])
def test_the_wrapper_refuses_a_port_that_is_no_tcp_port(port):
    env, _extra_vars, _files = awx_inject(CREDENTIAL_TYPES['san.iscsi ONTAP API'], dict(ONTAP_INPUTS, port=port))
    with job_environment(env):
        assert False in port_checks(wrapper(TEMPLATES['san.iscsi release']))


def port_checks(play):
    """The conditions of the wrapper's assert on the credential's port, evaluated in the job's environment."""
    tasks = [task for path in play.task_files for task in DataLoader().load_from_file(path, trusted_as_template=True)
             if 'ansible.builtin.assert' in task]
    assert len(tasks) == 1
    templar = Templar(loader=DataLoader(), variables=dict(tasks[0]['vars']))
    return [templar.template(trust_as_template('{{ %s }}' % condition))
            for condition in tasks[0]['ansible.builtin.assert']['that']]


# --- surveys as AWX validates them -------------------------------------------------------------------------------

PYTHON_TYPES = {'str': str, 'int': int, 'float': float}
SURVEY_TYPES = dict((kind, tuple(PYTHON_TYPES[name] for name in (names if isinstance(names, list) else [names])))
                    for kind, names in AWX_CONSTANTS['SURVEY_TYPE_MAPPING'].items())
QUESTION_KEYS = {'type', 'question_name', 'question_description', 'variable', 'required', 'default', 'choices',
                 'min', 'max', 'new_question'}


def awx_element_errors(question, data):
    """SurveyJobTemplateMixin._survey_element_validation (without the password placeholder cases)."""
    variable = question['variable']
    if variable not in data:
        return ["'%s' value missing" % variable] if question['required'] else []
    value = data[variable]
    kind = question['type']
    errors = []
    if kind in ('text', 'textarea', 'password'):
        if not isinstance(value, str):
            return ['%s: expected a string' % variable]
        if question.get('min') not in ('', None) and len(value) < int(question['min']):
            errors.append('%s: too short' % variable)
        if question.get('max') not in ('', None) and len(value) > int(question['max']):
            errors.append('%s: too long' % variable)
    elif kind in ('integer', 'float'):
        if kind == 'integer' and type(value) is not int:  # pylint: disable=unidiomatic-typecheck
            return ['%s: expected an integer' % variable]
        if kind == 'float' and type(value) not in (float, int):  # pylint: disable=unidiomatic-typecheck
            return ['%s: expected a number' % variable]
        if question.get('min') not in ('', None) and value < question['min']:
            errors.append('%s: too small' % variable)
        if question.get('max') not in ('', None) and value > question['max']:
            errors.append('%s: too large' % variable)
    else:
        choices = question['choices']
        if isinstance(choices, str):
            choices = [choice for choice in choices.splitlines() if choice.strip()]
        if kind == 'multiselect':
            if not isinstance(value, list):
                return ['%s: expected a list' % variable]
            errors.extend('%s: %s not a choice' % (variable, element) for element in value if element not in choices)
        elif value not in choices:
            errors.append('%s: %s not a choice' % (variable, value))
    return errors


TEMPLATE_NAMES = sorted(TEMPLATES)


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_survey_spec_as_awx_validates_it(name):
    template = TEMPLATES[name]
    assert template['survey_enabled'] is True
    survey = template['survey_spec']
    # JobTemplateSurveySpec._validate_spec_data
    assert isinstance(survey['name'], str) and isinstance(survey['description'], str)
    assert isinstance(survey['spec'], list) and survey['spec']
    seen = set()
    for question in survey['spec']:
        assert isinstance(question, dict)
        assert set(question) <= QUESTION_KEYS, sorted(set(question) - QUESTION_KEYS)
        for key in ('type', 'question_name', 'variable'):
            assert isinstance(question[key], str), key
        assert isinstance(question['required'], bool)
        assert isinstance(question['question_description'], str)
        assert question['variable'] not in seen, 'duplicated %s' % question['variable']
        seen.add(question['variable'])
        assert NAME.match(question['variable'])
        assert not question['variable'].startswith(('awx_', 'tower_')), 'AWX sets awx_* and tower_* itself'
        assert question['type'] in SURVEY_TYPES
        if 'default' in question and question['default'] != '':
            assert isinstance(question['default'], SURVEY_TYPES[question['type']]), question['variable']
        for key in ('min', 'max'):
            assert question.get(key) is None or type(question[key]) is int  # pylint: disable=unidiomatic-typecheck
        if question['type'] in ('multiplechoice', 'multiselect'):
            choices = question['choices']
            assert isinstance(choices, list) and choices and all(isinstance(choice, str) for choice in choices)
            if 'default' in question:
                defaults = question['default'].splitlines()
                assert all(default in choices for default in defaults)
                assert question['type'] == 'multiselect' or len(defaults) <= 1
        else:
            assert 'choices' not in question
        assert question['type'] != 'password' or 'default' not in question
        # a default AWX would refuse at launch is dropped silently; every default here must pass
        if question.get('default') not in (None, ''):
            assert awx_element_errors(question, {question['variable']: question['default']}) == []


# --- surveys and credentials against the roles and the wrappers --------------------------------------------------

ROLE_TYPES_OF_QUESTION = {'text': ('str', 'path', 'raw'), 'textarea': ('str', 'path', 'raw'),
                          'password': ('str', 'raw'), 'integer': ('int', 'raw'), 'float': ('float', 'raw'),
                          'multiplechoice': ('str', 'bool', 'raw'), 'multiselect': ('list', 'raw')}


def injected_environment(template):
    names = set()
    for credential in template['credentials']:
        ctype = CREDENTIAL_TYPES[CREDENTIALS[credential]['credential_type']]
        names.update(ctype['injectors'].get('env', {}))
    return names


def truthy(text):
    return text.lower() in ('true', 'yes', 'on', '1')


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_every_survey_variable_is_taken_by_the_role_or_the_wrapper(name):
    template = TEMPLATES[name]
    play = wrapper(template)
    for question in template['survey_spec']['spec']:
        variable = question['variable']
        in_role = variable in play.options
        in_wrapper = variable in play.argument_spec
        assert in_role != in_wrapper, '%s: taken by %s' % (variable, 'both' if in_role else 'neither')
        option = play.options[variable] if in_role else play.argument_spec[variable]
        kind = option.get('type', 'str')
        assert kind in ROLE_TYPES_OF_QUESTION[question['type']], (variable, question['type'], kind)
        if question['type'] == 'multiplechoice':
            if kind == 'bool':
                assert all(choice in BOOLEANS for choice in question['choices']), variable
            elif 'choices' in option:
                assert set(question['choices']) <= set(option['choices']), variable
        if in_role:
            assert variable not in play.role_params, '%s is set by the wrapper' % variable
            assert variable not in play.play_vars and variable not in play.fact_names()
            if 'default' in question and 'default' in option:
                assert question['default'] == option['default'], 'the survey changes the default of %s' % variable
            if option.get('required'):
                assert question['required'], variable
        else:
            # survey_<role variable>: the wrapper converts it into that variable, with the role's default
            target = variable[len('survey_'):] if variable.startswith('survey_') else None
            if target in play.options:
                assert target in play.play_vars, '%s is not converted into %s' % (variable, target)
                if kind == 'bool' and 'default' in question:
                    assert truthy(question['default']) == play.options[target]['default'], variable


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_required_role_options_are_answered(name):
    template = TEMPLATES[name]
    play = wrapper(template)
    required = dict((question['variable'], question['required']) for question in template['survey_spec']['spec'])
    for option, definition in play.options.items():
        if definition.get('required') and 'default' not in definition:
            assert required.get(option) is True, '%s: nobody gives it' % option
    for option in list(play.role_params) + list(play.fact_names()):
        assert option in play.options or option.split('_')[0] != play.role.split('_')[0], option


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_the_wrapper_reads_exactly_what_the_credentials_inject(name):
    template = TEMPLATES[name]
    play = wrapper(template)
    injected = injected_environment(template)
    assert play.env_read == injected, 'read but not injected: %s; injected but not read: %s' % (
        sorted(play.env_read - injected), sorted(injected - play.env_read))
    answered = set(question['variable'] for question in template['survey_spec']['spec'])
    assert not play.fact_names() & answered


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_the_wrapper_is_safe_in_the_execution_environment(name):
    template = TEMPLATES[name]
    play = wrapper(template).play
    assert template['become_enabled'] is False
    assert play['gather_facts'] is False, 'the facts of localhost would hold the credentials\' environment'
    checks = [task for task in play['pre_tasks'] if 'ansible.builtin.validate_argument_spec' in task]
    assert [task['ansible.builtin.validate_argument_spec'] for task in checks] == [
        {'argument_spec': '{{ san_iscsi_awx_argument_spec }}'}]
    if play['hosts'] == 'localhost':
        assert play['become'] is False, 'no privilege escalation in the execution environment'
        assert 'ansible_become' in play['pre_tasks'][0]['ansible.builtin.assert']['that']
    else:
        assert play['hosts'].endswith(':!localhost'), play['hosts']


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_a_connect_play_only_connects(name):
    """A play before the role's only pings its hosts: no facts, no privilege escalation (its hosts may be
    localhost, the execution environment), and one unreachable host stops the job before the role runs."""
    for play in wrapper(TEMPLATES[name]).connect_plays:
        assert play['gather_facts'] is False and play['become'] is False, play
        assert play['any_errors_fatal'] is True, play
        assert not set(play) & {'roles', 'pre_tasks', 'post_tasks', 'handlers', 'vars', 'vars_files'}, play
        assert [sorted(set(task) - {'name'}) for task in play['tasks']] == [['ansible.builtin.ping']], play


def test_the_migrate_job_connects_to_both_hosts_first():
    play = Wrapper('extensions/awx/playbooks/migrate.yml').connect_plays[0]
    templar = Templar(loader=DataLoader(), variables={'lvm_migrate_source': 'host1', 'lvm_migrate_destination': 'host2'})
    assert templar.template(trust_as_template(play['hosts'])) == 'host1,host2'
    assert Templar(loader=DataLoader(), variables={}).template(trust_as_template(play['hosts'])) == 'localhost'


def test_each_wrapper_sets_the_mode_its_template_is_named_after():
    for name, template in TEMPLATES.items():
        play = wrapper(template)
        if play.role == 'snapshot_browse':
            assert play.role_params == {'snapshot_browse_mode': name.split()[-1]}
            assert 'snapshot_browse_mode' in play.options
    used = set(os.path.basename(template['playbook']) for template in TEMPLATES.values())
    present = set(name for name in os.listdir(PLAYBOOK_DIR) if name.endswith('.yml'))
    assert used == present, 'wrappers without a job template: %s' % sorted(present - used)


def test_apply_yml_loads_the_configuration_and_dispatches_it():
    play = read_yaml(os.path.join(AWX_DIR, 'apply.yml'))[0]
    assert play['hosts'] == 'localhost'
    loads = [task['ansible.builtin.include_vars'] for task in play['tasks'] if 'ansible.builtin.include_vars' in task]
    assert loads == [{'dir': 'config', 'extensions': ['yml']}]
    roles = [task['ansible.builtin.include_role']['name'] for task in play['tasks']
             if 'ansible.builtin.include_role' in task]
    assert roles == ['infra.aap_configuration.dispatch']


# --- end to end: survey answers and credentials, as AWX passes them, into the role -------------------------------

SAMPLE_ANSWERS = {
    'san.iscsi restore': {
        'snapshot_browse_volume': 'vol_app', 'snapshot_browse_lun': 'data01',
        'survey_snapshot_browse_before': '2026-11-19T12:00:00+00:00', 'snapshot_browse_host': 'snapbrowse1',
        'survey_snapshot_browse_paths': 'reports\n etc/app.conf\r\n\n', 'snapshot_browse_source_host': 'app1',
        'snapshot_browse_source_path': '/srv/data'},
    'san.iscsi browse': {
        'snapshot_browse_volume': 'vol_app', 'snapshot_browse_lun': 'data01',
        'survey_snapshot_browse_snapshot': 'nightly.1', 'snapshot_browse_host': 'snapbrowse1',
        'snapshot_browse_partition': 2},
    'san.iscsi release': {
        'snapshot_browse_volume': 'vol_app', 'snapshot_browse_lun': 'data01',
        'survey_snapshot_browse_snapshot': 'nightly.1', 'snapshot_browse_host': 'snapbrowse1',
        'survey_snapshot_browse_force_unmount': 'true'},
    'san.iscsi migrate': {
        'lvm_migrate_vg': 'datavg', 'lvm_migrate_source': 'db01', 'lvm_migrate_destination': 'db02',
        'survey_lvm_migrate_services': 'postgresql.service\npgbouncer.service, nginx.service'},
    'san.iscsi initiator': {'survey_initiator_multipath': 'true'},
}
# What the role receives from the sample answers (besides its defaults and what the inventory gives)
EXPECTED = {
    'san.iscsi restore': {
        'snapshot_browse_mode': 'restore', 'snapshot_browse_snapshot': None,
        'snapshot_browse_before': '2026-11-19T12:00:00+00:00', 'snapshot_browse_paths': ['reports', 'etc/app.conf'],
        'snapshot_browse_dest_host': None, 'snapshot_browse_dest_path': None, 'snapshot_browse_backup': True,
        'snapshot_browse_dry_run': False, 'snapshot_browse_lv': None, 'snapshot_browse_partition': None,
        'snapshot_browse_copy_timeout': 3600, 'snapshot_browse_provider': 'ontap',
        'snapshot_browse_san_host': 'localhost'},
    'san.iscsi browse': {
        'snapshot_browse_mode': 'browse', 'snapshot_browse_snapshot': 'nightly.1', 'snapshot_browse_before': None,
        'snapshot_browse_paths': [], 'snapshot_browse_partition': 2, 'snapshot_browse_mount_point': None},
    'san.iscsi release': {
        'snapshot_browse_mode': 'release', 'snapshot_browse_snapshot': 'nightly.1',
        'snapshot_browse_force_unmount': True},
    'san.iscsi migrate': {
        'lvm_migrate_services': ['postgresql.service', 'pgbouncer.service', 'nginx.service'],
        'lvm_migrate_fstab': True, 'lvm_migrate_destination_igroup': None, 'lvm_migrate_backup_dir': None,
        'lvm_migrate_device_timeout': 60, 'lvm_migrate_provider': 'ontap', 'lvm_migrate_san_host': 'localhost'},
    'san.iscsi initiator': {
        'initiator_multipath': True, 'initiator_install_packages': True,
        'initiator_iscsid_settings': {
            'node.startup': 'automatic',
            'node.session.auth.authmethod': 'CHAP', 'node.session.auth.username': 'iqn-host',
            'node.session.auth.username_in': 'array1',
            'discovery.sendtargets.auth.authmethod': 'CHAP', 'discovery.sendtargets.auth.username': 'iqn-host',
            'discovery.sendtargets.auth.username_in': 'array1'},
        'initiator_iscsid_secret_settings': {
            'node.session.auth.password': SECRET, 'node.session.auth.password_in': SECRET_IN,
            'discovery.sendtargets.auth.password': SECRET, 'discovery.sendtargets.auth.password_in': SECRET_IN}},
}
# The inventory's site settings (AWX inventory variables)
INVENTORY = {
    'snapshot_browse': {'snapshot_browse_target_iqn': 'iqn.1992-08.com.netapp:sn.0123:vs.3',
                        'snapshot_browse_portals': ['198.51.100.1', '198.51.100.2'],
                        'snapshot_browse_provider': 'lio', 'snapshot_browse_san': {'target': 'iqn.x:san1'}},
    'lvm_migrate': {'lvm_migrate_provider': 'lio', 'lvm_migrate_san_host': 'san1'},
    'initiator': {'initiator_iscsid_settings': {'node.startup': 'automatic'}},
}


class AwxSafeStringDumper(yaml.SafeDumper):  # pylint: disable=too-many-ancestors
    """awx/main/utils/safe_yaml.py SafeStringDumper: every string !unsafe."""

    def represent_data(self, data):
        if isinstance(data, str):
            return self.represent_scalar('!unsafe', data)
        return super(AwxSafeStringDumper, self).represent_data(data)


def awx_job_extra_vars(template, answers):
    """The job's extra vars as ansible-playbook gets them: survey defaults, then the answers
    (SurveyJobTemplateMixin._update_unified_job_kwargs), written by AWX's safe_dump (RunJob.build_extra_vars_file)
    and read back by ansible-core."""
    extra_vars = {}
    for question in template['survey_spec']['spec']:
        default = question.get('default')
        if default is not None and not awx_element_errors(question, {question['variable']: default}):
            extra_vars[question['variable']] = default
    extra_vars.update(answers)
    errors = []
    for question in template['survey_spec']['spec']:
        errors.extend(awx_element_errors(question, extra_vars))
    assert not errors, errors
    text = ''.join(yaml.dump_all([{key: value}], None, Dumper=AwxSafeStringDumper, default_flow_style=False)
                   for key, value in extra_vars.items())
    return from_yaml(text)


def role_variables(template, answers, inputs=None):
    """The role's variables for the job: role defaults < inventory < wrapper play vars < set_fact (from the
    credentials' environment) < role params < extra vars (the survey), evaluated with Ansible's templar."""
    play = wrapper(template)
    extra_vars = awx_job_extra_vars(template, answers)
    env = {}
    for credential in template['credentials']:
        ctype = CREDENTIAL_TYPES[CREDENTIALS[credential]['credential_type']]
        injected_env, injected_extra_vars, _files = awx_inject(ctype, (inputs or SAMPLE_INPUTS)[ctype['name']])
        env.update(injected_env)
        extra_vars.update(injected_extra_vars)
    accepted = dict((key, copy.deepcopy(value)) for key, value in extra_vars.items() if key in play.argument_spec)
    result = ArgumentSpecValidator(play.argument_spec).validate(accepted)
    assert not result.error_messages, result.error_messages
    with job_environment(env):
        facts = play.credential_facts()
        variables = {}
        variables.update(role_defaults(play.role))
        variables.update(INVENTORY[play.role])
        variables.update(play.play_vars)
        variables.update(facts)
        variables.update(play.role_params)
        variables.update(extra_vars)
        variables.update(inventory_hostname='host1', hostvars={'host1': dict(INVENTORY[play.role])})
        templar = Templar(loader=DataLoader(), variables=variables)
        final = dict((name, templar.template(variables[name])) for name in play.options if name in variables)
    return play, extra_vars, final


def test_every_template_has_a_sample_answer():
    assert sorted(SAMPLE_ANSWERS) == sorted(EXPECTED) == TEMPLATE_NAMES


@pytest.mark.parametrize('name', TEMPLATE_NAMES)
def test_survey_answers_and_credentials_become_valid_role_variables(name):
    template = TEMPLATES[name]
    play, _extra_vars, variables = role_variables(template, SAMPLE_ANSWERS[name])
    for key, value in EXPECTED[name].items():
        assert variables.get(key) == value, key
    result = ArgumentSpecValidator(play.options).validate(copy.deepcopy(variables))
    assert not result.error_messages, result.error_messages
    for key, value in variables.items():
        assert value == result.validated_parameters[key], 'the role would coerce %s: %r' % (key, value)
    if play.role == 'snapshot_browse':
        # the role's own input check (tasks/prepare.yml)
        assert (variables['snapshot_browse_snapshot'] is None) != (variables['snapshot_browse_before'] is None)
        assert variables['snapshot_browse_portals'] and variables['snapshot_browse_target_iqn']
        assert variables['snapshot_browse_mode'] != 'restore' or variables['snapshot_browse_paths']
    if play.role in ('snapshot_browse', 'lvm_migrate'):
        assert variables[play.role + '_san']['password'] == SECRET


def test_the_yaml_of_the_extra_vars_types_the_answers():
    """Why the wrapper converts: a time, a blank, a boolean answer do not arrive as the strings AWX sent."""
    extra_vars = awx_job_extra_vars(TEMPLATES['san.iscsi restore'], SAMPLE_ANSWERS['san.iscsi restore'])
    assert not isinstance(extra_vars['survey_snapshot_browse_before'], str)
    assert extra_vars['survey_snapshot_browse_snapshot'] is None
    assert extra_vars['survey_snapshot_browse_backup'] is True


def test_blank_answers_are_the_role_defaults():
    """Optional questions left blank arrive as their survey default '' (read back as null, or blanks): the role
    gets null, as when not given."""
    template = TEMPLATES['san.iscsi restore']
    answers = dict(SAMPLE_ANSWERS['san.iscsi restore'], survey_snapshot_browse_lv='',
                   survey_snapshot_browse_dest_host='  ')
    play, extra_vars, variables = role_variables(template, answers)
    defaults = dict((name, option.get('default')) for name, option in play.options.items())
    checked = 0
    for question in template['survey_spec']['spec']:
        target = question['variable'][len('survey_'):]
        if question.get('default') == '' and question['variable'] not in SAMPLE_ANSWERS['san.iscsi restore']:
            assert extra_vars[question['variable']] in (None, '  ')
            assert variables[target] == defaults[target], target
            checked += 1
    assert checked >= 5


def test_without_the_ontap_credential_the_inventory_gives_the_san():
    template = dict(TEMPLATES['san.iscsi restore'], credentials=[])
    _play, _extra_vars, variables = role_variables(template, SAMPLE_ANSWERS['san.iscsi restore'])
    for key in ('snapshot_browse_provider', 'snapshot_browse_san'):
        assert variables[key] == INVENTORY['snapshot_browse'][key]


def test_chap_secrets_reach_only_the_settings_the_role_never_logs():
    template = TEMPLATES['san.iscsi initiator']
    _play, _extra_vars, variables = role_variables(template, SAMPLE_ANSWERS['san.iscsi initiator'])
    settings = json.dumps(variables['initiator_iscsid_settings'])
    assert SECRET not in settings and SECRET_IN not in settings
    tasks = read_yaml(os.path.join(REPO, 'roles', 'initiator', 'tasks', 'main.yml'))
    users = [task for task in tasks if 'initiator_iscsid_secret_settings' in json.dumps(task)]
    assert users and all('initiator_iscsid_secret_settings' in str(task.get('no_log', '')) for task in users)


def test_one_way_chap_without_discovery():
    inputs = dict(SAMPLE_INPUTS, **{'san.iscsi iSCSI CHAP': {'username': 'iqn-host', 'password': SECRET}})
    _play, _extra_vars, variables = role_variables(TEMPLATES['san.iscsi initiator'], {}, inputs)
    assert variables['initiator_iscsid_settings'] == {
        'node.startup': 'automatic', 'node.session.auth.authmethod': 'CHAP', 'node.session.auth.username': 'iqn-host'}
    assert variables['initiator_iscsid_secret_settings'] == {'node.session.auth.password': SECRET}


def test_without_the_chap_credential_the_inventory_settings_stay():
    template = dict(TEMPLATES['san.iscsi initiator'], credentials=[])
    _play, _extra_vars, variables = role_variables(template, {})
    assert variables['initiator_iscsid_settings'] == {'node.startup': 'automatic'}
    assert variables['initiator_iscsid_secret_settings'] == {}
