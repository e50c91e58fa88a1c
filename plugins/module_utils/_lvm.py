# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The LVM seam: JSON reports, the devices file, VG identity, clone import, activation, clean-up.

Two layers:
- `Lvm` runs one LVM command per method (`lvm <command> ...` through _command.Runner):
  reports, the devices file, clone import, activation, export/import, backup, rename, the system ID, and
  the runtime files LVM leaves.
- `LvmEngine` is what modules do with the VG on a LUN: read it, check its identity against the host's
  own VGs (one rule, `vg_elsewhere`), release a VG LVM autoactivated on a snapshot LUN, import a snapshot's
  VG as a clone under a new name on a copy-on-write overlay, and remove that clone again. Its reads and
  refusals are safe in check mode; its changes are made only outside check mode.
Commands aimed at a clone name its devices with --devices, so they never see (let alone touch) the original
VG, and they run with backups and archives off, so importing a clone leaves no files in /etc/lvm behind.
Needs lvm2 >= 2.03.12 (--devices, --setautoactivation, the devices file).
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
from collections import namedtuple

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _mounts as mounts
from ansible_collections.san.iscsi.plugins.module_utils._command import ToolError
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths

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
VG_STATE_FIELDS = ('vg_name,vg_uuid,vg_attr,vg_systemid,vg_missing_pv_count,pv_count,lv_count,vg_size,vg_free')
VG_PV_FIELDS = 'pv_name,pv_uuid,vg_name,vg_uuid,pv_missing,pv_size'
# LV fields only: asking for a segment field (segtype, ...) makes lvs print a row per segment
VG_LV_FIELDS = 'lv_name,vg_name,lv_uuid,lv_attr,lv_path,lv_dm_path,lv_active,lv_size'
# `lvm fullreport` prints every section of a VG; the two segment sections get one small field each
VG_REPORT_SECTIONS = (('vg', VG_STATE_FIELDS), ('pv', VG_PV_FIELDS), ('lv', VG_LV_FIELDS),
                      ('pvseg', 'pvseg_start'), ('seg', 'seg_start'))
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


def parse_full_report(text):
    """`lvm fullreport --reportformat json` output -> [(vg row, its pv rows, its lv rows)], one per VG."""
    try:
        data = json.loads(text or '{}')
    except ValueError:
        raise ToolError('LVM printed a report that is not JSON', stdout=text)
    return [(vg, report.get('pv', []), report.get('lv', []))
            for report in data.get('report', []) for vg in report.get('vg', [])]


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


def same_vg(row, pv):
    """Whether a `pvs` ROW shows the VG of PV (a `pvs` row): the same VG name, VG UUID or PV UUID."""
    return (row.get('vg_name') == pv['vg_name'] or row.get('vg_uuid') == pv['vg_uuid']
            or row.get('pv_uuid') == pv['pv_uuid'])


def choose_lv(vg, rows, wanted=None):
    """The LV to use among VG's `lvs` ROWS: WANTED when the VG has it, else its one mountable LV."""
    candidates = [row['lv_name'] for row in rows if mountable(row)]
    if wanted:
        if wanted not in [row['lv_name'] for row in rows]:
            raise LvmRefusal('VG %s has no LV %s; it has: %s' % (vg, wanted, ', '.join(candidates) or 'none'))
        return wanted
    if len(candidates) != 1:
        raise LvmRefusal('VG %s has %d LVs that can hold a filesystem (%s); choose one with lv'
                         % (vg, len(candidates), ', '.join(candidates) or 'none'))
    return candidates[0]


def default_clone_name(vg, wwid):
    """VG_clone_<last 6 alphanumerics of the LUN's WWID>: one name per snapshot LUN."""
    suffix = re.sub(r'[^0-9A-Za-z]', '', wwid or '')[-6:]
    return '%s_clone_%s' % (vg, suffix.lower()) if suffix else '%s_clone' % vg


def one_row(rows, what, path):
    if len(rows) != 1:
        raise LvmRefusal('expected one %s on %s, LVM reported %d' % (what, path, len(rows)))
    return rows[0]


class LvmRefusal(Exception):
    """The engine refuses: the message says why, and what to do about it."""

    def __init__(self, msg):
        super(LvmRefusal, self).__init__(msg)
        self.msg = msg


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
        return self._devices_file_of(self._config(('devices/use_devicesfile', 'devices/devicesfile'),
                                                  'reading the LVM devices file setting'))

    def system_id_and_devices_file(self):
        """(this host's LVM system ID, devices_file()) from one lvmconfig; `lvm systemid` runs only on a host
        whose system_id_source is not "none" (the ID then comes from uname, a file, the machine ID...)."""
        settings = self._config(('global/system_id_source', 'devices/use_devicesfile', 'devices/devicesfile'),
                                'reading the LVM system ID and devices file settings')
        source = settings.get('system_id_source', '"none"').strip().strip('"')
        return ('' if source == 'none' else self.local_system_id()), self._devices_file_of(settings)

    def _config(self, keys, what):
        """{key's last part: value as printed} of lvmconfig KEYS, defaults included. A key this LVM does not know
        is left out, so its caller's default applies: lvmconfig prints the others, names it ("Configuration node
        devices/use_devicesfile not found", before lvm2 2.03.12) and exits 5. An exit with no key printed or named
        so fails."""
        argv = ['lvmconfig', '--typeconfig', 'full'] + list(keys)
        rc, out, err = self.run(argv, ok=(0, 5), what=what)
        settings = dict((name.strip(), value) for name, _sep, value in
                        (line.strip().partition('=') for line in out.splitlines() if '=' in line))
        unknown = re.findall(r'Configuration node (\S+) not found', err)
        if rc != 0 and not settings and not unknown:
            raise self.runner.failure(self.runner.argv('lvm', argv, LVM_TIMEOUT), rc, out, err, what, LVM_TIMEOUT)
        return settings

    def _devices_file_of(self, settings):
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

    def adddev(self, device):
        self.run(['lvmdevices', '--adddev', device], what='adding %s to the LVM devices file' % device)

    def delpvid(self, pv_uuid):
        self.run(['lvmdevices', '--delpvid', pv_uuid.replace('-', '')],
                 what='removing PV %s from the LVM devices file' % pv_uuid)

    def devices_file_pvids(self, devices_file):
        """The PV UUIDs (without dashes) the devices file lists; empty without a file."""
        if not devices_file:
            return set()
        with open(devices_file) as handle:
            return set(match.group(1) for match in re.finditer(r'\bPVID=(\S+)', handle.read()))

    # --- a whole VG: state, export/import, backup, rename, system ID ----------------------------

    @staticmethod
    def _select(vg_uuid):
        return ['--select', 'vg_uuid=%s' % vg_uuid]

    def uuid_selection(self, vg_uuid):
        """What names the VG with VG_UUID in a report (vg_state takes it instead of names)."""
        return self._select(vg_uuid)

    def _whole_vg_report(self, command, fields, selection, outside_devices_file, ok=(0,)):
        """`lvm COMMAND --foreign` JSON rows of the VGs SELECTION names (foreign and exported VGs included);
        OUTSIDE_DEVICES_FILE: look at every device, not only those the host's devices file lists."""
        args = [command, '--reportformat', 'json', '--units', 'b', '--nosuffix', '--foreign', '-o', fields]
        if outside_devices_file:
            args += ['--devicesfile', '']
        _rc, out, _err = self.run(args + list(selection), ok=ok, what='lvm %s' % command)
        return parse_report(out, command[:2])

    def vg_state(self, names, outside_devices_file=False):
        """`vgs` rows of the VGs NAMES; rc 5 (none of them exists) is an answer here, not an error."""
        return self._whole_vg_report('vgs', VG_STATE_FIELDS, names, outside_devices_file, ok=(0, 5))

    def vg_reports(self, names, outside_devices_file=False):
        """One `lvm fullreport --foreign` of the VGs NAMES: [(vg row, its pv rows, its lv rows)], read under
        each VG's lock, so the three agree (one command where `vgs`, `pvs` and `lvs` were three, 0.2 s each
        under TCG in the lab). Unlike `lvs`, it lists the LVs of an exported VG (lvm2 2.03.16). rc 5 (a name
        that no VG has) is an answer here, not an error."""
        args = ['fullreport', '--reportformat', 'json', '--units', 'b', '--nosuffix', '--foreign']
        if outside_devices_file:
            args += ['--devicesfile', '']
        for section, fields in VG_REPORT_SECTIONS:
            args += ['--configreport', section, '-o', fields]
        _rc, out, _err = self.run(args + list(names), ok=(0, 5), what='lvm fullreport')
        return parse_full_report(out)

    def vg_pvs(self, vg_uuid, outside_devices_file=False):
        return self._whole_vg_report('pvs', VG_PV_FIELDS, self._select(vg_uuid), outside_devices_file)

    def vg_lvs(self, vg_uuid, outside_devices_file=False):
        return self._whole_vg_report('lvs', VG_LV_FIELDS, self._select(vg_uuid), outside_devices_file)

    def local_system_id(self):
        """This host's LVM system ID ('' when it has none: system_id_source = "none")."""
        _rc, out, _err = self.run(['systemid'], what='reading the LVM system ID')
        _label, _sep, value = out.partition(':')
        return value.strip()

    def set_activation(self, vg, active):
        self.run(['vgchange', '--activate', 'y' if active else 'n', vg],
                 what='%s %s' % ('activating' if active else 'deactivating', vg))

    def export_vg(self, vg):
        self.run(['vgexport', vg], what='exporting %s' % vg)

    def import_vg(self, vg_uuid, vg, force=False):
        """vgimport the VG with VG_UUID (named VG), by UUID so that a VG of the same name is not picked."""
        self.run(['vgimport'] + (['--force'] if force else []) + self._select(vg_uuid), what='importing %s' % vg)

    def rename_vg(self, vg_uuid, new_name):
        self.run(['vgrename', vg_uuid, new_name], what='renaming VG %s to %s' % (vg_uuid, new_name))

    def backup_vg(self, vg, path):
        self.run(['vgcfgbackup', '--file', path, vg], what='backing up the metadata of %s to %s' % (vg, path))

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


class Clone(namedtuple('Clone', 'name pv_path pv dm_map overlay_path lun_devices ours')):
    """A snapshot LUN's VG imported (or to import) as NAME on the overlay OVERLAY_PATH (dm map DM_MAP).

    PV_PATH and PV: the LUN's PV and its `pvs` row; LUN_DEVICES: the LUN's device and the same device on its
    other paths (kernel names); OURS: the overlay's kernel name when it is already on the LUN (an earlier run
    imported the clone)."""

    __slots__ = ()

    @property
    def imported(self):
        return bool(self.ours)


class LvmEngine(object):
    """The VG on a LUN: read it, check its identity against the host, import a snapshot of it as a clone.

    RESULT is the caller's result dict: the engine sets `changed` (also in check mode, for what it would do)
    and `deactivated_vg`; WARN(msg) passes warnings on. PATHS (a HostPaths: sysfs, /dev, mountinfo, the overlay
    directory) are the caller's, so tests build a fake host. Refusals raise LvmRefusal, failed commands
    ToolError.
    """

    def __init__(self, lvm, result, warn, check=False, paths=None):
        self.lvm = lvm
        self.runner = lvm.runner
        self.result = result
        self.check = check
        self.warn = warn
        self.paths = paths or HostPaths()
        self._host_view = None

    def changed(self):
        self.result['changed'] = True

    def path_of(self, name):
        return blockdev.device_path(name, self.paths.sysfs, self.paths.dev)

    # --- the VG on a PV -------------------------------------------------------------------------------

    def pv_row(self, pv_path):
        return one_row(self.lvm.pvs(devices=[pv_path], readonly=True), 'PV', pv_path)

    def vg_on(self, pv_path):
        """(pvs row, vgs row) of the VG on PV_PATH, read with only that device in sight."""
        pv = self.pv_row(pv_path)
        if not pv.get('vg_name'):
            raise LvmRefusal('%s is an LVM PV that belongs to no VG' % pv_path)
        return pv, one_row(self.lvm.vgs(devices=[pv_path], readonly=True), 'VG', pv_path)

    def lv_is_active(self, vg, lv):
        return any(row['lv_name'] == lv and row.get('lv_active') == 'active' for row in self.lvm.lvs(vg))

    def lv_device(self, vg, lv, scope):
        """(kernel name, dm path) of the active LV VG/LV, looked up with the devices SCOPE (None: the host's)."""
        rows = [row for row in self.lvm.lvs(vg, devices=scope) if row['lv_name'] == lv]
        if not rows or not rows[0].get('lv_dm_path'):
            raise LvmRefusal('LV %s/%s did not appear after activation' % (vg, lv))
        dm_path = rows[0]['lv_dm_path']
        name = blockdev.kernel_name(dm_path, self.paths.sysfs)
        if name is None:
            raise LvmRefusal('LV %s/%s is not active (no %s)' % (vg, lv, dm_path))
        return name, dm_path

    def lv_on_device(self, name):
        """(vg, lv, overlays) of the LV that device NAME is, or None; OVERLAYS: the /dev/mapper paths of the
        clone overlays below it (empty unless the LV belongs to a clone)."""
        vg_lv = dm_lv_name(blockdev.dm_name(name, self.paths.sysfs))
        if not vg_lv:
            return None
        overlays = [os.path.join(self.paths.dev, 'mapper', blockdev.dm_name(lower, self.paths.sysfs))
                    for lower in blockdev.lower_devices(name, self.paths.sysfs)
                    if blockdev.is_overlay(lower, self.paths.sysfs)]
        return vg_lv[0], vg_lv[1], overlays

    # --- VG identity: the host's own VGs -------------------------------------------------------------

    def host_view(self):
        """The host's own `pvs` view (rows, stderr), read once per engine."""
        if self._host_view is None:
            self._host_view = self.lvm.host_view()
        return self._host_view

    def vg_elsewhere(self, pv, own_paths):
        """[(device, row)]: where the host's LVM sees the VG of PV on a device other than OWN_PATHS.

        The one VG identity rule. A device counts when the host's `pvs` lists it with the same VG name, VG UUID
        or PV UUID (ROW is that row), or when one of its duplicate-PV warnings names it for the PV's UUID (ROW
        is None): 'Not using device /dev/sdd for PV ...', 'PV ... prefers device /dev/sdb ...'. LVM may list
        the LUN itself under no name at all: with two paths and no multipath map it drops both as multipath
        components (same WWID).
        """
        rows, stderr = self.host_view()
        own = set(os.path.realpath(path) for path in own_paths)
        found = [(row['pv_name'], row) for row in rows
                 if os.path.realpath(row['pv_name']) not in own and same_vg(row, pv)]
        for line in stderr.splitlines():
            if pv['pv_uuid'] in line:
                named = [token.rstrip('.,;:') for token in line.split() if token.startswith('/')]
                found.extend((path, None) for path in named if os.path.realpath(path) not in own)
        return found

    def refuse_clash(self, pv, pv_path):
        """Refuse to use the VG on PV_PATH in place when the host has it (or its PV) on another device too."""
        found = self.vg_elsewhere(pv, [pv_path])
        listed = [row for _path, row in found if row is not None]
        if listed:
            raise LvmRefusal('the VG on %s (%s) clashes with VG %s of this host (on %s): it looks like a '
                             'snapshot or clone; set snapshot: true to import it as a clone'
                             % (pv_path, pv['vg_name'], listed[0].get('vg_name'), listed[0]['pv_name']))
        _rows, stderr = self.host_view()
        # any warning naming the PV's UUID (even one that names no other device) means LVM sees it twice
        if found or pv['pv_uuid'] in stderr:
            raise LvmRefusal('LVM reports the PV on %s (%s) as a duplicate: it looks like a snapshot or clone; '
                             'set snapshot: true' % (pv_path, pv['pv_uuid']))

    def refuse_taken_name(self, name):
        rows, _stderr = self.host_view()
        if any(row.get('vg_name') == name for row in rows):
            raise LvmRefusal('a VG named %s already exists on this host; choose another clone_vg' % name)

    # --- autoactivation on a snapshot LUN ------------------------------------------------------------

    def lun_users(self, lun_devices, ours):
        """Devices stacked directly on the LUN (any of its paths) other than OURS (the clone's overlay)."""
        users = []
        for device in lun_devices:
            users.extend(name for name in blockdev.holders(device, self.paths.sysfs) if name not in ours + users)
        return users

    def release_autoactivated(self, clone, lv_rows, users=None):
        """Deactivate the LUN's own VG when LVM autoactivated it on login (under its original name).

        Only when every device stacked on the LUN (on any of its paths) is an LV of the VG stored on it (matched
        by VG UUID), the host sees that VG on no other device, and none of its LVs (LV_ROWS) is open or mounted.
        USERS: the devices stacked directly on the LUN (default: all but the clone's overlay); none, nothing to
        do. Deactivation writes no metadata. Anything else is refused: it may be in use, or another VG of this
        host.
        """
        if users is None:
            users = self.lun_users(clone.lun_devices, clone.ours)
        if not users:
            return
        pv, pv_path = clone.pv, clone.pv_path
        vg = pv['vg_name']
        stacked = list(users)
        for name in users:
            stacked.extend(upper for upper in blockdev.upper_devices(name, self.paths.sysfs) if upper not in stacked)
        lv_prefix = 'LVM-' + (pv.get('vg_uuid') or '').replace('-', '')
        foreign = [name for name in stacked if not pv.get('vg_uuid')
                   or not blockdev.dm_uuid(name, self.paths.sysfs).startswith(lv_prefix)]
        if foreign:
            raise LvmRefusal('%s is in use by %s, not by LVs of VG %s stored on it; a snapshot LUN must not be '
                             'used directly: stop using it first' % (pv_path, self.describe_devices(foreign), vg))
        elsewhere = sorted(set(path for path, _row in self.vg_elsewhere(pv, [self.path_of(name)
                                                                             for name in clone.lun_devices])))
        if elsewhere:
            raise LvmRefusal('LVs of VG %s are active on the snapshot LUN %s, but this host also has that VG or '
                             'its PV on %s; refusing to deactivate what may be this host\'s own VG'
                             % (vg, pv_path, ', '.join(elsewhere)))
        # a pool is 'open' while its thin LVs are active: only LVs that can hold a filesystem count
        busy = ['%s (open)' % row['lv_name'] for row in lv_rows
                if mountable(row) and (row.get('lv_attr') or '')[5:6] == 'o']
        entries = mounts.read_mountinfo(self.paths.mountinfo)
        for name in stacked:
            busy.extend('%s (mounted at %s)' % (self.path_of(name), entry.mountpoint)
                        for entry in mounts.mounts_of(entries, blockdev.majmin(name, self.paths.sysfs)))
        if busy:
            raise LvmRefusal('LVs of VG %s on the snapshot LUN %s are in use: %s; refusing to deactivate them '
                             '(unmount and close them first)' % (vg, pv_path, ', '.join(busy)))
        self.result['deactivated_vg'] = vg
        self.changed()
        if self.check:
            return
        self.lvm.deactivate_vg(vg, devices=[pv_path])
        left = [name for device in clone.lun_devices for name in blockdev.holders(device, self.paths.sysfs)
                if name in stacked]
        if left:
            raise LvmRefusal('%s is still in use by %s after deactivating VG %s'
                             % (pv_path, self.describe_devices(left), vg))

    def describe_devices(self, names):
        return ', '.join('%s (%s)' % (name, blockdev.dm_name(name, self.paths.sysfs) or name) for name in names)

    # --- clone of a snapshot's VG --------------------------------------------------------------------

    def clone(self, name, lun_name, pv_path, pv):
        """The clone NAME of the VG on the LUN device LUN_NAME (path PV_PATH), as this host has it now."""
        dm_map = blockdev.overlay_name(name)
        ours = [holder for holder in blockdev.holders(lun_name, self.paths.sysfs)
                if blockdev.dm_name(holder, self.paths.sysfs) == dm_map]
        return Clone(name, pv_path, pv, dm_map, os.path.join(self.paths.dev, 'mapper', dm_map),
                     blockdev.same_lun_devices(lun_name, self.paths.sysfs), ours)

    def import_clone(self, clone):
        """Overlay the LUN, then vgimportclone on the overlay: new VG and PV UUIDs, autoactivation off.

        On failure everything the import made is removed again (with warnings) and the error re-raised."""
        blockdev.create_overlay(self.runner, clone.pv_path, clone.dm_map, overlay_dir=self.paths.overlay_dir,
                                sysfs_root=self.paths.sysfs)
        overlay_path = clone.overlay_path
        try:
            blockdev.settle(self.runner)
            overlay_name = blockdev.kernel_name(overlay_path, self.paths.sysfs)
            if overlay_name and blockdev.holders(overlay_name, self.paths.sysfs):
                raise LvmRefusal('something activated LVs on the overlay %s before the import (%s)'
                                 % (overlay_path, ', '.join(blockdev.holders(overlay_name, self.paths.sysfs))))
            devices_file = self.lvm.devices_file()
            self.lvm.import_clone([overlay_path], clone.name, devices_file is not None)
            imported = one_row(self.lvm.pvs(devices=[overlay_path]), 'PV', overlay_path)
            if imported.get('vg_name') != clone.name:
                raise LvmRefusal('the clone was imported as %s, not %s' % (imported.get('vg_name'), clone.name))
            self.lvm.disable_autoactivation(clone.name, [overlay_path])
        except (LvmRefusal, ToolError):
            self.remove_clone(clone.name, [overlay_path], strict=False)
            raise

    def activate_clone_lv(self, clone, lv):
        """Activate LV of the clone read-only, then undo an autoactivation of the original VG that landed
        meanwhile (LVM's autoactivation runs in a unit udev starts without waiting: it may land during the
        import)."""
        self.lvm.activate_lv(clone.name, lv, devices=[clone.overlay_path], read_only=True)
        late = self.lun_users(clone.lun_devices, [blockdev.kernel_name(clone.overlay_path, self.paths.sysfs)])
        if late:
            lv_rows = self.lvm.lvs(clone.pv['vg_name'], devices=[clone.pv_path], readonly=True)
            self.release_autoactivated(clone, lv_rows, late)

    # --- release ----------------------------------------------------------------------------------------

    def release_lv(self, vg, lv, overlays):
        """Deactivate VG/LV; for a clone (OVERLAYS: its overlays), remove the clone once no LV of it is active."""
        scope = overlays or None
        self.lvm.deactivate_lv(vg, lv, devices=scope)
        if overlays and not [row for row in self.lvm.lvs(vg, devices=scope)
                             if mountable(row) and row.get('lv_active') == 'active']:
            self.remove_clone(vg, overlays, strict=True)

    def remove_clone(self, clone, overlays, strict):
        """Deactivate what is left of the clone, then remove its overlay and every trace the import left.

        Not STRICT (clean-up after a failure): a failed deactivation is warned about and the removal goes on."""
        majmins = [blockdev.majmin(blockdev.kernel_name(path, self.paths.sysfs) or '', self.paths.sysfs)
                   for path in overlays]
        devices_file = None
        try:
            devices_file = self.lvm.devices_file()
            self.lvm.deactivate_vg(clone, devices=overlays)
        except ToolError as exc:
            if strict:
                raise
            self.warn('clean-up of the clone %s: %s' % (clone, exc.msg))
        for path in overlays:
            if self.lvm.devices_file_lists(path, devices_file):
                self.lvm.deldev(path)
            blockdev.remove_overlay(self.runner, os.path.basename(path), overlay_dir=self.paths.overlay_dir,
                                    sysfs_root=self.paths.sysfs)
        for leftover in self.lvm.online_records(majmins=[m for m in majmins if m], vg_names=[clone]) \
                + self.lvm.metadata_copies(clone):
            os.unlink(leftover)


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
