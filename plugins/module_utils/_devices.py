# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sysfs/udev seam: SCSI disks of iSCSI sessions, their links, holders and mounts.

Everything reads files under an injectable sysfs root (and /dev, /proc/self/mountinfo) so unit
tests can build a fake tree; the only command is `udevadm settle`, run through the module.
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    InvalidName, canonical_host, names_equal, parse_portal,
)

HCTL_RE = re.compile(r'^(\d+):(\d+):(\d+):(\d+)$')
SESSION_RE = re.compile(r'^session(\d+)$')
SECTOR_BYTES = 512  # /sys/block/X/size counts 512-byte sectors whatever the logical block size
SETTLE_SLICE = 1  # seconds one `udevadm settle` may block: other devices' events must not delay ours
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


def _read(path, default=None):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace').strip()
    except (IOError, OSError):
        return default


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


# --- sessions -----------------------------------------------------------------------------

def session_info(sid, sysfs_root='/sys'):
    """Target name and portal of an iSCSI session id from sysfs (None values when unknown)."""
    session_dir = os.path.join(sysfs_root, 'class', 'iscsi_session', 'session%s' % sid)
    conn_dir = os.path.join(sysfs_root, 'class', 'iscsi_connection', 'connection%s:0' % sid)
    address = _read(os.path.join(conn_dir, 'persistent_address')) or _read(os.path.join(conn_dir, 'address'))
    port = _read(os.path.join(conn_dir, 'persistent_port')) or _read(os.path.join(conn_dir, 'port'))
    return {
        'target': _read(os.path.join(session_dir, 'targetname')),
        'address': address or None,
        'port': int(port) if port and port.isdigit() else None,
        'state': _read(os.path.join(session_dir, 'state')),
    }


def _session_of(device_realpath):
    for part in device_realpath.split(os.sep):
        match = SESSION_RE.match(part)
        if match:
            return int(match.group(1))
    return None


def _scsi_disks(sysfs_root):
    """Yield (hctl, kernel name, session id or None) for every SCSI device that has a block device."""
    bus_dir = os.path.join(sysfs_root, 'bus', 'scsi', 'devices')
    for hctl in _listdir(bus_dir):
        if not HCTL_RE.match(hctl):
            continue
        device_dir = os.path.realpath(os.path.join(bus_dir, hctl))
        for name in _listdir(os.path.join(device_dir, 'block')):
            yield hctl, name, _session_of(device_dir)


# --- holders, partitions, links, mounts ---------------------------------------------------------

def _partitions(name, sysfs_root):
    block_dir = os.path.join(sysfs_root, 'class', 'block', name)
    return [entry for entry in _listdir(block_dir)
            if entry.startswith(name) and os.path.exists(os.path.join(block_dir, entry, 'partition'))]


def _direct_holders(name, sysfs_root):
    return _listdir(os.path.join(sysfs_root, 'class', 'block', name, 'holders'))


def device_holders_tree(name, sysfs_root='/sys'):
    """Kernel names holding `name` or one of its partitions, recursively (dm maps, LVs on them, md...)."""
    found = []
    pending = [name] + _partitions(name, sysfs_root)
    seen = set(pending)
    while pending:
        for holder in _direct_holders(pending.pop(0), sysfs_root):
            if holder not in seen:
                seen.add(holder)
                found.append(holder)
                pending.append(holder)
    return found


def dm_name(name, sysfs_root='/sys'):
    return _read(os.path.join(sysfs_root, 'class', 'block', name, 'dm', 'name'))


def multipath_map(holders, sysfs_root='/sys'):
    """'/dev/mapper/<name>' of the dm-multipath map among the holders, or None."""
    for holder in holders:
        uuid = _read(os.path.join(sysfs_root, 'class', 'block', holder, 'dm', 'uuid')) or ''
        if uuid.startswith('mpath-'):
            return '/dev/mapper/%s' % dm_name(holder, sysfs_root)
    return None


def _links(directory, name):
    """The links in DIRECTORY (/dev/disk/by-*) that resolve to the kernel device NAME.

    udev replaces a link by renaming a temporary '.#NAME...' link over it: those are skipped, and so is a
    link that vanishes between the listing and its resolution."""
    links = []
    for entry in _listdir(directory):
        link = os.path.join(directory, entry)
        if entry.startswith('.'):
            continue
        try:
            if os.path.islink(link) and os.path.basename(os.path.realpath(link)) == name:
                links.append(link)
        except OSError:
            continue
    return links


def _unescape_mountinfo(field):
    return re.sub(r'\\([0-7]{3})', lambda match: chr(int(match.group(1), 8)), field)


def _majmin(name, sysfs_root):
    return _read(os.path.join(sysfs_root, 'class', 'block', name, 'dev'))


def mountpoints(names, mountinfo='/proc/self/mountinfo', sysfs_root='/sys'):
    """Mount points whose source is one of the kernel names (by major:minor, else by /dev path)."""
    names = list(names)
    majmins = set(filter(None, (_majmin(name, sysfs_root) for name in names)))
    sources = set('/dev/%s' % name for name in names)
    sources.update('/dev/mapper/%s' % mapped for mapped in filter(None, (dm_name(n, sysfs_root) for n in names)))
    found = []
    for line in (_read(mountinfo, '') or '').splitlines():
        fields = line.split()
        if ' - ' not in line or len(fields) < 10:
            continue
        source = line.split(' - ', 1)[1].split()[1:2]
        if fields[2] in majmins or (source and _unescape_mountinfo(source[0]) in sources):
            point = _unescape_mountinfo(fields[4])
            if point not in found:
                found.append(point)
    return found


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
    block_dir = os.path.join(sysfs_root, 'class', 'block', name)
    device_dir = os.path.join(block_dir, 'device')
    holders = device_holders_tree(name, sysfs_root)
    partitions = _partitions(name, sysfs_root)
    size = _read(os.path.join(block_dir, 'size'))
    wwid = _read(os.path.join(device_dir, 'wwid'))
    info = session_info(sid, sysfs_root) if sid is not None else {}
    portal = None
    if info.get('address'):
        portal = '%s:%s' % (('[%s]' % info['address']) if ':' in info['address'] else info['address'],
                            info['port'])
    return LunDevice(
        hctl=hctl, lun=int(hctl.split(':')[3]), name=name, path=os.path.join(dev_root, name),
        by_path=_links(os.path.join(dev_root, 'disk', 'by-path'), name),
        by_id=_links(os.path.join(dev_root, 'disk', 'by-id'), name),
        wwid=wwid.lower() if wwid else None, serial=_serial(device_dir),
        size_bytes=int(size) * SECTOR_BYTES if size and size.isdigit() else 0,
        vendor=_read(os.path.join(device_dir, 'vendor'), ''), model=_read(os.path.join(device_dir, 'model'), ''),
        revision=_read(os.path.join(device_dir, 'rev'), ''),
        multipath=multipath_map(holders, sysfs_root), holders=holders, partitions=partitions,
        mountpoints=mountpoints([name] + partitions + holders, mountinfo, sysfs_root),
        session_id=sid, target=info.get('target'), portal=portal, state=_read(os.path.join(device_dir, 'state')),
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


def udev_properties(name, sysfs_root='/sys', udev_db='/run/udev/data'):
    """Properties udev recorded for a block device (its database entry b<major>:<minor>), {} if none."""
    majmin = _majmin(name, sysfs_root)
    properties = {}
    for line in (_read(os.path.join(udev_db, 'b%s' % majmin), '') or '').splitlines() if majmin else []:
        if line.startswith('E:') and '=' in line:
            key, value = line[2:].split('=', 1)
            properties[key] = value
    return properties


def udev_links(name, sysfs_root='/sys', udev_db='/run/udev/data'):
    """The links udev's rules gave a block device (its database 'S:' lines, relative to /dev), [] if none.

    This is what udev asked for, not who owns the link in /dev now: when two devices ask for one link
    name, the database of each lists it and /dev points it at one of them."""
    majmin = _majmin(name, sysfs_root)
    text = (_read(os.path.join(udev_db, 'b%s' % majmin), '') or '') if majmin else ''
    return [line[2:] for line in text.splitlines() if line.startswith('S:')]


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
               for link in udev_links(device.name, sysfs_root, udev_db))


def multipath_claimed(name, sysfs_root='/sys', udev_db='/run/udev/data'):
    """Whether multipath's udev rules marked the disk as a path of a multipath map (a map will follow)."""
    return udev_properties(name, sysfs_root, udev_db).get('DM_MULTIPATH_DEVICE_PATH') == '1'


# --- actions on the kernel (real runs only) -------------------------------------------------------

BLKFLSBUF = 0x1261  # <linux/fs.h>: flush the buffer cache of a block device


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


def flush_device(path):
    """fsync and drop the buffer cache of a block device (what `blockdev --flushbufs` does)."""
    import fcntl
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0))
    try:
        os.fsync(fd)
        fcntl.ioctl(fd, BLKFLSBUF, 0)
    finally:
        os.close(fd)


def delete_device(name, sysfs_root='/sys'):
    """Remove a SCSI disk from the kernel (sd syncs its cache first), like `echo 1 > .../delete`."""
    with open(os.path.join(sysfs_root, 'class', 'block', name, 'device', 'delete'), 'w') as handle:
        handle.write('1')


def multipathd_running(proc_root='/proc'):
    for entry in _listdir(proc_root):
        if entry.isdigit() and _read(os.path.join(proc_root, entry, 'comm')) == 'multipathd':
            return True
    return False


def swap_devices(swaps='/proc/swaps'):
    """Kernel names of active swap devices ('/dev/sda2' -> 'sda2'; mapper names as given)."""
    names = []
    for line in (_read(swaps, '') or '').splitlines()[1:]:
        fields = line.split()
        if fields and fields[0].startswith('/dev/'):
            names.append(fields[0][len('/dev/'):])
    return names


def dm_uuid(name, sysfs_root='/sys'):
    return _read(os.path.join(sysfs_root, 'class', 'block', name, 'dm', 'uuid')) or ''


# --- waiting -------------------------------------------------------------------------------------

def udev_settler(module, timeout_cap=SETTLE_SLICE):
    """A settle(seconds) callable running `udevadm settle` bounded, or None when udevadm is absent."""
    udevadm = module.get_bin_path('udevadm')
    if not udevadm:
        return None

    def settle(seconds):
        seconds = max(1, int(min(seconds, timeout_cap) + 0.999))
        # rc != 0 only means events were still queued when the bound passed: the caller keeps polling.
        module.run_command([udevadm, 'settle', '--timeout=%d' % seconds], environ_update={'LC_ALL': 'C'})
    return settle


def wait_for_devices(predicate, timeout, poll=0.05, module=None, settle=None, clock=time.monotonic, sleep=time.sleep):
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
    if settle is None and module is not None:
        settle = udev_settler(module)
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


__all__ = ['LunDevice', 'DeviceWaitTimeout', 'InvalidName', 'session_devices', 'find_devices',
           'device_holders_tree', 'mountpoints', 'wait_for_devices', 'udev_settler', 'session_info',
           'multipath_map', 'dm_name', 'build_device', 'session_host', 'scan_session', 'flush_device',
           'delete_device', 'multipathd_running', 'swap_devices', 'dm_uuid', 'udev_properties',
           'multipath_claimed', 'udev_links', 'iscsi_path_suffix',
           'udev_processed_iscsi_disk']
