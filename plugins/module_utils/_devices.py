# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SCSI disks of iSCSI sessions: which disks a session has, waiting for them, and letting them go.

Built on the block-device seam (_blockdev: sysfs, udev, dm and multipath, holders, SCSI deletion,
settle) and the mount seam (_mounts: what is mounted). `SessionDisks` takes the host's roots
(`HostPaths`) and a command runner, so unit tests build it on a fake tree.
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils._blockdev import list_dir, read_file
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import canonical_host, names_equal, parse_portal
from ansible_collections.san.iscsi.plugins.module_utils._mounts import mountpoints_of_devices

HCTL_RE = re.compile(r'^(\d+):(\d+):(\d+):(\d+)$')
SESSION_RE = re.compile(r'^session(\d+)$')
MAX_POLL = 0.5


class DeviceWaitTimeout(Exception):
    """wait_for_devices ran out of time; `missing` names what never showed up."""

    def __init__(self, missing, devices, timeout):
        self.missing = list(missing)
        self.devices = list(devices or [])
        self.timeout = timeout
        super(DeviceWaitTimeout, self).__init__(
            'timed out after %ss waiting for: %s' % (timeout, '; '.join(self.missing)))


class LunDevice(object):
    """One SCSI disk (a LUN seen through one path). Plain attributes; to_dict() for RETURN."""

    FIELDS = ('hctl', 'lun', 'name', 'path', 'by_path', 'by_id', 'wwid', 'serial', 'size_bytes',
              'vendor', 'model', 'revision', 'multipath', 'holders', 'partitions', 'mountpoints',
              'session_id', 'target', 'portal', 'state')

    def __init__(self, **values):
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise TypeError('unknown LunDevice fields: %s' % ', '.join(sorted(unknown)))
        for field in self.FIELDS:
            setattr(self, field, values.get(field, [] if field in _LIST_FIELDS else None))

    def to_dict(self):
        return dict((field, getattr(self, field)) for field in self.FIELDS)

    def __repr__(self):
        return 'LunDevice(%s %s lun=%s wwid=%s)' % (self.hctl, self.name, self.lun, self.wwid)

    def __eq__(self, other):
        return isinstance(other, LunDevice) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self == other

    __hash__ = None


_LIST_FIELDS = ('by_path', 'by_id', 'holders', 'partitions', 'mountpoints')


# --- sessions -----------------------------------------------------------------------------

def session_info(sid, sysfs_root='/sys'):
    """Target name and portal of an iSCSI session id from sysfs (None values when unknown)."""
    session_dir = os.path.join(sysfs_root, 'class', 'iscsi_session', 'session%s' % sid)
    conn_dir = os.path.join(sysfs_root, 'class', 'iscsi_connection', 'connection%s:0' % sid)
    address = read_file(os.path.join(conn_dir, 'persistent_address')) or read_file(os.path.join(conn_dir, 'address'))
    port = read_file(os.path.join(conn_dir, 'persistent_port')) or read_file(os.path.join(conn_dir, 'port'))
    return {
        'target': read_file(os.path.join(session_dir, 'targetname')),
        'address': address or None,
        'port': int(port) if port and port.isdigit() else None,
        'state': read_file(os.path.join(session_dir, 'state')),
    }


def session_ids(sysfs_root='/sys'):
    """Ids of the host's iSCSI sessions (from /sys/class/iscsi_session), in order."""
    return sorted(int(match.group(1)) for match in (SESSION_RE.match(entry) for entry in list_dir(
        os.path.join(sysfs_root, 'class', 'iscsi_session'))) if match)


def _session_of(device_realpath):
    for part in device_realpath.split(os.sep):
        match = SESSION_RE.match(part)
        if match:
            return int(match.group(1))
    return None


def _scsi_disks(sysfs_root):
    """Yield (hctl, kernel name, session id or None) for every SCSI device that has a block device."""
    bus_dir = os.path.join(sysfs_root, 'bus', 'scsi', 'devices')
    for hctl in list_dir(bus_dir):
        if not HCTL_RE.match(hctl):
            continue
        device_dir = os.path.realpath(os.path.join(bus_dir, hctl))
        for name in list_dir(os.path.join(device_dir, 'block')):
            yield hctl, name, _session_of(device_dir)


# --- LunDevice assembly --------------------------------------------------------------------------

def _serial(device_dir):
    raw = None
    try:
        with open(os.path.join(device_dir, 'vpd_pg80'), 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError):
        return None
    if len(raw) < 4:
        return None
    serial = raw[4:4 + ((raw[2] << 8) | raw[3])].decode('ascii', 'replace')
    return serial.strip('\x00 \t\n') or None


def build_device(hctl, name, sid=None, sysfs_root='/sys', dev_root='/dev', mountinfo='/proc/self/mountinfo'):
    device_dir = os.path.join(blockdev.class_dir(name, sysfs_root), 'device')
    holders = blockdev.upper_devices(name, sysfs_root, with_partitions=True)
    partitions = blockdev.kernel_partitions(name, sysfs_root)
    multipath = next((holder for holder in holders if blockdev.is_multipath_map(holder, sysfs_root)), None)
    info = session_info(sid, sysfs_root) if sid is not None else {}
    portal = None
    if info.get('address'):
        portal = '%s:%s' % (('[%s]' % info['address']) if ':' in info['address'] else info['address'],
                            info['port'])
    return LunDevice(
        hctl=hctl, lun=int(hctl.split(':')[3]), name=name, path=os.path.join(dev_root, name),
        by_path=blockdev.links_to(os.path.join(dev_root, 'disk', 'by-path'), name),
        by_id=blockdev.links_to(os.path.join(dev_root, 'disk', 'by-id'), name),
        wwid=blockdev.lun_wwid(name, sysfs_root), serial=_serial(device_dir),
        size_bytes=blockdev.size_bytes(name, sysfs_root),
        vendor=read_file(os.path.join(device_dir, 'vendor'), ''), model=read_file(os.path.join(device_dir, 'model'), ''),
        revision=read_file(os.path.join(device_dir, 'rev'), ''),
        multipath='/dev/mapper/%s' % blockdev.dm_name(multipath, sysfs_root) if multipath else None,
        holders=holders, partitions=partitions,
        mountpoints=mountpoints_of_devices([name] + partitions + holders, mountinfo, sysfs_root),
        session_id=sid, target=info.get('target'), portal=portal, state=read_file(os.path.join(device_dir, 'state')),
    )


def _sort_key(device):
    return tuple(int(part) for part in device.hctl.split(':'))


def session_devices(sid, sysfs_root='/sys', dev_root='/dev', mountinfo='/proc/self/mountinfo'):
    """LunDevices of one iSCSI session id, ordered by H:C:T:L."""
    devices = [build_device(hctl, name, found_sid, sysfs_root, dev_root, mountinfo)
               for hctl, name, found_sid in _scsi_disks(sysfs_root) if found_sid == int(sid)]
    return sorted(devices, key=_sort_key)


def _portal_matches(portal, info):
    if portal is None:
        return True
    if not info.get('address'):
        return False
    return (canonical_host(portal.host), int(portal.port)) == (canonical_host(info['address']), info['port'])


def find_devices(target=None, portal=None, lun=None, wwid=None, serial=None, sysfs_root='/sys',
                 dev_root='/dev', mountinfo='/proc/self/mountinfo'):
    """SCSI disks matching every given filter, exactly.

    target: IQN (case-insensitive); portal: "host[:port]" (port defaults to 3260) or a Portal;
    lun: int; wwid: e.g. 'naa.6001405...' (case-insensitive); serial: VPD page 0x80 serial.
    target/portal only match disks of iSCSI sessions; wwid/serial alone match any SCSI disk.
    """
    if isinstance(portal, str):
        portal = parse_portal(portal)
    found = []
    infos = {}
    for hctl, name, sid in _scsi_disks(sysfs_root):
        if lun is not None and int(hctl.split(':')[3]) != int(lun):
            continue
        if target is not None or portal is not None:
            if sid is None:
                continue
            info = infos.setdefault(sid, session_info(sid, sysfs_root))
            if (target is not None and not names_equal(info.get('target'), target)) or \
                    not _portal_matches(portal, info):
                continue
        device = build_device(hctl, name, sid, sysfs_root, dev_root, mountinfo)
        if wwid is not None and (device.wwid or '') != wwid.strip().lower():
            continue
        if serial is not None and device.serial != serial.strip():
            continue
        found.append(device)
    return sorted(found, key=_sort_key)


def iscsi_path_suffix(target, lun):
    """How the by-path name udev's path_id builtin gives a LUN of an iSCSI session ends: '-iscsi-T-lun-N'.

    path_id writes LUNs below 256 in decimal, others as 'lun-0x%04x%04x00000000' (SAM addressing)."""
    lun = int(lun)
    number = 'lun-%d' % lun if lun < 256 else 'lun-0x%04x%04x00000000' % (lun & 0xffff, (lun >> 16) & 0xffff)
    return '-iscsi-%s-%s' % (target, number)


def udev_processed_iscsi_disk(device, sysfs_root='/sys', udev_db='/run/udev/data'):
    """Whether udev has finished the add event of an iSCSI disk (a LunDevice of a session).

    udev writes a device's database entry after it has made the device's links, so the entry naming
    the disk's by-path link is the sign. The link in /dev is not: the by-path name has no iface in it,
    so the disks of two sessions of one initiator to one (portal, target) ask for the same name and
    udev gives it to only one of them. Matching the target and LUN also keeps a stale entry of an
    earlier disk with the same major:minor (whose remove udev has not handled yet) from counting.
    """
    if not device.target:
        return False
    suffix = iscsi_path_suffix(device.target, device.lun)
    return any(link.startswith('disk/by-path/ip-') and link.endswith(suffix)
               for link in blockdev.udev_links(device.name, sysfs_root, udev_db))


def session_host(sid, sysfs_root='/sys'):
    """SCSI host number of an iSCSI session ('.../hostH/sessionN'), or None."""
    device = os.path.realpath(os.path.join(sysfs_root, 'class', 'iscsi_session', 'session%s' % sid, 'device'))
    match = re.match(r'^host(\d+)$', os.path.basename(os.path.dirname(device)))
    return int(match.group(1)) if match else None


def scan_session(sid, sysfs_root='/sys'):
    """Scan the session's SCSI host for LUNs; the write returns when the kernel's scan has finished."""
    host = session_host(sid, sysfs_root)
    if host is None:
        raise OSError('session %s has no SCSI host in sysfs' % sid)
    with open(os.path.join(sysfs_root, 'class', 'scsi_host', 'host%d' % host, 'scan'), 'w') as handle:
        handle.write('- - -')


# --- waiting -------------------------------------------------------------------------------------

def wait_for_devices(predicate, timeout, poll=0.05, settle=None, clock=time.monotonic, sleep=time.sleep):
    """Wait until predicate() reports nothing missing; return its devices.

    predicate() -> (devices, missing): missing is a list of human-readable strings ('LUN 3 of
    iqn...', 'multipath map for naa.6001...'); empty means done. Each round lets udev finish its
    queue (`udevadm settle`, bounded by what is left of the timeout), looks again, and only then
    sleeps a short, growing interval (poll .. MAX_POLL): the kernel queues the LUN scan after login
    returns, so an empty udev queue does not yet mean "no more devices".
    Raises DeviceWaitTimeout naming what is still missing.
    """
    if timeout <= 0:
        raise ValueError('timeout must be greater than 0')
    deadline = clock() + timeout
    interval = poll
    while True:
        devices, missing = predicate()
        remaining = deadline - clock()
        if not missing:
            return devices
        if remaining <= 0:
            raise DeviceWaitTimeout(missing, devices, timeout)
        if settle is not None:
            settle(remaining)
            devices, missing = predicate()
            if not missing:
                return devices
            remaining = deadline - clock()
            if remaining <= 0:
                raise DeviceWaitTimeout(missing, devices, timeout)
        sleep(min(interval, remaining))
        interval = min(interval * 2, MAX_POLL)


# --- one host's session disks ----------------------------------------------------------------------

class DevicesBusy(Exception):
    """Disks still in use (mounted, swap, active LVM, or /): logging out would pull storage from a user."""


class SessionDisks(object):
    """The disks of iSCSI sessions on one host: read under PATHS (a HostPaths), acted on through
    RUNNER (a _command.Runner)."""

    def __init__(self, runner, paths=None):
        self.runner = runner
        self.paths = paths or HostPaths()

    def of_sessions(self, sessions):
        """LunDevices of these sessions (objects with .sid), in session order then H:C:T:L."""
        devices = []
        for session in sessions:
            devices.extend(session_devices(session.sid, self.paths.sysfs, self.paths.dev, self.paths.mountinfo))
        return devices

    def session_state(self, sid):
        return session_info(sid, self.paths.sysfs).get('state')

    def scan(self, sid):
        scan_session(sid, self.paths.sysfs)

    def multipath_expected(self, mode):
        """Whether paths get a multipath map: MODE 'yes', or 'auto' with multipathd running."""
        return mode == 'yes' or (mode == 'auto' and blockdev.multipathd_running(self.paths.proc))

    def ready(self, device, need_multipath):
        """What is still missing before DEVICE can be used: [] when udev (and multipath) are done with it."""
        missing = []
        if not udev_processed_iscsi_disk(device, self.paths.sysfs, self.paths.udev_db):
            missing.append('udev to process %s (LUN %d)' % (device.path, device.lun))
        if need_multipath and not device.multipath and blockdev.multipath_claimed(
                device.name, self.paths.sysfs, self.paths.udev_db):
            missing.append('multipath map of %s (LUN %d, %s)' % (device.path, device.lun, device.wwid))
        return missing

    def wait(self, predicate, timeout):
        """wait_for_devices with a bounded `udevadm settle` between looks (see wait_for_devices)."""
        return wait_for_devices(predicate, timeout, settle=blockdev.udev_settler(self.runner))

    def busy(self, devices):
        """Why each disk may not go away: ['/dev/sdc (LUN 0) mounted at /mnt and used as swap', ...].

        Raises DevicesBusy at once for a disk that backs /: nothing overrides that."""
        swaps = set(blockdev.swap_devices(os.path.join(self.paths.proc, 'swaps')))
        busy = []
        for device in devices:
            if '/' in device.mountpoints:
                raise DevicesBusy('%s (LUN %d) backs the root file system /' % (device.path, device.lun))
            reasons = ['mounted at %s' % ', '.join(device.mountpoints)] if device.mountpoints else []
            if swaps.intersection([device.name] + device.partitions + device.holders):
                reasons.append('used as swap')
            volumes = [holder for holder in device.holders if blockdev.is_lvm_volume(holder, self.paths.sysfs)]
            if volumes:
                reasons.append('holds active LVM volume(s) %s' % ', '.join(
                    blockdev.dm_name(holder, self.paths.sysfs) or holder for holder in volumes))
            if reasons:
                busy.append('%s (LUN %d) %s' % (device.path, device.lun, ' and '.join(reasons)))
        return busy

    def not_releasable(self, devices):
        """busy(), plus disks holding anything but a multipath map (a dm-crypt, a RAID member, an inactive LV's
        mapping someone set up): why each may not be let go of while its session stays, as lun_device and
        session's wwids option refuse. Raises DevicesBusy for a disk that backs /."""
        busy = self.busy(devices)
        for device in devices:
            stacked = [name for name in device.holders if not blockdev.is_multipath_map(name, self.paths.sysfs)]
            if stacked and not any(reason.startswith(device.path + ' ') for reason in busy):
                busy.append('%s (LUN %d) holds %s' % (device.path, device.lun, ', '.join(stacked)))
        return busy

    def release(self, devices, force=False, warn=None):
        """Flush the multipath maps built only on these disks, then flush and delete each disk from the kernel.

        A map that cannot be flushed is an error unless FORCE; a disk whose buffers cannot be flushed is
        reported through WARN and deleted all the same (sd syncs its cache on delete)."""
        names = set(device.name for device in devices)
        maps = sorted(set(device.multipath for device in devices if device.multipath))
        can_flush_maps = self.runner.has('multipath')
        for mapped in maps:
            kernel_name = blockdev.dm_by_name(os.path.basename(mapped), self.paths.sysfs)
            slaves = blockdev.slaves(kernel_name, self.paths.sysfs) if kernel_name else []
            if can_flush_maps and slaves and set(slaves) <= names:
                self.runner.run('multipath', ['-f', os.path.basename(mapped)], ok=None if force else (0,),
                                what='flushing multipath map %s before logout' % mapped)
        for device in devices:
            if os.path.exists(device.path):
                try:
                    blockdev.flush_device(device.path)
                except OSError as error:
                    if warn:
                        warn('could not flush %s: %s' % (device.path, error))
            blockdev.delete_scsi_device(device.name, self.paths.sysfs)


class DevicePredicate(object):
    """predicate() for SessionDisks.wait: (devices, missing descriptions) of SESSIONS' LUNS (None: any LUN)."""

    def __init__(self, disks, sessions, luns, need_multipath, initiator):
        self.disks = disks
        self.sessions = sessions
        self.luns = luns
        self.need_multipath = need_multipath
        self.initiator = initiator
        self.recovering = False

    def __call__(self):
        devices, missing = [], []
        self.recovering = False
        for session in self.sessions:
            found = self.disks.of_sessions([session])
            devices.extend(found)
            where = '%s at %s (session %s)' % (session.target, session.persistent_portal.address, session.sid)
            state = self.disks.session_state(session.sid)
            if state and state != 'LOGGED_IN':
                self.recovering = True
                missing.append('session %s to be logged in again (state %s)' % (where, state))
            present = set(d.lun for d in found)
            if self.luns is None and not found:
                missing.append('any LUN on %s' % where)
            for lun in sorted(set(self.luns or []) - present):
                missing.append('LUN %d on %s' % (lun, where))
            for device in found:
                if self.luns is None or device.lun in self.luns:
                    missing.extend(self.disks.ready(device, self.need_multipath))
        return devices, missing

    def explain(self, devices):
        if not devices:
            return ('the login worked but the target presents no LUN to initiator %s: the likely cause is the '
                    "target's ACL (no LUN mapped to this initiator)" % self.initiator)
        if self.luns:
            return 'LUNs seen: %s; check the LUN mapping of the ACL for %s' % (
                ', '.join(str(lun) for lun in sorted(set(d.lun for d in devices))), self.initiator)
        return 'devices seen: %s' % ', '.join(d.path for d in devices)
