# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_browse/files/copy_paths.py with the real tar and rsync on a temporary tree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
import types

import pytest

from ansible_collections.san.iscsi.tests.unit.role_files import load_role_file, role_file

SCRIPT = role_file('snapshot_browse', 'copy_paths.py')
copy_paths = load_role_file('snapshot_browse', 'copy_paths.py')


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


def test_a_trailing_slash_does_not_let_a_symlink_leaving_the_snapshot_through(snapshot, tmp_path):
    archive = tmp_path / 'a.tar'
    rc, result = run_script('pack', str(snapshot), str(archive), '--timeout=30', '--', 'data/tree/', 'data/escape/')
    assert rc == 1
    assert result['refused'] == [dict(path='data/escape', reason='symlink data/escape -> /etc points outside the snapshot')]
    assert result['paths'] == [dict(path='data/tree', type='directory', size=0)]
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


# The direct transfer: offer and send on the browse host, accept, place and revoke on the destination.

KEY_A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfRunA'
KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyOfRunB'
HAND_KEYS = ('# keys added by hand\n'
             'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdmin admin@ops\n'
             '\n'
             'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABLast last@ops')  # no newline at the end
EXPIRING_LINE = re.compile(r'^restrict,expiry-time="(\d{14})",command="(\S+) -wo -no-del -no-lock (\S+)" '
                           r'(ssh-ed25519 \S+) san-iscsi-restore:(\S+)$')


def needs_tools(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip('needs %s' % ', '.join(missing))


def read_text(path):
    with open(path) as text:
        return text.read()


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.fixture
def dest_user(tmp_path, tmp_path_factory, monkeypatch):
    """The destination's user U: a home in tmp_path (as this process's user), the keys lock, an rrsync and SSH
    host keys of its own."""
    home = tmp_path / 'home'
    home.mkdir()
    rrsync = tmp_path / 'bin' / 'rrsync'
    rrsync.parent.mkdir()
    rrsync.write_text('#!/bin/sh\nexit 1\n')
    os.chmod(str(rrsync), 0o755)
    entry = types.SimpleNamespace(pw_dir=str(home), pw_uid=os.getuid(), pw_gid=os.getgid())
    looked_up = []

    def getpwnam(name):
        looked_up.append(name)
        return entry

    monkeypatch.setattr(copy_paths.pwd, 'getpwnam', getpwnam)
    monkeypatch.setattr(copy_paths, 'KEYS_LOCK', str(tmp_path / 'keys.lock'))
    monkeypatch.setattr(copy_paths, 'RRSYNC', [str(tmp_path / 'bin' / 'missing'), str(rrsync)])
    ssh_dir = tmp_path_factory.mktemp('etc-ssh')  # not in tmp_path, whose listing tests check
    (ssh_dir / 'ssh_host_ed25519_key.pub').write_text(KEY_B + ' root@destination\n')
    (ssh_dir / 'ssh_host_ed25519_key').write_text('private, never read\n')
    (ssh_dir / 'sshd_config').write_text('PermitRootLogin prohibit-password\n')
    monkeypatch.setattr(copy_paths, 'SSH_DIR', str(ssh_dir))
    return types.SimpleNamespace(home=home, keys=home / '.ssh' / 'authorized_keys', rrsync=str(rrsync),
                                 looked_up=looked_up)


def accept(capsys, staging, label, key=KEY_A, valid_for=3600, needs=None):
    needs = ['%s=4096' % staging] if needs is None else needs
    return run_in_process(capsys, 'accept', str(staging), '--label=' + label, '--public-key=' + key,
                          '--user=restorer', '--valid-for=%d' % valid_for, '--timeout=30', '--', *needs)


def run_lines(keys):
    """The parsed run lines of an authorized_keys file: (expiry, rrsync, staging, key, label)."""
    return [EXPIRING_LINE.match(line).groups() for line in keys.read_text().splitlines()
            if 'san-iscsi-restore:' in line]


def test_offer_refuses_a_path_and_makes_no_key(snapshot, tmp_path):
    keydir = tmp_path / 'run1.ssh'
    rc, result = run_script('offer', str(snapshot), str(keydir), '--label=run1', '--timeout=30', '--',
                            'data/tree', 'data/escape')
    assert (rc, result['changed']) == (1, False)
    assert result['refused'] == [dict(path='data/escape',
                                      reason='symlink data/escape -> /etc points outside the snapshot')]
    assert 'public_key' not in result
    assert not os.path.lexists(str(keydir))


def test_offer_makes_the_run_key_pair_in_a_fresh_private_keydir(snapshot, tmp_path):
    needs_tools('ssh-keygen')
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    os.chmod(str(keydir), 0o755)
    (keydir / 'result.json').write_text('{"seconds": 1}')  # left by a killed run of the same label
    rc, result = run_script('offer', str(snapshot), str(keydir), '--label=run1', '--timeout=30', '--', 'data/tree')
    assert (rc, result['changed'], result['refused']) == (0, False, [])
    assert mode_of(keydir) == 0o700
    assert sorted(os.listdir(str(keydir))) == ['id_ed25519', 'id_ed25519.pub']
    assert mode_of(keydir / 'id_ed25519') == 0o600
    public = (keydir / 'id_ed25519.pub').read_text().split()
    assert public[2] == 'san-iscsi-restore:run1'
    assert result['public_key'] == ' '.join(public[:2])
    assert re.match(r'^ssh-ed25519 AAAA[A-Za-z0-9+/]+={0,2}$', result['public_key'])
    assert copy_paths.PUBLIC_KEY.match(result['public_key'])  # what accept takes
    tree = snapshot / 'data' / 'tree'
    assert result['bytes'] == on_disk(tree, tree / 'a.txt', tree / 'link') > 0
    assert result['paths'] == [dict(path='data/tree', type='directory', size=0)]


def test_accept_lets_the_run_key_write_into_staging_only_and_keeps_the_other_lines(dest_user, tmp_path, capsys):
    dest_user.keys.parent.mkdir(mode=0o700)
    dest_user.keys.write_text(HAND_KEYS)
    os.chmod(str(dest_user.keys), 0o640)
    staging = tmp_path / 'run1.staging'
    (staging / 'partial').mkdir(parents=True)  # left by a killed run of the same label
    before = time.time()
    rc, result, err = accept(capsys, staging, 'run1', valid_for=7200)
    after = time.time()
    assert (rc, err) == (0, '')
    assert result['changed'] is False and result['refused'] == []
    assert dest_user.looked_up == ['restorer']
    assert result['host_keys'] == [KEY_B]
    assert staging.is_dir() and os.listdir(str(staging)) == [] and mode_of(staging) == 0o700
    lines = dest_user.keys.read_text().splitlines(True)
    assert ''.join(lines[:-1]) == HAND_KEYS + '\n'
    expiry = EXPIRING_LINE.match(lines[-1]).group(1)
    assert lines[-1] == ('restrict,expiry-time="%s",command="%s -wo -no-del -no-lock %s" %s san-iscsi-restore:run1\n'
                         % (expiry, dest_user.rrsync, staging, KEY_A))
    assert result['expiry'] == expiry
    expires = time.mktime(time.strptime(expiry, '%Y%m%d%H%M%S'))
    assert int(before) + 7200 - 1 <= expires <= after + 7200
    assert mode_of(dest_user.keys) == 0o640
    assert [name for name in os.listdir(str(dest_user.keys.parent)) if name != 'authorized_keys'] == []


def test_accept_makes_the_ssh_directory_and_a_private_keys_file_when_missing(dest_user, tmp_path, capsys):
    rc, result, err = accept(capsys, tmp_path / 'run1.staging', 'run1')
    assert (rc, err, result['changed']) == (0, '', False) and isinstance(result['host_keys'], list)
    assert mode_of(dest_user.home / '.ssh') == 0o700
    assert mode_of(dest_user.keys) == 0o600
    assert [line[4] for line in run_lines(dest_user.keys)] == ['run1']
    assert dest_user.keys.read_text().count('\n') == 1


def test_accept_again_replaces_its_own_line_and_keeps_the_other_runs(dest_user, tmp_path, capsys):
    dest_user.keys.parent.mkdir(mode=0o700)
    dest_user.keys.write_text(HAND_KEYS + '\n')
    staging = tmp_path / 'ab.staging'
    for label in ('ab', 'abc', 'b', 'xab'):
        assert accept(capsys, tmp_path / (label + '.staging'), label)[0] == 0
    assert accept(capsys, staging, 'ab', key=KEY_B)[0] == 0
    assert dest_user.keys.read_text().startswith(HAND_KEYS + '\n')
    assert [(line[3], line[4]) for line in run_lines(dest_user.keys)] == [
        (KEY_A, 'abc'), (KEY_A, 'b'), (KEY_A, 'xab'), (KEY_B, 'ab')]
    assert [line[2] for line in run_lines(dest_user.keys)][-1] == str(staging)


@pytest.mark.parametrize('line, label, is_run_key', [
    ('ssh-ed25519 AAAA san-iscsi-restore:ab\n', 'ab', True),
    ('restrict,command="x y" ssh-ed25519 AAAA san-iscsi-restore:ab', 'ab', True),
    ('ssh-ed25519 AAAA san-iscsi-restore:abc\n', 'ab', False),
    ('ssh-ed25519 AAAA san-iscsi-restore:ab\n', 'abc', False),
    ('ssh-ed25519 AAAA san-iscsi-restore:xab\n', 'ab', False),
    ('ssh-ed25519 AAAA xsan-iscsi-restore:ab\n', 'ab', False),
    ('ssh-ed25519 AAAA san-iscsi-restore:ab other\n', 'ab', False),
    ('\n', 'ab', False),
    ('', 'ab', False),
])
def test_a_run_key_line_is_one_whose_last_field_is_exactly_the_runs_marker(line, label, is_run_key):
    assert copy_paths.is_run_key(line, label) is is_run_key


@pytest.mark.parametrize('staging, key', [
    ('run 1.staging', KEY_A),
    ("run'1.staging", KEY_A),
    ('run"1.staging', KEY_A),
    ('run1.staging;', KEY_A),
    ('run1.staging', KEY_A + ' extra'),
    ('run1.staging', KEY_A + '\n' + KEY_B),
    ('run1.staging', 'restrict ' + KEY_A),
    ('run1.staging', 'ssh-dss AAAAB3NzaC1kc3M'),
    ('run1.staging\n', KEY_A),
    ('run1.staging', KEY_A + '\n'),
])
def test_accept_refuses_an_unsafe_staging_path_or_public_key(dest_user, tmp_path, capsys, staging, key):
    dest_user.keys.parent.mkdir(mode=0o700)
    dest_user.keys.write_text(HAND_KEYS)
    rc, result, err = accept(capsys, str(tmp_path / staging), 'run1', key=key, needs=['%s=4096' % tmp_path])
    assert (rc, result['changed']) == (1, False)
    assert result['msg'].startswith('accept: refusing staging path ')
    assert err == result['msg'] + '\n'
    assert dest_user.keys.read_text() == HAND_KEYS
    assert sorted(os.listdir(str(tmp_path))) == ['bin', 'home']


def test_accept_refuses_a_relative_staging_path(dest_user, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    rc, result, err = accept(capsys, 'run1.staging', 'run1', needs=['%s=4096' % tmp_path])
    assert (rc, result['changed']) == (1, False) and err.startswith('accept: refusing staging path ')
    assert sorted(os.listdir(str(tmp_path))) == ['bin', 'home']


@pytest.mark.parametrize('label', ['run 1', 'run1\n' + KEY_B])
def test_a_label_that_would_break_its_authorized_keys_line_is_refused_or_revoked(dest_user, tmp_path, capsys, label):
    staging = tmp_path / 'run1.staging'
    accept(capsys, staging, label)
    if dest_user.keys.exists():
        assert all(line.startswith('restrict,') for line in dest_user.keys.read_text().splitlines())
    run_in_process(capsys, 'revoke', str(staging), '--label=' + label, '--user=restorer', '--timeout=30')
    assert not dest_user.keys.exists() or dest_user.keys.read_text() == ''


def test_accept_without_rrsync_changes_nothing(dest_user, tmp_path, capsys, monkeypatch):
    not_executable = tmp_path / 'bin' / 'rrsync.txt'
    not_executable.write_text('#!/bin/sh\n')
    os.chmod(str(not_executable), 0o644)
    monkeypatch.setattr(copy_paths, 'RRSYNC', [str(tmp_path / 'bin' / 'missing'), str(not_executable)])
    staging = tmp_path / 'run1.staging'
    rc, result, err = accept(capsys, staging, 'run1')
    assert (rc, result['changed'], result['error_code']) == (1, False, 'no_rrsync')
    assert 'rrsync' in result['msg'] and err == result['msg'] + '\n'
    assert not staging.exists() and not (dest_user.home / '.ssh').exists()
    with pytest.raises(copy_paths.CopyError) as failed:
        copy_paths.accept(copy_paths.parse(['accept', str(staging), '--label=run1', '--public-key=' + KEY_A,
                                            '--user=restorer', '--valid-for=60', '--timeout=30', '--',
                                            '%s=1' % staging]))
    assert failed.value.result['error_code'] == 'no_rrsync'


def test_accept_without_room_changes_nothing(dest_user, tmp_path, capsys):
    dest_user.keys.parent.mkdir(mode=0o700)
    dest_user.keys.write_text(HAND_KEYS)
    staging, dest = tmp_path / 'run1.staging', tmp_path / 'srv' / 'data'
    rc, result, err = accept(capsys, staging, 'run1', needs=['%s=%d' % (staging, 4096), '%s=%d' % (dest, 2 ** 62)])
    assert (rc, result['changed'], result['error_code']) == (1, False, 'no_space')
    assert result['space'][0]['path'] == str(tmp_path) and result['space'][0]['needed'] == 4096 + 2 ** 62
    assert 'not enough space' in err
    assert not staging.exists() and dest_user.keys.read_text() == HAND_KEYS


def fill_staging(staging):
    """What a send leaves in STAGING: the paths relative to the snapshot root."""
    tree = staging / 'data' / 'tree'
    tree.mkdir(parents=True)
    (tree / 'a.txt').write_text('original\n')
    os.utime(str(tree / 'a.txt'), (1700000000, 1700000000))
    (tree / 'new.txt').write_text('new\n')


def test_place_copies_staging_into_dest_keeping_a_backup_then_removes_staging_and_the_key(
        dest_user, tmp_path, capsys):
    needs_tools('rsync')
    dest_user.keys.parent.mkdir(mode=0o700)
    dest_user.keys.write_text(HAND_KEYS + '\n')
    staging, dest = tmp_path / 'run1.staging', tmp_path / 'dest'
    assert accept(capsys, tmp_path / 'run2.staging', 'run2')[0] == 0
    assert accept(capsys, staging, 'run1')[0] == 0
    fill_staging(staging)
    (dest / 'data' / 'tree').mkdir(parents=True)
    (dest / 'data' / 'tree' / 'a.txt').write_text('changed since\n')
    rc, result, err = run_in_process(capsys, 'place', str(staging), str(dest), '--label=run1', '--user=restorer',
                                     '--timeout=30', '--backup-suffix=.~run1~', '--', 'data/tree')
    assert (rc, err, result['changed']) == (0, '', True)
    assert any(line.startswith('>f') and line.endswith('data/tree/a.txt') for line in result['changes'])
    assert (dest / 'data' / 'tree' / 'a.txt').read_text() == 'original\n'
    assert os.stat(str(dest / 'data' / 'tree' / 'a.txt')).st_mtime == 1700000000
    assert (dest / 'data' / 'tree' / 'new.txt').read_text() == 'new\n'
    assert (dest / 'data' / 'tree' / 'a.txt.~run1~').read_text() == 'changed since\n'
    assert not os.path.lexists(str(staging))
    assert [line[4] for line in run_lines(dest_user.keys)] == ['run2']
    assert dest_user.keys.read_text().startswith(HAND_KEYS + '\n')


def test_a_failed_place_still_removes_staging_and_the_key(dest_user, tmp_path, capsys):
    needs_tools('rsync')
    staging, dest = tmp_path / 'run1.staging', tmp_path / 'dest'
    assert accept(capsys, staging, 'run1')[0] == 0
    fill_staging(staging)
    dest.write_text('a file, not a directory\n')
    rc, result, err = run_in_process(capsys, 'place', str(staging), str(dest), '--label=run1', '--user=restorer',
                                     '--timeout=30', '--', 'data/tree')
    assert (rc, result['changed']) == (1, True)
    assert result['msg'].startswith('rsync failed (rc ') and result['cmd'][0] == 'rsync'
    assert err == result['msg'] + '\n'
    assert dest.read_text() == 'a file, not a directory\n'
    assert not os.path.lexists(str(staging))
    assert dest_user.keys.read_text() == ''


def test_a_dry_run_place_writes_nothing_into_dest_and_still_cleans_up(dest_user, tmp_path, capsys):
    needs_tools('rsync')
    staging, dest = tmp_path / 'run1.staging', tmp_path / 'dest'
    dest.mkdir()
    assert accept(capsys, staging, 'run1')[0] == 0
    fill_staging(staging)
    rc, result, err = run_in_process(capsys, 'place', str(staging), str(dest), '--label=run1', '--user=restorer',
                                     '--timeout=30', '--dry-run', '--', 'data/tree')
    assert (rc, err, result['changed']) == (0, '', False)
    assert any(line.endswith('data/tree/new.txt') for line in result['changes'])
    assert os.listdir(str(dest)) == []
    assert not os.path.lexists(str(staging)) and run_lines(dest_user.keys) == []


def test_revoke_removes_the_run_key_and_staging_once(dest_user, tmp_path, capsys):
    dest_user.keys.parent.mkdir(mode=0o700)
    dest_user.keys.write_text(HAND_KEYS + '\n')
    os.chmod(str(dest_user.keys), 0o640)
    staging = tmp_path / 'run1.staging'
    assert accept(capsys, tmp_path / 'run10.staging', 'run10')[0] == 0
    assert accept(capsys, staging, 'run1')[0] == 0
    (staging / 'data').mkdir()
    revoke = ['revoke', str(staging), '--label=run1', '--user=restorer', '--timeout=30']
    rc, result, err = run_in_process(capsys, *revoke)
    assert (rc, err) == (0, '')
    assert (result['changed'], result['revoked'], result['removed_staging']) == (True, True, True)
    assert 'cleaned' not in result
    assert not os.path.lexists(str(staging))
    assert [line[4] for line in run_lines(dest_user.keys)] == ['run10']
    assert dest_user.keys.read_text().startswith(HAND_KEYS + '\n') and mode_of(dest_user.keys) == 0o640
    kept = dest_user.keys.read_text()
    rc, result, err = run_in_process(capsys, *revoke)
    assert (rc, result['changed'], result['revoked'], result['removed_staging']) == (0, False, False, False)
    assert dest_user.keys.read_text() == kept


def test_revoke_of_a_run_that_left_only_its_staging_directory(dest_user, tmp_path, capsys):
    staging = tmp_path / 'run1.staging'
    staging.mkdir()
    rc, result, err = run_in_process(capsys, 'revoke', str(staging), '--label=run1', '--user=restorer',
                                     '--timeout=30')
    assert (rc, err, result['changed'], result['revoked'], result['removed_staging']) == (0, '', True, False, True)
    assert not staging.exists() and not dest_user.keys.exists()


PROGRESS_RECORDS = ('     32,768   0%    0.00kB/s    0:00:00\r'
                    '    412,123,456  45%   12.34MB/s    0:00:12\r'
                    '  1,000,000,000 100%   50.00MB/s    0:00:20 (xfr#1, to-chk=0/1)\n')


def test_last_progress_is_the_last_record_of_the_file(tmp_path):
    progress_file = tmp_path / 'progress'
    progress_file.write_bytes(PROGRESS_RECORDS.encode())
    assert copy_paths.last_progress(str(progress_file)) == dict(bytes=1000000000, percent=100, rate='50.00MB/s',
                                                                eta='0:00:20')
    progress_file.write_bytes(PROGRESS_RECORDS.rsplit('  1,000', 1)[0].encode())
    assert copy_paths.last_progress(str(progress_file)) == dict(bytes=412123456, percent=45, rate='12.34MB/s',
                                                                eta='0:00:12')


def test_last_progress_reads_only_the_end_of_a_long_file_and_skips_what_is_not_a_record(tmp_path):
    progress_file = tmp_path / 'progress'
    records = ''.join('%15s %3d%%   1.00MB/s    0:01:00\r' % ('{:,}'.format(done), done % 100)
                      for done in range(1000))
    progress_file.write_bytes((records + 'rsync: some warning\n    12,345  99%    1.00MB/s  101:02:03\r'
                               + '\n\nsomething else').encode())
    assert copy_paths.last_progress(str(progress_file)) == dict(bytes=12345, percent=99, rate='1.00MB/s',
                                                                eta='101:02:03')


def test_last_progress_of_a_missing_or_empty_file_or_one_without_records_is_none(tmp_path):
    assert copy_paths.last_progress(str(tmp_path / 'missing')) is None
    (tmp_path / 'empty').write_bytes(b'')
    assert copy_paths.last_progress(str(tmp_path / 'empty')) is None
    (tmp_path / 'noise').write_bytes(b'sending incremental file list\n\xff\xfe\r\n')
    assert copy_paths.last_progress(str(tmp_path / 'noise')) is None


def test_progress_of_a_send_that_ended(tmp_path, capsys):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    (keydir / 'progress').write_bytes(PROGRESS_RECORDS.encode())
    (keydir / 'result.json').write_text(json.dumps(dict(paths=[], refused=[], changes=[], seconds=3.2,
                                                        changed=False)))
    rc, result, err = run_in_process(capsys, 'progress', str(keydir), '--wait=600', '--timeout=30')
    assert (rc, err) == (0, '')
    assert result == dict(changed=False, paths=[], refused=[], changes=[], done=True, seconds=3.2,
                          progress=dict(bytes=1000000000, percent=100, rate='50.00MB/s', eta='0:00:20'))


def test_progress_of_a_send_still_running_returns_after_the_wait(tmp_path, capsys):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    (keydir / 'progress').write_bytes(PROGRESS_RECORDS.rsplit('  1,000', 1)[0].encode())
    rc, result, err = run_in_process(capsys, 'progress', str(keydir), '--wait=0.2', '--timeout=30')
    assert (rc, err) == (0, '')
    assert result == dict(changed=False, paths=[], refused=[], changes=[], done=False,
                          progress=dict(bytes=412123456, percent=45, rate='12.34MB/s', eta='0:00:12'))
    rc, result, err = run_in_process(capsys, 'progress', str(tmp_path / 'not.started'), '--wait=0',
                                     '--timeout=30')
    assert (rc, result['done'], result['progress']) == (0, False, None)


def test_progress_of_a_send_that_failed_fails(tmp_path, capsys):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    (keydir / 'result.json').write_text(json.dumps(dict(failed=True, msg='rsync failed', rc=12, changed=False)))
    rc, result, err = run_in_process(capsys, 'progress', str(keydir), '--wait=0', '--timeout=30')
    assert (rc, err) == (1, 'rsync failed\n')
    assert result == dict(changed=False, msg='rsync failed', rc=12)


def test_ssh_command_pins_the_host_keys_in_the_keydir(tmp_path):
    keydir = tmp_path / 'run1.ssh'
    keydir.mkdir()
    args = types.SimpleNamespace(host_key=[KEY_A, 'ecdsa-sha2-nistp256 AAAAE2Vj'], port=2222)
    argv = shlex.split(copy_paths.ssh_command(args, str(keydir)))
    known_hosts = keydir / 'known_hosts'
    assert known_hosts.read_text() == ('san-iscsi-restore-destination %s\n'
                                       'san-iscsi-restore-destination ecdsa-sha2-nistp256 AAAAE2Vj\n' % KEY_A)
    assert argv[:7] == ['ssh', '-F', '/dev/null', '-i', str(keydir / 'id_ed25519'), '-p', '2222']
    options = dict(option.split('=', 1) for option in argv[8::2])
    assert set(argv[7::2]) == {'-o'}
    assert options['StrictHostKeyChecking'] == 'yes' and options['BatchMode'] == 'yes'
    assert options['UserKnownHostsFile'] == str(known_hosts) and options['GlobalKnownHostsFile'] == '/dev/null'
    assert options['HostKeyAlias'] == 'san-iscsi-restore-destination'


@pytest.fixture
def closed_port():
    """A local TCP port that nothing listens on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def offered(snapshot, tmp_path):
    """The browse host's KEYDIR after a real offer of data/tree."""
    needs_tools('ssh-keygen', 'ssh', 'rsync')
    keydir = tmp_path / 'run1.ssh'
    rc, result = run_script('offer', str(snapshot), str(keydir), '--label=run1', '--timeout=30', '--', 'data/tree')
    assert rc == 0, result
    return keydir


def test_send_to_a_closed_port_fails_and_writes_its_result(snapshot, offered, closed_port, capsys):
    keydir = offered
    (keydir / 'result.json').write_text('{"seconds": 1}')  # of an earlier send
    send = ['send', str(snapshot), str(keydir), '127.0.0.1', '--user=restorer', '--port=%d' % closed_port,
            '--host-key=' + KEY_A, '--timeout=30', '--', 'data/tree']
    rc, result, err = run_in_process(capsys, *send)
    assert (rc, result['changed']) == (1, False)
    assert result['msg'].startswith('rsync to 127.0.0.1 failed (rc %d): ' % result['rc']) and result['rc'] > 0
    assert err == result['msg'] + '\n'
    assert result['cmd'][0] == 'rsync' and result['cmd'][-2:] == [
        os.path.join(str(snapshot), '.', 'data/tree'), 'restorer@127.0.0.1:']
    assert '--info=progress2' in result['cmd']
    written = json.loads((keydir / 'result.json').read_text())
    assert written['failed'] is True and written['msg'] == result['msg'] and written['rc'] == result['rc']
    assert (keydir / 'known_hosts').read_text() == 'san-iscsi-restore-destination %s\n' % KEY_A
    assert (keydir / 'progress').exists() and not (keydir / 'pid').exists()
    with pytest.raises(copy_paths.CopyError) as failed:
        copy_paths.send(copy_paths.parse(send))
    assert 'rsync' in str(failed.value)


def test_send_puts_an_ipv6_address_in_brackets(snapshot, offered, closed_port, capsys):
    rc, result, err = run_in_process(capsys, 'send', str(snapshot), str(offered), '::1', '--user=restorer',
                                     '--port=%d' % closed_port, '--host-key=' + KEY_A, '--timeout=30', '--',
                                     'data/tree')
    assert rc == 1 and result['cmd'][-1] == 'restorer@[::1]:'
    assert result['msg'].startswith('rsync to ::1 failed') and err == result['msg'] + '\n'


def test_a_detached_send_returns_at_once_and_progress_reports_how_it_ended(snapshot, offered, closed_port):
    keydir = offered
    (keydir / 'result.json').write_text('{"seconds": 1}')  # of an earlier send: not its result
    rc, result = run_script('send', str(snapshot), str(keydir), '127.0.0.1', '--user=restorer',
                            '--port=%d' % closed_port, '--host-key=' + KEY_A, '--timeout=30', '--detach', '--',
                            'data/tree')
    assert (rc, result) == (0, dict(changed=False, paths=[], refused=[], changes=[], detached=True))
    assert run_script.stderr == ''
    rc, result = run_script('progress', str(keydir), '--wait=30', '--timeout=60')
    assert (rc, result['changed']) == (1, False)
    assert result['msg'].startswith('rsync to 127.0.0.1 failed (rc ')
    assert run_script.stderr == result['msg'] + '\n'
    assert int((keydir / 'pid').read_text()) > 1


def test_a_detached_send_forgets_what_an_earlier_send_left_before_it_returns(snapshot, offered, closed_port,
                                                                             monkeypatch):
    keydir = offered
    (keydir / 'result.json').write_text('{"seconds": 1}')
    (keydir / 'progress').write_text('  1,000 100%    1.00kB/s    0:00:01\n')
    started = []
    monkeypatch.setattr(copy_paths, 'detach', lambda work, pid_file: started.append((work, pid_file)))  # not run
    result = copy_paths.send(copy_paths.parse(['send', str(snapshot), str(keydir), '127.0.0.1', '--user=restorer',
                                               '--port=%d' % closed_port, '--host-key=' + KEY_A, '--timeout=30',
                                               '--detach', '--', 'data/tree']))
    assert result == dict(paths=[], refused=[], changes=[], detached=True)
    assert not (keydir / 'result.json').exists() and not (keydir / 'progress').exists()
    assert len(started) == 1 and started[0][1] == str(keydir / 'pid')
    started[0][0]()  # the background work, here: the copy and its result
    assert json.loads((keydir / 'result.json').read_text())['failed'] is True


@pytest.mark.parametrize('argv', [
    ['send', 'root', 'keydir', 'host', '--user=u', '--timeout=5', '--', 'p'],
    ['accept', 'staging', '--label=l', '--user=u', '--valid-for=5', '--timeout=5', '--', 'p=1'],
    ['accept', 'staging', '--label=l', '--public-key=k', '--user=u', '--timeout=5', '--', 'p=1'],
    ['place', 'staging', 'dest', '--label=l', '--timeout=5', '--', 'p'],
    ['place', 'staging', 'dest', '--label=l', '--user=u', '--timeout=5'],
    ['revoke', 'staging', '--user=u', '--timeout=5'],
    ['progress', 'keydir', '--timeout=5'],
    ['offer', 'root', 'keydir', '--timeout=5', '--', 'p'],
])
def test_parse_refuses_a_direct_command_without_what_it_needs(argv, capsys):
    with pytest.raises(SystemExit):
        copy_paths.parse(argv)
    assert 'required' in capsys.readouterr()[1]


def test_parse_of_the_direct_commands():
    args = copy_paths.parse(['send', 'root', 'keydir', 'host', '--user=u', '--host-key=k1', '--host-key=k2',
                             '--timeout=5', '--', 'p'])
    assert (args.port, args.host_key, args.detach, args.paths) == (22, ['k1', 'k2'], False, ['p'])
    assert copy_paths.parse(['progress', 'keydir', '--wait=2.5', '--timeout=5']).wait == 2.5
    assert copy_paths.parse(['revoke', 'staging', '--label=l', '--user=u', '--timeout=5']).paths == []


def test_parse_needs_splits_at_the_last_equals_sign():
    assert copy_paths.parse_needs(['/srv/a=b=10', '/srv/c=0']) == [('/srv/a=b', 10), ('/srv/c', 0)]
    with pytest.raises(copy_paths.CopyError) as failed:
        copy_paths.parse_needs(['/srv/a=-1'])
    assert failed.value.result == dict(msg="expected PATH=BYTES, got '/srv/a=-1'", changed=False)


def test_revoke_without_an_authorized_keys_file_makes_no_ssh_directory(dest_user, tmp_path, capsys):
    staging = tmp_path / 'run1.staging'
    staging.mkdir()
    rc, result, err = run_in_process(capsys, 'revoke', str(staging), '--label=run1', '--user=restorer',
                                     '--timeout=30')
    assert (rc, err) == (0, '')
    assert (result['changed'], result['revoked'], result['removed_staging']) == (True, False, True)
    assert not (dest_user.home / '.ssh').exists() and not staging.exists()


def test_accept_on_a_destination_without_host_keys_changes_nothing(dest_user, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(copy_paths, 'host_keys', list)
    staging = tmp_path / 'run1.staging'
    rc, result, err = accept(capsys, staging, 'run1')
    assert (rc, result['changed'], result['error_code']) == (1, False, 'no_host_keys')
    assert err == result['msg'] + '\n'
    assert not staging.exists() and not (dest_user.home / '.ssh').exists()


# digest (mode versions): what one path is in each root, reading only.

DIGEST_FIELDS = ('exists', 'type', 'size', 'files', 'mtime', 'uid', 'gid', 'mode', 'sha256', 'target', 'refused')


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def run_digest(capsys, path, *versions):
    """copy_paths.py digest --version NAME ROOT... -- PATH, in this process: (rc, result, stderr)."""
    argv = ['digest']
    for name, root in versions:
        argv += ['--version', name, str(root)]
    return run_in_process(capsys, *(argv + ['--timeout=30', '--', path]))


def absent(name, root, refused=None):
    return dict(dict.fromkeys(DIGEST_FIELDS), name=name, root=str(root), exists=refused is not None,
                refused=refused)


def make_tree(top, alpha=b'alpha\n', link='a.txt'):
    """A tree with two regular files, an empty directory, a relative symlink to a file and one to a directory,
    and a symlink that leaves the root; (its digest lines, sorted)."""
    (top / 'sub').mkdir(parents=True)
    (top / 'empty').mkdir()
    (top / 'a.txt').write_bytes(alpha)
    (top / 'sub' / 'b.bin').write_bytes(bytes(range(256)))
    (top / 'link').symlink_to(link)
    (top / 'dirlink').symlink_to('sub')
    (top / 'out').symlink_to('/etc')
    return [['d', 'empty'], ['d', 'sub'], ['f', 'a.txt', sha256_of(alpha)], ['f', 'sub/b.bin', sha256_of(bytes(range(256)))],
            ['l', 'dirlink', 'sub'], ['l', 'link', link], ['l', 'out', '/etc']]


def tree_sha256(entries):
    """The tree digest as the docstring defines it: one JSON array per line, sorted, each ending in a newline."""
    lines = sorted(json.dumps(entry, ensure_ascii=True) for entry in entries)
    return sha256_of(''.join(line + '\n' for line in lines).encode())


@pytest.fixture
def versions_dir(tmp_path):
    """A directory of its own for the roots of digest's tests (tmp_path's listing is checked elsewhere)."""
    top = tmp_path / 'versions'
    top.mkdir()
    return top


def test_digest_describes_a_file(versions_dir, capsys):
    root = versions_dir / 'snap1'
    (root / 'data').mkdir(parents=True)
    data = b'original\n' * 1000
    (root / 'data' / 'a.txt').write_bytes(data)
    os.chmod(str(root / 'data' / 'a.txt'), 0o640)
    os.utime(str(root / 'data' / 'a.txt'), (1600000000, 1700000000.75))
    info = os.lstat(str(root / 'data' / 'a.txt'))
    rc, result, err = run_digest(capsys, 'data/a.txt', ('snap1', root))
    assert (rc, err) == (0, '')
    assert result == dict(changed=False, paths=[], refused=[], changes=[], versions=[
        dict(name='snap1', root=str(root), exists=True, type='file', size=9000, files=1, mtime=1700000000,
             uid=info.st_uid, gid=info.st_gid, mode='0640', sha256=sha256_of(data), target=None, refused=None)])
    assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())


def test_digest_of_an_empty_file_and_of_a_setuid_mode(versions_dir, capsys):
    root = versions_dir / 'snap1'
    root.mkdir()
    (root / 'empty').write_bytes(b'')
    os.chmod(str(root / 'empty'), 0o4755)
    rc, result, err = run_digest(capsys, 'empty', ('snap1', root))
    entry = result['versions'][0]
    assert (rc, err, entry['type'], entry['size'], entry['files']) == (0, '', 'file', 0, 1)
    assert (entry['mode'], entry['sha256']) == ('4755', sha256_of(b''))


def test_digest_of_a_directory_is_a_digest_of_its_tree(versions_dir, capsys):
    root = versions_dir / 'snap1'
    lines = make_tree(root / 'data' / 'tree')
    os.chmod(str(root / 'data' / 'tree'), 0o750)
    os.utime(str(root / 'data' / 'tree'), (1700000000, 1700000000))
    rc, result, err = run_digest(capsys, 'data/tree', ('snap1', root))
    assert (rc, err) == (0, '')
    entry = result['versions'][0]
    assert entry == dict(name='snap1', root=str(root), exists=True, type='directory', size=6 + 256, files=2,
                         mtime=1700000000, uid=os.getuid(), gid=os.lstat(str(root / 'data' / 'tree')).st_gid,
                         mode='0750', sha256=tree_sha256(lines), target=None, refused=None)


def test_two_trees_with_the_same_names_contents_and_link_targets_have_the_same_digest(versions_dir, capsys):
    one, two = versions_dir / 'one', versions_dir / 'two'
    make_tree(one / 'tree')
    make_tree(two / 'tree')
    for path, mode, when in ((two / 'tree' / 'a.txt', 0o600, 1500000000), (two / 'tree' / 'sub', 0o700, 1500000001),
                             (two / 'tree', 0o711, 1500000002)):
        os.chmod(str(path), mode)
        os.utime(str(path), (when, when))
    os.utime(str(one / 'tree' / 'a.txt'), (1700000000, 1700000000))
    rc, result, err = run_digest(capsys, 'tree', ('one', one), ('two', two))
    assert (rc, err) == (0, '')
    first, second = result['versions']
    assert first['sha256'] == second['sha256']
    assert (first['size'], first['files']) == (second['size'], second['files']) == (262, 2)
    assert (first['mode'], first['mtime']) == ('%04o' % mode_of(one / 'tree'),
                                               int(os.lstat(str(one / 'tree')).st_mtime))
    assert (second['mode'], second['mtime']) == ('0711', 1500000002)


@pytest.mark.parametrize('change', ['content', 'link target', 'added file', 'added directory', 'renamed file',
                                    'file made a symlink'])
def test_a_tree_digest_changes_with_a_content_a_link_target_or_a_name(versions_dir, capsys, change):
    one, two = versions_dir / 'one', versions_dir / 'two'
    make_tree(one / 'tree')
    if change == 'content':
        make_tree(two / 'tree', alpha=b'ALPHA\n')  # same size
    elif change == 'link target':
        make_tree(two / 'tree', link='sub/b.bin')
    else:
        make_tree(two / 'tree')
    if change == 'added file':
        (two / 'tree' / 'sub' / 'new.txt').write_bytes(b'')
    elif change == 'added directory':
        (two / 'tree' / 'empty' / 'more').mkdir()
    elif change == 'renamed file':
        os.rename(str(two / 'tree' / 'a.txt'), str(two / 'tree' / 'A.txt'))
    elif change == 'file made a symlink':
        os.unlink(str(two / 'tree' / 'sub' / 'b.bin'))
        (two / 'tree' / 'sub' / 'b.bin').symlink_to('../a.txt')
    rc, result, err = run_digest(capsys, 'tree', ('one', one), ('two', two))
    assert (rc, err) == (0, '')
    first, second = result['versions']
    assert first['sha256'] != second['sha256']
    assert (first['type'], second['type']) == ('directory', 'directory')
    assert (second['size'], second['files']) == {'added file': (262, 3), 'file made a symlink': (6, 1)}.get(
        change, (262, 2))


def test_a_tree_digest_does_not_follow_symlinks_and_counts_anything_else_as_special(versions_dir, capsys):
    root = versions_dir / 'snap1'
    lines = make_tree(root / 'tree')
    os.mkfifo(str(root / 'tree' / 'sub' / 'fifo'))
    rc, result, err = run_digest(capsys, 'tree', ('snap1', root))
    assert (rc, err) == (0, '')
    assert result['versions'][0]['sha256'] == tree_sha256(lines + [['s', 'sub/fifo']])
    assert (result['versions'][0]['size'], result['versions'][0]['files']) == (262, 2)


def test_digest_of_an_empty_directory(versions_dir, capsys):
    root = versions_dir / 'snap1'
    (root / 'empty').mkdir(parents=True)
    rc, result, err = run_digest(capsys, 'empty', ('snap1', root))
    entry = result['versions'][0]
    assert (rc, err, entry['type'], entry['size'], entry['files']) == (0, '', 'directory', 0, 0)
    assert entry['sha256'] == sha256_of(b'')


def test_digest_of_a_missing_path_says_it_does_not_exist(versions_dir, capsys):
    root = versions_dir / 'snap1'
    (root / 'data').mkdir(parents=True)
    rc, result, err = run_digest(capsys, 'data/missing', ('snap1', root), ('gone', versions_dir / 'no-root'))
    assert (rc, err) == (0, '')
    assert result == dict(changed=False, paths=[], refused=[], changes=[],
                          versions=[absent('snap1', root), absent('gone', versions_dir / 'no-root')])
    assert result['versions'][0] == dict(name='snap1', root=str(root), exists=False, type=None, size=None,
                                         files=None, mtime=None, uid=None, gid=None, mode=None, sha256=None,
                                         target=None, refused=None)


@pytest.mark.parametrize('target', ['a.txt', '../elsewhere', '/etc/passwd', 'missing'])
def test_digest_of_a_symlink_tells_its_target_and_does_not_follow_it(versions_dir, capsys, monkeypatch, target):
    root = versions_dir / 'snap1'
    (root / 'data').mkdir(parents=True)
    (root / 'data' / 'a.txt').write_bytes(b'original\n')
    (root / 'data' / 'link').symlink_to(target)
    read = []
    monkeypatch.setattr(copy_paths, 'file_sha256', lambda path, deadline: read.append(path))
    rc, result, err = run_digest(capsys, 'data/link', ('snap1', root))
    assert (rc, err, read) == (0, '', [])
    info = os.lstat(str(root / 'data' / 'link'))
    assert result['versions'] == [dict(name='snap1', root=str(root), exists=True, type='symlink', size=0, files=None,
                                       mtime=int(info.st_mtime), uid=info.st_uid, gid=info.st_gid, mode='0777',
                                       sha256=sha256_of(target.encode()), target=target, refused=None)]


def test_digest_of_a_symlink_to_a_directory_does_not_walk_it(versions_dir, capsys):
    root = versions_dir / 'snap1'
    make_tree(root / 'tree')
    (root / 'tree_link').symlink_to('tree')
    rc, result, err = run_digest(capsys, 'tree_link', ('snap1', root))
    entry = result['versions'][0]
    assert (rc, err, entry['type'], entry['target'], entry['files']) == (0, '', 'symlink', 'tree', None)
    assert entry['sha256'] == sha256_of(b'tree')


def test_digest_refuses_a_path_under_a_directory_symlink_that_leaves_the_root(versions_dir, capsys, monkeypatch):
    outside = versions_dir / 'outside'
    make_tree(outside / 'tree')
    root = versions_dir / 'snap1'
    (root / 'data').mkdir(parents=True)
    (root / 'data' / 'escape').symlink_to(str(outside))
    (root / 'data' / 'relative_escape').symlink_to('../../outside')
    read = []
    monkeypatch.setattr(copy_paths, 'file_sha256', lambda path, deadline: read.append(path))
    monkeypatch.setattr(copy_paths, 'tree_digest', lambda top, deadline: read.append(top))
    reason = 'a directory on the way is a symlink that leaves the snapshot'
    for path in ('data/escape/tree/a.txt', 'data/escape/tree', 'data/relative_escape/tree/sub/b.bin',
                 'data/escape/tree/link'):
        rc, result, err = run_digest(capsys, path, ('snap1', root), ('snap2', root))
        assert (rc, err, result['changed'], result['refused']) == (0, '', False, [])
        assert result['versions'] == [absent('snap1', root, refused=reason), absent('snap2', root, refused=reason)]
    assert read == []
    rc, result, err = run_digest(capsys, 'data/escape/tree/missing', ('snap1', root))
    assert (rc, result['versions']) == (0, [absent('snap1', root)])


def test_digest_follows_a_directory_symlink_that_stays_inside_the_root(versions_dir, capsys):
    root = versions_dir / 'snap1'
    make_tree(root / 'data' / 'tree')
    (root / 'data' / 'inner').symlink_to('tree')
    rc, result, err = run_digest(capsys, 'data/inner/a.txt', ('snap1', root))
    entry = result['versions'][0]
    assert (rc, err, entry['type'], entry['refused']) == (0, '', 'file', None)
    assert entry['sha256'] == sha256_of(b'alpha\n')


def test_digest_of_a_root_that_is_itself_a_symlink(versions_dir, capsys):
    real = versions_dir / 'real'
    (real / 'data').mkdir(parents=True)
    (real / 'data' / 'a.txt').write_bytes(b'x')
    (versions_dir / 'mounted').symlink_to('real')
    rc, result, err = run_digest(capsys, 'data/a.txt', ('snap1', versions_dir / 'mounted'))
    entry = result['versions'][0]
    assert (rc, err, entry['root'], entry['type'], entry['refused']) == (0, '', str(versions_dir / 'mounted'),
                                                                         'file', None)


def test_digest_keeps_the_order_and_names_of_the_versions(versions_dir, capsys):
    roots = []
    for name, content in (('live', b'v3\n'), ('daily.2', b'v2\n'), ('daily.1', None), ('daily.0', b'v1\n')):
        root = versions_dir / name
        (root / 'etc').mkdir(parents=True)
        if content is not None:
            (root / 'etc' / 'app.conf').write_bytes(content)
        roots.append((name, root))
    rc, result, err = run_digest(capsys, 'etc/app.conf', *roots)
    assert (rc, err, result['changed']) == (0, '', False)
    assert [(entry['name'], entry['root'], entry['exists'], entry['sha256']) for entry in result['versions']] == [
        ('live', str(versions_dir / 'live'), True, sha256_of(b'v3\n')),
        ('daily.2', str(versions_dir / 'daily.2'), True, sha256_of(b'v2\n')),
        ('daily.1', str(versions_dir / 'daily.1'), False, None),
        ('daily.0', str(versions_dir / 'daily.0'), True, sha256_of(b'v1\n'))]
    assert all(sorted(entry) == sorted(('name', 'root') + DIGEST_FIELDS) for entry in result['versions'])


def listing(top):
    """Every path under TOP with its type, mode, size and mtime (not atime: reading may change it)."""
    found = []
    for directory, dirs, files in os.walk(str(top)):
        for name in dirs + files:
            info = os.lstat(os.path.join(directory, name))
            found.append((os.path.join(directory, name), info.st_mode, info.st_size, info.st_mtime_ns))
    return sorted(found)


def test_digest_runs_as_the_role_runs_it_and_changes_nothing(versions_dir):
    root = versions_dir / 'snap1'
    make_tree(root / 'data' / 'tree')
    before = listing(versions_dir)
    rc, result = run_script('digest', '--version', 'snap1', str(root), '--version', 'live', str(root),
                            '--timeout=30', '--', 'data/tree')
    assert (rc, run_script.stderr, result['changed']) == (0, '', False)
    assert (result['paths'], result['refused'], result['changes']) == ([], [], [])
    assert [entry['name'] for entry in result['versions']] == ['snap1', 'live']
    assert result['versions'][0] == dict(result['versions'][1], name='snap1')
    assert listing(versions_dir) == before


@pytest.mark.parametrize('paths', [['/etc/passwd'], ['data/../data/a.txt'], ['..'], ['data/..'], [''],
                                   ['data/a.txt', 'data/b.txt']])
def test_digest_refuses_an_absolute_path_dotdot_or_more_than_one_path(versions_dir, capsys, monkeypatch, paths):
    read = []
    monkeypatch.setattr(copy_paths, 'describe', lambda *args: read.append(args))
    rc = copy_paths.main(['digest', '--version', 'snap1', str(versions_dir), '--timeout=30', '--'] + paths)
    out, err = capsys.readouterr()
    msg = "digest takes one path relative to the roots, without '..'"
    assert (rc, json.loads(out), err, read) == (1, dict(changed=False, msg=msg), msg + '\n', [])


def test_digest_takes_a_name_that_only_starts_with_two_dots(versions_dir, capsys):
    (versions_dir / 'data').mkdir()
    (versions_dir / 'data' / '..hidden').write_bytes(b'x')
    rc, result, err = run_digest(capsys, 'data/..hidden', ('snap1', versions_dir))
    assert (rc, err, result['versions'][0]['type']) == (0, '', 'file')


def test_a_digest_over_its_timeout_fails_and_changes_nothing(versions_dir, capsys):
    (versions_dir / 'big').write_bytes(b'x' * 10)
    rc, result, err = run_in_process(capsys, 'digest', '--version', 'snap1', str(versions_dir), '--timeout=-1',
                                     '--', 'big')
    msg = 'digest did not finish within its timeout (reading %s)' % (versions_dir / 'big')
    assert (rc, result, err) == (1, dict(changed=False, msg=msg), msg + '\n')
    with pytest.raises(copy_paths.CopyError):
        copy_paths.file_sha256(str(versions_dir / 'big'), time.monotonic() - 1)
    assert copy_paths.file_sha256(str(versions_dir / 'big'), time.monotonic() + 30) == sha256_of(b'x' * 10)


def test_parse_of_digest_needs_a_version_and_a_path(capsys):
    args = copy_paths.parse(['digest', '--version', 'a', '/mnt/a', '--version', 'live', '/', '--timeout=5', '--',
                             'etc/app.conf'])
    assert (args.version, args.paths, args.timeout) == ([['a', '/mnt/a'], ['live', '/']], ['etc/app.conf'], 5)
    for argv in (['digest', '--timeout=5', '--', 'p'], ['digest', '--version', 'a', '/mnt/a', '--timeout=5'],
                 ['digest', '--version', 'a', '--timeout=5', '--', 'p']):
        with pytest.raises(SystemExit):
            copy_paths.parse(argv)
        assert 'error' in capsys.readouterr()[1]


def test_digest_does_not_read_outside_the_root_through_a_trailing_slash(versions_dir, capsys):
    outside = versions_dir / 'outside'
    make_tree(outside)
    root = versions_dir / 'snap1'
    (root / 'data').mkdir(parents=True)
    (root / 'data' / 'escape').symlink_to(str(outside))
    rc, result, err = run_digest(capsys, 'data/escape/', ('snap1', root))
    entry = result['versions'][0]
    assert (rc, err, entry['exists']) == (0, '', True)
    assert entry['type'] in ('symlink', None) and entry['files'] is None


def test_a_tree_digest_tells_names_with_spaces_from_link_targets(versions_dir, capsys):
    one, two = versions_dir / 'one', versions_dir / 'two'
    (one / 'tree').mkdir(parents=True)
    (two / 'tree').mkdir(parents=True)
    (one / 'tree' / 'a b').symlink_to('c')
    (two / 'tree' / 'a').symlink_to('b c')
    rc, result, err = run_digest(capsys, 'tree', ('one', one), ('two', two))
    assert (rc, err) == (0, '')
    assert result['versions'][0]['sha256'] != result['versions'][1]['sha256']


def test_a_detached_send_with_wait_reports_its_end_in_the_same_call(snapshot, offered, closed_port):
    keydir = offered
    rc, result = run_script('send', str(snapshot), str(keydir), '127.0.0.1', '--user=restorer',
                            '--port=%d' % closed_port, '--host-key=' + KEY_A, '--timeout=30', '--detach',
                            '--wait=30', '--', 'data/tree')
    assert (rc, result['changed']) == (1, False)  # the copy failed within the wait: the send call fails
    assert result['msg'].startswith('rsync to 127.0.0.1 failed (rc ')
    assert json.loads((keydir / 'result.json').read_text())['failed'] is True


def test_a_detached_send_with_wait_returns_after_the_wait_while_the_copy_runs(snapshot, offered, closed_port,
                                                                              monkeypatch):
    keydir = offered
    monkeypatch.setattr(copy_paths, 'detach', lambda work, pid_file: None)  # a copy that does not end
    result = copy_paths.send(copy_paths.parse(['send', str(snapshot), str(keydir), '127.0.0.1', '--user=restorer',
                                               '--port=%d' % closed_port, '--host-key=' + KEY_A, '--timeout=30',
                                               '--detach', '--wait=0.3', '--', 'data/tree']))
    assert result == dict(paths=[], refused=[], changes=[], detached=True, done=False, progress=None)
