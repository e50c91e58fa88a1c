# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LIO backend against a fake of the rtslib_fb objects it uses and a fake LVM/cp command seam.

The fakes model only what LIO and LVM do with the calls the backend makes (configfs objects with
their lookup/create modes, lvs JSON reports, lvcreate/lvextend/lvremove, cp --reflink); every test
asserts the exact argv of each command run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import shutil
import stat

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _host_lock, _san_lio
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanConflict, SanConnectionError, SanError, SanInvalid, SanNotFound, naa_lio)

TIMEOUT = ['/usr/bin/timeout', '-k', '5']
LVM = TIMEOUT + ['120', '/sbin/lvm']
CP = TIMEOUT + ['300', '/bin/cp']
LVS = LVM + ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', _san_lio.LV_FIELDS]
IQN = 'iqn.2003-01.org.linux-iscsi.san:lio-unit'
HOST1 = 'iqn.2026-11.lab.san-iscsi:host1'
HOST2 = 'iqn.2026-11.lab.san-iscsi:host2'
MIB = 1024 * 1024


# --- fake rtslib --------------------------------------------------------------------------------

class RTSLibError(Exception):
    pass


class RTSLibNotInCFS(RTSLibError):
    pass


class FakeLio(object):
    """The configfs state: targets by IQN and storage objects, shared by the fake classes."""

    def __init__(self):
        self.targets = {}
        self.storage_objects = []
        self.serials = 0
        self.fail_next_so = False
        self.available = True
        self.acl_authentication = True  # kernels since 5.16: every node ACL has its own authentication attribute


class Namespace(object):
    """What the backend sees as the rtslib_fb module."""

    def __init__(self, lio):
        self.RTSLibError = RTSLibError
        self.RTSLibNotInCFS = RTSLibNotInCFS
        test = self

        class RTSRoot(object):
            def __init__(self):
                if not lio.available:
                    raise RTSLibError('No such file or directory: /sys/kernel/config/target')

            @property
            def storage_objects(self):
                return list(lio.storage_objects)

            @property
            def targets(self):
                return list(lio.targets.values())

            def dump(self):
                return {'storage_objects': [so.dump() for so in lio.storage_objects],
                        'targets': [target.dump() for target in lio.targets.values()]}

        class FabricModule(object):
            def __init__(self, name):
                self.name = name

        class Target(object):
            def __new__(cls, fabric, wwn, mode='any'):
                wwn = wwn.lower()
                if mode == 'lookup':
                    if wwn not in lio.targets:
                        raise RTSLibNotInCFS('No such Target in configfs: %s' % wwn)
                    return lio.targets[wwn]
                if wwn in lio.targets:
                    raise RTSLibError('Target exists')
                target = object.__new__(cls)
                target.wwn, target.fabric_module, target.tpg_map = wwn, fabric, {}
                lio.targets[wwn] = target
                return target

            def __init__(self, fabric, wwn, mode='any'):
                pass

            @property
            def tpgs(self):
                return list(self.tpg_map.values())

            def delete(self):
                lio.targets.pop(self.wwn)

            def dump(self):
                return {'wwn': self.wwn, 'tpgs': [tpg.dump() for tpg in self.tpgs]}

        class TPG(object):
            def __new__(cls, target, tag, mode='any'):
                if mode == 'lookup':
                    if tag not in target.tpg_map:
                        raise RTSLibNotInCFS('No such TPG')
                    return target.tpg_map[tag]
                tpg = object.__new__(cls)
                tpg.parent_target, tpg.tag, tpg.enable = target, tag, False
                tpg.attributes = {'authentication': '1', 'generate_node_acls': '0'}
                tpg.acl_map, tpg.lun_map, tpg.portals = {}, {}, []
                target.tpg_map[tag] = tpg
                return tpg

            def __init__(self, target, tag, mode='any'):
                pass

            node_acls = property(lambda self: [self.acl_map[key] for key in sorted(self.acl_map)])
            luns = property(lambda self: [self.lun_map[key] for key in sorted(self.lun_map)])
            network_portals = property(lambda self: list(self.portals))

            def get_attribute(self, name):
                return self.attributes[name]

            def set_attribute(self, name, value):
                self.attributes[name] = str(value)

            def delete(self):
                self.parent_target.tpg_map.pop(self.tag)

            def dump(self):
                return {'tag': self.tag, 'enable': self.enable, 'attributes': dict(self.attributes),
                        'portals': [[p.ip_address, p.port] for p in self.portals],
                        'luns': [[lun.lun, lun.storage_object.name] for lun in self.luns],
                        'node_acls': [acl.dump() for acl in self.node_acls]}

        class NetworkPortal(object):
            def __init__(self, tpg, ip_address, port, mode='any'):
                if ':' in ip_address and not ip_address.startswith('['):
                    raise RTSLibError('Could not create NetworkPortal in configFS')
                self.ip_address, self.port, self.tpg = ip_address, port, tpg
                tpg.portals.append(self)

            def delete(self):
                self.tpg.portals.remove(self)

        class NodeACL(object):
            def __init__(self, tpg, wwn, mode='any'):
                wwn = wwn.lower()
                if wwn in tpg.acl_map:
                    raise RTSLibError('NodeACL exists')
                self.parent_tpg, self.node_wwn, self.tag = tpg, wwn, None
                self.chap_userid = self.chap_password = self.chap_mutual_userid = self.chap_mutual_password = ''
                self.attributes = {'authentication': '-1'} if lio.acl_authentication else {}
                self.mlun_map = {}
                tpg.acl_map[wwn] = self

            def list_attributes(self):
                return sorted(self.attributes)

            def get_attribute(self, name):
                return self.attributes[name]

            def set_attribute(self, name, value):
                if name not in self.attributes:
                    raise RTSLibError('Cannot find attribute: %s' % name)
                self.attributes[name] = str(value)

            def authenticates(self):
                """Whether the kernel asks this initiator for CHAP at login (iscsi_conn_auth_required)."""
                own = self.attributes.get('authentication', '-1')
                return (own if own != '-1' else self.parent_tpg.attributes['authentication']) == '1'

            mapped_luns = property(lambda self: [self.mlun_map[key] for key in sorted(self.mlun_map)])
            # rtslib's CFSNode.exists: whether the object's configfs directory is still there
            exists = property(lambda self: self.parent_tpg.acl_map.get(self.node_wwn) is self)

            def delete(self):
                self.parent_tpg.acl_map.pop(self.node_wwn)

            def dump(self):
                return {'node_wwn': self.node_wwn, 'tag': self.tag, 'chap_password': self.chap_password,
                        'mapped_luns': [[m.mapped_lun, m.tpg_lun.lun] for m in self.mapped_luns]}

        class MappedLUN(object):
            def __init__(self, acl, mapped_lun, tpg_lun):
                if mapped_lun in acl.mlun_map:
                    raise RTSLibError('MappedLUN exists')
                self.parent_nodeacl, self.mapped_lun, self.tpg_lun = acl, mapped_lun, tpg_lun
                self.node_wwn = acl.node_wwn
                acl.mlun_map[mapped_lun] = self

            def delete(self):
                self.parent_nodeacl.mlun_map.pop(self.mapped_lun)

        class LUN(object):
            def __init__(self, tpg, lun=None, storage_object=None):
                if lun is None:
                    lun = next(index for index in range(256) if index not in tpg.lun_map)
                self.parent_tpg, self.lun, self.storage_object = tpg, lun, storage_object
                tpg.lun_map[lun] = self

            @property
            def mapped_luns(self):
                return [m for acl in self.parent_tpg.node_acls for m in acl.mapped_luns if m.tpg_lun is self]

            def delete(self):
                for mlun in self.mapped_luns:
                    mlun.delete()
                self.parent_tpg.lun_map.pop(self.lun)

        class StorageObject(object):
            plugin = None

            def _register(self, name, dev, wwn):
                if lio.fail_next_so:
                    lio.fail_next_so = False
                    raise RTSLibError('Cannot configure StorageObject because device %s is already in use' % dev)
                if any(so.name == name and so.plugin == self.plugin for so in lio.storage_objects):
                    raise RTSLibError('Storage object %s exists' % name)
                lio.serials += 1
                self.name, self.udev_path = name, dev
                self.wwn = wwn or '%08x-5bde-4f1e-9f66-6c2b1e7a3c11' % lio.serials
                lio.storage_objects.append(self)

            @property
            def attached_luns(self):
                return [lun for target in lio.targets.values() for tpg in target.tpgs for lun in tpg.luns
                        if lun.storage_object is self]

            def delete(self):
                for lun in self.attached_luns:
                    lun.delete()
                lio.storage_objects.remove(self)

            def dump(self):
                return {'name': self.name, 'plugin': self.plugin, 'dev': self.udev_path, 'wwn': self.wwn}

        class BlockStorageObject(StorageObject):
            plugin = 'block'

            def __init__(self, name, dev=None, wwn=None, write_back=False):
                assert write_back is False
                self._register(name, dev, wwn)

        class FileIOStorageObject(StorageObject):
            plugin = 'fileio'

            def __init__(self, name, dev=None, size=None, wwn=None, write_back=False):
                assert write_back is False and size is not None
                self.size = size
                self._register(name, dev, wwn)

        for cls in (RTSRoot, FabricModule, Target, TPG, NetworkPortal, NodeACL, MappedLUN, LUN, BlockStorageObject,
                    FileIOStorageObject):
            setattr(test, cls.__name__, cls)


# --- fake LVM and cp ----------------------------------------------------------------------------

class FakeCommands(object):
    """run_command for lvm lvs/lvcreate/lvextend/lvremove and cp --reflink=always."""

    def __init__(self):
        self.vgs = {'labvg': {'pool': self.row('labvg', 'pool', 'thin-pool', '', 19 * 1024 * MIB)}}
        self.calls = []
        self.reflink_error = None
        self.fail = {}

    @staticmethod
    def row(vg, name, segtype, pool, size, origin='', tags='', attr='Vwi-a-tz--'):
        return {'vg_name': vg, 'lv_name': name, 'lv_attr': attr, 'segtype': segtype, 'pool_lv': pool,
                'origin': origin, 'lv_size': str(size), 'lv_tags': tags, 'lv_time': '2026-11-21 10:08:47 +0000'}

    def add_lun_lv(self, name, size=64 * MIB, tags='san.iscsi.os_type=linux', origin=''):
        self.vgs['labvg'][name] = self.row('labvg', name, 'thin', 'pool', size, origin, tags)

    def __call__(self, argv, environ_update=None, **kwargs):
        assert environ_update == {'LC_ALL': 'C', 'LANG': 'C'}
        self.calls.append(argv)
        key = argv[5] if argv[4] == '/sbin/lvm' else 'cp'
        if key in self.fail:
            return self.fail.pop(key)
        return getattr(self, 'do_' + key)(argv[5:] if key != 'cp' else argv[5:])

    @staticmethod
    def options(args):
        parsed, rest, index = {}, [], 0
        while index < len(args):
            arg = args[index]
            if arg in ('--yes', '--thin', '--snapshot', '--nosuffix'):
                parsed[arg] = True
            elif arg.startswith('-'):
                parsed.setdefault(arg, []).append(args[index + 1])
                index += 1
            else:
                rest.append(arg)
            index += 1
        return parsed, rest

    def do_lvs(self, args):
        _opts, names = self.options(args[1:])
        vgs = names or sorted(self.vgs)
        if any(vg not in self.vgs for vg in vgs):
            return 5, '', '  Volume group "%s" not found\n  Cannot process volume group %s\n' % (vgs[0], vgs[0])
        rows = [self.vgs[vg][lv] for vg in vgs for lv in sorted(self.vgs[vg])]
        return 0, json.dumps({'report': [{'lv': rows}]}), ''

    def do_lvcreate(self, args):
        opts, rest = self.options(args[1:])
        vg, source = rest[0].split('/')
        name = opts['--name'][0]
        if name in self.vgs[vg]:
            return 5, '', '  Logical Volume "%s" already exists in volume group "%s"\n' % (name, vg)
        tags = ','.join(sorted(opts.get('--addtag', [])))
        if opts.get('--thin'):
            size = -(-int(opts['--virtualsize'][0][:-1]) // (4 * MIB)) * 4 * MIB
            self.vgs[vg][name] = self.row(vg, name, 'thin', source, size, tags=tags)
        else:
            origin = self.vgs[vg][source]
            skip = opts.get('--setactivationskip') != ['n']
            self.vgs[vg][name] = self.row(vg, name, 'thin', origin['pool_lv'], origin['lv_size'], source, tags,
                                          'Vwi---tz-k' if skip else 'Vwi-a-tz--')
        return 0, '  Logical volume "%s" created.\n' % name, ''

    def do_lvextend(self, args):
        opts, rest = self.options(args[1:])
        vg, name = rest[0].split('/')
        self.vgs[vg][name]['lv_size'] = str(int(opts['--size'][0][:-1]))
        return 0, '', ''

    def do_lvremove(self, args):
        _opts, rest = self.options(args[1:])
        vg, name = rest[0].split('/')
        del self.vgs[vg][name]
        return 0, '  Logical volume "%s" successfully removed.\n' % name, ''

    def do_cp(self, args):
        assert args[:2] == ['--reflink=always', '--']
        source, dest = args[2:]
        with open(dest, 'wb'):
            pass  # cp creates the destination before it tries to clone
        if self.reflink_error:
            return 1, '', self.reflink_error
        shutil.copyfile(source, dest)
        return 0, '', ''


class FakeModule(object):
    def __init__(self, params, commands):
        self.params = params
        self.run_command = commands
        self.check_mode = False

    @staticmethod
    def get_bin_path(name, required=False, opt_dirs=None):
        return {'timeout': '/usr/bin/timeout', 'lvm': '/sbin/lvm', 'cp': '/bin/cp'}[name]

    def fail_json(self, **kwargs):
        raise AssertionError('fail_json %r' % kwargs)


@pytest.fixture
def lio(monkeypatch):
    state = FakeLio()
    monkeypatch.setattr(_san_lio, 'rtslib_fb', Namespace(state))
    return state


@pytest.fixture
def commands():
    return FakeCommands()


@pytest.fixture
def make_backend(lio, commands, tmp_path, monkeypatch):
    lock_dir = tmp_path / 'lock'
    lock_dir.mkdir()
    monkeypatch.setattr(_san_lio, 'LOCK_DIRS', (str(lock_dir),))

    def make(**params):
        merged = dict(provider='lio', target=IQN, tpg=1, portals=['10.10.1.1', '[fd5a:1::1]:3261'],
                      save_file=str(tmp_path / 'etc' / 'saveconfig.json'))
        merged.update(params)
        return _san_lio.LioBackend(FakeModule(merged, commands))
    return make


@pytest.fixture
def backend(make_backend):
    return make_backend()


def saved(tmp_path):
    with open(str(tmp_path / 'etc' / 'saveconfig.json')) as handle:
        return json.load(handle)


# --- naming -------------------------------------------------------------------------------------

def test_paths_and_volumes(backend):
    assert backend.lun_path('labvg/pool', 'data') == 'labvg/pool/data'
    assert backend.lun_path('/srv/luns', 'data') == '/srv/luns/data'
    assert backend.split_lun_path('labvg/pool/data') == ('labvg/pool', 'data')
    assert backend.split_lun_path('/srv/luns/data') == ('/srv/luns', 'data')
    for volume, name in (('labvg', 'x'), ('labvg/pool/x', 'y'), ('/srv/luns/', 'x'), ('labvg/pool', 'a/b'),
                         ('labvg/pool', '-x'), ('/', 'x'), ('labvg/pool', 'a b')):
        with pytest.raises(SanInvalid):
            backend.lun_path(volume, name)
    with pytest.raises(SanInvalid, match='VG/THINPOOL/NAME'):
        backend.split_lun_path('labvg/data')


@pytest.mark.parametrize('portals, message', [
    (['0.0.0.0'], 'wildcard'), (['san.example.com'], 'IP addresses'), (['10.10.1.1:99999'], 'port'),
    (['10.10.1.1,1'], 'tpgt'),
])
def test_bad_portals_are_refused_before_anything(make_backend, commands, portals, message):
    with pytest.raises(SanInvalid, match=message):
        make_backend(portals=portals)
    assert commands.calls == []


def test_bad_target_name(make_backend):
    with pytest.raises(SanInvalid, match='target name'):
        make_backend(target='iqn.2003-13.bad:x')


def test_lio_not_loaded_is_a_connection_error(backend, lio):
    lio.available = False
    with pytest.raises(SanConnectionError, match='not available'):
        backend.check_connection()


def test_missing_target_without_portals_is_not_found(make_backend, lio):
    backend = make_backend(portals=None)
    with pytest.raises(SanNotFound, match='does not exist on this host; create it, or give portals'):
        backend.check_connection()
    with pytest.raises(SanNotFound):
        backend.get_igroup('host1')


def test_missing_target_with_portals_reads_as_empty(backend, lio):
    backend.check_connection()
    assert backend.get_igroup('host1') is None
    assert backend.list_igroups() == []
    assert backend.list_lun_maps() == []
    assert lio.targets == {}


def test_igroups_need_the_target_option(make_backend):
    with pytest.raises(SanInvalid, match='target is required'):
        make_backend(target=None).list_igroups()


# --- LUNs ---------------------------------------------------------------------------------------

def test_create_block_lun(backend, commands, lio, tmp_path):
    lun = backend.create_lun('labvg/pool', 'lio_a', 10 * MIB + 1, 'linux')
    assert commands.calls == [
        LVS + ['labvg'],
        LVM + ['lvcreate', '--yes', '--thin', '--virtualsize', '%db' % (10 * MIB + 512), '--name', 'lio_a',
               '--addtag', 'san.iscsi.os_type=linux', 'labvg/pool'],
        LVS + ['labvg'],
    ]
    serial = lio.storage_objects[0].wwn
    assert lun == dict(name='lio_a', volume='labvg/pool', path='labvg/pool/lio_a', size=12 * MIB, os_type='linux',
                       serial=serial, wwid=naa_lio(serial), clone_parent=None, maps=[], vserver=None, uuid=None)
    assert lio.storage_objects[0].udev_path == '/dev/labvg/lio_a'
    assert [so['name'] for so in saved(tmp_path)['storage_objects']] == ['lio_a']
    assert stat.S_IMODE(os.stat(str(tmp_path / 'etc' / 'saveconfig.json')).st_mode) == 0o600
    assert os.listdir(str(tmp_path / 'etc')) == ['saveconfig.json']


def test_get_lun_reads_back_and_reports_maps(backend, commands):
    backend.create_lun('labvg/pool', 'lio_a', 64 * MIB, 'windows')
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'host1', 3)
    lun = backend.get_lun('labvg/pool', 'lio_a')
    assert (lun['os_type'], lun['size'], lun['maps']) == ('windows', 64 * MIB, [{'igroup': 'host1', 'lun_id': 3}])
    assert backend.get_lun('labvg/pool', 'lio_missing') is None


def test_lv_without_backstore_is_not_a_lun(backend, commands):
    commands.add_lun_lv('lio_bare')
    assert backend.get_lun('labvg/pool', 'lio_bare') is None
    with pytest.raises(SanConflict, match='logical volume labvg/lio_bare exists already'):
        backend.create_lun('labvg/pool', 'lio_bare', MIB, 'linux')
    assert not any('lvcreate' in call for call in commands.calls)


def test_unknown_volume(backend, commands):
    with pytest.raises(SanNotFound, match="volume group 'novg' does not exist"):
        backend.get_lun('novg/pool', 'x')
    with pytest.raises(SanNotFound, match='no thin pool nopool'):
        backend.create_lun('labvg/nopool', 'x', MIB, 'linux')
    with pytest.raises(SanNotFound, match='directory does not exist'):
        backend.get_lun('/nonexistent/dir', 'x')
    assert [call[5] for call in commands.calls] == ['lvs', 'lvs']


def test_backstore_name_taken_by_another_volume(backend, commands, tmp_path):
    backend.create_lun(str(tmp_path), 'lio_a', MIB, 'linux')
    with pytest.raises(SanConflict, match="backstore named 'lio_a' exists already"):
        backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    assert 'lio_a' not in commands.vgs['labvg']


def test_failed_export_removes_the_new_lv(backend, commands, lio, tmp_path):
    lio.fail_next_so = True
    with pytest.raises(SanError, match='cannot export /dev/labvg/lio_a'):
        backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    assert commands.calls[-1] == LVM + ['lvremove', '--yes', 'labvg/lio_a']
    assert 'lio_a' not in commands.vgs['labvg'] and lio.storage_objects == []
    assert saved(tmp_path)['storage_objects'] == []


def test_lvcreate_failure_carries_the_command(backend, commands):
    commands.fail['lvcreate'] = (5, '', '  Insufficient free space for thin pool metadata\n')
    with pytest.raises(SanError) as failed:
        backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    kwargs = failed.value.to_fail_kwargs()
    assert kwargs['rc'] == 5 and kwargs['cmd'][5] == 'lvcreate'
    assert 'Insufficient free space' in kwargs['msg'] and 'Insufficient' in kwargs['stderr']


def test_resize_block_lun(backend, commands):
    backend.create_lun('labvg/pool', 'lio_a', 64 * MIB, 'linux')
    lun = backend.resize_lun('labvg/pool', 'lio_a', 128 * MIB)
    assert LVM + ['lvextend', '--size', '%db' % (128 * MIB), 'labvg/lio_a'] in commands.calls
    assert lun['size'] == 128 * MIB
    with pytest.raises(SanInvalid, match='never shrink'):
        backend.resize_lun('labvg/pool', 'lio_a', 64 * MIB)


def test_delete_lun(backend, commands, lio, tmp_path):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    del commands.calls[:]
    backend.delete_lun('labvg/pool', 'lio_a')
    assert commands.calls == [LVM + ['lvremove', '--yes', 'labvg/lio_a']]  # the VG report is cached until a change
    assert lio.storage_objects == [] and saved(tmp_path)['storage_objects'] == []


def test_delete_mapped_lun_is_refused(backend, lio):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'host1')
    with pytest.raises(SanConflict, match=r'still exported: %s TPG 1 LUN 0 \(ACL %s\)' % (IQN, HOST1)):
        backend.delete_lun('labvg/pool', 'lio_a')
    assert len(lio.storage_objects) == 1


def test_failed_lvremove_exports_the_lun_again(backend, commands, lio):
    lun = backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    commands.fail['lvremove'] = (5, '', '  Logical volume labvg/lio_a in use.\n')
    with pytest.raises(SanError, match='in use'):
        backend.delete_lun('labvg/pool', 'lio_a')
    assert [(so.name, so.wwn) for so in lio.storage_objects] == [('lio_a', lun['serial'])]


def test_fileio_lun(backend, commands, lio, tmp_path):
    lun = backend.create_lun(str(tmp_path), 'lio_f', 10 * MIB + 100, 'linux')
    path = str(tmp_path / 'lio_f')
    assert commands.calls == []
    assert os.path.getsize(path) == 10 * MIB + 512 and os.stat(path).st_blocks == 0
    assert os.getxattr(path, 'user.san.iscsi.os_type') == b'linux'
    assert (lun['path'], lun['size'], lun['volume']) == (path, 10 * MIB + 512, str(tmp_path))
    assert lio.storage_objects[0].plugin == 'fileio' and lio.storage_objects[0].udev_path == path
    with pytest.raises(SanInvalid, match='cannot grow a fileio'):
        backend.resize_lun(str(tmp_path), 'lio_f', 20 * MIB)
    backend.delete_lun(str(tmp_path), 'lio_f')
    assert not os.path.exists(path) and lio.storage_objects == []


def test_list_luns_skips_non_lun_backstores(backend, commands, lio, tmp_path):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_lun(str(tmp_path), 'lio_f', MIB, 'linux')
    _san_lio.rtslib_fb.BlockStorageObject('disk', dev='/dev/sdb')
    # another process's backstores, their udev_path not written yet
    _san_lio.rtslib_fb.FileIOStorageObject('being_made', dev='', size=MIB)
    _san_lio.rtslib_fb.BlockStorageObject('being_made_too', dev='relative')
    assert [lun['path'] for lun in backend.list_luns()] == [str(tmp_path / 'lio_f'), 'labvg/pool/lio_a']
    assert backend.list_snapshots() == []
    assert [lun['name'] for lun in backend.list_luns(volume='labvg/pool')] == ['lio_a']
    assert backend.list_luns(name='nothing') == []
    with pytest.raises(SanNotFound, match='no thin pool nopool'):
        backend.list_luns(volume='labvg/nopool')


# --- snapshots and clones -----------------------------------------------------------------------

def test_block_snapshot_and_clone(backend, commands, lio):
    backend.create_lun('labvg/pool', 'lio_a', 64 * MIB, 'linux')
    del commands.calls[:]
    snapshot = backend.create_snapshot('labvg/pool', 'lio_s', 'lio_a')
    assert LVM + ['lvcreate', '--snapshot', '--name', 'lio_s', '--addtag', 'san.iscsi.snapshot_of=lio_a',
                  'labvg/lio_a'] in commands.calls
    assert snapshot == dict(name='lio_s', volume='labvg/pool', lun='lio_a', create_time='2026-11-21T10:08:47+00:00',
                            clones=[], vserver=None, uuid=None)
    clone = backend.clone_lun('labvg/pool', 'lio_c', dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a'), 'linux')
    assert LVM + ['lvcreate', '--snapshot', '--name', 'lio_c', '--setactivationskip', 'n', '--activate', 'y',
                  '--addtag', 'san.iscsi.clone_of=lio_s/lio_a', '--addtag', 'san.iscsi.os_type=linux',
                  'labvg/lio_s'] in commands.calls
    assert clone['clone_parent'] == dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a')
    assert clone['size'] == 64 * MIB and clone['serial'] != backend.get_lun('labvg/pool', 'lio_a')['serial']
    assert lio.storage_objects[-1].udev_path == '/dev/labvg/lio_c'
    assert backend.get_snapshot('labvg/pool', 'lio_s')['clones'] == ['labvg/pool/lio_c']
    assert [snap['name'] for snap in backend.list_snapshots()] == ['lio_s']
    # the snapshot LV is not a LUN, and is not listed among them
    assert [lun['name'] for lun in backend.list_luns(volume='labvg/pool')] == ['lio_a', 'lio_c']


def test_snapshot_backing_a_clone_is_kept(backend, commands):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_snapshot('labvg/pool', 'lio_s', 'lio_a')
    backend.clone_lun('labvg/pool', 'lio_c', dict(volume='labvg/pool', snapshot='lio_s', lun='lio_a'), 'linux')
    with pytest.raises(SanConflict, match=r'backs LUN clone\(s\) labvg/pool/lio_c'):
        backend.delete_snapshot('labvg/pool', 'lio_s')
    assert 'lio_s' in commands.vgs['labvg']
    backend.delete_lun('labvg/pool', 'lio_c')
    backend.delete_snapshot('labvg/pool', 'lio_s')
    assert commands.calls[-1] == LVM + ['lvremove', '--yes', 'labvg/lio_s']
    assert sorted(commands.vgs['labvg']) == ['lio_a', 'pool']


def test_snapshot_errors_change_nothing(backend, commands):
    commands.add_lun_lv('lio_other')
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    with pytest.raises(SanInvalid, match='lun is required'):
        backend.create_snapshot('labvg/pool', 'lio_s')
    with pytest.raises(SanNotFound, match="LUN 'lio_x' does not exist"):
        backend.create_snapshot('labvg/pool', 'lio_s', 'lio_x')
    with pytest.raises(SanConflict, match='lio_other exists already'):
        backend.create_snapshot('labvg/pool', 'lio_other', 'lio_a')
    assert backend.get_snapshot('labvg/pool', 'lio_other') is None
    source = dict(volume='labvg/pool', snapshot='lio_nosnap', lun='lio_a')
    with pytest.raises(SanNotFound, match="snapshot 'lio_nosnap' does not exist"):
        backend.clone_lun('labvg/pool', 'lio_c', source, 'linux')
    backend.create_snapshot('labvg/pool', 'lio_s', 'lio_a')
    with pytest.raises(SanNotFound, match="holds LUN 'lio_a', not 'lio_b'"):
        backend.clone_lun('labvg/pool', 'lio_c', dict(source, snapshot='lio_s', lun='lio_b'), 'linux')
    with pytest.raises(SanInvalid, match='live in the volume of their snapshot'):
        backend.clone_lun('/srv', 'lio_c', dict(source, snapshot='lio_s'), 'linux')
    assert sorted(commands.vgs['labvg']) == ['lio_a', 'lio_other', 'lio_s', 'pool']


def test_fileio_snapshot_and_clone_by_reflink(backend, commands, lio, tmp_path):
    backend.create_lun(str(tmp_path), 'lio_f', MIB, 'linux')
    with open(str(tmp_path / 'lio_f'), 'r+b') as handle:
        handle.write(b'known data')
    snapshot = backend.create_snapshot(str(tmp_path), 'lio_fs', 'lio_f')
    assert commands.calls == [CP + ['--reflink=always', '--', str(tmp_path / 'lio_f'), str(tmp_path / 'lio_fs')]]
    assert snapshot['lun'] == 'lio_f' and snapshot['create_time'].endswith('+00:00')
    clone = backend.clone_lun(str(tmp_path), 'lio_fc', dict(volume=str(tmp_path), snapshot='lio_fs', lun='lio_f'),
                              'linux')
    assert commands.calls[-1] == CP + ['--reflink=always', '--', str(tmp_path / 'lio_fs'), str(tmp_path / 'lio_fc')]
    assert clone['clone_parent'] == dict(volume=str(tmp_path), snapshot='lio_fs', lun='lio_f')
    assert clone['size'] == MIB and stat.S_IMODE(os.stat(str(tmp_path / 'lio_fc')).st_mode) == 0o600
    with open(str(tmp_path / 'lio_fc'), 'rb') as handle:
        assert handle.read(10) == b'known data'
    assert backend.get_snapshot(str(tmp_path), 'lio_fs')['clones'] == [str(tmp_path / 'lio_fc')]
    assert [lun['name'] for lun in backend.list_luns(volume=str(tmp_path))] == ['lio_f', 'lio_fc']


def test_reflink_unsupported_is_a_clear_error(backend, commands, tmp_path):
    backend.create_lun(str(tmp_path), 'lio_f', MIB, 'linux')
    commands.reflink_error = "cp: failed to clone '%s' from '%s': Operation not supported\n" % (
        tmp_path / 'lio_fs', tmp_path / 'lio_f')
    with pytest.raises(SanInvalid, match='does not support reflinks') as failed:
        backend.create_snapshot(str(tmp_path), 'lio_fs', 'lio_f')
    assert failed.value.details['rc'] == 1
    assert sorted(os.listdir(str(tmp_path))) == ['etc', 'lio_f', 'lock']


# --- igroups ------------------------------------------------------------------------------------

def test_create_igroup_creates_the_target_with_the_given_portals(backend, lio, tmp_path):
    igroup = backend.create_igroup('host1', 'iscsi', 'linux', [HOST1.upper().replace('IQN', 'iqn')])
    assert igroup == dict(name='host1', protocol='iscsi', os_type='linux', initiators=[HOST1], maps=[],
                          vserver=None, uuid=None)
    tpg = lio.targets[IQN].tpg_map[1]
    assert [(p.ip_address, p.port) for p in tpg.portals] == [('10.10.1.1', 3260), ('[fd5a:1::1]', 3261)]
    assert tpg.enable is True
    assert tpg.attributes == {'authentication': '0', 'generate_node_acls': '0'}
    assert [acl.tag for acl in tpg.node_acls] == ['host1']
    assert saved(tmp_path)['targets'][0]['wwn'] == IQN


def test_failed_portal_removes_the_new_target(make_backend, lio, monkeypatch):
    backend = make_backend()
    monkeypatch.setattr(backend, 'portals', [('fd5a:1::1', 3260)])  # what rtslib refuses
    with pytest.raises(Exception, match='NetworkPortal'):
        backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    assert lio.targets == {}


def test_existing_target_is_used_as_it_is(backend, lio):
    rts = _san_lio.rtslib_fb
    target = rts.Target(rts.FabricModule('iscsi'), IQN, mode='create')
    tpg = rts.TPG(target, 1, mode='create')
    rts.NetworkPortal(tpg, '10.10.2.1', 3260)
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    assert [(p.ip_address, p.port) for p in tpg.portals] == [('10.10.2.1', 3260)]
    assert tpg.attributes['authentication'] == '0'


def test_chap_on_another_acl_keeps_authentication_on_without_acl_attributes(backend, lio):
    lio.acl_authentication = False  # a kernel before 5.16: the TPG's attribute only
    rts = _san_lio.rtslib_fb
    tpg = rts.TPG(rts.Target(rts.FabricModule('iscsi'), IQN, mode='create'), 1, mode='create')
    acl = rts.NodeACL(tpg, 'iqn.2026-11.lab.san-iscsi:chap')
    acl.chap_userid = 'user'
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    assert tpg.attributes['authentication'] == '1'
    acl.delete()
    backend.add_initiators('host1', [HOST2])
    assert tpg.attributes['authentication'] == '0'


def test_chap_on_another_acl_leaves_the_others_without_authentication(backend, lio):
    rts = _san_lio.rtslib_fb
    tpg = rts.TPG(rts.Target(rts.FabricModule('iscsi'), IQN, mode='create'), 1, mode='create')
    other = rts.NodeACL(tpg, 'iqn.2026-11.lab.san-iscsi:chap')
    other.chap_userid, other.chap_password = 'user', 'secret-of-twelve'
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    assert tpg.attributes['authentication'] == '0'
    assert other.authenticates()
    assert not tpg.acl_map[HOST1].authenticates()


# --- CHAP ---------------------------------------------------------------------------------------

def test_set_chap_makes_only_that_initiator_authenticate(backend, lio, tmp_path):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1, HOST2])
    chap = backend.set_chap(HOST1, 'host1-user', 'host1-secret-0001', 'target-user', 'target-secret-01')
    assert chap == dict(initiator=HOST1, method='chap', user='host1-user', mutual_user='target-user', vserver=None)
    acls = lio.targets[IQN].tpg_map[1].acl_map
    assert (acls[HOST1].chap_userid, acls[HOST1].chap_password) == ('host1-user', 'host1-secret-0001')
    assert (acls[HOST1].chap_mutual_userid, acls[HOST1].chap_mutual_password) == ('target-user', 'target-secret-01')
    assert acls[HOST1].authenticates() and not acls[HOST2].authenticates()
    assert backend.get_chap(HOST1.upper().replace('IQN', 'iqn')) == chap
    assert backend.get_chap(HOST2) is None
    assert 'host1-secret-0001' in json.dumps(saved(tmp_path))  # the saved file restores it at boot
    assert stat.S_IMODE(os.stat(str(tmp_path / 'etc' / 'saveconfig.json')).st_mode) == 0o600  # for root only


def test_set_chap_without_mutual_user_removes_mutual_chap(backend, lio):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.set_chap(HOST1, 'u1', 'host1-secret-0001', 'target-user', 'target-secret-01')
    chap = backend.set_chap(HOST1, 'u2', 'host1-secret-0002')
    acl = lio.targets[IQN].tpg_map[1].acl_map[HOST1]
    assert chap['mutual_user'] is None and chap['user'] == 'u2'
    assert (acl.chap_mutual_userid, acl.chap_mutual_password) == ('', '')


def test_chap_secrets_match_compares_both_secrets(backend):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.set_chap(HOST1, 'u1', 'host1-secret-0001', 'target-user', 'target-secret-01')
    assert backend.chap_secrets_match(HOST1, 'host1-secret-0001', 'target-secret-01') is True
    assert backend.chap_secrets_match(HOST1, 'host1-secret-0001') is False
    assert backend.chap_secrets_match(HOST1, 'host1-secret-0002', 'target-secret-01') is False
    assert backend.chap_secrets_match(HOST2, 'host1-secret-0001', 'target-secret-01') is False


def test_delete_chap_lets_the_initiator_in_without_it(backend, lio):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.set_chap(HOST1, 'u1', 'host1-secret-0001', 'target-user', 'target-secret-01')
    backend.delete_chap(HOST1)
    acl = lio.targets[IQN].tpg_map[1].acl_map[HOST1]
    assert (acl.chap_userid, acl.chap_password, acl.chap_mutual_userid) == ('', '', '')
    assert not acl.authenticates()
    assert backend.get_chap(HOST1) is None
    with pytest.raises(SanNotFound, match='no CHAP'):
        backend.delete_chap(HOST1)


@pytest.mark.parametrize('args', [('', 'host1-secret-0001'), ('u1', ''), ('u1', 'host1-secret-0001', 'tgt', None)])
def test_set_chap_with_incomplete_input_changes_nothing(backend, lio, args):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    with pytest.raises(SanInvalid, match='needs'):
        backend.set_chap(HOST1, *args)
    assert lio.targets[IQN].tpg_map[1].acl_map[HOST1].chap_userid == ''


def test_chap_needs_the_initiator_in_an_igroup(backend):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    with pytest.raises(SanNotFound, match='in no igroup') as failed:
        backend.set_chap(HOST2, 'u2', 'host2-secret-0001')
    assert failed.value.code == 'initiator_not_found'
    assert backend.get_chap(HOST2) is None


def test_chap_goes_with_the_initiator_removed_from_its_igroup(backend, lio):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1, HOST2])
    backend.set_chap(HOST2, 'u2', 'host2-secret-0001')
    backend.remove_initiators('host1', [HOST2])
    backend.add_initiators('host1', [HOST2])
    assert backend.get_chap(HOST2) is None
    assert not lio.targets[IQN].tpg_map[1].acl_map[HOST2].authenticates()


def test_chap_on_an_old_kernel_turns_the_portal_groups_authentication_on(backend, lio):
    lio.acl_authentication = False
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.set_chap(HOST1, 'u1', 'host1-secret-0001')
    tpg = lio.targets[IQN].tpg_map[1]
    assert tpg.attributes['authentication'] == '1' and tpg.acl_map[HOST1].authenticates()
    backend.delete_chap(HOST1)
    assert tpg.attributes['authentication'] == '0'


@pytest.mark.parametrize('args, message', [
    (('host1', 'fcp', 'linux', [HOST1]), 'iscsi only'),
    (('host1', 'iscsi', 'windows', [HOST1]), 'no os_type'),
    (('host1', 'iscsi', 'linux', []), 'cannot be empty'),
    (('bad name', 'iscsi', 'linux', [HOST1]), 'not valid'),
    (('NULL', 'iscsi', 'linux', [HOST1]), 'not valid'),
    (('host1', 'iscsi', 'linux', ['host1']), 'initiator name'),
])
def test_create_igroup_refuses_bad_input(backend, lio, args, message):
    with pytest.raises(SanInvalid, match=message):
        backend.create_igroup(*args)
    assert lio.targets == {}


def test_initiators_of_other_acls_are_not_taken(backend, lio):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    with pytest.raises(SanConflict, match=r'%s \(igroup host1\)' % HOST1):
        backend.create_igroup('other', 'iscsi', 'linux', [HOST2, HOST1.upper().replace('IQN', 'iqn')])
    assert backend.get_igroup('other') is None
    assert sorted(lio.targets[IQN].tpg_map[1].acl_map) == [HOST1]
    with pytest.raises(SanConflict, match='exists already'):
        backend.create_igroup('host1', 'iscsi', 'linux', [HOST2])


def test_added_initiators_get_the_igroup_maps(backend, lio):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_lun('labvg/pool', 'lio_b', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'hosts', 5)
    backend.create_lun_map('labvg/pool/lio_b', 'hosts')
    igroup = backend.add_initiators('hosts', [HOST2])
    assert igroup['initiators'] == [HOST1, HOST2]
    assert igroup['maps'] == [dict(path='labvg/pool/lio_b', lun_id=0), dict(path='labvg/pool/lio_a', lun_id=5)]
    acl2 = lio.targets[IQN].tpg_map[1].acl_map[HOST2]
    assert [(m.mapped_lun, m.tpg_lun.storage_object.name) for m in acl2.mapped_luns] == [(0, 'lio_b'), (5, 'lio_a')]
    assert [acl['tag'] for acl in lio.targets[IQN].dump()['tpgs'][0]['node_acls']] == ['hosts', 'hosts']


def test_remove_initiators_never_empties_an_igroup(backend):
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1, HOST2])
    assert backend.remove_initiators('hosts', [HOST2])['initiators'] == [HOST1]
    with pytest.raises(SanInvalid, match='cannot be empty'):
        backend.remove_initiators('hosts', [HOST1])
    assert backend.get_igroup('hosts')['initiators'] == [HOST1]


def test_remove_initiators_of_a_mapped_igroup_needs_force(backend, lio):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1, HOST2])
    backend.create_lun_map('labvg/pool/lio_a', 'hosts', 2)
    with pytest.raises(SanConflict, match=r"remove initiator\(s\) %s from igroup 'hosts': it is mapped to "
                                          r"labvg/pool/lio_a \(LUN 2\)" % HOST2):
        backend.remove_initiators('hosts', [HOST2])
    assert sorted(lio.targets[IQN].tpg_map[1].acl_map) == [HOST1, HOST2]
    assert backend.remove_initiators('hosts', [HOST2], force=True)['maps'] == [dict(path='labvg/pool/lio_a', lun_id=2)]
    assert sorted(lio.targets[IQN].tpg_map[1].acl_map) == [HOST1]


def test_delete_igroup(backend, lio):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1, HOST2])
    backend.create_lun_map('labvg/pool/lio_a', 'hosts')
    with pytest.raises(SanConflict, match='mapped to labvg/pool/lio_a'):
        backend.delete_igroup('hosts')
    backend.delete_igroup('hosts', force=True)
    tpg = lio.targets[IQN].tpg_map[1]
    assert tpg.acl_map == {} and tpg.lun_map == {}
    with pytest.raises(SanNotFound):
        backend.delete_igroup('hosts')


def test_igroups_ignore_untagged_acls(backend, lio):
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    rts = _san_lio.rtslib_fb
    rts.NodeACL(lio.targets[IQN].tpg_map[1], HOST2)
    assert [group['name'] for group in backend.list_igroups()] == ['host1']
    with pytest.raises(SanConflict, match='an untagged ACL'):
        backend.add_initiators('host1', [HOST2])


# --- maps ---------------------------------------------------------------------------------------

def test_map_unmap(backend, lio, tmp_path):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1, HOST2])
    assert backend.get_lun_map('labvg/pool/lio_a', 'hosts') is None
    created = backend.create_lun_map('labvg/pool/lio_a', 'hosts', 7)
    assert created == dict(igroup='hosts', path='labvg/pool/lio_a', lun_id=7, vserver=None)
    assert backend.get_lun_map('labvg/pool/lio_a', 'hosts') == created
    assert backend.list_lun_maps() == [created]
    assert backend.list_lun_maps(igroup='hosts', path='labvg/pool/other') == []
    tpg = lio.targets[IQN].tpg_map[1]
    assert [lun.storage_object.name for lun in tpg.luns] == ['lio_a']
    assert saved(tmp_path)['targets'][0]['tpgs'][0]['node_acls'][0]['mapped_luns'] == [[7, 0]]
    backend.delete_lun_map('labvg/pool/lio_a', 'hosts')
    assert backend.get_lun_map('labvg/pool/lio_a', 'hosts') is None
    assert tpg.lun_map == {}
    assert backend.get_lun('labvg/pool', 'lio_a')['maps'] == []


def test_lowest_free_id_and_conflicts(backend):
    for name in ('lio_a', 'lio_b', 'lio_c'):
        backend.create_lun('labvg/pool', name, MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'hosts', 0)
    backend.create_lun_map('labvg/pool/lio_b', 'hosts', 2)
    assert backend.create_lun_map('labvg/pool/lio_c', 'hosts')['lun_id'] == 1
    backend.delete_lun_map('labvg/pool/lio_c', 'hosts')
    with pytest.raises(SanConflict, match='LUN id 2 is already used in igroup .hosts. by labvg/pool/lio_b'):
        backend.create_lun_map('labvg/pool/lio_c', 'hosts', 2)
    with pytest.raises(SanInvalid, match='out of range 0-255'):
        backend.create_lun_map('labvg/pool/lio_c', 'hosts', 256)
    with pytest.raises(SanNotFound, match='igroup .nogroup. does not exist'):
        backend.create_lun_map('labvg/pool/lio_c', 'nogroup')
    with pytest.raises(SanNotFound, match='LUN labvg/pool/lio_x does not exist'):
        backend.create_lun_map('labvg/pool/lio_x', 'hosts')
    assert backend.get_lun_map('labvg/pool/lio_x', 'hosts') is None
    assert [m['path'] for m in backend.list_lun_maps(igroup='hosts')] == ['labvg/pool/lio_a', 'labvg/pool/lio_b']


def test_partial_map_is_completed_under_one_id(backend, lio):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1, HOST2])
    backend.create_lun_map('labvg/pool/lio_a', 'hosts', 4)
    tpg = lio.targets[IQN].tpg_map[1]
    tpg.acl_map[HOST2].mlun_map[4].delete()  # a hand edit left one ACL without the map
    assert backend.get_lun_map('labvg/pool/lio_a', 'hosts') is None
    assert backend.create_lun_map('labvg/pool/lio_a', 'hosts')['lun_id'] == 4
    assert [sorted(acl.mlun_map) for acl in tpg.node_acls] == [[4], [4]]


# --- saving -------------------------------------------------------------------------------------

def test_save_config_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = str(tmp_path / 'saveconfig.json')
    with open(path, 'w') as handle:
        handle.write('{"old": true}\n')
    renames = []
    real_rename = os.rename
    monkeypatch.setattr(_san_lio.os, 'rename', lambda src, dst: renames.append((src, dst)) or real_rename(src, dst))
    _san_lio.save_config({'targets': []}, path)
    assert renames and renames[0][1] == path and os.path.dirname(renames[0][0]) == str(tmp_path)
    with open(path) as handle:
        assert json.load(handle) == {'targets': []}
    assert os.listdir(str(tmp_path)) == ['saveconfig.json']


def test_save_config_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'saveconfig.json')
    with open(path, 'w') as handle:
        handle.write('{"old": true}\n')

    def broken_fsync(fd):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(_san_lio.os, 'fsync', broken_fsync)
    with pytest.raises(OSError):
        _san_lio.save_config({'targets': []}, path)
    with open(path) as handle:
        assert json.load(handle) == {'old': True}
    assert os.listdir(str(tmp_path)) == ['saveconfig.json']


def test_unsaveable_config_is_reported(make_backend, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text(u'x')
    backend = make_backend(save_file=str(blocker / 'saveconfig.json'))
    with pytest.raises(SanError, match='could not be saved to'):
        backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')


def test_missing_rtslib_fails_with_install_hint(monkeypatch, commands):
    monkeypatch.setattr(_san_lio, 'rtslib_fb', None)
    module = FakeModule(dict(provider='lio', target=None, tpg=1, portals=None, save_file=None), commands)
    with pytest.raises(AssertionError, match='rtslib-fb.*python3-rtslib-fb'):
        _san_lio.LioBackend(module)


def test_a_new_backstore_never_gets_its_index_from_a_stale_rtslib_cache(backend, commands, lio, monkeypatch):
    # rtslib's per-process cache of backstore indexes, filled before another process made iblock_0/lio_other
    stale = {'iblock_1/lio_old': 1}
    monkeypatch.setattr(_san_lio.rtslib_fb, 'tcm', Namespace.__new__(Namespace), raising=False)
    _san_lio.rtslib_fb.tcm.bs_cache = stale
    created_with = []
    block = _san_lio.rtslib_fb.BlockStorageObject

    def recording(name, **kwargs):
        created_with.append(dict(stale))
        return block(name, **kwargs)
    monkeypatch.setattr(_san_lio.rtslib_fb, 'BlockStorageObject', recording)
    backend.create_lun('labvg/pool', 'lio_a', 10 * MIB, 'linux')
    assert created_with == [{}]  # emptied, so rtslib reads configfs again before it picks an index


def test_a_change_waits_a_bounded_time_for_the_lio_lock_and_names_its_holder(backend, tmp_path, monkeypatch):
    monkeypatch.setattr(_host_lock, 'HOST_LOCK_WAIT', 0.2)
    monkeypatch.setattr(_host_lock, '_LOCKS', {})
    path = tmp_path / 'lock' / _san_lio.LOCK_NAME
    with open(str(path), 'w') as other:  # another process (a lab helper, another run) holds it
        other.write('pid 4242: export a LUN (since 2026-12-02 12:00:00)\n')
        other.flush()
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(SanError) as failed:
            backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    assert failed.value.code == 'host_lock_timeout'
    assert failed.value.message.endswith('held by pid 4242: export a LUN (since 2026-12-02 12:00:00)')
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    assert backend.get_igroup('host1') is not None


class BrokenMappedLUN(object):
    """A mapped LUN another process is deleting: configfs still lists it, its link to the TPG LUN is gone."""

    def __init__(self, mapped_lun):
        self.mapped_lun = mapped_lun

    @property
    def tpg_lun(self):
        raise RTSLibError('Broken LUN in configFS, no storage object')


def test_a_mapped_lun_being_deleted_by_another_process_is_read_as_gone(backend, lio):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'hosts', 0)
    lio.targets[IQN].tpg_map[1].acl_map[HOST1].mlun_map[3] = BrokenMappedLUN(3)
    assert backend.get_lun_map('labvg/pool/lio_a', 'hosts')['lun_id'] == 0
    assert backend.get_igroup('hosts')['maps'] == [dict(path='labvg/pool/lio_a', lun_id=0)]


def test_a_new_map_is_read_back_while_the_lio_lock_is_still_held(backend, lio, tmp_path, monkeypatch):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('hosts', 'iscsi', 'linux', [HOST1])
    lock = _host_lock.host_lock(str(tmp_path / 'lock' / _san_lio.LOCK_NAME))
    read_back = backend.get_lun_map
    held = []
    monkeypatch.setattr(backend, 'get_lun_map', lambda path, igroup: held.append(lock._depth) or read_back(path, igroup))
    assert backend.create_lun_map('labvg/pool/lio_a', 'hosts')['lun_id'] == 0
    assert held[-1] > 0  # another run's teardown cannot change the ACL between the map and its read-back


# --- one save per batch -------------------------------------------------------------------------

def count_saves(monkeypatch):
    """Counts the configuration saves (each dumps the whole configuration and writes the file)."""
    saves = []
    real = _san_lio.save_config

    def counting(config, path):
        saves.append(sorted(so['name'] for so in config['storage_objects']))
        return real(config, path)
    monkeypatch.setattr(_san_lio, 'save_config', counting)
    return saves


def test_every_change_saves_outside_a_batch(backend, monkeypatch):
    saves = count_saves(monkeypatch)
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'host1', 0)
    assert len(saves) == 3


def test_a_batch_saves_once_at_its_end(backend, monkeypatch, tmp_path):
    saves = count_saves(monkeypatch)
    with backend.changes_saved_once():
        backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
        backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
        with backend.changes_saved_once():  # nested: still the outer batch's one save
            backend.create_lun_map('labvg/pool/lio_a', 'host1', 0)
        assert saves == []
    assert saves == [['lio_a']]
    assert saved(tmp_path)['targets'][0]['tpgs'][0]['node_acls'][0]['mapped_luns'] == [[0, 0]]


def test_a_batch_without_changes_saves_nothing(backend, monkeypatch):
    saves = count_saves(monkeypatch)
    with backend.changes_saved_once():
        assert backend.get_lun('labvg/pool', 'lio_a') is None
    assert saves == []


def test_a_failed_batch_saves_what_it_changed_and_raises_its_own_error(backend, monkeypatch, tmp_path):
    saves = count_saves(monkeypatch)
    with pytest.raises(SanConflict):
        with backend.changes_saved_once():
            backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
            backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')  # refused: the name is taken
    assert saves == [['lio_a']]
    assert [so['name'] for so in saved(tmp_path)['storage_objects']] == ['lio_a']


# --- reading while other processes change the configuration ---------------------------------------

def flaky_listing(acl, failures):
    """Make ACL's mapped-LUN listing fail FAILURES times as rtslib's generator does when another process
    deletes one of them between listing the directory and looking it up."""
    real = type(acl).mapped_luns
    calls = {'n': 0}

    def listing(self):
        if self is acl and calls['n'] < failures:
            calls['n'] += 1
            raise RTSLibNotInCFS('No such MappedLUN in configfs')
        return real.fget(self)
    return listing, calls


def test_a_lun_keeps_its_maps_while_another_run_changes_the_shared_acl(backend, lio, monkeypatch):
    """Three restores on one host share its ACL: one deleting its mapped LUN while another reads the maps of
    its own LUN must not make that LUN look unmapped (a forced delete would then skip the unmap)."""
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'host1', 3)
    acl = lio.targets[IQN].tpg_map[1].acl_map[HOST1]
    listing, calls = flaky_listing(acl, 2)
    monkeypatch.setattr(type(acl), 'mapped_luns', property(listing))
    assert backend.get_lun('labvg/pool', 'lio_a')['maps'] == [{'igroup': 'host1', 'lun_id': 3}]
    assert calls['n'] == 2


def test_an_acl_that_keeps_changing_is_an_error_not_an_empty_answer(backend, lio, monkeypatch):
    backend.create_lun('labvg/pool', 'lio_a', MIB, 'linux')
    backend.create_igroup('host1', 'iscsi', 'linux', [HOST1])
    backend.create_lun_map('labvg/pool/lio_a', 'host1', 3)
    acl = lio.targets[IQN].tpg_map[1].acl_map[HOST1]
    listing, _calls = flaky_listing(acl, _san_lio.ACL_LISTING_ATTEMPTS)
    monkeypatch.setattr(type(acl), 'mapped_luns', property(listing))
    with pytest.raises(SanConflict, match='changed on each of 5 reads'):
        backend.get_lun('labvg/pool', 'lio_a')
