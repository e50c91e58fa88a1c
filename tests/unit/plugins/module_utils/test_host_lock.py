# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lock with real processes and real flock(2): a holder in another process, killed or timed out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import multiprocessing
import os
import signal
import time

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _host_lock
from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLock, HostLockTimeout, host_lock

FORK = multiprocessing.get_context('fork')


def _hold(path, ready, release):
    """Child process: take the lock, say so, keep it until RELEASE is set (or the process is killed)."""
    lock = HostLock(path)
    with lock.held('log in to iqn.2026-11.lab:t at 10.10.1.1:3260 (iface sb1)'):
        ready.set()
        release.wait(30)


@pytest.fixture
def holder(tmp_path):
    """A process holding the lock at tmp_path/lock; holder.release() lets it go, holder.kill() SIGKILLs it."""
    path = str(tmp_path / 'lock')
    ready, release = FORK.Event(), FORK.Event()
    child = FORK.Process(target=_hold, args=(path, ready, release))
    child.start()
    assert ready.wait(10), 'the child never took the lock'
    child.path = path
    child.release_lock = release.set
    yield child
    if child.is_alive():  # a child killed inside release.wait() may hold the event's lock: leave it alone
        release.set()
        child.join(10)
    if child.is_alive():
        child.kill()


def test_a_free_lock_is_taken_at_once_and_nothing_is_recorded(tmp_path):
    lock = HostLock(str(tmp_path / 'lock'))
    with lock.held('create node record'):
        with open(str(tmp_path / 'lock')) as handle:
            assert handle.read().startswith('pid %d: create node record (since ' % os.getpid())
    assert lock.waits == []
    with open(str(tmp_path / 'lock')) as handle:
        assert handle.read() == ''  # released: nobody named as holder


def test_a_second_process_waits_for_the_holder_and_records_whom_it_waited_for(holder):
    lock = HostLock(holder.path, wait=20)
    FORK.Process(target=_release_after, args=(holder.release_lock, 0.6)).start()
    start = time.monotonic()
    with lock.held('delete node record'):
        waited = time.monotonic() - start
    assert waited >= 0.5
    assert len(lock.waits) == 1
    assert lock.waits[0]['for'] == 'delete node record'
    assert lock.waits[0]['holder'].startswith('pid %d: log in to iqn.2026-11.lab:t at 10.10.1.1:3260' % holder.pid)
    assert 0.5 <= lock.waits[0]['seconds'] <= waited + 0.01


def _release_after(release, seconds):
    time.sleep(seconds)
    release()


def test_the_lock_is_free_when_its_holder_is_killed(holder):
    os.kill(holder.pid, signal.SIGKILL)
    holder.join(10)
    lock = HostLock(holder.path, wait=5)
    with lock.held('login'):
        pass
    # the dead holder's note may still be in the file; what matters is that the flock was dropped
    assert all(wait['seconds'] < 5 for wait in lock.waits)


def test_a_wait_that_runs_out_names_the_holder_and_leaves_the_lock_alone(holder):
    lock = HostLock(holder.path, wait=0.3)
    with pytest.raises(HostLockTimeout) as timed_out:
        lock.acquire('create iface sb2')
    assert 'waited 0.3s for the host lock %s to create iface sb2' % holder.path in timed_out.value.msg
    assert timed_out.value.holder.startswith('pid %d: log in to' % holder.pid)
    assert holder.is_alive()
    assert lock.waits == []
    lock.release()  # a release without the lock is harmless


def test_the_lock_is_re_entrant_within_a_process(tmp_path):
    lock = HostLock(str(tmp_path / 'lock'), wait=0.2)
    with lock.held('outer'):
        with lock.held('inner'):
            pass
        other = FORK.Process(target=_try_once, args=(str(tmp_path / 'lock'),))
        other.start()
        other.join(10)
        assert other.exitcode == 3  # still held after the inner block
    other = FORK.Process(target=_try_once, args=(str(tmp_path / 'lock'),))
    other.start()
    other.join(10)
    assert other.exitcode == 0


def _try_once(path):
    try:
        HostLock(path, wait=0.1).acquire('probe')
    except HostLockTimeout:
        os._exit(3)
    os._exit(0)


def test_one_instance_per_path_in_a_process(tmp_path, monkeypatch):
    monkeypatch.setattr(_host_lock, 'HOST_LOCK_PATH', str(tmp_path / 'default.lock'))
    assert host_lock() is host_lock(str(tmp_path / 'default.lock'))
    assert host_lock(str(tmp_path / 'other.lock')) is not host_lock()


def test_the_lock_directory_is_created(tmp_path):
    path = tmp_path / 'run' / 'lock' / 'san.iscsi.lock'
    with HostLock(str(path)).held('x'):
        assert path.exists()
