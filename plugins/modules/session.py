#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: session
short_description: Log an initiator in to or out of an iSCSI target, on one or several portals (multipath)
version_added: 0.1.0
description:
  - O(state=logged_in) logs in to the target on O(portal), on each of O(portals), or on every portal of the
    target's node records, then waits, event-driven (C(udevadm settle) and sysfs polling, no fixed sleep), for
    the LUNs asked for and, when multipathd runs, for their multipath maps.
  - The node records it needs are created one after the other, then the logins to several portals run at the
    same time, as C(iscsiadm -m node -T TARGET --login) does for all of a target's records, so a multipath login
    takes about as long as the slowest portal.
  - O(state=logged_out) refuses while a device of the sessions is mounted, used as swap, or holds an active
    LVM volume, unless O(force); it always refuses when a device backs C(/). Before logging out it flushes and
    deletes the SCSI devices through sysfs (and flushes a multipath map built only on them); the logouts of
    several sessions then run at the same time.
  - Sessions are keyed on the exact (target, portal, iface); target names compare case-insensitively.
  - A failed login or wait logs out the sessions and deletes the node records that this run created.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.iscsi
attributes:
  check_mode:
    support: full
    details:
      - Predicts which portals would be logged in to or out of, which record settings would be written
        (O(node_settings)) and whether O(iface) would be created or deleted; never writes, logs in, scans or waits.
  diff_mode:
    support: none
  platform:
    platforms: linux
requirements:
  - open-iscsi (C(iscsiadm)) and the iscsi_tcp kernel module on the managed host
  - udev (C(udevadm)) for the device wait; multipath-tools for multipath maps
seealso:
  - module: san.iscsi.discovery
  - module: san.iscsi.node
  - module: san.iscsi.iscsi_info
  - module: san.iscsi.lun_device
options:
  target:
    description: Target name (C(iqn.), C(eui.) or C(naa.)).
    type: str
    required: true
  portal:
    description: One portal, C(host[:port]) (IPv6 in brackets, port 3260 when omitted).
    type: str
  portals:
    description:
      - Several portals, one session each (multipath).
      - With neither O(portal) nor O(portals), every portal of the target's node records (O(state=logged_in))
        or every session of the target (O(state=logged_out)).
    type: list
    elements: str
  iface:
    description: open-iscsi interface name.
    type: str
    default: default
  state:
    description: Whether the sessions exist.
    type: str
    default: logged_in
    choices: [logged_in, logged_out]
  luns:
    description:
      - LUN numbers (0-16383) that must show up on every session. Default, all LUNs the target presents
        (at least one).
    type: list
    elements: int
  wait:
    description:
      - Scan new sessions and wait for their devices. With V(false) the module returns right after the
        login and does not scan, so a record with C(node.session.scan=manual) stays unscanned.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the devices (and for a recovering session to be logged in again).
    type: int
    default: 120
  multipath:
    description:
      - Whether to wait for each LUN's dm-multipath map too. C(auto) waits when multipathd runs.
      - Only paths that multipath's udev rules claim (C(DM_MULTIPATH_DEVICE_PATH=1)) are waited for; with
        C(find_multipaths strict) and a WWID not yet in C(/etc/multipath/wwids) there is no map to wait for.
    type: str
    default: auto
    choices: [auto, 'yes', 'no']
  create_node:
    description:
      - Create a missing node record for an explicit portal before the login.
      - The record is created with the portal's group tag, so that records of the same target and portal
        through other ifaces (another run's, or the host's own) are never replaced. A portal given as
        C(host:port,TPGT) is used as given; otherwise the tag is learnt from a SendTargets discovery at that
        portal through O(iface), which writes nothing.
    type: bool
    default: true
  rescan:
    description:
      - Rescan existing sessions for LUNs added or resized since the login (C(iscsiadm -m session -r SID --rescan)).
        Real runs only; reported as changed when the set of devices changed.
    type: bool
    default: false
  force:
    description:
      - With O(state=logged_out), log out even while devices are mounted, used as swap or hold active LVM
        volumes (their I/O then fails). Never for a device that backs C(/).
    type: bool
    default: false
  wwids:
    description:
      - With O(state=logged_out), let go of just these LUNs (WWIDs, C(naa.6...), case-insensitive) and log out
        only where nothing else remains - the step before these LUNs are unmapped on the SAN. Their disks are
        deleted from every session of O(target) (within O(portals) and O(iface)) and their multipath maps
        flushed, as M(san.iscsi.lun_device) does; then the sessions left with no disk are logged out (and their
        node records deleted with O(remove_node)). Sessions that still carry another LUN stay logged in and are
        listed in RV(kept).
      - A LUN in use (mounted, swap, an active LV, anything stacked on it, or C(/)) is refused before anything
        changes (C(error_code=devices_busy)). An empty list logs out only the sessions that carry no disk.
      - Not with O(force).
    type: list
    elements: str
  remove_node:
    description: With O(state=logged_out), also delete the node records of the portals.
    type: bool
    default: false
  node_settings:
    description:
      - With O(state=logged_in), node record settings by their iscsiadm names, for example
        C(node.session.timeo.replacement_timeout) or C(node.conn[0].timeo.noop_out_interval), written to every
        node record of the target on the portals asked for (records this run creates and existing ones) before
        the login, and only where the stored value differs (compared with C(iscsiadm -m node -o show)).
        Booleans become C(Yes)/C(No); the same rules as the O(san.iscsi.node#module:settings) option of
        M(san.iscsi.node).
      - A record whose session is already logged in gets the settings written too; they take effect at the next
        login of that record (log out and in again to apply them now).
      - Passwords and other auth secrets are refused (use M(san.iscsi.node)), as are the settings that identify
        the record (C(node.name), C(node.tpgt), C(node.conn[0].address), C(node.conn[0].port),
        C(iface.iscsi_ifacename)); a name the record does not have is refused before anything is written.
      - Ignored with O(state=logged_out) (still checked for refused names).
    type: dict
    default: {}
  create_iface:
    description:
      - With O(state=logged_in), create O(iface) (C(iscsiadm -m iface -I NAME -o new), tcp transport defaults)
        when it does not exist yet, before creating node records. Needs O(portal) or O(portals) when it creates
        one. Built-in interfaces (C(default), C(iser)) are never created.
      - A failed login deletes an iface this run created, along with the node records it created.
      - Ignored with O(state=logged_out).
    type: bool
    default: false
  remove_iface:
    description:
      - With O(state=logged_out) and O(remove_node=true), delete O(iface) after the logout and the record removal
        when no session and no node record (of any target) uses it any more; an iface that does not exist is
        skipped. Built-in interfaces (C(default), C(iser)) are never deleted.
      - Ignored with O(state=logged_in).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Multipath login over both fabrics, wait for LUNs 0 and 1 and their dm maps
  san.iscsi.session:
    target: iqn.2026-11.lab.san-iscsi:array1
    portals: [10.10.1.1, 10.10.2.1]
    luns: [0, 1]
  register: login

- name: Show the device of LUN 1
  ansible.builtin.debug:
    msg: "{{ (login.luns | selectattr('lun', 'equalto', 1) | first).multipath }}"

- name: Log in on every portal of the node records (from discovery)
  san.iscsi.session:
    target: iqn.2026-11.lab.san-iscsi:array1

- name: Log out everywhere and forget the records
  san.iscsi.session:
    target: iqn.2026-11.lab.san-iscsi:array1
    state: logged_out
    remove_node: true

- name: Let go of two LUNs (unmapped next on the SAN), logging out where the target presents nothing else
  san.iscsi.session:
    target: iqn.2026-11.lab.san-iscsi:array1
    state: logged_out
    wwids: [naa.6001405a1b2c3d4e5f60718293a4b5c6, naa.6001405b1b2c3d4e5f60718293a4b5c7]
    remove_node: true

- name: Log in through a dedicated iface with a short replacement timeout (set on the records before the login)
  san.iscsi.session:
    target: iqn.2026-11.lab.san-iscsi:array1
    portals: [10.10.1.1, 10.10.2.1]
    iface: browse-1
    create_iface: true
    node_settings:
      node.session.timeo.replacement_timeout: 15
      node.startup: manual

- name: Log out, delete the records and the iface
  san.iscsi.session:
    target: iqn.2026-11.lab.san-iscsi:array1
    iface: browse-1
    state: logged_out
    remove_node: true
    remove_iface: true
'''

RETURN = r'''
lock_wait_seconds:
  description:
    - Seconds this run waited for the host lock (C(/run/lock/san.iscsi.lock)) that serialises the node-record
      changes and logins of this collection's runs on one host.
  returned: always
  type: float
  sample: 0.0
lock_waits:
  description: Each wait for the host lock.
  returned: always
  type: list
  elements: dict
  contains:
    seconds: {description: Seconds waited., type: float}
    holder: {description: What the holder wrote into the lock file (pid and what it was doing)., type: str}
    for: {description: What this run waited to do., type: str}
retries:
  description: iscsiadm calls retried after a race with another iscsiadm user on the host (each also warned about).
  returned: always
  type: list
  elements: dict
  contains:
    command: {description: The iscsiadm arguments., type: str}
    rc: {description: Exit code of the try that was retried., type: int}
    attempt: {description: Which try it was (1 is the first)., type: int}
    reason: {description: Why it counts as a race (from what iscsiadm printed)., type: str}
sessions:
  description: Sessions of the target on the portals asked for, after the run (before, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    sid: {description: Session id., type: int}
    target: {description: Target name., type: str}
    portal: {description: "Portal C(host:port), IPv6 in brackets.", type: str}
    tpgt: {description: Target portal group tag., type: int}
    iface: {description: Interface name., type: str}
    session_state: {description: "Kernel session state (C(LOGGED_IN), C(FAILED), ...).", type: str}
  sample: [{sid: 3, target: iqn.2026-11.lab.san-iscsi:array1, portal: 10.10.1.1:3260, tpgt: 1, iface: default,
            session_state: LOGGED_IN}]
logged_in:
  description: Portals logged in to by this run (would be, in check mode).
  returned: always
  type: list
  elements: str
logged_out:
  description: Portals logged out of by this run (would be, in check mode).
  returned: always
  type: list
  elements: str
kept:
  description: With O(wwids), the portals whose sessions stay logged in because they carry other LUNs.
  returned: always
  type: list
  elements: str
removed_nodes:
  description: Portals whose node record was deleted (would be, in check mode).
  returned: always
  type: list
  elements: str
updated_settings:
  description:
    - Node records whose settings this run changed (would change, in check mode) from O(node_settings), with the
      new values of the settings that differed. A record whose session was already logged in is listed too; its
      new values apply at its next login.
  returned: always
  type: list
  elements: dict
  contains:
    target: {description: Target name as stored., type: str}
    portal: {description: "Portal C(host:port), IPv6 in brackets.", type: str}
    iface: {description: Interface name., type: str}
    settings: {description: "Settings written, name to value as iscsiadm prints it.", type: dict}
  sample: [{target: iqn.2026-11.lab.san-iscsi:array1, portal: 10.10.1.1:3260, iface: default,
            settings: {node.session.timeo.replacement_timeout: '15'}}]
created_iface:
  description: Whether O(iface) was (would be, in check mode) created (O(create_iface)).
  returned: always
  type: bool
removed_iface:
  description: Whether O(iface) was (would be, in check mode) deleted (O(remove_iface)).
  returned: always
  type: bool
luns:
  description:
    - One entry per LUN number of the sessions (O(state=logged_in)), with its path devices.
  returned: always
  type: list
  elements: dict
  contains:
    lun: {description: LUN number., type: int}
    wwid: {description: "WWID (C(naa.6001405...)) in lower case.", type: str}
    size_bytes: {description: Size in bytes., type: int}
    vendor: {description: SCSI vendor., type: str}
    model: {description: SCSI model., type: str}
    multipath: {description: "C(/dev/mapper/NAME) of the dm-multipath map, or null.", type: str}
    devices: {description: "Path devices (C(/dev/sdX)), one per session.", type: list, elements: str}
    by_path: {description: C(/dev/disk/by-path) links of all paths., type: list, elements: str}
    by_id: {description: C(/dev/disk/by-id) links., type: list, elements: str}
    holders: {description: "Kernel names holding the paths (dm maps, LVs).", type: list, elements: str}
    mountpoints: {description: "Mount points on the LUN, its partitions and holders.", type: list, elements: str}
  sample: [{lun: 1, wwid: naa.6001405c0ffee0000000000000000001, size_bytes: 1073741824, vendor: LIO-ORG,
            model: lun1, multipath: /dev/mapper/mpatha, devices: [/dev/sda, /dev/sdb],
            by_path: [/dev/disk/by-path/ip-10.10.1.1:3260-iscsi-iqn.2026-11.lab.san-iscsi:array1-lun-1],
            by_id: [/dev/disk/by-id/wwn-0x6001405c0ffee0000000000000000001], holders: [dm-0], mountpoints: []}]
devices:
  description: Every path device (one per LUN per session) with all its attributes.
  returned: always
  type: list
  elements: dict
  contains:
    hctl: {description: "SCSI address C(H:C:T:L)", type: str}
    lun: {description: LUN number., type: int}
    name: {description: Kernel name (C(sda))., type: str}
    path: {description: C(/dev/sdX)., type: str}
    by_path:
      description:
        - The C(/dev/disk/by-path) links that resolve to this device.
        - The by-path name has no iface in it. When sessions of several ifaces reach one target through one
          portal, their devices of one LUN share a name and udev points it at one of them, so the others
          have none here. Use RV(luns[].by_id) or the WWID to name a LUN.
      type: list
      elements: str
    by_id: {description: by-id links., type: list, elements: str}
    wwid: {description: WWID in lower case., type: str}
    serial: {description: Unit serial number (VPD page 0x80)., type: str}
    size_bytes: {description: Size in bytes., type: int}
    vendor: {description: Vendor., type: str}
    model: {description: Model., type: str}
    revision: {description: Revision., type: str}
    multipath: {description: Multipath map or null., type: str}
    holders: {description: Holder kernel names., type: list, elements: str}
    partitions: {description: Partition kernel names., type: list, elements: str}
    mountpoints: {description: Mount points., type: list, elements: str}
    session_id: {description: Session id., type: int}
    target: {description: Target name., type: str}
    portal: {description: Portal., type: str}
    state: {description: SCSI device state., type: str}
'''


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, Runner
from ansible_collections.san.iscsi.plugins.module_utils._devices import (
    DevicePredicate, DevicesBusy, DeviceWaitTimeout, SessionDisks)
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    InvalidName, names_equal, parse_portal, validate_name)
from ansible_collections.san.iscsi.plugins.module_utils._iscsiadm import (
    BUILTIN_IFACES, IscsiadmError, NodeRecord, connect, fail, node_settings_text, raise_first, report_contention)
from ansible_collections.san.iscsi.plugins.module_utils._iscsid import read_initiator

MAX_LUN = 16383


class SessionError(Exception):
    """A refusal or a failed wait: the message is the whole story; error_code is for roles to test."""

    def __init__(self, msg, error_code='session_failed'):
        super(SessionError, self).__init__(msg)
        self.error_code = error_code


class SessionManager(object):
    """PATHS: the host's roots (a HostPaths; None for the real ones)."""

    def __init__(self, module, paths=None):
        self.module = module
        self.params = module.params
        self.iface = self.params['iface']
        self.target, self.portals = self.validate()
        self.iscsiadm = connect(module, timeout=60, paths=paths)
        self.disks = SessionDisks(Runner(module), paths)
        self.result = dict(changed=False, sessions=[], logged_in=[], logged_out=[], kept=[], removed_nodes=[], luns=[],
                           devices=[], updated_settings=[], created_iface=False, removed_iface=False)
        self.created_records = []
        self.created_sessions = []
        self.created_iface = False
        self._records = None
        self._discovered = []

    # --- input ---------------------------------------------------------------------------------

    def validate(self):
        try:
            target = validate_name(self.params['target'], 'target')
            texts = self.params['portals'] if self.params['portals'] is not None else (
                [self.params['portal']] if self.params['portal'] else [])
            portals = [parse_portal(text) for text in texts]
        except InvalidName as error:
            self.module.fail_json(msg=str(error))
        if self.params['portals'] is not None and not portals:
            self.module.fail_json(msg='portals is empty: leave it out to use every portal of the node records')
        if self.params['timeout'] <= 0:
            self.module.fail_json(msg='timeout must be greater than 0 (got %d)' % self.params['timeout'])
        bad = [lun for lun in self.params['luns'] or [] if not 0 <= lun <= MAX_LUN]
        if bad:
            self.module.fail_json(msg='luns: %s out of range 0-%d' % (', '.join(str(lun) for lun in bad), MAX_LUN))
        try:
            self.node_settings = node_settings_text(self.params['node_settings'], 'node_settings',
                                                    'the chap_password/chap_password_in options of san.iscsi.node')
        except ValueError as error:
            self.module.fail_json(msg=str(error))
        self.wwids = None
        if self.params['wwids'] is not None:
            if self.params['state'] != 'logged_out' or self.params['force']:
                self.module.fail_json(msg='wwids is for state=logged_out without force: it lets go of LUNs that '
                                          'nothing uses', error_code='invalid')
            self.wwids = set(wwid.strip().lower() for wwid in self.params['wwids'])
        if self.params['remove_iface'] and self.params['state'] == 'logged_out' and not self.params['remove_node']:
            self.module.fail_json(msg='remove_iface needs remove_node=true: deleting an iface deletes the node '
                                      'records bound to it')
        return target, portals

    # --- shared --------------------------------------------------------------------------------

    def records(self):
        if self._records is None:
            self._records = self.iscsiadm.node_records()
        return self._records

    def target_records(self):
        return [r for r in self.records() if names_equal(r.target, self.target) and r.iface == self.iface]

    def target_sessions(self, sessions):
        mine = [s for s in sessions if names_equal(s.target, self.target) and s.iface == self.iface]
        if not self.portals:
            return mine
        return [s for s in mine if any(s.persistent_portal.same_as(portal) for portal in self.portals)]

    def run(self):
        sessions = self.iscsiadm.sessions()
        if self.params['state'] == 'logged_out':
            self.ensure_logged_out(sessions)
        else:
            self.ensure_logged_in(sessions)
        return self.result

    # --- logged_in -----------------------------------------------------------------------------

    def wanted_portals(self):
        if self.portals:
            return self.portals
        records = self.target_records()
        if not records:
            raise SessionError('no node record for target %s (iface %s): give portal/portals, or create records '
                               'with san.iscsi.discovery or san.iscsi.node' % (self.target, self.iface))
        return [record.portal for record in records]

    def ensure_logged_in(self, sessions):
        create_iface = self.iface_to_create()
        if create_iface and not self.portals:
            raise SessionError('iface %s does not exist, so no node record uses it: give portal/portals to log in '
                               'through it' % self.iface)
        wanted = self.wanted_portals()
        missing = [portal for portal in wanted if not any(s.matches(self.target, portal, self.iface) for s in sessions)]
        self.result['logged_in'] = [portal.address for portal in missing]
        records = dict((portal, self.record_for(portal)) for portal in missing)
        settings = self.settings_plan([records[p] for p in missing if records[p]] + self.logged_in_records(
            [p for p in wanted if p not in missing]))
        self.result['created_iface'] = create_iface
        self.result['updated_settings'] = [self.settings_entry(record, updates) for record, updates in settings]
        if self.module.check_mode:
            self.result['updated_settings'] += self.predicted_for_new_records(
                [portal for portal in missing if records[portal] is None])
        self.result['changed'] = bool(missing or create_iface or self.result['updated_settings'])
        if self.module.check_mode:
            self.report(self.target_sessions(sessions), self.disks.of_sessions(self.target_sessions(sessions)))
            return
        if create_iface:
            self.iscsiadm.iface_new(self.iface)
            self.created_iface = True
        for record, updates in settings:
            for name, value in sorted(updates.items()):
                self.iscsiadm.node_update(record, name, value)
        if missing:
            self.log_in(missing, records)
            sessions = self.iscsiadm.sessions()
        mine = [s for s in sessions if any(s.matches(self.target, p, self.iface) for p in self.wanted_portals())]
        changed_devices = self.rescan(mine, self.disks.of_sessions(mine)) if self.params['rescan'] else False
        new_sids = set(s.sid for s in mine if any(s.persistent_portal.same_as(p) for p in missing))
        devices = self.wait_for_devices(mine, new_sids, waited=bool(missing) or changed_devices)
        self.result['changed'] = self.result['changed'] or changed_devices
        self.report(mine, devices)

    def iface_to_create(self):
        """Whether this run must create O(iface) (create_iface, not built in, not listed by iscsiadm)."""
        if not self.params['create_iface'] or self.iface in BUILTIN_IFACES:
            return False
        return self.iface not in self.iscsiadm.iface_names()

    def logged_in_records(self, portals):
        """Node records of the portals that already have a session (their settings apply at the next login)."""
        if not self.node_settings:
            return []
        return [record for record in self.target_records() if any(record.portal.same_as(p) for p in portals)]

    def settings_plan(self, records):
        """[(record, {name: text})] of node_settings that differ per record; reads only, refuses unknown names."""
        plan = []
        for record in records if self.node_settings else []:
            updates = self.record_settings(record, check_mode=True)
            if updates:
                plan.append((record, updates))
        return plan

    def predicted_for_new_records(self, portals):
        """Check mode: a record this run would create gets every setting of node_settings."""
        if not self.node_settings:
            return []
        return [self.settings_entry(NodeRecord(self.target, portal, self.iface), dict(self.node_settings))
                for portal in portals]

    @staticmethod
    def settings_entry(record, updates):
        return dict(target=record.target, portal=record.portal.address, iface=record.iface, settings=updates)

    def record_for(self, portal):
        for record in self.target_records():
            if record.portal.same_as(portal):
                return record
        if not self.params['create_node'] or not self.portals:
            raise SessionError('no node record for %s at %s (iface %s) and create_node is false'
                               % (self.target, portal.address, self.iface))
        return None

    def log_in(self, portals, records):
        """Create the missing records (each with its tpgt), then log in to every portal at once.

        All under one hold of the host lock; the logins run side by side (see Iscsiadm.login_all). Any failure
        undoes what this run did (sessions, records, iface) and raises the first portal's error.
        """
        try:
            tagged = dict((portal, self.with_tpgt(portal)) for portal in portals if records[portal] is None)
            addresses = ', '.join(portal.address for portal in portals)
            with self.iscsiadm.locked('log in to %s at %s (iface %s)' % (self.target, addresses, self.iface)):
                for portal in portals:
                    if records[portal] is None:
                        records[portal] = self.iscsiadm.node_new(self.target, tagged[portal], self.iface,
                                                                 records=self.records())
                        self.created_records.append(records[portal])
                        self.apply_settings_to_new_record(records[portal])
                errors = self.iscsiadm.login_all([records[portal] for portal in portals])
            self.created_sessions.extend(records[portal] for portal, error in zip(portals, errors) if error is None)
            raise_first(errors)
        except (IscsiadmError, SessionError) as error:
            self.undo()
            raise error

    def with_tpgt(self, portal):
        """PORTAL with its target portal group tag: as given, or from a SendTargets discovery (writes nothing).

        One discovery usually answers for every portal of the target, so its answer is kept for the next portal.
        """
        if portal.tpgt is not None:
            return portal
        tpgt = self.discovered_tpgt(portal)
        if tpgt is None:
            self._discovered.extend(self.discover_at(portal))
            tpgt = self.discovered_tpgt(portal)
        if tpgt is not None:
            return portal._replace(tpgt=tpgt)
        raise SessionError(
            'SendTargets discovery at %s does not list target %s on that portal, so its portal group tag is unknown: '
            'check the target name and the portal, or give the portal as "%s,TPGT"'
            % (portal.address, self.target, portal.address), error_code='tpgt_unknown')

    def discovered_tpgt(self, portal):
        """The tag the discoveries so far gave for this run's target on PORTAL, or None."""
        for found in self._discovered:
            if names_equal(found.target, self.target) and found.portal.same_as(portal) and found.portal.tpgt is not None:
                return found.portal.tpgt
        return None

    def discover_at(self, portal):
        try:
            return self.iscsiadm.discover('sendtargets', portal, iface=self.iface)
        except IscsiadmError as error:
            error.msg += ('; the portal group tag of a new node record comes from this discovery: give the portal as '
                          '"%s,TPGT" where the target does not answer SendTargets' % portal.address)
            error.error_code = 'tpgt_unknown'
            raise

    def record_settings(self, record, check_mode=False):
        """node_settings that differ in RECORD, written unless CHECK_MODE -> {name: text}; unknown names refused."""
        try:
            return self.iscsiadm.node_apply_settings(record, self.node_settings, check_mode=check_mode)
        except ValueError as error:
            raise SessionError('node_settings: %s' % error)

    def apply_settings_to_new_record(self, record):
        if not self.node_settings:
            return
        updates = self.record_settings(record)
        if updates:
            self.result['updated_settings'].append(self.settings_entry(record, updates))

    def rescan(self, sessions, before):
        for session in sessions:
            self.iscsiadm.rescan_session(session.sid)
        after = self.disks.of_sessions(sessions)
        return [d.name for d in before] != [d.name for d in after]

    def wait_for_devices(self, sessions, new_sids, waited):
        if not self.params['wait']:
            return self.disks.of_sessions(sessions)
        for sid in sorted(new_sids) if self.params['luns'] is None else []:
            self.disks.scan(sid)
        predicate = DevicePredicate(self.disks, sessions, self.params['luns'],
                                    self.disks.multipath_expected(self.params['multipath']), self.initiator_hint())
        try:
            if not waited:
                devices, missing = predicate()
                if not missing:
                    return devices
                if not predicate.recovering:
                    raise DeviceWaitTimeout(missing, devices, 0)
                waited = True  # a session is reconnecting (target restarted): give it the timeout
            return self.disks.wait(predicate, self.params['timeout'])
        except DeviceWaitTimeout as error:
            self.undo()
            hint = '' if waited else ' (the sessions already existed: set rescan=true to find LUNs mapped since)'
            raise SessionError('%s%s; %s' % (error, hint, predicate.explain(error.devices)))

    def initiator_hint(self):
        return read_initiator(self.disks.paths.initiator_file)['name'] or 'this host'

    def undo(self):
        """Log out of the sessions and delete the records this run created; the caller re-raises its error."""
        try:
            sessions = self.iscsiadm.sessions() if self.created_sessions else []
            made = [(session.sid, record.target, record.portal.address) for record in self.created_sessions
                    for session in sessions if session.matches(record.target, record.portal, record.iface)]
            raise_first(self.iscsiadm.logout_sessions(made))
            for record in self.created_records:
                self.iscsiadm.node_delete(record)
            if self.created_iface:
                self.iscsiadm.iface_delete(self.iface)
        except IscsiadmError as error:
            self.module.warn('clean-up after the failure was incomplete: %s' % error)
        undone = [self.settings_entry(record, {}) for record in self.created_records]
        kept = [entry for entry in self.result['updated_settings'] if dict(entry, settings={}) not in undone]
        # settings written to records that existed before stay written: still a change
        self.result.update(logged_in=[], changed=bool(kept), created_iface=False, updated_settings=kept)
        self.created_sessions, self.created_records, self.created_iface = [], [], False

    # --- logged_out ----------------------------------------------------------------------------

    def ensure_logged_out(self, sessions):
        mine = self.target_sessions(sessions)
        devices = self.disks.of_sessions(mine)
        staying = []
        if self.wwids is None:
            self.refuse_if_busy(devices)
        else:
            devices, staying = self.release_only(mine, devices)
            mine = [s for s in mine if s not in staying]
        self.result['logged_out'] = [s.persistent_portal.address for s in mine]
        doomed = []
        if self.params['remove_node']:
            doomed = [r for r in self.target_records()
                      if (not self.portals or any(r.portal.same_as(p) for p in self.portals))
                      and not any(s.persistent_portal.same_as(r.portal) for s in staying)]
            self.result['removed_nodes'] = [r.portal.address for r in doomed]
        remove_iface = self.params['remove_node'] and self.params['remove_iface'] and self.iface not in BUILTIN_IFACES
        if self.module.check_mode:
            self.result['removed_iface'] = remove_iface and self.iface_removable_after(sessions, mine, doomed)
            self.result['changed'] = bool(mine or devices or doomed or self.result['removed_iface'])
            self.result['sessions'] = [session_dict(s) for s in mine]
            self.result['devices'] = [d.to_dict() for d in devices]
            return
        self.disks.release(devices, force=self.params['force'], warn=self.module.warn)
        raise_first(self.iscsiadm.logout_sessions(
            [(session.sid, session.target, session.persistent_portal.address) for session in mine]))
        for record in doomed:
            self.iscsiadm.node_delete(record)
        if remove_iface and self.iface_unused(self.iscsiadm.sessions(), self.iscsiadm.node_records()):
            self.result['removed_iface'] = self.iscsiadm.iface_delete(self.iface)
        self.result['changed'] = bool(mine or devices or doomed or self.result['removed_iface'])

    def release_only(self, mine, devices):
        """O(wwids): (the disks of those LUNs, to release; the sessions of MINE that carry other disks, to keep).
        Refuses before anything changes when one of those LUNs is in use."""
        chosen = [device for device in devices if (device.wwid or '').lower() in self.wwids]
        try:
            busy = self.disks.not_releasable(chosen)
        except DevicesBusy as error:
            raise SessionError('refusing to let go of the LUNs: %s' % error, error_code='devices_busy')
        if busy:
            raise SessionError('LUNs still in use, nothing changed: %s' % '; '.join(busy), error_code='devices_busy')
        carrying = set(device.session_id for device in devices if device not in chosen)
        staying = [session for session in mine if session.sid in carrying]
        self.result['kept'] = [session.persistent_portal.address for session in staying]
        return chosen, staying

    def iface_removable_after(self, sessions, mine, doomed):
        """Check mode: whether O(iface) exists and nothing would use it once MINE and DOOMED are gone."""
        unused = self.iface_unused([s for s in sessions if s not in mine], [r for r in self.records() if r not in doomed])
        return unused and self.iface in self.iscsiadm.iface_names()

    def iface_unused(self, sessions, records):
        """No session and no node record (of any target) is bound to O(iface)."""
        return not any(s.iface == self.iface for s in sessions) and not any(r.iface == self.iface for r in records)

    def refuse_if_busy(self, devices):
        try:
            busy = self.disks.busy(devices)
        except DevicesBusy as error:
            raise SessionError('refusing to log out: %s' % error)
        if busy and not self.params['force']:
            raise SessionError('refusing to log out of %s: %s; unmount/deactivate first or set force=true'
                               % (self.target, '; '.join(busy)))

    # --- result --------------------------------------------------------------------------------

    def report(self, sessions, devices):
        self.result['sessions'] = [session_dict(s) for s in sessions]
        self.result['devices'] = [d.to_dict() for d in devices]
        self.result['luns'] = group_luns(devices)


def session_dict(session):
    return dict(sid=session.sid, target=session.target, portal=session.persistent_portal.address,
                tpgt=session.persistent_portal.tpgt, iface=session.iface, session_state=session.session_state)


def group_luns(devices):
    luns = {}
    for device in devices:
        entry = luns.setdefault(device.lun, dict(
            lun=device.lun, wwid=device.wwid, size_bytes=device.size_bytes, vendor=device.vendor,
            model=device.model, multipath=None, devices=[], by_path=[], by_id=[], holders=[], mountpoints=[]))
        entry['devices'].append(device.path)
        entry['multipath'] = entry['multipath'] or device.multipath
        for field in ('by_path', 'by_id', 'holders', 'mountpoints'):
            entry[field].extend(item for item in getattr(device, field) if item not in entry[field])
    return [luns[lun] for lun in sorted(luns)]


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    module = AnsibleModule(
        argument_spec=dict(
            target=dict(type='str', required=True),
            portal=dict(type='str'),
            portals=dict(type='list', elements='str'),
            iface=dict(type='str', default='default'),
            state=dict(type='str', default='logged_in', choices=['logged_in', 'logged_out']),
            luns=dict(type='list', elements='int'),
            wait=dict(type='bool', default=True),
            timeout=dict(type='int', default=120),
            multipath=dict(type='str', default='auto', choices=['auto', 'yes', 'no']),
            create_node=dict(type='bool', default=True),
            rescan=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            remove_node=dict(type='bool', default=False),
            wwids=dict(type='list', elements='str'),
            node_settings=dict(type='dict', default={}),
            create_iface=dict(type='bool', default=False),
            remove_iface=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('portal', 'portals')],
        supports_check_mode=True,
    )
    manager = SessionManager(module, paths)
    try:
        result = manager.run()
    except CommandError as error:
        fail(module, error, **report_contention(module, manager.iscsiadm, manager.result))
    except (SessionError, OSError) as error:
        module.fail_json(msg=str(error), error_code=getattr(error, 'error_code', 'session_failed'),
                         **report_contention(module, manager.iscsiadm, manager.result))
    module.exit_json(**report_contention(module, manager.iscsiadm, result))


if __name__ == '__main__':
    main()
