#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: discovery
short_description: Discover iSCSI targets (SendTargets, iSNS, iBFT firmware) and optionally record them
version_added: 0.1.0
description:
  - Asks a portal (SendTargets, optionally with discovery CHAP), an iSNS server, or the firmware (iBFT) for
    targets, without letting iscsiadm touch the node database (C(-o nonpersistent)).
  - With O(persist=true) it creates node records for the targets and portals found (after the filters) that
    have none yet. Existing records are never rewritten, so their settings (CHAP, timeouts, startup) are kept
    (plain C(iscsiadm -m discovery) resets them).
  - With O(prune=true) it deletes records that discovery no longer reports for the targets it reports or
    that O(targets) names; records in use by a session are kept (with a warning).
  - Changed only when discovery CHAP settings were stored or records were added or removed.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.iscsi
attributes:
  check_mode:
    support: full
    details: Discovery itself runs (it changes nothing); records are not created or deleted.
  diff_mode:
    support: none
  platform:
    platforms: linux
seealso:
  - module: san.iscsi.node
  - module: san.iscsi.session
options:
  type:
    description: Discovery method.
    type: str
    default: sendtargets
    choices: [sendtargets, isns, fw]
  portal:
    description: Discovery portal (SendTargets) or iSNS server, C(host[:port]), IPv6 in brackets. Required
      unless O(type=fw).
    type: str
  iface:
    description: open-iscsi interface used for discovery and for the records.
    type: str
    default: default
  persist:
    description: Create node records for what was found (V(false) only reports).
    type: bool
    default: true
  prune:
    description: Delete records that discovery no longer reports (see description).
    type: bool
    default: false
  address_family:
    description: Keep only portals of this address family.
    type: str
    default: any
    choices: [any, ipv4, ipv6]
  portals:
    description: Keep only these target portals (C(host[:port])).
    type: list
    elements: str
  targets:
    description: Keep only these target names (case-insensitive, exact).
    type: list
    elements: str
  chap_username:
    description: Discovery CHAP user name (SendTargets only). Stored in the discovery record.
    type: str
  chap_password:
    description: Discovery CHAP secret; written into the discovery record file, never on a command line.
    type: str
  chap_username_in:
    description: Mutual discovery CHAP user name.
    type: str
  chap_password_in:
    description: Mutual discovery CHAP secret.
    type: str
'''

EXAMPLES = r'''
- name: Record the array's IPv4 portals only
  san.iscsi.discovery:
    portal: 10.10.1.1
    address_family: ipv4
  register: found

- name: Only report, with discovery CHAP
  san.iscsi.discovery:
    portal: "[fd5a:1::1]:3260"
    persist: false
    chap_username: discovery
    chap_password: "{{ vault_discovery_secret }}"
'''

RETURN = r'''
lock_wait_seconds:
  description:
    - Seconds this run waited for the host lock (C(/run/lock/san.iscsi.lock)) that serialises the node-record
      changes and logins of this collection's runs on one host.
  returned: always
  type: float
  sample: 0.0
lock_waits:
  description: Each wait for the host lock.
  returned: always
  type: list
  elements: dict
  contains:
    seconds: {description: Seconds waited., type: float}
    holder: {description: What the holder wrote into the lock file (pid and what it was doing)., type: str}
    for: {description: What this run waited to do., type: str}
retries:
  description: iscsiadm calls retried after a race with another iscsiadm user on the host (each also warned about).
  returned: always
  type: list
  elements: dict
  contains:
    command: {description: The iscsiadm arguments., type: str}
    rc: {description: Exit code of the try that was retried., type: int}
    attempt: {description: Which try it was (1 is the first)., type: int}
    reason: {description: Why it counts as a race (from what iscsiadm printed)., type: str}
targets:
  description: Targets found after the filters, each with its portals.
  returned: always
  type: list
  elements: dict
  contains:
    target: {description: Target name., type: str}
    portals:
      description: Portals (C(portal) C(host:port), C(tpgt)).
      type: list
      elements: dict
  sample: [{target: iqn.2026-11.lab.san-iscsi:array1,
            portals: [{portal: 10.10.1.1:3260, tpgt: 1}, {portal: "[fd5a:1::1]:3260", tpgt: 1}]}]
added:
  description: Records created (would be, in check mode), as C(target portal).
  returned: always
  type: list
  elements: str
removed:
  description: Records deleted (would be, in check mode), as C(target portal).
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    InvalidName, names_equal, parse_portal, validate_name)
from ansible_collections.san.iscsi.plugins.module_utils._iscsiadm import (
    IscsiadmError, connect, fail, no_lock, read_record_value, report_contention, same_setting)

CHAP = (
    ('chap_username', 'discovery.sendtargets.auth.username', False),
    ('chap_password', 'discovery.sendtargets.auth.password', True),
    ('chap_username_in', 'discovery.sendtargets.auth.username_in', False),
    ('chap_password_in', 'discovery.sendtargets.auth.password_in', True),
)
AUTH_METHOD = 'discovery.sendtargets.auth.authmethod'


class DiscoveryManager(object):
    """PATHS: the host's roots (a HostPaths; None for the real ones)."""

    def __init__(self, module, paths=None):
        self.module = module
        self.params = module.params
        self.iface = self.params['iface']
        self.portal, self.portal_filter, self.target_filter = self.validate()
        self.iscsiadm = connect(module, paths=paths)
        self.result = dict(changed=False, targets=[], added=[], removed=[])

    def validate(self):
        params = self.params
        if params['type'] != 'fw' and not params['portal']:
            self.module.fail_json(msg='portal is required for %s discovery' % params['type'])
        if self.chap_wanted() and params['type'] != 'sendtargets':
            self.module.fail_json(msg='discovery CHAP is only supported with type=sendtargets')
        if params['chap_username_in'] and not params['chap_username']:
            self.module.fail_json(msg='mutual CHAP (chap_username_in) needs chap_username too')
        try:
            portal = parse_portal(params['portal']) if params['portal'] else None
            portals = [parse_portal(text) for text in params['portals'] or []]
            targets = [validate_name(name, 'target') for name in params['targets'] or []]
        except InvalidName as error:
            self.module.fail_json(msg=str(error))
        return portal, portals, targets

    def chap_wanted(self):
        return any(self.params[option] is not None for option, _name, _secret in CHAP)

    def run(self):
        if self.chap_wanted():
            self.ensure_discovery_chap()
        found = self.iscsiadm.discover(self.params['type'], self.portal, self.iface, use_db=self.chap_wanted())
        found = [record for record in found if self.keep(record)]
        self.result['targets'] = group_targets(found)
        if self.params['persist']:
            self.sync_records(found)
        return self.result

    def keep(self, record):
        family = self.params['address_family']
        if family == 'ipv4' and record.portal.is_ipv6 or family == 'ipv6' and not record.portal.is_ipv6:
            return False
        if self.portal_filter and not any(record.portal.same_as(p) for p in self.portal_filter):
            return False
        return not self.target_filter or any(names_equal(record.target, t) for t in self.target_filter)

    def ensure_discovery_chap(self):
        shown = self.iscsiadm.discoverydb_show('sendtargets', self.portal)
        if shown is None:
            self.result['changed'] = True
            if self.module.check_mode:
                self.module.warn('check mode: the discovery record with CHAP does not exist yet, so discovery '
                                 'runs without it and may be refused')
                return
            self.iscsiadm.discoverydb_new('sendtargets', self.portal)
            shown = self.iscsiadm.discoverydb_show('sendtargets', self.portal) or {}
        wanted = {AUTH_METHOD: 'CHAP'} if self.params['chap_username'] else {}
        wanted.update((name, self.params[option]) for option, name, secret in CHAP
                      if not secret and self.params[option] is not None)
        for name, value in sorted(wanted.items()):
            if not same_setting(shown.get(name), value):
                self.result['changed'] = True
                if not self.module.check_mode:
                    self.iscsiadm.discoverydb_update('sendtargets', self.portal, name, value)
        self.store_secrets()

    def store_secrets(self):
        path = self.iscsiadm.sendtargets_file(self.portal)
        for option, name, secret in CHAP:
            if not secret or self.params[option] is None:
                continue
            if path is None:
                if not self.module.check_mode:
                    self.module.fail_json(msg='cannot find the discovery record file (st_config) for %s'
                                          % self.portal.address)
                self.result['changed'] = True
                continue
            if read_record_value(path, name) != self.params[option]:
                self.result['changed'] = True
                if not self.module.check_mode:
                    self.iscsiadm.write_secret(path, name, self.params[option])

    def sync_records(self, found):
        # one listing, held under the host lock until the last record is written: no other run of ours
        # changes the database between what this run read and what it writes
        with self.iscsiadm.locked('add node records from %s discovery' % self.params['type']) \
                if not self.module.check_mode else no_lock():
            records = self.iscsiadm.node_records()
            existing = [r for r in records if r.iface == self.iface]
            for record in found:
                if not any(names_equal(r.target, record.target) and r.portal.same_as(record.portal)
                           for r in existing):
                    self.result['added'].append('%s %s' % (record.target, record.portal.address))
                    if not self.module.check_mode:
                        self.iscsiadm.node_new(record.target, record.portal, self.iface, records=records)
            if self.params['prune']:
                self.prune(existing, found)
        if self.result['added'] or self.result['removed']:
            self.result['changed'] = True

    def prune(self, existing, found):
        scope = set(r.target.lower() for r in found) | set(t.lower() for t in self.target_filter)
        stale = [r for r in existing if r.target.lower() in scope and self.keep(r) and not any(
            names_equal(r.target, f.target) and r.portal.same_as(f.portal) for f in found)]
        sessions = self.iscsiadm.sessions() if stale else []
        for record in stale:
            if any(s.matches(record.target, record.portal, record.iface) for s in sessions):
                self.module.warn('kept record %s %s: a session uses it' % (record.target, record.portal.address))
                continue
            self.result['removed'].append('%s %s' % (record.target, record.portal.address))
            if not self.module.check_mode:
                self.iscsiadm.node_delete(record)


def group_targets(records):
    targets = []
    for record in records:
        entry = next((t for t in targets if names_equal(t['target'], record.target)), None)
        if entry is None:
            entry = dict(target=record.target, portals=[])
            targets.append(entry)
        entry['portals'].append(dict(portal=record.portal.address, tpgt=record.portal.tpgt))
    return targets


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    module = AnsibleModule(
        argument_spec=dict(
            type=dict(type='str', default='sendtargets', choices=['sendtargets', 'isns', 'fw']),
            portal=dict(type='str'),
            iface=dict(type='str', default='default'),
            persist=dict(type='bool', default=True),
            prune=dict(type='bool', default=False),
            address_family=dict(type='str', default='any', choices=['any', 'ipv4', 'ipv6']),
            portals=dict(type='list', elements='str'),
            targets=dict(type='list', elements='str'),
            chap_username=dict(type='str'),
            chap_password=dict(type='str', no_log=True),
            chap_username_in=dict(type='str'),
            chap_password_in=dict(type='str', no_log=True),
        ),
        required_together=[('chap_username', 'chap_password'), ('chap_username_in', 'chap_password_in')],
        supports_check_mode=True,
    )
    manager = DiscoveryManager(module, paths)
    try:
        result = manager.run()
    except IscsiadmError as error:
        fail(module, error, **report_contention(module, manager.iscsiadm, manager.result))
    module.exit_json(**report_contention(module, manager.iscsiadm, result))


if __name__ == '__main__':
    main()
