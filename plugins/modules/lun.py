#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: lun
short_description: Manage LUNs and LUN clones from snapshots on a SAN array (ONTAP or Linux LIO)
version_added: 0.1.0
description:
  - Creates, grows and deletes a LUN, or creates a writable clone of a LUN as it was in a snapshot.
  - Returns the LUN's serial number, size and the WWID (NAA) the host will see, so host-side modules can
    match the device exactly.
  - ONTAP clones at LUN level from a Snapshot copy of the same volume (not a FlexClone). LIO clones are
    writable thin snapshots of the snapshot LV (reflink copies for fileio).
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.san
  - san.iscsi.attributes
  - san.iscsi.attributes.platform
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: san.iscsi.lun_map
  - module: san.iscsi.snapshot
  - module: san.iscsi.lun_mount
options:
  name:
    description: LUN name inside O(volume). Give O(name) and O(volume), or O(path).
    type: str
  volume:
    description: ONTAP volume, or LIO C(VG/THINPOOL) or absolute directory for fileio LUNs.
    type: str
  path:
    description: Full LUN path as the array names it (ONTAP C(/vol/VOLUME/NAME)).
    type: str
  state:
    description: Whether the LUN exists.
    type: str
    default: present
    choices: [present, absent]
  size:
    description:
      - Size with a binary unit (C(10G), C(512M), C(1T)) or bytes. Required to create a LUN (not a clone).
      - A larger size grows the LUN; a smaller one beyond O(size_tolerance) is an error (no shrinking).
    type: str
  size_tolerance:
    description:
      - Bytes (or C(N%) of O(size)) by which the existing size may differ from O(size) without a change,
        on top of the array's own rounding.
    type: str
    default: '0'
  os_type:
    description: OS type of a new LUN (default C(linux)).
    type: str
  clone_from:
    description:
      - Create the LUN as a writable clone of LUN O(clone_from.lun) as it was in snapshot
        O(clone_from.snapshot) of volume O(clone_from.volume).
      - An existing LUN must be a clone of exactly this parent, else the module fails.
    type: dict
    suboptions:
      volume:
        description: Volume of the snapshot.
        type: str
        required: true
      snapshot:
        description: Snapshot name.
        type: str
        required: true
      lun:
        description: Name of the LUN in the snapshot.
        type: str
        required: true
  force:
    description:
      - With O(state=absent), remove the maps of a LUN that is still mapped (to every igroup) and then delete
        it, in the same run. The removed maps are returned in RV(unmapped).
      - Without it a mapped LUN is not deleted and the module fails naming the igroups.
      - It removes maps only. Any other refusal or failure of the delete stands, and the removed maps are then
        restored with their LUN ids.
      - Ignored with O(state=present).
    type: bool
    default: false
  map_to:
    description:
      - With O(state=present), map the LUN to this igroup in the same run, once it exists (created, cloned or
        already there), exactly as M(san.iscsi.lun_map) with the same options would (no remap, no move).
      - This saves a module call where a LUN is made for one host, for example a snapshot clone to browse.
      - An existing map to the igroup with another LUN id fails (change it with M(san.iscsi.lun_map)
        O(san.iscsi.lun_map#module:remap=true)).
      - When the map fails after the LUN was created, the failure result still has RV(lun) and
        C(changed=true), and the LUN stays (delete it, or map it with M(san.iscsi.lun_map)).
    type: dict
    suboptions:
      igroup:
        description: The igroup.
        type: str
        required: true
      initiators:
        description:
          - Create the igroup (iSCSI, C(linux)) with these initiators when it does not exist; an existing
            igroup must hold them (compared case-insensitively).
          - Without it the igroup must exist.
        type: list
        elements: str
      reuse_igroup:
        description:
          - With O(map_to.initiators), map to an igroup that already holds every one of them, when there is one
            (O(map_to.igroup) itself first, then the first by name), and create O(map_to.igroup) only when none
            does. The igroup used is RV(map.igroup).
          - For a host whose igroup is not known to the caller, without a separate read of the igroups first.
            Any other host in a reused igroup sees the LUN too, as with M(san.iscsi.lun_map) to that igroup.
        type: bool
        default: false
      lun_id:
        description: LUN id the hosts of the igroup see (ONTAP 0-4095, LIO 0-255). Default the lowest free id.
        type: int
  luns:
    description:
      - Several LUNs in one call, in order, each as a call of its own with the entry's name and O(luns[].clone_from)
        and the module's other options would handle it. Give O(luns) instead of O(name), O(volume), O(path) and
        O(clone_from).
      - Made for a batch of LUNs (the clones of several snapshots, say), where one module start per LUN would cost
        more than the work itself.
      - With O(state=present), each entry is created (or checked) and mapped with O(map_to), every refusal of an
        entry coming before that entry's LUN is made; the first failure stops the call, and RV(luns) lists the
        entries done and the one that failed (with its LUN when it was created).
      - With O(state=absent), every entry is tried, even after one failed (the call fails at the end, and
        RV(luns) says which); O(prune_igroups) runs once, after the last.
    type: list
    elements: dict
    suboptions:
      name:
        description: As O(name). Give O(luns[].name) and O(luns[].volume), or O(luns[].path).
        type: str
      volume:
        description: As O(volume).
        type: str
      path:
        description: As O(path).
        type: str
      clone_from:
        description: As O(clone_from), for this entry. Only with O(state=present).
        type: dict
        suboptions:
          volume:
            description: As O(clone_from.volume).
            type: str
            required: true
          snapshot:
            description: As O(clone_from.snapshot).
            type: str
            required: true
          lun:
            description: As O(clone_from.lun).
            type: str
            required: true
  prune_igroups:
    description:
      - With O(state=absent), after the LUN is deleted (or when it is already absent), delete each of these
        igroups that no LUN is mapped to any more, and keep the others (RV(igroups_kept)).
      - For igroups made for this LUN's host only, as O(map_to.initiators) makes them. The array refuses to
        delete an igroup with maps, so one that another run maps to meanwhile is kept.
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: A 10 GiB LUN for host1
  san.iscsi.lun:
    provider: ontap
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    vserver: svm1
    volume: vol1
    name: data01
    size: 10G
  register: data01

- name: The tasks below set the array connection once, for every SAN module (action group san.iscsi.san)
  module_defaults:
    group/san.iscsi.san:
      provider: ontap
      hostname: cluster1.example.com
      username: admin
      password: "{{ ontap_password }}"
      vserver: svm1
  block:
    - name: Present yesterday's snapshot of data01 as a new LUN
      san.iscsi.lun:
        volume: vol1
        name: data01_restore
        clone_from: {volume: vol1, snapshot: nightly.0, lun: data01}

    - name: Delete the restore LUN, unmapping it from every igroup first
      san.iscsi.lun:
        volume: vol1
        name: data01_restore
        state: absent
        force: true

    - name: Present the snapshot to host2 in one call (the igroup created for host2 when missing)
      san.iscsi.lun:
        volume: vol1
        name: data01_browse
        clone_from: {volume: vol1, snapshot: nightly.0, lun: data01}
        map_to:
          igroup: browse_host2
          initiators: [iqn.1994-05.com.redhat:host2]
      register: browse

    - name: Take it away again, and the igroup when nothing else is mapped to it
      san.iscsi.lun:
        volume: vol1
        name: data01_browse
        state: absent
        force: true
        prune_igroups: [browse_host2]

- name: Clone a LUN from two snapshots and map both clones to host2, in one call
  san.iscsi.lun:
    provider: lio
    luns:
      - {volume: vg0/pool, name: data01_monday, clone_from: {volume: vg0/pool, snapshot: monday, lun: data01}}
      - {volume: vg0/pool, name: data01_tuesday, clone_from: {volume: vg0/pool, snapshot: tuesday, lun: data01}}
    map_to:
      igroup: browse_host2
      initiators: [iqn.1994-05.com.redhat:host2]
  register: clones

- name: Delete the clones of a batch and their igroup in one call
  san.iscsi.lun:
    provider: lio
    state: absent
    force: true
    luns:
      - {volume: vg0/pool, name: data01_monday}
      - {volume: vg0/pool, name: data01_tuesday}
    prune_igroups: [browse_host2]
'''

RETURN = r'''
lun:
  description: The LUN after the run (predicted in check mode; C(serial) and C(wwid) null for a LUN not yet created). Null when absent.
  returned: without O(luns) (with it, in each entry of RV(luns))
  type: dict
  contains:
    name:
      description: 'LUN name.'
      type: str
    volume:
      description: 'Volume or pool.'
      type: str
    path:
      description: 'Array path.'
      type: str
    size:
      description: 'Size in bytes as the host sees it.'
      type: int
    os_type:
      description: 'OS type.'
      type: str
    serial:
      description: 'Serial number.'
      type: str
    wwid:
      description: 'WWID the host sees (C(naa.600a0980...) on ONTAP, C(naa.6001405...) on LIO).'
      type: str
    clone_parent:
      description: 'Parent C(volume), C(snapshot), C(lun) of a clone; null otherwise.'
      type: dict
    maps:
      description: 'igroups the LUN is mapped to: C(igroup) and C(lun_id).'
      type: list
      elements: dict
  sample:
    name: data01
    volume: vol1
    path: /vol/vol1/data01
    size: 10737418240
    os_type: linux
    serial: wEmaB3xY9kLq
    wwid: naa.600a0980774556d6142337859396b4c71
    clone_parent: null
    maps: []
unmapped:
  description:
    - Maps removed before the LUN was deleted with O(force=true) (predicted in check mode); empty otherwise.
    - When the delete fails after the unmap, the maps that could not be restored are in the failure result
      under the same key.
  returned: without O(luns) (with it, in each entry of RV(luns))
  type: list
  elements: dict
  contains:
    igroup:
      description: 'igroup the LUN was mapped to.'
      type: str
    lun_id:
      description: 'LUN id the hosts of the igroup saw.'
      type: int
  sample: [{igroup: host1, lun_id: 7}]
clone_route:
  description:
    - How the array made the clone (predicted in check mode) when the run creates the LUN from O(clone_from);
      null otherwise.
    - ONTAP REST C(POST /api/storage/file/clone) (ONTAP 9.6 and later; the ONTAPI-to-REST map's equivalent of
      C(clone-create)), ONTAP ZAPI C(clone-create) with C(snapshot-name); LIO an C(lvcreate) thin snapshot of
      the snapshot LV, or a reflink copy of the snapshot file.
  returned: without O(luns) (with it, in each entry of RV(luns))
  type: str
  sample: POST /api/storage/file/clone
map:
  description:
    - With O(map_to), the LUN's map to O(map_to.igroup) (or to the igroup O(map_to.reuse_igroup) chose) after
      the run (predicted in check mode, its C(lun_id) null when the array picks it); null without O(map_to).
    - When the map fails after the LUN was created, the failure result has the map that was planned.
  returned: without O(luns) (with it, in each entry of RV(luns))
  type: dict
  contains:
    igroup:
      description: 'igroup name.'
      type: str
    path:
      description: 'LUN path.'
      type: str
    lun_id:
      description: 'LUN id the hosts see.'
      type: int
    vserver:
      description: 'SVM (ONTAP); null on LIO.'
      type: str
  sample: {igroup: browse_host2, path: /vol/vol1/data01_browse, lun_id: 0, vserver: svm1}
lun_id:
  description: With O(map_to), the LUN id of that map (null in check mode when the array would pick it).
  returned: without O(luns) (with it, in each entry of RV(luns))
  type: int
  sample: 0
igroup_created:
  description: Whether the run created O(map_to.igroup) from O(map_to.initiators) (predicted in check mode).
  returned: without O(luns) (with it, in each entry of RV(luns))
  type: bool
  sample: true
luns:
  description:
    - With O(luns), one result per entry handled, in order, each with C(path) and the keys a call with O(name)
      returns (RV(lun), RV(map), RV(lun_id), RV(igroup_created), RV(clone_route) and RV(unmapped) as they apply).
    - An entry that failed has C(failed=true), C(msg) and C(error_code) (with O(state=present), C(lun) when its
      LUN was created).
  returned: when O(luns) is given
  type: list
  elements: dict
  sample:
    - {path: vg0/pool/data01_monday, changed: true, unmapped: [{igroup: browse_host2, lun_id: 0}]}
    - {path: vg0/pool/data01_tuesday, changed: false, unmapped: []}
igroups_deleted:
  description: The igroups of O(prune_igroups) deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [browse_host2]
igroups_kept:
  description: The igroups of O(prune_igroups) kept because LUNs are still mapped to them.
  returned: always
  type: list
  elements: str
  sample: []
retries:
  description:
    - Requests sent to the array again because it answered busy (HTTP 5xx to a read, ZAPI errno 16) or could
      not be reached before the request was sent; each is also warned about. Empty on LIO.
  returned: always
  type: list
  elements: dict
  contains:
    method:
      description: 'HTTP method.'
      type: str
    path:
      description: 'REST path without the query, or C(ZAPI) and the API name.'
      type: str
    attempt:
      description: 'Which attempt failed (1 is the first).'
      type: int
    delay:
      description: 'Seconds waited before sending it again.'
      type: float
    reason:
      description: 'The answer that was retried.'
      type: str
  sample: []
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanConflict, SanError, SanInvalid, SanNotFound, checked, fail_san, parse_size, report_retries, san_argument_spec)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend
from ansible_collections.san.iscsi.plugins.module_utils._san_maps import LunMapper, prune_igroups


def parse_tolerance(value, size):
    match = re.match(r'^\s*(\d+(?:\.\d+)?)\s*%\s*$', value or '')
    if match:
        return int((size or 0) * float(match.group(1)) / 100)
    return parse_size(value) if value and value.strip() != '0' else 0


class LunManager(object):
    """One LUN. PARAMS: its options (an entry of O(luns) over the module's; None: the module's). Every check
    that needs no array runs in the constructor; connect() then makes (or shares) the backend."""

    def __init__(self, module, params=None):
        self.module = module
        self.params = params or module.params
        # Every check that needs no array runs before the first request.
        self.size = checked('size', parse_size, self.params['size']) if self.params['size'] else None
        self.tolerance = checked('size_tolerance', parse_tolerance, self.params['size_tolerance'], self.size)
        rules = backend_class(module)
        if self.params['path']:
            self.volume, self.name = checked('path', rules.split_lun_path, self.params['path'])
        else:
            self.volume, self.name = self.params['volume'], self.params['name']
        self.path = checked('path' if self.params['path'] else 'volume', rules.lun_path, self.volume, self.name)
        source = self.params['clone_from']
        if source:
            checked('clone_from', rules.lun_path, source['volume'], source['lun'])
        self.created = False  # a LUN this run created, reported when its map fails
        self.mapper = None
        if self.params['map_to']:
            target = self.params['map_to']
            self.mapper = LunMapper(module.check_mode, rules, (self.volume, self.name, self.path),
                                    target['igroup'], initiators=target['initiators'], lun_id=target['lun_id'],
                                    vserver=self.params.get('vserver'), reuse_igroup=target['reuse_igroup'])
        self.result = dict(changed=False, lun=None, unmapped=[], clone_route=None, map=None, lun_id=None,
                           igroup_created=False, igroups_deleted=[], igroups_kept=[])
        self.backend = None

    def connect(self, backend=None):
        self.backend = backend or get_backend(self.module)
        if self.mapper:
            self.mapper.backend = self.backend
        return self

    def run(self):
        current = self.backend.get_lun(self.volume, self.name)
        if self.params['state'] == 'absent':
            self.ensure_absent(current)
            self.prune()
        else:
            # every refusal of the map comes before the LUN is created or grown
            plan = self.mapper.plan(lun_planned=current is None) if self.mapper else None
            if current is None:
                self.create()
            else:
                self.update(current)
            self.map(plan)
        return self.result

    def made_before_failure(self):
        """A LUN this run created before its map failed, with the map planned, so the caller can delete or map
        it (nothing when it created none)."""
        if not self.created:
            return {}
        return dict(lun=self.result['lun'], changed=True, map=self.mapper and self.mapper.result['map'])

    def map(self, plan):
        """map_to, once the LUN exists (or would, in check mode)."""
        if plan is None:
            return
        mapped = self.mapper.apply(plan)
        self.result.update(map=mapped['map'], lun_id=mapped['lun_id'], igroup_created=mapped['igroup_created'],
                           changed=self.result['changed'] or mapped['changed'])
        if mapped['changed'] and not self.module.check_mode and self.result['lun'] is not None:
            self.result['lun'] = dict(self.result['lun'], maps=self.result['lun']['maps'] + [
                dict(igroup=mapped['map']['igroup'], lun_id=mapped['map']['lun_id'])])

    def prune(self):
        if self.params['prune_igroups']:
            deleted, kept = prune_igroups(self.module.check_mode, self.backend, self.params['prune_igroups'],
                                          gone_paths=[self.path])
            self.result.update(igroups_deleted=deleted, igroups_kept=kept,
                               changed=self.result['changed'] or bool(deleted))

    def ensure_absent(self, current):
        if current is None:
            return
        maps = [dict(igroup=entry['igroup'], lun_id=entry['lun_id']) for entry in current['maps']]
        if maps and not self.params['force']:
            raise SanConflict('LUN %s is mapped to igroup(s) %s; unmap it first (san.iscsi.lun_map state=absent) '
                              'or set force=true' % (self.path, ', '.join(entry['igroup'] for entry in maps)))
        self.result.update(changed=True, unmapped=maps)
        if self.module.check_mode:
            return
        for entry in maps:
            self.backend.delete_lun_map(self.path, entry['igroup'])
        try:
            self.backend.delete_lun(self.volume, self.name)
        except SanError as exc:
            exc.details['unmapped'] = self.restore_maps(maps)
            raise

    def restore_maps(self, maps):
        """Map the LUN again after a refused delete; return the maps that could not be restored."""
        lost = []
        for entry in maps:
            try:
                self.backend.create_lun_map(self.path, entry['igroup'], entry['lun_id'])
            except SanError:
                lost.append(entry)
        return lost

    def create(self):
        os_type = self.params['os_type'] or self.backend.default_os_type
        source = self.params['clone_from']
        if source:
            snapshot = self.backend.get_snapshot(source['volume'], source['snapshot'])
            if snapshot is None:
                raise SanNotFound('snapshot %r does not exist in volume %r' % (source['snapshot'], source['volume']))
            planned_size = None
        elif self.size is None:
            raise SanInvalid('size is required to create LUN %s' % self.path)
        else:
            planned_size = self.size
        planned = dict(name=self.name, volume=self.volume, path=self.path, size=planned_size, os_type=os_type,
                       serial=None, wwid=None, clone_parent=dict(source) if source else None, maps=[],
                       vserver=self.params.get('vserver'), uuid=None)
        self.backend.validate_lun(None, planned)
        self.result.update(changed=True, lun=planned)
        if source:
            self.result['clone_route'] = self.backend.clone_route(self.volume)
        if self.module.check_mode:
            return
        if source:
            self.result['lun'] = self.backend.clone_lun(self.volume, self.name, dict(source), os_type)
        else:
            self.result['lun'] = self.backend.create_lun(self.volume, self.name, self.size, os_type)
        self.created = True

    def update(self, current):
        source = self.params['clone_from']
        if source and current['clone_parent'] != dict(source):
            actual = ('a clone of %(volume)s/%(snapshot)s/%(lun)s' % current['clone_parent']
                      if current['clone_parent'] else 'not a clone')
            raise SanConflict('LUN %s exists and is %s; expected a clone of %s'
                              % (self.path, actual, '%(volume)s/%(snapshot)s/%(lun)s' % source))
        if self.params['os_type'] and self.params['os_type'] != current['os_type']:
            raise SanInvalid('LUN %s has os_type %r; the os_type of an existing LUN cannot change to %r'
                             % (self.path, current['os_type'], self.params['os_type']))
        self.result['lun'] = current
        if self.size is None:
            return
        slack = self.tolerance + self.backend.size_granularity
        if self.size < current['size'] - slack:
            raise SanInvalid('LUN %s is %d bytes; refusing to shrink it to %d bytes'
                             % (self.path, current['size'], self.size))
        if self.size <= current['size'] + slack:
            return
        planned = dict(current, size=self.size)
        self.backend.validate_lun(current, planned)
        self.result.update(changed=True, lun=planned)
        if not self.module.check_mode:
            self.result['lun'] = self.backend.resize_lun(self.volume, self.name, self.size)


def entry_managers(module):
    """A manager per entry of O(luns) (its options over the module's), every check that needs no array done."""
    return [LunManager(module, dict(module.params, luns=None, prune_igroups=[], **entry))
            for entry in module.params['luns']]


def present_many(module):
    """O(luns) with O(state=present): every entry checked before the first request, then each made (or found)
    and mapped in order, each entry's refusals before its LUN is made; the first failure stops the call."""
    managers = entry_managers(module)
    backend = get_backend(module)
    results, failure = [], None
    with backend.changes_saved_once():
        for manager in managers:
            manager.connect(backend)
            try:
                manager.run()
            except SanError as exc:
                failure = dict(exc.to_fail_kwargs(), path=manager.path, failed=True, changed=False, lun=None,
                               map=manager.mapper and manager.mapper.result['map'])
                failure.update(manager.made_before_failure())  # the LUN made before its map failed, if any
                results.append(failure)
                break
            results.append(dict(manager.result, path=manager.path))
    if failure:
        module.fail_json(msg='%s: %s' % (failure['path'], failure['msg']), error_code=failure['error_code'],
                         **report_retries(module, backend, dict(
                             luns=results, changed=any(entry['changed'] for entry in results))))
    first_creations_only(results)
    module.exit_json(**report_retries(module, backend, dict(
        luns=results, changed=any(entry['changed'] for entry in results), igroups_deleted=[], igroups_kept=[])))


def first_creations_only(results):
    """Check mode plans a missing igroup for every entry mapped to it; only the first one would create it."""
    seen = set()
    for entry in results:
        igroup = (entry.get('map') or {}).get('igroup')
        if entry.get('igroup_created') and igroup in seen:
            entry['igroup_created'] = False
        seen.add(igroup)


def delete_many(module):
    """O(luns) with O(state=absent): every entry checked before the first request, then each deleted in order
    (every one tried), then O(prune_igroups) once."""
    managers = entry_managers(module)
    backend = get_backend(module)
    results, failed = [], []
    with backend.changes_saved_once():
        for manager in managers:
            manager.connect(backend)
            try:
                manager.run()
                results.append(dict(path=manager.path, changed=manager.result['changed'],
                                    unmapped=manager.result['unmapped']))
            except SanError as exc:
                failure = dict(exc.to_fail_kwargs(), path=manager.path, changed=manager.result['changed'],
                               unmapped=manager.result['unmapped'], failed=True)
                results.append(failure)
                failed.append(failure)
        result = dict(luns=results, changed=any(entry['changed'] for entry in results), igroups_deleted=[],
                      igroups_kept=[])
        if module.params['prune_igroups']:
            gone = [entry['path'] for entry in results if not entry.get('failed')]
            deleted, kept = prune_igroups(module.check_mode, backend, module.params['prune_igroups'],
                                          gone_paths=gone)
            result.update(igroups_deleted=deleted, igroups_kept=kept, changed=result['changed'] or bool(deleted))
    if failed:
        module.fail_json(msg='; '.join('%s: %s' % (entry['path'], entry['msg']) for entry in failed),
                         error_code=failed[0]['error_code'], **report_retries(module, backend, result))
    module.exit_json(**report_retries(module, backend, result))


CLONE_FROM_OPTIONS = dict(
    volume=dict(type='str', required=True),
    snapshot=dict(type='str', required=True),
    lun=dict(type='str', required=True),
)


def main():
    argument_spec = san_argument_spec()
    argument_spec.update(
        name=dict(type='str'),
        volume=dict(type='str'),
        path=dict(type='str'),
        luns=dict(type='list', elements='dict', options=dict(
            name=dict(type='str'),
            volume=dict(type='str'),
            path=dict(type='str'),
            clone_from=dict(type='dict', options=CLONE_FROM_OPTIONS),
        ), required_one_of=[('name', 'path')], mutually_exclusive=[('path', 'name'), ('path', 'volume')],
            required_together=[('name', 'volume')]),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        size=dict(type='str'),
        size_tolerance=dict(type='str', default='0'),
        os_type=dict(type='str'),
        force=dict(type='bool', default=False),
        clone_from=dict(type='dict', options=CLONE_FROM_OPTIONS),
        map_to=dict(type='dict', options=dict(
            igroup=dict(type='str', required=True),
            initiators=dict(type='list', elements='str'),
            reuse_igroup=dict(type='bool', default=False),
            lun_id=dict(type='int'),
        )),
        prune_igroups=dict(type='list', elements='str', default=[]),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[('name', 'path', 'luns')],
        mutually_exclusive=[('path', 'name'), ('path', 'volume'), ('clone_from', 'size'), ('luns', 'name'),
                            ('luns', 'volume'), ('luns', 'path'), ('luns', 'clone_from')],
        required_together=[('name', 'volume')],
    )
    if module.params['state'] == 'absent' and module.params['map_to']:
        module.fail_json(msg='map_to is only used with state=present', error_code=SanInvalid.default_code)
    if module.params['state'] == 'present' and module.params['prune_igroups']:
        module.fail_json(msg='prune_igroups is only used with state=absent', error_code=SanInvalid.default_code)
    for entry in module.params['luns'] or []:
        if entry['clone_from'] and (module.params['state'] == 'absent' or module.params['size']):
            module.fail_json(msg='luns[].clone_from is only used with state=present and without size',
                             error_code=SanInvalid.default_code)
    manager = None
    try:
        if module.params['luns'] is not None:
            (delete_many if module.params['state'] == 'absent' else present_many)(module)
        manager = LunManager(module).connect()
        with manager.backend.changes_saved_once():
            result = manager.run()
    except SanError as exc:
        fail_san(module, exc, manager and manager.backend, **(manager.made_before_failure() if manager else {}))
    module.exit_json(**report_retries(module, manager.backend, result))


if __name__ == '__main__':
    main()
