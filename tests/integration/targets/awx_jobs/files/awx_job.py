#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one AWX job template of extensions/awx through ansible-runner, AWX's job engine, the way AWX runs a job:

- a private data directory: the project (the collection's checkout), the inventory (the lab's, with the
  inventory variables a site sets), env/extravars (survey defaults, then the answers, written by AWX's
  SafeStringDumper: every string !unsafe), env/envvars and files (each credential's injectors rendered as
  CredentialType.inject_credential renders them), `--check` for job type check;
- ansible_runner.run() with that directory, as AWX's RunJob does (without the container).

Prints one JSON line: status, rc, the stdout's last lines, the artifacts directory, and for each secret given
with --secret the files of the job (stdout, stderr, job events and the other artifacts but the process
environment) that contain it.

  awx_job.py --repo DIR --template NAME --inventory FILE --workdir DIR [--answers JSON] [--inventory-vars JSON]
             [--credential 'CREDENTIAL TYPE NAME=JSON inputs' ...] [--job-type run|check] [--secret TEXT ...]
"""

import argparse
import json
import os
import sys

import yaml


def awx_module(repo):
    """The AWX emulation of the unit tests (survey and injector rules as AWX applies them)."""
    sys.path.insert(0, os.path.join(repo, '.build', 'live'))
    from ansible_collections.san.iscsi.tests.unit.extensions import test_awx_config  # pylint: disable=import-error
    return test_awx_config


def survey_extra_vars(awx, template, answers):
    """Survey defaults, then the answers (AWX's SurveyJobTemplateMixin), checked as AWX checks them."""
    extra_vars = {}
    for question in template['survey_spec']['spec']:
        default = question.get('default')
        if default is not None and not awx.awx_element_errors(question, {question['variable']: default}):
            extra_vars[question['variable']] = default
    extra_vars.update(answers)
    errors = [error for question in template['survey_spec']['spec']
              for error in awx.awx_element_errors(question, extra_vars)]
    if errors:
        raise SystemExit('survey answers AWX would refuse: %s' % errors)
    return extra_vars


def write_private_data(awx, args, pdd):
    template = awx.TEMPLATES[args.template]
    extra_vars = survey_extra_vars(awx, template, json.loads(args.answers))
    envvars = {}
    for spec in args.credential:
        name, inputs = spec.split('=', 1)
        env, injected_extra_vars, files = awx.awx_inject(awx.CREDENTIAL_TYPES[name], json.loads(inputs))
        for path, content in files.items():
            local = os.path.join(pdd, 'env', os.path.basename(path))
            with open(local, 'w') as handle:
                handle.write(content)
            os.chmod(local, 0o600)
            env = dict((key, value.replace(path, local)) for key, value in env.items())
        envvars.update(env)
        extra_vars.update(injected_extra_vars)
    with open(os.path.join(pdd, 'env', 'extravars'), 'w') as handle:
        for key, value in extra_vars.items():
            yaml.dump_all([{key: value}], handle, Dumper=awx.AwxSafeStringDumper, default_flow_style=False)
    with open(os.path.join(pdd, 'env', 'envvars'), 'w') as handle:
        json.dump(envvars, handle)
    with open(args.inventory) as handle:
        inventory = yaml.safe_load(handle)
    inventory.setdefault('all', {}).setdefault('vars', {}).update(json.loads(args.inventory_vars))
    with open(os.path.join(pdd, 'inventory', 'hosts.json'), 'w') as handle:
        json.dump(inventory, handle)
    return template


def files_with(root, secret):
    """Files under ROOT (the job's artifacts: stdout, stderr, job events, status, fact cache) holding SECRET.

    Not the `command` file: ansible-runner writes the process environment there (mode 0600), which holds the
    credential's injected variables by design, as the job's /proc/PID/environ does; AWX keeps job events and
    stdout, shows the environment redacted, and deletes the private data directory after the job."""
    found = []
    for directory, _dirs, names in os.walk(root):
        for name in names:
            if name == 'command' and directory == os.path.join(root, 'job'):
                continue
            path = os.path.join(directory, name)
            with open(path, 'rb') as handle:
                if secret.encode() in handle.read():
                    found.append(os.path.relpath(path, root))
    return sorted(found)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ('--repo', '--template', '--inventory', '--workdir'):
        parser.add_argument(name, required=True)
    parser.add_argument('--answers', default='{}')
    parser.add_argument('--inventory-vars', default='{}')
    parser.add_argument('--credential', action='append', default=[])
    parser.add_argument('--job-type', default='run', choices=['run', 'check'])
    parser.add_argument('--secret', action='append', default=[])
    args = parser.parse_args()
    awx = awx_module(args.repo)
    import ansible_runner  # pylint: disable=import-outside-toplevel

    pdd = os.path.join(args.workdir, 'private_data_dir')
    for sub in ('env', 'inventory'):
        os.makedirs(os.path.join(pdd, sub), mode=0o700)
    template = write_private_data(awx, args, pdd)
    # ansible-playbook of this Python's venv; AWX's RunJob passes suppress_env_files (no env/ or command
    # artifact) and keeps the output file off, which this run keeps on so that the secret check reads it too.
    os.environ['PATH'] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', '')
    runner = ansible_runner.run(
        private_data_dir=pdd, project_dir=args.repo, playbook=template['playbook'], ident='job',
        suppress_env_files=True, cmdline='--check' if args.job_type == 'check' else None, quiet=True,
        timeout=900)
    stdout = runner.stdout.read()
    report = {'status': runner.status, 'rc': runner.rc, 'stdout_tail': stdout.splitlines()[-60:],
              'artifacts': os.path.join(pdd, 'artifacts', 'job'),
              'secrets_found': dict((str(number), files_with(os.path.join(pdd, 'artifacts'), secret))
                                    for number, secret in enumerate(args.secret))}
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
