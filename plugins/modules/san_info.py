#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: san_info
short_description: Report igroups, LUNs, LUN maps and snapshots of a SAN array (ONTAP or Linux LIO)
version_added: 0.1.0
description:
  - Read-only. Returns the same data shapes as the igroup, lun, lun_map and snapshot modules.
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
options:
  gather:
    description: What to report.
    type: list
    elements: str
    default: [igroups, luns, maps, snapshots]
    choices: [igroups, luns, maps, snapshots]
  volume:
    description: Only LUNs and snapshots of this volume (pool on LIO).
    type: str
  igroup:
    description: Only this igroup, and only the maps of this igroup.
    type: str
  lun:
    description: Only LUNs with this name (and, with O(volume), only maps of that LUN).
    type: str
  snapshot:
    description: Only snapshots with this name.
    type: str
'''

EXAMPLES = r'''
- name: Everything host1 sees
  san.iscsi.san_info:
    provider: ontap
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    vserver: svm1
    gather: [igroups, maps]
    igroup: host1
  register: host1_view
'''

RETURN = r'''
igroups:
  description: igroups (the igroup module's C(igroup) shape); empty unless gathered.
  returned: always
  type: list
  elements: dict
luns:
  description: LUNs, with serial, size and the WWID the host sees.
  returned: always
  type: list
  elements: dict
maps:
  description: LUN maps (C(igroup), C(path), C(lun_id)).
  returned: always
  type: list
  elements: dict
snapshots:
  description: Snapshots with the LUN clones that depend on them.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanError, fail_san, san_argument_spec)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import get_backend


def gather(module, backend):
    params, wanted = module.params, set(module.params['gather'])
    result = dict(changed=False, igroups=[], luns=[], maps=[], snapshots=[])
    if 'igroups' in wanted:
        result['igroups'] = backend.list_igroups(name=params['igroup'])
    if 'luns' in wanted:
        result['luns'] = backend.list_luns(volume=params['volume'], name=params['lun'])
    if 'maps' in wanted:
        path = backend.lun_path(params['volume'], params['lun']) if params['volume'] and params['lun'] else None
        result['maps'] = backend.list_lun_maps(igroup=params['igroup'], path=path)
    if 'snapshots' in wanted:
        result['snapshots'] = backend.list_snapshots(volume=params['volume'], name=params['snapshot'])
    return result


def main():
    argument_spec = san_argument_spec()
    argument_spec.update(
        gather=dict(type='list', elements='str', default=['igroups', 'luns', 'maps', 'snapshots'],
                    choices=['igroups', 'luns', 'maps', 'snapshots']),
        volume=dict(type='str'),
        igroup=dict(type='str'),
        lun=dict(type='str'),
        snapshot=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        backend = get_backend(module)
        backend.check_connection()
        result = gather(module, backend)
    except SanError as exc:
        fail_san(module, exc)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
