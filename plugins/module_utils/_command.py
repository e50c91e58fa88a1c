# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command seam: every external command the collection runs goes through `Runner`.

- argv lists, never a shell;
- LC_ALL=C (and LANG=C), so output and messages parse the same on every host;
- bounded by coreutils `timeout` (TERM, then KILL after a grace), so no tool can hang a module;
- a failure is a CommandError (or the subclass the seam chooses) carrying cmd, rc, stdout, stderr and a
  stable error_code for fail_json.

Seams (_iscsiadm, _blockdev, _mounts, _lvm, the LIO backend) add their own retries and messages on top.
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

DEFAULT_TIMEOUT = 60
TIMEOUT_RC = 124
KILL_GRACE = 5
EXTRA_BIN_DIRS = ['/sbin', '/usr/sbin', '/usr/local/sbin']
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}

PACKAGES = {
    'blkid': 'util-linux', 'partx': 'util-linux', 'blockdev': 'util-linux', 'losetup': 'util-linux',
    'mount': 'mount', 'umount': 'mount', 'dmsetup': 'dmsetup', 'lvm': 'lvm2', 'udevadm': 'udev',
    'multipath': 'multipath-tools', 'systemctl': 'systemd',
}


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


def fail_with(module, exc, partial_result, **extra):
    """fail_json for a CommandError EXC: what the run had found and done (PARTIAL_RESULT, its 'changed' kept as
    changed), then EXTRA, then the error's msg, cmd, rc, stdout, stderr and error_code."""
    result = dict(partial_result or {})
    changed = bool(result.pop('changed', False))
    result.update(extra)
    result.update(exc.as_fail_kwargs())
    module.fail_json(changed=changed, **result)


class ToolError(CommandError):
    """A failed or missing system tool (block devices, LVM, mount, cp, ...)."""


class Runner(object):
    """Runs commands for one module; `calls` records every argv (tests, benchmarks).

    error: the CommandError subclass raised for failures; kill_grace: seconds between TERM and KILL.
    """

    def __init__(self, module, timeout=DEFAULT_TIMEOUT, error=ToolError, kill_grace=KILL_GRACE):
        self.module = module
        self.timeout = timeout
        self.error = error
        self.kill_grace = kill_grace
        self.timeout_binary = module.get_bin_path('timeout')
        self.calls = []
        self._binaries = {}

    def binary(self, name, hint=None):
        """Absolute path of tool NAME (also searched in the sbin directories); an error naming its package."""
        if name.startswith('/'):
            return name
        if name not in self._binaries:
            path = self.module.get_bin_path(name, opt_dirs=EXTRA_BIN_DIRS)
            if not path:
                raise self.error('%s was not found in PATH%s' % (
                    name, ': %s' % hint if hint else ' (Debian/Ubuntu package: %s)' % PACKAGES.get(name, name)))
            self._binaries[name] = path
        return self._binaries[name]

    def has(self, name):
        """Whether tool NAME is installed."""
        try:
            self.binary(name)
        except CommandError:
            return False
        return True

    def argv(self, tool, args, timeout=None):
        argv = [self.binary(tool)] + [str(arg) for arg in args]
        if self.timeout_binary:
            argv = [self.timeout_binary, '-k', str(self.kill_grace), str(int(timeout or self.timeout))] + argv
        return argv

    def execute(self, argv):
        """Run a ready argv (from argv()) in the C locale; (rc, stdout, stderr), whatever rc is."""
        self.calls.append(argv)
        return self.module.run_command(argv, environ_update=dict(C_LOCALE))

    def run(self, tool, args, ok=(0,), timeout=None, what=None):
        """Run TOOL ARGS; return (rc, stdout, stderr) when rc is in ok (any rc when ok is None), else raise."""
        argv = self.argv(tool, args, timeout)
        rc, out, err = self.execute(argv)
        if ok is None or rc in ok:
            return rc, out, err
        raise self.failure(argv, rc, out, err, what or ' '.join([tool] + [str(arg) for arg in args]), timeout)

    def failure(self, argv, rc, out, err, what, timeout=None):
        """The error for a failed command: what it did, why it stopped, and the last line it printed."""
        if rc == TIMEOUT_RC and self.timeout_binary:
            msg = '%s did not finish within %ss and was stopped' % (what, int(timeout or self.timeout))
        else:
            msg = '%s failed with exit code %s' % (what, rc)
        detail = (err or out or '').strip().splitlines()
        if detail:
            msg += ': %s' % detail[-1].strip()
        return self.error(msg, cmd=argv, rc=rc, stdout=out, stderr=err)


def concurrently(calls):
    """Run each callable of CALLS in a thread of its own, all at once; -> [(result, None) or (None, error)].

    For commands that wait on something else (an iSCSI login waits on the target), not on this host's CPU.
    The outcomes are in the order of CALLS; an exception (SystemExit included: AnsibleModule.run_command
    calls fail_json when a program cannot start) is returned, never lost with its thread. A single call runs in
    the calling thread.
    """
    outcomes = [(None, None)] * len(calls)

    def run(index, call):
        try:
            outcomes[index] = (call(), None)
        except BaseException as error:  # pylint: disable=broad-except
            outcomes[index] = (None, error)

    if len(calls) == 1:
        run(0, calls[0])
        return outcomes
    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
