#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: playbooks/restore.yml against a hand-written playbook doing the same restore with
community.general.open_iscsi, ansible.posix.mount and command tasks, and playbooks/versions.yml over five
snapshots against one restore.yml, in the same lab run.

  .venv/bin/python benchmarks/restore_playbook.py [--inventory .lab/inventory.yml] [--rounds 1]
      [--strategy stock|mitogen] [--core project|peer] [--peer-core peer|project] [--no-peer] [--no-versions]
      [--keep-output DIR]

Needs the dev lab (`make lab-up`). The peer playbook uses the collections of PyPI's `ansible` 11.x bundle
(ansible-core 2.18), installed into .build/bench-venv (created on first use, never into .venv), and runs on the
same ansible-core as restore.yml: the project's by default, the bundle's with --core peer. --peer-core peer runs
it on the bundle's ansible-core whatever --core says, which measures the two ansible-cores as much as the two
playbooks. One source LUN with a file tree and a snapshot is made once (by the snapshot_browse test tasks); each round restores one file
(data/tree/a.txt) from the snapshot through host2 to host1 with both playbooks, measures wall time and counts
module calls (task results on the lab hosts, one per loop item). The peer cleans up only when every step
works, as such playbooks usually do; restore.yml cleans up in any case. Then (unless --no-versions) four more
snapshots of the same LUN are taken and versions.yml looks at data/tree/a.txt in the five of them (five clones
at a time, compared with the restored copy on host1 as the live file). --strategy mitogen runs restore.yml and
versions.yml under Mitogen (the peer always runs under stock Ansible; --no-peer leaves it out). Prints a table
and the ratios; exits 1 when a run fails. --keep-output writes each playbook run's output to DIR; with a timing
callback enabled (for example ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks) that is where each task's
time is.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lab"))
import labctl  # noqa: E402  pylint: disable=wrong-import-position
BENCH_VENV = REPO / ".build" / "bench-venv"
IQN = "iqn.2026-11.lab.san-iscsi:sbt-bench"
LUN, SNAP, PREFIX = "lio_sbtb_data", "lio_sbtb_snap", "lio_sbtb_"
RESULT_RE = re.compile(r"^(ok|changed|failed|fatal): \[(?:localhost -> )?(san|host1|host2)[\](]", re.M)

SETUP = """
- name: Benchmark source LUN and snapshot
  hosts: localhost
  gather_facts: false
  vars: {sbt_iqn: %(iqn)s, sbt_prefix: %(prefix)s, sbt_lun: %(lun)s, sbt_kind: ext4, sbt_snapshot: %(snap)s}
  tasks:
    - name: Setup
      ansible.builtin.include_tasks: %(repo)s/tests/integration/targets/snapshot_browse_common/tasks/setup.yml
    - name: Four more snapshots for versions.yml
      san.iscsi.snapshot: {provider: lio, volume: labvg/pool, name: "%(snap)s{{ item }}", lun: %(lun)s}
      delegate_to: san
      loop: [2, 3, 4, 5]
"""

CLEANUP = """
- name: Benchmark clean-up
  hosts: localhost
  gather_facts: false
  vars: {sbt_iqn: %(iqn)s, sbt_prefix: %(prefix)s, sbt_cleanup_paths: [[host1, /srv/sbtb_ours], [host1, /srv/sbtb_peer]]}
  tasks:
    - name: Cleanup
      ansible.builtin.include_tasks: %(repo)s/tests/integration/targets/snapshot_browse_common/tasks/cleanup.yml
"""

# The same restore by hand: what a storage admin writes with the community bundle and LIO's Python library.
PEER = r"""
- name: Present the snapshot (SAN side, LIO by hand)
  hosts: san
  gather_facts: false
  tasks:
    - name: Clone LV from the snapshot
      ansible.builtin.command: lvcreate -q -s -n %(lun)s_peer labvg/%(snap)s -kn -ay
      changed_when: true
    - name: Export and map the clone to host2
      ansible.builtin.command:
        argv:
          - python3
          - -c
          - |
            import rtslib_fb as r
            so = r.BlockStorageObject('%(lun)s_peer', dev='/dev/labvg/%(lun)s_peer')
            t = r.Target(r.FabricModule('iscsi'), '%(iqn)s', mode='lookup')
            tpg = r.TPG(t, 1, mode='lookup')
            lun = r.LUN(tpg, storage_object=so)
            acl = r.NodeACL(tpg, '%(host2_iqn)s')
            r.MappedLUN(acl, 0, lun)
      changed_when: true

- name: Attach, mount, copy out (browse host)
  hosts: host2
  gather_facts: false
  tasks:
    # discover: true would record every target the portal reports (other tests' too): create one record only
    - name: Node record of the target
      ansible.builtin.command: iscsiadm -m node -o new -T %(iqn)s -p %(portal)s
      changed_when: true
    - name: Log in
      community.general.open_iscsi:
        portal: "%(portal)s"
        target: "%(iqn)s"
        login: true
    - name: Wait for the device
      ansible.builtin.command: udevadm settle
      changed_when: false
    - name: Find the device
      ansible.builtin.command: readlink -f /dev/disk/by-path/ip-%(portal)s:3260-iscsi-%(iqn)s-lun-0
      register: dev
      changed_when: false
    - name: Mount read-only
      ansible.posix.mount:
        path: /mnt/peer
        src: "{{ dev.stdout }}"
        fstype: ext4
        opts: ro,noload
        state: ephemeral
    - name: Archive the file
      ansible.builtin.command: tar --acls --xattrs --numeric-owner -C /mnt/peer -cf /var/tmp/peer.tar data/tree/a.txt
      changed_when: true
    - name: Fetch it
      ansible.builtin.fetch: {src: /var/tmp/peer.tar, dest: "%(tmp)s/peer.tar", flat: true}

- name: Put it in place (destination)
  hosts: host1
  gather_facts: false
  tasks:
    - name: Send the archive
      ansible.builtin.copy: {src: "%(tmp)s/peer.tar", dest: /var/tmp/peer.tar, mode: '0600'}
    - name: Destination directory
      ansible.builtin.file: {path: /srv/sbtb_peer, state: directory, mode: '0755'}
    - name: Unpack
      ansible.builtin.command: tar --acls --xattrs --numeric-owner -C /srv/sbtb_peer -xf /var/tmp/peer.tar
      changed_when: true
    - name: Remove the archive
      ansible.builtin.file: {path: /var/tmp/peer.tar, state: absent}

- name: Tear down (browse host)
  hosts: host2
  gather_facts: false
  tasks:
    - name: Unmount
      ansible.posix.mount: {path: /mnt/peer, state: unmounted}
    - name: Log out
      community.general.open_iscsi:
        portal: "%(portal)s"
        target: "%(iqn)s"
        login: false
    - name: Delete the node record
      ansible.builtin.command: iscsiadm -m node -T %(iqn)s -o delete
      changed_when: true
    - name: Remove the archive
      ansible.builtin.file: {path: /var/tmp/peer.tar, state: absent}

- name: Revoke access (SAN side)
  hosts: san
  gather_facts: false
  tasks:
    - name: Unmap and unexport
      ansible.builtin.command:
        argv:
          - python3
          - -c
          - |
            import rtslib_fb as r
            t = r.Target(r.FabricModule('iscsi'), '%(iqn)s', mode='lookup')
            tpg = r.TPG(t, 1, mode='lookup')
            for acl in list(tpg.node_acls):
                if acl.node_wwn == '%(host2_iqn)s':
                    acl.delete()
            for lun in list(tpg.luns):
                if lun.storage_object.name == '%(lun)s_peer':
                    so = lun.storage_object
                    lun.delete()
                    so.delete()
      changed_when: true
    - name: Remove the clone LV
      ansible.builtin.command: lvremove -q -y labvg/%(lun)s_peer
      changed_when: true
"""


def ours_env(workdir):
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "live"), ANSIBLE_PIPELINING="1",
               ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=600s",
               ANSIBLE_SSH_CONTROL_PATH_DIR=str(workdir / "cp"), ANSIBLE_HOST_KEY_CHECKING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_GATHERING="explicit", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"))
    return env


def restore_vars(iqn, lun, snapshot, portal, host2_iqn, paths, dest_path, **extra):
    """restore.yml's variables for a restore from the lab's LIO target through host2 to host1."""
    return dict(
        snapshot_browse_provider="lio", snapshot_browse_san_host="san", snapshot_browse_san=dict(target=iqn),
        snapshot_browse_portals=[portal], snapshot_browse_volume="labvg/pool", snapshot_browse_lun=lun,
        snapshot_browse_snapshot=snapshot, snapshot_browse_host="host2", snapshot_browse_initiator_name=host2_iqn,
        snapshot_browse_paths=paths, snapshot_browse_dest_host="host1", snapshot_browse_dest_path=dest_path, **extra)


def ensure_bench_venv():
    playbook = BENCH_VENV / "bin" / "ansible-playbook"
    if not playbook.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "ansible>=11,<12"], check=True)
    return str(playbook)


def bundle_collections():
    """The collections path of the bundle's venv (community.general, ansible.posix), for the project's core."""
    return str(next((BENCH_VENV / "lib").glob("python*/site-packages")))


def core_version(playbook_bin):
    """'2.19.14' for an ansible-playbook executable."""
    out = subprocess.run([playbook_bin, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"core ([0-9.]+)", out)
    return found.group(1) if found else "?"


def play(playbook_bin, inventory, path, env, extra=None):
    argv = [playbook_bin, "-i", str(inventory), str(path)] + (["-e", "@" + str(extra)] if extra else [])
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    return dict(rc=proc.returncode, seconds=time.monotonic() - start, output=proc.stdout + proc.stderr,
                calls=len(RESULT_RE.findall(proc.stdout)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=str(REPO / ".lab" / "inventory.yml"))
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-versions", dest="versions", action="store_false",
                        help="skip the versions.yml run")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="skip the hand-written playbook")
    parser.add_argument("--strategy", choices=labctl.STRATEGIES, default="stock",
                        help="how restore.yml and versions.yml run (the peer: stock)")
    parser.add_argument("--core", choices=("project", "peer"), default="project",
                        help="the ansible-core of restore.yml and versions.yml: the project's (.venv) or the peer's "
                        "(.build/bench-venv), to compare both playbooks on one ansible-core")
    parser.add_argument("--peer-core", choices=("peer", "project"),
                        help="the ansible-core of the hand-written playbook: its bundle's (.build/bench-venv) or the "
                        "project's (.venv, with the bundle's collections); default: that of restore.yml (--core)")
    parser.add_argument("--keep-output", metavar="DIR",
                        help="write each playbook run's output to DIR (with a timing callback enabled, the per-task times)")
    args = parser.parse_args(argv)
    args.peer_core = args.peer_core or args.core
    if args.keep_output:
        Path(args.keep_output).mkdir(parents=True, exist_ok=True)
    inventory = json.loads(Path(args.inventory).read_text())
    hosts = inventory["all"]["children"]["lab"]["children"]["initiators"]["hosts"]
    portal = inventory["all"]["vars"]["lab_portals"][0]
    bundle_bin = ensure_bench_venv() if args.peer or args.core == "peer" else None
    project_bin = str(REPO / ".venv" / "bin" / "ansible-playbook")
    ours_bin = bundle_bin if args.core == "peer" else project_bin
    peer_bin = project_bin if args.peer_core == "project" else bundle_bin
    with tempfile.TemporaryDirectory(prefix="restore-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "cp").mkdir()
        (workdir / "tmp").mkdir()
        env = ours_env(workdir)
        ours_strategy_env = labctl.ansible_env(workdir, args.strategy) if args.strategy != "stock" else env
        peer_env = (dict(env, ANSIBLE_COLLECTIONS_PATH=bundle_collections()) if args.peer and args.peer_core == "project"
                    else env)
        fill = dict(iqn=IQN, prefix=PREFIX, lun=LUN, snap=SNAP, repo=REPO, portal=portal, tmp=workdir,
                    host2_iqn=hosts["host2"]["lab_initiator_name"])
        for name, text in (("setup.yml", SETUP), ("cleanup.yml", CLEANUP), ("peer.yml", PEER)):
            (workdir / name).write_text(text % fill)
        (workdir / "ours.json").write_text(json.dumps(restore_vars(
            IQN, LUN, SNAP, portal, hosts["host2"]["lab_initiator_name"], ["data/tree/a.txt"], "/srv/sbtb_ours")))
        versions_vars = restore_vars(IQN, LUN, None, portal, hosts["host2"]["lab_initiator_name"],
                                     ["data/tree/a.txt"], None, snapshot_browse_source_host="host1",
                                     snapshot_browse_source_path="/srv/sbtb_ours", snapshot_browse_versions_last=5)
        for unset in ("snapshot_browse_snapshot", "snapshot_browse_dest_host", "snapshot_browse_dest_path"):
            versions_vars.pop(unset)
        (workdir / "versions.json").write_text(json.dumps(versions_vars))
        setup = play(project_bin, args.inventory, workdir / "setup.yml", env)
        if setup["rc"] != 0:
            print(setup["output"][-3000:])
            return 1
        rows, failed = [], False
        try:
            for _round in range(args.rounds):
                runs = [("restore.yml (san.iscsi)", ours_bin, REPO / "playbooks" / "restore.yml", workdir / "ours.json",
                         ours_strategy_env)]
                if args.peer:
                    runs.append(("open_iscsi + mount + command", peer_bin, workdir / "peer.yml", None, peer_env))
                for label, binary, path, extra, run_env in runs:
                    result = play(binary, args.inventory, path, run_env, extra)
                    rows.append((label, result))
                    if result["rc"] != 0:
                        failed = True
                        print(result["output"][-3000:])
            if args.versions:
                result = play(ours_bin, args.inventory, REPO / "playbooks" / "versions.yml", ours_strategy_env,
                              workdir / "versions.json")
                rows.append(("versions.yml, 5 snapshots", result))
                if result["rc"] != 0:
                    failed = True
                    print(result["output"][-3000:])
        finally:
            play(project_bin, args.inventory, workdir / "cleanup.yml", env)
    if args.keep_output:
        for number, (label, result) in enumerate(rows, 1):
            name = "%02d-%s.log" % (number, re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-"))
            (Path(args.keep_output) / name).write_text(result["output"])
    print("strategy of restore.yml and versions.yml: %s; their ansible-core: %s; the hand-written playbook's: %s"
          % (args.strategy, core_version(ours_bin), core_version(peer_bin) if args.peer else "-"))
    print("%-32s %10s %13s %4s" % ("playbook", "wall (s)", "module calls", "rc"))
    for label, result in rows:
        print("%-32s %10.1f %13d %4d" % (label, result["seconds"], result["calls"], result["rc"]))
    ours = [result["seconds"] for label, result in rows if label.startswith("restore.yml")]
    peer = [result["seconds"] for label, result in rows if label.startswith("open_iscsi")]
    versions = [result["seconds"] for label, result in rows if label.startswith("versions.yml")]
    if ours and peer:
        print("restore.yml / hand-written: %.2f (goal at most 0.75)%s" % (
            sum(ours) / sum(peer), "" if ours_bin == peer_bin else
            "; on two ansible-cores: --core and --peer-core alike compare on one"))
    if ours and versions:
        print("versions.yml over 5 snapshots / one restore.yml: %.2f (goal at most 2)"
              % (versions[0] / (sum(ours) / len(ours))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
