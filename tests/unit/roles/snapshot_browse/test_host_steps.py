# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_browse/files/host_steps.py, run as the role runs it: `python3 - ARGS` with the script on stdin."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'snapshot_browse', 'files',
                      'host_steps.py')


def run_script(*args):
    with open(SCRIPT) as source:
        proc = subprocess.run([sys.executable, '-'] + list(args), stdin=source, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


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


def test_a_symlink_to_a_directory_is_removed_not_followed(tmp_path):
    target, link = tmp_path / 'keep', tmp_path / 'relay'
    (target / 'data').mkdir(parents=True)
    link.symlink_to(target)
    code, result = run_script('cleanup', '--remove', str(link))
    assert (code, result['done']) == (0, ['removed %s' % link])
    assert not os.path.lexists(str(link)) and (target / 'data').is_dir()
