#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: playbooks/migrate.yml against a hand-written playbook doing the seed's 15 steps ("Moving
targets (disks) from one host to another") as command tasks, plus the SAN remap, in the same lab run.

  .venv/bin/python benchmarks/migrate_playbook.py [--inventory .lab/inventory.yml] [--rounds 1]
      [--strategy mitogen|stock ...] [--keep-output DIR]

--keep-output writes each playbook run's output to DIR; with a timing callback enabled (for example
ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks) that is where each task's time is.

Needs the dev lab (`make lab-up`). One VG on two LUNs, each seen by host1 over both portals through a
multipath map, XFS and ext4 LVs with data, is made once (by the lvm_migrate test's setup tasks). Each round
moves it host1 -> host2 with migrate.yml, then host2 -> host1 with the hand-written playbook, both with the
same ansible-playbook, under each strategy the lab knows (stock ssh, then Mitogen), and counts module calls
(task results on the lab hosts, one per loop item). The hand-written playbook checks nothing, carries no fstab entry, flushes no multipath map and has no
rollback, as the seed's procedure; migrate.yml does all of that. Prints a table (with the CPU time each run
cost the controller and each guest's QEMU process: under TCG the guests' CPU, on the machine's cores, bounds
the wall time, so each run's CPU floor is that CPU spread over every core), then each pair's ratios: wall, CPU,
and migrate.yml's CPU floor against the seed's wall (above 1, no ordering of migrate.yml's steps could match the
seed's steps on this machine); exits 1 when a run fails.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402  pylint: disable=wrong-import-position
from callback_plugins import task_times  # noqa: E402  pylint: disable=wrong-import-position

TASKS = REPO / "tests" / "integration" / "targets" / "lvm_migrate" / "tasks"
IQN = "iqn.2026-12.lab.san-iscsi:lmg-bench"
VG, ROOT, PREFIX = "lmgbench", "/mnt/lmg_bench", "lio_lmgb_"
RESULT_RE = re.compile(r"^(ok|changed|failed|fatal): \[(?:localhost -> )?(san|host1|host2)[\](]", re.M)

VARS = """
lmg_iqn: %(iqn)s
lmg_vg: %(vg)s
lmg_root: %(root)s
lmg_prefix: %(prefix)s
lmg_san: {target: %(iqn)s, portals: "{{ lab_portals }}"}
"""

SETUP = """
- name: Benchmark VG on host1
  hosts: localhost
  gather_facts: false
  vars_files: [%(tmp)s/vars.yml]
  tasks:
    - name: Setup
      ansible.builtin.include_tasks: %(tasks)s/setup.yml
    - name: The map names, for the clean-up
      ansible.builtin.copy:
        content: "{{ {'lmg_mpath_names': lmg_mpath_names} | to_json }}"
        dest: "%(tmp)s/maps.json"
        mode: "0644"
"""

# Between rounds, not timed, so that every round moves the same thing from the same hosts:
# - host1's fstab lines as before the round (migrate.yml commented them out on host1 and wrote its own on host2;
#   the seed's steps carry none back);
# - host2 without the multipath maps the seed's logout left (it flushes none): a map left without paths keeps
#   queueing I/O until multipathd gives up (12 checker intervals, 60 s in the lab), and every LVM scan on host2
#   waits on it until then, which the next round's migrate.yml would pay in its destination check (22 s once).
RESET = """
- name: Benchmark reset
  hosts: host1,host2
  gather_facts: false
  vars_files: [%(tmp)s/maps.json]
  tasks:
    - name: host1 - the VG's fstab lines back; host2 - none of them, and no map left without paths
      ansible.builtin.shell:
        cmd: |
          set -euo pipefail
          {%% if inventory_hostname == 'host1' %%}
          sed -i 's|^# san.iscsi lvm_migrate moved to [^:]*: \\(.* %(root)s/.*\\)$|\\1|' /etc/fstab
          {%% else %%}
          sed -i '\\#^[^#].* %(root)s/#d' /etc/fstab
          for map in {{ lmg_mpath_names | join(' ') }}; do
            dmsetup info "$map" >/dev/null 2>&1 || continue
            dmsetup message "$map" 0 fail_if_no_path || true  # gone meanwhile: checked below
            for _try in 1 2 3 4 5 6 7 8 9 10; do
              if ! dmsetup info "$map" >/dev/null 2>&1 || timeout 30 multipath -f "$map"; then break; fi
              sleep 1
            done
            if dmsetup info "$map" >/dev/null 2>&1; then echo "$map: still there" >&2; exit 1; fi
          done
          {%% endif %%}
          systemctl daemon-reload
        executable: /bin/bash
      changed_when: true
"""

CLEANUP = """
- name: Benchmark clean-up
  hosts: localhost
  gather_facts: false
  vars_files: [%(tmp)s/vars.yml, %(tmp)s/maps.json]
  tasks:
    - name: Cleanup
      ansible.builtin.include_tasks: %(tasks)s/cleanup.yml
"""

# The seed's procedure as a storage admin would write it down, host2 -> host1 (the VG is on host2 after
# migrate.yml). Step numbers are the seed's; its step 9 (vgcfgrestore onto the PVs) is left out, as it would
# write the metadata of a VG that is intact.
PEER = r"""
- name: Old host
  hosts: host2
  gather_facts: false
  tasks:
    - name: 1. Unmount the LVs
      ansible.builtin.command: umount %(root)s/xfs %(root)s/ext4
      changed_when: true
    - name: 2. Back up the VG metadata
      ansible.builtin.command: vgcfgbackup -f /root/%(vg)s.backup %(vg)s
      changed_when: true
    - name: 3. Deactivate the VG
      ansible.builtin.command: vgchange -an %(vg)s
      changed_when: true
    - name: 4. Export the VG
      ansible.builtin.command: vgexport %(vg)s
      changed_when: true
    - name: 5. Log out from the target
      ansible.builtin.command: iscsiadm -m node -T %(iqn)s -u
      changed_when: true
    - name: The backup to the controller
      ansible.builtin.fetch: {src: "/root/%(vg)s.backup", dest: "%(tmp)s/%(vg)s.backup", flat: true}

- name: SAN remap
  hosts: san
  gather_facts: false
  tasks:
    - name: Unmap from the old host, map to the new host with the same LUN ids
      ansible.builtin.command:
        argv:
          - python3
          - -c
          - |
            import rtslib_fb as r
            tpg = r.TPG(r.Target(r.FabricModule('iscsi'), '%(iqn)s', mode='lookup'), 1, mode='lookup')
            acls = dict((acl.node_wwn, acl) for acl in tpg.node_acls)
            old, new = acls['%(host2_iqn)s'], acls['%(host1_iqn)s']
            for mapped in list(old.mapped_luns):
                lun, mapped_id = mapped.tpg_lun, mapped.mapped_lun
                mapped.delete()
                r.MappedLUN(new, mapped_id, lun)
      changed_when: true

- name: New host
  hosts: host1
  gather_facts: false
  tasks:
    - name: 6. Scan the targets
      ansible.builtin.command: iscsiadm -m discovery -t sendtargets -p %(portal_a)s
      changed_when: true
    - name: 6. Scan the targets (second portal)
      ansible.builtin.command: iscsiadm -m discovery -t sendtargets -p %(portal_b)s
      changed_when: true
    - name: 7. Log in to the target
      ansible.builtin.command: iscsiadm -m node -T %(iqn)s -l
      changed_when: true
    - name: Wait for the disks
      ansible.builtin.command: udevadm settle
      changed_when: false
    - name: The backup from the controller
      ansible.builtin.copy: {src: "%(tmp)s/%(vg)s.backup", dest: "/root/%(vg)s.backup", mode: "0600"}
    - name: 8. Check the VG backup file
      ansible.builtin.command: vgcfgrestore --list -f /root/%(vg)s.backup %(vg)s
      changed_when: false
    - name: 10. Scan for the VGs
      ansible.builtin.command: vgscan
      changed_when: false
    - name: 11. Scan for the PVs
      ansible.builtin.command: pvscan
      changed_when: false
    - name: 12. Import the VG
      ansible.builtin.command: vgimport %(vg)s
      changed_when: true
    - name: 13. Activate the VG
      ansible.builtin.command: vgchange -ay %(vg)s
      changed_when: true
    - name: 14. Check that all LVs are present
      ansible.builtin.command: lvs %(vg)s
      changed_when: false
    - name: 15. Mount the LVs
      ansible.builtin.command: mount -o noatime /dev/%(vg)s/{{ item }} %(root)s/{{ item }}
      loop: [xfs, ext4]
      changed_when: true
"""


def guest_pids(inventory):
    """The QEMU process of each lab guest (the dev lab's state file beside the inventory), or {}."""
    state = Path(inventory).resolve().parent / "lab" / "state.json"
    try:
        pids = json.loads(state.read_text())["pids"]
    except (OSError, ValueError, KeyError):
        return {}
    return dict((name, pid) for name, pid in pids.items() if name in ("san", "host1", "host2"))


def cpu_seconds(pid):
    """User plus system CPU time of process PID, 0.0 when it cannot be read (the timing callback's reading)."""
    return task_times.cpu_seconds(pid) or 0.0


def play(inventory, path, env, extra=None):
    """Run a playbook: rc, wall seconds, output, module calls, and the CPU seconds it cost the controller
    (ansible-playbook and its children) and the lab's guests (their QEMU processes) meanwhile."""
    argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(path)]
    argv += ["-e", "@" + str(extra)] if extra else []
    guests = guest_pids(inventory)
    guests_before = dict((name, cpu_seconds(pid)) for name, pid in guests.items())
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dict(rc=proc.returncode, seconds=seconds, output=proc.stdout + proc.stderr,
                calls=len(RESULT_RE.findall(proc.stdout)),
                controller_cpu=after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime,
                guest_cpu=dict((name, cpu_seconds(pid) - guests_before[name]) for name, pid in guests.items()))


def checksums(inventory, host, env):
    """sha256 of the data file on each LV, as the host sees them now."""
    argv = [str(REPO / ".venv" / "bin" / "ansible"), "-i", str(inventory), host, "-m", "ansible.builtin.shell",
            "-a", "cd %s && sha256sum xfs/data ext4/data" % ROOT]
    proc = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    return sorted(line.split()[0] for line in proc.stdout.splitlines() if re.match(r"^[0-9a-f]{64} ", line))


def move_both_ways(inventory, workdir, strategy, before, rows, keep_output=None):
    """host1 -> host2 with migrate.yml, host2 -> host1 with the seed's steps; appends to ROWS; True on failure."""
    env = labctl.ansible_env(workdir, strategy)
    env["SAN_ISCSI_LAB_GUEST_PIDS"] = json.dumps(guest_pids(inventory))  # the task times say each guest's CPU too
    for label, path, extra, host in (
            ("migrate.yml (san.iscsi)", REPO / "playbooks" / "migrate.yml", workdir / "ours.json", "host2"),
            ("seed's 15 steps (command)", workdir / "peer.yml", None, "host1")):
        result = play(inventory, path, env, extra)
        result["same_data"] = result["rc"] == 0 and checksums(inventory, host, env) == before
        rows.append(("%s, %s" % (label, strategy), result))
        if keep_output:
            name = "%02d-%s-%s.log" % (len(rows), strategy, "ours" if extra else "seed")
            (Path(keep_output) / name).write_text(result["output"])
        if result["rc"] != 0 or not result["same_data"]:
            print(result["output"][-3000:])
            return True
    reset = play(inventory, workdir / "reset.yml", env)
    if reset["rc"] != 0:
        print(reset["output"][-3000:])
        return True
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(REPO / ".lab" / "inventory.yml"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--keep-output", metavar="DIR",
                        help="write each playbook run's output to DIR (with a timing callback enabled, the per-task times)")
    parser.add_argument("--strategy", action="append", choices=labctl.STRATEGIES,
                        help="run under this strategy only (repeatable; default: all of them)")
    args = parser.parse_args(argv)
    if args.keep_output:
        Path(args.keep_output).mkdir(parents=True, exist_ok=True)
    inventory = json.loads(Path(args.inventory).read_text())
    hosts = inventory["all"]["children"]["lab"]["children"]["initiators"]["hosts"]
    portals = inventory["all"]["vars"]["lab_portals"]
    with tempfile.TemporaryDirectory(prefix="migrate-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "cp").mkdir()
        (workdir / "tmp").mkdir()
        env = labctl.ansible_env(workdir, "stock")
        fill = dict(iqn=IQN, vg=VG, root=ROOT, prefix=PREFIX, tasks=TASKS, tmp=workdir, portal_a=portals[0],
                    portal_b=portals[1], host1_iqn=hosts["host1"]["lab_initiator_name"],
                    host2_iqn=hosts["host2"]["lab_initiator_name"])
        for name, text in (("vars.yml", VARS), ("setup.yml", SETUP), ("cleanup.yml", CLEANUP), ("peer.yml", PEER),
                           ("reset.yml", RESET)):
            (workdir / name).write_text(text % fill)
        (workdir / "maps.json").write_text('{"lmg_mpath_names": []}')
        (workdir / "ours.json").write_text(json.dumps(dict(
            lvm_migrate_vg=VG, lvm_migrate_source="host1", lvm_migrate_destination="host2",
            lvm_migrate_san=dict(target=IQN, portals=portals), lvm_migrate_san_host="san",
            lvm_migrate_backup_dir=str(workdir))))
        rows, failed = [], False
        try:
            setup = play(args.inventory, workdir / "setup.yml", env)
            if setup["rc"] != 0:
                print(setup["output"][-3000:])
                return 1
            before = checksums(args.inventory, "host1", env)
            for _round in range(args.rounds):
                for strategy in args.strategy or labctl.STRATEGIES:
                    failed = move_both_ways(args.inventory, workdir, strategy, before, rows, args.keep_output)
                    if failed:
                        break
                if failed:
                    break
        finally:
            play(args.inventory, workdir / "cleanup.yml", env)
    print_table(rows)
    return 1 if failed else 0


def cpu_floor(result, cores):
    """The shortest wall time the run's CPU allows: all the CPU it cost (controller and guests) spread over every
    core of the machine. Under TCG the guests' vCPUs run on those cores, so no ordering of the steps beats it."""
    return (result["controller_cpu"] + sum(result["guest_cpu"].values())) / cores


def print_table(rows, cores=None):
    """One line per run, then the ratios of each pair (migrate.yml and the seed's steps run right after it): wall,
    CPU, and migrate.yml's CPU floor against the seed's wall. CORES: the cores this process may run on."""
    cores = cores or len(os.sched_getaffinity(0))
    print("%-38s %10s %13s %4s %10s %16s  %-32s %s" % (
        "playbook, strategy", "wall (s)", "module calls", "rc", "same data", "controller CPU s",
        "guests' CPU s (san host1 host2)", "CPU floor (s, %d cores)" % cores))
    for label, result in rows:
        same = "yes" if result["same_data"] else "no"
        guests = result["guest_cpu"]
        each_guest = " ".join("%.1f" % guests.get(name, 0.0) for name in ("san", "host1", "host2"))
        print("%-38s %10.1f %13d %4d %10s %16.1f  %-32s %.1f" % (
            label, result["seconds"], result["calls"], result["rc"], same, result["controller_cpu"],
            "%.1f (%s)" % (sum(guests.values()), each_guest), cpu_floor(result, cores)))
    pairs = [(ours, seed) for (_l1, ours), (_l2, seed) in zip(rows[0::2], rows[1::2])]
    for number, (ours, seed) in enumerate(pairs, 1):
        print("pair %d: migrate.yml / the seed's steps: wall %.2f, CPU %.2f; migrate.yml's CPU floor / the seed's "
              "wall %.2f" % (number, ours["seconds"] / seed["seconds"], cpu_floor(ours, cores) / cpu_floor(seed, cores),
                             cpu_floor(ours, cores) / seed["seconds"]))


if __name__ == "__main__":
    sys.exit(main())
