#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: lun_device
short_description: Make a host see, or stop seeing, exactly these iSCSI LUNs (by WWID) without touching its sessions
version_added: 0.1.0
description:
  - Works on the SCSI disks of given LUNs, found by WWID, on the host's logged-in iSCSI sessions. The sessions
    themselves are not changed; other LUNs of the same targets are left alone.
  - V(present) rescans the sessions (all of them, or those of O(target)) and waits until every LUN has a disk
    that udev has finished with (and its multipath map where multipathd runs) - for a LUN that was mapped to
    this host after the login.
  - V(absent) flushes the multipath maps built only on these LUNs' disks and deletes the disks from the kernel
    - before the LUNs are unmapped on the SAN, so the host is not left with dead paths. A LUN still in use
    (mounted, swap, an active LV, anything stacked on it, or C(/)) is refused, and nothing is removed.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what it would scan or remove; nothing is scanned, flushed or deleted.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
    details: Linux with open-iscsi sessions (sysfs).
options:
  wwids:
    description: WWIDs of the LUNs (C(naa.6...)), as the kernel and M(san.iscsi.lun) report them; case-insensitive.
    type: list
    elements: str
    required: true
  state:
    description: Whether the host has disks for these LUNs.
    type: str
    choices: [present, absent]
    default: present
  target:
    description: With O(state=present), rescan only the sessions of this target (IQN, case-insensitive).
    type: str
  multipath:
    description:
      - With O(state=present), whether to wait for a multipath map of each LUN too; V(auto) waits when
        multipathd runs.
    type: str
    choices: [auto, 'yes', 'no']
    default: auto
  timeout:
    description: Seconds to wait for the LUNs' disks with O(state=present).
    type: int
    default: 30
seealso:
  - module: san.iscsi.session
  - module: san.iscsi.volume_group
notes:
  - Only disks of iSCSI sessions are touched; a WWID that also has a disk on another transport is refused.
'''

EXAMPLES = r'''
- name: Let go of the two LUNs of a VG that is moving away (the VG is exported already)
  san.iscsi.lun_device:
    wwids: "{{ exported.pvs | map(attribute='wwid') | list }}"
    state: absent

- name: The LUNs were mapped to this host after the login - rescan and wait for them
  san.iscsi.lun_device:
    wwids: [naa.6001405a1b2c3d4e5f60718293a4b5c6, naa.6001405b1b2c3d4e5f60718293a4b5c7]
    target: iqn.2026-11.com.example:storage
'''

RETURN = r'''
luns:
  description: Each LUN asked for, with its disks after the run (before, for V(absent) in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    wwid:
      description: The WWID, lower case.
      type: str
    devices:
      description: Its disks (kernel paths), one per session path.
      type: list
      elements: str
    multipath:
      description: Its multipath map, or null.
      type: str
removed:
  description: The disks deleted (or that would be) with O(state=absent).
  returned: always
  type: list
  elements: str
scanned:
  description: The session ids rescanned (or that would be) with O(state=present).
  returned: always
  type: list
  elements: int
error_code:
  description: Why it failed - V(devices_busy), V(not_iscsi), V(timeout), V(no_session), or V(command_failed).
  returned: on failure
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _devices as devices
from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, Runner, fail_with
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import names_equal


class LunDeviceError(CommandError):
    """A refusal: MSG says why; ERROR_CODE is the stable word roles test; EXTRA goes into the result."""

    def __init__(self, msg, error_code, **extra):
        super(LunDeviceError, self).__init__(msg, error_code=error_code)
        self.extra = extra


class LunDevices(object):
    """The disks of LUNs given by WWID. PATHS: the host's roots (a HostPaths)."""

    def __init__(self, module, paths):
        self.module = module
        self.params = module.params
        self.paths = paths
        self.disks = devices.SessionDisks(Runner(module), paths)
        self.wwids = []
        for wwid in self.params['wwids']:
            if wwid.strip().lower() not in self.wwids:
                self.wwids.append(wwid.strip().lower())
        self.result = {'changed': False, 'removed': [], 'scanned': []}

    def find(self, wwid):
        return devices.find_devices(wwid=wwid, sysfs_root=self.paths.sysfs, dev_root=self.paths.dev,
                                    mountinfo=self.paths.mountinfo)

    def report(self):
        luns = []
        for wwid in self.wwids:
            found = self.find(wwid)
            luns.append({'wwid': wwid, 'devices': [device.path for device in found],
                         'multipath': next((device.multipath for device in found if device.multipath), None)})
        self.result['luns'] = luns

    def run(self):
        if not self.wwids:
            raise LunDeviceError('wwids must name at least one LUN', 'invalid')
        if self.params['state'] == 'absent':
            self.remove()
        else:
            self.add()
        self.report()
        return self.result

    # --- absent ------------------------------------------------------------------------------------------

    def remove(self):
        found = [device for wwid in self.wwids for device in self.find(wwid)]
        other = [device.path for device in found if device.session_id is None]
        if other:
            raise LunDeviceError('%s: not disks of iSCSI sessions; refusing to delete them' % ', '.join(other),
                                 'not_iscsi')
        try:
            busy = self.disks.not_releasable(found)
        except devices.DevicesBusy as exc:
            raise LunDeviceError(str(exc), 'devices_busy')
        if busy:
            raise LunDeviceError('LUNs still in use, nothing removed: %s' % '; '.join(busy), 'devices_busy')
        self.result['removed'] = [device.path for device in found]
        if not found:
            return
        self.result['changed'] = True
        if not self.module.check_mode:
            self.disks.release(found, warn=self.module.warn)

    # --- present -----------------------------------------------------------------------------------------

    def sessions(self):
        target = self.params['target']
        chosen = []
        for sid in devices.session_ids(self.paths.sysfs):
            info = devices.session_info(sid, self.paths.sysfs)
            if target is None or names_equal(info.get('target'), target):
                chosen.append(sid)
        return chosen

    def missing(self):
        """(devices, what is missing) of the wanted LUNs: a disk per LUN that udev is done with."""
        need_multipath = self.disks.multipath_expected(self.params['multipath'])
        found, missing = [], []
        for wwid in self.wwids:
            disks = [device for device in self.find(wwid) if device.session_id is not None]
            found.extend(disks)
            if not disks:
                missing.append('a disk of LUN %s' % wwid)
            for device in disks:
                missing.extend(self.disks.ready(device, need_multipath))
        return found, missing

    def add(self):
        _found, missing = self.missing()
        if not missing:
            return
        sids = self.sessions()
        if not sids:
            raise LunDeviceError('no iSCSI session%s on this host to find LUNs on' % (
                ' of %s' % self.params['target'] if self.params['target'] else ''), 'no_session')
        self.result.update(changed=True, scanned=sids)
        if self.module.check_mode:
            return
        for sid in sids:
            devices.scan_session(sid, self.paths.sysfs)
        try:
            self.disks.wait(self.missing, self.params['timeout'])
        except devices.DeviceWaitTimeout as exc:
            raise LunDeviceError(str(exc), 'timeout', missing=exc.missing)


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    module = AnsibleModule(
        argument_spec=dict(
            wwids=dict(type='list', elements='str', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            target=dict(type='str'),
            multipath=dict(type='str', default='auto', choices=['auto', 'yes', 'no']),
            timeout=dict(type='int', default=30),
        ),
        supports_check_mode=True,
    )
    if module.params['timeout'] < 1:
        module.fail_json(msg='timeout must be 1 or more', error_code='invalid')
    manager = None
    try:
        manager = LunDevices(module, paths or HostPaths())
        module.exit_json(**manager.run())
    except CommandError as exc:  # a refusal (LunDeviceError) or a failed command (ToolError)
        fail_with(module, exc, manager.result if manager else None, **getattr(exc, 'extra', {}))
    except OSError as exc:
        module.fail_json(msg='rescanning the sessions failed: %s' % exc, error_code='command_failed',
                         changed=bool(manager and manager.result['changed']))


if __name__ == '__main__':
    main()
