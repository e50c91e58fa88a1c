# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LVM seam: JSON reports, the devices file, clone import, activation of one LV, clean-up.

Every call is `lvm <command> ...` through _command.Runner. Commands aimed at a clone name its
devices with --devices, so they never see (let alone touch) the original VG, and they run with
backups and archives off, so importing a clone leaves no files in /etc/lvm behind.
Needs lvm2 >= 2.03.12 (--devices, --setautoactivation, the devices file).
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible_collections.san.iscsi.plugins.module_utils._command import ToolError

LVM_TIMEOUT = 120
NO_BACKUP = 'backup { backup = 0 archive = 0 }'
DEVICES_DIR = '/etc/lvm/devices'
BACKUP_DIR = '/etc/lvm/backup'
ARCHIVE_DIR = '/etc/lvm/archive'
ONLINE_DIR = '/run/lvm'
# Segment types holding a filesystem; pools and their internals are not mountable.
MOUNTABLE_SEGTYPES = ('linear', 'striped', 'thin', 'mirror', 'raid0', 'raid0_meta', 'raid1', 'raid4', 'raid5',
                      'raid5_la', 'raid5_ls', 'raid5_ra', 'raid5_rs', 'raid5_n', 'raid6', 'raid6_zr', 'raid6_nr',
                      'raid6_nc', 'raid10', 'cache', 'writecache', 'vdo', 'snapshot')
PV_FIELDS = 'pv_name,pv_uuid,vg_name,vg_uuid'
VG_FIELDS = 'vg_name,vg_uuid,pv_count,lv_count,vg_attr'
LV_FIELDS = 'lv_name,vg_name,lv_uuid,lv_attr,segtype,lv_path,lv_dm_path,lv_active'
VG_NAME_RE = re.compile(r'^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$')


def parse_report(text, kind):
    """`lvm ... --reportformat json` output -> the rows of section KIND ('pv', 'vg' or 'lv')."""
    try:
        data = json.loads(text or '{}')
    except ValueError:
        raise ToolError('LVM printed a report that is not JSON', stdout=text)
    rows = []
    for report in data.get('report', []):
        rows.extend(report.get(kind, []))
    return rows


def dm_lv_name(dm_name):
    """('vg', 'lv') from a device-mapper name ('my--vg-data' -> ('my-vg', 'data')); None if not vg-lv."""
    match = re.match(r'^((?:[^-]|--)+)-((?:[^-]|--)+)$', dm_name or '')
    if not match:
        return None
    return match.group(1).replace('--', '-'), match.group(2).replace('--', '-')


def valid_vg_name(name):
    return bool(VG_NAME_RE.match(name or '')) and name not in ('.', '..') and len(name) <= 127


def mountable(lv_row):
    """A user LV that can hold a filesystem: not hidden, not a pool or pool internal."""
    return (not lv_row['lv_name'].startswith('[')
            and lv_row.get('segtype') in MOUNTABLE_SEGTYPES
            and (lv_row.get('lv_attr') or ' ')[0] not in ('t', 'T', 'd', 'D', 'e', 'i', 'I', 'l', 'p', 'v'))


def parse_online_file(text):
    """/run/lvm/pvs_online/<pvid> ('8:32\\nvg:name\\ndev:/dev/sdc\\n') -> dict with majmin, vg, dev."""
    fields = {}
    lines = (text or '').splitlines()
    if lines and ':' in lines[0] and not lines[0].startswith(('vg:', 'dev:')):
        fields['majmin'] = lines[0].strip()
    for line in lines[1:]:
        key, _sep, value = line.partition(':')
        fields[key.strip()] = value.strip()
    return fields


class Lvm(object):
    def __init__(self, runner, devices_dir=DEVICES_DIR, online_dir=ONLINE_DIR, backup_dir=BACKUP_DIR,
                 archive_dir=ARCHIVE_DIR):
        self.runner = runner
        self.devices_dir = devices_dir
        self.online_dir = online_dir
        self.backup_dir = backup_dir
        self.archive_dir = archive_dir

    def run(self, args, ok=(0,), what=None):
        return self.runner.run('lvm', args, ok=ok, timeout=LVM_TIMEOUT, what=what)

    @staticmethod
    def _scope(devices):
        return ['--devices', ','.join(devices)] if devices else []

    def report(self, command, fields, devices=None, readonly=False, names=()):
        args = [command, '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', fields]
        if readonly:
            args.append('--readonly')
        _rc, out, _err = self.run(args + self._scope(devices) + list(names), what='lvm %s' % command)
        return parse_report(out, command[:2])

    def pvs(self, devices=None, readonly=False):
        return self.report('pvs', PV_FIELDS, devices, readonly)

    def vgs(self, devices=None, readonly=False):
        return self.report('vgs', VG_FIELDS, devices, readonly)

    def lvs(self, vg, devices=None, readonly=False):
        return self.report('lvs', LV_FIELDS, devices, readonly, names=[vg])

    def host_view(self):
        """(pvs rows, stderr) as the host sees them: its devices file or filters, duplicate warnings included."""
        _rc, out, err = self.run(['pvs', '--reportformat', 'json', '-o', PV_FIELDS], what='lvm pvs')
        return parse_report(out, 'pv'), err

    # --- devices file ---------------------------------------------------------------------------

    def devices_file(self):
        """Path of the system devices file when LVM uses one, else None (use_devicesfile=0 or no file)."""
        _rc, out, _err = self.run(['lvmconfig', '--typeconfig', 'full', 'devices/use_devicesfile',
                                   'devices/devicesfile'], what='reading the LVM devices file setting')
        settings = dict(line.strip().split('=', 1) for line in out.splitlines() if '=' in line)
        if settings.get('use_devicesfile', '0').strip() != '1':
            return None
        path = os.path.join(self.devices_dir, settings.get('devicesfile', '"system.devices"').strip().strip('"'))
        return path if os.path.exists(path) else None

    def devices_file_lists(self, device, devices_file):
        """Whether DEVICE (a path) is in the devices file, by device name (how LVM records dm maps)."""
        if not devices_file:
            return False
        target = os.path.realpath(device)
        with open(devices_file) as handle:
            for line in handle:
                match = re.search(r'\bDEVNAME=(\S+)', line)
                if match and os.path.realpath(match.group(1)) == target:
                    return True
        return False

    def deldev(self, device):
        self.run(['lvmdevices', '--deldev', device], what='removing %s from the LVM devices file' % device)

    # --- clone import ---------------------------------------------------------------------------

    def import_clone(self, devices, new_name, add_to_devices_file):
        """vgimportclone DEVICES as NEW_NAME: new VG and PV UUIDs, written to DEVICES only."""
        args = ['vgimportclone', '--basevgname', new_name, '--config', NO_BACKUP]
        if add_to_devices_file:
            args.append('--importdevices')
        self.run(args + list(devices), what='importing the clone on %s as %s' % (', '.join(devices), new_name))

    def disable_autoactivation(self, vg, devices):
        """So that no later udev event or boot activates other LVs of the clone on its own."""
        self.run(['vgchange', '--setautoactivation', 'n', '--config', NO_BACKUP] + self._scope(devices) + [vg],
                 what='turning autoactivation off for %s' % vg)

    # --- activation ---------------------------------------------------------------------------

    def activate_lv(self, vg, lv, devices=None, read_only=False):
        """Activate VG/LV only (activation-skip flags of snapshots ignored: the LV was asked for by name)."""
        args = ['lvchange', '--activate', 'y', '--ignoreactivationskip']
        if read_only:
            # read-only activation without changing the LV's permission in the metadata
            args += ['--config', 'activation { read_only_volume_list = [ "%s/%s" ] }' % (vg, lv)]
        self.run(args + self._scope(devices) + ['%s/%s' % (vg, lv)], what='activating %s/%s' % (vg, lv))

    def deactivate_lv(self, vg, lv, devices=None):
        self.run(['lvchange', '--activate', 'n'] + self._scope(devices) + ['%s/%s' % (vg, lv)],
                 what='deactivating %s/%s' % (vg, lv))

    def deactivate_vg(self, vg, devices=None):
        """Deactivate every LV of VG (LVM refuses while one is open); writes no metadata and no backup."""
        self.run(['vgchange', '--activate', 'n', '--config', NO_BACKUP] + self._scope(devices) + [vg],
                 what='deactivating %s' % vg)

    # --- runtime state ----------------------------------------------------------------------------

    def metadata_copies(self, vg):
        """/etc/lvm/backup/VG and /etc/lvm/archive/VG_NNNNN-*.vg: any LVM command that reads a VG without a
        backup (a plain `vgs`) writes one, so a clone can leave them even though the import itself does not."""
        found = [os.path.join(self.backup_dir, vg)] if os.path.isfile(os.path.join(self.backup_dir, vg)) else []
        archive = re.compile(r'^%s_\d{5}-\d+\.vg$' % re.escape(vg))
        found.extend(os.path.join(self.archive_dir, entry) for entry in _listdir(self.archive_dir) if archive.match(entry))
        return found

    def online_records(self, majmins=(), vg_names=()):
        """Files under /run/lvm/{pvs_online,vgs_online,pvs_lookup} that name these devices or VGs."""
        found = []
        pvs_dir = os.path.join(self.online_dir, 'pvs_online')
        for entry in _listdir(pvs_dir):
            record = parse_online_file(_read(os.path.join(pvs_dir, entry)))
            if record.get('majmin') in majmins or record.get('vg') in vg_names:
                found.append(os.path.join(pvs_dir, entry))
        for sub in ('vgs_online', 'pvs_lookup'):
            for name in vg_names:
                path = os.path.join(self.online_dir, sub, name)
                if os.path.exists(path):
                    found.append(path)
        return found


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return ''
