#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: iscsi_info
short_description: Report the iSCSI initiator state of a host (name, node records, sessions, LUNs, multipath)
version_added: 0.1.0
description:
  - Read-only. Reports the initiator name, the node records, the sessions (C(iscsiadm -m session -P 3)), the
    LUN devices of every session with their links, WWIDs, holders and mount points (from sysfs), and the
    dm-multipath maps.
  - Two iscsiadm calls at most; everything else comes from sysfs and C(/proc/self/mountinfo).
  - With O(portals), also whether this host reaches those portals (a TCP connection to each).
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.iscsi
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: linux
seealso:
  - module: san.iscsi.session
  - module: san.iscsi.lun_mount
options:
  node_settings:
    description: Include every setting of each node record (passwords masked).
    type: bool
    default: false
  portals:
    description:
      - Portals (C(host), C(host:port), C([v6addr]:port)) to check this host reaches, for example before a
        login - each gets a TCP connection, closed at once (no iSCSI login, nothing sent); see RV(portals).
      - A portal that refuses is tried again every half second until O(portal_timeout) is up.
    type: list
    elements: str
    default: []
  portal_timeout:
    description: Seconds to wait for each of O(portals) to accept a connection.
    type: int
    default: 10
'''

EXAMPLES = r'''
- name: What does host1 see?
  san.iscsi.iscsi_info:
  register: iscsi

- name: Can host2 reach both portals of the array (before a login there)?
  san.iscsi.iscsi_info:
    portals: [192.0.2.10, "192.0.2.11:3260"]
  register: reach
  failed_when: reach.portals | rejectattr('reachable') | list != []
- name: Devices of one target
  ansible.builtin.debug:
    msg: "{{ iscsi.devices | selectattr('target', 'equalto', 'iqn.2026-11.lab.san-iscsi:array1') | map(attribute='path') }}"
'''

RETURN = r'''
initiator:
  description: Initiator name and alias from /etc/iscsi/initiatorname.iscsi (null when unset).
  returned: always
  type: dict
  sample: {name: iqn.2026-11.lab.san-iscsi:host1, alias: null}
nodes:
  description: Node records.
  returned: always
  type: list
  elements: dict
  contains:
    target: {description: Target name., type: str}
    portal: {description: "Portal C(host:port), IPv6 in brackets.", type: str}
    tpgt: {description: Target portal group tag (null when unknown)., type: int}
    iface: {description: Interface., type: str}
    startup: {description: C(node.startup)., type: str}
    settings: {description: "All settings (with O(node_settings=true)), passwords masked.", type: dict}
sessions:
  description: Sessions, each with its attached SCSI disks as iscsiadm reports them.
  returned: always
  type: list
  elements: dict
  contains:
    sid: {description: Session id., type: int}
    target: {description: Target name., type: str}
    portal: {description: Persistent portal., type: str}
    current_portal: {description: Portal the connection uses now., type: str}
    tpgt: {description: Portal group tag., type: int}
    iface: {description: Interface., type: str}
    connection_state: {description: "iSCSI connection state (C(LOGGED IN), ...).", type: str}
    session_state: {description: "iSCSI session state (C(LOGGED_IN), C(FAILED), ...).", type: str}
    initiator_name: {description: Initiator name the session logged in with., type: str}
    initiator_address: {description: Local address of the connection., type: str}
    disks: {description: "Disks (C(host), C(channel), C(id), C(lun), C(name), C(state)).", type: list, elements: dict}
devices:
  description: LUN path devices of all sessions (same fields as the C(devices) of M(san.iscsi.session)).
  returned: always
  type: list
  elements: dict
portals:
  description: Each of O(portals), in the order given, and whether this host reached it.
  returned: always
  type: list
  elements: dict
  contains:
    portal: {description: "The portal, C(host:port), IPv6 in brackets.", type: str}
    reachable: {description: Whether it accepted a TCP connection within O(portal_timeout)., type: bool}
    error: {description: "The last failure (C(Connection refused), ...), or null.", type: str}
    seconds: {description: Time the check took., type: float}
multipath:
  description: dm-multipath maps.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Map name., type: str}
    path: {description: C(/dev/mapper/NAME)., type: str}
    dm: {description: Kernel name (C(dm-0))., type: str}
    wwid: {description: "WWID from the map's uuid (C(36001405...)).", type: str}
    paths: {description: Kernel names of the path devices., type: list, elements: str}
    holders: {description: Holders of the map., type: list, elements: str}
    mountpoints: {description: Mount points on the map and its holders., type: list, elements: str}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils._devices import session_devices
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils import _iscsid
from ansible_collections.san.iscsi.plugins.module_utils._mounts import mountpoints_of_devices
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import InvalidName, format_portal, parse_portal
from ansible_collections.san.iscsi.plugins.module_utils._portal_probe import probe
from ansible_collections.san.iscsi.plugins.module_utils._iscsiadm import (
    MASKED, RC_NO_OBJECTS, IscsiadmError, connect, fail, is_secret, parse_show)


def node_dict(shown, with_settings):
    tpgt = shown.get('node.tpgt', '')
    entry = dict(target=shown.get('node.name'),
                 portal=format_portal(shown.get('node.conn[0].address', ''), int(shown.get('node.conn[0].port') or 3260)),
                 tpgt=int(tpgt) if tpgt.isdigit() else None, iface=shown.get('iface.iscsi_ifacename') or 'default',
                 startup=shown.get('node.startup'))
    if with_settings:
        entry['settings'] = dict((name, (MASKED if value else '') if is_secret(name) else value)
                                 for name, value in shown.items())
    return entry


def multipath_maps(paths):
    maps = []
    for name in blockdev.multipath_map_devices(paths.sysfs):
        holders = blockdev.upper_devices(name, paths.sysfs, with_partitions=True)
        map_name = blockdev.dm_name(name, paths.sysfs)
        maps.append(dict(name=map_name, path='/dev/mapper/%s' % map_name, dm=name,
                         wwid=blockdev.dm_uuid(name, paths.sysfs)[len('mpath-'):],
                         paths=blockdev.slaves(name, paths.sysfs), holders=holders,
                         mountpoints=mountpoints_of_devices([name] + holders, paths.mountinfo, paths.sysfs)))
    return maps


def main(paths=None):
    """PATHS: the host's roots (a HostPaths; unit tests pass a fake tree's)."""
    paths = paths or HostPaths()
    module = AnsibleModule(argument_spec=dict(
        node_settings=dict(type='bool', default=False),
        portals=dict(type='list', elements='str', default=[]),
        portal_timeout=dict(type='int', default=10),
    ), supports_check_mode=True)
    try:
        portals = [parse_portal(text) for text in module.params['portals']]
    except InvalidName as error:
        module.fail_json(msg='portals: %s' % error, error_code='invalid')
    if module.params['portal_timeout'] < 1:
        module.fail_json(msg='portal_timeout must be 1 or more', error_code='invalid')
    iscsiadm = connect(module, paths=paths)
    try:
        rc, out, _err = iscsiadm.run(['-m', 'node', '-o', 'show'], ok=(0, RC_NO_OBJECTS))
        nodes = [] if rc == RC_NO_OBJECTS else [node_dict(s, module.params['node_settings']) for s in parse_show(out)]
        sessions = iscsiadm.sessions(level=3)
    except IscsiadmError as error:
        fail(module, error)
    devices = []
    for session in sessions:
        devices.extend(d.to_dict() for d in session_devices(session.sid, paths.sysfs, paths.dev, paths.mountinfo))
    module.exit_json(changed=False, initiator=_iscsid.read_initiator(paths.initiator_file), nodes=nodes,
                     sessions=[s.to_dict() for s in sessions], devices=devices,
                     multipath=multipath_maps(paths),
                     portals=[probe(portal, module.params['portal_timeout']) for portal in portals])


if __name__ == '__main__':
    main()
