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
    SanError, SanInvalid, checked, fail_san, report_retries, san_argument_spec)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend
from ansible_collections.san.iscsi.plugins.module_utils._san_maps import LunMapper


def build_mapper(module):
    """The LunMapper of the module's options; every check that needs no array runs before the backend (and
    its first request) is made."""
    params = module.params
    rules = backend_class(module)
    if params['path']:
        volume, lun = checked('path', rules.split_lun_path, params['path'])
    else:
        volume, lun = params['volume'], params['lun']
    path = checked('path' if params['path'] else 'volume', rules.lun_path, volume, lun)
    mapper = LunMapper(module.check_mode, rules, (volume, lun, path), params['igroup'],
                       initiators=params['initiators'], lun_id=params['lun_id'], remap=params['remap'],
                       unmap_from=params['unmap_from'], vserver=params.get('vserver'))
    mapper.backend = get_backend(module)
    return mapper


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
    mapper = None
    try:
        mapper = build_mapper(module)
        with mapper.backend.changes_saved_once():  # a move maps and unmaps: LIO saves once
            result = mapper.unmap_only() if module.params['state'] == 'absent' else mapper.map()
    except SanError as exc:
        done = dict(unmapped=mapper.unmapped, changed=True) if mapper and mapper.unmapped else {}
        fail_san(module, exc, mapper and mapper.backend, **done)
    module.exit_json(**report_retries(module, mapper.backend, result))


if __name__ == '__main__':
    main()
