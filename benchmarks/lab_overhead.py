#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: what one Ansible task costs on a lab guest, stock Ansible against Mitogen, in one run.

  .venv/bin/python benchmarks/lab_overhead.py [--inventory .lab/inventory.yml] [--tasks 10] [--host host1]

Needs the dev lab (`make lab-up`). For each kind of task (`command: true`, `san.iscsi.iscsi_info`, and a
`san.iscsi.session` that has nothing to do) and each strategy, it runs two playbooks against one host guest:
one with a single task (connection set-up and playbook start) and one with that task plus N more. The cost of
one task is the difference of their wall times divided by N. Strategies alternate per kind, so both see the
same lab state. Prints a table; exits 1 when a playbook fails.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402  pylint: disable=wrong-import-position

KINDS = {
    "command: true": {"ansible.builtin.command": {"argv": ["true"]}, "changed_when": False},
    "san.iscsi.iscsi_info": {"san.iscsi.iscsi_info": {}},
    "san.iscsi.session (no-op)": {"san.iscsi.session": {
        "target": "iqn.2026-11.lab.san-iscsi:bench-none", "state": "logged_out"}},
}


def playbook(host, task, count):
    tasks = [dict(task, name="Task %d" % index) for index in range(count)]
    return [{"name": "Per-task cost", "hosts": host, "gather_facts": False, "tasks": tasks}]


def timed_run(inventory, workdir, strategy, plays):
    path = Path(tempfile.mkstemp(suffix=".yml", dir=workdir)[1])
    path.write_text(json.dumps(plays))
    env = labctl.ansible_env(workdir, strategy)
    start = time.monotonic()
    proc = subprocess.run([labctl.playbook_bin(), "-i", str(inventory), str(path)], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-3000:] + proc.stderr[-2000:])
        raise SystemExit("playbook failed under %s" % strategy)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(REPO / ".lab" / "inventory.yml"))
    parser.add_argument("--tasks", type=int, default=10, help="N, the tasks measured per playbook")
    parser.add_argument("--host", default="host1")
    args = parser.parse_args()
    if not Path(args.inventory).exists():
        raise SystemExit("no inventory %s: `make lab-up` first" % args.inventory)
    workdir = Path(tempfile.mkdtemp(prefix="lab-overhead-"))
    (workdir / "tmp").mkdir()
    rows = []
    for kind, task in KINDS.items():
        per_task = {}
        for strategy in labctl.STRATEGIES:
            base = timed_run(args.inventory, workdir, strategy, playbook(args.host, task, 1))
            full = timed_run(args.inventory, workdir, strategy, playbook(args.host, task, args.tasks + 1))
            per_task[strategy] = (full - base) / args.tasks
            print("  %-28s %-8s 1 task %6.1f s, %d tasks %6.1f s" % (kind, strategy, base, args.tasks + 1, full),
                  flush=True)
        rows.append((kind, per_task["stock"], per_task["mitogen"]))
    print()
    print("%-28s %12s %12s %10s" % ("task (on %s)" % args.host, "stock s/task", "mitogen s/task", "mitogen/stock"))
    for kind, stock, mitogen in rows:
        print("%-28s %12.2f %14.2f %13.2f" % (kind, stock, mitogen, mitogen / stock if stock else float("nan")))
    print("ansible-playbook: %s; %d tasks per measurement" % (
        subprocess.run([labctl.playbook_bin(), "--version"], capture_output=True, text=True, check=False)
        .stdout.splitlines()[0], args.tasks))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
