#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: a big file restored across hosts by playbooks/restore.yml (transfer direct) against a plain
`tar | ssh` pipe between the same two hosts, in the same lab run.

  .venv/bin/python benchmarks/restore_big.py [--inventory .lab/inventory.yml] [--mib 1024]

Needs the dev lab (`make lab-up`). A source LUN whose data/big.bin has MIB MiB of random data is made and
snapshotted (the snapshot_browse test tasks); restore.yml restores data/big.bin from the snapshot through host2
(browse host) to host1. The pipe sends the same file to host1 with `tar -cf - | ssh host1 tar -xf -` (a key
made for the benchmark, removed after), read from the same snapshot mounted on host2 by playbooks/browse.yml
(a clone of its own, read cold, released after), and, for scale, from a local file of the same size on host2.
Printed side by side:
- the copy's throughput: restore.yml's own "done in S s" (the rsync from host2 to host1's staging directory)
  and its whole wall time, against the pipe's;
- the most space used during the run, sampled every second: on host1's /var/tmp and /srv filesystem, and in
  the controller's temporary directory (nothing of the data should land there).
Exits 1 when a run fails.
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import restore_playbook as rp  # noqa: E402  pylint: disable=wrong-import-position

LUN, SNAP, PREFIX = "lio_sbtg_data", "lio_sbtg_snap", "lio_sbtg_"
IQN = "iqn.2026-11.lab.san-iscsi:sbt-big"
DONE_RE = re.compile(r'host2 -> host1: done in ([0-9.]+) s')


def ssh_argv(inventory, host, command):
    lab = inventory["all"]["children"]["lab"]
    common = lab["vars"]
    hostvars = {**lab["children"]["storage"]["hosts"], **lab["children"]["initiators"]["hosts"]}[host]
    return (["ssh", "-p", str(hostvars["ansible_port"]), "-i", common["ansible_ssh_private_key_file"]]
            + common["ansible_ssh_common_args"].split() + ["root@" + common["ansible_host"], command])


def on(inventory, host, command, timeout=1800):
    proc = subprocess.run(ssh_argv(inventory, host, command), capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s: %s failed (%d): %s" % (host, command, proc.returncode, proc.stderr[-2000:]))
    return proc.stdout


class SpaceSampler(threading.Thread):
    """Samples, every second until stopped, the bytes used on host1's filesystem and in a controller directory;
    keeps the highest of each above the first sample."""

    def __init__(self, inventory, controller_dir):
        super().__init__(daemon=True)
        self.inventory, self.controller_dir = inventory, controller_dir
        self.stopped = threading.Event()
        self.base = self.peak = None
        self.controller_peak = 0

    def sample(self):
        used = int(on(self.inventory, "host1", "df -B1 --output=used /var/tmp | tail -n1", timeout=30))
        controller = sum(p.stat().st_size for p in Path(self.controller_dir).rglob("*") if p.is_file())
        return used, controller

    def run(self):
        while not self.stopped.is_set():
            try:
                used, controller = self.sample()
            except (RuntimeError, subprocess.TimeoutExpired, OSError):
                continue
            if self.base is None:
                self.base = self.peak = used
            self.peak = max(self.peak, used)
            self.controller_peak = max(self.controller_peak, controller)
            self.stopped.wait(1)


def pipe(inventory, mib, source_dir):
    """Seconds for `tar | ssh` of SOURCE_DIR/data/big.bin from host2 to host1 (the key exists only for this);
    SOURCE_DIR None: a local file of MIB MiB of random data."""
    on(inventory, "host2", "rm -rf /var/tmp/bench-pipe && mkdir -p /var/tmp/bench-pipe/data && "
       "ssh-keygen -q -t ed25519 -N '' -C bench-pipe -f /var/tmp/bench-pipe/key")
    if source_dir is None:
        on(inventory, "host2", "head -c %dM /dev/urandom > /var/tmp/bench-pipe/data/big.bin && sync" % mib)
        source_dir = "/var/tmp/bench-pipe"
    public = on(inventory, "host2", "cat /var/tmp/bench-pipe/key.pub").strip()
    on(inventory, "host1", "mkdir -p /root/.ssh /srv/sbtg_pipe && echo '%s' >> /root/.ssh/authorized_keys" % public)
    try:
        out = on(inventory, "host2",
                 "start=$(date +%%s.%%N); tar -C %s -cf - data/big.bin | ssh -i /var/tmp/bench-pipe/key "
                 "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes root@host1 "
                 "'tar -C /srv/sbtg_pipe -xf -' && echo $(date +%%s.%%N) $start" % source_dir)
        end, start = (float(x) for x in out.split())
        return end - start
    finally:
        on(inventory, "host1", "sed -i '/ bench-pipe$/d' /root/.ssh/authorized_keys; rm -rf /srv/sbtg_pipe")
        on(inventory, "host2", "rm -rf /var/tmp/bench-pipe")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(rp.REPO / ".lab" / "inventory.yml"))
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args(argv)
    inventory = json.loads(Path(args.inventory).read_text())
    hosts = inventory["all"]["children"]["lab"]["children"]["initiators"]["hosts"]
    portal = inventory["all"]["vars"]["lab_portals"][0]
    ours_bin = str(rp.REPO / ".venv" / "bin" / "ansible-playbook")
    with tempfile.TemporaryDirectory(prefix="restore-big-") as tmp:
        workdir = Path(tmp)
        for sub in ("cp", "tmp"):
            (workdir / sub).mkdir()
        env = rp.ours_env(workdir)
        env["TMPDIR"] = str(workdir / "tmp")
        fill = dict(iqn=IQN, prefix=PREFIX, lun=LUN, snap=SNAP, repo=rp.REPO)
        setup = rp.SETUP.replace("sbt_kind: ext4,", "sbt_kind: ext4, sbt_big_mib: %d, sbt_size: %dM,"
                                 % (args.mib, args.mib + 256))
        (workdir / "setup.yml").write_text(setup % fill)
        (workdir / "cleanup.yml").write_text(rp.CLEANUP.replace("/srv/sbtb_ours", "/srv/sbtg_ours") % fill)
        (workdir / "ours.json").write_text(json.dumps(rp.restore_vars(
            IQN, LUN, SNAP, portal, hosts["host2"]["lab_initiator_name"], ["data/big.bin"], "/srv/sbtg_ours",
            snapshot_browse_transfer="direct")))
        setup_run = rp.play(ours_bin, args.inventory, workdir / "setup.yml", env)
        if setup_run["rc"] != 0:
            print(setup_run["output"][-3000:])
            return 1
        try:
            sampler = SpaceSampler(inventory, workdir / "tmp")
            sampler.start()
            ours = rp.play(ours_bin, args.inventory, rp.REPO / "playbooks" / "restore.yml", env,
                           workdir / "ours.json")
            sampler.stopped.set()
            sampler.join(30)
            if ours["rc"] != 0:
                print(ours["output"][-3000:])
                return 1
            progress_lines = re.findall(r'"msg": "(host2 -> host1: [^"]*)"', ours["output"])
            copy_seconds = float(DONE_RE.search(ours["output"]).group(1))
            browse = rp.play(ours_bin, args.inventory, rp.REPO / "playbooks" / "browse.yml", env,
                             workdir / "ours.json")
            if browse["rc"] != 0:
                print(browse["output"][-3000:])
                return 1
            try:
                pipe_seconds = pipe(inventory, args.mib, "/mnt/snapshots/labvg_pool/" + SNAP)
            finally:
                rp.play(ours_bin, args.inventory, rp.REPO / "playbooks" / "release.yml", env, workdir / "ours.json")
            local_pipe_seconds = pipe(inventory, args.mib, None)
        finally:
            rp.play(ours_bin, args.inventory, workdir / "cleanup.yml", env)
    mib = float(args.mib)
    print("%d MiB of random data, host2 -> host1 (lab, TCG)" % args.mib)
    print("%-44s %10s %10s" % ("what", "seconds", "MiB/s"))
    print("%-44s %10.1f %10.1f" % ("tar | ssh pipe, from the mounted snapshot", pipe_seconds, mib / pipe_seconds))
    print("%-44s %10.1f %10.1f" % ("tar | ssh pipe, from a local file", local_pipe_seconds,
                                   mib / local_pipe_seconds))
    print("%-44s %10.1f %10.1f" % ("restore.yml direct: the copy (rsync over SSH)", copy_seconds,
                                   mib / copy_seconds))
    print("%-44s %10.1f %10.1f" % ("restore.yml direct: whole run", ours["seconds"], mib / ours["seconds"]))
    print("copy throughput against the pipe from the snapshot: %.2f" % (pipe_seconds / copy_seconds))
    print("progress lines in the play: %d (first: %s)" % (len(progress_lines), progress_lines[:1]))
    print("most extra space used on host1 (/var/tmp and /srv, one filesystem): %.0f MiB (the data: %d MiB)"
          % ((sampler.peak - sampler.base) / 2.0 ** 20, args.mib))
    print("most space used in the controller's temporary directory (Ansible's own files; no data): %d bytes"
          % sampler.controller_peak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
