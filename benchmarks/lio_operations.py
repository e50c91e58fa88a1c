#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time of each LIO operation of the SAN backend on the lab's san guest. Prints figures, asserts nothing.

Two layers, side by side:

backend  the LioBackend methods themselves, called in the guest by a small driver (a fresh backend per
         operation, as in a module run: nothing cached), ROUNDS times; includes the LVM commands and the
         atomic save of the LIO configuration. The collection's module_utils and ansible's module_utils
         are copied to the guest for this.
module   one ansible-playbook run of the SAN modules (delegate_to san, provider lio), wall time of each
         task as the controller sees it: Python start-up and the rtslib import in the TCG guest included.

Names are lio_bench_* (LVs, backstores) and iqn.2003-01.org.linux-iscsi.san:lio-test-bench*; everything is
removed at the end, also after a failure. Needs the dev lab (`make lab-up`).

Usage: .venv/bin/python benchmarks/lio_operations.py [--rounds 3] [--no-modules]
"""

from __future__ import absolute_import, division, print_function

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORY = os.path.join(REPO, '.lab', 'inventory.yml')
BENCH_IQN = 'iqn.2003-01.org.linux-iscsi.san:lio-test-bench'
MODULE_IQN = 'iqn.2003-01.org.linux-iscsi.san:lio-test-bench-mod'
HOST1 = 'iqn.2026-11.lab.san-iscsi:host1'
REMOTE_DIR = '/tmp/lio-bench'

OPERATIONS = ['create igroup (and target)', 'create igroup', 'create LUN', 'snapshot', 'clone', 'map', 'unmap',
              'delete clone', 'delete snapshot', 'delete LUN', 'delete igroup']

DRIVER = r'''
import json, os, shutil, subprocess, sys, time
sys.path.insert(0, %(dir)r)
t0 = time.time()
import rtslib_fb
import_seconds = time.time() - t0
from ansible_collections.san.iscsi.plugins.module_utils._san_lio import LioBackend

IQN, HOST1, ROUNDS = %(iqn)r, %(host1)r, %(rounds)d
SAVE = %(dir)r + '/saveconfig.json'


class Module(object):
    check_mode = False

    def __init__(self):
        self.params = dict(provider='lio', target=IQN, tpg=1, portals=['10.10.1.1', '10.10.2.1'], save_file=SAVE)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return shutil.which(name, path=':'.join(list(opt_dirs or []) + [os.environ.get('PATH', '')]))

    def run_command(self, argv, environ_update=None, **kwargs):
        env = dict(os.environ, **(environ_update or {}))
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        return done.returncode, done.stdout, done.stderr

    def fail_json(self, **kwargs):
        raise RuntimeError(kwargs)


def timed(results, name, call, *args):
    start = time.time()
    out = call(LioBackend(Module()), *args)
    results.setdefault(name, []).append(time.time() - start)
    return out


def clean():
    for target in rtslib_fb.RTSRoot().targets:
        if target.wwn == IQN:
            target.delete()
    for so in rtslib_fb.RTSRoot().storage_objects:
        if so.name.startswith('lio_bench_'):
            so.delete()
    out = subprocess.run(['lvs', '--noheadings', '-o', 'lv_name,lv_tags', 'labvg'], capture_output=True,
                         text=True).stdout.split('\n')
    names = sorted((line.split() for line in out if line.strip().startswith('lio_bench_')),
                   key=lambda row: 0 if len(row) > 1 and 'clone_of' in row[1] else 1)
    for row in names:
        subprocess.run(['lvremove', '--yes', 'labvg/' + row[0]], capture_output=True)


results = {}
clean()
try:
    for index in range(ROUNDS):
        lun, snap, clone, igroup = ('lio_bench_%%d' %% index, 'lio_bench_%%d_s' %% index,
                                    'lio_bench_%%d_c' %% index, 'bench_%%d' %% index)
        first = 'create igroup (and target)' if index == 0 else 'create igroup'
        timed(results, first, lambda b: b.create_igroup(igroup, 'iscsi', 'linux', [HOST1]))
        timed(results, 'create LUN', lambda b: b.create_lun('labvg/pool', lun, 64 << 20, 'linux'))
        timed(results, 'snapshot', lambda b: b.create_snapshot('labvg/pool', snap, lun))
        timed(results, 'clone', lambda b: b.clone_lun('labvg/pool', clone,
                                                       dict(volume='labvg/pool', snapshot=snap, lun=lun), 'linux'))
        timed(results, 'map', lambda b: b.create_lun_map('labvg/pool/' + clone, igroup))
        timed(results, 'unmap', lambda b: b.delete_lun_map('labvg/pool/' + clone, igroup))
        timed(results, 'delete clone', lambda b: b.delete_lun('labvg/pool', clone))
        timed(results, 'delete snapshot', lambda b: b.delete_snapshot('labvg/pool', snap))
        timed(results, 'delete LUN', lambda b: b.delete_lun('labvg/pool', lun))
        timed(results, 'delete igroup', lambda b: b.delete_igroup(igroup))
finally:
    clean()
print(json.dumps({'import_rtslib': import_seconds, 'results': results}))
'''


def lab_ssh():
    with open(INVENTORY) as handle:
        inventory = json.load(handle)
    lab = inventory['all']['children']['lab']
    port = lab['children']['storage']['hosts']['san']['ansible_port']
    return ['ssh', '-p', str(port), '-i', lab['vars']['ansible_ssh_private_key_file'], '-o', 'StrictHostKeyChecking=no',
            '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@127.0.0.1']


def bundle():
    """A tar of ansible's module_utils and the collection's module_utils, as AnsiballZ would ship them."""
    import ansible
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode='w:gz') as tar:
        for name in ('ansible/__init__.py',):
            info = tarfile.TarInfo(name)
            tar.addfile(info, io.BytesIO(b''))
        tar.add(os.path.join(os.path.dirname(ansible.__file__), 'module_utils'), 'ansible/module_utils',
                filter=lambda info: None if '__pycache__' in info.name else info)
        tar.add(os.path.join(REPO, 'plugins', 'module_utils'), 'ansible_collections/san/iscsi/plugins/module_utils',
                filter=lambda info: None if '__pycache__' in info.name else info)
    return data.getvalue()


def backend_layer(rounds):
    ssh = lab_ssh()
    subprocess.run(ssh + ['rm -rf %s && mkdir -p %s && tar -xzf - -C %s' % (REMOTE_DIR, REMOTE_DIR, REMOTE_DIR)],
                   input=bundle(), check=True, timeout=300)
    driver = DRIVER % {'dir': REMOTE_DIR, 'iqn': BENCH_IQN, 'host1': HOST1, 'rounds': rounds}
    try:
        done = subprocess.run(ssh + ['python3', '-'], input=driver.encode(), capture_output=True, check=True,
                              timeout=3600)
    finally:
        subprocess.run(ssh + ['rm', '-rf', REMOTE_DIR], timeout=120, check=False)
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


MODULE_TASKS = [
    ('create igroup (and target)', 'san.iscsi.igroup', {'name': 'bench_mod', 'initiators': [HOST1]}),
    ('create LUN', 'san.iscsi.lun', {'volume': 'labvg/pool', 'name': 'lio_bench_m', 'size': '64M'}),
    ('create LUN, no change', 'san.iscsi.lun', {'volume': 'labvg/pool', 'name': 'lio_bench_m', 'size': '64M'}),
    ('snapshot', 'san.iscsi.snapshot', {'volume': 'labvg/pool', 'name': 'lio_bench_m_s', 'lun': 'lio_bench_m'}),
    ('clone', 'san.iscsi.lun', {'volume': 'labvg/pool', 'name': 'lio_bench_m_c', 'clone_from': {
        'volume': 'labvg/pool', 'snapshot': 'lio_bench_m_s', 'lun': 'lio_bench_m'}}),
    ('map', 'san.iscsi.lun_map', {'volume': 'labvg/pool', 'lun': 'lio_bench_m_c', 'igroup': 'bench_mod'}),
    ('map, no change', 'san.iscsi.lun_map', {'volume': 'labvg/pool', 'lun': 'lio_bench_m_c', 'igroup': 'bench_mod'}),
    ('san_info, everything', 'san.iscsi.san_info', {}),
    ('unmap', 'san.iscsi.lun_map', {'volume': 'labvg/pool', 'lun': 'lio_bench_m_c', 'igroup': 'bench_mod',
                                    'state': 'absent'}),
    ('delete clone', 'san.iscsi.lun', {'volume': 'labvg/pool', 'name': 'lio_bench_m_c', 'state': 'absent'}),
    ('delete snapshot', 'san.iscsi.snapshot', {'volume': 'labvg/pool', 'name': 'lio_bench_m_s', 'state': 'absent'}),
    ('delete LUN', 'san.iscsi.lun', {'volume': 'labvg/pool', 'name': 'lio_bench_m', 'state': 'absent'}),
    ('delete igroup', 'san.iscsi.igroup', {'name': 'bench_mod', 'state': 'absent'}),
]


def module_layer(workdir):
    stamps = os.path.join(workdir, 'stamps.json')
    tasks = [{'ansible.builtin.set_fact': {'bench_marks': [['start', '{{ now().timestamp() }}']]}}]
    for label, module, args in MODULE_TASKS:
        tasks.append({module: args, 'delegate_to': 'san'})
        tasks.append({'ansible.builtin.set_fact': {
            'bench_marks': '{{ bench_marks + [[%s, now().timestamp()]] }}' % json.dumps(label)}})
    tasks.append({'ansible.builtin.copy': {'content': '{{ bench_marks | to_json }}', 'dest': stamps}})
    play = [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/san.iscsi.san': {
                 'provider': 'lio', 'target': MODULE_IQN, 'portals': ['10.10.1.1', '10.10.2.1'],
                 'save_file': '/tmp/lio-bench-saveconfig.json'}},
             'tasks': [{'block': tasks, 'always': [{
                 'ansible.builtin.script': {
                     'cmd': '%s/tests/integration/targets/lio_common/files/lio_cleanup.py --prefix lio_bench_ '
                            '--iqn %s' % (REPO, MODULE_IQN),
                     'executable': 'python3'},
                 'delegate_to': 'san'}]}]}]
    path = os.path.join(workdir, 'play.json')
    with open(path, 'w') as handle:
        json.dump(play, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'live'), ANSIBLE_PIPELINING='1',
               ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=600s', ANSIBLE_HOST_KEY_CHECKING='0',
               ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(workdir, 'cp'), ANSIBLE_LOCALHOST_WARNING='false',
               LC_ALL='C.UTF-8')
    done = subprocess.run([os.path.join(REPO, '.venv', 'bin', 'ansible-playbook'), '-i', INVENTORY, path],
                          env=env, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError('ansible-playbook failed: %s' % done.stdout[-3000:])
    with open(stamps) as handle:
        marks = json.load(handle)
    return [(label, float(now) - float(marks[index][1])) for index, (label, now) in enumerate(marks[1:])]


def print_backend(data):
    print('LIO backend operations in the san guest (QEMU/TCG), fresh backend per call, seconds')
    print('  rtslib_fb import (once per module run): %.2f' % data['import_rtslib'])
    print('  {0:<28} {1:>3} {2:>8} {3:>8} {4:>8}'.format('operation', 'n', 'median', 'min', 'max'))
    for name in OPERATIONS:
        values = data['results'].get(name)
        if values:
            print('  {0:<28} {1:>3} {2:>8.2f} {3:>8.2f} {4:>8.2f}'.format(
                name, len(values), statistics.median(values), min(values), max(values)))


def print_modules(rows):
    print('SAN module tasks with provider lio (ansible-playbook, delegate_to san), wall seconds per task')
    for label, seconds in rows:
        print('  {0:<28} {1:>8.1f}'.format(label, seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--no-modules', action='store_true')
    args = parser.parse_args()
    if not os.path.exists(INVENTORY):
        sys.exit('the dev lab is not running (make lab-up)')
    started = time.time()
    print_backend(backend_layer(args.rounds))
    if not args.no_modules:
        with tempfile.TemporaryDirectory(prefix='lio-bench-') as workdir:
            print_modules(module_layer(workdir))
    print('total benchmark time: %.0f s' % (time.time() - started))


if __name__ == '__main__':
    main()
