#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: node
short_description: Manage an open-iscsi node record (target, portal, iface) on an initiator host
version_added: 0.1.0
description:
  - Creates or deletes the node record for exactly one (O(target), O(portal), O(iface)), directly, without
    discovery, and applies O(settings) idempotently (compared with C(iscsiadm -m node -o show)).
  - Sets one-way and mutual CHAP. Passwords never appear on a command line; they are written into the
    record file that iscsiadm keeps (mode 0600), and compared with it, so O(update_password=always) is
    idempotent too.
  - Target names compare case-insensitively (the record's stored spelling is kept); portals compare by
    address and port (IPv6 in any notation).
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.iscsi
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the non-secret settings asked for; passwords are never shown.
  platform:
    platforms: posix
requirements:
  - open-iscsi (C(iscsiadm)) on the managed host
seealso:
  - module: san.iscsi.discovery
  - module: san.iscsi.session
options:
  target:
    description: Target name (C(iqn.), C(eui.) or C(naa.)).
    type: str
    required: true
  portal:
    description:
      - Target portal C(host[:port]), IPv6 in brackets (C([fd5a:1::1]:3260)); port 3260 when omitted.
      - C(host:port,tpgt) also sets the target portal group tag when the record is created.
    type: str
    required: true
  iface:
    description: open-iscsi interface (C(iscsiadm -m iface)) the record binds to.
    type: str
    default: default
  state:
    description: Whether the record exists.
    type: str
    default: present
    choices: [present, absent]
  settings:
    description:
      - Record settings by their iscsiadm names, for example C(node.startup), C(node.session.timeo.replacement_timeout),
        C(node.conn[0].timeo.login_timeout). Booleans become C(Yes)/C(No).
      - Passwords are not accepted here; use O(chap_password) and O(chap_password_in).
    type: dict
    default: {}
  chap_username:
    description: One-way CHAP user name (the target authenticates the initiator). Sets C(node.session.auth.authmethod=CHAP).
    type: str
  chap_password:
    description: One-way CHAP secret.
    type: str
  chap_username_in:
    description: Mutual CHAP user name (the initiator authenticates the target). Needs O(chap_username).
    type: str
  chap_password_in:
    description: Mutual CHAP secret.
    type: str
  update_password:
    description:
      - C(always) makes the stored passwords equal to the given ones (compared with the record file).
      - C(on_create) sets a password only when the record has none yet.
    type: str
    default: always
    choices: [always, on_create]
  force:
    description:
      - With O(state=absent), delete the record even while a session uses it (iscsiadm then logs the
        session out). Without it the module refuses.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Record for the array's first portal, automatic login at boot, short replacement timeout
  san.iscsi.node:
    target: iqn.2026-11.lab.san-iscsi:array1
    portal: 10.10.1.1
    settings:
      node.startup: automatic
      node.session.timeo.replacement_timeout: 15

- name: Mutual CHAP on an IPv6 portal
  san.iscsi.node:
    target: iqn.2026-11.lab.san-iscsi:array1
    portal: "[fd5a:1::1]:3260"
    chap_username: host1
    chap_password: "{{ vault_chap_secret }}"
    chap_username_in: array1
    chap_password_in: "{{ vault_chap_secret_in }}"

- name: Remove the record
  san.iscsi.node:
    target: iqn.2026-11.lab.san-iscsi:array1
    portal: 10.10.1.1
    state: absent
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
record:
  description: The record after the run (as it would be in check mode); null when absent.
  returned: always
  type: dict
  contains:
    target: {description: Target name as stored., type: str}
    portal: {description: "C(host:port), IPv6 in brackets.", type: str}
    tpgt: {description: Target portal group tag (null when unknown)., type: int}
    iface: {description: Interface name., type: str}
    settings:
      description: Every setting from C(iscsiadm -o show); passwords are masked (C(********) when set).
      type: dict
  sample:
    target: iqn.2026-11.lab.san-iscsi:array1
    portal: 10.10.1.1:3260
    tpgt: 1
    iface: default
    settings: {node.startup: automatic, node.session.auth.authmethod: CHAP}
created:
  description: Whether the record was (or would be) created.
  returned: always
  type: bool
updated:
  description: Names of the settings changed (passwords by name only).
  returned: always
  type: list
  elements: str
  sample: [node.startup, node.session.auth.password]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    InvalidName, parse_portal, validate_name)
from ansible_collections.san.iscsi.plugins.module_utils._iscsiadm import (
    IscsiadmError, MASKED, connect, fail, is_secret, node_settings_text, read_record_value,
    report_contention, settings_to_update, unknown_settings, unknown_settings_message)

AUTH_METHOD = 'node.session.auth.authmethod'
CHAP_FIELDS = (
    ('chap_username', 'node.session.auth.username', False),
    ('chap_password', 'node.session.auth.password', True),
    ('chap_username_in', 'node.session.auth.username_in', False),
    ('chap_password_in', 'node.session.auth.password_in', True),
)


class NodeManager(object):
    """PATHS: the host's roots (a HostPaths; None for the real ones)."""

    def __init__(self, module, paths=None):
        self.module = module
        self.params = module.params
        self.result = dict(changed=False, created=False, updated=[], record=None)
        self.target, self.portal = self.validate()
        self.iscsiadm = connect(module, paths=paths)

    def validate(self):
        try:
            target = validate_name(self.params['target'], 'target')
            portal = parse_portal(self.params['portal'])
        except InvalidName as error:
            self.module.fail_json(msg=str(error))
        try:
            self.settings = node_settings_text(self.params['settings'])
        except ValueError as error:
            self.module.fail_json(msg=str(error))
        if self.params['chap_username_in'] and not self.params['chap_username']:
            self.module.fail_json(msg='mutual CHAP (chap_username_in) needs one-way CHAP (chap_username) too')
        return target, portal

    def wanted(self):
        """Non-secret settings the record must have, in a stable order."""
        wanted = dict(self.settings)
        if self.params['chap_username']:
            wanted[AUTH_METHOD] = 'CHAP'
        for option, name, secret in CHAP_FIELDS:
            if not secret and self.params[option] is not None:
                wanted[name] = self.params[option]
        return wanted

    def run(self):
        self.records = self.iscsiadm.node_records()
        record = self.iscsiadm.find_record(self.target, self.portal, self.params['iface'], records=self.records)
        if self.params['state'] == 'absent':
            self.ensure_absent(record)
        else:
            self.ensure_present(record)
        return self.result

    def ensure_absent(self, record):
        if record is None:
            return
        shown = self.iscsiadm.node_show(record) or {}
        self.result['diff'] = dict(before=self.diff_text(shown, sorted(self.wanted()) or ['node.startup']), after='')
        sessions = [s for s in self.iscsiadm.sessions() if s.matches(record.target, record.portal, record.iface)]
        if sessions and not self.params['force']:
            self.module.fail_json(msg='session %s uses node record %s %s: log out first (san.iscsi.session '
                                      'state=logged_out) or set force=true'
                                      % (sessions[0].sid, record.target, record.portal.address))
        self.result['changed'] = True
        if not self.module.check_mode:
            self.iscsiadm.node_delete(record)

    def ensure_present(self, record):
        wanted = self.wanted()
        created = record is None
        if created:
            self.result.update(changed=True, created=True)
            if self.module.check_mode:
                self.report_predicted(wanted)
                return
            record = self.iscsiadm.node_new(self.target, self.portal, self.params['iface'], records=self.records)
        shown = self.iscsiadm.node_show(record)
        if shown is None:
            self.module.fail_json(msg='node record %s %s vanished while being configured' % (
                record.target, record.portal.address))
        self.check_known(shown, wanted)
        updates = settings_to_update(shown, wanted)
        secrets = self.secret_updates(record, shown, created)
        self.result['diff'] = dict(before='' if created else self.diff_text(shown, sorted(wanted)),
                                   after=self.diff_text(dict(shown, **dict(updates)), sorted(wanted)))
        self.result['updated'] = [name for name, _value in updates] + [name for name, _value in secrets]
        if self.result['updated']:
            self.result['changed'] = True
        if not self.module.check_mode:
            self.apply(record, updates, secrets)
            shown = self.iscsiadm.node_show(record) if self.result['changed'] else shown
        else:
            shown = dict(shown, **dict(updates))
            shown.update((name, MASKED) for name, _value in secrets)
        self.result['record'] = self.record_dict(record, shown)

    def check_known(self, shown, wanted):
        unknown = unknown_settings(shown, wanted)
        if unknown:
            self.module.fail_json(msg=unknown_settings_message(unknown))

    def secret_updates(self, record, shown, created):
        """(name, value) of passwords to write: compared with the record file, never with the masked show."""
        updates = []
        path = None
        for option, name, secret in CHAP_FIELDS:
            value = self.params[option]
            if not secret or value is None:
                continue
            if self.params['update_password'] == 'on_create' and not created and shown.get(name):
                continue
            path = path or self.iscsiadm.record_file(record)
            if path is None and not self.module.check_mode:
                self.module.fail_json(msg='cannot find the record file of %s %s under /etc/iscsi/nodes or '
                                          '/var/lib/iscsi/nodes to store the CHAP password' % (
                                              record.target, record.portal.address))
            stored = read_record_value(path, name) if path else None
            if stored != value:
                updates.append((name, value))
        self._record_path = path
        return updates

    def apply(self, record, updates, secrets):
        with self.iscsiadm.locked('configure node record %s %s' % (record.target, record.portal.address)):
            for name, value in updates:
                self.iscsiadm.node_update(record, name, value)
            for name, value in secrets:
                self.iscsiadm.write_secret(self._record_path, name, value)

    def report_predicted(self, wanted):
        settings = dict(wanted)
        for option, name, secret in CHAP_FIELDS:
            if secret and self.params[option] is not None:
                settings[name] = MASKED
        self.result['updated'] = sorted(settings)
        self.result['diff'] = dict(before='', after=self.diff_text(settings, sorted(wanted)))
        self.result['record'] = dict(target=self.target, portal=self.portal.address, tpgt=self.portal.tpgt,
                                     iface=self.params['iface'], settings=settings)

    @staticmethod
    def diff_text(settings, names):
        return ''.join('%s = %s\n' % (name, settings.get(name, '')) for name in names if not is_secret(name))

    def record_dict(self, record, shown):
        tpgt = shown.get('node.tpgt')
        masked = dict((name, (MASKED if value else '') if is_secret(name) else value) for name, value in shown.items())
        return dict(target=record.target, portal=record.portal.address,
                    tpgt=int(tpgt) if tpgt and tpgt.lstrip('-').isdigit() and int(tpgt) >= 0 else None,
                    iface=record.iface, settings=masked)


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    module = AnsibleModule(
        argument_spec=dict(
            target=dict(type='str', required=True),
            portal=dict(type='str', required=True),
            iface=dict(type='str', default='default'),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            settings=dict(type='dict', default={}),
            chap_username=dict(type='str'),
            chap_password=dict(type='str', no_log=True),
            chap_username_in=dict(type='str'),
            chap_password_in=dict(type='str', no_log=True),
            update_password=dict(type='str', default='always', choices=['always', 'on_create'], no_log=False),
            force=dict(type='bool', default=False),
        ),
        required_together=[('chap_username', 'chap_password'), ('chap_username_in', 'chap_password_in')],
        supports_check_mode=True,
    )
    manager = NodeManager(module, paths)
    try:
        result = manager.run()
    except IscsiadmError as error:
        fail(module, error, **report_contention(module, manager.iscsiadm, manager.result))
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**report_contention(module, manager.iscsiadm, result))


if __name__ == '__main__':
    main()
