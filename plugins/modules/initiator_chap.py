#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: initiator_chap
short_description: Manage the CHAP credentials an initiator logs in to a SAN array with (ONTAP or Linux LIO)
version_added: 0.1.0
description:
  - Sets, changes or removes the CHAP user and secret one initiator must present when it logs in, and the
    mutual CHAP user and secret with which the array proves itself to the initiator.
  - ONTAP keeps them in the iSCSI security entry of the initiator in the O(vserver). An initiator without
    an entry uses the vserver's default entry, which this module does not change.
  - LIO keeps them on the initiator's node ACL in the target portal group. The initiator must be in an igroup
    first (M(san.iscsi.igroup); otherwise the module fails with C(error_code=initiator_not_found)), and the
    credentials go with the ACL when the initiator leaves its igroup. Only this initiator must then
    authenticate. The module sets the ACL's own C(authentication) attribute (kernels since 5.16), never the
    portal group's, so the other initiators of the same target keep logging in as before.
  - The array never shows an ONTAP secret. There, O(update_secret) decides whether a run writes the secrets
    again. LIO secrets are compared, so a run changes them only when they differ.
  - The host's side (C(node.session.auth.*) of its node record) is set with M(san.iscsi.node). Secrets are
    never logged, never put on a command line and never returned.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.san
  - san.iscsi.attributes
  - san.iscsi.attributes.platform
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff shows the users; a secret shows only as set, and whether the run writes it.
seealso:
  - module: san.iscsi.igroup
  - module: san.iscsi.node
options:
  initiator:
    description: Initiator name (C(iqn.), C(eui.) or C(naa.)), compared case-insensitively.
    type: str
    required: true
  state:
    description:
      - Whether the initiator has CHAP credentials.
      - O(state=absent) leaves an ONTAP entry of method C(none) or C(deny) as it is; it holds no CHAP credentials,
        and without it the initiator would fall back to the vserver's default entry.
    type: str
    default: present
    choices: [present, absent]
  chap_user:
    description:
      - CHAP user the initiator logs in with. Required with O(state=present).
      - 1 to 128 printable ASCII characters without spaces.
    type: str
  chap_secret:
    description:
      - CHAP secret of O(chap_user). Required with O(state=present).
      - 12 to 255 printable ASCII characters without spaces. RFC 7143 (section 9.2.1) asks for secrets with at
        least 96 bits of randomness.
    type: str
  mutual_user:
    description:
      - User with which the array answers the initiator (mutual CHAP). Without it, mutual CHAP is removed.
      - Same rules as O(chap_user).
    type: str
  mutual_secret:
    description:
      - Secret of O(mutual_user). Same rules as O(chap_secret), and it must differ from O(chap_secret) (RFC 7143, 9.2.1).
    type: str
  update_secret:
    description:
      - C(always) makes the array hold O(chap_secret) and O(mutual_secret). Where the array shows its secrets (LIO),
        a run writes them only when they differ. Where it cannot (ONTAP), every run writes them and reports a
        change.
      - C(on_create) writes the secrets only when the entry is created or its users change. An ONTAP run that
        finds the users as asked is then unchanged; rotating a secret there needs C(always).
    type: str
    default: always
    choices: [always, on_create]
'''

EXAMPLES = r'''
- name: Host1 must log in with CHAP, and the array answers with mutual CHAP
  san.iscsi.initiator_chap:
    provider: ontap
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    vserver: svm1
    initiator: iqn.2026-11.lab.san-iscsi:host1
    chap_user: host1
    chap_secret: "{{ vault_chap_host1 }}"
    mutual_user: svm1
    mutual_secret: "{{ vault_chap_svm1 }}"
    update_secret: on_create

- name: On LIO the initiator is in an igroup first
  san.iscsi.igroup:
    provider: lio
    target: iqn.2026-11.lab.san-iscsi:target1
    name: host2
    initiators: [iqn.2026-11.lab.san-iscsi:host2]

- name: Host2 logs in with CHAP; the other initiators of the target are not asked for it
  san.iscsi.initiator_chap:
    provider: lio
    target: iqn.2026-11.lab.san-iscsi:target1
    initiator: iqn.2026-11.lab.san-iscsi:host2
    chap_user: host2
    chap_secret: "{{ vault_chap_host2 }}"

- name: Host2 logs in without CHAP again
  san.iscsi.initiator_chap:
    provider: lio
    target: iqn.2026-11.lab.san-iscsi:target1
    initiator: iqn.2026-11.lab.san-iscsi:host2
    state: absent
'''

RETURN = r'''
chap:
  description:
    - The initiator's credentials after the run (as they would be, in check mode), without secrets.
    - Null when it has none.
  returned: always
  type: dict
  contains:
    initiator:
      description: 'Lower-cased initiator name.'
      type: str
    method:
      description: 'C(chap); on ONTAP also C(none) or C(deny), for an entry made elsewhere.'
      type: str
    user:
      description: 'CHAP user of the initiator.'
      type: str
    mutual_user:
      description: 'Mutual CHAP user of the array; null without mutual CHAP.'
      type: str
    vserver:
      description: 'ONTAP vserver (null on LIO).'
      type: str
  sample:
    initiator: iqn.2026-11.lab.san-iscsi:host1
    method: chap
    user: host1
    mutual_user: svm1
    vserver: svm1
secret_written:
  description: Whether the run wrote the secrets (would write them, in check mode).
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

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanInvalid, SanNotFound, checked, normalize_initiator, run_san_manager, san_argument_spec)
from ansible_collections.san.iscsi.plugins.module_utils._san_factory import backend_class, get_backend

CHAP_USER_RE = re.compile(r'^[\x21-\x7e]{1,128}$')
CHAP_SECRET_RE = re.compile(r'^[\x21-\x7e]{12,255}$')


def check_user(value):
    if not CHAP_USER_RE.match(value):
        raise SanInvalid('%r is not a CHAP user: use 1 to 128 printable ASCII characters without spaces' % value)
    return value


def check_secret(value):
    # the message gives the length only: the value is a secret
    if not CHAP_SECRET_RE.match(value):
        raise SanInvalid('the CHAP secret (%d characters) must be 12 to 255 printable ASCII characters without spaces'
                         % len(value))
    return value


class InitiatorChapManager(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        # Every check that needs no array runs before the first request.
        self.initiator = checked('initiator', normalize_initiator, self.params['initiator'])
        if self.params['state'] == 'present':
            self.check_credentials()
        backend_class(module)
        self.backend = get_backend(module)
        self.result = dict(changed=False, chap=None, secret_written=False)

    def check_credentials(self):
        params = self.params
        checked('chap_user', check_user, params['chap_user'])
        checked('chap_secret', check_secret, params['chap_secret'])
        if params['mutual_user'] is None:
            return
        checked('mutual_user', check_user, params['mutual_user'])
        checked('mutual_secret', check_secret, params['mutual_secret'])
        if params['mutual_secret'] == params['chap_secret']:
            raise SanInvalid('mutual_secret must differ from chap_secret: the secret that proves the initiator must not '
                             'prove the array too (RFC 7143, 9.2.1)', details={'options': ['mutual_secret']})

    def run(self):
        current = self.backend.get_chap(self.initiator)
        if self.params['state'] == 'absent':
            self.ensure_absent(current)
        else:
            self.ensure_present(current)
        return self.result

    def ensure_absent(self, current):
        # an ONTAP entry of method none or deny holds no CHAP credentials; deleting it would hand the initiator
        # to the vserver's default entry, which may let in what deny kept out
        if current is None or current['method'] != 'chap':
            self.result['chap'] = current
            return
        self.result.update(changed=True, diff=dict(before=self.describe(current), after=''))
        if self.module.check_mode:
            return
        try:
            self.backend.delete_chap(self.initiator)
        except SanNotFound:
            # removed by someone else between this run's read and its delete: absent, as asked
            self.result.update(changed=False)
            self.result.pop('diff')

    def ensure_present(self, current):
        params = self.params
        vserver = current['vserver'] if current else params.get('vserver')
        planned = dict(initiator=self.initiator, method='chap', user=params['chap_user'],
                       mutual_user=params['mutual_user'], vserver=vserver)
        users_change = current is None or any(current[key] != planned[key] for key in ('method', 'user', 'mutual_user'))
        write = users_change or self.secrets_differ()
        self.result.update(changed=write, chap=planned if write else current, secret_written=write)
        if not write:
            return
        if current is None:
            self.backend.check_connection()
        self.backend.validate_chap(self.initiator)
        self.result['diff'] = dict(before=self.describe(current) if current else '',
                                   after=self.describe(planned, written=True))
        if not self.module.check_mode:
            self.result['chap'] = self.backend.set_chap(self.initiator, params['chap_user'], params['chap_secret'],
                                                        params['mutual_user'], params['mutual_secret'])

    def secrets_differ(self):
        """Whether a run that finds the users as asked must write the secrets: where the array shows its
        secrets, when they differ; where it cannot (None), as ``update_secret`` says."""
        matches = self.backend.chap_secrets_match(self.initiator, self.params['chap_secret'], self.params['mutual_secret'])
        if matches is None:
            return self.params['update_secret'] == 'always'
        return not matches

    @staticmethod
    def describe(chap, written=False):
        secret = 'secret: (set%s)' % (', written by this run' if written else '')
        lines = ['initiator: %s' % chap['initiator'], 'method: %s' % chap['method']]
        if chap['user']:
            lines.extend(['user: %s' % chap['user'], secret])
        if chap['mutual_user']:
            lines.extend(['mutual_user: %s' % chap['mutual_user'], 'mutual_' + secret])
        return '\n'.join(lines) + '\n'


def main():
    argument_spec = san_argument_spec()
    argument_spec.update(
        initiator=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        chap_user=dict(type='str'),
        chap_secret=dict(type='str', no_log=True),
        mutual_user=dict(type='str'),
        mutual_secret=dict(type='str', no_log=True),
        update_secret=dict(type='str', default='always', choices=['always', 'on_create'], no_log=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[('state', 'present', ('chap_user', 'chap_secret'))],
                           required_together=[('mutual_user', 'mutual_secret')])
    run_san_manager(module, InitiatorChapManager)


if __name__ == '__main__':
    main()
