#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one `ansible-playbook` command of README.md as written, the way a user runs it:

- in WORKDIR, holding a copy of the collection's playbooks/ directory and inventory.yml;
- inventory.yml is the README's inventory block, with each of its hosts given the connection settings (the
  ansible_* variables, and the address other guests use, snapshot_browse_ssh_address) of the lab guest it
  stands for (LAB_GUESTS, or --host), the only thing the README leaves out;
- the command line is the README's (continuation lines joined), run by bash, with the controller's
  ansible-playbook first on PATH.

  readme_run.py --repo DIR --lab-inventory FILE --workdir DIR --playbook playbooks/NAME.yml
                [--host README_HOST=LAB_GUEST ...]

Exits with the command's exit code; its output goes to stdout.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

# The lab guest each host of the README stands for: host1 is the application and database host, host2 the
# browse host and the other database host, san the LIO SAN.
LAB_GUESTS = {'app1': 'host1', 'browse1': 'host2', 'db01': 'host1', 'db02': 'host2', 'san1': 'san'}


def readme_parts(path):
    """(the inventory block, {playbook: command line}) of README.md."""
    with open(path) as handle:
        text = handle.read()
    documents = [yaml.safe_load(block) for block in re.findall(r'^```yaml\n(.*?)^```', text, re.M | re.S)]
    inventories = [document for document in documents if isinstance(document, dict)]
    if len(inventories) != 1:
        raise SystemExit('README.md: expected one inventory block, found %d' % len(inventories))
    commands = {}
    for line in re.sub(r'\\\n\s*', ' ', text).splitlines():
        if line.strip().startswith('ansible-playbook '):
            playbook = [word for word in line.split() if word.startswith('playbooks/')][0]
            commands[playbook] = line.strip()
    return inventories[0], commands


def lab_connection(lab_inventory, guest):
    """The ansible_* variables of GUEST in the lab's inventory (group lab's vars, then the host's), and the
    address by which the other guests reach its sshd (snapshot_browse_ssh_address: ansible_host is a port
    forward on the controller)."""
    with open(lab_inventory) as handle:
        lab = yaml.safe_load(handle)['all']['children']['lab']
    found = dict(lab.get('vars', {}))
    for group in lab['children'].values():
        if guest in group.get('hosts', {}):
            found.update(group['hosts'][guest] or {})
            return dict((key, value) for key, value in found.items()
                        if key.startswith('ansible_') or key == 'snapshot_browse_ssh_address')
    raise SystemExit('no lab guest %s' % guest)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ('--repo', '--lab-inventory', '--workdir', '--playbook'):
        parser.add_argument(name, required=True)
    parser.add_argument('--host', action='append', default=[])
    args = parser.parse_args()
    inventory, commands = readme_parts(os.path.join(args.repo, 'README.md'))
    mapping = dict(LAB_GUESTS, **dict(item.split('=', 1) for item in args.host))
    hosts = inventory['all']['hosts']
    unmapped = sorted(set(hosts) - set(mapping))
    if unmapped:
        raise SystemExit('README hosts without a lab guest: %s' % unmapped)
    for name in hosts:
        hosts[name] = dict(hosts[name] or {}, **lab_connection(args.lab_inventory, mapping[name]))
    shutil.rmtree(os.path.join(args.workdir, 'playbooks'), ignore_errors=True)
    shutil.copytree(os.path.join(args.repo, 'playbooks'), os.path.join(args.workdir, 'playbooks'))
    with open(os.path.join(args.workdir, 'inventory.yml'), 'w') as handle:
        json.dump(inventory, handle, indent=1)
    command = commands.get(args.playbook)
    if command is None:
        raise SystemExit('README.md has no command for %s (it has %s)' % (args.playbook, sorted(commands)))
    print('README command: %s' % command, flush=True)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    return subprocess.run(['bash', '-c', command], cwd=args.workdir, env=env, timeout=1800, check=False).returncode


if __name__ == '__main__':
    sys.exit(main())
