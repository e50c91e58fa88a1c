# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_browse/files/host_steps.py, run as the role runs it: `python3 - ARGS` with the script on stdin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'snapshot_browse', 'files',
                      'host_steps.py')
COPY_PATHS = os.path.join(os.path.dirname(SCRIPT), 'copy_paths.py')


def run_helper(script, *args):
    """Run one of the role's helper scripts as the role does: `python3 - ARGS` with the script on stdin."""
    with open(script) as source:
        proc = subprocess.run([sys.executable, '-'] + list(args), stdin=source, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


def run_script(*args):
    return run_helper(SCRIPT, *args)


def test_cleanup_removes_files_and_the_mount_point(tmp_path):
    archive, staging, mount_point = tmp_path / 'r.tar', tmp_path / 'r.staging', tmp_path / 'mnt'
    archive.write_text('x')
    (staging / 'data').mkdir(parents=True)
    mount_point.mkdir()
    code, result = run_script('cleanup', '--remove', str(archive), '--remove=%s' % staging, '--rmdir', str(mount_point))
    assert (code, result['errors']) == (0, [])
    assert result['done'] == ['removed %s' % archive, 'removed %s' % staging, 'removed mount point %s' % mount_point]
    assert result['changed'] is True
    assert not archive.exists() and not staging.exists() and not mount_point.exists()


def test_cleanup_of_what_is_gone_already_changes_nothing(tmp_path):
    code, result = run_script('cleanup', '--remove', str(tmp_path / 'gone.tar'), '--rmdir', str(tmp_path / 'gone'))
    assert (code, result) == (0, dict(changed=False, done=[], errors=[]))


def test_cleanup_keeps_a_mount_point_that_is_not_empty_and_still_does_the_rest(tmp_path):
    mount_point, archive = tmp_path / 'mnt', tmp_path / 'r.tar'
    (mount_point / 'data').mkdir(parents=True)
    archive.write_text('x')
    code, result = run_script('cleanup', '--rmdir', str(mount_point), '--remove', str(archive))
    assert code == 1
    assert result['errors'] == [dict(msg='cannot remove mount point %s: Directory not empty' % mount_point)]
    assert (mount_point / 'data').is_dir() and not archive.exists()


def test_cleanup_removes_several_mount_points_then_their_parent_in_the_order_given(tmp_path):
    run_dir = tmp_path / 'sv1'
    first, second = run_dir / 'snap1', run_dir / 'snap2'
    first.mkdir(parents=True)
    second.mkdir()
    code, result = run_script('cleanup', '--rmdir', str(first), '--rmdir=%s' % second, '--rmdir', str(run_dir))
    assert (code, result['errors']) == (0, [])
    assert result['done'] == ['removed mount point %s' % path for path in (first, second, run_dir)]
    assert not run_dir.exists()


def test_cleanup_keeps_the_parent_when_a_mount_point_in_it_stays(tmp_path):
    run_dir = tmp_path / 'sv2'
    (run_dir / 'snap1' / 'data').mkdir(parents=True)
    code, result = run_script('cleanup', '--rmdir', str(run_dir / 'snap1'), '--rmdir', str(run_dir))
    assert code == 1
    assert [error['msg'] for error in result['errors']] == [
        'cannot remove mount point %s: Directory not empty' % path for path in (run_dir / 'snap1', run_dir)]
    assert (run_dir / 'snap1' / 'data').is_dir()


def test_a_symlink_to_a_directory_is_removed_not_followed(tmp_path):
    target, link = tmp_path / 'keep', tmp_path / 'relay'
    (target / 'data').mkdir(parents=True)
    link.symlink_to(target)
    code, result = run_script('cleanup', '--remove', str(link))
    assert (code, result['done']) == (0, ['removed %s' % link])
    assert not os.path.lexists(str(link)) and (target / 'data').is_dir()


# cleanup --stop KEYDIR: the detached send of copy_paths.py, its own process group, its pid in KEYDIR/pid.

def group_members(pgid):
    """The pids of the live (not zombie) processes of process group PGID."""
    members = []
    for name in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % name) as stat_in:
                fields = stat_in.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != 'Z' and int(fields[2]) == pgid:
            members.append(int(name))
    return members


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.fixture
def copy_process():
    """Start a stand-in for a detached send: a process group leader whose argv ends with the given arguments, with a
    child (like rsync) in its group; whatever is left of the group is killed at the end."""
    started = []

    def start(*argv_tail):
        proc = subprocess.Popen([sys.executable, '-c', 'import subprocess; subprocess.call(["sleep", "60"])']
                                + list(argv_tail), start_new_session=True)
        started.append(proc)
        assert wait_for(lambda: len(group_members(proc.pid)) == 2), 'the child did not start'
        return proc

    yield start
    for proc in started:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()


def test_cleanup_stops_the_copy_still_running_and_its_children(tmp_path, copy_process):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    proc = copy_process('send', 'root', str(keydir), 'host')
    (keydir / 'pid').write_text('%d\n' % proc.pid)
    code, result = run_script('cleanup', '--stop', str(keydir), '--remove', str(keydir))
    assert (code, result['errors'], result['changed']) == (0, [], True)
    assert result['done'] == ['stopped the copy still running (process group %d)' % proc.pid,
                              'removed %s' % keydir]
    assert proc.wait(timeout=10) == -signal.SIGTERM
    assert wait_for(lambda: group_members(proc.pid) == [])
    assert not keydir.exists()


def test_cleanup_leaves_alone_a_process_that_is_not_the_copy_of_this_keydir(tmp_path, copy_process):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    proc = copy_process('send', 'root', str(keydir) + '.other', str(keydir) + '/', 'host')  # a reused pid
    (keydir / 'pid').write_text('%d\n' % proc.pid)
    code, result = run_script('cleanup', '--stop', str(keydir))
    assert (code, result) == (0, dict(changed=False, done=[], errors=[]))
    time.sleep(0.2)
    assert proc.poll() is None and len(group_members(proc.pid)) == 2


def test_cleanup_leaves_alone_a_copy_that_has_ended(tmp_path, copy_process):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    proc = copy_process('send', 'root', str(keydir), 'host')
    (keydir / 'pid').write_text('%d\n' % proc.pid)
    (keydir / 'result.json').write_text('{"seconds": 1.0}')
    code, result = run_script('cleanup', '--stop', str(keydir))
    assert (code, result) == (0, dict(changed=False, done=[], errors=[]))
    time.sleep(0.2)
    assert proc.poll() is None and len(group_members(proc.pid)) == 2


@pytest.mark.parametrize('pid_file', [None, '', 'not a pid\n', '0\n', '999999999\n'])
def test_cleanup_without_a_copy_to_stop_does_the_rest(tmp_path, pid_file):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    if pid_file is not None:
        (keydir / 'pid').write_text(pid_file)
    code, result = run_script('cleanup', '--stop', str(keydir), '--remove', str(keydir))
    assert (code, result) == (0, dict(changed=True, done=['removed %s' % keydir], errors=[]))
    code, result = run_script('cleanup', '--stop', str(keydir))
    assert (code, result) == (0, dict(changed=False, done=[], errors=[]))


def run_copy_paths(*args):
    return run_helper(COPY_PATHS, *args)


def test_cleanup_stops_a_detached_send_of_copy_paths_that_still_runs(tmp_path):
    """The real thing: copy_paths.py send --detach to a server that never answers, then cleanup --stop."""
    for tool in ('ssh-keygen', 'ssh', 'rsync'):
        if shutil.which(tool) is None:
            pytest.skip('needs %s' % tool)
    root, keydir = tmp_path / 'snap', tmp_path / 'run1.ssh'
    (root / 'data').mkdir(parents=True)
    (root / 'data' / 'a.txt').write_text('original\n')
    code, offered = run_copy_paths('offer', str(root), str(keydir), '--label=run1', '--timeout=30', '--', 'data')
    assert code == 0, offered
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # takes connections, never says a word
    pid = None
    try:
        silent.bind(('127.0.0.1', 0))
        silent.listen(4)
        code, sent = run_copy_paths('send', str(root), str(keydir), '127.0.0.1', '--user=restorer',
                                    '--port=%d' % silent.getsockname()[1], '--host-key=' + offered['public_key'],
                                    '--timeout=60', '--detach', '--', 'data')
        assert (code, sent['detached']) == (0, True)
        assert wait_for(lambda: (keydir / 'pid').exists() and (keydir / 'pid').read_text().endswith('\n'))
        pid = int((keydir / 'pid').read_text())
        assert wait_for(lambda: len(group_members(pid)) >= 3)  # python, rsync and its ssh
        code, progress = run_copy_paths('progress', str(keydir), '--wait=0', '--timeout=30')
        assert (code, progress['done']) == (0, False)
        code, result = run_script('cleanup', '--stop', str(keydir), '--remove', str(keydir))
        assert (code, result['errors']) == (0, [])
        assert result['done'] == ['stopped the copy still running (process group %d)' % pid, 'removed %s' % keydir]
        assert wait_for(lambda: group_members(pid) == [])
    finally:
        silent.close()
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
