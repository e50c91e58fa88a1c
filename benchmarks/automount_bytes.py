#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the snapshot automounter's cold and warm access, and the bytes it reads from a snapshot LUN to
mount it, for thin LUNs of several sizes.

  .venv/bin/python benchmarks/automount_bytes.py [--sizes 1G,4G] [--data-mib 64]

Needs the dev lab (`make lab-up`). For each size, a thin LUN on san gets ext4 and DATA_MIB MiB of files from host1,
and is snapshotted while host1 still has it mounted (a live filesystem: its journal needs recovery, as in the
seed). The role snapshot_automount is installed on host1 (a nested ansible-playbook, as users run it); then, for
each snapshot, host1 reads through /snapshots_bench/LUN@SNAPSHOT:

  cold      `ls` of the snapshot's root with nothing presented: clone, map, login, disk, mount, bind
  warm      the same `ls` again
  read      sectors the clone's disk delivered until the cold `ls` returned (/sys/block/<dev>/stat, field 3)
  seed      sectors the same disk delivers to the seed's way: autofs's ext2/3/4 module runs `fsck -n` on the
            device before a read-only mount (`modules/mount_ext2.c`); here `e2fsck -n` on a read-only loop device
            with direct I/O over the clone's disk (e2fsck refuses the disk itself while the automounter has it
            mounted; direct I/O, so the page cache hides nothing), and the seconds it took
  forced    the same with `-f`: the full check e2fsck makes when one is due (a filesystem marked not clean,
            or past its mount count or check interval)

Printed side by side per size; the goal is under 4 MiB read, the same for every size. The benchmark runs the seed's
fsck only to measure it, read-only (`-n`, a read-only loop device) on a clone the automounter made for this run;
the collection itself never runs fsck. Everything made is removed at the end (the role's absent state, then the
LUNs, snapshots, clones and target on san). Exits 1 when a step fails.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lun_mount_bytes import INVENTORY, REPO, Lab as SshLab  # noqa: E402  pylint: disable=wrong-import-position

IQN = 'iqn.2026-12.lab.san-iscsi:amb'
PREFIX = 'lio_amb_'
MOUNT_POINT = '/snapshots_bench'
CLEANUP = os.path.join(REPO, 'tests', 'integration', 'targets', 'lio_common', 'files', 'lio_cleanup.py')


class Lab(SshLab):
    """lun_mount_bytes' lab access (ssh to a guest), plus nested ansible-playbook runs."""

    def playbook(self, plays, extra_vars):
        """Run PLAYS (a list of dicts) with ansible-playbook against the dev lab; fail loudly."""
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'live'),
                   ANSIBLE_HOST_KEY_CHECKING='0', ANSIBLE_NOCOLOR='1')
        with tempfile.TemporaryDirectory() as workdir:
            play_file = os.path.join(workdir, 'play.yml')
            vars_file = os.path.join(workdir, 'vars.json')
            with open(play_file, 'w') as handle:
                json.dump(plays, handle)
            with open(vars_file, 'w') as handle:
                json.dump(extra_vars, handle)
            argv = [os.path.join(REPO, '.venv', 'bin', 'ansible-playbook'), '-i', INVENTORY, play_file,
                    '-e', '@' + vars_file]
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800, check=False)
        if proc.returncode != 0:
            raise RuntimeError('ansible-playbook failed:\n%s' % proc.stdout[-4000:])
        return proc.stdout


def source_plays(sizes, data_mib):
    """LUNs filled by host1 and snapshotted while host1 has them mounted, then let go of by host1."""
    san = {'provider': 'lio', 'target': IQN, 'portals': '{{ lab_portals }}'}
    tasks = [
        {'name': 'igroup of host1', 'san.iscsi.igroup': {'name': PREFIX + 'h1',
                                                         'initiators': ["{{ hostvars['host1'].lab_initiator_name }}"]},
         'delegate_to': 'san'},
    ]
    for size in sizes:
        lun = PREFIX + size.lower()
        tasks += [
            {'name': 'LUN %s' % lun, 'san.iscsi.lun': {'volume': 'labvg/pool', 'name': lun, 'size': size},
             'delegate_to': 'san'},
            {'name': 'map %s' % lun, 'san.iscsi.lun_map': {'volume': 'labvg/pool', 'lun': lun, 'igroup': PREFIX + 'h1'},
             'delegate_to': 'san', 'register': 'amb_map'},
            {'name': 'host1 logs in',
             'san.iscsi.session': {'target': IQN, 'portal': '{{ lab_portals[0] }}', 'luns': ['{{ amb_map.lun_id }}']},
             'delegate_to': 'host1', 'register': 'amb_session'},
            {'name': 'host1 makes ext4 and %d MiB of files, and keeps it mounted' % data_mib,
             'ansible.builtin.shell': {'cmd': (
                 'set -euo pipefail; dev={{ (amb_session.luns | selectattr("lun", "equalto", amb_map.lun_id) | first)'
                 '.devices[0] }}; mkfs.ext4 -q "$dev"; mkdir -p /mnt/%s; mount "$dev" /mnt/%s; '
                 'for i in $(seq 1 %d); do head -c 1048576 /dev/urandom > /mnt/%s/file$i; done; sync; '
                 'touch /mnt/%s/after-sync' % (lun, lun, data_mib, lun, lun)), 'executable': '/bin/bash'},
             'delegate_to': 'host1'},
            {'name': 'snapshot of the live filesystem', 'san.iscsi.snapshot': {
                'volume': 'labvg/pool', 'name': lun + '_snap', 'lun': lun}, 'delegate_to': 'san'},
            {'name': 'host1 unmounts', 'ansible.builtin.command': {'argv': ['umount', '/mnt/' + lun]},
             'delegate_to': 'host1'},
            {'name': 'host1 logs out',
             'san.iscsi.session': {'target': IQN, 'portal': '{{ lab_portals[0] }}', 'state': 'logged_out',
                                   'remove_node': True},
             'delegate_to': 'host1'},
        ]
    return [{'name': 'automount benchmark sources', 'hosts': 'localhost', 'gather_facts': False,
             'module_defaults': {'group/san.iscsi.san': san}, 'tasks': tasks}]


def role_plays(state):
    return [{'name': 'the snapshot automounter on host1', 'hosts': 'host1', 'gather_facts': False,
             'roles': [{'role': 'san.iscsi.snapshot_automount'}]}], {
        'snapshot_automount_state': state, 'snapshot_automount_san_host': 'san',
        'snapshot_automount_target_iqn': IQN, 'snapshot_automount_portals': '{{ lab_portals }}',
        'snapshot_automount_volume': 'labvg/pool',
        'snapshot_automount_label': PREFIX + 'am', 'snapshot_automount_mount_point': MOUNT_POINT}


MEASURE = r'''
key=%(key)s; mp=%(mp)s; state=/run/san-iscsi-automount
t0=$(date +%%s.%%N); ls "$mp/$key" >/dev/null; t1=$(date +%%s.%%N)
dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device"])' "$state/keys/$key.json")
read_cold=$(awk '{print $3}' "/sys/block/$dev/stat")
t2=$(date +%%s.%%N); ls "$mp/$key" >/dev/null; t3=$(date +%%s.%%N)
loop=$(losetup --find --show --read-only --direct-io=on "/dev/$dev")
fsck_n() {  # OPTIONS: sectors the disk delivered, seconds, e2fsck's exit status and its verdict line
  local before after t4 t5 rc=0 said
  before=$(awk '{print $3}' "/sys/block/$dev/stat")
  t4=$(date +%%s.%%N); said=$(e2fsck "$@" "$loop" 2>&1) || rc=$?; t5=$(date +%%s.%%N)
  after=$(awk '{print $3}' "/sys/block/$dev/stat")
  said=$(printf '%%s\n' "$said" | grep -m1 -E 'clean|Pass 5|skipping journal' | tr -d '"\\' || true)
  printf '{"sectors": %%d, "seconds": %%s, "rc": %%d, "said": "%%s"}' "$((after - before))" \
    "$(echo "$t5 - $t4" | awk '{print $1 - $3}')" "$rc" "$said"
}
seed=$(fsck_n -n)
forced=$(fsck_n -n -f)
losetup -d "$loop"
cold=$(echo "$t1 - $t0" | awk '{print $1 - $3}'); warm=$(echo "$t3 - $t2" | awk '{print $1 - $3}')
echo "{\"cold\": $cold, \"warm\": $warm, \"read_sectors\": $read_cold, \"seed\": $seed, \"forced\": $forced}"
'''


def mib(sectors):
    return sectors * 512 / 1048576.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default='1G,4G')
    parser.add_argument('--data-mib', type=int, default=64)
    args = parser.parse_args()
    sizes = [size.strip().upper() for size in args.sizes.split(',') if size.strip()]
    lab = Lab()
    plays, role_vars = role_plays('present')
    results = {}
    failed = False
    try:
        lab.playbook(source_plays(sizes, args.data_mib), {})
        lab.playbook(plays, role_vars)
        for size in sizes:
            key = '%s%s@%s%s_snap' % (PREFIX, size.lower(), PREFIX, size.lower())
            results[size] = json.loads(lab.ssh('host1', MEASURE % {'key': shlex.quote(key), 'mp': MOUNT_POINT}))
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        print('FAILED: %s' % exc, file=sys.stderr)
        failed = True
    finally:
        try:
            plays, role_vars = role_plays('absent')
            lab.playbook(plays, role_vars)
        except RuntimeError as exc:
            print('clean-up of the role failed: %s' % exc, file=sys.stderr)
            failed = True
        with open(CLEANUP) as script:
            cleanup = script.read()
        lab.ssh('san', 'python3 - --prefix %s --iqn %s <<\'EOF\'\n%s\nEOF\n' % (PREFIX, IQN, cleanup), check=False)
        lab.ssh('host1', 'rm -rf /mnt/%s*' % PREFIX, check=False)
    if results:
        print('%-6s %8s %8s %16s %22s %22s'
              % ('size', 'cold s', 'warm s', 'automount reads', 'seed fsck -n reads', 'fsck -n -f reads'))
        for size in sizes:
            if size in results:
                row = results[size]
                print('%-6s %8.2f %8.2f %12.2f MiB %12.2f MiB %5.2fs %12.2f MiB %5.2fs'
                      % (size, row['cold'], row['warm'], mib(row['read_sectors']), mib(row['seed']['sectors']),
                         row['seed']['seconds'], mib(row['forced']['sectors']), row['forced']['seconds']))
        for size in sizes:
            if size in results:
                for name in ('seed', 'forced'):
                    print('%s %s: e2fsck exit %d, %s' % (size, name, results[size][name]['rc'],
                                                         results[size][name]['said'] or '(no verdict line)'))
        print('goal: under 4 MiB read to mount, the same for every size (seed: autofs runs fsck -n before a read-only '
              'mount; -f: the full check it makes when one is due)')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
