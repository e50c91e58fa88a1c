#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP requests (and connections) per idempotent (no-change) run of san.iscsi.igroup, san.iscsi.lun and
san.iscsi.lun_map against the ONTAP emulator (tests/doubles/ontap_emulator.py), with 10 LUNs and 10 igroups
and with 10,000 of each, side by side. Each figure is one real ansible-playbook run of one module; requests
and accepted connections are counted by the emulator. Goal: at most 2 requests with REST and one connection,
independent of the population. Prints, asserts nothing.

Usage: .venv/bin/python benchmarks/ontap_requests.py [--luns 10000] [--igroups 10000]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'doubles'))

from ontap_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position

SVM, VOLUME, IGROUP, LUN = 'svm_bench', 'vol_bench', 'bench_host', 'bench_lun'
INITIATOR = 'iqn.2026-11.lab.san-iscsi:bench-host'
TASKS = {
    'igroup': {'san.iscsi.igroup': {'name': IGROUP, 'initiators': [INITIATOR]}},
    'lun': {'san.iscsi.lun': {'volume': VOLUME, 'name': LUN, 'size': '1G'}},
    'lun_map': {'san.iscsi.lun_map': {'volume': VOLUME, 'lun': LUN, 'igroup': IGROUP, 'lun_id': 0}},
}


def playbook(port, cafile, use_rest, task, result_path):
    defaults = {'provider': 'ontap', 'hostname': '127.0.0.1', 'http_port': port, 'username': 'admin',
                'password': 'netapp1!', 'vserver': SVM, 'ca_path': cafile, 'use_rest': use_rest}
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/san.iscsi.san': defaults},
             'tasks': [dict(task, register='result'),
                       {'ansible.builtin.copy': {'content': '{{ result | to_json }}', 'dest': result_path}}]}]


def run_once(emulator, workdir, use_rest, module):
    path, result_path = os.path.join(workdir, 'play.json'), os.path.join(workdir, 'result.json')
    with open(path, 'w') as handle:
        json.dump(playbook(emulator.port, emulator.cert, use_rest, TASKS[module], result_path), handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'live'),
               ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', LC_ALL='C.UTF-8')
    before, connections = emulator.state.requests, emulator.server.connections
    started = time.time()
    completed = subprocess.run([os.path.join(REPO, '.venv', 'bin', 'ansible-playbook'), path],
                               env=env, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.time() - started
    requests = emulator.state.requests - before
    connections = emulator.server.connections - connections
    if completed.returncode != 0:
        raise RuntimeError('ansible-playbook failed (rc=%d): %s' % (completed.returncode, completed.stdout[-3000:]))
    with open(result_path) as handle:
        result = json.load(handle)
    return requests, connections, result.get('changed'), elapsed


def measure(luns, igroups, workdir):
    emulator = Emulator(workdir).start()
    try:
        emulator.populate(SVM, VOLUME, luns=luns, igroups=igroups)
        with emulator.state.lock:
            lun = emulator.state.add_lun(SVM, '/vol/%s/%s' % (VOLUME, LUN), 1 << 30)
            group = emulator.state.add_igroup(SVM, IGROUP, 'iscsi', 'linux', [INITIATOR])
            emulator.state.map_lun(lun, group, 0)
        figures = {}
        for use_rest in ('always', 'never'):
            for module in ('igroup', 'lun', 'lun_map'):
                figures[(use_rest, module)] = run_once(emulator, workdir, use_rest, module)
        return figures
    finally:
        emulator.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--luns', type=int, default=10000)
    parser.add_argument('--igroups', type=int, default=10000)
    args = parser.parse_args()
    populations = [(10, 10), (args.luns, args.igroups)]
    results = {}
    for luns, igroups in populations:
        with tempfile.TemporaryDirectory() as workdir:
            results[(luns, igroups)] = measure(luns, igroups, workdir)
    header = '%-8s %-8s ' % ('api', 'module') + ' '.join(
        '%36s' % ('%d LUNs/%d igroups' % population) for population in populations)
    print('HTTP requests and connections per idempotent run (changed flag, wall time of the whole ansible-playbook)')
    print(header)
    for use_rest, label in (('always', 'REST'), ('never', 'ZAPI')):
        for module in ('igroup', 'lun', 'lun_map'):
            cells = []
            for population in populations:
                requests, connections, changed, elapsed = results[population][(use_rest, module)]
                cell = '%d req, %d conn, changed=%s, %.1f s' % (requests, connections, changed, elapsed)
                cells.append('%36s' % cell)
            print('%-8s %-8s ' % (label, module) + ' '.join(cells))
    return 0


if __name__ == '__main__':
    sys.exit(main())
