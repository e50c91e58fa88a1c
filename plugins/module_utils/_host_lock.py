# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host-wide lock that serialises this collection's changes to shared host state.

Two runs of the collection's modules on one host (two restores through one browse host, an AWX job and an
admin's playbook) must not interleave their iscsiadm node-database writes and logins. HostLock is an
flock(2) on a file under /run/lock:

- the kernel drops it when the holder exits, however it exits (SIGKILL included): no stale lock;
- the wait is bounded; when it runs out, HostLockTimeout names the holder (pid, what it does, since when),
  which the holder writes into the lock file while it holds it;
- it is re-entrant within one process (a nested `with lock.held(...)` does not wait for itself);
- every wait is recorded in `waits`, so a module can report it.

Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import os
import time

HOST_LOCK_PATH = '/run/lock/san.iscsi.lock'
# above iscsiadm's longest bounded call (a login, 300 s) so a waiter outlasts one slow holder
HOST_LOCK_WAIT = 330
POLL_FIRST = 0.02
POLL_MAX = 0.25
_LOCKS = {}


class HostLockTimeout(Exception):
    """The lock was not free within the wait; .holder says who held it."""

    error_code = 'host_lock_timeout'

    def __init__(self, msg, holder):
        super(HostLockTimeout, self).__init__(msg)
        self.msg = msg
        self.holder = holder


def host_lock(path=None, wait=None):
    """The process's one HostLock for PATH (default HOST_LOCK_PATH; WAIT default HOST_LOCK_WAIT).

    Two instances on one path in one process would wait for each other, so there is one per path.
    """
    path = path or HOST_LOCK_PATH
    lock = _LOCKS.get(path)
    if lock is None:
        lock = _LOCKS[path] = HostLock(path, HOST_LOCK_WAIT if wait is None else wait)
    return lock


class HostLock(object):
    """An exclusive, re-entrant, bounded-wait flock on PATH (see the module docstring).

    Use host_lock() for the shared instance of a path; construct one directly only in tests.
    """

    def __init__(self, path=HOST_LOCK_PATH, wait=HOST_LOCK_WAIT, clock=time.monotonic, sleep=time.sleep):
        self.path = path
        self.wait = wait
        self.clock = clock
        self.sleep = sleep
        self.waits = []  # [{'seconds': float, 'holder': str, 'for': str}]
        self._fd = None
        self._depth = 0

    @contextlib.contextmanager
    def held(self, what):
        """Hold the lock for WHAT (a short description written for waiters to read)."""
        self.acquire(what)
        try:
            yield self
        finally:
            self.release()

    def acquire(self, what):
        if self._depth:
            self._depth += 1
            return
        directory = os.path.dirname(self.path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._wait_for(fd, what)
            os.ftruncate(fd, 0)
            os.pwrite(fd, ('pid %d: %s (since %s)\n' % (
                os.getpid(), what, time.strftime('%Y-%m-%d %H:%M:%S'))).encode('utf-8', 'replace'), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._depth = fd, 1

    def release(self):
        if not self._depth:
            return
        self._depth -= 1
        if self._depth:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the only descriptor drops the flock

    def _wait_for(self, fd, what):
        if _try_lock(fd):
            return
        start = self.clock()
        holder = read_holder(fd)
        delay = POLL_FIRST
        while True:
            self.sleep(delay)
            if _try_lock(fd):
                self.waits.append({'seconds': round(self.clock() - start, 2), 'holder': holder, 'for': what})
                return
            holder = read_holder(fd) or holder
            if self.clock() - start >= self.wait:
                raise HostLockTimeout(
                    'waited %gs for the host lock %s to %s; it is held by %s' % (
                        self.wait, self.path, what, holder or 'a process that did not say what it does'),
                    holder)
            delay = min(delay * 2, POLL_MAX)


def _try_lock(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (IOError, OSError) as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def read_holder(fd):
    """What the holder wrote into the lock file ('' when it has not written yet)."""
    try:
        return os.pread(fd, 4096, 0).decode('utf-8', 'replace').strip()
    except OSError:
        return ''
