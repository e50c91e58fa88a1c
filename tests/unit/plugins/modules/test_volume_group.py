# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""volume_group against a fake host whose LVM keeps state: every command the module runs changes what the
next report says, so a second run shows whether the first one reached the state it was asked for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
import os

import pytest

from ansible_collections.san.iscsi.plugins.modules import volume_group
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed, route_commands
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_blockdev import FakeSys

VG_UUID = 'zE1b0X-3tQx-9vKc-Lm2P-aaaa-bbbb-cccc01'
OTHER_UUID = 'Qq7x1Y-0000-1111-2222-3333-4444-555502'
PV1 = 'Yk2bcd-7Ufp-OxRp-3OQ6-jqmZ-CQhG-5FGl01'
PV2 = 'Yk2bcd-7Ufp-OxRp-3OQ6-jqmZ-CQhG-5FGl02'
WWID1 = 'naa.6001405a1b2c3d4e5f60718293a4b5c6'
WWID2 = 'naa.6001405b1b2c3d4e5f60718293a4b5c7'


def report(kind, rows):
    return json.dumps({'report': [{kind: rows}]}) + '\n'


class FakeLvm(object):
    """VGs with PVs and LVs; vgs/pvs/lvs report them as lvm2 does (JSON, --foreign, --select vg_uuid=)."""

    def __init__(self, world):
        self.world = world
        self.system_id = ''
        self.use_devices_file = False
        self.devices_file_pvids = set()
        self.vgs = []
        self.foreign = False

    def add_vg(self, name, uuid, pvs, lvs, exported=False, system_id='', missing=()):
        vg = {'name': name, 'uuid': uuid, 'exported': exported, 'system_id': system_id,
              'pvs': [dict(pv, missing=pv['uuid'] in missing) for pv in pvs],
              'lvs': [dict(lv, active=False) for lv in lvs]}
        self.vgs.append(vg)
        return vg

    # --- what the host sees ---------------------------------------------------------------------------

    def visible(self, vg, devicesfile):
        if vg['system_id'] and vg['system_id'] != self.system_id and not vg['exported'] and not self.foreign:
            return False
        if self.use_devices_file and devicesfile is None:
            return any(pv['uuid'].replace('-', '') in self.devices_file_pvids for pv in vg['pvs'])
        return True

    def vg_row(self, vg):
        attr = 'wz%s-n-' % ('x' if vg['exported'] else '-')
        if any(pv['missing'] for pv in vg['pvs']):
            attr = attr[:3] + 'p' + attr[4:]
        return {'vg_name': vg['name'], 'vg_uuid': vg['uuid'], 'vg_attr': attr, 'vg_systemid': vg['system_id'],
                'vg_missing_pv_count': str(sum(pv['missing'] for pv in vg['pvs'])),
                'pv_count': str(len(vg['pvs'])), 'lv_count': str(len(vg['lvs'])),
                'vg_size': '268435456', 'vg_free': '8388608'}

    def pv_row(self, vg, pv):
        return {'pv_name': '[unknown]' if pv['missing'] else pv['path'], 'pv_uuid': pv['uuid'],
                'vg_name': vg['name'], 'vg_uuid': vg['uuid'], 'pv_missing': 'missing' if pv['missing'] else '',
                'pv_size': '134217728'}

    def lv_row(self, vg, lv):
        attr = '-wi-%s%s-----' % ('a' if lv['active'] else '-', 'o' if lv.get('open') and lv['active'] else '-')
        return {'lv_name': lv['name'], 'vg_name': vg['name'], 'lv_uuid': 'lv-' + lv['name'], 'lv_attr': attr,
                'segtype': 'linear', 'lv_path': '/dev/%s/%s' % (vg['name'], lv['name']),
                'lv_dm_path': self.world.mapper('%s-%s' % (vg['name'], lv['name'])) if lv['active'] else '',
                'lv_active': 'active' if lv['active'] else '', 'lv_size': '67108864'}

    # --- commands ---------------------------------------------------------------------------------------

    def __call__(self, tail):
        command, args = tail[1], tail[2:]
        opts = self.options(args)
        handler = getattr(self, 'do_' + command)
        return handler(args, opts)

    @staticmethod
    def options(args):
        opts, names, index = {}, [], 0
        while index < len(args):
            arg = args[index]
            if arg in ('--reportformat', '--units', '-o', '--select', '--devicesfile', '--file', '--activate',
                       '--systemid', '--typeconfig', '--adddev', '--delpvid', '--deldev', '--configreport'):
                opts[arg] = args[index + 1]
                index += 2
                continue
            if arg.startswith('-'):
                opts[arg] = True
            else:
                names.append(arg)
            index += 1
        opts['names'] = names
        return opts

    def selected(self, opts):
        self.foreign = '--foreign' in opts
        found = [vg for vg in self.vgs if self.visible(vg, opts.get('--devicesfile'))]
        if '--select' in opts:
            uuid = opts['--select'].split('=', 1)[1]
            found = [vg for vg in found if vg['uuid'] == uuid]
        elif opts['names']:
            found = [vg for vg in found if vg['name'] in opts['names']]
        return found

    def by_name(self, name):
        matches = [vg for vg in self.vgs if vg['name'] == name]
        assert len(matches) == 1, 'LVM would refuse an ambiguous or unknown name %s' % name
        return matches[0]

    def do_systemid(self, args, opts):
        return 0, '  system ID: %s\n' % self.system_id, ''

    def do_lvmconfig(self, args, opts):
        # a host with a system ID in the fake gets it from uname; one without has system_id_source "none"
        values = {'global/system_id_source': 'system_id_source="%s"' % ('uname' if self.system_id else 'none'),
                  'devices/use_devicesfile': 'use_devicesfile=%d' % self.use_devices_file,
                  'devices/devicesfile': 'devicesfile="system.devices"'}
        return 0, ''.join(values[key] + '\n' for key in opts['names']), ''

    def do_vgs(self, args, opts):
        found = self.selected(opts)
        rc = 5 if opts['names'] and not found else 0
        return rc, report('vg', [self.vg_row(vg) for vg in found]), ''

    def do_pvs(self, args, opts):
        return 0, report('pv', [self.pv_row(vg, pv) for vg in self.selected(opts) for pv in vg['pvs']]), ''

    def do_lvs(self, args, opts):
        # as lvm2 does: a segment field among the fields makes a row per segment; an exported VG's LVs
        # are not listed
        per_segment = 'segtype' in opts['-o'].split(',')
        return 0, report('lv', [self.lv_row(vg, lv) for vg in self.selected(opts) if not vg['exported']
                                for lv in vg['lvs']
                                for _segment in range(lv.get('segments', 1) if per_segment else 1)]), ''

    def do_fullreport(self, args, opts):
        # as lvm2 2.03.16 does: one report per VG with all five sections, the LVs of an exported VG listed
        # (inactive), rc 5 when a VG named is not found, the report of those found printed all the same
        sections = [args[index + 1] for index, arg in enumerate(args) if arg == '--configreport']
        assert sections == ['vg', 'pv', 'lv', 'pvseg', 'seg'], sections
        assert '--select' not in opts, 'fullreport is asked by VG name'
        found = self.selected(opts)
        entries = [{'vg': [self.vg_row(vg)], 'pv': [self.pv_row(vg, pv) for pv in vg['pvs']],
                    'lv': [self.lv_row(vg, lv) for lv in vg['lvs']], 'pvseg': [], 'seg': []} for vg in found]
        rc = 5 if set(opts['names']) - set(vg['name'] for vg in found) else 0
        return rc, json.dumps({'report': entries}) + '\n', ''

    def do_vgchange(self, args, opts):
        vg = self.by_name(opts['names'][0])
        assert not vg['exported']
        for lv in vg['lvs']:
            if opts['--activate'] == 'n':
                assert not lv.get('open'), 'LVM refuses to deactivate an open LV'
            lv['active'] = opts['--activate'] == 'y'
            self.world.set_lv_device(vg, lv)
        return 0, '', ''

    def do_vgexport(self, args, opts):
        vg = self.by_name(opts['names'][0])
        assert not any(lv['active'] for lv in vg['lvs'])
        vg.update(exported=True, system_id='')
        return 0, '', ''

    def do_vgimport(self, args, opts):
        uuid = opts['--select'].split('=', 1)[1]
        vg = [vg for vg in self.vgs if vg['uuid'] == uuid][0]
        vg.update(exported=False, system_id=self.system_id)
        return 0, '', ''

    def do_vgrename(self, args, opts):
        vg = [vg for vg in self.vgs if vg['uuid'] == opts['names'][0]][0]
        vg['name'] = opts['names'][1]
        return 0, '', ''

    def do_vgcfgbackup(self, args, opts):
        with open(opts['--file'], 'w') as handle:
            handle.write('%s {\n}\n' % opts['names'][0])
        return 0, '', ''

    def do_lvmdevices(self, args, opts):
        if '--adddev' in opts:
            pv = [pv for vg in self.vgs for pv in vg['pvs'] if pv['path'] == opts['--adddev']][0]
            self.devices_file_pvids.add(pv['uuid'].replace('-', ''))
        else:
            self.devices_file_pvids.discard(opts['--delpvid'])
        self.world.write_devices_file(self.devices_file_pvids)
        return 0, '', ''


class World(object):
    """A fake host: sysfs with two LUN disks, mountinfo, /proc/swaps, LVM's devices directory, an LVM."""

    def __init__(self, tmpdir, monkeypatch):
        self.sysfs = FakeSys(tmpdir)
        self.mountinfo = str(tmpdir.join('mountinfo'))
        self.proc = str(tmpdir.join('proc').ensure(dir=True))
        self.devices_dir = str(tmpdir.join('lvm-devices').ensure(dir=True))
        self.tmp = str(tmpdir)
        with open(self.mountinfo, 'w') as handle:
            handle.write('27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n')
        with open(os.path.join(self.proc, 'swaps'), 'w') as handle:
            handle.write('Filename\tType\tSize\tUsed\tPriority\n')
        self.paths = HostPaths(sysfs=self.sysfs.sys, dev=self.sysfs.dev, proc=self.proc, mountinfo=self.mountinfo,
                               lvm_devices_dir=self.devices_dir)
        for name, majmin, wwid in (('sdb', '8:16', WWID1), ('sdc', '8:32', WWID2), ('sdd', '8:48', None)):
            self.sysfs.add(name, majmin)
            if wwid:
                self.sysfs.write(os.path.join(self.sysfs.sys, 'class', 'block', name, 'device', 'wwid'), wwid + '\n')
        self.lvm = FakeLvm(self)
        self.commands = []
        self.next_minor = 0
        self.dm_tables = {}  # map name -> `dmsetup table` output
        route_commands(monkeypatch, self._run_command)

    def dev(self, name):
        return os.path.join(self.sysfs.dev, name)

    def mapper(self, name):
        return os.path.join(self.sysfs.dev, 'mapper', name)

    def set_lv_device(self, vg, lv):
        """An activated LV gets a dm device (kept after deactivation: the fake LVM reports it inactive)."""
        if lv['active'] and 'dm' not in lv:
            lv['dm'] = 'dm-%d' % self.next_minor
            lv['majmin'] = '254:%d' % (self.next_minor + 10)
            self.next_minor += 1
            self.sysfs.add(lv['dm'], lv['majmin'], dm_name='%s-%s' % (vg['name'], lv['name']),
                           dm_uuid='LVM-%s' % lv['name'])

    def mount(self, vg, lv, target):
        with open(self.mountinfo, 'a') as handle:
            handle.write('%d 27 %s / %s rw - ext4 /dev/mapper/%s-%s rw\n'
                         % (100 + self.next_minor, lv['majmin'], target, vg['name'], lv['name']))

    def mounted(self):
        with open(self.mountinfo) as handle:
            return [line.split()[4] for line in handle]

    def write_devices_file(self, pvids):
        with open(os.path.join(self.devices_dir, 'system.devices'), 'w') as handle:
            handle.write('VERSION=1.1.1\n')
            for pvid in sorted(pvids):
                handle.write('IDTYPE=sys_wwid IDNAME=x DEVNAME=/dev/x PVID=%s\n' % pvid)

    def _run_command(self, argv, environ_update=None, **kwargs):
        assert environ_update['LC_ALL'] == 'C'
        assert argv[0] == '/usr/bin/timeout' and argv[1:3] == ['-k', '5'] and argv[3].isdigit()
        tail = [os.path.basename(argv[4])] + argv[5:]
        self.commands.append(tail)
        if tail[0] == 'lvm':
            return self.lvm(tail)
        if tail[:2] == ['dmsetup', 'table'] and tail[2] in self.dm_tables:
            return 0, self.dm_tables[tail[2]], ''
        if tail[0] == 'umount':
            with open(self.mountinfo) as handle:
                lines = [line for line in handle if line.split()[4] != tail[-1]]
            with open(self.mountinfo, 'w') as handle:
                handle.writelines(lines)
            return 0, '', ''
        raise AssertionError('unexpected command: %r' % (tail,))

    def changes(self):
        """The commands run that change something (reports and reads left out)."""
        reads = ('vgs', 'pvs', 'lvs', 'fullreport', 'systemid', 'lvmconfig')
        return [tail for tail in self.commands
                if not (tail[0] == 'lvm' and tail[1] in reads) and tail[:2] != ['dmsetup', 'table']]


@pytest.fixture
def world(tmpdir, monkeypatch):
    return World(tmpdir, monkeypatch)


@pytest.fixture
def run_module(run_module, world):
    return functools.partial(run_module, paths=world.paths)


def two_lun_vg(world, name='datavg', uuid=VG_UUID, **kwargs):
    return world.lvm.add_vg(name, uuid, [{'path': world.dev('sdb'), 'uuid': PV1}, {'path': world.dev('sdc'), 'uuid': PV2}],
                            [{'name': 'xfs', 'segments': 2}, {'name': 'ext4'}], **kwargs)


def activate(world, vg):
    world.lvm(['lvm', 'vgchange', '--activate', 'y', vg['name']])
    world.commands[:] = []


def failure(run_module, **params):
    with pytest.raises(ModuleFailed) as failed:
        run_module(volume_group, params)
    return failed.value.result


# --- moving out: exported ---------------------------------------------------------------------------------

def test_export_unmounts_with_force_backs_up_deactivates_exports_then_changes_nothing(world, run_module, tmpdir):
    vg = two_lun_vg(world)
    activate(world, vg)
    world.mount(vg, vg['lvs'][0], '/srv/xfs')
    backup = str(tmpdir.join('datavg.vgcfg'))
    params = dict(name='datavg', state='exported', force=True, backup=backup, lun_wwids=[WWID1.upper(), WWID2])
    result = run_module(volume_group, params, diff=True)
    assert world.changes() == [
        ['lvm', 'vgcfgbackup', '--file', backup, 'datavg'],
        ['umount', '/srv/xfs'],
        ['lvm', 'vgchange', '--activate', 'n', 'datavg'],
        ['lvm', 'vgexport', 'datavg'],
    ]
    assert result['changed'] is True
    assert result['backup'] == backup and os.path.exists(backup)
    assert (result['vg']['exported'], result['vg']['active']) == (True, False)
    assert [pv['wwid'] for pv in result['pvs']] == [WWID1, WWID2]
    # the xfs LV has a segment on each PV (one row each all the same); the exported VG's LVs, inactive
    seen = [(lv['name'], lv['active'], lv['mounts']) for lv in result['lvs']]
    assert seen == [('xfs', False, []), ('ext4', False, [])]
    assert result['diff'] == {
        'before': {'name': 'datavg', 'exported': False, 'active': True, 'system_id': '', 'in_devices_file': True},
        'after': {'name': 'datavg', 'exported': True, 'active': False, 'system_id': '', 'in_devices_file': True}}
    assert '/srv/xfs' not in world.mounted()

    world.commands[:] = []
    again = run_module(volume_group, params)
    assert again['changed'] is False and world.changes() == [] and again['actions'] == []


def test_each_read_is_one_fullreport(world, run_module):
    """The VG, its PVs and its LVs come from one `lvm fullreport` per read (before and after the change), where
    `vgs`, `pvs` and `lvs` were three commands."""
    two_lun_vg(world)
    result = run_module(volume_group, dict(name='datavg', state='active'))
    assert result['changed'] is True and result['vg']['active'] is True
    reports = [tail[1] for tail in world.commands if tail[0] == 'lvm' and tail[1] in ('vgs', 'pvs', 'lvs', 'fullreport')]
    assert reports == ['fullreport', 'fullreport']
    assert [(lv['name'], lv['active']) for lv in result['lvs']] == [('xfs', True), ('ext4', True)]


def test_a_host_without_system_id_reads_its_lvm_settings_with_one_command(world, run_module):
    """system_id_source "none" (LVM's default): no `lvm systemid`; the devices file setting comes from the same
    lvmconfig."""
    two_lun_vg(world)
    result = run_module(volume_group, dict(name='datavg', state='active'))
    settings = [tail[1:] for tail in world.commands if tail[0] == 'lvm' and tail[1] in ('systemid', 'lvmconfig')]
    assert settings == [['lvmconfig', '--typeconfig', 'full', 'global/system_id_source', 'devices/use_devicesfile',
                         'devices/devicesfile']]
    assert result['local_system_id'] == '' and result['devices_file'] is None


def test_an_exported_vg_lists_its_lvs_inactive(world, run_module):
    two_lun_vg(world, exported=True)
    result = run_module(volume_group, dict(name='datavg', state='exported'))
    assert result['changed'] is False and result['vg']['exported'] is True
    assert [(lv['name'], lv['active'], lv['mounts']) for lv in result['lvs']] == [('xfs', False, []), ('ext4', False, [])]


def test_a_map_left_queueing_without_paths_is_named_before_the_first_lvm_command(world, run_module, monkeypatch):
    warnings = []
    monkeypatch.setattr(volume_group.AnsibleModule, 'warn', lambda module, msg: warnings.append(msg))
    two_lun_vg(world)
    world.sysfs.add('dm-7', '253:7', dm_name='36001405d78c03fb2f89457987edc342b',
                    dm_uuid='mpath-36001405d78c03fb2f89457987edc342b')
    world.dm_tables['36001405d78c03fb2f89457987edc342b'] = '0 524288 multipath 1 queue_if_no_path 0 0 0 \n'
    assert run_module(volume_group, dict(name='datavg', state='imported'))['changed'] is False
    assert [warning.split(':')[0] for warning in warnings] == [
        'multipath map 36001405d78c03fb2f89457987edc342b has no path left and queues I/O']
    assert world.commands[0] == ['dmsetup', 'table', '36001405d78c03fb2f89457987edc342b']
    assert world.commands[1][0] == 'lvm'
    world.dm_tables['36001405d78c03fb2f89457987edc342b'] = '0 524288 multipath 0 0 0 0 \n'  # stopped queueing
    warnings[:] = []
    run_module(volume_group, dict(name='datavg', state='imported'))
    assert warnings == []


def test_check_mode_predicts_the_export_and_changes_nothing(world, run_module, tmpdir):
    vg = two_lun_vg(world)
    activate(world, vg)
    world.mount(vg, vg['lvs'][1], '/srv/ext4')
    backup = str(tmpdir.join('b.vgcfg'))
    result = run_module(volume_group, dict(name='datavg', state='exported', force=True, backup=backup),
                        check_mode=True)
    assert world.changes() == []
    assert not os.path.exists(backup) and '/srv/ext4' in world.mounted()
    assert result['changed'] is True
    assert result['actions'] == ['vgcfgbackup --file %s datavg' % backup, 'umount /srv/ext4', 'vgchange -an datavg',
                                 'vgexport datavg']
    assert (result['vg']['exported'], result['vg']['active']) == (True, False)
    assert (result['before']['exported'], result['before']['active']) == (False, True)
    assert result['before']['uuid'] == result['vg']['uuid']
    assert result['backup'] is None


def test_a_mounted_lv_is_refused_without_force_before_any_change(world, run_module):
    vg = two_lun_vg(world)
    activate(world, vg)
    world.mount(vg, vg['lvs'][0], '/srv/xfs')
    result = failure(run_module, name='datavg', state='exported')
    assert result['error_code'] == 'vg_in_use'
    assert '/srv/xfs' in result['msg']
    assert world.changes() == [] and result['changed'] is False


@pytest.mark.parametrize('how', ['swap', 'root', 'holder', 'open'])
def test_lvs_in_use_beyond_a_mount_are_refused_even_with_force(world, run_module, how):
    vg = two_lun_vg(world)
    activate(world, vg)
    lv = vg['lvs'][1]
    if how == 'swap':
        with open(os.path.join(world.proc, 'swaps'), 'a') as handle:
            handle.write('/dev/%s partition 1024 0 -2\n' % lv['dm'])
    elif how == 'root':
        world.mount(vg, lv, '/')
    elif how == 'holder':
        world.sysfs.add('dm-9', '254:99', dm_name='crypt', dm_uuid='CRYPT-x')
        world.sysfs.hold(lv['dm'], 'dm-9')
    else:
        lv['open'] = True
    result = failure(run_module, name='datavg', state='inactive', force=True)
    assert result['error_code'] == 'vg_in_use'
    assert 'datavg/ext4' in result['msg']
    assert world.changes() == []


def test_force_refuses_a_mount_a_process_uses_and_changes_nothing(world, run_module):
    vg = two_lun_vg(world)
    activate(world, vg)
    world.mount(vg, vg['lvs'][0], '/srv/xfs')
    major, minor = (int(part) for part in vg['lvs'][0]['majmin'].split(':'))
    holder = os.path.join(world.proc, '4242')
    os.makedirs(holder)
    with open(os.path.join(holder, 'maps'), 'w') as handle:
        handle.write('7f00-7f01 r--p 00000000 %02x:%02x 12 /srv/xfs/lib.so\n' % (major, minor))
    with open(os.path.join(holder, 'comm'), 'w') as handle:
        handle.write('postgres\n')
    result = failure(run_module, name='datavg', state='exported', force=True)
    assert result['error_code'] == 'vg_in_use'
    assert 'datavg/xfs (mounted at /srv/xfs, used by postgres (pid 4242, mmap))' in result['msg']
    assert world.changes() == [] and '/srv/xfs' in world.mounted()


def test_pvs_outside_the_given_luns_are_refused(world, run_module):
    two_lun_vg(world)
    result = failure(run_module, name='datavg', state='exported', lun_wwids=[WWID1])
    assert result['error_code'] == 'vg_pvs_outside'
    assert world.dev('sdc') in result['msg'] and world.dev('sdb') not in result['msg']
    assert world.changes() == []


def test_a_partial_vg_is_refused_unless_allowed(world, run_module):
    two_lun_vg(world, exported=True, missing=(PV2,))
    result = failure(run_module, name='datavg', state='imported')
    assert result['error_code'] == 'vg_partial' and PV2 in result['msg']
    assert world.changes() == []
    allowed = run_module(volume_group, dict(name='datavg', state='imported', allow_partial=True))
    assert world.changes() == [['lvm', 'vgimport', '--force', '--select', 'vg_uuid=%s' % VG_UUID]]
    assert allowed['vg']['partial'] is True and [pv['missing'] for pv in allowed['pvs']] == [False, True]


# --- moving in: imported / active -------------------------------------------------------------------------

def test_import_and_activate_an_exported_vg_sets_this_hosts_system_id(world, run_module):
    world.lvm.system_id = 'host2'
    two_lun_vg(world, exported=True)
    result = run_module(volume_group, dict(name='datavg', state='active'))
    assert world.changes() == [['lvm', 'vgimport', '--select', 'vg_uuid=%s' % VG_UUID],
                               ['lvm', 'vgchange', '--activate', 'y', 'datavg']]
    assert result['vg']['system_id'] == 'host2' and result['vg']['active'] is True
    assert result['local_system_id'] == 'host2'
    assert ['lvm', 'systemid'] in world.commands
    assert [lv['active'] for lv in result['lvs']] == [True, True]
    world.commands[:] = []
    assert run_module(volume_group, dict(name='datavg', state='active'))['changed'] is False
    assert world.changes() == []


def test_imported_leaves_the_vg_inactive_and_a_repeat_is_unchanged(world, run_module):
    two_lun_vg(world, exported=True)
    result = run_module(volume_group, dict(name='datavg', state='imported'))
    assert world.changes() == [['lvm', 'vgimport', '--select', 'vg_uuid=%s' % VG_UUID]]
    assert (result['vg']['exported'], result['vg']['active']) == (False, False)
    world.commands[:] = []
    assert run_module(volume_group, dict(name='datavg', state='imported'))['changed'] is False


def test_a_vg_owned_by_another_host_is_refused(world, run_module):
    world.lvm.system_id = 'host2'
    two_lun_vg(world, system_id='host1')
    result = failure(run_module, name='datavg', state='active')
    assert result['error_code'] == 'vg_foreign' and 'host1' in result['msg']
    assert world.changes() == []


def test_devices_file_gets_the_pvs_before_the_import_and_loses_them_after_the_export(world, run_module):
    world.lvm.use_devices_file = True
    world.write_devices_file(set())
    two_lun_vg(world, exported=True)
    result = run_module(volume_group, dict(name='datavg', state='active'))
    assert world.changes() == [['lvm', 'lvmdevices', '--adddev', world.dev('sdb')],
                               ['lvm', 'lvmdevices', '--adddev', world.dev('sdc')],
                               ['lvm', 'vgimport', '--select', 'vg_uuid=%s' % VG_UUID],
                               ['lvm', 'vgchange', '--activate', 'y', 'datavg']]
    assert result['vg']['in_devices_file'] is True
    assert result['devices_file'] == os.path.join(world.devices_dir, 'system.devices')

    world.commands[:] = []
    out = run_module(volume_group, dict(name='datavg', state='exported'))
    assert world.changes() == [['lvm', 'vgchange', '--activate', 'n', 'datavg'], ['lvm', 'vgexport', 'datavg'],
                               ['lvm', 'lvmdevices', '--delpvid', PV1.replace('-', '')],
                               ['lvm', 'lvmdevices', '--delpvid', PV2.replace('-', '')]]
    assert out['vg']['in_devices_file'] is False
    world.commands[:] = []
    assert run_module(volume_group, dict(name='datavg', state='exported'))['changed'] is False


def test_a_taken_name_is_refused_and_rename_by_uuid_imports_under_a_free_name(world, run_module):
    world.lvm.add_vg('datavg', OTHER_UUID, [{'path': world.dev('sdd'), 'uuid': 'own-pv'}], [{'name': 'root'}])
    two_lun_vg(world, exported=True)
    assert failure(run_module, name='datavg', state='active')['error_code'] == 'vg_ambiguous'
    taken = failure(run_module, name='datavg', uuid=VG_UUID, state='active')
    assert taken['error_code'] == 'vg_name_taken'
    assert world.changes() == []

    params = dict(name='datavg', uuid=VG_UUID, rename='datavg_moved', state='active')
    result = run_module(volume_group, params)
    assert world.changes() == [['lvm', 'vgimport', '--select', 'vg_uuid=%s' % VG_UUID],
                               ['lvm', 'vgrename', VG_UUID, 'datavg_moved'],
                               ['lvm', 'vgchange', '--activate', 'y', 'datavg_moved']]
    assert result['vg']['name'] == 'datavg_moved' and result['vg']['uuid'] == VG_UUID
    own = [vg for vg in world.lvm.vgs if vg['uuid'] == OTHER_UUID][0]
    assert own['name'] == 'datavg' and not own['lvs'][0]['active']
    world.commands[:] = []
    assert run_module(volume_group, params)['changed'] is False and world.changes() == []


def test_the_vg_of_the_uuid_under_another_name_is_refused(world, run_module):
    two_lun_vg(world, name='datavg_old', exported=True)
    assert failure(run_module, name='datavg', state='active')['error_code'] == 'vg_not_found'
    differs = failure(run_module, name='datavg', uuid=VG_UUID, state='active')
    assert differs['error_code'] == 'vg_name_differs'
    assert 'named datavg_old on this host, not datavg' in differs['msg']
    assert world.changes() == []


def test_rename_of_an_active_vg_is_refused(world, run_module):
    vg = two_lun_vg(world)
    activate(world, vg)
    result = failure(run_module, name='datavg', rename='other', state='active')
    assert result['error_code'] == 'vg_active' and world.changes() == []


def test_unknown_vg_and_bad_input_fail_with_their_codes(world, run_module):
    assert failure(run_module, name='nosuchvg', state='active')['error_code'] == 'vg_not_found'
    world.commands[:] = []
    for params in (dict(name='bad name'), dict(name='vg', rename='a/b'), dict(name='vg', backup='relative.vgcfg'),
                   dict(name='vg', backup='/root/%s.vgcfg'), dict(name='vg', rename='x', state='exported')):
        assert failure(run_module, **params)['error_code'] == 'invalid'
    assert world.commands == []


def test_backup_is_written_when_missing_even_without_a_state_change(world, run_module, tmpdir):
    two_lun_vg(world)
    backup = str(tmpdir.join('keep.vgcfg'))
    result = run_module(volume_group, dict(name='datavg', state='inactive', backup=backup))
    assert world.changes() == [['lvm', 'vgcfgbackup', '--file', backup, 'datavg']]
    assert result['changed'] is True and result['backup'] == backup
    world.commands[:] = []
    assert run_module(volume_group, dict(name='datavg', state='inactive', backup=backup))['changed'] is False


def test_with_uuid_one_call_says_whether_the_vg_and_its_name_are_absent(world, run_module):
    """lvm_migrate's destination check: vg_not_found with an empty same_name means neither VG nor name is here."""
    absent = failure(run_module, name='datavg', uuid=VG_UUID, state='active')
    assert absent['error_code'] == 'vg_not_found' and absent['same_name'] == []
    world.lvm.add_vg('datavg', OTHER_UUID, [{'path': world.dev('sdd'), 'uuid': 'own-pv'}], [{'name': 'root'}])
    named = failure(run_module, name='datavg', uuid=VG_UUID, state='active')
    assert named['error_code'] == 'vg_not_found'
    assert named['same_name'] == [{'name': 'datavg', 'uuid': OTHER_UUID}]
    assert 'same_name' not in failure(run_module, name='datavg_x', state='active')
    assert world.changes() == []
