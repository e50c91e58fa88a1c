# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role san.iscsi.lvm_migrate: the plan it reads off the modules' results (no I/O here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: lvm_migrate_plan
short_description: The SAN side of moving LUNs (by WWID) from one host's igroup to another's
version_added: 0.1.0
description:
  - From a M(san.iscsi.san_info) result (luns, maps, igroups), the LUNs with the given WWIDs, the igroups of
    the source host that they are mapped to (with their LUN ids), and the destination host's igroup.
  - Used by the role C(san.iscsi.lvm_migrate); also C(lvm_migrate_fstab_entries), C(lvm_migrate_paths),
    C(lvm_migrate_targets), C(lvm_migrate_lun_moves), C(lvm_migrate_sessions) and C(lvm_migrate_idle_sessions)
    in the same file.
author: san.iscsi contributors (@san-iscsi)
options:
  _input:
    description: The M(san.iscsi.san_info) result.
    type: dict
    required: true
  wwids:
    description: WWIDs of the LUNs.
    type: list
    elements: str
    required: true
  source_initiator:
    description: Initiator name of the source host.
    type: str
    required: true
  destination_initiator:
    description: Initiator name of the destination host.
    type: str
    required: true
  destination_igroup:
    description: The destination igroup, when the caller chose it.
    type: str
'''

EXAMPLES = r'''
- name: The LUNs of the VG, where they are mapped now, and where they go
  ansible.builtin.set_fact:
    plan: "{{ san_state | san.iscsi.lvm_migrate_plan(wwids, host1_iqn, host2_iqn) }}"
'''

RETURN = r'''
_value:
  description:
    - C(luns) (C(path), C(wwid), C(lun_id), C(source_igroups)), C(destination_igroup) (null when none has
      the destination's initiator), C(destination_problem) (null, or why the destination igroup will not do -
      none holds the destination's initiator, the chosen one does not exist or does not hold it), C(missing)
      (WWIDs with no LUN), C(unmapped) (paths mapped to no igroup of the source host), C(shared) (paths mapped
      to igroups of other hosts too).
  type: dict
'''


def _lower(values):
    return [value.lower() for value in values or []]


def lvm_migrate_plan(san_state, wwids, source_initiator, destination_initiator, destination_igroup=None):
    """The SAN side of the move, from a san_info result (see DOCUMENTATION)."""
    wanted = _lower(wwids)
    by_wwid = dict(((lun.get('wwid') or '').lower(), lun) for lun in san_state.get('luns', []))
    source, destination = source_initiator.lower(), destination_initiator.lower()
    igroups = dict((group['name'], _lower(group.get('initiators'))) for group in san_state.get('igroups', []))
    if destination_igroup is None:
        destination_igroup = next((name for name, members in sorted(igroups.items()) if destination in members), None)
    plan = {'luns': [], 'destination_igroup': destination_igroup, 'destination_problem': None,
            'missing': [], 'unmapped': [], 'shared': []}
    if destination_igroup is None:
        plan['destination_problem'] = 'no igroup holds the destination initiator %s' % destination_initiator
    elif destination_igroup not in igroups:
        plan['destination_problem'] = 'igroup %s does not exist' % destination_igroup
    elif destination not in igroups[destination_igroup]:
        # mapped there, the LUNs would stay out of the destination's sight: its login or wait would fail
        # only after the source has let go of the VG
        plan['destination_problem'] = 'igroup %s does not hold the destination initiator %s' % (
            destination_igroup, destination_initiator)
    for wwid in wanted:
        lun = by_wwid.get(wwid)
        if lun is None:
            plan['missing'].append(wwid)
            continue
        maps = [entry for entry in san_state.get('maps', []) if entry['path'] == lun['path']]
        mine = [entry for entry in maps if source in igroups.get(entry['igroup'], [])]
        if not mine:
            plan['unmapped'].append(lun['path'])
        if len(mine) < len(maps):
            plan['shared'].append(lun['path'])
        plan['luns'].append({'path': lun['path'], 'wwid': wwid,
                             'lun_id': mine[0]['lun_id'] if mine else None,
                             'source_igroups': sorted(entry['igroup'] for entry in mine)})
    return plan


def _fstab_fields(line):
    fields = line.split()
    if not fields or fields[0].startswith('#') or len(fields) < 3:
        return None
    return fields + ['defaults', '0', '0'][len(fields) - 3:] if len(fields) < 6 else fields


def lvm_migrate_fstab_entries(fstab_text, vg, lvs):
    """The fstab lines that mount LVs of VG: by /dev/VG/LV or /dev/mapper/VG-LV, or by the mount point
    an LV of LVS (volume_group's lvs, with mounts) is mounted on now. Each: line, source, mountpoint,
    fstype, options (without _netdev and nofail), lv."""
    mapper = vg.replace('-', '--')
    by_mount = dict((mount, lv['name']) for lv in lvs for mount in lv.get('mounts', []))
    entries = []
    for line in (fstab_text or '').splitlines():
        fields = _fstab_fields(line)
        if fields is None:
            continue
        source, mountpoint, fstype, options = fields[0], fields[1], fields[2], fields[3]
        lv = None
        for candidate in (lv['name'] for lv in lvs):
            if source in ('/dev/%s/%s' % (vg, candidate), '/dev/mapper/%s-%s' % (mapper, candidate.replace('-', '--'))):
                lv = candidate
        lv = lv or by_mount.get(mountpoint)
        if lv is None:
            continue
        kept = [option for option in options.split(',') if option not in ('_netdev', 'nofail', 'defaults')]
        entries.append({'line': line, 'source': source, 'mountpoint': mountpoint, 'fstype': fstype,
                        'options': kept, 'lv': lv})
    return entries


def lvm_migrate_paths(iscsi_info, wwids):
    """The (target, portal, iface) of the sessions that carry disks of these LUNs (an iscsi_info result), each
    with the portal group tag of its session (tpgt, None when unknown): a login elsewhere needs no discovery."""
    wanted = _lower(wwids)
    sessions = dict((session.get('sid'), session) for session in iscsi_info.get('sessions', []))
    found = []
    for device in iscsi_info.get('devices', []):
        if (device.get('wwid') or '').lower() in wanted:
            session = sessions.get(device.get('session_id'), {})
            path = {'target': device['target'], 'portal': device['portal'],
                    'iface': session.get('iface') or 'default', 'tpgt': session.get('tpgt')}
            if path not in found:
                found.append(path)
    return found


def _portals_grouped(rows, keys):
    """ROWS (dicts with a portal) grouped by the values of KEYS: [{KEYS..., portals}], in first-seen order."""
    grouped = []
    for row in rows:
        head = dict((key, row[key]) for key in keys)
        entry = next((item for item in grouped if all(item[key] == head[key] for key in keys)), None)
        if entry is None:
            entry = dict(head, portals=[])
            grouped.append(entry)
        if row['portal'] not in entry['portals']:
            entry['portals'].append(row['portal'])
    return grouped


def lvm_migrate_lun_moves(luns):
    """The plan's LUNs (lvm_migrate_plan luns) as san.iscsi.lun_map luns: [{path, lun_id, unmap_from}], each
    keeping its LUN id and leaving the source's igroups it is mapped to."""
    return [{'path': lun['path'], 'lun_id': lun['lun_id'], 'unmap_from': list(lun['source_igroups'])} for lun in luns]


def lvm_migrate_targets(paths):
    """PATHS (lvm_migrate_paths) grouped by target for a login: [{target, portals}], in first-seen order. A portal
    whose tag is known is "host:port,TPGT", so that san.iscsi.session creates its record without a discovery (a
    journal written before paths had a tpgt gives the plain portal)."""
    tagged = [dict(path, portal=path['portal'] if path.get('tpgt') is None else '%s,%s' % (path['portal'], path['tpgt']))
              for path in paths]
    return _portals_grouped(tagged, ('target',))


def lvm_migrate_sessions(paths):
    """PATHS (lvm_migrate_paths) grouped by target and iface: [{target, iface, portals}], one session call each
    (a journal written before paths had an iface means the default one)."""
    return _portals_grouped([dict(path, iface=path.get('iface') or 'default') for path in paths], ('target', 'iface'))


def lvm_migrate_logins_waited(logins):
    """Whether the destination's logins (LOGINS: the registered result of the san.iscsi.session loop over
    lvm_migrate_targets) already waited for every LUN: true when each call logged in to every portal it was given.
    A new session is scanned and waited for, all its LUNs and their multipath maps, by the session module itself; a
    session that existed before was not, and needs a rescan (san.iscsi.lun_device)."""
    results = logins.get('results') or []
    return bool(results) and all(
        not result.get('skipped') and len(result.get('logged_in') or []) == len(result['item']['portals'])
        for result in results)


def lvm_migrate_idle_sessions(iscsi_info, targets):
    """Sessions of TARGETS (IQNs, case-insensitive) that carry no disk: [{target, iface, portals}], one entry per
    (target, iface) so that one session call logs out of all its portals. A session is known by its id, so a
    disk on another iface's session to the same portal keeps only that session busy."""
    wanted = _lower(targets)
    busy = set(device.get('session_id') for device in iscsi_info.get('devices', []))
    idle = [dict(session, iface=session.get('iface') or 'default') for session in iscsi_info.get('sessions', [])
            if session['target'].lower() in wanted and session.get('sid') not in busy]
    return _portals_grouped(idle, ('target', 'iface'))


class FilterModule(object):
    def filters(self):
        return {
            'lvm_migrate_plan': lvm_migrate_plan,
            'lvm_migrate_fstab_entries': lvm_migrate_fstab_entries,
            'lvm_migrate_paths': lvm_migrate_paths,
            'lvm_migrate_targets': lvm_migrate_targets,
            'lvm_migrate_lun_moves': lvm_migrate_lun_moves,
            'lvm_migrate_sessions': lvm_migrate_sessions,
            'lvm_migrate_idle_sessions': lvm_migrate_idle_sessions,
            'lvm_migrate_logins_waited': lvm_migrate_logins_waited,
        }
