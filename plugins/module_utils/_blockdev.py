# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The block-layer seam: low-level probes, partition tables, read-only flags, I/O counters, overlays.

Commands (blkid, partx, blockdev, dmsetup, losetup, udevadm) run through `Runner`: argv lists,
LC_ALL=C, bounded by coreutils `timeout`, failures raised as ToolError (cmd, rc, stdout, stderr).
Everything read from sysfs takes an injectable root so unit tests can build a fake tree.
Nothing here ever writes to a LUN: probes read, `blockdev --setro` only sets the kernel flag, and the
copy-on-write overlay sends every write to a scratch loop device.
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.san.iscsi.plugins.module_utils._command import KILL_GRACE, ToolError

SECTOR_BYTES = 512
SETTLE_SLICE = 1  # seconds one `udevadm settle` may block in a wait loop: other devices' events must not delay ours
BLKFLSBUF = 0x1261  # <linux/fs.h>: flush the buffer cache of a block device

BLKID_NOTHING_FOUND = 2
BLKID_AMBIVALENT = 8

OVERLAY_UUID_PREFIX = 'SANISCSI-OVL-'
OVERLAY_NAME_PREFIX = 'san_iscsi_ovl_'
OVERLAY_DIR = '/run/san-iscsi'
# Room for what an import writes (PV label, a few metadata copies, thin-pool metadata on activation).
# The file is sparse and lives in /run: only written chunks take memory.
OVERLAY_COW_BYTES = 256 * 1024 * 1024
OVERLAY_CHUNK_SECTORS = 8

STAT_FIELDS = ('read_ios', 'read_merges', 'read_sectors', 'read_ticks',
               'write_ios', 'write_merges', 'write_sectors', 'write_ticks',
               'in_flight', 'io_ticks', 'time_in_queue')


# --- reading kernel files -------------------------------------------------------------------------

def read_file(path, default=None):
    """A small kernel or system file's text, stripped; DEFAULT when it is missing or vanished meanwhile."""
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace').strip()
    except (IOError, OSError):
        return default


def list_dir(path):
    """A directory's entries, sorted; [] when it is missing or vanished meanwhile."""
    try:
        return sorted(os.listdir(path))
    except (IOError, OSError):
        return []


def links_to(directory, name):
    """The links in DIRECTORY (/dev/disk/by-*) that resolve to the kernel device NAME.

    udev replaces a link by renaming a temporary '.#NAME...' link over it: those are skipped, and so is a
    link that vanishes between the listing and its resolution."""
    links = []
    for entry in list_dir(directory):
        link = os.path.join(directory, entry)
        if entry.startswith('.'):
            continue
        try:
            if os.path.islink(link) and os.path.basename(os.path.realpath(link)) == name:
                links.append(link)
        except OSError:
            continue
    return links


# --- sysfs ----------------------------------------------------------------------------------------

def class_dir(name, sysfs_root='/sys'):
    return os.path.join(sysfs_root, 'class', 'block', name)


def kernel_name(device, sysfs_root='/sys'):
    """Kernel name ('sdb', 'dm-3', 'sdb1') of a device path (symlinks resolved), or None."""
    name = os.path.basename(os.path.realpath(device))
    if os.path.isdir(class_dir(name, sysfs_root)):
        return name
    try:
        rdev = os.stat(device).st_rdev
    except OSError:
        return None
    return name_of_majmin('%d:%d' % (os.major(rdev), os.minor(rdev)), sysfs_root)


def name_of_majmin(majmin, sysfs_root='/sys'):
    link = os.path.join(sysfs_root, 'dev', 'block', majmin)
    if not os.path.exists(link):
        return None
    return os.path.basename(os.path.realpath(link))


def majmin(name, sysfs_root='/sys'):
    return read_file(os.path.join(class_dir(name, sysfs_root), 'dev'))


def size_bytes(name, sysfs_root='/sys'):
    sectors = read_file(os.path.join(class_dir(name, sysfs_root), 'size'), '0')
    return int(sectors) * SECTOR_BYTES if sectors.isdigit() else 0


def is_read_only(name, sysfs_root='/sys'):
    return read_file(os.path.join(class_dir(name, sysfs_root), 'ro')) == '1'


def io_stat(name, sysfs_root='/sys'):
    """The kernel's I/O counters of a block device (/sys/class/block/NAME/stat) as a dict of ints."""
    text = read_file(os.path.join(class_dir(name, sysfs_root), 'stat'))
    if text is None:
        raise ToolError('no I/O statistics for block device %s' % name)
    values = [int(value) for value in text.split()]
    return dict(zip(STAT_FIELDS, values))


def dm_uuid(name, sysfs_root='/sys'):
    """The device-mapper UUID of a dm device ('mpath-3600...', 'LVM-...'); '' for any other device."""
    return read_file(os.path.join(class_dir(name, sysfs_root), 'dm', 'uuid'), '')


def dm_name(name, sysfs_root='/sys'):
    return read_file(os.path.join(class_dir(name, sysfs_root), 'dm', 'name'))


def holders(name, sysfs_root='/sys'):
    return list_dir(os.path.join(class_dir(name, sysfs_root), 'holders'))


def slaves(name, sysfs_root='/sys'):
    return list_dir(os.path.join(class_dir(name, sysfs_root), 'slaves'))


def upper_devices(name, sysfs_root='/sys', with_partitions=False):
    """Every device stacked on NAME (its holders, theirs, ...), nearest first.

    with_partitions: also what is stacked on NAME's kernel partitions (a disk's whole holder tree)."""
    pending = [name] + (kernel_partitions(name, sysfs_root) if with_partitions else [])
    seen = set(pending)
    found = []
    while pending:
        for entry in holders(pending.pop(0), sysfs_root):
            if entry not in seen:
                seen.add(entry)
                found.append(entry)
                pending.append(entry)
    return found


def lower_devices(name, sysfs_root='/sys'):
    """Every device below NAME (its slaves, theirs, ...) plus the whole disk of any partition."""
    found = []
    pending = [name]
    while pending:
        current = pending.pop(0)
        below = slaves(current, sysfs_root)
        parent = whole_disk(current, sysfs_root)
        if parent != current:
            below.append(parent)
        for entry in below:
            if entry not in found:
                found.append(entry)
                pending.append(entry)
    return found


def whole_disk(name, sysfs_root='/sys'):
    """The disk a partition belongs to ('sdb' for 'sdb1'); the name itself for a whole disk."""
    directory = class_dir(name, sysfs_root)
    if os.path.exists(os.path.join(directory, 'partition')):
        return os.path.basename(os.path.dirname(os.path.realpath(directory)))
    return name


def kernel_partitions(name, sysfs_root='/sys'):
    """Kernel names of a disk's partitions ('sdb1', ...), in name order."""
    directory = class_dir(name, sysfs_root)
    return [entry for entry in list_dir(directory)
            if entry.startswith(name) and os.path.exists(os.path.join(directory, entry, 'partition'))]


def partition_devices(name, sysfs_root='/sys'):
    """{partition number: kernel name} of a disk: kernel partitions, or kpartx maps of a dm device."""
    found = {}
    directory = class_dir(name, sysfs_root)
    for entry in list_dir(directory):
        number = read_file(os.path.join(directory, entry, 'partition'))
        if number and number.isdigit():
            found[int(number)] = entry
    for holder in holders(name, sysfs_root):
        match = re.match(r'^part(\d+)-', dm_uuid(holder, sysfs_root))
        if match:
            found.setdefault(int(match.group(1)), holder)
    return found


def lun_wwid(name, sysfs_root='/sys'):
    """The SCSI WWID of a disk ('naa.6001405...', lower case), or None."""
    return (read_file(os.path.join(class_dir(name, sysfs_root), 'device', 'wwid')) or '').lower() or None


def device_wwid(name, sysfs_root='/sys'):
    """The LUN WWID under a device: a disk's or partition's own; a multipath map's or its partition map's
    through the paths below it; or None."""
    if dm_uuid(name, sysfs_root):
        for lower in slaves(name, sysfs_root):
            wwid = device_wwid(lower, sysfs_root)
            if wwid:
                return wwid
        return None
    return lun_wwid(whole_disk(name, sysfs_root), sysfs_root)


def same_lun_devices(name, sysfs_root='/sys'):
    """NAME, then the same device on every other path to its LUN (without a multipath map, each iSCSI path is
    a disk of its own): the disks with the same WWID or, for a partition, their partition of the same number."""
    disk = whole_disk(name, sysfs_root)
    wwid = lun_wwid(disk, sysfs_root)
    if not wwid:
        return [name]
    number = read_file(os.path.join(class_dir(name, sysfs_root), 'partition')) if disk != name else None
    found = [name]
    for entry in list_dir(os.path.join(sysfs_root, 'block')):
        if entry == disk or lun_wwid(entry, sysfs_root) != wwid:
            continue
        if number is None:
            found.append(entry)
        else:
            found.extend(part for nr, part in sorted(partition_devices(entry, sysfs_root).items())
                         if str(nr) == number)
    return found


def is_multipath_map(name, sysfs_root='/sys'):
    """Whether NAME is a dm-multipath map (its dm UUID starts with 'mpath-')."""
    return dm_uuid(name, sysfs_root).startswith('mpath-')


def is_lvm_volume(name, sysfs_root='/sys'):
    """Whether NAME is an active LVM logical volume (its dm UUID starts with 'LVM-')."""
    return dm_uuid(name, sysfs_root).startswith('LVM-')


def multipath_map_devices(sysfs_root='/sys'):
    """Kernel names ('dm-3') of this host's dm-multipath maps."""
    return [entry for entry in list_dir(os.path.join(sysfs_root, 'class', 'block'))
            if is_multipath_map(entry, sysfs_root)]


def multipath_holder(name, sysfs_root='/sys'):
    """Kernel name of the dm-multipath map built on NAME, or None."""
    for holder in holders(name, sysfs_root):
        if is_multipath_map(holder, sysfs_root):
            return holder
    return None


def dm_by_name(map_name, sysfs_root='/sys'):
    """Kernel name ('dm-3') of the device-mapper device named MAP_NAME, or None."""
    for entry in list_dir(os.path.join(sysfs_root, 'class', 'block')):
        if entry.startswith('dm-') and dm_name(entry, sysfs_root) == map_name:
            return entry
    return None


def device_path(name, sysfs_root='/sys', dev_root='/dev'):
    """The path users know: /dev/mapper/NAME for dm devices, /dev/NAME otherwise."""
    mapped = dm_name(name, sysfs_root)
    if mapped:
        return os.path.join(dev_root, 'mapper', mapped)
    return os.path.join(dev_root, name)


def stable_links(name, dev_root='/dev'):
    """{'by-id': [...], 'by-path': [...], 'by-uuid': [...]}: udev links that resolve to NAME."""
    links = {}
    for kind in ('by-id', 'by-path', 'by-uuid'):
        directory = os.path.join(dev_root, 'disk', kind)
        links[kind] = links_to(directory, name)
    return links


# by-id links in order of preference: multipath map, WWN, SCSI page 83, anything else but LVM's PV links.
_BY_ID_PREFERENCE = ('dm-uuid-mpath-', 'dm-uuid-part', 'wwn-', 'scsi-3', 'scsi-')


def stable_identifier(name, dev_root='/dev'):
    """The best persistent path of a device: a by-id link (WWN first), else by-path; None when none."""
    links = stable_links(name, dev_root)
    by_id = [link for link in links['by-id'] if not os.path.basename(link).startswith('lvm-pv-uuid-')]
    for prefix in _BY_ID_PREFERENCE:
        for link in by_id:
            if os.path.basename(link).startswith(prefix):
                return link
    if by_id:
        return by_id[0]
    return links['by-path'][0] if links['by-path'] else None


# --- probes -----------------------------------------------------------------------------------------

def _unescape(value):
    value = re.sub(r'\\x([0-9a-fA-F]{2})', lambda match: chr(int(match.group(1), 16)), value)
    return re.sub(r'\\(.)', r'\1', value)


def parse_blkid_export(text):
    """`blkid -o export` output ('KEY=value' lines, blanks escaped with a backslash) -> dict."""
    fields = {}
    for line in (text or '').splitlines():
        key, sep, value = line.partition('=')
        if sep and key.strip():
            fields[key.strip()] = _unescape(value.strip())
    return fields


def probe(runner, device):
    """Low-level probe of DEVICE's content (superblocks and partition tables, never the blkid cache).

    Returns blkid's fields (TYPE, USAGE, UUID, LABEL, PTTYPE, ...); {} for a blank device.
    Raises ToolError when signatures contradict each other (blkid exit code 8).
    """
    rc, out, err = runner.run('blkid', ['-p', '-o', 'export', device], ok=(0, BLKID_NOTHING_FOUND, BLKID_AMBIVALENT),
                              what='probing %s' % device)
    if rc == BLKID_NOTHING_FOUND:
        return {}
    if rc == BLKID_AMBIVALENT:
        raise ToolError('%s carries contradicting signatures (blkid: ambivalent probing result); '
                        'refusing to guess what it holds' % device, cmd=runner.calls[-1], rc=rc,
                        stdout=out, stderr=err)
    return parse_blkid_export(out)


def reads_as_zeros(path, span=1024 * 1024):
    """Whether the first and the last SPAN bytes of PATH (a disk) are all zero, as on a LUN never written. blkid
    finds nothing on a disk that holds data it does not know (a raw database, say); this finds the data."""
    with open(path, 'rb') as handle:
        head = handle.read(span)
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - span))
        tail = handle.read(span)
    return not head.strip(b'\0') and not tail.strip(b'\0')


_PAIR_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
PARTX_COLUMNS = 'NR,START,SECTORS,TYPE,UUID,NAME,SCHEME'


def parse_partx_pairs(text):
    """`partx --pairs` output -> [{'nr': 1, 'start': 2048, 'sectors': ..., 'type': ..., ...}]."""
    rows = []
    for line in (text or '').splitlines():
        fields = dict((key.lower(), _unescape(value)) for key, value in _PAIR_RE.findall(line))
        if 'nr' not in fields:
            continue
        for key in ('nr', 'start', 'sectors'):
            if fields.get(key, '').isdigit():
                fields[key] = int(fields[key])
        rows.append(fields)
    return rows


def partitions(runner, device):
    """The partition table of DEVICE as read from the disk itself (not the kernel's view)."""
    _rc, out, _err = runner.run('partx', ['--pairs', '--output', PARTX_COLUMNS, device],
                                what='listing partitions of %s' % device)
    return parse_partx_pairs(out)


# --- read-only flag ---------------------------------------------------------------------------------

def set_read_only(runner, device):
    """Set the kernel's read-only flag on DEVICE (BLKROSET): no write open from user space succeeds."""
    runner.run('blockdev', ['--setro', device], what='setting %s read-only' % device)


# --- copy-on-write overlay ---------------------------------------------------------------------------

def overlay_name(tag):
    return OVERLAY_NAME_PREFIX + tag


def is_overlay(name, sysfs_root='/sys'):
    return dm_uuid(name, sysfs_root).startswith(OVERLAY_UUID_PREFIX)


def overlay_cow_file(dm_map_name, overlay_dir=OVERLAY_DIR):
    return os.path.join(overlay_dir, dm_map_name + '.cow')


def loop_of(backing_file, sysfs_root='/sys'):
    """Kernel name of the loop device backed by BACKING_FILE, or None."""
    block_dir = os.path.join(sysfs_root, 'block')
    for entry in list_dir(block_dir):
        if entry.startswith('loop'):
            backing = read_file(os.path.join(block_dir, entry, 'loop', 'backing_file'))
            if backing == backing_file:
                return entry
    return None


def create_overlay(runner, origin, dm_map_name, overlay_dir=OVERLAY_DIR, cow_bytes=OVERLAY_COW_BYTES,
                   sysfs_root='/sys'):
    """A writable dm-snapshot of ORIGIN whose writes land in a sparse file in OVERLAY_DIR.

    The snapshot target opens its origin read-only and never writes to it, so anything done on the
    overlay (an LVM clone import, journal or thin-pool metadata updates) leaves ORIGIN untouched.
    Returns the overlay's path (/dev/mapper/DM_MAP_NAME).
    """
    origin_name = kernel_name(origin, sysfs_root)
    if origin_name is None:
        raise ToolError('%s is not a block device' % origin)
    sectors = size_bytes(origin_name, sysfs_root) // SECTOR_BYTES
    if not os.path.isdir(overlay_dir):
        os.makedirs(overlay_dir, 0o700)
    cow_file = overlay_cow_file(dm_map_name, overlay_dir)
    with open(cow_file, 'wb') as handle:
        handle.truncate(cow_bytes)
    try:
        _rc, out, _err = runner.run('losetup', ['--find', '--show', cow_file], what='attaching %s' % cow_file)
        cow_device = out.strip()
        # P(ersistent): the COW device starts with dm-snapshot's header, so the chunks copied from the origin
        # (an LVM label, a superblock) never sit at its start where LVM or blkid would find them.
        table = '0 %d snapshot %s %s P %d' % (sectors, majmin(origin_name, sysfs_root), cow_device,
                                              OVERLAY_CHUNK_SECTORS)
        runner.run('dmsetup', ['create', dm_map_name, '--uuid', OVERLAY_UUID_PREFIX + dm_map_name, '--table', table],
                   what='creating overlay %s of %s' % (dm_map_name, origin))
    except ToolError:
        _detach_cow(runner, cow_file, sysfs_root)
        raise
    return '/dev/mapper/%s' % dm_map_name


def _detach_cow(runner, cow_file, sysfs_root):
    loop = loop_of(cow_file, sysfs_root)
    if loop:
        runner.run('losetup', ['--detach', '/dev/%s' % loop], what='detaching /dev/%s' % loop)
    if os.path.exists(cow_file):
        os.unlink(cow_file)


def remove_overlay(runner, dm_map_name, overlay_dir=OVERLAY_DIR, sysfs_root='/sys'):
    """Remove an overlay made by create_overlay, its loop device and its scratch file."""
    if os.path.exists('/dev/mapper/%s' % dm_map_name) or dm_by_name(dm_map_name, sysfs_root):
        runner.run('dmsetup', ['remove', '--retry', dm_map_name], what='removing overlay %s' % dm_map_name)
    _detach_cow(runner, overlay_cow_file(dm_map_name, overlay_dir), sysfs_root)


# --- udev -------------------------------------------------------------------------------------------

def udev_properties(name, sysfs_root='/sys', udev_db='/run/udev/data'):
    """Properties udev recorded for a block device (its database entry b<major>:<minor>), {} if none."""
    number = majmin(name, sysfs_root)
    properties = {}
    for line in (read_file(os.path.join(udev_db, 'b%s' % number), '') or '').splitlines() if number else []:
        if line.startswith('E:') and '=' in line:
            key, value = line[2:].split('=', 1)
            properties[key] = value
    return properties


def udev_links(name, sysfs_root='/sys', udev_db='/run/udev/data'):
    """The links udev's rules gave a block device (its database 'S:' lines, relative to /dev), [] if none.

    This is what udev asked for, not who owns the link in /dev now: when two devices ask for one link
    name, the database of each lists it and /dev points it at one of them."""
    number = majmin(name, sysfs_root)
    text = (read_file(os.path.join(udev_db, 'b%s' % number), '') or '') if number else ''
    return [line[2:] for line in text.splitlines() if line.startswith('S:')]


def multipath_claimed(name, sysfs_root='/sys', udev_db='/run/udev/data'):
    """Whether multipath's udev rules marked the disk as a path of a multipath map (a map will follow)."""
    return udev_properties(name, sysfs_root, udev_db).get('DM_MULTIPATH_DEVICE_PATH') == '1'


def settle(runner, timeout=30):
    """Let udev finish the events of devices just created (bounded; a slow queue is not an error)."""
    runner.run('udevadm', ['settle', '--timeout=%d' % timeout], ok=None, timeout=timeout + KILL_GRACE)


def udev_settler(runner, timeout_cap=SETTLE_SLICE):
    """A settle(seconds) callable for wait loops (each call at most TIMEOUT_CAP s), or None without udevadm."""
    if not runner.has('udevadm'):
        return None

    def settle_for(seconds):
        settle(runner, max(1, int(min(seconds, timeout_cap) + 0.999)))
    return settle_for


# --- actions on the kernel and processes (real runs only) ----------------------------------------------

def flush_device(path):
    """fsync and drop the buffer cache of a block device (what `blockdev --flushbufs` does)."""
    import fcntl
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0))
    try:
        os.fsync(fd)
        fcntl.ioctl(fd, BLKFLSBUF, 0)
    finally:
        os.close(fd)


def delete_scsi_device(name, sysfs_root='/sys'):
    """Remove a SCSI disk from the kernel (sd syncs its cache first), like `echo 1 > .../delete`."""
    with open(os.path.join(class_dir(name, sysfs_root), 'device', 'delete'), 'w') as handle:
        handle.write('1')


def flush_multipath_map(runner, map_name):
    """`multipath -f MAP`: remove a multipath map (it fails while the map is open)."""
    runner.run('multipath', ['-f', map_name], what='flushing multipath map %s' % map_name)


def multipath_features(table_line):
    """The feature words of one `dmsetup table` line of a multipath map ('1 queue_if_no_path' -> [...])."""
    words = table_line.split()
    if len(words) < 4 or words[2] != 'multipath' or not words[3].isdigit():
        return []
    return words[4:4 + int(words[3])]


def queueing_maps_without_paths(runner, sysfs_root='/sys'):
    """Names of the multipath maps that have no path device left and still queue I/O (queue_if_no_path).

    A map left so (its paths deleted while it was open, as a logout without a flush leaves it) holds every
    read of it until multipathd stops queueing (no_path_retry checker intervals; never with
    `no_path_retry queue`), so every LVM scan of the host waits on it. Reads sysfs, and runs `dmsetup table`
    only for a map without paths."""
    found = []
    for entry in multipath_map_devices(sysfs_root):
        if slaves(entry, sysfs_root):
            continue
        name = dm_name(entry, sysfs_root)
        if not name or not runner.has('dmsetup'):
            continue
        rc, out, _err = runner.run('dmsetup', ['table', name], ok=None, what='reading multipath map %s' % name)
        if rc == 0 and any('queue_if_no_path' in multipath_features(line) for line in out.splitlines()):
            found.append(name)
    return found


def multipathd_running(proc_root='/proc'):
    for entry in list_dir(proc_root):
        if entry.isdigit() and read_file(os.path.join(proc_root, entry, 'comm')) == 'multipathd':
            return True
    return False


def swap_devices(swaps='/proc/swaps'):
    """Kernel names of active swap devices ('/dev/sda2' -> 'sda2'; mapper names as given)."""
    names = []
    for line in (read_file(swaps, '') or '').splitlines()[1:]:
        fields = line.split()
        if fields and fields[0].startswith('/dev/'):
            names.append(fields[0][len('/dev/'):])
    return names
