# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iscsid itself: the initiator-name file it reads when it starts, and its restart.

Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.plugins.module_utils._command import Runner

INITIATOR_FILE = '/etc/iscsi/initiatorname.iscsi'
UNIT = 'iscsid.service'
RESTART_TIMEOUT = 120


def read_lines(path):
    """The lines of PATH, or None when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read().splitlines()
    except (IOError, OSError):
        return None


def initiator_value(lines, key):
    """The value iscsid reads for KEY ('InitiatorName', 'InitiatorAlias') from the initiator-name file's LINES.

    iscsid's own rule (open-iscsi `get_global_string_param`): each line stripped, a line starting with `KEY=`
    sets the value, the last non-empty one wins; a commented line never starts with KEY. None when unset.
    """
    found = None
    prefix = key + '='
    for line in lines:
        line = line.strip()
        if line.startswith(prefix) and line[len(prefix):].strip():
            found = line[len(prefix):].strip()
    return found


def read_initiator(path=INITIATOR_FILE):
    """{'name': ..., 'alias': ...} as iscsid reads them from PATH (None for what is unset or unreadable)."""
    lines = read_lines(path) or []
    return {'name': initiator_value(lines, 'InitiatorName'), 'alias': initiator_value(lines, 'InitiatorAlias')}


def restart_iscsid(module, no_systemctl_warning):
    """`systemctl try-restart iscsid.service` when iscsid is running, so that it reads its files again.

    True when iscsid was restarted (in check mode: would be), False when it is not running, or when systemctl is
    missing (then NO_SYSTEMCTL_WARNING is warned). A failed restart raises CommandError (cmd, rc, stdout, stderr).
    """
    runner = Runner(module)
    if not runner.has('systemctl'):
        module.warn(no_systemctl_warning)
        return False
    _rc, out, _err = runner.run('systemctl', ['is-active', UNIT], ok=None)
    if out.strip() != 'active':
        return False
    if module.check_mode:
        return True
    runner.run('systemctl', ['try-restart', UNIT], timeout=RESTART_TIMEOUT, what='restarting iscsid')
    return True
