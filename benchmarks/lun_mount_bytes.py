#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes read from a snapshot LUN to present and mount it, for a small and a large thin LUN.

Runs against the dev lab (`make lab-up`): on `san`, thin LVs of 1 GiB and 16 GiB get the same files and a
thin snapshot of each is exported as a LUN; `host1` logs in, and san.iscsi.lun_mount mounts each snapshot
(snapshot: true) and unmounts it. The kernel's read counters of the LUN (/sys/block/<dev>/stat, field 3,
512-byte sectors) give the bytes read by each phase:

  present   login, SCSI scan and udev's own probes, until `udevadm settle` returns
  mount     the module: probe, read-only flag, mount (ro, no journal replay)
  umount    the module: unmount

Times: the module's wall time as Ansible sees it (TCG guests: about 4 s of it is module start-up) and a
bare mount(8)/umount(8) of the same device with the same options. Everything created is removed at the end.

  .venv/bin/python benchmarks/lun_mount_bytes.py [--sizes 1G,16G] [--fstypes ext4,xfs]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INVENTORIES = (os.path.join(REPO, '.lab', 'inventory.yml'), os.path.join(REPO, '.lab', 'lab', 'inventory.yml'))
INVENTORY = next((path for path in INVENTORIES if os.path.exists(path)), INVENTORIES[0])
IQN = 'iqn.2026-11.lab.san-iscsi:lmbench'
PORTAL = '10.10.1.1'
MOUNT_ROOT = '/mnt/lmbench'
SAFE = {'ext4': 'ro,nosuid,nodev,noexec,noload', 'xfs': 'ro,nosuid,nodev,noexec,norecovery,nouuid'}
EXPORT = os.path.join(REPO, 'tests', 'integration', 'targets', 'lun_mount', 'files', 'lio_export.py')


def load_inventory():
    import yaml
    with open(INVENTORY) as handle:
        data = yaml.safe_load(handle)
    lab = data['all']['children']['lab']
    hosts = {}
    for group in lab['children'].values():
        hosts.update(group['hosts'])
    return lab['vars'], hosts


class Lab(object):
    def __init__(self):
        self.vars, self.hosts = load_inventory()

    def ssh(self, host, script, check=True, stdin=None):
        """Run SCRIPT with bash on HOST (stdin: STDIN); return its stdout."""
        argv = ['ssh', '-q', '-i', self.vars['ansible_ssh_private_key_file'], '-p', str(self.hosts[host]['ansible_port']),
                '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
                '-o', 'BatchMode=yes', 'root@127.0.0.1', 'bash -euo pipefail -c %s' % shlex.quote(script)]
        proc = subprocess.run(argv, input=stdin or '', capture_output=True, text=True, timeout=1800, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError('%s failed (%d): %s\n%s' % (host, proc.returncode, script, proc.stderr))
        return proc.stdout

    def module(self, host, args):
        """Run san.iscsi.lun_mount on HOST through Ansible; return (result, seconds)."""
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, '.build', 'live'),
                   ANSIBLE_STDOUT_CALLBACK='minimal', ANSIBLE_LOAD_CALLBACK_PLUGINS='1', ANSIBLE_HOST_KEY_CHECKING='0',
                   ANSIBLE_NOCOLOR='1')
        argv = [os.path.join(REPO, '.venv', 'bin', 'ansible'), host, '-i', INVENTORY, '-m', 'san.iscsi.lun_mount',
                '-a', json.dumps(args)]
        start = time.monotonic()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, check=False)
        elapsed = time.monotonic() - start
        head, sep, body = proc.stdout.partition(' => ')  # minimal callback: "host1 | CHANGED => {...}"
        if not sep:
            raise RuntimeError('lun_mount gave no result: %s %s' % (proc.stdout, proc.stderr))
        result = json.loads(body)
        if result.get('failed') or 'FAILED' in head:
            raise RuntimeError('lun_mount failed: %s' % result.get('msg'))
        return result, elapsed


def read_sectors(lab, device):
    name = os.path.basename(device)
    return int(lab.ssh('host1', 'cat /sys/block/%s/stat\n' % name).split()[2])


def prepare_san(lab, sizes, fstypes):
    """Target and ACL (fixture), thin LVs with the same files, a thin snapshot of each exported as a LUN.

    The LVs are made here rather than by the fixture: LIO opens its backstores exclusively, so a filesystem
    cannot be built on an exported LV.
    """
    with open(os.path.join(REPO, 'tests', 'integration', 'support', 'lio_fixture.py')) as handle:
        lab.ssh('san', 'cat > /root/lmbench_fixture.py', stdin=handle.read())
    with open(EXPORT) as handle:
        lab.ssh('san', 'cat > /root/lmbench_export.py', stdin=handle.read())
    initiator = lab.hosts['host1']['lab_initiator_name']
    lab.ssh('san', 'python3 /root/lmbench_fixture.py setup --iqn %s --portal %s --acl %s >/dev/null'
            % (IQN, PORTAL, initiator))
    # the same files on every LUN: one tarball, unpacked into each filesystem
    lab.ssh('san', 'mkdir -p /root/lmbench_src && cd /root/lmbench_src && '
                   'for i in $(seq 1 40); do head -c 262144 /dev/urandom > f$i; done && '
                   'cp -a /usr/share/doc . && tar -C /root/lmbench_src -cf /root/lmbench.tar .')
    snapshots = []
    for fstype in fstypes:
        for size in sizes:
            name = 'lmb_%s%s' % (fstype, size.lower())
            snap = name + '_snap'
            lun = 100 + len(snapshots)
            mkfs = 'mkfs.ext4 -q -E lazy_itable_init=1,lazy_journal_init=1' if fstype == 'ext4' else 'mkfs.xfs -q -f'
            snapshots.append({'lun': lun, 'name': name, 'fstype': fstype, 'snap': snap,
                              'size': int(size[:-1]) << {'M': 20, 'G': 30}[size[-1].upper()]})
            lab.ssh('san', 'lvcreate -q --thin -V %s -n %s labvg/pool >/dev/null && %s /dev/labvg/%s && '
                           'mkdir -p /mnt/lmb && mount /dev/labvg/%s /mnt/lmb && '
                           'tar -C /mnt/lmb -xf /root/lmbench.tar && umount /mnt/lmb && '
                           'lvcreate -q -s -kn -n %s labvg/%s >/dev/null && '
                           'python3 /root/lmbench_export.py add --iqn %s --lun %d --name %s --dev /dev/labvg/%s '
                           '--acl %s >/dev/null'
                    % (size, name, mkfs, name, name, snap, name, IQN, lun, snap, snap, initiator))
    return snapshots


def teardown_san(lab, snapshots):
    for snap in snapshots:
        lab.ssh('san', 'python3 /root/lmbench_export.py remove --iqn %s --lun %d --name %s >/dev/null || true; '
                       'lvremove -q -f labvg/%s labvg/%s >/dev/null 2>&1 || true'
                % (IQN, snap['lun'], snap['snap'], snap['snap'], snap['name']), check=False)
    lab.ssh('san', 'python3 /root/lmbench_fixture.py teardown --iqn %s >/dev/null || true; '
                   'umount /mnt/lmb 2>/dev/null || true; '
                   'rm -rf /root/lmbench_src /root/lmbench.tar /root/lmbench_fixture.py /root/lmbench_export.py '
                   '/mnt/lmb' % IQN, check=False)


def by_path(lun):
    return '/dev/disk/by-path/ip-%s:3260-iscsi-%s-lun-%d' % (PORTAL, IQN, lun)


def measure(lab, snap):
    link = by_path(snap['lun'])
    device = lab.ssh('host1', 'udevadm settle; readlink -f %s\n' % link).strip()
    present = read_sectors(lab, device)
    mountpoint = '%s/%s' % (MOUNT_ROOT, snap['name'])
    before = read_sectors(lab, device)
    result, mount_seconds = lab.module('host1', {'path': mountpoint, 'device': link, 'snapshot': True})
    after_mount = read_sectors(lab, device)
    _result, umount_seconds = lab.module('host1', {'path': mountpoint, 'state': 'unmounted'})
    after_umount = read_sectors(lab, device)
    bare = lab.ssh('host1', 'drop() { echo 3 > /proc/sys/vm/drop_caches; }; drop; '
                            's=$(date +%%s.%%N); mount -t %s -o %s %s %s; m=$(date +%%s.%%N); umount %s; '
                            'u=$(date +%%s.%%N); echo "$s $m $u"\n'
                   % (snap['fstype'], SAFE[snap['fstype']], device, mountpoint, mountpoint)).split()
    return {
        'name': snap['name'], 'fstype': snap['fstype'], 'size': snap['size'], 'device': device,
        'present_bytes': present * 512, 'mount_bytes': (after_mount - before) * 512,
        'umount_bytes': (after_umount - after_mount) * 512, 'module_mount_s': mount_seconds,
        'module_umount_s': umount_seconds, 'bare_mount_s': float(bare[1]) - float(bare[0]),
        'bare_umount_s': float(bare[2]) - float(bare[1]), 'read_only': result.get('read_only'),
        'options': ','.join(result.get('options') or []),
    }


def mib(value):
    return '%.2f MiB' % (value / 1048576.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', default='1G,16G')
    parser.add_argument('--fstypes', default='ext4,xfs')
    args = parser.parse_args()
    lab = Lab()
    sizes = args.sizes.split(',')
    fstypes = args.fstypes.split(',')
    snapshots = []
    rows = []
    try:
        snapshots = prepare_san(lab, sizes, fstypes)
        lab.ssh('host1', 'iscsiadm -m node -o new -T %s -p %s:3260 >/dev/null && '
                         'iscsiadm -m node -T %s -p %s:3260 --login >/dev/null && udevadm settle && mkdir -p %s\n'
                % (IQN, PORTAL, IQN, PORTAL, MOUNT_ROOT))
        for snap in snapshots:
            lab.ssh('host1', 'for i in $(seq 1 100); do [ -e %s ] && break; sleep 0.2; done; udevadm settle\n'
                    % by_path(snap['lun']))
            rows.append(measure(lab, snap))
    finally:
        lab.ssh('host1', 'for m in %s/*; do mountpoint -q "$m" && umount "$m"; done; '
                         'iscsiadm -m node -T %s -p %s:3260 --logout >/dev/null 2>&1; '
                         'iscsiadm -m node -o delete -T %s -p %s:3260 >/dev/null 2>&1; rm -rf %s; true\n'
                % (MOUNT_ROOT, IQN, PORTAL, IQN, PORTAL, MOUNT_ROOT), check=False)
        teardown_san(lab, snapshots)
    print('%-10s %-5s %8s %14s %14s %14s %10s %10s %10s %10s' % (
        'lun', 'fs', 'size', 'present', 'module mount', 'module umount', 'mod mnt s', 'mod umnt s', 'mount(8) s',
        'umount s'))
    for row in rows:
        print('%-10s %-5s %8s %14s %14s %14s %10.2f %10.2f %10.3f %10.3f' % (
            row['name'], row['fstype'], '%d GiB' % (row['size'] >> 30), mib(row['present_bytes']),
            mib(row['mount_bytes']), mib(row['umount_bytes']), row['module_mount_s'], row['module_umount_s'],
            row['bare_mount_s'], row['bare_umount_s']))
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
