#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch whether a VG is active on each of several lab hosts, on one clock, for the length of a migration.

  vg_poller.py --vg NAME --stop FILE --out FILE --max-seconds N HOST=SSH-ARGS...

One ssh session per host runs a loop that prints, every 0.1 s, how many device-mapper devices of the VG's LVs
the kernel has (from sysfs: no LVM command, so no lock is taken and nothing is slowed). This process stamps
each line with its own monotonic clock when it arrives, so all hosts share one clock. It stops when FILE
--stop exists or after --max-seconds, and writes JSON to --out: per host the number of samples and the
intervals during which the VG was active; and every moment at which the last sample of two or more hosts said
active (which must never happen). Test tooling, run on the lab's controller.
"""

import argparse
import json
import os
import select
import shlex
import subprocess
import time

REMOTE_LOOP = (
    "while :; do n=0; for f in /sys/block/dm-*/dm/name; do read -r name < \"$f\" 2>/dev/null || continue; "
    "case \"$name\" in {prefix}-*) n=$((n+1));; esac; done; echo \"$n\"; sleep 0.1; done"
)


def start(host_args, vg):
    name, ssh_args = host_args.split('=', 1)
    prefix = vg.replace('-', '--')
    argv = ['ssh', '-T'] + shlex.split(ssh_args) + [REMOTE_LOOP.format(prefix=prefix)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return name, proc


def watch(procs, stop_file, max_seconds):
    """Samples (time, host, active) in arrival order, until the stop file or the time limit."""
    samples = []
    buffers = dict((proc.stdout.fileno(), b'') for proc in procs.values())
    host_of = dict((proc.stdout.fileno(), name) for name, proc in procs.items())
    started = time.monotonic()
    while time.monotonic() - started < max_seconds and not os.path.exists(stop_file) and buffers:
        ready, _w, _x = select.select(list(buffers), [], [], 0.2)
        for fd in ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                del buffers[fd]
                continue
            now = time.monotonic() - started
            lines = (buffers[fd] + chunk).split(b'\n')
            buffers[fd] = lines.pop()
            for line in lines:
                if line.strip().isdigit():
                    samples.append((now, host_of[fd], int(line) > 0))
    return samples


def summarise(samples, hosts):
    last = dict((host, False) for host in hosts)
    intervals = dict((host, []) for host in hosts)
    counts = dict((host, 0) for host in hosts)
    overlaps = []
    for when, host, active in samples:
        counts[host] += 1
        if active and not last[host]:
            intervals[host].append([round(when, 2), None])
        elif not active and last[host]:
            intervals[host][-1][1] = round(when, 2)
        last[host] = active
        both = sorted(name for name, on in last.items() if on)
        if len(both) > 1:
            overlaps.append({'at': round(when, 2), 'hosts': both})
    return {'samples': counts, 'active': intervals, 'overlaps': overlaps,
            'seconds': round(samples[-1][0], 2) if samples else 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--vg', required=True)
    parser.add_argument('--stop', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--max-seconds', type=float, default=900)
    parser.add_argument('hosts', nargs='+', help='NAME=ssh arguments (destination included)')
    args = parser.parse_args()
    procs = dict(start(spec, args.vg) for spec in args.hosts)
    try:
        samples = watch(procs, args.stop, args.max_seconds)
    finally:
        for proc in procs.values():
            proc.kill()
            proc.wait()
    result = summarise(samples, list(procs))
    result['stopped_by'] = 'stop file' if os.path.exists(args.stop) else 'time limit or ssh end'
    with open(args.out + '.tmp', 'w') as handle:
        json.dump(result, handle)
    os.rename(args.out + '.tmp', args.out)


if __name__ == '__main__':
    main()
