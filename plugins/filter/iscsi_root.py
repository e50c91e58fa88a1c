# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role san.iscsi.iscsi_root: the hosts it provisions, checked against each other and against
the SAN's igroups (no I/O here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: iscsi_root_hosts
short_description: The diskless hosts of the role iscsi_root, each with its initiator name, and what forbids them
version_added: 0.1.0
description:
  - Each host with its initiator name (given, or derived by the documented rule C(<prefix>:<name>)) and its
    igroup (named after the host).
  - C(problems) lists why the hosts cannot be provisioned, before anything changes - an invalid name, MAC,
    address or initiator name; two hosts with the same name, MAC, address or initiator name; an initiator name
    that an igroup of another host holds; an igroup named after a host that holds another initiator name (the
    name belongs to another host).
  - Used by the role C(san.iscsi.iscsi_root). The same file has two more filters.
  - C(iscsi_root_snapshot_found) tells whether a M(san.iscsi.san_info) C(snapshots) list has exactly one
    snapshot with a given name that holds a given LUN (its arguments are the snapshots, the name and the LUN).
    An ONTAP snapshot belongs to the whole volume (its C(lun) is null), so it counts for any LUN of the volume.
  - C(iscsi_root_reset_snapshots) lists the hosts whose C(reset_snapshot) is not a snapshot of their own LUN
    (its arguments are the checked hosts, the snapshots and the LUN prefix).
author: san.iscsi contributors (@san-iscsi)
options:
  _input:
    description:
      - The hosts (C(name), C(mac), C(address), optional C(initiator), C(reset_snapshot), C(chap_user) and
        C(chap_secret)).
    type: list
    elements: dict
    required: true
  initiator_prefix:
    description: The prefix of derived initiator names; null when every host gives its own.
    type: str
  igroups:
    description: The SAN's igroups (C(name), C(initiators)), as M(san.iscsi.san_info) returns them.
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: The hosts, checked
  ansible.builtin.set_fact:
    checked: "{{ iscsi_root_hosts | san.iscsi.iscsi_root_hosts(iscsi_root_initiator_prefix, san_state.igroups) }}"
'''

RETURN = r'''
_value:
  description:
    - C(hosts) (C(name), C(mac) as C(aa:bb:..), C(address), C(initiator), C(igroup), C(reset_snapshot), and
      C(chap_user), null without CHAP; never the secret) and C(problems) (text,
      empty when the hosts can be provisioned).
  type: dict
'''

from ansible_collections.san.iscsi.plugins.module_utils import _netboot as netboot


def _checked_host(host, prefix):
    """One host with its initiator name; NetbootError when something is not valid."""
    name = netboot.check_host_name(host.get('name'))
    mac = netboot.normalize_mac(host.get('mac') or '')
    netboot.parse_address(host.get('address') or '')
    if host.get('initiator'):
        initiator = netboot.check_initiator(host['initiator'])
    elif prefix:
        initiator = netboot.derive_initiator(prefix, name)
    else:
        raise netboot.NetbootError('give its initiator, or iscsi_root_initiator_prefix')
    reset_snapshot = host.get('reset_snapshot') or None
    if reset_snapshot is not None and not isinstance(reset_snapshot, str):
        raise netboot.NetbootError('reset_snapshot must be the name of a snapshot of its own LUN')
    return {'name': name, 'mac': mac, 'address': host['address'], 'initiator': initiator, 'igroup': name,
            'reset_snapshot': reset_snapshot, 'chap_user': _chap_user(host, name)}


def _chap_user(host, name):
    """The host's CHAP user (default its name) when it gives a chap_secret, else None. The secret is checked
    here but never returned: the role reads it from iscsi_root_hosts for the two tasks that need it."""
    if host.get('chap_secret') is None:
        if host.get('chap_user') is not None:
            raise netboot.NetbootError('chap_user without chap_secret')
        return None
    user, _secret = netboot.check_chap(host.get('chap_user') or name, host['chap_secret'])
    return user


def _duplicates(hosts, key):
    seen, twice = set(), []
    for host in hosts:
        value = host[key].lower()
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice


def iscsi_root_hosts(hosts, initiator_prefix=None, igroups=None):
    """See DOCUMENTATION."""
    checked, problems = [], []
    for host in hosts or []:
        try:
            checked.append(_checked_host(host, initiator_prefix))
        except netboot.NetbootError as exc:
            problems.append('host %s: %s' % (host.get('name'), exc.msg))
    for key in ('name', 'mac', 'address', 'initiator'):
        problems += ['two hosts have the %s %s' % (key, value) for value in _duplicates(checked, key)]
    members = dict((group['name'], [name.lower() for name in group.get('initiators') or []])
                   for group in igroups or [])
    for host in checked:
        initiator = host['initiator'].lower()
        holders = sorted(name for name, names in members.items() if initiator in names and name != host['igroup'])
        if holders:
            problems.append('host %s: igroup %s already holds its initiator name %s'
                            % (host['name'], ', '.join(holders), host['initiator']))
        others = [name for name in members.get(host['igroup'], []) if name != initiator]
        if others:
            problems.append('host %s: igroup %s holds another initiator name (%s); that host name is taken'
                            % (host['name'], host['igroup'], ', '.join(others)))
    return {'hosts': checked, 'problems': problems}


def iscsi_root_snapshot_found(snapshots, name, lun):
    """Whether SNAPSHOTS (san_info's) has exactly one snapshot named NAME that holds LUN: LIO names the LUN, an
    ONTAP snapshot belongs to the volume (lun null) and counts for every LUN in it."""
    found = [snap for snap in snapshots or [] if snap.get('name') == name and snap.get('lun') in (lun, None)]
    return len(found) == 1


def iscsi_root_reset_snapshots(hosts, snapshots, lun_prefix):
    """Problems (text) of the checked hosts whose reset_snapshot is missing from SNAPSHOTS (san_info's), or is
    known to hold another LUN than the host's own clone (LUN_PREFIX + name). An ONTAP snapshot belongs to the
    volume (lun null): whether it holds the host's LUN only a clone from it tells (the role tries one first)."""
    problems = []
    for host in hosts or []:
        wanted = host.get('reset_snapshot')
        if not wanted:
            continue
        own_lun = lun_prefix + host['name']
        if not iscsi_root_snapshot_found(snapshots, wanted, own_lun):
            problems.append('host %s: reset_snapshot %s is not a snapshot of its LUN %s' % (host['name'], wanted, own_lun))
    return problems


class FilterModule(object):
    def filters(self):
        return {'iscsi_root_hosts': iscsi_root_hosts, 'iscsi_root_reset_snapshots': iscsi_root_reset_snapshots,
                'iscsi_root_snapshot_found': iscsi_root_snapshot_found}
