# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_browse/files/copy_paths.py with the real tar and rsync on a temporary tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'roles', 'snapshot_browse', 'files',
                      'copy_paths.py')


def load_script():
    spec = importlib.util.spec_from_file_location('copy_paths', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


copy_paths = load_script()


def run_script(*args):
    """Run the script as the role does: `python3 - ARGS` with the script on stdin."""
    with open(SCRIPT) as source:
        proc = subprocess.run([sys.executable, '-'] + list(args), stdin=source, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, check=False)
    run_script.stderr = proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture
def snapshot(tmp_path):
    """A snapshot root with a file, a tree with a relative symlink, and a symlink that leaves the root."""
    root = tmp_path / 'snap'
    tree = root / 'data' / 'tree'
    tree.mkdir(parents=True)
    (tree / 'a.txt').write_text('original\n')
    os.chmod(str(tree / 'a.txt'), 0o640)
    os.utime(str(tree / 'a.txt'), (1700000000, 1700000000))
    os.setxattr(str(tree / 'a.txt'), 'user.origin', b'ledger')
    (tree / 'link').symlink_to('a.txt')
    (root / 'data' / 'escape').symlink_to('/etc')
    (root / 'data' / 'dir_escape').mkdir()
    (root / 'data' / 'dir_escape' / 'out').symlink_to('../../../outside')
    return root


@pytest.mark.parametrize('path, reason', [
    ('/etc/passwd', 'must be a non-empty path relative to the snapshot root'),
    ('data/../data/tree', "may not contain '..'"),
    ('data/missing', 'does not exist in the snapshot'),
    ('data/escape', 'symlink data/escape -> /etc points outside the snapshot'),
    ('data/escape/passwd', 'a directory on the way is a symlink that leaves the snapshot'),
    ('data/dir_escape', 'symlink data/dir_escape/out -> ../../../outside points outside the snapshot'),
])
def test_refused_path_copies_nothing(snapshot, tmp_path, path, reason):
    archive = tmp_path / 'a.tar'
    rc, result = run_script('pack', str(snapshot), str(archive), '--timeout=30', '--', 'data/tree', path)
    assert rc == 1
    assert result['refused'] == [dict(path=path, reason=reason)]
    assert result['paths'] == [dict(path='data/tree', type='directory', size=0)]
    assert run_script.stderr == 'refused %s: %s; nothing was copied\n' % (path, reason)
    assert not archive.exists()


def test_local_copy_keeps_mode_times_xattrs_and_backs_up_what_it_replaces(snapshot, tmp_path):
    dest = tmp_path / 'dest'
    (dest / 'data' / 'tree').mkdir(parents=True)
    (dest / 'data' / 'tree' / 'a.txt').write_text('changed since\n')
    rc, result = run_script('local', str(snapshot), str(dest), '--timeout=30', '--backup-suffix=.~run1~',
                            '--', 'data/tree/a.txt')
    assert rc == 0
    assert result['paths'] == [dict(path='data/tree/a.txt', type='file', size=9)]
    assert '>f' in result['changes'][-1] and result['changes'][-1].endswith('data/tree/a.txt')
    restored = dest / 'data' / 'tree' / 'a.txt'
    assert restored.read_text() == 'original\n'
    assert oct(os.stat(str(restored)).st_mode & 0o7777) == oct(0o640)
    assert os.stat(str(restored)).st_mtime == 1700000000
    assert os.getxattr(str(restored), 'user.origin') == b'ledger'
    assert (dest / 'data' / 'tree' / 'a.txt.~run1~').read_text() == 'changed since\n'


def test_dry_run_lists_changes_and_writes_nothing(snapshot, tmp_path):
    dest = tmp_path / 'dest'
    dest.mkdir()
    rc, result = run_script('local', str(snapshot), str(dest), '--timeout=30', '--dry-run', '--', 'data/tree')
    assert rc == 0
    assert any(line.endswith('data/tree/a.txt') for line in result['changes'])
    assert os.listdir(str(dest)) == []


def test_pack_then_unpack_restores_the_tree_and_removes_the_relay_files(snapshot, tmp_path):
    archive, staging, dest = tmp_path / 'relay.tar', tmp_path / 'relay.staging', tmp_path / 'dest'
    dest.mkdir()
    rc, packed = run_script('pack', str(snapshot), str(archive), '--timeout=30', '--', 'data/tree')
    assert (rc, packed['refused']) == (0, [])
    assert oct(os.stat(str(archive)).st_mode & 0o777) == oct(0o600)
    rc, unpacked = run_script('unpack', str(archive), str(staging), str(dest), '--timeout=30', '--', 'data/tree')
    assert rc == 0
    assert os.readlink(str(dest / 'data' / 'tree' / 'link')) == 'a.txt'
    assert (dest / 'data' / 'tree' / 'a.txt').read_text() == 'original\n'
    assert os.getxattr(str(dest / 'data' / 'tree' / 'a.txt'), 'user.origin') == b'ledger'
    assert any(line.endswith('data/tree/a.txt') for line in unpacked['changes'])
    assert not archive.exists() and not staging.exists()


def test_failed_unpack_reports_the_command_and_still_removes_the_relay_files(tmp_path):
    archive, staging = tmp_path / 'relay.tar', tmp_path / 'relay.staging'
    archive.write_bytes(b'not a tar archive' * 64)
    rc, result = run_script('unpack', str(archive), str(staging), str(tmp_path / 'dest'), '--timeout=30', '--',
                            'data/tree')
    assert rc == 1
    assert result['cmd'][:4] == ['tar', '--extract', '--file', str(archive)]
    assert result['rc'] == 2 and result['msg'].startswith('tar failed (rc 2): ')
    assert run_script.stderr == result['msg'] + '\n'
    assert not archive.exists() and not staging.exists()


def test_a_command_over_its_timeout_is_stopped():
    with pytest.raises(copy_paths.CopyError) as failed:
        copy_paths.run(['sleep', '5'], 1)
    assert failed.value.result == dict(msg='sleep did not finish within 1 seconds', cmd=['sleep', '5'], rc=None,
                                       stderr='')


def test_changed_is_true_only_when_rsync_changed_the_destination(snapshot, tmp_path):
    """The role's changed_when reads "changed" from the one JSON document the script prints."""
    dest, archive = tmp_path / 'dest', tmp_path / 'relay.tar'
    dest.mkdir()
    copy = ['local', str(snapshot), str(dest), '--timeout=30', '--', 'data/tree']
    assert run_script(*copy)[1]['changed'] is True
    tree = snapshot / 'data' / 'tree'
    assert run_script(*copy)[1] == dict(changed=False, paths=[dict(path='data/tree', type='directory', size=0)],
                                        refused=[], changes=[], bytes=on_disk(tree, tree / 'a.txt', tree / 'link'))
    (dest / 'data' / 'tree' / 'a.txt').write_text('changed since\n')
    dry = run_script('local', str(snapshot), str(dest), '--timeout=30', '--dry-run', '--', 'data/tree')[1]
    assert dry['changes'] and dry['changed'] is False
    assert run_script('pack', str(snapshot), str(archive), '--timeout=30', '--', 'data/tree')[1]['changed'] is False
    assert run_script('local', str(snapshot), str(dest), '--timeout=30', '--', 'data/missing')[1]['changed'] is False


def test_a_failed_copy_counts_as_changed_unless_it_was_a_dry_run(tmp_path):
    archive, staging = tmp_path / 'relay.tar', tmp_path / 'relay.staging'
    for dry_run, changed in ((['--dry-run'], False), ([], True)):
        archive.write_bytes(b'not a tar archive' * 64)
        rc, result = run_script('unpack', str(archive), str(staging), str(tmp_path / 'dest'), '--timeout=30',
                                *(dry_run + ['--', 'data/tree']))
        assert (rc, result['changed']) == (1, changed)


def on_disk(*paths):
    return sum(os.lstat(str(path)).st_blocks * 512 for path in paths)


def test_pack_reports_the_data_size_on_disk_and_the_archive_size(snapshot, tmp_path):
    archive = tmp_path / 'relay.tar'
    rc, packed = run_script('pack', str(snapshot), str(archive), '--timeout=30', '--', 'data/tree')
    assert rc == 0
    tree = snapshot / 'data' / 'tree'
    assert packed['bytes'] == on_disk(tree, tree / 'a.txt', tree / 'link')
    assert packed['archive_bytes'] == os.stat(str(archive)).st_size > 0


def test_a_sparse_file_counts_its_blocks_not_its_length(tmp_path):
    root = tmp_path / 'snap'
    root.mkdir()
    with open(str(root / 'sparse.img'), 'wb') as handle:
        handle.truncate(64 * 1024 * 1024)
        handle.write(b'x' * 4096)
    found, refused, size_on_disk = copy_paths.check_paths(str(root), ['sparse.img'])
    assert refused == [] and found[0]['size'] == 64 * 1024 * 1024
    assert size_on_disk == on_disk(root / 'sparse.img') < 1024 * 1024


def statvfs_with_free(free, real=os.statvfs):
    """os.statvfs whose filesystems have FREE bytes available (block size 4096)."""
    def fake(path):
        info = real(path)
        return type('Statvfs', (), dict(f_bavail=free // 4096, f_frsize=4096, f_blocks=info.f_blocks))()
    return fake


def run_in_process(capsys, *args):
    rc = copy_paths.main(list(args))
    out, err = capsys.readouterr()
    return rc, json.loads(out.splitlines()[0]), err


def test_local_refuses_a_destination_without_room_and_copies_nothing(snapshot, tmp_path, capsys, monkeypatch):
    dest = tmp_path / 'dest'
    dest.mkdir()
    tree = snapshot / 'data' / 'tree'
    needed = on_disk(tree, tree / 'a.txt', tree / 'link')
    monkeypatch.setattr(copy_paths.os, 'statvfs', statvfs_with_free(needed - 4096))
    rc, result, err = run_in_process(capsys, 'local', str(snapshot), str(dest / 'new'), '--timeout=30', '--',
                                     'data/tree')
    assert rc == 1 and result['changed'] is False and result['error_code'] == 'no_space'
    assert result['space'] == [dict(path=str(dest), needed=needed, free=needed - 4096, paths=[str(dest / 'new')])]
    assert '%d bytes' % needed in err and '%d free' % (needed - 4096) in err
    assert os.listdir(str(dest)) == []


def test_local_copies_when_the_room_is_exactly_enough_and_a_dry_run_needs_none(snapshot, tmp_path, capsys,
                                                                               monkeypatch):
    tree = snapshot / 'data' / 'tree'
    needed = on_disk(tree, tree / 'a.txt', tree / 'link')
    monkeypatch.setattr(copy_paths.os, 'statvfs', statvfs_with_free(0))
    rc, result, _err = run_in_process(capsys, 'local', str(snapshot), str(tmp_path / 'dry'), '--timeout=30',
                                      '--dry-run', '--', 'data/tree')
    assert rc == 0 and result['bytes'] == needed
    monkeypatch.setattr(copy_paths.os, 'statvfs', statvfs_with_free(needed))
    rc, result, _err = run_in_process(capsys, 'local', str(snapshot), str(tmp_path / 'dest'), '--timeout=30', '--',
                                      'data/tree')
    assert rc == 0 and result['changed'] is True
    assert (tmp_path / 'dest' / 'data' / 'tree' / 'a.txt').read_text() == 'original\n'


def test_space_adds_up_the_paths_on_one_filesystem(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(copy_paths.os, 'statvfs', statvfs_with_free(1000 * 4096))
    archive, staging, dest = tmp_path / 'a.tar', tmp_path / 'a.staging', tmp_path / 'srv' / 'data'
    fits = ['%s=%d' % (archive, 400 * 4096), '%s=%d' % (staging, 300 * 4096), '%s=%d' % (dest, 300 * 4096)]
    rc, result, _err = run_in_process(capsys, 'space', '--timeout=30', '--', *fits)
    assert (rc, result['changed']) == (0, False)
    too_much = fits[:2] + ['%s=%d' % (dest, 301 * 4096)]
    rc, result, _err = run_in_process(capsys, 'space', '--timeout=30', '--', *too_much)
    assert rc == 1 and result['error_code'] == 'no_space' and result['changed'] is False
    assert result['space'] == [dict(path=str(tmp_path), needed=1001 * 4096, free=1000 * 4096,
                                    paths=[str(archive), str(staging), str(dest)])]


@pytest.mark.parametrize('bad', ['/srv/data', '/srv/data=', '=10', '/srv/data=ten'])
def test_space_refuses_what_is_not_path_equals_bytes(bad, capsys):
    rc, result, _err = run_in_process(capsys, 'space', '--timeout=30', '--', bad)
    assert rc == 1 and result['changed'] is False and 'PATH=BYTES' in result['msg']
