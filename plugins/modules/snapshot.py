#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: snapshot
short_description: Create and delete snapshots on a SAN array (ONTAP volume or LIO thin LV/file)
version_added: 0.1.0
description:
  - ONTAP takes a Snapshot copy of the whole O(volume). LIO takes an LVM thin snapshot of the LV of LUN
    O(lun) (a reflink copy of its file for fileio).
  - Refuses to delete a snapshot that backs a LUN clone, naming the clone.
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
  - module: san.iscsi.lun
  - module: san.iscsi.san_info
options:
  volume:
    description: ONTAP volume, or LIO C(VG/THINPOOL) or fileio directory.
    type: str
    required: true
  name:
    description: Snapshot name, unique in O(volume).
    type: str
    required: true
  lun:
    description:
      - LIO, required to create, the LUN whose LV or file is snapshotted.
      - ONTAP snapshots cover the whole volume; when given, the LUN must exist in O(volume).
    type: str
  state:
    description: Whether the snapshot exists.
    type: str
    default: present
    choices: [present, absent]
'''

EXAMPLES = r'''
- name: Snapshot vol1 before the upgrade
  san.iscsi.snapshot:
    provider: ontap
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    vserver: svm1
    volume: vol1
    name: before_upgrade

- name: Snapshot LUN data01 on the LIO host
  san.iscsi.snapshot:
    provider: lio
    volume: labvg/pool
    lun: data01
    name: data01_snap1
  delegate_to: san
'''

RETURN = r'''
snapshot:
  description: The snapshot after the run (predicted in check mode); null when absent.
  returned: always
  type: dict
  contains:
    name:
      description: 'Snapshot name.'
      type: str
    volume:
      description: 'Volume.'
      type: str
    lun:
      description: 'Origin LUN (LIO); null on ONTAP.'
      type: str
    create_time:
      description: 'Creation time (ISO 8601).'
      type: str
    clones:
      description: 'Paths of LUN clones that depend on the snapshot.'
      type: list
      elements: str
  sample: {name: before_upgrade, volume: vol1, lun: null, create_time: '2026-11-21T10:00:00+00:00', clones: []}
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
    LUN_NOT_FOUND, SanConflict, SanNotFound, checked, run_san_manager, san_argument_spec)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend


class SnapshotManager(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.volume, self.name, self.lun = self.params['volume'], self.params['name'], self.params['lun']
        # Every check that needs no array runs before the first request.
        rules = backend_class(module)
        checked('volume', rules.check_volume_name, self.volume)
        checked('name', rules.check_snapshot_name, self.name)
        if self.lun is not None:
            checked('lun', rules.lun_path, self.volume, self.lun)
        self.result = dict(changed=False, snapshot=None)
        self.backend = get_backend(module)

    def run(self):
        current = self.backend.get_snapshot(self.volume, self.name)
        if self.params['state'] == 'absent':
            self.ensure_absent(current)
        elif current is None:
            self.create()
        else:
            self.result['snapshot'] = current
        return self.result

    def ensure_absent(self, current):
        if current is None:
            return
        if current['clones']:
            raise SanConflict('snapshot %r of %r backs LUN clone(s) %s; delete the clone(s) first'
                              % (self.name, self.volume, ', '.join(current['clones'])))
        self.result['changed'] = True
        if not self.module.check_mode:
            self.backend.delete_snapshot(self.volume, self.name)

    def create(self):
        if self.lun is not None and self.backend.get_lun(self.volume, self.lun) is None:
            raise SanNotFound('LUN %r does not exist in volume %r' % (self.lun, self.volume), LUN_NOT_FOUND)
        self.backend.validate_snapshot(self.volume, self.name, self.lun)
        self.result.update(changed=True, snapshot=dict(name=self.name, volume=self.volume, lun=self.lun,
                                                       create_time=None, clones=[],
                                                       vserver=self.params.get('vserver'), uuid=None))
        if not self.module.check_mode:
            self.result['snapshot'] = self.backend.create_snapshot(self.volume, self.name, self.lun)


def main():
    argument_spec = san_argument_spec()
    argument_spec.update(
        volume=dict(type='str', required=True),
        name=dict(type='str', required=True),
        lun=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_san_manager(module, SnapshotManager)


if __name__ == '__main__':
    main()
