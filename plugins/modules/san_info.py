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
seealso:
  - module: san.iscsi.igroup
  - module: san.iscsi.lun
  - module: san.iscsi.lun_map
  - module: san.iscsi.snapshot
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
  snapshots_before:
    description:
      - A time, C(YYYY-MM-DDTHH:MM:SS) and a UTC offset (C(+00:00), C(+0000) or C(Z)), for example
        C(2026-11-19T12:00:00+00:00).
      - Pick from the reported RV(snapshots) the newest one taken strictly before this time and return it as
        RV(snapshot_before). Snapshots without a C(create_time) are not considered; with O(lun), neither are
        snapshots of another LUN (LIO snapshots belong to one LUN, ONTAP snapshots to the whole volume).
        Of snapshots taken at the same second, the first in RV(snapshots) order (volume, then name) wins.
      - Needs C(snapshots) in O(gather).
    type: str
  query:
    description:
      - A L(JMESPath,https://jmespath.org/) expression evaluated over the result (its keys RV(igroups),
        RV(luns), RV(maps), RV(snapshots) and RV(snapshot_before)); the answer is returned as
        RV(query_result). Selects LUNs, maps or snapshots in the module instead of Jinja loops in a play.
      - The expression is checked before the first request to the array; a bad one fails with
        C(error_code=invalid). Needs the Python library C(jmespath) on the host that runs the module.
    type: str
requirements:
  - jmespath (only for O(query))
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

- name: The newest snapshot of LUN data01 taken before noon (LIO, on the storage host)
  san.iscsi.san_info:
    provider: lio
    gather: [snapshots]
    volume: labvg/pool
    lun: data01
    snapshots_before: '2026-11-19T12:00:00+00:00'
  register: before_noon
  # before_noon.snapshot_before.name, or before_noon.snapshot_before is none

- name: The LUNs behind two WWIDs a host reported (for example san.iscsi.volume_group's pvs), with their maps
  san.iscsi.san_info:
    provider: lio
    gather: [luns, maps]
    query: >-
      {luns: luns[?contains(`["naa.6001405a1b2c3d4e5f60718293a4b5c6", "naa.6001405b1b2c3d4e5f60718293a4b5c7"]`, wwid)],
       maps: maps}
  register: vg_luns
  # vg_luns.query_result.luns
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
snapshot_before:
  description:
    - The snapshot O(snapshots_before) picks (one of RV(snapshots)), or null when none qualifies or the option
      is not given.
  returned: always
  type: dict
  sample:
    name: nightly.2026-11-19_0010
    volume: vol1
    lun: null
    create_time: '2026-11-19T00:10:00+00:00'
    clones: []
    vserver: svm1
    uuid: 2bbc6b58-c5a4-11ef-9d5e-005056bb2a3f
query_result:
  description: What O(query) selected from the result; null without O(query) (or when the expression selects
    nothing).
  returned: always
  type: raw
  sample: [{name: data01, volume: labvg/pool, wwid: naa.6001405a1b2c3d4e5f60718293a4b5c6}]
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

import datetime
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import jmespath
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanError, SanInvalid, checked, fail_san, report_retries, san_argument_spec)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend


TIME_FORMAT = '%Y-%m-%dT%H:%M:%S%z'


def parse_time(text, what):
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        raise SanInvalid('%s %r is not a time like 2026-11-19T12:00:00+00:00 (YYYY-MM-DDTHH:MM:SS and a UTC offset)'
                         % (what, text))


def newest_before(snapshots, limit, lun):
    """The snapshot of ``snapshots`` with the latest create_time strictly before ``limit`` (an aware
    datetime), skipping those without a create_time and, when ``lun`` is given, those of another LUN; the
    first of equal times wins. None when none qualifies."""
    best, best_time = None, None
    for snapshot in snapshots:
        if not snapshot['create_time'] or (lun is not None and snapshot['lun'] not in (None, lun)):
            continue
        taken = parse_time(snapshot['create_time'], 'create_time of snapshot %r' % snapshot['name'])
        if taken < limit and (best_time is None or taken > best_time):
            best, best_time = snapshot, taken
    return best


def compile_query(module):
    """The compiled O(query) expression, or None without one; a bad expression is SanInvalid."""
    expression = module.params['query']
    if expression is None:
        return None
    if not HAS_JMESPATH:
        module.fail_json(msg=missing_required_lib('jmespath'), exception=JMESPATH_IMPORT_ERROR,
                         error_code='missing_library')
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise SanInvalid('query is not a JMESPath expression: %s' % exc, details={'options': ['query']})


def run_query(compiled, result):
    """COMPILED (or None) evaluated over the reported data; a function error at run time is SanInvalid."""
    if compiled is None:
        return None
    data = dict((key, result[key]) for key in ('igroups', 'luns', 'maps', 'snapshots', 'snapshot_before'))
    try:
        return compiled.search(data)
    except jmespath.exceptions.JMESPathError as exc:
        raise SanInvalid('query failed on the result: %s' % exc, details={'options': ['query']})


def check_input(module):
    """Every check that needs no array, before the first request; returns the snapshots_before limit."""
    params = module.params
    rules = backend_class(module)
    if params['volume'] and params['lun']:
        checked('lun', rules.lun_path, params['volume'], params['lun'])
    if params['snapshots_before'] is None:
        return None
    if 'snapshots' not in params['gather']:
        raise SanInvalid('snapshots_before picks one of the snapshots: add snapshots to gather',
                         details={'options': ['snapshots_before']})
    return parse_time(params['snapshots_before'], 'snapshots_before')


def gather(module, backend, limit=None):
    params, wanted = module.params, set(module.params['gather'])
    result = dict(changed=False, igroups=[], luns=[], maps=[], snapshots=[], snapshot_before=None)
    if 'igroups' in wanted:
        result['igroups'] = backend.list_igroups(name=params['igroup'])
    if 'luns' in wanted:
        result['luns'] = backend.list_luns(volume=params['volume'], name=params['lun'])
    if 'maps' in wanted:
        path = backend.lun_path(params['volume'], params['lun']) if params['volume'] and params['lun'] else None
        result['maps'] = backend.list_lun_maps(igroup=params['igroup'], path=path)
    if 'snapshots' in wanted:
        result['snapshots'] = backend.list_snapshots(volume=params['volume'], name=params['snapshot'])
    if limit is not None:
        result['snapshot_before'] = newest_before(result['snapshots'], limit, params['lun'])
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
        snapshots_before=dict(type='str'),
        query=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    backend = None
    try:
        limit = check_input(module)
        compiled = compile_query(module)
        backend = get_backend(module)
        backend.check_connection()
        result = gather(module, backend, limit)
        result['query_result'] = run_query(compiled, result)
    except SanError as exc:
        fail_san(module, exc, backend)
    module.exit_json(**report_retries(module, backend, result))


if __name__ == '__main__':
    main()
