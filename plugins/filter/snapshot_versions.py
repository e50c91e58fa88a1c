# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role san.iscsi.snapshot_browse, mode versions: which snapshots to look through, and the
table of what one path was in each of them (no I/O here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: snapshot_versions_table
short_description: What one path was in each snapshot, where its content changed, and which equals the live one
version_added: 0.1.0
description:
  - From the snapshots looked through (oldest first) and what the role's digest step found in each, one row per
    snapshot with a C(change) mark and a text table.
  - C(change) is C(first) (the oldest snapshot, the path exists), C(absent) (it does not exist, nor did it in
    the snapshot before), C(created) (it exists again or for the first time), C(deleted), C(changed) (another
    type or content digest than in the snapshot before) or C(same); C(refused) when the path could not be read
    in that snapshot (a directory on the way leaves it), and the next row is then compared with the last one
    that was read. A refused row never equals the live path.
  - Used by the role C(san.iscsi.snapshot_browse); also, in the same file, C(snapshot_versions_select) (the
    snapshots of a LUN to look through - the last N, in a time range, oldest first), C(snapshot_versions_plan)
    (the clone and mount point of each), C(snapshot_versions_leftovers) (the clones of a run found on the
    SAN, for its release), C(snapshot_versions_mounts) (the O(san.iscsi.lun_mount#module:mounts) entries of a
    batch - each mount point, with the device of its clone when the session's LUNs are given) and
    C(snapshot_versions_luns) (the O(san.iscsi.lun#module:luns) entries of a batch - each clone in a volume,
    with its O(san.iscsi.lun#module:luns[].clone_from) when the LUN is given).
author: san.iscsi contributors (@san-iscsi)
options:
  _input:
    description: The digest entries (C(name), C(exists), C(type), C(size), C(files), C(mtime), C(uid), C(gid),
      C(mode), C(sha256), C(target), C(refused)), one per snapshot, in any order.
    type: list
    elements: dict
    required: true
  snapshots:
    description: The snapshots looked through, oldest first (C(name), C(create_time)), as
      C(snapshot_versions_select) returns them.
    type: list
    elements: dict
    required: true
  live:
    description: The digest entry of the live path, or null when there is none to compare with.
    type: dict
'''

EXAMPLES = r'''
- name: The snapshots to look through, then the table
  ansible.builtin.set_fact:
    picked: "{{ san_state.snapshots | san.iscsi.snapshot_versions_select('data01', last=5) }}"
    table: "{{ digests | san.iscsi.snapshot_versions_table(picked, live_digest) }}"
'''

RETURN = r'''
_value:
  description:
    - C(rows) (one per snapshot, oldest first - C(snapshot), C(create_time), C(change), C(equals_live) (null
      without a live entry) and the digest fields), C(table) (text lines), C(changes) (names of the snapshots
      whose change is C(created), C(deleted) or C(changed)), C(equal_to_live) (names of the snapshots whose
      path equals the live one).
  type: dict
'''

import datetime
import hashlib
import re

from ansible.errors import AnsibleFilterError

TIME_FORMAT = '%Y-%m-%dT%H:%M:%S%z'
COLUMNS = ('snapshot', 'taken', 'change', 'type', 'size', 'mtime', 'owner', 'mode', 'sha256', 'live')


def _parse_time(text, what):
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT)
    except (TypeError, ValueError):
        raise AnsibleFilterError('%s %r is not a time like 2026-11-19T12:00:00+00:00' % (what, text))


def snapshot_versions_select(snapshots, lun=None, last=None, since=None, until=None):
    """The snapshots (of LUN, or of the whole volume: lun null) with a create_time in [SINCE, UNTIL), the
    LAST newest of them, oldest first; ties in time are ordered by name."""
    start = _parse_time(since, 'since') if since else None
    end = _parse_time(until, 'until') if until else None
    try:
        last = None if last is None else int(last)
    except (TypeError, ValueError):
        last = 0
    if last is not None and last < 1:
        raise AnsibleFilterError('last must be a number of at least 1')
    picked = []
    for snapshot in snapshots:
        if not snapshot.get('create_time') or (lun is not None and snapshot.get('lun') not in (None, lun)):
            continue
        taken = _parse_time(snapshot['create_time'], 'create_time of snapshot %r' % snapshot.get('name'))
        if (start is None or taken >= start) and (end is None or taken < end):
            picked.append((taken, snapshot['name'], snapshot))
    picked.sort(key=lambda item: (item[0], item[1]))
    if last is not None:
        picked = picked[-last:]
    return [dict(name=snapshot['name'], create_time=snapshot['create_time']) for _taken, _name, snapshot in picked]


def _clone_name(clone_prefix, snapshot):
    return '%s%s' % (clone_prefix, hashlib.sha1(snapshot.encode('utf-8')).hexdigest()[:8])


def _item(snapshot, create_time, clone, mount_dir):
    return dict(snapshot=snapshot, create_time=create_time, clone=clone,
                mount_point='%s/%s' % (mount_dir.rstrip('/'), snapshot))


def snapshot_versions_plan(picked, clone_prefix, mount_dir):
    """For each picked snapshot: its clone (CLONE_PREFIX and 8 hex digits of the snapshot name's sha1, so a run
    again with the same label reuses a clone a killed run left) and its mount point MOUNT_DIR/SNAPSHOT."""
    return [_item(snapshot['name'], snapshot.get('create_time'), _clone_name(clone_prefix, snapshot['name']),
                  mount_dir) for snapshot in picked]


def snapshot_versions_leftovers(snapshots, clone_prefix, mount_dir):
    """The clones on the SAN named as snapshot_versions_plan names them (CLONE_PREFIX and exactly 8 hex
    digits), from the snapshots' clone lists (LUN paths), with the mount point each had."""
    name = re.compile(re.escape(clone_prefix) + '[0-9a-f]{8}')
    found = []
    for snapshot in snapshots:
        for clone_path in snapshot.get('clones') or []:
            clone = clone_path.rstrip('/').split('/')[-1]
            if name.fullmatch(clone):
                found.append(_item(snapshot['name'], snapshot.get('create_time'), clone, mount_dir))
    return found


def snapshot_versions_mounts(items, session_luns=None, lun_ids=None, wwids=None):
    """The san.iscsi.lun_mount ``mounts`` entries of a batch (ITEMS of snapshot_versions_plan): ``path``, the
    item's mount point, and (with SESSION_LUNS, the ``luns`` of san.iscsi.session) ``device``, the multipath map
    or first path of the LUN whose id is LUN_IDS[clone] and whose WWID is WWIDS[clone] (both must match, so a
    LUN id another clone had a moment ago is never taken for this one)."""
    entries = []
    for item in items:
        entry = dict(path=item['mount_point'])
        if session_luns is not None:
            entry['device'] = _device_of(item['clone'], session_luns, lun_ids or {}, wwids or {})
        entries.append(entry)
    return entries


def snapshot_versions_luns(items, volume, lun=None):
    """The san.iscsi.lun ``luns`` entries of a batch (ITEMS of snapshot_versions_plan): each clone in VOLUME,
    and with LUN (the LUN the snapshots hold) its ``clone_from``, to make it."""
    entries = []
    for item in items:
        entry = dict(volume=volume, name=item['clone'])
        if lun is not None:
            entry['clone_from'] = dict(volume=volume, snapshot=item['snapshot'], lun=lun)
        entries.append(entry)
    return entries


def _device_of(clone, session_luns, lun_ids, wwids):
    wanted = (lun_ids.get(clone), (wwids.get(clone) or '').lower())
    for lun in session_luns:
        if (lun.get('lun'), (lun.get('wwid') or '').lower()) == (_int_or_none(wanted[0]), wanted[1]):
            device = lun.get('multipath') or (lun.get('devices') or [None])[0]
            if device:
                return device
    raise AnsibleFilterError('snapshot_versions_mounts: no device of clone %s (LUN id %s, WWID %s) in the session'
                             % (clone, wanted[0], wanted[1] or 'unknown'))


def _int_or_none(value):
    return None if value is None else int(value)


def _content(entry):
    return (entry.get('type'), entry.get('sha256')) if entry and entry.get('exists') else None


def _change(previous, current):
    if previous is False:
        return 'first' if current else 'absent'
    if not current:
        return 'deleted' if previous else 'absent'
    if not previous:
        return 'created'
    return 'same' if previous == current else 'changed'


def _cell(row, column):
    if column == 'snapshot':
        return row['snapshot']
    if column == 'taken':
        return row['create_time'] or '-'
    if column == 'live':
        return {True: 'equals live', False: '', None: '-'}[row['equals_live']]
    if not row.get('exists') or column == 'change':
        return row['change'] if column == 'change' else '-'
    if row.get('refused'):
        return 'refused: ' + row['refused'] if column == 'type' else '-'
    if column == 'size':
        files = row.get('files')
        return '%s' % row['size'] if row['type'] != 'directory' else '%s (%s files)' % (row['size'], files)
    if column == 'mtime':
        return datetime.datetime.fromtimestamp(row['mtime'], datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    if column == 'owner':
        return '%s:%s' % (row['uid'], row['gid'])
    if column == 'sha256':
        return (row['sha256'] or '-')[:16]
    return '%s' % (row.get(column) if row.get(column) is not None else '-')


def _table(rows):
    cells = [list(COLUMNS)] + [[_cell(row, column) for column in COLUMNS] for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(COLUMNS))]
    return ['  '.join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in cells]


def snapshot_versions_table(digests, snapshots, live=None):
    """Rows oldest first, each with its change against the row before and whether it equals LIVE."""
    by_name = dict((entry['name'], entry) for entry in digests)
    missing = [snapshot['name'] for snapshot in snapshots if snapshot['name'] not in by_name]
    if missing:
        raise AnsibleFilterError('no digest for snapshot(s) %s' % ', '.join(missing))
    live_content = _content(live) if live is not None else None
    rows, previous = [], False
    for snapshot in snapshots:
        entry = by_name[snapshot['name']]
        refused = bool(entry.get('exists') and entry.get('refused'))
        content = _content(entry)
        row = dict(entry, snapshot=snapshot['name'], create_time=snapshot.get('create_time'),
                   change='refused' if refused else _change(previous, content),
                   equals_live=None if live is None else bool(content) and not refused and content == live_content)
        row.pop('name', None)
        row.pop('root', None)
        rows.append(row)
        if not refused:
            previous = content
    return dict(rows=rows, table=_table(rows),
                changes=[row['snapshot'] for row in rows if row['change'] in ('created', 'deleted', 'changed')],
                equal_to_live=[row['snapshot'] for row in rows if row['equals_live']])


class FilterModule(object):
    def filters(self):
        return {
            'snapshot_versions_select': snapshot_versions_select,
            'snapshot_versions_plan': snapshot_versions_plan,
            'snapshot_versions_leftovers': snapshot_versions_leftovers,
            'snapshot_versions_table': snapshot_versions_table,
            'snapshot_versions_mounts': snapshot_versions_mounts,
            'snapshot_versions_luns': snapshot_versions_luns,
        }
