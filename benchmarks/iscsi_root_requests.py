#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP requests (and connections) of the SAN side of provisioning N diskless hosts with the role
san.iscsi.iscsi_root (roles/iscsi_root/tasks/provision.yml, provision_host.yml), provider ontap over REST,
against the ONTAP emulator (tests/doubles/ontap_emulator.py), for N = 1, 10 and 100 hosts. Prints, asserts
nothing about speed; exits 1 when a playbook run fails or the emulator's state afterwards is not what the role
leaves (each clone mapped as LUN 0 to its host's igroup only).

One ansible-playbook run per N does, in order, what the role does on the SAN: san.iscsi.san_info of the volume
(the role's state read, once); the hosts checked with the role's filter san.iscsi.iscsi_root_hosts (no I/O);
then, per host (include_tasks in a loop, as the role does, so that each clone leaves the builder's LUN id 1
before the next one takes it) and skipped, as in the role, for a host whose clone is already mapped to its own
igroup: san.iscsi.lun with clone_from (golden snapshot, golden LUN) and map_to (the builder's igroup, LUN id 1),
then san.iscsi.lun_map moving it to the host's igroup as LUN 0 (unmap_from the builder's igroup); then, for every
host as in the role, san.iscsi.initiator_chap (every other host has a chap_secret: its CHAP is set, the others'
is made absent). The builder
and boot-server steps are host-side and left out. The emulator is seeded through its State API (not counted):
an SVM, a volume, the golden LUN (4 GiB), the volume snapshot "golden" taken after it, and the builder's igroup
with the builder's initiator, unmapped (as golden.yml leaves it). provision.yml's golden-snapshot condition
(name and lun) is evaluated on san_info's answer and printed, not asserted: ONTAP snapshots belong to the volume
and san_info reports them with lun null, so the condition does not hold with provider ontap.

Requests and accepted connections are counted by the emulator for the whole run. The once-only requests (the
san_info) are told from the per-host ones by one marker request the playbook sends between them (an
unauthenticated GET of a path that is not ONTAP's; answered 401; not counted in any figure). Then the largest
N again: the same playbook (the role's guard skips every host: only the state read costs), and once more with
the guard off (each module runs again on the provisioned hosts), with the changed counts of both.

Usage: .venv/bin/python benchmarks/iscsi_root_requests.py [--hosts 1,10,100]
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'doubles'))

from ontap_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position

SVM, VOLUME = 'svm_bench', 'vol_root'
GOLDEN_LUN, GOLDEN_SNAPSHOT, GOLDEN_SIZE = 'golden_root', 'golden', 4 << 30
BUILDER_IGROUP = 'san_iscsi_root_builder'  # the role's default iscsi_root_builder_igroup
BUILDER_INITIATOR = 'iqn.2026-12.com.example:builder'
INITIATOR_PREFIX = 'iqn.2026-12.com.example'
LUN_PREFIX = 'root_'  # the role's default iscsi_root_lun_prefix
BUILDER_CLONE_ID = 1  # the role's __iscsi_root_builder_clone_id
MARKER = '/_benchmark/san_info_done'
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


def host_tasks():
    """provision_host.yml's SAN steps for one host (loop var bench_host, an entry of the filter's hosts)."""
    clone = LUN_PREFIX + '{{ bench_host.name }}'
    return [
        {'name': 'names, host {{ bench_host.name }}',
         'ansible.builtin.set_fact': {
             'bench_provisioned': "{{ bench_guard | bool and bench_san_state.maps"
                                  " | selectattr('igroup', 'equalto', bench_host.igroup)"
                                  " | selectattr('path', 'in', bench_san_state.luns"
                                  " | selectattr('name', 'equalto', '%s' ~ bench_host.name) | map(attribute='path') | list)"
                                  " | list | length > 0 }}" % LUN_PREFIX}},
        {'name': 'SAN, host {{ bench_host.name }}', 'when': 'not bench_provisioned', 'block': [
            {'name': 'the clone, mapped to the builder, host {{ bench_host.name }}',
             'san.iscsi.lun': {
                 'volume': VOLUME, 'name': clone,
                 'clone_from': {'volume': VOLUME, 'snapshot': GOLDEN_SNAPSHOT, 'lun': GOLDEN_LUN},
                 'map_to': {'igroup': BUILDER_IGROUP, 'initiators': [BUILDER_INITIATOR], 'lun_id': BUILDER_CLONE_ID}},
             'register': 'bench_clone'},
            {'name': "the clone moves to the host's igroup as LUN 0, host {{ bench_host.name }}",
             'san.iscsi.lun_map': {
                 'volume': VOLUME, 'lun': clone, 'igroup': '{{ bench_host.igroup }}',
                 'initiators': ['{{ bench_host.initiator }}'], 'lun_id': 0, 'unmap_from': [BUILDER_IGROUP]},
             'register': 'bench_move'}]},
        {'name': 'the CHAP credentials of its initiator (every host, as in the role), host {{ bench_host.name }}',
         'san.iscsi.initiator_chap': {
             'initiator': '{{ bench_host.initiator }}',
             'state': "{{ 'present' if bench_host.chap_user else 'absent' }}",
             'chap_user': '{{ bench_host.chap_user | default(omit, true) }}',
             'chap_secret': "{{ (bench_hosts | selectattr('name', 'equalto', bench_host.name) | first).chap_secret"
                            " | default(omit, true) }}"},
         'register': 'bench_chap'},
        {'name': 'result, host {{ bench_host.name }}',
         'ansible.builtin.set_fact': {'bench_results': "{{ bench_results + [{'host': bench_host.name,"
                                                       " 'skipped': bench_provisioned | bool,"
                                                       " 'lun_changed': bench_clone.changed | default(false),"
                                                       " 'map_changed': bench_move.changed | default(false),"
                                                       " 'chap_changed': bench_chap.changed}] }}"}},
    ]


def playbook(port, cafile, host_tasks_path, result_path):
    defaults = {'provider': 'ontap', 'hostname': '127.0.0.1', 'http_port': port, 'username': 'admin',
                'password': 'netapp1!', 'vserver': SVM, 'ca_path': cafile, 'use_rest': 'always'}
    return [{'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/san.iscsi.san': defaults},
             'vars': {'bench_results': [], 'bench_guard': True},
             'tasks': [
                 {'name': 'SAN - igroups, LUNs, maps and snapshots (once)',
                  'san.iscsi.san_info': {'volume': VOLUME}, 'register': 'bench_san_state'},
                 {'name': 'marker between the once-only and the per-host requests (not counted)',
                  'ansible.builtin.uri': {'url': 'https://127.0.0.1:%d%s' % (port, MARKER), 'validate_certs': False,
                                          'use_proxy': False, 'status_code': [401, 404]}},
                 {'name': 'the hosts, checked against each other and the SAN (the role filter)',
                  'ansible.builtin.set_fact': {
                      'bench_checked': "{{ bench_hosts | san.iscsi.iscsi_root_hosts('%s', bench_san_state.igroups)"
                                       " }}" % INITIATOR_PREFIX,
                      # provision.yml's golden-snapshot condition, evaluated but not asserted (see report()).
                      'bench_golden_by_role': "{{ bench_san_state.snapshots | selectattr('name', 'equalto', '%s')"
                                              " | selectattr('lun', 'in', ['%s', none]) | list | length }}"
                                              % (GOLDEN_SNAPSHOT, GOLDEN_LUN),
                      'bench_golden_by_name': "{{ bench_san_state.snapshots | selectattr('name', 'equalto', '%s')"
                                              " | list | length }}" % GOLDEN_SNAPSHOT}},
                 {'name': 'refuse before anything changes (host checks of the role)',
                  'ansible.builtin.assert': {'that': ['bench_checked.problems == []'],
                                             'fail_msg': "{{ bench_checked.problems | join('; ') }}"}},
                 {'name': 'each host', 'ansible.builtin.include_tasks': host_tasks_path,
                  'loop': '{{ bench_checked.hosts }}',
                  'loop_control': {'loop_var': 'bench_host', 'label': '{{ bench_host.name }}'}},
                 {'name': 'results', 'ansible.builtin.copy': {
                     'dest': result_path,
                     'content': "{{ {'hosts': bench_results, 'golden_by_role': bench_golden_by_role | int,"
                                " 'golden_by_name': bench_golden_by_name | int,"
                                " 'san_info_snapshots': bench_san_state.snapshots} | to_json }}"}}]}]


def hosts(count):
    """N hosts; the odd ones log in with CHAP (a chap_secret)."""
    width = max(3, len(str(count)))
    mac = '52:54:00:%02x:%02x:%02x'
    found = [{'name': 'h%0*d' % (width, index), 'mac': mac % (index >> 16, (index >> 8) & 255, index & 255),
              'address': '10.%d.%d.%d/8' % (index >> 16, (index >> 8) & 255, index & 255)}
             for index in range(1, count + 1)]
    for host in found[::2]:
        host['chap_secret'] = 'bench-secret-%s' % host['name']
    return found


def seed(emulator):
    state = emulator.state
    with state.lock:
        state.add_svm(SVM)
        state.add_volume(SVM, VOLUME)
        state.add_lun(SVM, '/vol/%s/%s' % (VOLUME, GOLDEN_LUN), GOLDEN_SIZE)
        state.create_snapshot(state.volume_named(SVM, VOLUME), GOLDEN_SNAPSHOT)
        state.add_igroup(SVM, BUILDER_IGROUP, 'iscsi', 'linux', [BUILDER_INITIATOR])


class MarkedLog(list):
    """The emulator's request log, with the number of connections accepted so far at each request (module
    runs are sequential and each opens its own, so that number tells which module run sent it)."""

    def __init__(self, server):
        super(MarkedLog, self).__init__()
        self.server, self.connection_of = server, []

    def append(self, entry):
        self.connection_of.append(self.server.connections)
        super(MarkedLog, self).append(entry)


def endpoint(entry):
    method, path = entry
    return '%s %s' % (method, UUID_RE.sub('{uuid}', path.split('?', 1)[0]))


def run_playbook(emulator, workdir, count, guard=True):
    """One ansible-playbook run; a dict of figures, or of the failure."""
    play, tasks = os.path.join(workdir, 'play.json'), os.path.join(workdir, 'host.json')
    variables, result_path = os.path.join(workdir, 'vars.json'), os.path.join(workdir, 'result.json')
    with open(tasks, 'w') as handle:
        json.dump(host_tasks(), handle)
    with open(play, 'w') as handle:
        json.dump(playbook(emulator.port, emulator.cert, tasks, result_path), handle)
    with open(variables, 'w') as handle:
        json.dump({'bench_hosts': hosts(count), 'bench_guard': guard}, handle)
    if os.path.exists(result_path):
        os.remove(result_path)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'live'),
               ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', LC_ALL='C.UTF-8')
    with emulator.state.lock:
        emulator.state.log = MarkedLog(emulator.server)
        requests, connections = emulator.state.requests, emulator.server.connections
    started = time.time()
    completed = subprocess.run([os.path.join(REPO, '.venv', 'bin', 'ansible-playbook'), play,
                                '-e', '@' + variables], env=env, capture_output=True, text=True, timeout=3600,
                               check=False)
    elapsed = time.time() - started
    with emulator.state.lock:
        log, connection_of = list(emulator.state.log), list(emulator.state.log.connection_of)
        requests = emulator.state.requests - requests
        first_connection, connections = connections, emulator.server.connections - connections
    if completed.returncode != 0:
        return {'failed': 'ansible-playbook rc=%d\n%s' % (completed.returncode, completed.stdout[-4000:]),
                'seconds': elapsed}
    marks = [index for index, entry in enumerate(log) if entry[1] == MARKER]
    if len(marks) != 1:
        return {'failed': 'expected one marker request, found %d' % len(marks), 'seconds': elapsed}
    once, per_host = log[:marks[0]], log[marks[0] + 1:]
    # The requests of each module run after the marker, in order (lun, lun_map, lun, ... when none is skipped).
    module_runs = [len(list(group)) for dummy, group in itertools.groupby(connection_of[marks[0] + 1:])]
    with open(result_path) as handle:
        result = json.load(handle)
    return {'requests': requests - 1, 'connections': connections - 1, 'once': len(once),
            'once_connections': connection_of[marks[0]] - first_connection - 1, 'module_runs': module_runs,
            'per_host_total': len(per_host), 'seconds': elapsed, 'result': result,
            'once_endpoints': collections.Counter(endpoint(entry) for entry in once),
            'host_endpoints': collections.Counter(endpoint(entry) for entry in per_host)}


def check_state(emulator, count):
    """What the role leaves: each host's clone mapped as LUN 0 to its own igroup only; the builder's igroup
    unmapped. Returns a list of problems."""
    state, problems = emulator.state, []
    with state.lock:
        for host in hosts(count):
            path = '/vol/%s/%s%s' % (VOLUME, LUN_PREFIX, host['name'])
            lun_uuid = state.lun_by_path.get((SVM, path))
            if lun_uuid is None:
                problems.append('%s: no LUN' % path)
                continue
            maps = [(entry['igroup']['name'], entry['logical_unit_number']) for entry in state.luns[lun_uuid]['lun_maps']]
            if maps != [(host['name'], 0)]:
                problems.append('%s: maps %s' % (path, maps))
        svm_uuid = state.svm_named(SVM)['uuid']
        with_chap = sorted(initiator for (uuid, initiator), entry in state.credentials.items()
                           if uuid == svm_uuid and entry.get('authentication_type') == 'chap')
        wanted = sorted('%s:%s' % (INITIATOR_PREFIX, host['name']) for host in hosts(count) if 'chap_secret' in host)
        if with_chap != wanted:
            problems.append('CHAP for %d initiators, %d hosts have a secret' % (len(with_chap), len(wanted)))
        builder = state.igroups[state.igroup_by_name[(SVM, BUILDER_IGROUP)]]
        if builder['lun_maps']:
            problems.append('builder igroup still maps %s' % [entry['lun']['name'] for entry in builder['lun_maps']])
    return problems


def changed_counts(run):
    entries = run['result']['hosts']
    return (sum(1 for entry in entries if entry['skipped']), sum(1 for entry in entries if entry['lun_changed']),
            sum(1 for entry in entries if entry['map_changed']), len(entries),
            sum(1 for entry in entries if entry['chap_changed']))


def measure(count, workdir, repeat):
    emulator = Emulator(workdir).start()
    try:
        seed(emulator)
        runs = {'first': run_playbook(emulator, workdir, count)}
        problems = [] if 'failed' in runs['first'] else check_state(emulator, count)
        if repeat and 'failed' not in runs['first']:
            runs['repeat'] = run_playbook(emulator, workdir, count)
            runs['repeat_unguarded'] = run_playbook(emulator, workdir, count, guard=False)
            problems += ['after the repeats: ' + text for text in check_state(emulator, count)]
        return runs, problems
    finally:
        emulator.stop()


def describe(run):
    if 'failed' in run:
        return 'FAILED after %.1f s: %s' % (run['seconds'], run['failed'])
    skipped, lun_changed, map_changed, entries, chap_changed = changed_counts(run)
    return ('%d req (once %d, after it %d = %.2f/host), %d conn, %.1f s; of %d hosts: %d skipped by the role '
            'guard, lun changed %d, lun_map changed %d, initiator_chap changed %d' % (
                run['requests'], run['once'], run['per_host_total'], run['per_host_total'] / float(entries),
                run['connections'], run['seconds'], entries, skipped, lun_changed, map_changed, chap_changed))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', default='1,10,100', help='comma-separated host counts (default 1,10,100)')
    args = parser.parse_args()
    counts = [int(text) for text in args.hosts.split(',') if text.strip()]
    largest, results, failed = max(counts), {}, False
    for count in counts:
        with tempfile.TemporaryDirectory() as workdir:
            results[count] = measure(count, workdir, repeat=count == largest)
    print('SAN side of iscsi_root provision, provider ontap (REST), ONTAP emulator; one ansible-playbook run per N')
    print('%6s %10s %6s %10s %12s %6s %8s %8s  %s' % ('N', 'requests', 'once', 'req/host', 'connections',
                                                      'once', 'conn/h', 'wall s', 'changed (lun, lun_map, chap)'))
    per_host = {}
    for count in counts:
        runs, problems = results[count]
        run = runs['first']
        if 'failed' in run:
            failed = True
            print('%6d FAILED after %.1f s:\n%s' % (count, run['seconds'], run['failed']))
            continue
        per_host[count] = (run['requests'] - run['once']) / float(count)
        skipped, lun_changed, map_changed, dummy, chap_changed = changed_counts(run)
        print('%6d %10d %6d %10.2f %12d %6d %8.2f %8.1f  %d, %d, %d' % (
            count, run['requests'], run['once'], per_host[count], run['connections'], run['once_connections'],
            (run['connections'] - run['once_connections']) / float(count), run['seconds'], lun_changed,
            map_changed, chap_changed))
        if problems:
            failed = True
            print('       state NOT as the role leaves it: %s' % '; '.join(problems[:5]))
    print('(once = the san_info state read, its requests and connections; req/host = (requests - once) / N;'
          ' conn/h = (connections - once) / N; wall s includes the marker task, about one module start)')
    if len(per_host) >= 2:
        low, high = min(per_host), max(per_host)
        print('per-host requests at N=%d vs N=%d: %.2f / %.2f = %.3f (goal: not above 1, total grows no faster'
              ' than N)' % (high, low, per_host[high], per_host[low], per_host[high] / per_host[low]))
    runs = results[largest][0]
    if 'failed' not in runs['first']:
        run = runs['first']
        print('per host at N=%d, by endpoint (requests / N):' % largest)
        for name, number in sorted(run['host_endpoints'].items()):
            print('  %6.2f  %s' % (number / float(largest), name))
        skipped, dummy, dummy, entries, dummy = changed_counts(run)
        if not skipped and len(run['module_runs']) == 3 * entries:
            for label, sizes in (('san.iscsi.lun (clone_from, map_to)', run['module_runs'][0::3]),
                                 ('san.iscsi.lun_map (move, unmap_from)', run['module_runs'][1::3]),
                                 ('san.iscsi.initiator_chap (half the hosts with CHAP)', run['module_runs'][2::3])):
                mean = sum(sizes) / float(len(sizes))
                print('  per run of %s: min %d, mean %.2f, max %d' % (label, min(sizes), mean, max(sizes)))
        print('once (san_info) at N=%d, by endpoint: %s' % (largest, ', '.join(
            '%s x%d' % (name, number) for name, number in sorted(run['once_endpoints'].items()))))
        result = run['result']
        print('role check on ONTAP: snapshots reported by san_info %s; provision.yml\'s golden condition (name %s and'
              ' lun %s or none) matches %d, by name alone %d%s' % (
                  json.dumps([{key: entry.get(key) for key in ('name', 'volume', 'lun')}
                              for entry in result['san_info_snapshots']]),
                  GOLDEN_SNAPSHOT, GOLDEN_LUN, result['golden_by_role'], result['golden_by_name'],
                  ' -> the role\'s "Refuse before anything changes" assert would fail with provider ontap'
                  if result['golden_by_role'] != 1 else ''))
    for key, label in (('repeat', 'repeat, same playbook (role guard on)'),
                       ('repeat_unguarded', 'repeat, modules again (role guard off)')):
        if key in runs:
            print('N=%d %s: %s' % (largest, label, describe(runs[key])))
            failed = failed or 'failed' in runs[key]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
