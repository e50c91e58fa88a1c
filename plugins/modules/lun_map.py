#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: lun_map
short_description: Map a LUN to an initiator group on a SAN array (ONTAP or Linux LIO)
version_added: 0.1.0
description:
  - Maps a LUN to an igroup with an optional LUN id and returns the id assigned; O(state=absent) unmaps.
  - An existing map with another LUN id is an error unless O(remap=true), which unmaps and maps again.
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
  - module: san.iscsi.igroup
  - module: san.iscsi.lun
options:
  igroup:
    description: Name of the igroup.
    type: str
    required: true
  lun:
    description: LUN name inside O(volume). Give O(lun) and O(volume), or O(path).
    type: str
  volume:
    description: Volume (ONTAP) or pool (LIO) of the LUN.
    type: str
  path:
    description: Full LUN path as the array names it.
    type: str
  lun_id:
    description:
      - LUN id the hosts of the igroup see (ONTAP 0-4095, LIO 0-255). Default the lowest free id.
    type: int
  remap:
    description:
      - When the LUN is mapped to the igroup with another id, unmap it and map it with O(lun_id).
      - An O(lun_id) that another LUN uses in the igroup fails before the unmap (and in check mode).
    type: bool
    default: false
  state:
    description: Whether the map exists.
    type: str
    default: present
    choices: [present, absent]
  unmap_from:
    description:
      - With O(state=present), igroups to unmap the LUN from before it is mapped to O(igroup) - moving a LUN
        from one host's igroup to another's in one call, never mapped to both. Those it is not mapped to are
        skipped (a re-run changes nothing).
      - Everything that can fail without a change (the LUN, O(igroup), O(lun_id) free there) is checked
        before the first unmap.
    type: list
    elements: str
    default: []
  initiators:
    description:
      - Initiator names (IQNs) of the hosts of O(igroup).
      - When O(igroup) does not exist, it is created with exactly these initiators (protocol C(iscsi), os_type
        C(linux)) and the LUN is mapped to it, in the same run. An igroup that another run creates at the
        same moment is used as an existing one.
      - When O(igroup) exists, each of them must already be in it (compared case-insensitively, whole names),
        else the module fails before changing anything, naming the missing ones. Initiators of the igroup
        not listed here are left alone; use M(san.iscsi.igroup) to change an igroup.
      - Not allowed with O(state=absent).
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Present the restored LUN to host1 as LUN 7
  san.iscsi.lun_map:
    provider: ontap
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    vserver: svm1
    volume: vol1
    lun: data01_restore
    igroup: host1
    lun_id: 7

- name: The tasks below set the array connection once, for every SAN module (action group san.iscsi.san)
  module_defaults:
    group/san.iscsi.san:
      provider: ontap
      hostname: cluster1.example.com
      username: admin
      password: "{{ ontap_password }}"
      vserver: svm1
  block:
    - name: Map a LUN to host1, creating its igroup on first use
      san.iscsi.lun_map:
        path: /vol/vol1/data01_restore
        igroup: host1
        initiators:
          - iqn.1994-05.com.redhat:host1

    - name: Move the LUN from host1 to host2 (same LUN id), never mapped to both
      san.iscsi.lun_map:
        path: /vol/vol1/data01
        igroup: host2
        lun_id: 3
        unmap_from: [host1]
    - name: Revoke access
      san.iscsi.lun_map:
        path: /vol/vol1/data01_restore
        igroup: host1
        state: absent
'''

RETURN = r'''
map:
  description: The map after the run (predicted in check mode, C(lun_id) null when the array will pick it); null when absent.
  returned: always
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
      description: 'ONTAP vserver (null on LIO).'
      type: str
  sample: {igroup: host1, path: /vol/vol1/data01_restore, lun_id: 7, vserver: svm1}
lun_id:
  description: The assigned LUN id (null when absent or not yet known in check mode).
  returned: always
  type: int
unmapped:
  description:
    - The igroups of O(unmap_from) the LUN was unmapped from (or would be, in check mode).
    - When the map to O(igroup) fails after the unmaps, the failed result lists the igroups it was unmapped from
      (and C(changed=true)); the LUN is then mapped to none of them.
  returned: always, and on a failure after an unmap
  type: list
  elements: str
  sample: [host1]
igroup_created:
  description: Whether the run created O(igroup) from O(initiators) (predicted in check mode).
  returned: always
  type: bool
  sample: false
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    IGROUP_NOT_FOUND, LUN_NOT_FOUND, SanConflict, SanError, SanInvalid, SanNotFound, check_lun_id, checked, fail_san,
    normalize_initiator, report_retries, san_argument_spec, with_code)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend


class LunMapManager(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.initiators = None
        # Every check that needs no array runs before the first request.
        if self.params['initiators'] is not None:
            self.initiators = sorted(set(checked('initiators', normalize_initiator, name)
                                         for name in self.params['initiators']))
        rules = backend_class(module)
        check_lun_id(rules, self.params['lun_id'])
        if self.params['path']:
            self.volume, self.lun = checked('path', rules.split_lun_path, self.params['path'])
        else:
            self.volume, self.lun = self.params['volume'], self.params['lun']
        self.path = checked('path' if self.params['path'] else 'volume', rules.lun_path, self.volume, self.lun)
        self.igroup = self.params['igroup']
        self.unmap_from = []
        for name in self.params['unmap_from']:
            if name == self.igroup:
                raise SanInvalid('unmap_from lists igroup %r, the igroup to map to' % name)
            if name not in self.unmap_from:
                self.unmap_from.append(name)
        self.backend = get_backend(module)
        self.result = dict(changed=False, map=None, lun_id=None, igroup_created=False, unmapped=[])
        self.unmapped = []  # done, not planned: what a failure after the unmaps reports
        self._igroup_record = None

    def get_igroup(self):
        """The igroup as read once in this run (None while it does not exist)."""
        if self._igroup_record is None:
            self._igroup_record = self.backend.get_igroup(self.igroup)
        return self._igroup_record

    def run(self):
        current = self.backend.get_lun_map(self.path, self.igroup)
        if self.params['state'] == 'absent':
            if current is not None:
                self.result['changed'] = True
                if not self.module.check_mode:
                    self.backend.delete_lun_map(self.path, self.igroup)
            return self.result
        wanted_id = self.params['lun_id']
        if current is not None and self.initiators is not None:
            self.check_initiators(self.get_igroup())
        leaving = [name for name in self.unmap_from if self.backend.get_lun_map(self.path, name) is not None]
        self.result['unmapped'] = leaving
        if current is not None and wanted_id in (None, current['lun_id']):
            self.result.update(map=current, lun_id=current['lun_id'], changed=bool(leaving))
            self.unmap(leaving)
            return self.result
        if current is not None and not self.params['remap']:
            raise SanConflict('LUN %s is mapped to igroup %r as LUN %d, not %d; set remap=true to change it'
                              % (self.path, self.igroup, current['lun_id'], wanted_id))
        new_igroup = self.check_can_map(wanted_id, mapped=current is not None)
        planned = dict(igroup=self.igroup, path=self.path, lun_id=wanted_id, vserver=self.params.get('vserver'))
        self.result.update(changed=True, map=planned, lun_id=wanted_id, igroup_created=new_igroup is not None)
        if self.module.check_mode:
            return self.result
        self.unmap(leaving)
        if new_igroup is not None:
            self.create_igroup(new_igroup)
        if current is not None:
            self.backend.delete_lun_map(self.path, self.igroup)
        try:
            created = self.backend.create_lun_map(self.path, self.igroup, wanted_id)
        except SanNotFound as exc:
            # the igroup read above is gone (another run deleted it): say so with a code of its own
            if self.backend.get_igroup(self.igroup) is None:
                raise with_code(exc, IGROUP_NOT_FOUND)
            raise
        self.result.update(map=created, lun_id=created['lun_id'])
        return self.result

    def unmap(self, igroups):
        if not self.module.check_mode:
            for name in igroups:
                self.backend.delete_lun_map(self.path, name)
                self.unmapped.append(name)

    def create_igroup(self, planned):
        """Create the igroup; one that another run created meanwhile is used when it holds the initiators."""
        try:
            self.backend.create_igroup(self.igroup, planned['protocol'], planned['os_type'], self.initiators)
        except SanError:
            existing = self.backend.get_igroup(self.igroup)
            if existing is None:
                raise
            self.check_initiators(existing)
            self.result['igroup_created'] = False

    def check_can_map(self, wanted_id, mapped):
        """Unknown LUN, unknown igroup, a LUN id used by another LUN and an igroup without a free id fail
        before any change (a remap to a used id would otherwise unmap the LUN and then fail).
        Return the igroup to create from ``initiators`` (None when it exists)."""
        if not mapped and self.backend.get_lun(self.volume, self.lun) is None:
            raise SanNotFound('LUN %s does not exist' % self.path, LUN_NOT_FOUND)
        igroup = self.get_igroup()
        if igroup is None:
            return self.plan_igroup()
        self.check_initiators(igroup)
        others = dict((entry['lun_id'], entry['path']) for entry in igroup['maps'] if entry['path'] != self.path)
        if wanted_id in others:
            raise SanConflict('LUN id %d is already used in igroup %r by %s' % (wanted_id, self.igroup, others[wanted_id]))
        if wanted_id is None and len(others) > self.backend.max_lun_id:
            raise SanConflict('igroup %r uses every LUN id 0-%d' % (self.igroup, self.backend.max_lun_id))
        return None

    def plan_igroup(self):
        """The igroup to create, validated as san.iscsi.igroup validates it (check mode predicts the run)."""
        self.backend.check_connection()
        if self.initiators is None:
            raise SanNotFound('igroup %r does not exist' % self.igroup, IGROUP_NOT_FOUND)
        planned = dict(name=self.igroup, protocol='iscsi', os_type='linux', initiators=self.initiators, maps=[],
                       vserver=self.params.get('vserver'), uuid=None)
        self.backend.validate_igroup(None, planned)
        return planned

    def check_initiators(self, igroup):
        if igroup is None or self.initiators is None:
            return
        present = set(name.lower() for name in igroup['initiators'])
        missing = [name for name in self.initiators if name.lower() not in present]
        if missing:
            raise SanConflict('igroup %r exists without initiator(s) %s; add them with san.iscsi.igroup'
                              % (self.igroup, ', '.join(missing)))


def main():
    argument_spec = san_argument_spec()
    argument_spec.update(
        igroup=dict(type='str', required=True),
        lun=dict(type='str'),
        volume=dict(type='str'),
        path=dict(type='str'),
        lun_id=dict(type='int'),
        remap=dict(type='bool', default=False),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        initiators=dict(type='list', elements='str'),
        unmap_from=dict(type='list', elements='str', default=[]),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[('lun', 'path')],
        mutually_exclusive=[('path', 'lun'), ('path', 'volume')],
        required_together=[('lun', 'volume')],
    )
    if module.params['state'] == 'absent' and module.params['initiators'] is not None:
        module.fail_json(msg='initiators is only used with state=present: it creates or checks the igroup of a new map',
                         error_code=SanInvalid.default_code)
    if module.params['state'] == 'absent' and module.params['unmap_from']:
        module.fail_json(msg='unmap_from is only used with state=present: it moves the LUN to igroup',
                         error_code=SanInvalid.default_code)
    manager = None
    try:
        manager = LunMapManager(module)
        result = manager.run()
    except SanError as exc:
        done = dict(unmapped=manager.unmapped, changed=True) if manager and manager.unmapped else {}
        fail_san(module, exc, manager and manager.backend, **done)
    module.exit_json(**report_retries(module, manager.backend, result))


if __name__ == '__main__':
    main()
