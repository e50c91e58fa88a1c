# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error every command seam raises: what fail_json needs to show the command, rc and output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class CommandError(Exception):
    """A failed or missing external command; as_fail_kwargs() gives msg, cmd, rc, stdout, stderr, error_code.

    error_code is a stable word for roles and playbooks to test (never the message text).
    """

    default_code = 'command_failed'

    def __init__(self, msg, cmd=None, rc=None, stdout='', stderr='', error_code=None):
        super(CommandError, self).__init__(msg)
        self.msg = msg
        self.cmd = cmd
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.error_code = error_code or self.default_code

    def as_fail_kwargs(self):
        return {'msg': self.msg, 'cmd': self.cmd, 'rc': self.rc, 'stdout': self.stdout, 'stderr': self.stderr,
                'error_code': self.error_code}
