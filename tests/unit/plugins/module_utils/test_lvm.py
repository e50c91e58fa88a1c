# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _command as command
from ansible_collections.san.iscsi.plugins.module_utils import _lvm as lvm
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_blockdev import FakeModule, fixture, tool

REPORT = ['--reportformat', 'json', '--units', 'b', '--nosuffix', '-o']


def lvm_tool(*args):
    return tool('lvm', *args, timeout=120)


def make(replies, tmpdir=None):
    module = FakeModule(replies)
    kwargs = {}
    if tmpdir is not None:
        kwargs = dict(devices_dir=str(tmpdir.join('devices')), online_dir=str(tmpdir.join('run')),
                      backup_dir=str(tmpdir.join('backup')), archive_dir=str(tmpdir.join('archive')))
    return module, lvm.Lvm(command.Runner(module), **kwargs)


# --- parsers ------------------------------------------------------------------------------------------

def test_parse_report_of_real_lvs_output():
    rows = lvm.parse_report(fixture('lvm_lvs.json'), 'lv')
    assert [(row['lv_name'], row['segtype'], row['lv_active']) for row in rows] == [
        ('fx_lmlorig', 'thin', 'active'), ('lml_snap', 'thin', 'active'), ('pool', 'thin-pool', 'active')]
    assert [row['lv_name'] for row in rows if lvm.mountable(row)] == ['fx_lmlorig', 'lml_snap']


# lvm2 2.03.16 (Debian 12), the command vg_reports runs, a VG on two loop devices with an LV across both
FULLREPORT_ARGS = ['fullreport', '--reportformat', 'json', '--units', 'b', '--nosuffix', '--foreign',
                   '--configreport', 'vg', '-o', lvm.VG_STATE_FIELDS, '--configreport', 'pv', '-o', lvm.VG_PV_FIELDS,
                   '--configreport', 'lv', '-o', lvm.VG_LV_FIELDS, '--configreport', 'pvseg', '-o', 'pvseg_start',
                   '--configreport', 'seg', '-o', 'seg_start']


def test_vg_reports_one_command_for_the_vg_its_pvs_and_lvs():
    # printed with rc 5 for `fxvg nosuchvg`: the VG found is reported all the same
    module, seam = make([(['/sbin/lvm', 'fullreport'], (5, fixture('lvm_fullreport.json'), ''))])
    [(vg, pvs, lvs)] = seam.vg_reports(['fxvg', 'nosuchvg'])
    assert module.commands == [lvm_tool(*FULLREPORT_ARGS + ['fxvg', 'nosuchvg'])]
    assert (vg['vg_name'], vg['vg_attr'], vg['pv_count'], vg['vg_size']) == ('fxvg', 'wz--n-', '2', '125829120')
    assert [(row['pv_name'], row['pv_missing'], row['vg_uuid']) for row in pvs] == [
        ('/dev/loop0', '', vg['vg_uuid']), ('/dev/loop1', '', vg['vg_uuid'])]
    assert [(row['lv_name'], row['lv_active']) for row in lvs] == [('small', 'active'), ('span', 'active')]


def test_vg_reports_outside_the_devices_file_and_none_found():
    module, seam = make([(['/sbin/lvm', 'fullreport'], (5, fixture('lvm_fullreport_none.json'), ''))])
    assert seam.vg_reports(['nosuchvg'], outside_devices_file=True) == []
    assert module.commands == [lvm_tool(*FULLREPORT_ARGS[:7] + ['--devicesfile', ''] + FULLREPORT_ARGS[7:]
                                        + ['nosuchvg'])]


def test_vg_reports_fails_on_other_exit_codes():
    module, seam = make([(['/sbin/lvm', 'fullreport'], (3, '', '  Locking failed\n'))])
    with pytest.raises(command.ToolError) as failed:
        seam.vg_reports(['fxvg'])
    assert failed.value.rc == 3


def test_full_report_of_an_exported_vg_lists_its_lvs_inactive():
    [(vg, _pvs, lvs)] = lvm.parse_full_report(fixture('lvm_fullreport_exported.json'))
    assert vg['vg_attr'][2] == 'x'
    assert [(row['lv_name'], row['lv_active'], row['lv_attr']) for row in lvs] == [
        ('small', '', '-wi-------'), ('span', '', '-wi-------')]


def test_full_report_of_a_partial_vg_names_the_missing_pv():
    [(vg, pvs, _lvs)] = lvm.parse_full_report(fixture('lvm_fullreport_partial.json'))
    assert (vg['vg_attr'][3], vg['vg_missing_pv_count']) == ('p', '1')
    assert [(row['pv_name'], row['pv_missing']) for row in pvs] == [('/dev/loop0', ''), ('[unknown]', 'missing')]


def test_parse_report_rejects_non_json():
    with pytest.raises(command.ToolError) as failed:
        lvm.parse_report('  Volume group "x" not found\n', 'vg')
    assert failed.value.msg == 'LVM printed a report that is not JSON'


@pytest.mark.parametrize('dm_name, expected', [
    ('labvg-pool', ('labvg', 'pool')),
    ('my--vg-my--lv', ('my-vg', 'my-lv')),
    ('lmxvg_clone_c423dd-data', ('lmxvg_clone_c423dd', 'data')),
    ('mpatha', None),
    ('san_iscsi_ovl_vg', None),
])
def test_dm_lv_name_undoes_lvm_dash_escaping(dm_name, expected):
    assert lvm.dm_lv_name(dm_name) == expected


@pytest.mark.parametrize('name, valid', [('vg_clone_1', True), ('a.b+c-d', True), ('-x', False), ('a b', False),
                                         ('..', False), ('', False), ('x' * 128, False)])
def test_valid_vg_name(name, valid):
    assert lvm.valid_vg_name(name) is valid


def test_parse_online_file():
    assert lvm.parse_online_file(fixture('lvm_pvs_online_record.txt')) == {
        'majmin': '8:16', 'vg': 'lmxvg', 'dev': '/dev/sdb'}


# --- commands -----------------------------------------------------------------------------------------

def test_reports_scope_to_devices_and_read_only():
    module, seam = make([(['/sbin/lvm', 'pvs'], (0, fixture('lvm_pvs.json'), ''))])
    rows = seam.pvs(devices=['/dev/sdc'], readonly=True)
    expected = REPORT + ['pv_name,pv_uuid,vg_name,vg_uuid', '--readonly', '--devices', '/dev/sdc']
    assert module.commands == [lvm_tool('pvs', *expected)]
    assert rows == [{'pv_name': '/dev/vdb', 'pv_uuid': 'hbv2xh-ZdNC-Xa6W-lF3T-2EXe-nbNx-1YjarB',
                     'vg_name': 'labvg', 'vg_uuid': 'K0BTSv-30fB-kiiv-ylQp-kDWd-V0Dt-Neor59'}]


def test_vgs_report():
    module, seam = make([(['/sbin/lvm', 'vgs'], (0, fixture('lvm_vgs.json'), ''))])
    rows = seam.vgs()
    assert module.commands == [lvm_tool('vgs', *REPORT + ['vg_name,vg_uuid,pv_count,lv_count,vg_attr'])]
    assert [(row['vg_name'], row['pv_count']) for row in rows] == [('labvg', '1')]


def test_host_view_keeps_duplicate_warnings():
    warning = '  WARNING: Not using device /dev/sdb for PV WAdoaF-XqIY-jf8F-RCAD-dNf9-O2o9-yWAQfd.\n'
    module, seam = make([(['/sbin/lvm', 'pvs'], (0, fixture('lvm_pvs.json'), warning))])
    rows, stderr = seam.host_view()
    assert module.commands == [lvm_tool('pvs', '--reportformat', 'json', '-o', 'pv_name,pv_uuid,vg_name,vg_uuid')]
    assert rows[0]['pv_name'] == '/dev/vdb'
    assert 'WAdoaF-XqIY' in stderr


def test_devices_file_off_is_none(tmpdir):
    module, seam = make([(['/sbin/lvm', 'lvmconfig'], (0, fixture('lvmconfig_devicesfile_off.txt'), ''))], tmpdir)
    assert seam.devices_file() is None
    assert module.commands == [lvm_tool('lvmconfig', '--typeconfig', 'full', 'devices/use_devicesfile',
                                        'devices/devicesfile')]


SETTINGS_KEYS = ('global/system_id_source', 'devices/use_devicesfile', 'devices/devicesfile')


def test_no_system_id_source_needs_no_systemid_command(tmpdir):
    """lvmconfig as lvm2 2.03.16 printed it on the lab's host1: one command answers both questions."""
    module, seam = make([(['/sbin/lvm', 'lvmconfig'], (0, fixture('lvmconfig_systemid_none.txt'), ''))], tmpdir)
    assert seam.system_id_and_devices_file() == ('', None)
    assert module.commands == [lvm_tool('lvmconfig', '--typeconfig', 'full', *SETTINGS_KEYS)]


def test_a_system_id_source_asks_lvm_for_the_id(tmpdir):
    config = 'system_id_source="uname"\nuse_devicesfile=1\ndevicesfile="system.devices"\n'
    tmpdir.join('devices', 'system.devices').write(fixture('lvm_system.devices'), ensure=True)
    module, seam = make([(['/sbin/lvm', 'lvmconfig'], (0, config, '')),
                         (['/sbin/lvm', 'systemid'], (0, '  system ID: host1\n', ''))], tmpdir)
    assert seam.system_id_and_devices_file() == ('host1', str(tmpdir.join('devices', 'system.devices')))
    assert module.commands[1] == lvm_tool('systemid')


def test_an_lvm_without_devices_file_settings_has_no_devices_file(tmpdir):
    """Before lvm2 2.03.12 devices/use_devicesfile is unknown: lvmconfig prints the keys it knows, names the
    other and exits 5 (as 2.03.16 does for any unknown key)."""
    module, seam = make([(['/sbin/lvm', 'lvmconfig'], (
        5, 'system_id_source="none"\n', '  Configuration node devices/use_devicesfile not found\n'))], tmpdir)
    assert seam.system_id_and_devices_file() == ('', None)
    assert len(module.commands) == 1


def test_an_lvm_without_devices_file_settings_gives_lun_mount_no_devices_file(tmpdir):
    """devices_file() alone asks only for keys such an LVM does not know: it names both and prints none."""
    unknown = ('  Configuration node devices/use_devicesfile not found\n'
               '  Configuration node devices/devicesfile not found\n')
    _module, seam = make([(['/sbin/lvm', 'lvmconfig'], (5, '', unknown))], tmpdir)
    assert seam.devices_file() is None


def test_lvmconfig_that_prints_no_setting_fails(tmpdir):
    _module, seam = make([(['/sbin/lvm', 'lvmconfig'], (5, '', '  Parse error at byte 12 (line 1)\n'))], tmpdir)
    with pytest.raises(command.ToolError) as failed:
        seam.system_id_and_devices_file()
    assert failed.value.rc == 5 and 'Parse error' in failed.value.msg


def test_devices_file_on_needs_the_file(tmpdir):
    config = 'use_devicesfile=1\ndevicesfile="system.devices"\n'
    _module, seam = make([(['/sbin/lvm', 'lvmconfig'], (0, config, ''))], tmpdir)
    assert seam.devices_file() is None  # enabled but no file: LVM uses every device
    tmpdir.join('devices', 'system.devices').write(fixture('lvm_system.devices'), ensure=True)
    assert seam.devices_file() == str(tmpdir.join('devices', 'system.devices'))


def test_devices_file_lists_overlays_by_name(tmpdir):
    path = tmpdir.join('system.devices')
    path.write(fixture('lvm_system.devices'))
    _module, seam = make([])
    assert seam.devices_file_lists('/dev/mapper/san_iscsi_ovl_lmxvg_clone_c423dd', str(path))
    assert not seam.devices_file_lists('/dev/mapper/san_iscsi_ovl_other', str(path))
    assert not seam.devices_file_lists('/dev/mapper/san_iscsi_ovl_lmxvg_clone_c423dd', None)


def test_import_clone_the_vgimportclone_way():
    module, seam = make([(['/sbin/lvm'], (0, '', ''))])
    seam.import_clone(['/dev/mapper/ovl'], 'vg_clone', add_to_devices_file=True)
    seam.disable_autoactivation('vg_clone', ['/dev/mapper/ovl'])
    assert module.commands == [
        lvm_tool('vgimportclone', '--basevgname', 'vg_clone', '--config', 'backup { backup = 0 archive = 0 }',
                 '--importdevices', '/dev/mapper/ovl'),
        lvm_tool('vgchange', '--setautoactivation', 'n', '--config', 'backup { backup = 0 archive = 0 }',
                 '--devices', '/dev/mapper/ovl', 'vg_clone'),
    ]


def test_activation_of_one_lv_read_only_and_back():
    module, seam = make([(['/sbin/lvm'], (0, '', ''))])
    seam.activate_lv('vg_clone', 'data', devices=['/dev/mapper/ovl'], read_only=True)
    seam.deactivate_lv('vg_clone', 'data', devices=['/dev/mapper/ovl'])
    seam.deactivate_vg('vg_clone', devices=['/dev/mapper/ovl'])
    seam.deldev('/dev/mapper/ovl')
    assert module.commands == [
        lvm_tool('lvchange', '--activate', 'y', '--ignoreactivationskip', '--config',
                 'activation { read_only_volume_list = [ "vg_clone/data" ] }', '--devices', '/dev/mapper/ovl',
                 'vg_clone/data'),
        lvm_tool('lvchange', '--activate', 'n', '--devices', '/dev/mapper/ovl', 'vg_clone/data'),
        lvm_tool('vgchange', '--activate', 'n', '--config', 'backup { backup = 0 archive = 0 }', '--devices',
                 '/dev/mapper/ovl', 'vg_clone'),
        lvm_tool('lvmdevices', '--deldev', '/dev/mapper/ovl'),
    ]


def test_failed_lvm_command_carries_its_output():
    module, seam = make([(['/sbin/lvm'], (5, '', '  Volume group "vg_clone" not found\n'))])
    with pytest.raises(command.ToolError) as failed:
        seam.activate_lv('vg_clone', 'data')
    assert failed.value.msg == ('activating vg_clone/data failed with exit code 5: '
                                'Volume group "vg_clone" not found')
    assert failed.value.cmd == module.commands[0]


# --- what a clone leaves behind ---------------------------------------------------------------------

def test_online_records_and_metadata_copies_of_a_clone_only(tmpdir):
    _module, seam = make([], tmpdir)
    run = tmpdir.join('run')
    run.join('pvs_online', 'newpvid').write('253:2\nvg:vg_clone\ndev:/dev/dm-2\n', ensure=True)
    run.join('pvs_online', 'WAdoaFXqIYjf8FRCADdNf9O2o9yWAQfd').write(fixture('lvm_pvs_online_record.txt'))
    run.join('vgs_online', 'vg_clone').write('', ensure=True)
    run.join('vgs_online', 'lmxvg').write('')
    tmpdir.join('backup', 'vg_clone').write('x', ensure=True)
    tmpdir.join('backup', 'vg_clone2').write('x')
    tmpdir.join('archive', 'vg_clone_00000-386717652.vg').write('x', ensure=True)
    tmpdir.join('archive', 'vg_clone2_00000-1.vg').write('x')
    assert seam.online_records(majmins=['253:2'], vg_names=['vg_clone']) == [
        str(run.join('pvs_online', 'newpvid')), str(run.join('vgs_online', 'vg_clone'))]
    assert seam.metadata_copies('vg_clone') == [str(tmpdir.join('backup', 'vg_clone')),
                                                str(tmpdir.join('archive', 'vg_clone_00000-386717652.vg'))]
    assert os.path.exists(str(run.join('pvs_online', 'WAdoaFXqIYjf8FRCADdNf9O2o9yWAQfd')))


# --- the engine: VG identity against the host -----------------------------------------------------------

LAB_PV = {'pv_name': '/dev/sdc', 'pv_uuid': 'hbv2xh-ZdNC-Xa6W-lF3T-2EXe-nbNx-1YjarB', 'vg_name': 'labvg',
          'vg_uuid': 'K0BTSv-30fB-kiiv-ylQp-kDWd-V0Dt-Neor59'}


def engine(host_rows, stderr=''):
    """An engine whose host `pvs` view is HOST_ROWS (plus STDERR)."""
    report = json.dumps({'report': [{'pv': host_rows}]})
    module, seam = make([(['/sbin/lvm', 'pvs'], (0, report, stderr))])
    return module, lvm.LvmEngine(seam, {}, module.warn)


@pytest.mark.parametrize('row', [
    dict(LAB_PV, pv_name='/dev/sdb'),                                        # the original VG
    dict(LAB_PV, pv_name='/dev/sdb', vg_name='renamed'),                     # same VG UUID, other name
    dict(LAB_PV, pv_name='/dev/sdb', vg_name='other', vg_uuid='x'),          # same PV UUID
    {'pv_name': '/dev/sdb', 'pv_uuid': 'p', 'vg_name': 'labvg', 'vg_uuid': 'v'},  # same name, other VG
])
def test_vg_elsewhere_by_name_vg_uuid_or_pv_uuid(row):
    module, seam = engine([row, {'pv_name': '/dev/vda2', 'pv_uuid': 'o', 'vg_name': 'sysvg', 'vg_uuid': 's'}])
    assert seam.vg_elsewhere(LAB_PV, ['/dev/sdc']) == [('/dev/sdb', row)]
    assert seam.vg_elsewhere(LAB_PV, ['/dev/sdc', '/dev/sdb']) == []
    assert len(module.commands) == 1  # the host view is read once


def test_vg_elsewhere_counts_devices_named_by_duplicate_warnings_but_not_its_own(tmpdir):
    own = tmpdir.join('by-id-link')
    own.mksymlinkto('/dev/sdc')
    warnings = ('  WARNING: Not using device /dev/sdd for PV %s.\n'
                '  WARNING: PV %s prefers device /dev/sdc because device was seen first.\n'
                '  WARNING: Not using device /dev/sde for PV other-uuid.\n' % (LAB_PV['pv_uuid'], LAB_PV['pv_uuid']))
    _module, seam = engine([LAB_PV], warnings)
    assert seam.vg_elsewhere(LAB_PV, [str(own)]) == [('/dev/sdd', None)]
    assert seam.vg_elsewhere(LAB_PV, ['/dev/sdc', '/dev/sdd']) == []


def test_refuse_clash_names_the_host_vg_or_the_duplicate():
    _module, seam = engine([LAB_PV, dict(LAB_PV, pv_name='/dev/sdb')])
    with pytest.raises(lvm.LvmRefusal) as refused:
        seam.refuse_clash(LAB_PV, '/dev/sdc')
    assert refused.value.msg == ('the VG on /dev/sdc (labvg) clashes with VG labvg of this host (on /dev/sdb): it '
                                 'looks like a snapshot or clone; set snapshot: true to import it as a clone')
    _module, seam = engine([LAB_PV], '  WARNING: Not using device /dev/sdb for PV %s.\n' % LAB_PV['pv_uuid'])
    with pytest.raises(lvm.LvmRefusal) as refused:
        seam.refuse_clash(LAB_PV, '/dev/sdc')
    assert refused.value.msg == ('LVM reports the PV on /dev/sdc (%s) as a duplicate: it looks like a snapshot or '
                                 'clone; set snapshot: true' % LAB_PV['pv_uuid'])
    # a warning on the PV's UUID that names no other device still refuses (it was so in lun_mount)
    _module, seam = engine([LAB_PV], '  WARNING: PV %s was already found on this device.\n' % LAB_PV['pv_uuid'])
    with pytest.raises(lvm.LvmRefusal):
        seam.refuse_clash(LAB_PV, '/dev/sdc')
    _module, seam = engine([LAB_PV, {'pv_name': '/dev/vda2', 'pv_uuid': 'o', 'vg_name': 'sysvg', 'vg_uuid': 's'}])
    seam.refuse_clash(LAB_PV, '/dev/sdc')


def test_refuse_taken_name_of_a_clone():
    _module, seam = engine([LAB_PV])
    with pytest.raises(lvm.LvmRefusal) as refused:
        seam.refuse_taken_name('labvg')
    assert refused.value.msg == 'a VG named labvg already exists on this host; choose another clone_vg'
    seam.refuse_taken_name('labvg_clone_1e2f')


# --- the engine's choices ------------------------------------------------------------------------------

def test_choose_lv_takes_the_one_mountable_lv_or_the_one_asked_for():
    rows = lvm.parse_report(fixture('lvm_lvs.json'), 'lv')
    assert lvm.choose_lv('labvg', rows, 'lml_snap') == 'lml_snap'
    with pytest.raises(lvm.LvmRefusal) as refused:
        lvm.choose_lv('labvg', rows)
    assert refused.value.msg == ('VG labvg has 2 LVs that can hold a filesystem (fx_lmlorig, lml_snap); '
                                 'choose one with lv')
    with pytest.raises(lvm.LvmRefusal) as refused:
        lvm.choose_lv('labvg', rows, 'nope')
    assert refused.value.msg == 'VG labvg has no LV nope; it has: fx_lmlorig, lml_snap'
    assert lvm.choose_lv('labvg', [row for row in rows if row['lv_name'] != 'lml_snap']) == 'fx_lmlorig'


@pytest.mark.parametrize('wwid, expected', [
    ('naa.6001405d3b6a1f0c2e4a4b8b9c0d1e2f', 'datavg_clone_0d1e2f'),
    ('NAA.6001405D3B6A1F0C2E4A4B8B9C0D1E2F', 'datavg_clone_0d1e2f'),
    (None, 'datavg_clone'),
])
def test_default_clone_name_ends_with_the_lun_wwid(wwid, expected):
    assert lvm.default_clone_name('datavg', wwid) == expected
