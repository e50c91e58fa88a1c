# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_browse/files/host_steps.py; iscsiadm is a recording stand-in on PATH (the command seam)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'snapshot_browse', 'files',
                      'host_steps.py')

FAKE_ISCSIADM = """#!/bin/sh
echo "$LC_ALL $*" >> "%(log)s"
echo "%(stderr)s" >&2
exit %(rc)d
"""


@pytest.fixture
def iscsiadm(tmp_path):
    """Install a fake iscsiadm answering with (rc, stderr); returns the file its argv lines go to."""
    bindir, log = tmp_path / 'bin', tmp_path / 'iscsiadm.log'
    bindir.mkdir()

    def install(rc=0, stderr=''):
        fake = bindir / 'iscsiadm'
        fake.write_text(FAKE_ISCSIADM % dict(log=log, stderr=stderr, rc=rc))
        fake.chmod(0o755)
        return log
    install.path = str(bindir) + os.pathsep + os.environ['PATH']
    return install


def run_script(path, *args):
    proc = subprocess.run([sys.executable, SCRIPT] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False, env=dict(os.environ, PATH=path))
    return proc.returncode, json.loads(proc.stdout)


@pytest.mark.parametrize('rc, stderr, changed', [
    (0, '', True),
    (15, 'iscsiadm: Could not create new interface sb1.', False),  # left by a killed run: reused
])
def test_iface_new(iscsiadm, rc, stderr, changed):
    log = iscsiadm(rc, stderr)
    code, result = run_script(iscsiadm.path, 'iface-new', 'sb1', '--timeout=10')
    assert (code, result['changed'], result['errors']) == (0, changed, [])
    assert log.read_text() == 'C -m iface -I sb1 -o new\n'


def test_iface_new_failure_is_reported_with_the_command(iscsiadm):
    iscsiadm(6, 'iscsiadm: Could not open /etc/iscsi/ifaces')
    code, result = run_script(iscsiadm.path, 'iface-new', 'sb1', '--timeout=10')
    assert code == 1
    assert result['errors'] == [dict(msg='iscsiadm could not create iface sb1',
                                     cmd=['iscsiadm', '-m', 'iface', '-I', 'sb1', '-o', 'new'], rc=6,
                                     stderr='iscsiadm: Could not open /etc/iscsi/ifaces\n')]


def test_cleanup_removes_files_mount_point_and_iface(iscsiadm, tmp_path):
    log = iscsiadm()
    archive, staging, mount_point = tmp_path / 'r.tar', tmp_path / 'r.staging', tmp_path / 'mnt'
    archive.write_text('x')
    (staging / 'data').mkdir(parents=True)
    mount_point.mkdir()
    code, result = run_script(iscsiadm.path, 'cleanup', '--remove', str(archive), '--remove', str(staging),
                              '--rmdir', str(mount_point), '--iface', 'sb1', '--timeout=10')
    assert (code, result['changed'], result['errors']) == (0, True, [])
    assert not archive.exists() and not staging.exists() and not mount_point.exists()
    assert log.read_text() == 'C -m iface -I sb1 -o delete\n'


def test_cleanup_of_what_is_gone_already_changes_nothing(iscsiadm, tmp_path):
    iscsiadm(22, 'iscsiadm: Could not read iface info for sb1.')
    code, result = run_script(iscsiadm.path, 'cleanup', '--remove', str(tmp_path / 'gone.tar'),
                              '--rmdir', str(tmp_path / 'gone'), '--iface', 'sb1', '--timeout=10')
    assert (code, result) == (0, dict(changed=False, done=[], errors=[]))


def test_cleanup_keeps_a_mount_point_that_is_not_empty_and_still_does_the_rest(iscsiadm, tmp_path):
    log = iscsiadm()
    mount_point, archive = tmp_path / 'mnt', tmp_path / 'r.tar'
    (mount_point / 'data').mkdir(parents=True)
    archive.write_text('x')
    code, result = run_script(iscsiadm.path, 'cleanup', '--rmdir', str(mount_point), '--remove', str(archive),
                              '--iface', 'sb1', '--timeout=10')
    assert code == 1
    assert result['errors'] == [dict(msg='cannot remove mount point %s: Directory not empty' % mount_point)]
    assert (mount_point / 'data').is_dir() and not archive.exists()
    assert log.read_text() == 'C -m iface -I sb1 -o delete\n'
