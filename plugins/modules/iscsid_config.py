#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: iscsid_config
short_description: Manage settings in the open-iscsi configuration file /etc/iscsi/iscsid.conf
version_added: 0.1.0
description:
  - Sets C(name = value) settings such as C(node.startup), C(node.session.timeo.replacement_timeout),
    C(node.session.scan), and session or discovery CHAP.
  - Replaces the active line of a setting, or else uncomments the commented default (C(#name = value)) in
    place, or else appends the line; every other line, comment and blank is left as it was.
  - Secrets go in O(secret_settings) (never logged, masked in the diff); the file becomes mode 0600 when it
    holds an active secret.
  - The C(node.*) defaults apply to node records created afterwards (discovery, M(san.iscsi.node)); existing
    records keep their values.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - san.iscsi.iscsi
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Secret values are shown as C(********).
  platform:
    platforms: posix
seealso:
  - module: san.iscsi.initiator
options:
  settings:
    description:
      - Settings by name. Booleans become C(Yes)/C(No). A null value comments the active line out (the
        built-in default applies again).
    type: dict
    default: {}
  secret_settings:
    description:
      - Secret settings (names ending in C(.password) or C(.password_in)), e.g.
        C(node.session.auth.password), C(discovery.sendtargets.auth.password_in).
    type: dict
    default: {}
  path:
    description: The configuration file.
    type: path
    default: /etc/iscsi/iscsid.conf
  restart_iscsid:
    description: Restart iscsid (only if it runs) when the file changed, for C(iscsid.*) settings.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Automatic login at boot, fail paths fast for multipath, CHAP for new records
  san.iscsi.iscsid_config:
    settings:
      node.startup: automatic
      node.session.timeo.replacement_timeout: 5
      node.session.auth.authmethod: CHAP
      node.session.auth.username: host1
    secret_settings:
      node.session.auth.password: "{{ vault_chap_secret }}"
'''

RETURN = r'''
updated:
  description: Names of the settings changed (would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [node.startup, node.session.auth.password]
settings:
  description: Active value of each setting asked for after the run; secrets as C(********).
  returned: always
  type: dict
  sample: {node.startup: automatic, node.session.auth.password: "********"}
mode:
  description: File mode after the run (octal string).
  returned: always
  type: str
  sample: "0600"
restarted:
  description: Whether iscsid was restarted.
  returned: always
  type: bool
'''

import os
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError
from ansible_collections.san.iscsi.plugins.module_utils._iscsiadm import MASKED, is_secret, setting_text
from ansible_collections.san.iscsi.plugins.module_utils._iscsid import restart_iscsid

NAME_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_.\[\]-]*$')


def parse_line(line):
    """(name, value, active) of a `name = value` or `#name = value` line, else None."""
    match = re.match(r'^\s*(#\s*)?([A-Za-z][A-Za-z0-9_.\[\]-]*)\s*=\s*(.*?)\s*$', line)
    if not match:
        return None
    return match.group(2), match.group(3), match.group(1) is None


def render(name, value):
    return '%s = %s' % (name, value)


def apply_setting(lines, name, value):
    """New lines with `name` set to value (None: commented out)."""
    active = [i for i, line in enumerate(lines) if (parse_line(line) or (None, None, False))[0] == name
              and parse_line(line)[2]]
    lines = list(lines)
    if value is None:
        for index in active:
            lines[index] = '# ' + lines[index].lstrip()
        return lines
    if active:
        lines[active[0]] = render(name, value)
        for index in active[1:]:
            lines[index] = '# ' + lines[index].lstrip()
        return lines
    commented = [i for i, line in enumerate(lines) if (parse_line(line) or (None,))[0] == name]
    if commented:
        lines[commented[0]] = render(name, value)
    else:
        lines.append(render(name, value))
    return lines


def active_value(lines, name):
    for line in lines:
        parsed = parse_line(line)
        if parsed and parsed[0] == name and parsed[2]:
            return parsed[1]
    return None


def masked(lines):
    out = []
    for line in lines:
        parsed = parse_line(line)
        if parsed and parsed[2] and is_secret(parsed[0]):
            line = render(parsed[0], MASKED)
        out.append(line)
    return '\n'.join(out) + '\n'


class IscsidConfig(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.wanted = self.validate()

    def validate(self):
        wanted = {}
        for name, value in self.params['settings'].items():
            if is_secret(name):
                self.module.fail_json(msg='settings: %s is a secret; put it in secret_settings' % name)
            wanted[name] = value
        for name, value in self.params['secret_settings'].items():
            if not is_secret(name):
                self.module.fail_json(msg='secret_settings: %s is not a password setting; put it in settings' % name)
            wanted[name] = value
        for name, value in wanted.items():
            if not NAME_RE.match(name):
                self.module.fail_json(msg='%r is not a setting name' % name)
            text = None if value is None else setting_text(value)
            if text is not None and ('\n' in text or '\r' in text):
                self.module.fail_json(msg='the value of %s must be a single line' % name)
            wanted[name] = text
        return wanted

    def run(self):
        path = self.params['path']
        try:
            with open(path) as handle:
                original = handle.read().splitlines()
        except (IOError, OSError) as error:
            self.module.fail_json(msg='cannot read %s (is open-iscsi installed?): %s' % (path, error))
        lines = original
        updated = []
        for name in sorted(self.wanted):
            new = apply_setting(lines, name, self.wanted[name])
            if new != lines:
                updated.append(name)
            lines = new
        has_secret = any(parse_line(l) and parse_line(l)[2] and is_secret(parse_line(l)[0]) for l in lines)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        wanted_mode = mode & 0o700 if has_secret and mode & 0o077 else mode
        changed = bool(updated) or wanted_mode != mode
        result = dict(changed=changed, updated=updated, mode='%04o' % wanted_mode, restarted=False,
                      settings=dict((name, MASKED if is_secret(name) and active_value(lines, name) is not None
                                     else active_value(lines, name)) for name in sorted(self.wanted)))
        if self.module._diff:
            result['diff'] = dict(before=masked(original), after=masked(lines), before_header=path, after_header=path)
        if changed and not self.module.check_mode:
            self.write(path, lines, wanted_mode)
        if changed and self.params['restart_iscsid']:
            result['restarted'] = self.restart()
        return result

    def write(self, path, lines, mode):
        fd, tmp = tempfile.mkstemp(prefix='.iscsid.conf-', dir=os.path.dirname(path))
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        self.module.atomic_move(tmp, path)
        os.chmod(path, mode)

    def restart(self):
        restarted = False
        try:
            restarted = restart_iscsid(self.module, 'systemctl not found: restart iscsid yourself')
        except CommandError as error:
            self.module.fail_json(msg='iscsid.conf was written but restarting iscsid failed', cmd=error.cmd,
                                  rc=error.rc, stdout=error.stdout, stderr=error.stderr)
        return restarted


def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type='dict', default={}),
            secret_settings=dict(type='dict', default={}, no_log=True),
            path=dict(type='path', default='/etc/iscsi/iscsid.conf'),
            restart_iscsid=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**IscsidConfig(module).run())


if __name__ == '__main__':
    main()
