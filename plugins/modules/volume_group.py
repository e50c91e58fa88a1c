#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: volume_group
short_description: Activate, deactivate, export and import an existing LVM volume group (to move it between hosts)
version_added: 0.1.0
description:
  - Brings an existing LVM volume group (VG) to one of four states on this host - V(active), V(inactive),
    V(exported) or V(imported) - the steps of moving a VG on SAN LUNs from one host to another
    (C(vgchange -an), C(vgexport), then C(vgimport), C(vgchange -ay) on the other host).
  - It never creates, extends, reduces or removes a VG, a PV or an LV, and never writes to an LV.
  - Before anything changes it checks the VG's identity - O(uuid) when given, the LUNs its PVs are on when
    O(lun_wwids) is given, no missing PVs, not owned by another host (LVM system ID) - and that its LVs are
    not in use; a failure names a stable C(error_code).
  - Handles LVM's system ID (C(vgexport) clears it, C(vgimport) sets this host's) and LVM's devices file
    (where C(use_devicesfile=1), as on RHEL 9, the VG's PVs are added to it on import and removed from it on
    export).
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: LVM reports and /proc are still read; nothing is unmounted, backed up, changed or written.
  diff_mode:
    support: full
    details: The VG's state (name, exported, active, system ID, devices file) before and after.
  platform:
    support: full
    platforms: posix
    details: Linux with lvm2 2.03.12 or later.
options:
  name:
    description: Name of the VG (as it is now; see O(rename)).
    type: str
    required: true
  state:
    description:
      - V(active) activates the VG's LVs (C(vgchange -ay)), importing the VG first when it is exported.
      - V(inactive) deactivates them (C(vgchange -an)); an exported VG is inactive already.
      - V(exported) deactivates, then C(vgexport)s the VG, so that no host uses it until it is imported.
      - V(imported) C(vgimport)s an exported VG and leaves it inactive; a VG that is not exported is left
        as it is, active or not.
      - Deactivating refuses LVs that are mounted (unless O(force=true)), open, used as swap, holding C(/)
        or holding other devices.
    type: str
    choices: [active, inactive, exported, imported]
    default: active
  uuid:
    description:
      - The VG's UUID (as C(vgs -o vg_uuid) prints it). When given, only the VG with this UUID is used, even
        where another VG has the same name; needed when two VGs named O(name) are in sight.
      - A VG with this UUID under a name other than O(name) (or O(rename)) is refused (V(vg_name_differs)),
        since the same VG, or a copy of its PVs, is here under another name.
    type: str
  lun_wwids:
    description:
      - WWIDs (C(naa.6...), as the kernel and M(san.iscsi.lun) report them) of the LUNs the VG must be on.
        The module fails with C(error_code=vg_pvs_outside) when a PV of the VG is on any other device.
    type: list
    elements: str
  allow_partial:
    description: Work on a VG with missing PVs (C(vgimport --force) on import). Without it such a VG is refused.
    type: bool
    default: false
  force:
    description:
      - Unmount the LVs' filesystems before deactivating them. Without it a mounted LV is refused.
      - An LV used as swap, holding C(/), open by a process without a mount, holding another device, or
        mounted where a process uses files (its cwd, open files or mapped files) is refused even so, before
        anything changes; nothing is killed.
    type: bool
    default: false
  rename:
    description:
      - New name for the VG (C(vgrename) by UUID, so a VG of the same name on this host is never touched).
        For a VG whose name is taken on the destination host. Applied with states V(active), V(inactive) and
        V(imported), only while no LV of the VG is active.
      - A re-run finds the VG under this name and changes nothing.
    type: str
  backup:
    description:
      - Absolute path of a file to write the VG's metadata to (C(vgcfgbackup --file)) before the first change,
        or when the file is missing. A run that changes nothing does not rewrite it.
    type: path
  devices_file:
    description:
      - On a host that uses LVM's devices file, add the VG's PVs to it (states V(active), V(inactive),
        V(imported)) and remove them after C(vgexport) (state V(exported)). No effect on other hosts.
    type: bool
    default: true
seealso:
  - module: san.iscsi.lun_mount
  - name: vgexport(8), vgimport(8), lvmsystemid(7), lvmdevices(8)
    description: The LVM commands and concepts this module drives.
    link: https://man7.org/linux/man-pages/man8/vgexport.8.html
notes:
  - A VG that carries another host's system ID is refused (C(error_code=vg_foreign)); export it on that host
    first, which clears the ID.
  - Only this host is looked at. Keeping a VG active on at most one host is the caller's job; the role
    C(san.iscsi.lvm_migrate) does it.
  - Every LVM command scans the host's devices. A dm-multipath map left with no path device that still queues
    I/O (its paths deleted while it was open, as a logout without C(multipath -f) can leave it) holds each scan
    until multipathd stops queueing (C(no_path_retry) checker intervals; never with C(no_path_retry queue)). The
    module warns, naming such maps, before its first LVM command.
'''

EXAMPLES = r'''
- name: Leave the VG ready to move (unmounts its LVs, writes a metadata backup)
  san.iscsi.volume_group:
    name: datavg
    state: exported
    force: true
    backup: /root/datavg.vgcfg
    lun_wwids: [naa.6001405a1b2c3d4e5f60718293a4b5c6, naa.6001405b1b2c3d4e5f60718293a4b5c7]

- name: Take it over on the new host, under another name since datavg is taken there
  san.iscsi.volume_group:
    name: datavg
    uuid: "{{ moved_vg.vg.uuid }}"
    rename: datavg_moved
    state: active
'''

RETURN = r'''
vg:
  description: The VG after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    name:
      description: Its name.
      type: str
    uuid:
      description: Its UUID.
      type: str
    exported:
      description: Whether it is exported.
      type: bool
    active:
      description: Whether any of its LVs is active.
      type: bool
    partial:
      description: Whether PVs of it are missing.
      type: bool
    system_id:
      description: Its LVM system ID ('' when it has none).
      type: str
    foreign:
      description: Whether another host's system ID is on it.
      type: bool
    in_devices_file:
      description: Whether this host's devices file lists all its PVs (true on a host without one).
      type: bool
    size:
      description: Size in bytes.
      type: int
    free:
      description: Unallocated bytes.
      type: int
  sample: {name: datavg, uuid: zE1b0X-..., exported: false, active: true, partial: false, system_id: '',
           foreign: false, in_devices_file: true, size: 268435456, free: 8388608}
before:
  description: The VG as the run found it, before any change; the same keys as RV(vg).
  returned: when the VG was found
  type: dict
  sample: {name: datavg, uuid: zE1b0X-..., exported: true, active: false, partial: false, system_id: '',
           foreign: false, in_devices_file: true, size: 268435456, free: 8388608}
pvs:
  description: The VG's PVs.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Device path ('[unknown]' for a missing PV).
      type: str
    uuid:
      description: PV UUID.
      type: str
    wwid:
      description: WWID of the LUN under it, or null.
      type: str
    missing:
      description: Whether the PV is missing.
      type: bool
    size:
      description: Size in bytes.
      type: int
lvs:
  description:
    - The VG's LVs after the run, with their mounts.
    - The LVs of an exported VG are listed inactive, as C(lvm fullreport) lists them. Where LVM lists none (C(lvs) does
      not list an exported VG's LVs), those seen before an export in this run are returned (inactive), otherwise
      the list is empty.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: LV name.
      type: str
    path:
      description: C(/dev/VG/LV).
      type: str
    active:
      description: Whether it is active.
      type: bool
    open:
      description: Whether something holds it open.
      type: bool
    mounts:
      description: Its mount points.
      type: list
      elements: str
    size:
      description: Size in bytes.
      type: int
actions:
  description: What was done (or would be done in check mode), in order, one line each.
  returned: always
  type: list
  elements: str
  sample: ['vgcfgbackup --file /root/datavg.vgcfg datavg', 'umount /srv/data', 'vgchange -an datavg',
           'vgexport datavg']
backup:
  description: The backup file written in this run, or null.
  returned: always
  type: str
local_system_id:
  description: This host's LVM system ID ('' when it has none).
  returned: always
  type: str
devices_file:
  description: The devices file this host's LVM uses, or null.
  returned: always
  type: str
same_name:
  description:
    - With O(uuid), the other VGs on this host named O(name) (or O(rename)). With C(error_code=vg_not_found),
      an empty list says the name is free too - one call checks that a host has neither the VG nor its name,
      as the role C(san.iscsi.lvm_migrate) does on the destination.
  returned: when O(uuid) is given and the VGs were read (also on failure)
  type: list
  elements: dict
  contains:
    name: {description: The VG's name., type: str}
    uuid: {description: Its UUID., type: str}
  sample: [{name: datavg, uuid: Qv3yH1-...}]
error_code:
  description:
    - Why the module failed, for roles to test - V(invalid), V(vg_not_found), V(vg_ambiguous), V(vg_name_differs),
      V(vg_name_taken), V(vg_partial), V(vg_pvs_outside), V(vg_foreign), V(vg_in_use), V(vg_active), or
      V(command_failed) for a failed LVM or mount command (with C(cmd), C(rc), C(stderr)).
  returned: on failure
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _mounts as mounts
from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, Runner, fail_with
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils._lvm import Lvm, valid_vg_name

UNKNOWN_PV = '[unknown]'


class VgError(CommandError):
    """A refusal or bad input: MSG says why and what to do; ERROR_CODE is the stable word roles test."""

    def __init__(self, msg, error_code):
        super(VgError, self).__init__(msg, error_code=error_code)


def as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def is_exported(row):
    return (row.get('vg_attr') or '')[2:3] == 'x'


def pv_is_missing(row):
    """A `pvs` row of a PV LVM cannot find: flagged missing, listed under the name '[unknown]'."""
    return bool(row.get('pv_missing')) or row.get('pv_name') == UNKNOWN_PV


def lv_is_active(row):
    return row.get('lv_active') == 'active'


def lv_skips_activation(row):
    return (row.get('lv_attr') or '')[9:10] == 'k'


class VgManager(object):
    """Brings one VG to the asked state. LVM: an _lvm.Lvm; PATHS: the host's roots (a HostPaths)."""

    def __init__(self, lvm, params, check=False, paths=None):
        self.lvm = lvm
        self.params = params
        self.check = check
        self.paths = paths or HostPaths()
        self.result = {'changed': False, 'actions': [], 'backup': None}
        self.before = None
        self.after = None
        self.members = {}  # (vg_uuid, outside the devices file) -> (pv rows, lv rows) of the last report

    # --- reading -------------------------------------------------------------------------------------

    def run(self):
        self.local_id, self.devices_file = self.lvm.system_id_and_devices_file()
        self.result.update(local_system_id=self.local_id, devices_file=self.devices_file)
        vg = self.find()
        pvs, lvs = self.read_members(vg)
        self.check_identity(vg, pvs)
        self.before = self.summary(vg, pvs, lvs)
        self.result.update(before=self.before, vg=self.before, pvs=[self.pv_info(row) for row in pvs],
                           lvs=self.lv_infos(lvs))
        steps = self.plan(vg, pvs, lvs)
        backup = self.params['backup']
        if backup and (steps or not os.path.exists(backup)):
            steps.insert(0, self.backup_step(vg))
        for describe, action in steps:
            self.result['actions'].append(describe)
            self.result['changed'] = True
            if not self.check:
                action()
        self.after = self.predicted() if self.check or not steps else self.reread(vg)
        self.result['vg'] = self.after
        return self.result

    def inside_then_outside(self, read):
        """The VG rows READ(outside) gives, each marked with in_devices_file: READ(False), and on a host with a
        devices file also the VGs of READ(True) on devices the file does not list (an incoming VG is not in it
        yet)."""
        rows = read(False)
        if self.devices_file:
            inside = set(row['vg_uuid'] for row in rows)
            rows += [row for row in read(True) if row['vg_uuid'] not in inside]
        return rows

    def visible_rows(self, names):
        """The VG rows of the VGs NAMES from `lvm fullreport` (their PVs and LVs kept for read_members)."""
        def read(outside):
            rows = []
            for row, pvs, lvs in self.lvm.vg_reports(names, outside_devices_file=outside):
                row['in_devices_file'] = not outside
                self.members[(row['vg_uuid'], outside)] = (pvs, lvs)
                rows.append(row)
            return rows
        return self.inside_then_outside(read)

    def rows_by_uuid(self, uuid):
        """`vgs` rows of the VG with UUID (under another name than asked for: find() refuses it)."""
        def read(outside):
            rows = self.lvm.vg_state(self.lvm.uuid_selection(uuid), outside_devices_file=outside)
            for row in rows:
                row['in_devices_file'] = not outside
            return rows
        return self.inside_then_outside(read)

    def find(self):
        """The one VG this run is about: by UUID when given, else by name (or by the rename target)."""
        name, rename, uuid = self.params['name'], self.params['rename'], self.params['uuid']
        rows = self.visible_rows([name] + ([rename] if rename else []))
        if uuid and not any(row['vg_uuid'] == uuid for row in rows):
            rows += self.rows_by_uuid(uuid)  # under another name: refused below
        candidates = [row for row in rows if not uuid or row['vg_uuid'] == uuid]
        if uuid:
            # a caller checking that a host has neither the VG nor its name in use needs one call, not two
            self.result['same_name'] = [{'name': row['vg_name'], 'uuid': row['vg_uuid']}
                                        for row in rows if row['vg_uuid'] != uuid and row['vg_name'] in (name, rename)]
        if not candidates:
            raise VgError('no VG %s%s on this host%s' % (
                name, ' with UUID %s' % uuid if uuid else '',
                ' (nor %s)' % rename if rename else ''), 'vg_not_found')
        if len(candidates) > 1:
            raise VgError('%d VGs match %s: %s; give uuid to choose one' % (
                len(candidates), name, ', '.join('%s (%s)' % (row['vg_name'], row['vg_uuid']) for row in candidates)),
                'vg_ambiguous')
        vg = candidates[0]
        if vg['vg_name'] not in (name, rename):
            raise VgError('the VG with UUID %s is named %s on this host, not %s%s' % (
                uuid, vg['vg_name'], name, ' (nor %s)' % rename if rename else ''), 'vg_name_differs')
        target = rename or name
        taken = [row for row in rows if row['vg_name'] == target and row['vg_uuid'] != vg['vg_uuid']]
        if taken:
            raise VgError('another VG named %s (%s) is on this host; %s' % (
                target, taken[0]['vg_uuid'],
                'choose another rename' if rename else 'give rename (and uuid) to use this one under a free name'),
                'vg_name_taken')
        return vg

    def read_members(self, vg):
        """The PV and LV rows of VG: those of the report that found it, else (a VG found by UUID) read now."""
        outside = not vg['in_devices_file']
        known = self.members.get((vg['vg_uuid'], outside))
        if known is not None:
            return known
        return (self.lvm.vg_pvs(vg['vg_uuid'], outside_devices_file=outside),
                self.lvm.vg_lvs(vg['vg_uuid'], outside_devices_file=outside))

    def check_identity(self, vg, pvs):
        """Refuse a foreign or partial VG, or one with PVs outside the LUNs it should be on."""
        system_id = vg.get('vg_systemid') or ''
        if system_id and system_id != self.local_id and not is_exported(vg):
            raise VgError('VG %s belongs to the host with LVM system ID %s (this host: %s); export it there first'
                          % (vg['vg_name'], system_id, self.local_id or 'none'), 'vg_foreign')
        missing = [row for row in pvs if pv_is_missing(row)]
        if (missing or as_int(vg.get('vg_missing_pv_count'))) and not self.params['allow_partial']:
            raise VgError('VG %s is partial: %d PV(s) missing (%s); set allow_partial: true to go on anyway'
                          % (vg['vg_name'], max(len(missing), as_int(vg.get('vg_missing_pv_count'))),
                             ', '.join(row.get('pv_uuid', '?') for row in missing)), 'vg_partial')
        wanted = self.params['lun_wwids']
        if wanted is not None:
            wanted = set(wwid.lower() for wwid in wanted)
            outside = [row['pv_name'] for row in pvs if row not in missing and self.wwid_of(row) not in wanted]
            if outside:
                raise VgError('VG %s has PVs outside the LUNs given in lun_wwids: %s'
                              % (vg['vg_name'], ', '.join(outside)), 'vg_pvs_outside')

    def wwid_of(self, pv_row):
        name = blockdev.kernel_name(pv_row['pv_name'], self.paths.sysfs)
        return blockdev.device_wwid(name, self.paths.sysfs) if name else None

    def lv_device(self, row):
        return blockdev.kernel_name(row['lv_dm_path'], self.paths.sysfs) if row.get('lv_dm_path') else None

    def lv_mounts(self, row):
        name = self.lv_device(row) if lv_is_active(row) else None
        return mounts.mountpoints_of_devices([name], self.paths.mountinfo, self.paths.sysfs) if name else []

    # --- results -------------------------------------------------------------------------------------

    def summary(self, vg, pvs, lvs):
        system_id = vg.get('vg_systemid') or ''
        pvids = self.lvm.devices_file_pvids(self.devices_file)
        return {
            'name': vg['vg_name'], 'uuid': vg['vg_uuid'], 'exported': is_exported(vg),
            'active': any(lv_is_active(row) for row in lvs),
            'partial': (vg.get('vg_attr') or '')[3:4] == 'p' or as_int(vg.get('vg_missing_pv_count')) > 0,
            'system_id': system_id, 'foreign': bool(system_id) and system_id != self.local_id,
            'in_devices_file': not self.devices_file or all(
                row['pv_uuid'].replace('-', '') in pvids for row in pvs if not pv_is_missing(row)),
            'size': as_int(vg.get('vg_size')), 'free': as_int(vg.get('vg_free')),
        }

    def pv_info(self, row):
        missing = pv_is_missing(row)
        return {'name': row['pv_name'], 'uuid': row['pv_uuid'], 'missing': missing,
                'wwid': None if missing else self.wwid_of(row), 'size': as_int(row.get('pv_size'))}

    def lv_infos(self, lvs):
        return [{'name': row['lv_name'], 'path': row.get('lv_path') or '/dev/%s/%s' % (row['vg_name'], row['lv_name']),
                 'active': lv_is_active(row), 'open': (row.get('lv_attr') or '')[5:6] == 'o',
                 'mounts': self.lv_mounts(row), 'size': as_int(row.get('lv_size'))} for row in lvs]

    def predicted(self):
        after = dict(self.before)
        for describe in self.result['actions']:
            verb = describe.split()[0:2]
            if verb[0] == 'vgexport':
                after.update(exported=True, system_id='', foreign=False)
            elif verb[0] == 'vgimport':
                after.update(exported=False, system_id=self.local_id, foreign=False)
            elif verb[0] == 'vgrename':
                after['name'] = self.params['rename']
            elif verb == ['vgchange', '-ay']:
                after['active'] = True
            elif verb == ['vgchange', '-an']:
                after['active'] = False
            elif verb[0] == 'lvmdevices':
                after['in_devices_file'] = verb[1] == '--adddev'
        return after

    def reread(self, vg):
        name = self.params['rename'] or vg['vg_name']
        rows = [row for row in self.visible_rows([name]) if row['vg_uuid'] == vg['vg_uuid']]
        if not rows:
            raise VgError('VG %s (%s) is not in sight after the change' % (name, vg['vg_uuid']), 'vg_not_found')
        pvs, lvs = self.read_members(rows[0])
        lv_infos = self.lv_infos(lvs)
        if is_exported(rows[0]) and not lvs:
            # no LVs listed for an exported VG: those this run saw before exporting it, now inactive
            lv_infos = [dict(info, active=False, open=False, mounts=[]) for info in self.result['lvs']]
        self.result.update(pvs=[self.pv_info(row) for row in pvs], lvs=lv_infos)
        return self.summary(rows[0], pvs, lvs)

    def diff(self):
        keys = ('name', 'exported', 'active', 'system_id', 'in_devices_file')
        return {'before': dict((key, self.before[key]) for key in keys) if self.before else {},
                'after': dict((key, self.after[key]) for key in keys) if self.after else {}}

    # --- planning ------------------------------------------------------------------------------------

    def plan(self, vg, pvs, lvs):
        """[(description, action)] that bring the VG to the asked state, in order; [] when it is there."""
        state = self.params['state']
        exported = is_exported(vg)
        name = vg['vg_name']
        active = [row for row in lvs if lv_is_active(row)]
        steps = []
        if state in ('inactive', 'exported') and active:
            steps.extend(self.release_steps(name, active))
            steps.append(('vgchange -an %s' % name, lambda vg_name=name: self.lvm.set_activation(vg_name, False)))
        if state == 'exported':
            if not exported:
                steps.append(('vgexport %s' % name, lambda vg_name=name: self.lvm.export_vg(vg_name)))
            if self.params['devices_file'] and self.devices_file:
                steps.extend(self.devices_file_steps(pvs, add=False))
            return steps
        if self.params['devices_file'] and self.devices_file:
            steps.extend(self.devices_file_steps(pvs, add=True))
        if exported and state != 'inactive':
            steps.append(('vgimport --select vg_uuid=%s' % vg['vg_uuid'],
                          lambda vg_name=name: self.lvm.import_vg(vg['vg_uuid'], vg_name,
                                                                  force=self.params['allow_partial'])))
        rename = self.params['rename']
        if rename and rename != name and not (exported and state == 'inactive'):
            if active:
                raise VgError('VG %s has active LVs (%s); deactivate it before renaming it to %s'
                              % (name, ', '.join(row['lv_name'] for row in active), rename), 'vg_active')
            steps.append(('vgrename %s %s' % (vg['vg_uuid'], rename), lambda: self.lvm.rename_vg(vg['vg_uuid'], rename)))
            name = rename
        # LVM lists no LVs of an exported VG: once imported, activate it whatever it holds
        if state == 'active' and (exported or any(not lv_is_active(row) and not lv_skips_activation(row)
                                                  for row in lvs)):
            steps.append(('vgchange -ay %s' % name, lambda vg_name=name: self.lvm.set_activation(vg_name, True)))
        return steps

    def backup_step(self, vg):
        path, name = self.params['backup'], vg['vg_name']

        def write():
            self.lvm.backup_vg(name, path)
            self.result['backup'] = path
        return 'vgcfgbackup --file %s %s' % (path, name), write

    def devices_file_steps(self, pvs, add):
        pvids = self.lvm.devices_file_pvids(self.devices_file)
        steps = []
        for row in pvs:
            if pv_is_missing(row):
                continue
            listed = row['pv_uuid'].replace('-', '') in pvids
            if add and not listed:
                steps.append(('lvmdevices --adddev %s' % row['pv_name'],
                              lambda device=row['pv_name']: self.lvm.adddev(device)))
            elif not add and listed:
                steps.append(('lvmdevices --delpvid %s' % row['pv_uuid'],
                              lambda pv_uuid=row['pv_uuid']: self.lvm.delpvid(pv_uuid)))
        return steps

    def mount_users(self, label, points, mountinfo):
        """Why force will not unmount POINTS of LV LABEL: processes using files there (force unmounts only
        filesystems nobody uses; stopping those processes is the caller's choice, not this module's)."""
        refused = []
        for point in points:
            mounted = mounts.mount_at(mountinfo, point)
            users = mounts.process_holders(mounted.majmin, self.paths.proc) if mounted else []
            if users:
                refused.append('%s (mounted at %s, used by %s)' % (label, point, mounts.describe_holders(users)))
        return refused

    def release_steps(self, vg_name, active):
        """Unmount steps for the active LVs ACTIVE, or a refusal when one is in use in a way not undone here."""
        swaps = set(blockdev.swap_devices(os.path.join(self.paths.proc, 'swaps')))
        mountinfo = mounts.read_mountinfo(self.paths.mountinfo)
        steps, busy = [], []
        for row in active:
            name = self.lv_device(row)
            if not name:
                continue
            label = '%s/%s' % (vg_name, row['lv_name'])
            dm = blockdev.dm_name(name, self.paths.sysfs)
            if name in swaps or ('mapper/%s' % dm) in swaps:
                busy.append('%s (swap)' % label)
            upper = blockdev.holders(name, self.paths.sysfs)
            if upper:
                busy.append('%s (holds %s)' % (label, ', '.join(upper)))
            points = self.lv_mounts(row)
            if '/' in points:
                busy.append('%s (mounted at /)' % label)
            elif points and not self.params['force']:
                busy.append('%s (mounted at %s)' % (label, ', '.join(points)))
            elif (row.get('lv_attr') or '')[5:6] == 'o' and not points:
                busy.append('%s (open)' % label)
            if self.params['force']:
                busy.extend(self.mount_users(label, points, mountinfo))
            for point in reversed(points):
                steps.append(('umount %s' % point, lambda target=point: mounts.umount(self.lvm.runner, target)))
        if busy:
            hint = '' if self.params['force'] else '; force: true unmounts mounted LVs first'
            raise VgError('LVs of VG %s are in use: %s%s' % (vg_name, ', '.join(busy), hint), 'vg_in_use')
        return steps


def validate(params):
    """Refuse bad input before any command runs."""
    for option in ('name', 'rename'):
        if params[option] is not None and not valid_vg_name(params[option]):
            raise VgError('%s is not a valid VG name: %r' % (option, params[option]), 'invalid')
    backup = params['backup']
    if backup is not None and (not os.path.isabs(backup) or '%' in backup):
        raise VgError('backup must be an absolute path without %% (vgcfgbackup expands it): %s' % backup, 'invalid')
    if params['rename'] is not None and params['state'] == 'exported':
        raise VgError('rename applies on import; it cannot be combined with state exported', 'invalid')


def warn_of_queueing_maps(module, runner, sysfs_root):
    """Name the multipath maps that would hold every LVM scan of this host (a slow or timed-out read says why)."""
    for name in blockdev.queueing_maps_without_paths(runner, sysfs_root):
        module.warn('multipath map %s has no path left and queues I/O: every LVM command on this host waits on it '
                    'until multipathd stops queueing (no_path_retry; never with no_path_retry queue). If its LUN is '
                    'gone from this host for good: multipathd disablequeueing map %s, then multipath -f %s'
                    % (name, name, name))


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='active', choices=['active', 'inactive', 'exported', 'imported']),
            uuid=dict(type='str'),
            lun_wwids=dict(type='list', elements='str'),
            allow_partial=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            rename=dict(type='str'),
            backup=dict(type='path'),
            devices_file=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    paths = paths or HostPaths()
    manager = None
    try:
        validate(module.params)
        runner = Runner(module)
        lvm = Lvm(runner, devices_dir=paths.lvm_devices_dir, online_dir=paths.lvm_online_dir,
                  backup_dir=paths.lvm_backup_dir, archive_dir=paths.lvm_archive_dir)
        warn_of_queueing_maps(module, runner, paths.sysfs)
        manager = VgManager(lvm, module.params, check=module.check_mode, paths=paths)
        result = manager.run()
        if module._diff:
            result['diff'] = manager.diff()
        module.exit_json(**result)
    except CommandError as exc:  # a refusal (VgError) or a failed command (ToolError)
        fail_with(module, exc, manager.result if manager else None)


if __name__ == '__main__':
    main()
