# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_automount/files/automount.py: keys, the program map's contract, the SAN client, content
detection, the reaper's choices and the by-name tree. The seams below it (iscsiadm, sysfs, mount) are stood in
for where a test needs them; the lab target snapshot_automount runs the program against the real ones."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import inspect
import json
import os
import time

import pytest

from ansible_collections.san.iscsi.plugins.module_utils._iscsiadm import Iscsiadm
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


def test_the_local_san_client_runs_the_helper_here_with_only_the_request(tmp_path):
    runner = FakeRunner(0, '{"ok": true, "snapshots": [], "clones": []}\n')
    helper = ['/usr/local/libexec/san-iscsi/automount-san', '/etc/san-iscsi/automount-san.json']
    client = am.LocalSanClient(config(tmp_path, san_command=helper), runner)
    assert client.request('detach', 'db@s1') == {'ok': True, 'snapshots': [], 'clones': []}
    assert runner.calls == [(helper[0], [helper[1], 'detach', 'db@s1'], am.DEFAULTS['san_timeout'])]


def test_the_automounter_chooses_its_san_client_by_the_configuration(tmp_path):
    seams = type('Seams', (), {'runner': None})()
    local = am.Automounter(config(tmp_path, san_command=['/h', '/c']), seams=seams)
    remote = am.Automounter(config(tmp_path), seams=seams)
    assert isinstance(local.san, am.LocalSanClient) and not isinstance(remote.san, am.LocalSanClient)


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
    assert content_of(tmp_path, blockdev) == ('/dev/sdb', {'TYPE': 'ext4', 'USAGE': 'filesystem'})
    assert blockdev.read_only == ['/dev/sdb']


def test_an_lvm_pv_on_the_whole_disk(tmp_path):
    blockdev = FakeBlockdev({'/dev/sdb': {'TYPE': 'LVM2_member', 'USAGE': 'raid'}})
    assert content_of(tmp_path, blockdev) == ('/dev/sdb', {'TYPE': 'LVM2_member', 'USAGE': 'raid'})


def test_the_one_partition_holding_a_filesystem(tmp_path):
    blockdev = FakeBlockdev({'/dev/sdb': {'PTTYPE': 'gpt'}, '/dev/sdb2': {'TYPE': 'xfs', 'USAGE': 'filesystem'},
                             '/dev/sdb1': {'TYPE': 'swap', 'USAGE': 'other'}},
                            table=[{'nr': 1}, {'nr': 2}], nodes={1: 'sdb1', 2: 'sdb2'})
    assert content_of(tmp_path, blockdev) == ('/dev/sdb2', {'TYPE': 'xfs', 'USAGE': 'filesystem'})
    assert blockdev.read_only == ['/dev/sdb', '/dev/sdb2']


def test_the_one_partition_holding_an_lvm_pv(tmp_path):
    blockdev = FakeBlockdev({'/dev/sdb': {'PTTYPE': 'gpt'}, '/dev/sdb1': {'TYPE': 'vfat', 'USAGE': 'other'},
                             '/dev/sdb2': {'TYPE': 'LVM2_member', 'USAGE': 'raid'}},
                            table=[{'nr': 1}, {'nr': 2}], nodes={1: 'sdb1', 2: 'sdb2'})
    assert content_of(tmp_path, blockdev)[0] == '/dev/sdb2'
    assert blockdev.read_only == ['/dev/sdb', '/dev/sdb2']


@pytest.mark.parametrize('probes, table, nodes', [
    ({'/dev/sdb': {'PTTYPE': 'gpt'}, '/dev/sdb1': {'TYPE': 'ext4', 'USAGE': 'filesystem'},
      '/dev/sdb2': {'TYPE': 'xfs', 'USAGE': 'filesystem'}}, [{'nr': 1}, {'nr': 2}], {1: 'sdb1', 2: 'sdb2'}),
    ({'/dev/sdb': {'PTTYPE': 'gpt'}, '/dev/sdb1': {'TYPE': 'ext4', 'USAGE': 'filesystem'},
      '/dev/sdb2': {'TYPE': 'LVM2_member', 'USAGE': 'raid'}}, [{'nr': 1}, {'nr': 2}], {1: 'sdb1', 2: 'sdb2'}),
    ({'/dev/sdb': {'PTTYPE': 'dos'}}, [], {}),
    ({'/dev/sdb': {'TYPE': 'linux_raid_member', 'USAGE': 'raid'}}, [], {}),
    ({}, [], {}),
])
def test_content_it_does_not_mount(tmp_path, probes, table, nodes):
    with pytest.raises(am.Failed) as caught:
        content_of(tmp_path, FakeBlockdev(probes, table, nodes))
    assert caught.value.error_code == 'content'


def test_a_multipath_map_is_mounted_instead_of_its_path(tmp_path):
    blockdev = FakeBlockdev({'/dev/mapper/mpatha': {'TYPE': 'ext4', 'USAGE': 'filesystem'}})
    assert content_of(tmp_path, blockdev, Device('/dev/mapper/mpatha'))[0] == '/dev/mapper/mpatha'
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


@pytest.mark.parametrize('values', [{'mount_point': '/s'}, {'mount_point': '/s', 'ssh_host': 'h', 'ssh_identity': '/k'},
                                    {'mount_point': '/s', 'san_command': []}, {'san_command': ['/h', '/c']}])
def test_a_configuration_without_its_san_access_is_refused(tmp_path, values):
    path = tmp_path / 'automount.json'
    path.write_text(json.dumps(values))
    with pytest.raises(am.Failed) as caught:
        am.load_config(str(path))
    assert caught.value.error_code == 'config'


def test_a_configuration_with_a_local_san_helper_needs_no_ssh(tmp_path):
    path = tmp_path / 'automount.json'
    path.write_text(json.dumps({'mount_point': '/s', 'san_command': ['/h', '/c']}))
    assert am.load_config(str(path))['san_command'] == ['/h', '/c']


class FakeLvmEngine(object):
    """What the automounter asks of _lvm's LvmEngine; CALLS records it, with the key's record at the import."""

    def __init__(self, calls, automounter, lv_rows, vg_row, refusal=None):
        self.calls, self.automounter, self.refusal = calls, automounter, refusal
        self.lv_rows, self.vg_row = lv_rows, vg_row

    def seam(self, lvm_module):
        engine = self

        class Lvm(object):
            def __init__(self, runner):
                pass

            @staticmethod
            def lvs(vg, devices=None, readonly=False):
                engine.calls.append(('lvs', vg, tuple(devices), readonly))
                return engine.lv_rows

        def make_engine(lvm, result, warn):
            return engine
        return type('LvmSeam', (), {'Lvm': Lvm, 'LvmEngine': staticmethod(make_engine),
                                    'LvmRefusal': lvm_module.LvmRefusal, 'choose_lv': staticmethod(lvm_module.choose_lv),
                                    'default_clone_name': staticmethod(lvm_module.default_clone_name)})

    def vg_on(self, pv_path):
        if self.refusal:
            raise self.refusal
        return {'vg_name': 'vg0', 'pv_uuid': 'P', 'vg_uuid': 'V'}, self.vg_row

    def clone(self, name, lun_name, pv_path, pv):
        self.calls.append(('clone', name, lun_name, pv_path))
        return type('Clone', (), {'imported': False, 'overlay_path': '/dev/mapper/san_iscsi_ovl_' + name})()

    def release_autoactivated(self, clone, lv_rows):
        self.calls.append(('release_autoactivated',))

    def refuse_taken_name(self, name):
        self.calls.append(('refuse_taken_name', name))

    def import_clone(self, clone):
        self.calls.append(('import_clone', self.automounter.read_record('db@s1')))

    def activate_clone_lv(self, clone, lv):
        self.calls.append(('activate_clone_lv', lv))

    def lv_device(self, vg, lv, scope):
        return 'dm-3', '/dev/mapper/%s-%s' % (vg, lv)

    def remove_clone(self, clone, overlays, strict):
        self.calls.append(('remove_clone', clone, tuple(overlays), strict))


class LvmBlockdev(FakeBlockdev):
    def __init__(self, probes, overlays=()):
        super(LvmBlockdev, self).__init__(probes)
        self.overlays = overlays
        self.removed = []

    @staticmethod
    def kernel_name(path):
        return {'/dev/sdb1': 'sdb1'}.get(path) or ('dm-9' if path.startswith('/dev/mapper/') else None)

    @staticmethod
    def overlay_name(tag):
        return 'san_iscsi_ovl_' + tag

    def remove_overlay(self, runner, name):
        self.removed.append(name)


LV_ROWS = [{'lv_name': 'data', 'segtype': 'linear', 'lv_attr': '-wi-------'}]


def lvm_automounter(tmp_path, probes, lv_rows=None, vg_row=None, refusal=None, overlay_exists=False):
    from ansible_collections.san.iscsi.plugins.module_utils import _lvm
    calls = []
    blockdev = LvmBlockdev(probes)
    if not overlay_exists:
        blockdev.kernel_name = {'/dev/sdb1': 'sdb1'}.get
    seams = type('Seams', (), {'blockdev': blockdev, 'runner': None})()
    automounter = am.Automounter(config(tmp_path), seams=seams, san=FakeSan())
    engine = FakeLvmEngine(calls, automounter, LV_ROWS if lv_rows is None else lv_rows, vg_row or {'pv_count': '1'},
                           refusal)
    seams.lvm = engine.seam(_lvm)
    automounter.write_record('db@s1', {'key': 'db@s1', 'phase': 'attached', 'wwid': 'naa.6001405abcdef0123'})
    return automounter, calls, blockdev


def test_a_snapshot_s_vg_is_imported_as_a_clone_named_before_the_import(tmp_path):
    lv_path = '/dev/mapper/vg0_clone_ef0123-data'
    automounter, calls, blockdev = lvm_automounter(tmp_path, {lv_path: {'TYPE': 'xfs', 'USAGE': 'filesystem'}})
    record = automounter.read_record('db@s1')
    assert automounter.lvm_clone('db@s1', record, '/dev/sdb1') == (lv_path, {'TYPE': 'xfs', 'USAGE': 'filesystem'})
    assert calls[0] == ('lvs', 'vg0', ('/dev/sdb1',), True)
    assert calls[1] == ('clone', 'vg0_clone_ef0123', 'sdb1', '/dev/sdb1')
    imported = [call[1] for call in calls if call[0] == 'import_clone']
    assert imported and imported[0]['clone_vg'] == 'vg0_clone_ef0123' and imported[0]['lv'] == 'data'
    assert [call[0] for call in calls[2:]] == ['release_autoactivated', 'refuse_taken_name', 'import_clone',
                                               'activate_clone_lv']
    assert blockdev.read_only == [lv_path]


@pytest.mark.parametrize('changes', [
    {'vg_row': {'pv_count': '2'}},
    {'lv_rows': LV_ROWS + [{'lv_name': 'logs', 'segtype': 'linear', 'lv_attr': '-wi-------'}]},
    {'lv_rows': []},
    {'refusal': 'LvmRefusal'},
    {'probes': {}},
])
def test_lvm_content_it_does_not_mount(tmp_path, changes):
    from ansible_collections.san.iscsi.plugins.module_utils import _lvm
    if changes.get('refusal'):
        changes['refusal'] = _lvm.LvmRefusal('LVM reports the PV as a duplicate')
    probes = changes.pop('probes', {'/dev/mapper/vg0_clone_ef0123-data': {'TYPE': 'xfs', 'USAGE': 'filesystem'}})
    automounter, calls, _blockdev = lvm_automounter(tmp_path, probes, **changes)
    with pytest.raises(am.Failed) as caught:
        automounter.lvm_clone('db@s1', automounter.read_record('db@s1'), '/dev/sdb1')
    assert caught.value.error_code == 'content'
    assert ('import_clone' in [call[0] for call in calls]) == ('probes' not in changes and not changes)


@pytest.mark.parametrize('overlay_exists', [True, False])
def test_the_clone_vg_is_removed_with_its_overlay(tmp_path, overlay_exists):
    automounter, calls, blockdev = lvm_automounter(tmp_path, {}, overlay_exists=overlay_exists)
    automounter.remove_lvm_clone({'clone_vg': 'vg0_clone_ef0123'})
    if overlay_exists:
        assert calls == [('remove_clone', 'vg0_clone_ef0123', ('/dev/mapper/san_iscsi_ovl_vg0_clone_ef0123',), True)]
        assert blockdev.removed == []
    else:
        assert calls == [] and blockdev.removed == ['san_iscsi_ovl_vg0_clone_ef0123']


class ConnectSeams(object):
    """iscsiadm and the device wait, for connect(): CALLS records what was done to node records and sessions."""

    class DeviceWaitTimeout(Exception):
        pass

    def __init__(self, existing_record):
        self.calls = []
        self.existing = existing_record
        self.runner = None
        self.devices = self

    def iscsi(self):
        return self

    @staticmethod
    def parse_portal(text):
        return text

    def sessions(self):
        return []

    def find_record(self, target, portal, iface):
        return 'their-record' if self.existing else None

    def node_new(self, target, portal, iface):
        self.calls.append(('node_new', target, portal, iface))
        return 'our-record'

    def node_update(self, node, name, value):
        self.calls.append(('node_update', node, name, value))

    def login(self, node):
        self.calls.append(('login', node))

    # the devices seam
    def SessionDisks(self, runner):  # pylint: disable=invalid-name
        return self

    @staticmethod
    def multipath_expected(mode):
        return False

    @staticmethod
    def find_devices(wwid):
        return ['sdx']

    @staticmethod
    def ready(device, need_multipath):
        return []

    @staticmethod
    def wait(predicate, timeout):
        return predicate()[0]


def test_every_iscsiadm_call_of_the_helper_exists_on_the_seam_with_its_arguments():
    """ConnectSeams stands in for _iscsiadm.Iscsiadm, so a renamed seam method would pass here and fail on a host
    (it did once: login and logout_session). Each `iscsi.NAME(ARGS)` of the helper must bind to the real method."""
    with open(am.__file__) as handle:
        tree = ast.parse(handle.read())
    calls = [(node.func.attr, len(node.args), [keyword.arg for keyword in node.keywords]) for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and isinstance(node.func.value, ast.Name) and node.func.value.id == 'iscsi']
    assert {name for name, _count, _keywords in calls} >= {
        'find_record', 'node_new', 'node_update', 'login', 'rescan_session', 'logout_session', 'node_delete'}
    for name, count, keywords in calls:
        method = getattr(Iscsiadm, name, None)
        assert callable(method), 'Iscsiadm has no %s' % name
        inspect.signature(method).bind(None, *range(count), **dict.fromkeys(keywords))


RECORD = {'key': 'db@s1', 'clone': 'am-1', 'wwid': 'naa.1', 'target': 'iqn.2026-12.x:t', 'portal': '10.0.0.1',
          'iface': 'default'}


def test_a_node_record_it_creates_never_starts_at_boot_and_bounds_the_first_login(tmp_path):
    seams = ConnectSeams(existing_record=False)
    automounter = am.Automounter(config(tmp_path, login_retries=3, login_timeout=12), seams=seams, san=FakeSan())
    assert automounter.connect(dict(RECORD)) == 'sdx'
    assert seams.calls == [
        ('node_new', 'iqn.2026-12.x:t', '10.0.0.1', 'default'),
        ('node_update', 'our-record', 'node.startup', 'manual'),
        ('node_update', 'our-record', 'node.session.initial_login_retry_max', '3'),
        ('node_update', 'our-record', 'node.conn[0].timeo.login_timeout', '12'),
        ('login', 'our-record')]
    with open(automounter.session_marker(RECORD)) as handle:
        assert json.load(handle)['created_record'] is True


def test_a_node_record_it_did_not_create_is_used_as_it_is(tmp_path):
    seams = ConnectSeams(existing_record=True)
    automounter = am.Automounter(config(tmp_path), seams=seams, san=FakeSan())
    automounter.connect(dict(RECORD))
    assert seams.calls == [('login', 'their-record')]
    with open(automounter.session_marker(RECORD)) as handle:
        assert json.load(handle)['created_record'] is False
