# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_automount/files/automount.py: keys, the program map's contract, the SAN client, content
detection, the reaper's choices and the by-name tree. The seams below it (iscsiadm, sysfs, mount) are stood in
for where a test needs them; the lab target snapshot_automount runs the program against the real ones."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

import pytest

from ansible_collections.san.iscsi.tests.unit.role_files import load_role_file

am = load_role_file('snapshot_automount', 'automount.py')


class NoSeams(object):
    """Seams that must not be touched: a refused key is answered without loading them."""

    def __getattr__(self, name):
        raise AssertionError('the seams were used (%s)' % name)


class FakeSan(object):
    def __init__(self, listing=None):
        self.requests = []
        self.listing = listing or {'snapshots': [], 'clones': []}

    def request(self, *words):
        self.requests.append(words)
        if words[0] == 'list':
            return dict(self.listing, ok=True)
        return {'ok': True}


def config(tmp_path, **changes):
    values = dict(am.DEFAULTS, mount_point='/snapshots', ssh_host='san', ssh_identity='/k', ssh_known_hosts='/kh',
                  state_dir=str(tmp_path / 'state'))
    values.update(changes)
    return values


@pytest.fixture
def automounter(tmp_path):
    return am.Automounter(config(tmp_path), seams=NoSeams(), san=FakeSan())


@pytest.mark.parametrize('key', ['db@s1', 'db.1+x@nightly_2026-12-01', 'a@b'])
def test_keys(key):
    assert am.parse_key(key) == tuple(key.split('@'))


@pytest.mark.parametrize('key', ['', None, 'db', 'db@', '@s1', 'db@s1@s2', '-db@s1', 'db@s 1', 'a/b@c', '..', 'x' * 128 + '@s'])
def test_keys_that_are_not(key):
    with pytest.raises(am.Unknown):
        am.parse_key(key)


def test_a_malformed_key_is_refused_without_the_seams_and_prints_nothing(tmp_path, capsys):
    automounter = am.Automounter(config(tmp_path), seams=NoSeams(), san=FakeSan())
    assert am.program_map(['auto.snapshots', 'no-at-sign'], lambda: automounter) == 1
    assert am.program_map(['auto.snapshots'], lambda: automounter) == 1
    assert capsys.readouterr().out == ''
    assert automounter.san.requests == []


def test_a_key_the_fresh_listing_lacks_is_refused_without_asking_the_san(automounter, capsys):
    automounter.san.listing = {'snapshots': [{'lun': 'db', 'snapshot': 's1'}], 'clones': []}
    automounter.refresh()
    automounter.san.requests = []
    assert am.program_map(['auto.snapshots', 'db@s9'], lambda: automounter) == 1
    assert capsys.readouterr().out == '' and automounter.san.requests == []


def test_a_stale_listing_does_not_refuse(automounter):
    automounter.san.listing = {'snapshots': [], 'clones': []}
    automounter.refresh()
    listing = automounter.read_listing()
    listing['time'] = time.time() - 3 * automounter.config['refresh_interval']
    with open(automounter.listing_path(), 'w') as handle:
        json.dump(listing, handle)
    automounter.refuse_unlisted('db@s9')  # no Unknown: the SAN side is asked


def test_by_name_is_a_bind_of_the_tree(automounter):
    automounter.san.listing = {'snapshots': [{'lun': 'db', 'snapshot': 's1'}], 'clones': []}
    entry = automounter.lookup('by-name')
    assert entry == '-fstype=bind :%s' % automounter.path('by-name')
    assert os.readlink(automounter.path('by-name', 'db', 's1')) == '/snapshots/db@s1'


def test_refresh_adds_and_removes_links(automounter):
    automounter.san.listing = {'snapshots': [{'lun': 'db', 'snapshot': 's1'}, {'lun': 'db', 'snapshot': 's2'},
                                             {'lun': 'web', 'snapshot': 's1'}], 'clones': []}
    automounter.refresh()
    automounter.san.listing = {'snapshots': [{'lun': 'db', 'snapshot': 's2'}, {'lun': 'app', 'snapshot': 'n'}],
                               'clones': []}
    automounter.refresh()
    tree = sorted(os.path.relpath(os.path.join(root, name), automounter.path('by-name'))
                  for root, dirs, files in os.walk(automounter.path('by-name')) for name in dirs + files)
    assert tree == ['app', 'app/n', 'db', 'db/s2']


class FakeRunner(object):
    def __init__(self, rc, out, err=''):
        self.result = (rc, out, err)
        self.calls = []

    def run(self, tool, args, ok=(0,), timeout=None, what=None):
        self.calls.append((tool, args, timeout))
        return self.result


def test_the_san_client_pins_the_host_key_and_sends_only_the_request(tmp_path):
    runner = FakeRunner(0, '{"ok": true, "clone": "c"}\n')
    client = am.SanClient(config(tmp_path, ssh_port=2222), runner)
    assert client.request('attach', 'db@s1') == {'ok': True, 'clone': 'c'}
    tool, args, timeout = runner.calls[0]
    assert tool == 'ssh' and timeout == am.DEFAULTS['san_timeout']
    assert args[:2] == ['-F', '/dev/null'] and args[-3:] == ['root@san', 'attach', 'db@s1']
    for option in ('BatchMode=yes', 'StrictHostKeyChecking=yes', 'UserKnownHostsFile=/kh', 'IdentitiesOnly=yes'):
        assert option in args
    assert args[args.index('-p') + 1] == '2222' and args[args.index('-i') + 1] == '/k'


@pytest.mark.parametrize('out, error', [
    ('{"ok": false, "error_code": "not_found", "msg": "no snapshot"}', am.Unknown),
    ('{"ok": false, "error_code": "invalid_key", "msg": "bad"}', am.Unknown),
    ('{"ok": false, "error_code": "conflict", "msg": "not ours"}', am.Failed),
    ('Permission denied (publickey).', am.Failed),
    ('', am.Failed),
])
def test_san_client_failures(tmp_path, out, error):
    with pytest.raises(error):
        am.SanClient(config(tmp_path), FakeRunner(1, out)).request('attach', 'db@s1')


class FakeBlockdev(object):
    """Probes and partition tables by device path; records read-only flags set."""

    def __init__(self, probes, table=(), nodes=None):
        self.probes = probes
        self.table = list(table)
        self.nodes = nodes or {}
        self.read_only = []

    def set_read_only(self, runner, path):
        self.read_only.append(path)

    def probe(self, runner, path):
        return self.probes.get(path, {})

    def partition_devices(self, name):
        return self.nodes

    def partitions(self, runner, path):
        return self.table

    def device_path(self, name):
        return '/dev/' + name


class Device(object):
    def __init__(self, multipath=None):
        self.name, self.path, self.multipath = 'sdb', '/dev/sdb', multipath


def content_of(tmp_path, blockdev, device=None):
    seams = type('Seams', (), {'blockdev': blockdev, 'runner': None})()
    return am.Automounter(config(tmp_path), seams=seams, san=FakeSan()).content(device or Device())


def test_a_filesystem_on_the_whole_disk(tmp_path):
    blockdev = FakeBlockdev({'/dev/sdb': {'TYPE': 'ext4', 'USAGE': 'filesystem'}})
    assert content_of(tmp_path, blockdev) == ('/dev/sdb', 'ext4')
    assert blockdev.read_only == ['/dev/sdb']


def test_the_one_partition_holding_a_filesystem(tmp_path):
    blockdev = FakeBlockdev({'/dev/sdb': {'PTTYPE': 'gpt'}, '/dev/sdb2': {'TYPE': 'xfs', 'USAGE': 'filesystem'},
                             '/dev/sdb1': {'TYPE': 'swap', 'USAGE': 'other'}},
                            table=[{'nr': 1}, {'nr': 2}], nodes={1: 'sdb1', 2: 'sdb2'})
    assert content_of(tmp_path, blockdev) == ('/dev/sdb2', 'xfs')
    assert blockdev.read_only == ['/dev/sdb', '/dev/sdb2']


@pytest.mark.parametrize('probes, table, nodes', [
    ({'/dev/sdb': {'PTTYPE': 'gpt'}, '/dev/sdb1': {'TYPE': 'ext4', 'USAGE': 'filesystem'},
      '/dev/sdb2': {'TYPE': 'xfs', 'USAGE': 'filesystem'}}, [{'nr': 1}, {'nr': 2}], {1: 'sdb1', 2: 'sdb2'}),
    ({'/dev/sdb': {'PTTYPE': 'dos'}}, [], {}),
    ({'/dev/sdb': {'TYPE': 'LVM2_member', 'USAGE': 'raid'}}, [], {}),
    ({}, [], {}),
])
def test_content_it_does_not_mount(tmp_path, probes, table, nodes):
    with pytest.raises(am.Failed) as caught:
        content_of(tmp_path, FakeBlockdev(probes, table, nodes))
    assert caught.value.error_code == 'content'


def test_a_multipath_map_is_mounted_instead_of_its_path(tmp_path):
    blockdev = FakeBlockdev({'/dev/mapper/mpatha': {'TYPE': 'ext4', 'USAGE': 'filesystem'}})
    assert content_of(tmp_path, blockdev, Device('/dev/mapper/mpatha')) == ('/dev/mapper/mpatha', 'ext4')
    assert blockdev.read_only == ['/dev/sdb', '/dev/mapper/mpatha']


class ReapSeams(object):
    """A mount table for the reaper's choices."""

    def __init__(self, mounted):
        outer = self

        class Mounts(object):
            @staticmethod
            def read_mountinfo():
                return list(outer.mounted)

            @staticmethod
            def mount_at(entries, mountpoint):
                return mountpoint if mountpoint in entries else None
        self.mounted = set(mounted)
        self.mounts = Mounts()


def test_the_reaper_takes_down_only_expired_keys_past_their_grace(tmp_path, monkeypatch):
    automounter = am.Automounter(config(tmp_path, reap_grace=30), seams=ReapSeams(['/snapshots/busy@s1']),
                                 san=FakeSan())
    now = time.time()
    for key, used in (('busy@s1', now - 100), ('fresh@s1', now - 5), ('old@s1', now - 100)):
        automounter.write_record(key, {'key': key, 'used': used})
    torn = []
    monkeypatch.setattr(automounter, 'teardown', lambda key: torn.append(key) or True)
    assert automounter.reap() == ['old@s1']
    assert torn == ['old@s1']
    assert sorted(automounter.reap(grace=0)) == ['fresh@s1', 'old@s1']


def test_the_reaper_deletes_clones_of_keys_this_host_has_no_record_of(tmp_path):
    san = FakeSan({'snapshots': [], 'clones': [{'key': 'gone@s1', 'clone': 'am-1'}, {'key': 'kept@s1', 'clone': 'am-2'}]})
    automounter = am.Automounter(config(tmp_path), seams=ReapSeams([]), san=san)
    automounter.write_record('kept@s1', {'key': 'kept@s1', 'used': time.time()})
    assert automounter.reap_orphans() == ['gone@s1']
    assert ('detach', 'gone@s1') in san.requests and ('detach', 'kept@s1') not in san.requests


@pytest.mark.parametrize('argv', [['x'], ['x', 'reap', '--now'], ['x', 'lookup'], ['x', 'shell'], ['x', 'status', 'y']])
def test_command_usage(argv, capsys):
    assert am.command(argv, lambda: pytest.fail('no automounter for a usage error')) == 2
    assert 'usage' in capsys.readouterr().err


def test_the_program_map_name_decides_the_mode(monkeypatch, tmp_path):
    path = tmp_path / 'automount.json'
    path.write_text(json.dumps({'mount_point': '/s', 'ssh_host': 'h', 'ssh_identity': '/k', 'ssh_known_hosts': '/kh',
                                'state_dir': str(tmp_path / 'state')}))
    modes = []
    monkeypatch.setattr(am, 'program_map', lambda argv, factory: modes.append(('map', argv)) or 0)
    monkeypatch.setattr(am, 'command', lambda argv, factory: modes.append(('command', argv)) or 0)
    am.main(['/usr/local/libexec/san-iscsi/auto.snapshots', 'reap'], config_path=str(path))
    am.main(['/usr/local/sbin/san-iscsi-automount', 'reap'], config_path=str(path))
    assert [mode for mode, _argv in modes] == ['map', 'command']


def test_a_configuration_without_its_san_access_is_refused(tmp_path):
    path = tmp_path / 'automount.json'
    path.write_text(json.dumps({'mount_point': '/s'}))
    with pytest.raises(am.Failed) as caught:
        am.load_config(str(path))
    assert caught.value.error_code == 'config'
