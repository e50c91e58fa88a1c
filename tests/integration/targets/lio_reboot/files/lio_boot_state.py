# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""State of the san guest after its reboot, for the lio_reboot target (ansible.builtin.script, python3).

  lio_boot_state.py --iqn IQN --prefix lio_rb_

Prints JSON: the boot units that restore LIO and the storage, what the restore printed (targetctl reports
a backstore or LUN it could not restore on stderr and still exits 0), the LVs of labvg/pool with the prefix and
whether they are active, the saved configuration file (valid JSON or the error, leftover temp files next
to it), the target IQN's TPG 1 and the prefix's backstores as saved and as running, and the addresses
listening on port 3260.
"""

import argparse
import json
import os
import subprocess

from rtslib_fb import RTSRoot
from rtslib_fb.root import default_save_file

UNITS = ["rtslib-fb-targetctl.service", "lab-san-storage.service"]
ENV = dict(os.environ, LC_ALL="C")


def command(args):
    return subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=120, check=False).stdout


def summary(portals, enabled, acls, luns, backstores, prefix):
    """One shape for the saved and the running TPG: portals, ACLs with mapped LUN -> backstore name."""
    return {
        "enabled": enabled,
        "portals": sorted(portals),
        "acls": dict((wwn, {"tag": tag, "maps": dict((str(index), luns[tpg_lun]) for index, tpg_lun in maps)})
                     for wwn, tag, maps in acls),
        "backstores": dict((name, info) for name, info in backstores.items() if name.startswith(prefix)),
    }


def saved(config, iqn, prefix):
    backstores = dict((so["name"], {"plugin": so["plugin"], "dev": so["dev"], "wwn": so["wwn"]})
                      for so in config.get("storage_objects", []))
    for target in config.get("targets", []):
        for tpg in target["tpgs"] if target["wwn"] == iqn else []:
            if tpg["tag"] == 1:
                luns = dict((lun["index"], lun["storage_object"].rsplit("/", 1)[-1]) for lun in tpg.get("luns", []))
                acls = [(acl["node_wwn"], acl.get("tag"), [(m["index"], m["tpg_lun"]) for m in acl.get("mapped_luns", [])])
                        for acl in tpg.get("node_acls", [])]
                portals = ["%s:%d" % (p["ip_address"], p["port"]) for p in tpg.get("portals", [])]
                return summary(portals, tpg.get("enable", False), acls, luns, backstores, prefix)
    return None


def running(iqn, prefix):
    root = RTSRoot()
    backstores = dict((so.name, {"plugin": so.plugin, "dev": so.udev_path, "wwn": so.wwn})
                      for so in root.storage_objects)
    for target in root.targets:
        for tpg in target.tpgs if target.wwn == iqn else []:
            if tpg.tag == 1:
                luns = dict((lun.lun, lun.storage_object.name) for lun in tpg.luns)
                acls = [(acl.node_wwn, acl.tag, [(m.mapped_lun, m.tpg_lun.lun) for m in acl.mapped_luns])
                        for acl in tpg.node_acls]
                portals = ["%s:%d" % (p.ip_address, p.port) for p in tpg.network_portals]
                return summary(portals, tpg.enable, acls, luns, backstores, prefix)
    return None


def save_file_state(iqn, prefix):
    directory = os.path.dirname(default_save_file)
    base = os.path.basename(default_save_file)
    state = {"path": default_save_file, "error": None, "saved": None,
             "temp_files": sorted(name for name in os.listdir(directory)
                                  if name != base and base in name and not os.path.isdir(os.path.join(directory, name)))}
    try:
        with open(default_save_file) as handle:
            state["saved"] = saved(json.load(handle), iqn, prefix)
    except (OSError, ValueError) as exc:
        state["error"] = str(exc)
    return state


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iqn", required=True)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args()
    lvs = [line.split() for line in command(["lvs", "--noheadings", "-o", "lv_name,lv_attr", "labvg"]).splitlines() if line.strip()]
    print(json.dumps({
        "units": dict(zip(UNITS, command(["systemctl", "is-active"] + UNITS).split())),
        "failed_units": command(["systemctl", "--failed", "--no-legend", "--plain"]).split(),
        "restore_messages": command(["journalctl", "--boot", "--identifier", "target", "--output", "cat",
                                     "--no-pager", "--quiet"]).splitlines(),
        "lvs_active": dict((name, attr[4] == "a") for name, attr in lvs if name == "pool" or name.startswith(args.prefix)),
        "save_file": save_file_state(args.iqn, args.prefix),
        "running": running(args.iqn, args.prefix),
        "listening": sorted(line.split()[3] for line in command(["ss", "-Hltn", "sport = :3260"]).splitlines()),
    }, sort_keys=True))


if __name__ == "__main__":
    main()
