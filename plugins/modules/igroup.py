#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: igroup
short_description: Manage initiator groups on a SAN array (ONTAP or Linux LIO)
version_added: 0.1.0
description:
  - Creates, changes and deletes an initiator group (igroup), the set of host initiators that see the same LUNs.
  - On ONTAP an igroup of the O(vserver). On LIO a named set of node ACLs of the target portal group, each
    ACL tagged with the igroup name.
  - Initiator names are validated (RFC 3720) and compared case-insensitively.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.san
  - san.iscsi.attributes
  - san.iscsi.attributes.platform
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - module: san.iscsi.lun_map
  - module: san.iscsi.san_info
options:
  name:
    description: Name of the igroup.
    type: str
    required: true
  state:
    description: Whether the igroup exists.
    type: str
    default: present
    choices: [present, absent]
  protocol:
    description: Data protocol of the igroup. LIO supports only C(iscsi).
    type: str
    default: iscsi
    choices: [iscsi, fcp, mixed]
  os_type:
    description: Operating system of the initiators; default C(linux) when the igroup is created.
    type: str
  initiators:
    description: Initiator names (C(iqn.), C(eui.) or C(naa.)), compared case-insensitively.
    type: list
    elements: str
    default: []
  initiators_mode:
    description:
      - C(replace) makes the igroup hold exactly O(initiators).
      - C(add) adds the missing ones, C(remove) removes those present; others are left alone.
    type: str
    default: replace
    choices: [replace, add, remove]
  force:
    description:
      - With O(state=absent), delete the igroup even while LUNs are mapped to it (the maps go too).
      - With O(state=present), remove initiators (O(initiators_mode=remove), or O(initiators_mode=replace)
        dropping some) from an igroup that has LUN maps. Those hosts lose access to the LUNs, an unmap in
        effect, so without O(force=true) the module refuses before changing anything, also in check mode,
        naming the igroup, the initiators and the mapped LUNs.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Host1 sees the LUNs of igroup host1
  san.iscsi.igroup:
    provider: ontap
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    vserver: svm1
    name: host1
    initiators:
      - iqn.2026-11.lab.san-iscsi:host1

- name: The tasks below set the array connection once, for every SAN module (action group san.iscsi.san)
  module_defaults:
    group/san.iscsi.san:
      provider: ontap
      hostname: cluster1.example.com
      username: admin
      password: "{{ ontap_password }}"
      vserver: svm1
  block:
    - name: Add a second initiator, leave the others alone
      san.iscsi.igroup:
        name: host1
        initiators: [iqn.2026-11.lab.san-iscsi:host1-b]
        initiators_mode: add

    - name: Retire an initiator of a mapped igroup; its host loses the igroup's LUNs
      san.iscsi.igroup:
        name: host1
        initiators: [iqn.2026-11.lab.san-iscsi:host1-b]
        initiators_mode: remove
        force: true

    - name: Remove the igroup
      san.iscsi.igroup:
        name: host1
        state: absent
'''

RETURN = r'''
igroup:
  description: The igroup after the run (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: 'Name.'
      type: str
    protocol:
      description: 'Protocol.'
      type: str
    os_type:
      description: 'OS type.'
      type: str
    initiators:
      description: 'Lower-cased initiator names, sorted.'
      type: list
      elements: str
    maps:
      description: 'LUNs mapped to the igroup: C(path) and C(lun_id)'
      type: list
      elements: dict
    vserver:
      description: 'ONTAP vserver (null on LIO).'
      type: str
    uuid:
      description: 'Array identifier (null on LIO).'
      type: str
  sample:
    name: host1
    protocol: iscsi
    os_type: linux
    initiators: [iqn.2026-11.lab.san-iscsi:host1]
    maps: [{path: /vol/vol1/lun1, lun_id: 0}]
    vserver: svm1
    uuid: 4ea7a442-86d1-11e0-ae1c-123478563412
added:
  description: Initiators added.
  returned: always
  type: list
  elements: str
removed:
  description: Initiators removed.
  returned: always
  type: list
  elements: str
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
    IGROUP_MAPPED, SanConflict, SanInvalid, SanNotFound, igroup_mapped_conflict, checked, mapped_removal_conflict,
    normalize_initiator, run_san_manager, san_argument_spec, with_code)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend


class IgroupManager(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        # Every check that needs no array runs before the first request.
        self.initiators = sorted(set(checked('initiators', normalize_initiator, name)
                                     for name in self.params['initiators']))
        backend_class(module)
        self.backend = get_backend(module)
        self.result = dict(changed=False, added=[], removed=[], igroup=None)

    def run(self):
        current = self.backend.get_igroup(self.params['name'])
        if self.params['state'] == 'absent':
            self.ensure_absent(current)
        elif current is None:
            self.create()
        else:
            self.update(current)
        return self.result

    def ensure_absent(self, current):
        if current is None:
            return
        if current['maps'] and not self.params['force']:
            raise igroup_mapped_conflict(current['name'], [entry['path'] for entry in current['maps']])
        self.result.update(changed=True, removed=current['initiators'],
                           diff=dict(before=self.describe(current), after=''))
        if not self.module.check_mode:
            try:
                self.backend.delete_igroup(current['name'], force=self.params['force'])
            except SanNotFound:
                # another run deleted it between this run's read and its delete: absent, as asked, by someone else
                self.result.update(changed=False, removed=[])
                self.result.pop('diff')
            except SanConflict as exc:
                # the one conflict of delete_igroup: another run mapped a LUN after this run's read
                raise with_code(exc, IGROUP_MAPPED)

    def create(self):
        self.backend.check_connection()
        initiators = [] if self.params['initiators_mode'] == 'remove' else self.initiators
        os_type = self.params['os_type'] or self.backend.default_os_type
        planned = dict(name=self.params['name'], protocol=self.params['protocol'], os_type=os_type,
                       initiators=initiators, maps=[], vserver=self.params.get('vserver'), uuid=None)
        self.backend.validate_igroup(None, planned)
        self.result.update(changed=True, added=initiators, igroup=planned,
                           diff=dict(before='', after=self.describe(planned)))
        if not self.module.check_mode:
            self.result['igroup'] = self.backend.create_igroup(self.params['name'], self.params['protocol'],
                                                               os_type, initiators)

    def update(self, current):
        if current['protocol'] != self.params['protocol']:
            raise SanInvalid('igroup %r uses protocol %r, not %r; the protocol of an existing igroup cannot change'
                             % (current['name'], current['protocol'], self.params['protocol']))
        to_add, to_remove = self.plan_initiators(current['initiators'])
        if to_remove and current['maps'] and not self.params['force']:
            raise mapped_removal_conflict(current['name'], to_remove, current['maps'])
        os_change = self.params['os_type'] and self.params['os_type'] != current['os_type']
        planned = dict(current, initiators=sorted(set(current['initiators']) - set(to_remove) | set(to_add)))
        if os_change:
            planned['os_type'] = self.params['os_type']
        changed = bool(to_add or to_remove or os_change)
        if changed:
            self.backend.validate_igroup(current, planned)
        self.result.update(changed=changed, added=to_add, removed=to_remove, igroup=planned)
        if changed:
            self.result['diff'] = dict(before=self.describe(current), after=self.describe(planned))
        if not changed or self.module.check_mode:
            return
        # Each backend write returns the igroup as read back afterwards: the last one is the final state.
        # The os_type goes first: an array that refuses it (LIO knows only linux) refuses before the
        # initiators have changed, so a failed run leaves the igroup as it was.
        if os_change:
            self.result['igroup'] = self.backend.set_igroup_os_type(current['name'], self.params['os_type'])
        if to_add:
            self.result['igroup'] = self.backend.add_initiators(current['name'], to_add)
        if to_remove:
            self.result['igroup'] = self.backend.remove_initiators(current['name'], to_remove,
                                                                   force=self.params['force'])

    def plan_initiators(self, present):
        present, wanted = set(present), set(self.initiators)
        mode = self.params['initiators_mode']
        if mode == 'add':
            return sorted(wanted - present), []
        if mode == 'remove':
            return [], sorted(wanted & present)
        return sorted(wanted - present), sorted(present - wanted)

    @staticmethod
    def describe(igroup):
        lines = ['name: %s' % igroup['name'], 'protocol: %s' % igroup['protocol'], 'os_type: %s' % igroup['os_type']]
        lines.extend('initiator: %s' % name for name in igroup['initiators'])
        return '\n'.join(lines) + '\n'


def main():
    argument_spec = san_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        protocol=dict(type='str', default='iscsi', choices=['iscsi', 'fcp', 'mixed']),
        os_type=dict(type='str'),
        initiators=dict(type='list', elements='str', default=[]),
        initiators_mode=dict(type='str', default='replace', choices=['replace', 'add', 'remove']),
        force=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_san_manager(module, IgroupManager)


if __name__ == '__main__':
    main()
