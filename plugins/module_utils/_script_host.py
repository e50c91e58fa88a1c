# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the seams need from a module, for the collection's helper programs that run outside Ansible.

The snapshot automount role installs programs on hosts (autofs's program map and its reaper on a browse
host, the SAN helper behind a restricted SSH key on a LIO storage host). They import this collection's
module_utils, copied next to them by the role, so that they log in, wait for disks, probe, mount and talk to
the SAN exactly as the modules do. The seams ask their ``module`` for ``params``, ``check_mode``, ``warn``,
``fail_json``, ``get_bin_path`` and ``run_command``; `ScriptModule` provides those with the standard library
alone (no ansible-core on the host). ``fail_json`` raises `ScriptFailure` carrying the same keyword arguments
a module would return (``msg``, ``error_code``, ``cmd``, ``rc``, ``stderr``).
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

SBIN_DIRS = ('/usr/local/sbin', '/usr/sbin', '/sbin')


class ScriptFailure(Exception):
    """A seam called fail_json: ``result`` holds its keyword arguments."""

    def __init__(self, result):
        super(ScriptFailure, self).__init__(result.get('msg', 'failed'))
        self.result = result


class ScriptModule(object):
    """The part of AnsibleModule that the seams use. WARN: a callable taking one message (a logger's)."""

    check_mode = False

    def __init__(self, params=None, warn=None, path=None):
        self.params = dict(params or {})
        self._warn = warn
        self.path = path if path is not None else os.environ.get('PATH', '/usr/bin:/bin')
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)
        if self._warn is not None:
            self._warn(message)

    def fail_json(self, **kwargs):
        raise ScriptFailure(kwargs)

    def get_bin_path(self, name, required=False, opt_dirs=None):
        """The first executable NAME in PATH, then OPT_DIRS and the sbin directories; None when missing."""
        directories = [part for part in self.path.split(os.pathsep) if part]
        directories += list(opt_dirs or []) + list(SBIN_DIRS)
        for directory in directories:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        if required:
            self.fail_json(msg='%s was not found in PATH or %s' % (name, ', '.join(SBIN_DIRS)),
                           error_code='missing_tool')
        return None

    def run_command(self, args, environ_update=None, data=None):
        """Run ARGS (a list, never a shell); (rc, stdout, stderr) as text, whatever rc is."""
        env = dict(os.environ)
        env.update(environ_update or {})
        try:
            process = subprocess.Popen(args, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True)
        except OSError as exc:
            return 127, '', '%s: %s' % (args[0], exc.strerror)
        out, err = process.communicate(data.encode('utf-8') if data is not None else None)
        return process.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')
