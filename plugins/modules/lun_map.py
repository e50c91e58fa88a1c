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
  - O(luns) maps several LUNs to O(igroup) in one call (a VG's LUNs moving to another host). Every LUN is read
    and checked before the first change, and LIO saves its configuration once.
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
    description: LUN name inside O(volume). Give O(lun) and O(volume), or O(path), or O(luns).
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
      - With O(luns), the default of each entry's O(luns[].unmap_from).
    type: list
    elements: str
    default: []
  luns:
    description:
      - Several LUNs, each mapped to O(igroup) (or unmapped from it, with O(state=absent)) as O(path) or
        O(volume) and O(lun) would be, in one call. Not with O(path), O(volume), O(lun) or O(lun_id).
      - Every LUN is read and checked (the LUN, O(igroup), each LUN id free there and not given twice) before
        the first change; then the LUNs are mapped in the order given. A failure stops there and the failed
        result's RV(maps) says what was done.
      - RV(maps) has a result per LUN; RV(map), RV(lun_id) and RV(unmapped) are then null, null and empty.
    type: list
    elements: dict
    suboptions:
      path:
        description: Full LUN path. Give O(luns[].path), or O(luns[].volume) and O(luns[].lun).
        type: str
      volume:
        description: Volume (ONTAP) or pool (LIO) of the LUN.
        type: str
      lun:
        description: LUN name inside O(luns[].volume).
        type: str
      lun_id:
        description: LUN id the hosts of the igroup see; default the lowest free id.
        type: int
      unmap_from:
        description: Igroups to unmap this LUN from first (as O(unmap_from)); default O(unmap_from).
        type: list
        elements: str
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
    - name: Move a VG's two LUNs from host1 to host2 in one call (same LUN ids)
      san.iscsi.lun_map:
        igroup: host2
        unmap_from: [host1]
        luns:
          - {path: /vol/vol1/data01, lun_id: 3}
          - {path: /vol/vol1/data02, lun_id: 4}

    - name: Revoke access
      san.iscsi.lun_map:
        path: /vol/vol1/data01_restore
        igroup: host1
        state: absent
'''

RETURN = r'''
map:
  description:
    - The map after the run (predicted in check mode, C(lun_id) null when the array will pick it); null when absent.
    - Null with O(luns) (see RV(maps)).
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
  description: The assigned LUN id (null when absent, not yet known in check mode, or with O(luns)).
  returned: always
  type: int
unmapped:
  description:
    - The igroups of O(unmap_from) the LUN was unmapped from (or would be, in check mode). Empty with O(luns).
    - When the map to O(igroup) fails after the unmaps, the failed result lists the igroups it was unmapped from
      (and C(changed=true)); the LUN is then mapped to none of them.
  returned: always, and on a failure after an unmap
  type: list
  elements: str
  sample: [host1]
maps:
  description:
    - With O(luns), one entry per LUN, in the order given.
    - On a failure after a change, the entries of the LUNs changed so far (the last one with the igroups it was
      unmapped from before its map failed), and C(changed=true).
  returned: with O(luns)
  type: list
  elements: dict
  contains:
    path:
      description: 'LUN path.'
      type: str
    changed:
      description: 'Whether this LUN changed.'
      type: bool
    map:
      description: 'The map after the run, as RV(map).'
      type: dict
    lun_id:
      description: 'The assigned LUN id, as RV(lun_id).'
      type: int
    unmapped:
      description: 'The igroups this LUN was unmapped from, as RV(unmapped).'
      type: list
      elements: str
  sample: [{path: /vol/vol1/data01, changed: true, lun_id: 3, unmapped: [host1],
            map: {igroup: host2, path: /vol/vol1/data01, lun_id: 3, vserver: svm1}}]
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


LUN_OPTIONS = ('path', 'volume', 'lun', 'lun_id')


def lun_items(params):
    """The LUNs to map, as O(luns) entries: O(luns), or the one LUN of O(path) / O(volume) and O(lun)."""
    if params['luns'] is not None:
        return params['luns']
    return [dict((key, params[key]) for key in LUN_OPTIONS)]


def build_mapper(module, rules, item):
    """The LunMapper of one LUN (ITEM: path, or volume and lun; lun_id; unmap_from, None for the module's)."""
    params = module.params
    if item.get('path'):
        volume, lun = checked('path', rules.split_lun_path, item['path'])
    else:
        volume, lun = item.get('volume'), item.get('lun')
    path = checked('path' if item.get('path') else 'volume', rules.lun_path, volume, lun)
    unmap_from = item.get('unmap_from')
    return LunMapper(module.check_mode, rules, (volume, lun, path), params['igroup'], initiators=params['initiators'],
                     lun_id=item.get('lun_id'), remap=params['remap'],
                     unmap_from=params['unmap_from'] if unmap_from is None else unmap_from,
                     vserver=params.get('vserver'))


def build_mappers(module):
    """A LunMapper per LUN, sharing one backend; every check that needs no array runs before the backend (and
    its first request) is made."""
    rules = backend_class(module)
    mappers = [build_mapper(module, rules, item) for item in lun_items(module.params)]
    paths = [mapper.path for mapper in mappers]
    twice = sorted(set(path for path in paths if paths.count(path) > 1))
    if twice:
        raise SanInvalid('luns: %s given more than once' % ', '.join(twice))
    ids = [mapper.lun_id for mapper in mappers if mapper.lun_id is not None]
    taken = sorted(set(lun_id for lun_id in ids if ids.count(lun_id) > 1))
    if taken:
        raise SanInvalid('luns: LUN id %s given to more than one LUN' % ', '.join(str(lun_id) for lun_id in taken))
    backend = get_backend(module)
    for mapper in mappers:
        mapper.backend = backend
    return mappers


def map_all(mappers, absent, done):
    """Unmap (ABSENT) or map every LUN, all read and checked before the first change; DONE collects the mappers
    as they start changing (what a failure reports)."""
    plans = [None if absent else mapper.plan() for mapper in mappers]
    results, igroup_made = [], False
    for mapper, plan in zip(mappers, plans):
        if igroup_made and plan['new_igroup'] is not None:  # planned by each LUN, created by the first
            plan['new_igroup'] = None
            mapper.result['igroup_created'] = False
        done.append(mapper)
        results.append(mapper.unmap_only() if absent else mapper.apply(plan))
        igroup_made = igroup_made or (plan is not None and plan['new_igroup'] is not None and not mapper.check_mode)
    return results


def entry(mapper, result=None):
    """One LUN's part of the result (RV(maps)); without RESULT, what a failure had done to it."""
    if result is None:
        return dict(path=mapper.path, changed=bool(mapper.unmapped), map=None, lun_id=None,
                    unmapped=list(mapper.unmapped))
    return dict(path=mapper.path, changed=result['changed'], map=result['map'], lun_id=result['lun_id'],
                unmapped=result['unmapped'])


def run(module, mappers):
    """The module's result: one LUN's, or with O(luns) every LUN's under maps."""
    done = []
    try:
        with mappers[0].backend.changes_saved_once():  # a move maps and unmaps: LIO saves once
            results = map_all(mappers, module.params['state'] == 'absent', done)
    except SanError as error:
        if module.params['luns'] is None or not done:
            raise
        raise PartlyDone(error, [entry(mapper, mapper.result) for mapper in done[:-1]] + [entry(done[-1])])
    if module.params['luns'] is None:
        return results[0]
    return dict(changed=any(result['changed'] for result in results), map=None, lun_id=None, unmapped=[],
                igroup_created=any(result['igroup_created'] for result in results),
                maps=[entry(mapper, result) for mapper, result in zip(mappers, results)])


class PartlyDone(Exception):
    """ERROR with O(luns), once the LUNs' changes had begun: MAPS, the entries of those done or begun."""

    def __init__(self, error, maps):
        super(PartlyDone, self).__init__(str(error))
        self.error = error
        self.maps = maps


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
        luns=dict(type='list', elements='dict', options=dict(
            path=dict(type='str'),
            volume=dict(type='str'),
            lun=dict(type='str'),
            lun_id=dict(type='int'),
            unmap_from=dict(type='list', elements='str'),
        ), required_one_of=[('lun', 'path')], mutually_exclusive=[('path', 'lun'), ('path', 'volume')],
            required_together=[('lun', 'volume')]),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[('lun', 'path', 'luns')],
        mutually_exclusive=[('path', 'lun'), ('path', 'volume')] + [('luns', name) for name in LUN_OPTIONS],
        required_together=[('lun', 'volume')],
    )
    if module.params['state'] == 'absent' and module.params['initiators'] is not None:
        module.fail_json(msg='initiators is only used with state=present: it creates or checks the igroup of a new map',
                         error_code=SanInvalid.default_code)
    if module.params['state'] == 'absent' and (module.params['unmap_from'] or any(
            item.get('unmap_from') for item in module.params['luns'] or [])):
        module.fail_json(msg='unmap_from is only used with state=present: it moves the LUN to igroup',
                         error_code=SanInvalid.default_code)
    if module.params['luns'] == []:
        module.fail_json(msg='luns is empty: give at least one LUN', error_code=SanInvalid.default_code)
    mappers = []
    try:
        mappers = build_mappers(module)
        result = run(module, mappers)
    except PartlyDone as partly:
        fail_san(module, partly.error, mappers[0].backend, maps=partly.maps,
                 changed=any(item['changed'] for item in partly.maps))
    except SanError as exc:
        mapper = mappers[0] if mappers else None
        done = dict(unmapped=mapper.unmapped, changed=True) if mapper and mapper.unmapped else {}
        fail_san(module, exc, mapper and mapper.backend, **done)
    module.exit_json(**report_retries(module, mappers[0].backend, result))


if __name__ == '__main__':
    main()
