#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: lun_mount
short_description: Mount what a LUN holds, snapshot LUNs included, without ever writing to a snapshot
version_added: 0.1.0
description:
  - Finds the LUN's block device (a path, an iSCSI target and LUN, or a WWID or serial as returned by
    M(san.iscsi.lun)); with multipathd running, the multipath map is used instead of a path device.
  - Detects the content with a low-level probe (C(blkid -p)) - a filesystem on the whole disk, a partition
    table, or an LVM physical volume - and mounts it. A blank or unknown device is an error. The module
    never runs mkfs, fsck or any repair tool.
  - With O(snapshot=true) nothing is ever written to the LUN. The device is set read-only in the kernel
    (C(blockdev --setro)) and mounted C(ro,nosuid,nodev,noexec) without journal or log replay (ext3/ext4
    C(noload), xfs C(norecovery,nouuid), btrfs C(rescue=nologreplay)), so a snapshot mounts next to its
    original.
  - LVM on a snapshot LUN is imported the C(vgimportclone) way - renamed, with new VG and PV UUIDs - on a
    copy-on-write overlay of the read-only LUN (a device-mapper snapshot whose changes stay in memory), so
    neither the LUN nor the original VG is touched. Only the LV to mount is activated. Unmounting
    deactivates it and removes what the import added (overlay, devices-file entry, LVM runtime records).
  - When LVM autoactivated the snapshot LUN's VG on login (under its original name, on a host that does not
    have that VG), that VG is deactivated first (C(vgchange -an), which writes no metadata) - but only when
    every device stacked on the LUN is an LV of the VG stored on it (by VG UUID), the host's LVM shows that VG
    (or its PV) on no other device, and none of its LVs is open or mounted. In every other case the module
    fails and changes nothing.
  - fstab entries use stable identifiers (C(UUID=), C(/dev/disk/by-id), C(/dev/disk/by-path) or the LV path,
    never C(/dev/sdX)) with C(_netdev,nofail) and fsck pass 0.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads (probes, LVM reports, /proc) still run; nothing is set read-only, imported, mounted or written.
  diff_mode:
    support: partial
    details: The fstab file is diffed; mount state is reported in the result.
  platform:
    support: full
    platforms: posix
    details: Linux with util-linux; LVM content needs lvm2 2.03.12 or later and device-mapper.
options:
  path:
    description:
      - Mount point (absolute). Created (mode 0755) when missing.
      - One of O(path) and O(mounts) is required.
    type: path
  mounts:
    description:
      - Several mount points in one call, each as a call of its own with O(path) and its source from the entry
        and every other option from the module's options. They are handled in order.
      - Made for a batch of like LUNs (the snapshots of one LUN, say), where one module start per mount point
        would cost more than the mounts themselves.
      - With O(state=mounted) or O(state=present) the first failure stops the call; the mount points done
        before it stay (RV(mounts) lists them). With O(state=unmounted) or O(state=absent) every entry is
        tried, so a teardown leaves as little as it can, and the call fails at the end when any entry failed.
      - Each entry needs a source (O(mounts[].device), O(mounts[].target), O(mounts[].wwid) or
        O(mounts[].serial)) for O(state=mounted) and O(state=present).
    type: list
    elements: dict
    suboptions:
      path:
        description: Mount point, as O(path).
        type: path
        required: true
      device:
        description: As O(device).
        type: path
      target:
        description: As O(target).
        type: str
      portal:
        description: As O(portal). Requires O(mounts[].target).
        type: str
      lun:
        description: As O(lun). Requires O(mounts[].target).
        type: int
      wwid:
        description: As O(wwid).
        type: str
      serial:
        description: As O(serial).
        type: str
      clone_vg:
        description: As O(clone_vg).
        type: str
  state:
    description:
      - V(mounted) mounts the content (and records it in fstab when O(persistent) is true).
      - V(present) only writes the fstab entry; V(unmounted) only unmounts; V(absent) unmounts and removes
        the fstab entry.
      - Unmounting an LV deactivates it; for an imported clone, the last unmount also removes the clone.
    type: str
    choices: [mounted, unmounted, present, absent]
    default: mounted
  device:
    description: Block device of the LUN (any path to it, for example a C(/dev/disk/by-id) link).
    type: path
  target:
    description: IQN of the iSCSI target whose LUN to mount (compared case-insensitively).
    type: str
  portal:
    description: Only consider the session to this portal (C(host[:port])). Requires O(target).
    type: str
  lun:
    description: LUN number within O(target). Requires O(target).
    type: int
  wwid:
    description: WWID of the LUN as the kernel reports it (C(naa.6001405...)), case-insensitive.
    type: str
  serial:
    description: SCSI unit serial number (VPD page 0x80) of the LUN.
    type: str
  partition:
    description:
      - Partition number to mount when the LUN holds a partition table.
      - Without it, the partition is chosen automatically when exactly one partition holds a filesystem or
        an LVM PV; otherwise the module fails listing the candidates.
    type: int
  lv:
    description:
      - Logical volume to mount when the content is an LVM PV. Optional when the VG has exactly one LV that
        can hold a filesystem.
    type: str
  clone_vg:
    description:
      - Name for the VG imported from a snapshot LUN.
      - Default C(<vg>_clone_<last 6 characters of the LUN's WWID>), or C(<vg>_clone) without a WWID.
    type: str
  fstype:
    description:
      - Filesystem type the content must have. The module fails when the probe finds another one
        (the type is never forced).
      - Required with O(state=present) for an LV that is not active, whose filesystem cannot be probed.
    type: str
  options:
    description:
      - Extra mount options. For O(snapshot=true) they are merged with the safe options; an option that
        would cancel a safe one (V(rw), V(suid), V(dev), V(exec), V(defaults)) is an error unless
        O(unsafe_options=true).
    type: list
    elements: str
    default: []
  snapshot:
    description:
      - The LUN is a snapshot or clone (pass what M(san.iscsi.lun) returned). Turns on every protection
        described above. Set it for any LUN that must not be written.
      - When false and the LUN's VG clashes with a VG of the host (a clone of it), the module fails
        instead of touching either.
    type: bool
    default: false
  unsafe_options:
    description: Let O(options) override the safe options of a snapshot mount.
    type: bool
    default: false
  persistent:
    description:
      - Whether O(state=mounted) also writes the fstab entry.
      - Default V(true), except for snapshot mounts (V(false)). An imported LVM clone cannot be persistent.
    type: bool
  fstab:
    description: The fstab file to manage.
    type: path
    default: /etc/fstab
  daemon_reload:
    description:
      - After changing C(/etc/fstab) on a host run by systemd, run C(systemctl daemon-reload), so the mount units
        systemd generates from the file match it again.
      - Set V(false) when changing several mounts in a row, and reload once after the last one (for example with
        M(ansible.builtin.systemd_service) and C(daemon_reload=true)) when RV(reload_needed) says so; a reload
        takes a second or more on a busy host.
    type: bool
    default: true
  force:
    description:
      - Unmount even when processes use the mount; they get SIGTERM, then SIGKILL after 10 seconds.
      - Without it, unmounting a busy mount fails listing the processes.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for the LUN's device to appear (after a login) before failing.
    type: int
    default: 30
seealso:
  - module: san.iscsi.lun
  - name: blkid(8), mount(8), vgimportclone(8), lvmdevices(8)
    description: The tools this module drives.
    link: https://man7.org/linux/man-pages/man8/blkid.8.html
notes:
  - The read-only flag set on a snapshot LUN stays set after unmount (until logout).
  - When LVM's devices file is not in use (Debian's default), LVM itself warns about duplicate PVs as soon as
    a snapshot of a local VG is logged in; the module adds no such warning, and removes its own overlay and
    records on unmount.
  - LVM's event-based autoactivation runs when the LUN appears, before this module can act, and activating
    some LV types (thin pools, RAID) may write to the LUN. Where that matters, present a clone made for the
    purpose rather than the snapshot itself, as the role C(san.iscsi.snapshot_browse) does. The records that
    autoactivation keeps under C(/run/lvm) for the LUN's VG are LVM's own and are left alone.
'''

EXAMPLES = r'''
- name: Browse yesterday's snapshot (LVM, XFS, ext4, whatever it holds) read-only
  san.iscsi.lun_mount:
    path: /srv/restore/db01
    wwid: "{{ snapshot_lun.wwid }}"
    snapshot: true
    lv: data

- name: Mount partition 2 of a GPT-labelled LUN and record it in fstab
  san.iscsi.lun_mount:
    path: /srv/data
    target: iqn.2026-11.com.example:storage.data
    lun: 0
    partition: 2
    options: [noatime]

- name: Mount the clones of three snapshots read-only, in one module call
  san.iscsi.lun_mount:
    mounts:
      - {path: /srv/versions/monday, wwid: "{{ clones[0].lun.wwid }}"}
      - {path: /srv/versions/tuesday, wwid: "{{ clones[1].lun.wwid }}"}
      - {path: /srv/versions/wednesday, wwid: "{{ clones[2].lun.wwid }}"}
    snapshot: true

- name: Unmount them again (every one is tried, even after a failure)
  san.iscsi.lun_mount:
    mounts: [{path: /srv/versions/monday}, {path: /srv/versions/tuesday}, {path: /srv/versions/wednesday}]
    state: unmounted

- name: Done with the snapshot (fails listing the processes still using it)
  san.iscsi.lun_mount:
    path: /srv/restore/db01
    state: absent

- name: Mount the LVs of a VG and record them in fstab; systemd reloads once, after the last one
  san.iscsi.lun_mount:
    path: /srv/{{ item }}
    device: /dev/datavg/{{ item }}
    daemon_reload: false
  loop: [db, logs]
  register: data_mounts

- name: Systemd reads the changed fstab
  ansible.builtin.systemd_service:
    daemon_reload: true
  when: data_mounts.results | selectattr('reload_needed', 'defined') | selectattr('reload_needed') | list != []
'''

RETURN = r'''
mounts:
  description:
    - With O(mounts), one result per entry handled, in order, each with the keys a call with O(path) returns
      (the other keys documented here are in these entries, not at the top).
    - An entry that failed has C(failed=true), C(msg) and C(error_code) (and C(cmd), C(rc), C(stdout) and
      C(stderr) when a command failed); after it, a call mounting stops.
  returned: when O(mounts) is given
  type: list
  elements: dict
  sample:
    - {changed: true, mountpoint: /srv/versions/s1, device: /dev/sdc, fstype: ext4, read_only: true}
    - {changed: true, mountpoint: /srv/versions/s2, device: /dev/sdd, fstype: ext4, read_only: true}
device:
  description: Block device that is (or would be) mounted (partition, LV or multipath map).
  returned: with O(path), when known
  type: str
  sample: /dev/mapper/datavg_clone_a1b2c3-data
lun_device:
  description: The LUN's block device (the multipath map when there is one).
  returned: with O(path), when a source was given
  type: str
  sample: /dev/sdc
partition:
  description: Partition number used, or null for a whole-disk filesystem or PV.
  returned: with O(path), when a source was given
  type: int
fstype:
  description: Filesystem type found by the probe (or of the existing mount).
  returned: with O(path), when known
  type: str
  sample: xfs
mountpoint:
  description: The mount point.
  returned: with O(path) (and in each entry of RV(mounts))
  type: str
options:
  description: Mount options used (fstab-only options excluded).
  returned: with O(path), when known
  type: list
  elements: str
  sample: [ro, nosuid, nodev, noexec, norecovery, nouuid]
read_only:
  description: Whether the block device is read-only in the kernel and the mount is C(ro).
  returned: with O(path), when mounted
  type: bool
snapshot:
  description: Whether the snapshot protections applied.
  returned: with O(path), for states mounted and present
  type: bool
uuid:
  description: Filesystem UUID found by the probe.
  returned: with O(path), when known
  type: str
label:
  description: Filesystem label found by the probe.
  returned: with O(path), when known
  type: str
vg:
  description: Name of the VG on the LUN as stored on it (the original name for a clone).
  returned: with O(path), for LVM content
  type: str
lv:
  description: The LV mounted.
  returned: with O(path), for LVM content
  type: str
clone_vg:
  description: Name under which a snapshot's VG is (or would be) imported; null when not a clone.
  returned: with O(path), for LVM content
  type: str
deactivated_vg:
  description: The snapshot LUN's VG (original name) that LVM had autoactivated and that was (or would be)
    deactivated before the import.
  returned: with O(path), when an autoactivated VG was found on a snapshot LUN
  type: str
  sample: datavg
fstab_line:
  description: The fstab entry written or kept (null when none).
  returned: with O(path), for states mounted and present
  type: str
  sample: /dev/disk/by-id/wwn-0x6001405abcdef-part1 /srv/data ext4 noatime,_netdev,nofail 0 0
reload_needed:
  description:
    - With O(daemon_reload=false), whether the fstab changed (or would change) on a host where systemd generates
      mount units from it, so a C(systemctl daemon-reload) is due.
  returned: with O(path), when O(daemon_reload=false) and the fstab changed
  type: bool
processes:
  description: Processes that used the mount (killed when O(force=true)).
  returned: with O(path), when unmounting a busy mount
  type: list
  elements: dict
  contains:
    pid:
      description: Process id.
      type: int
    uid:
      description: Owner's user id.
      type: int
    command:
      description: Command line.
      type: str
    access:
      description: How it holds the mount (cwd, root, exe, fd, mmap).
      type: list
      elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _devices as devices
from ansible_collections.san.iscsi.plugins.module_utils import _mounts as mounts
from ansible_collections.san.iscsi.plugins.module_utils._mounts import SNAPSHOT_BASE
from ansible_collections.san.iscsi.plugins.module_utils._command import Runner, ToolError
from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLockTimeout, host_lock
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import InvalidName
from ansible_collections.san.iscsi.plugins.module_utils._lvm import (
    Lvm, LvmEngine, LvmRefusal, choose_lv, default_clone_name, valid_vg_name)


# user option -> safe options it would cancel
CANCELS = {
    'rw': ['ro'], 'suid': ['nosuid'], 'dev': ['nodev'], 'exec': ['noexec'],
    'defaults': ['ro', 'nosuid', 'nodev', 'noexec'],
}
FORBIDDEN_OPTIONS = ('remount', 'bind', 'rbind', 'move', 'loop')
FSTAB_OPTIONS = ['_netdev', 'nofail']
LVM_PV = 'LVM2_member'


class ModuleError(Exception):
    """A refusal of this module; EXTRA goes into the failure result (error_code 'mount_refused' unless given)."""

    def __init__(self, msg, **extra):
        super(ModuleError, self).__init__(msg)
        self.msg = msg
        self.extra = dict(dict(error_code='mount_refused'), **extra)


class Content(object):
    """What will be mounted or imported: a filesystem or an LVM PV on a device."""

    def __init__(self, name, path, fields, partition=None):
        self.name = name
        self.path = path
        self.fields = fields
        self.partition = partition

    @property
    def is_lvm(self):
        return self.fields.get('TYPE') == LVM_PV

    @property
    def fstype(self):
        return None if self.is_lvm else self.fields.get('TYPE')


def split_options(values):
    options = []
    for value in values:
        for option in value.split(','):
            option = option.strip()
            if not option:
                raise ModuleError('options must not contain empty entries: %r' % (values,))
            if option.split('=', 1)[0] in FORBIDDEN_OPTIONS:
                raise ModuleError("mount option '%s' is not supported by this module" % option)
            options.append(option)
    return options


def safe_options(fstype):
    return mounts.snapshot_options(fstype)


def merge_options(safe, extra, allow_unsafe):
    """SAFE followed by EXTRA; an EXTRA option cancelling a safe one fails unless ALLOW_UNSAFE (then it wins)."""
    cancelled = []
    for option in extra:
        for victim in CANCELS.get(option, []):
            if victim in safe and victim not in cancelled:
                if not allow_unsafe:
                    raise ModuleError("option '%s' would cancel the safe option '%s' of a snapshot mount; "
                                      'set unsafe_options: true to allow it' % (option, victim))
                cancelled.append(victim)
    merged = [option for option in safe if option not in cancelled]
    merged.extend(option for option in extra if option not in merged)
    return merged


class LunMount(object):
    """One mount point. PATHS: the host's roots (a HostPaths; None for the real ones); PARAMS: its options
    (an entry of O(mounts) over the module's; None: the module's)."""

    def __init__(self, module, paths=None, params=None):
        self.module = module
        self.paths = paths or HostPaths()
        self.params = params or module.params
        self.path = os.path.normpath(self.params['path'])
        self.check = module.check_mode
        self.runner = Runner(module)
        self.lvm = Lvm(self.runner, devices_dir=self.paths.lvm_devices_dir, online_dir=self.paths.lvm_online_dir,
                       backup_dir=self.paths.lvm_backup_dir, archive_dir=self.paths.lvm_archive_dir)
        self.snapshot = self.params['snapshot']
        self.result = {'changed': False, 'mountpoint': self.path, 'snapshot': self.snapshot}
        self.engine = LvmEngine(self.lvm, self.result, module.warn, check=self.check, paths=self.paths)
        self.options = split_options(self.params['options'])

    # --- entry points -------------------------------------------------------------------------

    def run(self):
        if not os.path.isabs(self.params['path']):
            raise ModuleError('path must be absolute: %s' % self.params['path'])
        state = self.params['state']
        if self.snapshot:
            merge_options(SNAPSHOT_BASE, self.options, self.params['unsafe_options'])  # fail before any change
        if state == 'mounted' and os.path.lexists(self.path) and not os.path.isdir(self.path):
            raise ModuleError('path %s exists and is not a directory; nothing can be mounted there' % self.path,
                              error_code='mountpoint_not_directory')
        if state in ('mounted', 'present'):
            self.ensure_present(mount=state == 'mounted')
        else:
            self.ensure_unmounted()
            if state == 'absent':
                self.update_fstab(None)
        return self.result

    def persistent(self, state_mount):
        if not state_mount:
            return True
        if self.params['persistent'] is None:
            return not self.snapshot
        return self.params['persistent']

    # --- mounted / present ----------------------------------------------------------------------

    def ensure_present(self, mount):
        lun_name, wwid = self.resolve_lun()
        self.result['lun_device'] = blockdev.device_path(lun_name, self.paths.sysfs, self.paths.dev)
        content = self.detect(lun_name)
        self.result['partition'] = content.partition
        persistent = self.persistent(mount)
        if content.is_lvm and self.snapshot and persistent:
            raise ModuleError('an imported LVM clone does not survive a reboot, so it cannot go to fstab; '
                              'use persistent: false')
        entries = mounts.read_mountinfo(self.paths.mountinfo)
        current = mounts.mount_at(entries, self.path) if mount else None
        if current is not None:
            target = self.already_mounted(current, content)
        else:
            if self.snapshot and mount:
                self.refuse_if_written_elsewhere(entries, content)
            target = self.prepare_lvm(content, wwid, activate=mount) if content.is_lvm else content
            if mount:
                self.mount(target)
        if persistent:
            self.update_fstab(self.fstab_entry(content, target))

    def resolve_lun(self):
        """(kernel name, wwid) of the LUN: the multipath map when a map holds the path device."""
        params = self.params
        if params['device']:
            name = blockdev.kernel_name(params['device'], self.paths.sysfs)
            if name is None:
                raise ModuleError('%s is not a block device' % params['device'])
            wwid = blockdev.read_file(os.path.join(blockdev.class_dir(name, self.paths.sysfs), 'device', 'wwid'))
        else:
            found = self.wait_for_lun()
            wwids = sorted(set(device.wwid for device in found))
            if len(wwids) > 1:
                raise ModuleError('%d LUNs match (%s); say which one with lun or wwid'
                                  % (len(wwids), ', '.join('%s=%s' % (d.name, d.wwid) for d in found)))
            name, wwid = found[0].name, found[0].wwid
            if len(found) > 1 and not any(device.multipath for device in found):
                self.module.warn('%d paths lead to this LUN and no multipath map holds them; using %s'
                                 % (len(found), found[0].path))
        name = blockdev.multipath_holder(name, self.paths.sysfs) or name
        return name, (wwid or '').lower() or None

    def wait_for_lun(self):
        params = self.params
        filters = dict(target=params['target'], portal=params['portal'], lun=params['lun'],
                       wwid=params['wwid'], serial=params['serial'])
        described = ', '.join('%s=%s' % (key, value) for key, value in sorted(filters.items()) if value is not None)

        def predicate():
            found = devices.find_devices(sysfs_root=self.paths.sysfs, dev_root=self.paths.dev,
                                         mountinfo=self.paths.mountinfo, **filters)
            return found, ([] if found else ['a LUN with %s' % described])
        try:
            return devices.wait_for_devices(predicate, params['timeout'], settle=blockdev.udev_settler(self.runner))
        except InvalidName as exc:
            raise ModuleError('invalid target or portal: %s' % exc)
        except devices.DeviceWaitTimeout:
            raise ModuleError('no block device found for %s within %ss (is the session logged in?)'
                              % (described, params['timeout']))

    # --- content detection ---------------------------------------------------------------------

    def detect(self, lun_name):
        path = blockdev.device_path(lun_name, self.paths.sysfs, self.paths.dev)
        fields = blockdev.probe(self.runner, path)
        if not fields:
            raise ModuleError('%s is blank: no filesystem, partition table or LVM signature was found '
                              '(this module never formats a device)' % path)
        if fields.get('PTTYPE') and not fields.get('TYPE'):
            return self.pick_partition(lun_name, path, fields['PTTYPE'])
        if self.params['partition'] is not None:
            raise ModuleError('partition %d was asked for, but %s has no partition table (it holds %s)'
                              % (self.params['partition'], path, fields.get('TYPE')))
        return self.usable(Content(lun_name, path, fields))

    def usable(self, content):
        fields = content.fields
        if fields.get('USAGE') != 'filesystem' and not content.is_lvm:
            raise ModuleError('%s holds %s (%s), which is neither a filesystem nor an LVM PV'
                              % (content.path, fields.get('TYPE', 'nothing known'), fields.get('USAGE', '?')))
        wanted = self.params['fstype']
        if wanted and not content.is_lvm and content.fstype != wanted:
            raise ModuleError('%s holds %s, not %s' % (content.path, content.fstype, wanted))
        return content

    def pick_partition(self, lun_name, path, pttype):
        table = blockdev.partitions(self.runner, path)
        nodes = blockdev.partition_devices(lun_name, self.paths.sysfs)
        wanted = self.params['partition']
        if wanted is not None:
            if wanted not in [row['nr'] for row in table]:
                raise ModuleError('%s (%s label) has no partition %d; it has: %s'
                                  % (path, pttype, wanted, ', '.join(str(row['nr']) for row in table) or 'none'))
            return self.usable(self.partition_content(nodes, wanted, path))
        candidates = []
        described = []
        for row in table:
            if row['nr'] not in nodes:
                described.append('%d (no kernel device)' % row['nr'])
                continue
            content = self.partition_content(nodes, row['nr'], path)
            holds = content.fields.get('TYPE', 'nothing')
            described.append('%d: %s' % (row['nr'], holds))
            if content.fields.get('USAGE') == 'filesystem' or content.is_lvm:
                candidates.append(content)
        if len(candidates) == 1:
            return self.usable(candidates[0])
        if not candidates:
            raise ModuleError('no partition of %s (%s label) holds a filesystem or LVM PV; partitions: %s'
                              % (path, pttype, '; '.join(described) or 'none'))
        raise ModuleError('%d partitions of %s hold a filesystem or LVM PV; choose one with partition: %s'
                          % (len(candidates), path, '; '.join(
                              '%d (%s%s)' % (c.partition, c.fields.get('TYPE'),
                                             ', label %s' % c.fields['LABEL'] if c.fields.get('LABEL') else '')
                              for c in candidates)), candidates=[c.partition for c in candidates])

    def partition_content(self, nodes, number, disk_path):
        if number not in nodes:
            raise ModuleError('the kernel has no device for partition %d of %s (run partx --add or rescan)'
                              % (number, disk_path))
        name = nodes[number]
        path = blockdev.device_path(name, self.paths.sysfs, self.paths.dev)
        return Content(name, path, blockdev.probe(self.runner, path), partition=number)

    # --- protections ---------------------------------------------------------------------------------

    def protect(self, content, lower=True):
        """Kernel read-only flag on the content and (LOWER) its disk and every path under a multipath map."""
        names = [content.name] + (blockdev.lower_devices(content.name, self.paths.sysfs) if lower else [])
        for name in names:
            if not blockdev.is_read_only(name, self.paths.sysfs):
                self.changed()
                if not self.check:
                    blockdev.set_read_only(self.runner, blockdev.device_path(name, self.paths.sysfs, self.paths.dev))

    def refuse_if_written_elsewhere(self, entries, content):
        majmin = blockdev.majmin(content.name, self.paths.sysfs)
        for entry in mounts.mounts_of(entries, majmin):
            if 'rw' in entry.options:
                raise ModuleError('%s is already mounted read-write at %s; a snapshot mount would not be '
                                  'read-only' % (content.path, entry.mountpoint))

    # --- LVM --------------------------------------------------------------------------------------------

    def prepare_lvm(self, content, wwid, activate):
        pv_path = content.path
        pv, vg_row = self.engine.vg_on(pv_path)
        vg = pv['vg_name']
        if int(vg_row.get('pv_count') or 1) != 1:
            raise ModuleError('VG %s spans %s PVs; only one LUN (%s) was given' % (vg, vg_row['pv_count'], pv_path))
        lv_rows = self.lvm.lvs(vg, devices=[pv_path], readonly=True)
        lv = choose_lv(vg, lv_rows, self.params['lv'])
        self.result.update(vg=vg, lv=lv, clone_vg=None)
        if self.snapshot:
            return self.prepare_clone(content, pv, lv_rows, lv, wwid, activate)
        self.engine.refuse_clash(pv, pv_path)
        planned = self.planned('/dev/%s/%s' % (vg, lv))
        if not activate:
            return self.lv_target(vg, lv, None) if self.engine.lv_is_active(vg, lv) else planned
        self.changed()
        if self.check:
            return planned
        self.lvm.activate_lv(vg, lv)
        return self.lv_target(vg, lv, None)

    def prepare_clone(self, content, pv, lv_rows, lv, wwid, activate):
        name = self.params['clone_vg'] or default_clone_name(pv['vg_name'], wwid)
        if not valid_vg_name(name):
            raise ModuleError('clone_vg %r is not a valid VG name' % name)
        self.result['clone_vg'] = name
        clone = self.engine.clone(name, content.name, content.path, pv)
        self.engine.release_autoactivated(clone, lv_rows)
        if not activate:
            return self.planned(None)
        if not clone.imported:
            self.engine.refuse_taken_name(name)
        self.protect(content)
        planned = self.planned('/dev/%s/%s' % (name, lv))
        if not clone.imported:
            self.changed()
            if self.check:
                return planned
            self.engine.import_clone(clone)
        self.changed()
        if self.check:
            return planned
        self.engine.activate_clone_lv(clone, lv)
        return self.lv_target(name, lv, [clone.overlay_path])

    def lv_target(self, vg, lv, scope):
        name, dm_path = self.engine.lv_device(vg, lv, scope)
        fields = blockdev.probe(self.runner, dm_path)
        content = Content(name, dm_path, fields)
        if content.is_lvm or fields.get('USAGE') != 'filesystem':
            raise ModuleError('LV %s/%s holds %s, not a filesystem' % (vg, lv, fields.get('TYPE', 'nothing known')))
        return self.usable(content)

    def planned(self, path):
        """Stand-in for an LV that check mode (or state=present) does not activate."""
        return Content(None, path, {'TYPE': self.params['fstype']} if self.params['fstype'] else {})

    # --- mounting -------------------------------------------------------------------------------------------

    def mount_options(self, fstype):
        if not self.snapshot:
            return list(self.options)
        return merge_options(safe_options(fstype), self.options, self.params['unsafe_options'])

    def mount(self, target):
        options = self.mount_options(target.fstype)
        self.result.update(device=target.path, fstype=target.fstype, options=options,
                           uuid=target.fields.get('UUID'), label=target.fields.get('LABEL'))
        if self.snapshot and 'rw' not in options and target.name:
            # an LV of a clone: only the LV itself, its overlay below must stay writable for the import
            self.protect(target, lower=not self.result.get('clone_vg'))
        self.changed()
        if self.check:
            return
        if not os.path.isdir(self.path):
            os.makedirs(self.path, 0o755)
        mounts.mount(self.runner, target.path, self.path, target.fstype, options)
        self.result['read_only'] = blockdev.is_read_only(target.name, self.paths.sysfs) and 'ro' in options

    def already_mounted(self, current, content):
        mounted = (blockdev.name_of_majmin(current.majmin, self.paths.sysfs)
                   or blockdev.kernel_name(current.source, self.paths.sysfs))
        if mounted is None or (mounted != content.name
                               and content.name not in blockdev.lower_devices(mounted, self.paths.sysfs)):
            raise ModuleError('%s already has %s mounted, which is not on %s'
                              % (self.path, current.source, content.path))
        if self.snapshot and 'ro' not in current.options:
            raise ModuleError('%s is mounted read-write; unmount it before mounting it as a snapshot' % self.path)
        fields = content.fields if mounted == content.name else {'TYPE': current.fstype}
        target = Content(mounted, blockdev.device_path(mounted, self.paths.sysfs, self.paths.dev), fields)
        if content.is_lvm:
            self.describe_mounted_lv(mounted, content)
        self.result.update(device=target.path, fstype=current.fstype, options=current.options,
                           uuid=fields.get('UUID'), label=fields.get('LABEL'),
                           read_only=blockdev.is_read_only(mounted, self.paths.sysfs) and 'ro' in current.options)
        return target

    def describe_mounted_lv(self, name, content):
        found = self.engine.lv_on_device(name)
        if not found:
            raise ModuleError('%s is mounted from %s, which is not an LV' % (self.path, name))
        pv = self.engine.pv_row(content.path)
        vg, lv, overlays = found
        self.result.update(vg=pv.get('vg_name'), lv=lv, clone_vg=vg if overlays else None)

    # --- fstab ----------------------------------------------------------------------------------------------

    def fstab_entry(self, content, target):
        fstype = target.fstype or self.params['fstype']
        if not fstype:
            raise ModuleError('the filesystem type of %s is unknown (LV not active); give fstype' % (target.path,))
        options = self.mount_options(fstype) + [opt for opt in FSTAB_OPTIONS if opt not in self.options]
        return mounts.fstab_line(self.fstab_source(content, target), self.path, fstype, options)

    def fstab_source(self, content, target):
        if content.is_lvm:
            return '/dev/%s/%s' % (self.result['vg'], self.result['lv'])
        uuid = content.fields.get('UUID')
        if uuid and not self.snapshot:
            link = os.path.join(self.paths.dev, 'disk', 'by-uuid', uuid)
            if os.path.basename(os.path.realpath(link)) == content.name:
                return 'UUID=%s' % uuid
        stable = blockdev.stable_identifier(content.name, self.paths.dev)
        if stable is None:
            raise ModuleError('%s has no stable name (no UUID, /dev/disk/by-id or by-path link); refusing to '
                              'write /dev/%s to fstab' % (content.path, content.name))
        return stable

    def update_fstab(self, line):
        """Set the fstab entry of the mount point to LINE (None: remove it).

        Read and written under the host lock: two runs on one host editing fstab at once would otherwise each
        write the file they read, and the first one's entry would be lost.
        """
        if self.check:
            return self.edit_fstab(line)
        try:
            with host_lock().held('edit %s for %s' % (self.params['fstab'], self.path)):
                return self.edit_fstab(line)
        except HostLockTimeout as error:
            raise ModuleError(error.msg)

    def edit_fstab(self, line):
        fstab = self.params['fstab']
        before = mounts.read_text(fstab)
        after = mounts.update_fstab(before, self.path, line)
        self.result['fstab_line'] = line
        if after == before:
            return
        self.changed()
        if self.module._diff:
            self.result['diff'] = {'before': before, 'after': after, 'before_header': fstab, 'after_header': fstab}
        if not self.params['daemon_reload']:
            self.result['reload_needed'] = mounts.systemd_reads_fstab(self.runner, fstab)
        if not self.check:
            mounts.write_fstab(self.module, fstab, after)
            if self.params['daemon_reload']:
                mounts.reload_systemd_fstab(self.runner, fstab)

    # --- unmounting -----------------------------------------------------------------------------------------

    def ensure_unmounted(self):
        self.result.pop('snapshot')
        current = mounts.mount_at(mounts.read_mountinfo(self.paths.mountinfo), self.path)
        if current is None:
            return
        name = (blockdev.name_of_majmin(current.majmin, self.paths.sysfs)
                or blockdev.kernel_name(current.source, self.paths.sysfs))
        self.result.update(device=current.source, fstype=current.fstype, options=current.options)
        busy = mounts.process_holders(current.majmin, self.paths.proc)
        if busy:
            self.result['processes'] = busy
            if not self.params['force']:
                raise ModuleError('%s is busy: %s; stop them or use force: true'
                                  % (self.path, mounts.describe_holders(busy)), processes=busy)
        self.changed()
        if self.check:
            return
        if busy:
            mounts.terminate([proc['pid'] for proc in busy])
        mounts.umount(self.runner, self.path)
        if name and blockdev.is_lvm_volume(name, self.paths.sysfs):
            self.release_lv(name)

    def release_lv(self, name):
        found = self.engine.lv_on_device(name)
        if not found:
            return
        vg, lv, overlays = found
        self.result.update(lv=lv, clone_vg=vg if overlays else None, vg=None if overlays else vg)
        self.engine.release_lv(vg, lv, overlays)

    def changed(self):
        self.result['changed'] = True


# the options of one mount point, but its path: at the top level, or in each entry of mounts
ENTRY_SPEC = dict(
    device=dict(type='path'),
    target=dict(type='str'),
    portal=dict(type='str'),
    lun=dict(type='int'),
    wwid=dict(type='str'),
    serial=dict(type='str'),
    clone_vg=dict(type='str'),
)
SOURCE_EXCLUSIVE = [('device', 'target'), ('device', 'wwid'), ('device', 'serial')]
SOURCE_REQUIRED_BY = {'portal': 'target', 'lun': 'target'}


def failure_of(exc, partial):
    """The failure result of one mount point: what it had found and done (PARTIAL), then the error."""
    result = dict(partial or {})
    if isinstance(exc, ToolError):
        result.update(exc.as_fail_kwargs())
    else:
        result.update(getattr(exc, 'extra', {}), msg=exc.msg)
        result.setdefault('error_code', 'lvm_refused')
    return result


def run_one(module, paths, params=None):
    """(result, None) or (None, failure result) for one mount point."""
    manager = None
    try:
        manager = LunMount(module, paths, params)
        return manager.run(), None
    except (ModuleError, LvmRefusal, ToolError) as exc:
        return None, failure_of(exc, manager.result if manager else None)


def run_many(module, paths):
    """O(mounts): each entry as a call of its own with the module's other options, in order. Mounting
    stops at the first failure; unmounting goes on, so a teardown leaves as little as it can."""
    stop_at_failure = module.params['state'] in ('mounted', 'present')
    for index, entry in enumerate(module.params['mounts']):
        if stop_at_failure and not any(entry[key] for key in ('device', 'target', 'wwid', 'serial')):
            module.fail_json(msg='mounts[%d] (%s) needs one of device, target, wwid or serial to be %s'
                             % (index, entry['path'], module.params['state']), error_code='invalid')
    results, failed = [], []
    for entry in module.params['mounts']:
        params = dict(module.params, mounts=None, **entry)
        done, failure = run_one(module, paths, params)
        if failure is None:
            results.append(done)
            continue
        failure.update(failed=True, mountpoint=failure.get('mountpoint', os.path.normpath(entry['path'])))
        results.append(failure)
        failed.append(failure)
        if stop_at_failure:
            break
    changed = any(result.get('changed') for result in results)
    diffs = [result.pop('diff') for result in results if 'diff' in result]
    extra = dict(diff=diffs) if diffs else {}
    if not failed:
        module.exit_json(changed=changed, mounts=results, **extra)
    first = failed[0]
    details = dict((key, first[key]) for key in ('cmd', 'rc', 'stdout', 'stderr') if key in first)
    module.fail_json(msg='; '.join('%s: %s' % (result['mountpoint'], result['msg']) for result in failed),
                     changed=changed, mounts=results, error_code=first['error_code'], **dict(details, **extra))


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    module = AnsibleModule(
        argument_spec=dict(
            ENTRY_SPEC,
            path=dict(type='path'),
            mounts=dict(type='list', elements='dict', options=dict(ENTRY_SPEC, path=dict(type='path', required=True)),
                        mutually_exclusive=SOURCE_EXCLUSIVE, required_by=SOURCE_REQUIRED_BY),
            state=dict(type='str', default='mounted', choices=['mounted', 'unmounted', 'present', 'absent']),
            partition=dict(type='int'),
            lv=dict(type='str'),
            fstype=dict(type='str'),
            options=dict(type='list', elements='str', default=[]),
            snapshot=dict(type='bool', default=False),
            unsafe_options=dict(type='bool', default=False),
            persistent=dict(type='bool'),
            fstab=dict(type='path', default='/etc/fstab'),
            daemon_reload=dict(type='bool', default=True),
            force=dict(type='bool', default=False),
            timeout=dict(type='int', default=30),
        ),
        required_one_of=[('path', 'mounts')],
        mutually_exclusive=SOURCE_EXCLUSIVE + [('mounts', name) for name in ['path'] + sorted(ENTRY_SPEC)],
        required_by=SOURCE_REQUIRED_BY,
        required_if=[('state', 'mounted', ('device', 'target', 'wwid', 'serial', 'mounts'), True),
                     ('state', 'present', ('device', 'target', 'wwid', 'serial', 'mounts'), True)],
        supports_check_mode=True,
    )
    if module.params['partition'] is not None and module.params['partition'] < 1:
        module.fail_json(msg='partition must be 1 or more', error_code='invalid')
    if module.params['timeout'] < 1:
        module.fail_json(msg='timeout must be 1 or more', error_code='invalid')
    if module.params['mounts'] is not None:
        run_many(module, paths)
    result, failure = run_one(module, paths)
    if failure is None:
        module.exit_json(**result)
    module.fail_json(changed=bool(failure.pop('changed', False)), **failure)


if __name__ == '__main__':
    main()
