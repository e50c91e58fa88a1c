#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Login plus device ready, three ways on the same guest, and iscsiadm processes of a no-change run.

Runs against the dev lab (`make lab-up`). On `san` a LIO target with --luns LUNs is made for host1; then,
on host1, for --rounds rounds each (a node record exists and no session, before every timed run):

  san.iscsi.session      the module: login on one portal, waits for every LUN (sysfs + udev links)
  raw iscsiadm + settle  `iscsiadm -m node -T T -p P --login && udevadm settle` in an Ansible shell task
  open_iscsi             community.general.open_iscsi login=true (from PyPI's `ansible` bundle, in a venv of
                         its own: .build/bench-venv, `pip install 'ansible>=12,<13'`)

Each figure is the wall time of one Ansible task as the controller sees it (playbook start-up left out);
the `baseline` line is the same for a task that runs `true`, i.e. Ansible's own per-task cost under TCG.
"ready" says whether all LUN by-path links existed when the task returned.

The iscsiadm process counts come from a wrapper that replaces /usr/sbin/iscsiadm on host1 for the duration
(it logs its arguments when HELPERC_COUNT is set in the environment, then execs the real binary) and is
always put back. Every object created is removed at the end.

  .venv/bin/python benchmarks/session_login.py [--rounds 3] [--luns 2]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORIES = (os.path.join(REPO, '.lab', 'inventory.yml'), os.path.join(REPO, '.lab', 'lab', 'inventory.yml'))
INVENTORY = next((path for path in INVENTORIES if os.path.exists(path)), INVENTORIES[0])
FIXTURE = os.path.join(REPO, 'tests', 'integration', 'support', 'lio_fixture.py')
OUR_ANSIBLE = os.path.join(REPO, '.venv', 'bin', 'ansible-playbook')
BUNDLE_ANSIBLE = os.path.join(REPO, '.build', 'bench-venv', 'bin', 'ansible-playbook')
IQN = 'iqn.2026-11.lab.san-iscsi:helperc-bench'
HOST = 'host1'
PORTAL = '10.10.1.1'
ISCSIADM = '/usr/sbin/iscsiadm'
REAL = '/usr/sbin/iscsiadm.helperc-real'
CALLS = '/tmp/helperc-iscsiadm.calls'
WRAPPER = '''#!/bin/sh
[ -n "$HELPERC_COUNT" ] && echo "$*" >> %s
exec %s "$@"
''' % (CALLS, REAL)


def load_inventory():
    with open(INVENTORY) as handle:
        data = json.load(handle)
    lab = data['all']['children']['lab']
    hosts = {}
    for group in lab['children'].values():
        hosts.update(group['hosts'])
    return data['all']['vars'], lab['vars'], hosts


class Lab(object):
    def __init__(self):
        self.all_vars, self.vars, self.hosts = load_inventory()
        self.initiator = self.hosts[HOST]['lab_initiator_name']
        self.workdir = tempfile.mkdtemp(prefix='session-bench-', dir=os.path.join(REPO, '.build'))

    def ssh(self, host, script, stdin=None, check=True):
        """Run SCRIPT with bash on HOST; with STDIN, SCRIPT is the command and STDIN its input."""
        argv = ['ssh', '-q', '-i', self.vars['ansible_ssh_private_key_file'], '-p', str(self.hosts[host]['ansible_port']),
                '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
                'root@127.0.0.1']
        argv += [script] if stdin is not None else ['bash -s']
        proc = subprocess.run(argv, input=script if stdin is None else stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=600, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError('%s: %s failed (%d): %s' % (host, script.strip()[:80], proc.returncode, proc.stderr))
        return proc.stdout

    def playbook(self, name, task, binary=OUR_ANSIBLE, environment=None):
        """Run one task on host1 with ansible-playbook; return (task seconds, result dict).

        The task is timed on the controller between two set_fact tasks, so playbook start-up is left out
        but Ansible's per-task cost (connection, module transfer, Python start on the guest) is in.
        """
        out = os.path.join(self.workdir, name + '.json')
        play = [{'hosts': HOST, 'gather_facts': False, 'environment': environment or {},
                 'tasks': [{'ansible.builtin.set_fact': {'bench_t0': '{{ now().timestamp() }}'}},
                           dict(task, register='bench_result', ignore_errors=True),
                           {'ansible.builtin.set_fact': {'bench_t1': '{{ now().timestamp() }}'}},
                           {'ansible.builtin.copy': {
                               'content': '{{ {"seconds": bench_t1 | float - bench_t0 | float, '
                                          '"result": bench_result} | to_json }}',
                               'dest': out},
                            'delegate_to': 'localhost'}]}]
        path = os.path.join(self.workdir, name + '.yml')
        with open(path, 'w') as handle:
            json.dump(play, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'live'),
                   ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_PIPELINING='True')
        if binary == BUNDLE_ANSIBLE:
            env.pop('ANSIBLE_COLLECTIONS_PATH')  # the bundle's own collections (community.general)
        if os.path.exists(out):
            os.unlink(out)
        proc = subprocess.run([binary, '-i', INVENTORY, path], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=900, check=False)
        if not os.path.exists(out):
            raise RuntimeError('%s: no result (rc %d): %s %s'
                               % (name, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
        with open(out) as handle:
            data = json.load(handle)
        if data['result'].get('failed'):
            raise RuntimeError('%s failed: %s' % (name, data['result'].get('msg')))
        return data['seconds'], data['result']


def prepare(lab, luns):
    with open(FIXTURE) as handle:
        lab.ssh('san', 'cat > /root/helperc_bench_fixture.py', stdin=handle.read())
    lab.ssh('san', 'python3 /root/helperc_bench_fixture.py teardown --iqn %s >/dev/null' % IQN, check=False)
    spec = ' '.join('--lun hcb%d:16M:fileio' % index for index in range(luns))
    lab.ssh('san', 'python3 /root/helperc_bench_fixture.py setup --iqn %s --portal %s --acl %s %s >/dev/null'
            % (IQN, PORTAL, lab.initiator, spec))


def reset(lab, record=True):
    """No session of the bench target; exactly one node record (or none)."""
    script = ('iscsiadm -m node -T {t} --logout >/dev/null 2>&1; iscsiadm -m node -T {t} -o delete >/dev/null 2>&1;'
              'udevadm settle --timeout=30;').format(t=IQN)
    if record:
        script += 'iscsiadm -m node -o new -T %s -p %s:3260 >/dev/null' % (IQN, PORTAL)
    lab.ssh(HOST, script)


def links_ready(lab, luns):
    out = lab.ssh(HOST, "ls /dev/disk/by-path/ | grep -c -- '-iscsi-%s-lun-' || true" % IQN)
    return int(out.strip() or 0) == luns


METHODS = (
    ('san.iscsi.session', OUR_ANSIBLE,
     lambda luns: {'san.iscsi.session': {'target': IQN, 'portal': PORTAL, 'luns': list(range(luns)),
                                         'multipath': 'no'}}),
    ('raw iscsiadm + settle', OUR_ANSIBLE,
     lambda luns: {'ansible.builtin.shell': 'iscsiadm -m node -T %s -p %s:3260 --login && udevadm settle'
                                            % (IQN, PORTAL)}),
    ('community.general.open_iscsi', BUNDLE_ANSIBLE,
     lambda luns: {'community.general.open_iscsi': {'target': IQN, 'portal': PORTAL, 'port': '3260',
                                                    'login': True}}),
)


def time_logins(lab, rounds, luns):
    figures = {}
    baseline = [lab.playbook('baseline', {'ansible.builtin.command': 'true'})[0] for _round in range(rounds)]
    figures['baseline (command: true)'] = (baseline, [True] * rounds)
    for name, binary, task in METHODS:
        times, ready = [], []
        for index in range(rounds):
            reset(lab)
            seconds, _result = lab.playbook('login-%d' % index, task(luns), binary=binary)
            times.append(seconds)
            ready.append(links_ready(lab, luns))
        figures[name] = (times, ready)
    return figures


def install_wrapper(lab):
    lab.ssh(HOST, '''set -e
[ -e {real} ] || cp -p {bin} {real}
cat > {bin}.helperc-new <<'EOF'
{wrapper}EOF
chmod 0755 {bin}.helperc-new
mv -f {bin}.helperc-new {bin}
rm -f {calls}'''.format(real=REAL, bin=ISCSIADM, wrapper=WRAPPER, calls=CALLS))


def remove_wrapper(lab):
    lab.ssh(HOST, '''[ -e {real} ] || exit 0
cp -p {real} {bin}.helperc-new && mv -f {bin}.helperc-new {bin} && rm -f {real} {calls}'''.format(
        real=REAL, bin=ISCSIADM, calls=CALLS))


def count_calls(lab, name, task, binary=OUR_ANSIBLE):
    lab.ssh(HOST, 'rm -f %s' % CALLS)
    _seconds, result = lab.playbook(name, task, binary=binary, environment={'HELPERC_COUNT': '1'})
    calls = [line for line in lab.ssh(HOST, 'cat %s 2>/dev/null || true' % CALLS).splitlines() if line]
    return result.get('changed'), calls


def count_no_change(lab, luns):
    reset(lab)
    lab.playbook('login-for-count', METHODS[0][2](luns))
    node = {'san.iscsi.node': {'target': IQN, 'portal': PORTAL, 'settings': {'node.startup': 'manual'}}}
    install_wrapper(lab)
    try:
        return [
            ('san.iscsi.session (portal given)', count_calls(lab, 'count-session', METHODS[0][2](luns))),
            ('san.iscsi.session (all record portals)',
             count_calls(lab, 'count-session-all', {'san.iscsi.session': {'target': IQN, 'multipath': 'no'}})),
            ('san.iscsi.node', count_calls(lab, 'count-node', node)),
            ('community.general.open_iscsi', count_calls(lab, 'count-open-iscsi', METHODS[2][2](luns),
                                                         binary=BUNDLE_ANSIBLE)),
        ]
    finally:
        remove_wrapper(lab)


def report(figures, counts, rounds, luns):
    print('\nLogin on one portal plus %d LUN(s) ready, host1, %d round(s), seconds (controller wall time of'
          ' one Ansible task):' % (luns, rounds))
    print('  %-32s %8s %8s %8s   %s' % ('method', 'median', 'min', 'max', 'LUN links present on return'))
    for name, (times, ready) in figures.items():
        print('  %-32s %8.2f %8.2f %8.2f   %s' % (name, statistics.median(times), min(times), max(times),
                                                  '%d/%d' % (sum(ready), len(ready))))
    print('\niscsiadm processes in an idempotent no-change run (session already logged in, record unchanged):')
    for name, (changed, calls) in counts:
        print('  %-40s %2d  changed=%s  %s' % (name, len(calls), changed, ' | '.join(calls)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--luns', type=int, default=2)
    args = parser.parse_args()
    if not os.path.exists(BUNDLE_ANSIBLE):
        sys.exit("missing %s: python3 -m venv .build/bench-venv && .build/bench-venv/bin/pip install "
                 "'ansible>=12,<13'" % BUNDLE_ANSIBLE)
    lab = Lab()
    prepare(lab, args.luns)
    try:
        figures = time_logins(lab, args.rounds, args.luns)
        counts = count_no_change(lab, args.luns)
    finally:
        remove_wrapper(lab)
        reset(lab, record=False)
        lab.ssh('san', 'python3 /root/helperc_bench_fixture.py teardown --iqn %s >/dev/null; '
                       'rm -f /root/helperc_bench_fixture.py' % IQN, check=False)
    report(figures, counts, args.rounds, args.luns)


if __name__ == '__main__':
    main()
