# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Linux LIO backend of the SAN modules: rtslib_fb for LIO, LVM thin volumes or files for data.

Runs on the storage host itself (``delegate_to``), as root. How the SAN vocabulary maps onto LIO:

LUN
    ``volume`` ``VG/THINPOOL``: a thin LV ``VG/NAME`` in that pool, exported as a ``block`` backstore
    named ``NAME`` on ``/dev/VG/NAME``. ``volume`` ``/DIR``: a sparse file ``/DIR/NAME`` exported as a
    ``fileio`` backstore ``NAME`` (write-through). A LUN exists when both the data and the backstore do.
    Backstore names are global in LIO, so two LUNs may not share a name even in different volumes.
    ``serial`` is the backstore's unit serial; ``wwid`` is what a Linux host reads from VPD page 0x83.
    ``os_type`` means nothing to LIO; it is recorded (LV tag ``san.iscsi.os_type=OS``, for files the
    extended attribute ``user.san.iscsi.os_type``) so that a later run can compare it.
snapshot
    A thin snapshot LV of the LUN's LV (same VG and pool, LVM's activation-skip flag left on: it is
    never exported), tagged ``san.iscsi.snapshot_of=LUN``. For files a reflink copy (``cp
    --reflink=always``, XFS with reflink or Btrfs) marked with ``user.san.iscsi.snapshot_of``.
    Snapshot and LUN names share the VG (directory) namespace.
clone
    A writable thin snapshot of the snapshot LV (activation-skip off, so it is activated at boot and
    the saved LIO configuration can be restored), exported as a new backstore; for files a reflink
    copy of the snapshot file. Parentage is recorded on the clone (``san.iscsi.clone_of=SNAPSHOT/LUN``
    tag or xattr), so ``clone_parent`` and a snapshot's ``clones`` are exact. Clones live in the volume
    of their snapshot. Thin snapshots and reflink copies share blocks but do not depend on their
    origin: a LUN can be deleted while snapshots of it exist; a snapshot is only protected while
    clones made from it exist (the modules refuse to delete it).
igroup
    The node ACLs of the target portal group (``target``, ``tpg``) whose ACL tag is the igroup name;
    every ACL of an igroup carries the same mapped LUNs (same mapped LUN ids). LIO cannot hold an
    igroup without initiators, has no igroup os_type (always ``linux``) and speaks iSCSI only.
    A TPG LUN is created for a backstore when it is first mapped in the TPG and removed when its last
    mapping goes.
target / TPG
    When ``target`` (or its TPG) does not exist, the backend creates it on the first igroup write if
    ``portals`` is given: those portals only (never the 0.0.0.0 wildcard, which collides with
    per-address portals on the same port), ``generate_node_acls=0``, enabled. Existing targets, TPGs
    and portals are never changed except for the ``authentication`` attributes, which follow the ACLs'
    CHAP credentials: on kernels since 5.16 each node ACL's is 1 with a CHAP user and 0 without, and the
    TPG's is 0; on older kernels (the TPG's only) it is 0 while no ACL has CHAP credentials, 1 when one has.
chap
    The CHAP user and secret (and the mutual ones) of the initiator's node ACL: an initiator has
    credentials only while it is in an igroup, and they go with its ACL.

Every change is followed by an atomic save of the whole running configuration to ``save_file``
(default: the installed rtslib's ``default_save_file``, ``/etc/rtslib-fb-target/saveconfig.json`` on
Debian, restored at boot by ``rtslib-fb-targetctl``/``target.service``). rtslib's own
``save_to_file`` (2.1.75) writes a temp file and then copies it over the live file in place, which
a crash can leave truncated; here the JSON goes to a private temp file in the same directory, is
fsynced, renamed over the old file and the directory is fsynced. Writes hold an exclusive lock so
concurrent runs on the same host cannot interleave or save an older state last.

External commands go through the ``_command.Runner`` seam (argv lists, LC_ALL=C, coreutils timeout):
``lvm lvs|lvcreate|lvextend|lvremove`` and ``cp --reflink=always``.
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import errno
import hmac
import ipaddress
import json
import os
import re
import tempfile
import traceback

try:
    from ansible.module_utils.basic import missing_required_lib
except ImportError:  # the automount SAN helper (_script_host) runs this backend without ansible-core
    def missing_required_lib(library):
        return 'Failed to import the required Python library (%s) on %s.' % (library, os.uname()[1])

from ansible_collections.san.iscsi.plugins.module_utils._command import Runner, ToolError
from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLockTimeout, host_lock
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import InvalidName, parse_portal, validate_name
from ansible_collections.san.iscsi.plugins.module_utils._lvm import Lvm, dm_lv_name, parse_report, valid_vg_name
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    INITIATOR_NOT_FOUND, SanBackend, SanConflict, SanConnectionError, SanError, SanInvalid, SanNotFound,
    check_chap_input, mapped_removal_conflict, naa_lio, normalize_initiator)

RTSLIB_IMPORT_ERROR = None
try:
    import rtslib_fb
except ImportError:
    rtslib_fb = None
    RTSLIB_IMPORT_ERROR = traceback.format_exc()

FALLBACK_SAVE_FILE = '/etc/target/saveconfig.json'
LOCK_DIRS = ('/run/lock', '/var/lock')
LOCK_NAME = 'san-iscsi-lio.lock'
CP_TIMEOUT = 300
SECTOR = 512
ACL_LISTING_ATTEMPTS = 5  # reads of an ACL's mapped LUNs that other processes change meanwhile
LV_FIELDS = 'vg_name,lv_name,lv_attr,segtype,pool_lv,origin,lv_size,lv_tags,lv_time'
LVM_NOT_FOUND_RC = 5

TAG_OS_TYPE = 'san.iscsi.os_type='
TAG_SNAPSHOT_OF = 'san.iscsi.snapshot_of='
TAG_CLONE_OF = 'san.iscsi.clone_of='
XATTR_OS_TYPE = 'user.san.iscsi.os_type'
XATTR_SNAPSHOT_OF = 'user.san.iscsi.snapshot_of'
XATTR_CLONE_OF = 'user.san.iscsi.clone_of'

NAME_RE = re.compile(r'^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$')
IGROUP_RE = re.compile(r'^[A-Za-z0-9_.:-]{1,63}$')  # kernel MAX_ACL_TAG_SIZE is 64 with the NUL
OS_TYPE_RE = re.compile(r'^[A-Za-z0-9+_.-]{1,64}$')
WILDCARD_HOSTS = ('0.0.0.0', '::')


def _check_name(name, what):
    if not isinstance(name, str) or not NAME_RE.match(name) or name in ('.', '..'):
        raise SanInvalid('%s %r is not valid on LIO: use letters, digits and + _ . - (at most 127, not starting '
                         'with -)' % (what, name))


def _round_up(size, unit):
    return -(-int(size) // unit) * unit


def _iso_time(lvm_time):
    """'2026-11-21 10:08:47 +0000' (lv_time) -> '2026-11-21T10:08:47+00:00'."""
    try:
        return datetime.datetime.strptime(lvm_time, '%Y-%m-%d %H:%M:%S %z').isoformat()
    except (TypeError, ValueError):
        return None


def _tag_value(tags, prefix):
    for tag in (tags or '').split(','):
        if tag.startswith(prefix):
            return tag[len(prefix):]
    return None


def _split_parent(value):
    """'SNAPSHOT/LUN' as recorded on a clone -> (snapshot, lun), or None."""
    snapshot, sep, lun = (value or '').partition('/')
    return (snapshot, lun) if sep and snapshot and lun else None


def _portal_pairs(portals):
    """['10.10.1.1', '[fd5a:1::1]:3261'] -> [('10.10.1.1', 3260), ('[fd5a:1::1]', 3261)] as rtslib takes them."""
    pairs = []
    for text in portals or []:
        try:
            portal = parse_portal(text)
            address = ipaddress.ip_address(portal.host)
        except (InvalidName, ValueError) as exc:
            raise SanInvalid('portal %r: %s (LIO portals are IP addresses, optionally with :port)' % (text, exc))
        if portal.tpgt is not None or str(address) in WILDCARD_HOSTS:
            raise SanInvalid('portal %r: give a concrete address and optional port, no wildcard and no ",tpgt"'
                             % text)
        host = '[%s]' % address if address.version == 6 else str(address)
        if (host, portal.port) not in pairs:
            pairs.append((host, portal.port))
    return pairs


class _Volume(object):
    """A parsed ``volume``: ``VG/POOL`` (kind 'lvm') or an absolute directory (kind 'dir')."""

    def __init__(self, text):
        self.text = text
        if isinstance(text, str) and text.startswith('/'):
            self.kind, self.vg, self.pool = 'dir', None, None
            self.directory = os.path.normpath(text)
            if '\n' in text or self.directory != text or self.directory == '/':
                raise SanInvalid('volume %r: give a normalized absolute directory other than / (no trailing /)'
                                 % text)
            return
        parts = text.split('/') if isinstance(text, str) else []
        if len(parts) != 2 or not valid_vg_name(parts[0]) or not NAME_RE.match(parts[1]):
            raise SanInvalid('volume %r is not valid on LIO: give VG/THINPOOL (LVM thin pool) or an absolute '
                             'directory (fileio)' % (text,))
        self.kind, self.directory = 'lvm', None
        self.vg, self.pool = parts

    def data_path(self, name):
        if self.kind == 'dir':
            return os.path.join(self.directory, name)
        return '/dev/%s/%s' % (self.vg, name)


class _LvmStore(object):
    """Thin LVs of one backend run; reports are cached per VG until the next LVM change."""

    def __init__(self, lvm):
        self.lvm = lvm
        self._rows = {}

    def rows(self, vg):
        """{lv_name: row} of VG; SanNotFound when the VG does not exist."""
        if vg not in self._rows:
            args = ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', LV_FIELDS, vg]
            rc, out, err = self._run(args, ok=(0, LVM_NOT_FOUND_RC), what='lvm lvs %s' % vg)
            if rc == LVM_NOT_FOUND_RC:
                raise SanNotFound('volume group %r does not exist on this host' % vg, details={'stderr': err})
            self._rows[vg] = dict((row['lv_name'], row) for row in parse_report(out, 'lv'))
        return self._rows[vg]

    def all_rows(self):
        """Rows of every VG (for listings without a volume)."""
        args = ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', LV_FIELDS]
        _rc, out, _err = self._run(args, what='lvm lvs')
        rows = parse_report(out, 'lv')
        for row in rows:
            self._rows.setdefault(row['vg_name'], {})[row['lv_name']] = row
        return rows

    def check_pool(self, volume):
        row = self.rows(volume.vg).get(volume.pool)
        if row is None or row.get('segtype') != 'thin-pool':
            raise SanNotFound('volume %r: there is no thin pool %s in volume group %s'
                              % (volume.text, volume.pool, volume.vg))

    def thin_lv(self, volume, name):
        """The row of thin LV NAME in the volume's pool, or None."""
        row = self.rows(volume.vg).get(name)
        if row and row.get('segtype') == 'thin' and row.get('pool_lv') == volume.pool:
            return row
        return None

    def create_thin(self, volume, name, size, os_type):
        self._change(['lvcreate', '--yes', '--thin', '--virtualsize', '%db' % size, '--name', name,
                      '--addtag', TAG_OS_TYPE + os_type, '%s/%s' % (volume.vg, volume.pool)], volume)

    def snapshot(self, volume, lun, name):
        self._change(['lvcreate', '--snapshot', '--name', name, '--addtag', TAG_SNAPSHOT_OF + lun,
                      '%s/%s' % (volume.vg, lun)], volume)

    def clone(self, volume, snapshot, lun, name, os_type):
        self._change(['lvcreate', '--snapshot', '--name', name, '--setactivationskip', 'n', '--activate', 'y',
                      '--addtag', TAG_CLONE_OF + '%s/%s' % (snapshot, lun), '--addtag', TAG_OS_TYPE + os_type,
                      '%s/%s' % (volume.vg, snapshot)], volume)

    def extend(self, volume, name, size):
        self._change(['lvextend', '--size', '%db' % size, '%s/%s' % (volume.vg, name)], volume)

    def remove(self, volume, name):
        self._change(['lvremove', '--yes', '%s/%s' % (volume.vg, name)], volume)

    def _change(self, args, volume):
        self._rows.pop(volume.vg, None)
        self._run(args)

    def _run(self, args, ok=(0,), what=None):
        try:
            return self.lvm.run(args, ok=ok, what=what)
        except ToolError as exc:
            raise _tool_error(exc)


class _FileStore(object):
    """fileio data files: sparse creation, reflink copies, metadata in user xattrs."""

    def __init__(self, runner):
        self.runner = runner

    @staticmethod
    def check_directory(volume):
        if not os.path.isdir(volume.directory):
            raise SanNotFound('volume %r: directory does not exist' % volume.text)

    @staticmethod
    def exists(path):
        return os.path.lexists(path)

    @staticmethod
    def get_meta(path, key):
        try:
            return os.getxattr(path, key).decode('utf-8')
        except OSError as exc:
            if exc.errno in (errno.ENODATA, errno.ENOENT, errno.ENOTSUP):
                return None
            raise SanError('cannot read %s of %s: %s' % (key, path, exc))

    @staticmethod
    def set_meta(path, key, value):
        try:
            os.setxattr(path, key, value.encode('utf-8'))
        except OSError as exc:
            raise SanError('cannot record %s on %s (the filesystem needs user extended attributes): %s'
                           % (key, path, exc))

    def create_sparse(self, path, size, os_type):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise SanError('cannot create %s: %s' % (path, exc))
        try:
            os.ftruncate(fd, size)
        except OSError as exc:
            self.remove(path)
            raise SanError('cannot size %s to %d bytes: %s' % (path, size, exc))
        finally:
            os.close(fd)
        self._mark(path, {XATTR_OS_TYPE: os_type})

    def reflink(self, source, path, meta):
        try:
            self.runner.run('cp', ['--reflink=always', '--', source, path], timeout=CP_TIMEOUT)
        except ToolError as exc:
            self.remove(path)
            if re.search(r'not supported|Invalid cross-device|Invalid argument', exc.stderr or ''):
                raise SanInvalid('cannot make a reflink copy of %s: the filesystem of %s does not support reflinks '
                                 '(XFS with reflink=1 or Btrfs is needed for fileio snapshots and clones)'
                                 % (source, os.path.dirname(path)), details=exc.as_fail_kwargs())
            raise _tool_error(exc)
        self._mark(path, meta)
        os.chmod(path, 0o600)

    def _mark(self, path, meta):
        try:
            for key in sorted(meta):
                self.set_meta(path, key, meta[key])
        except SanError:
            self.remove(path)
            raise

    @staticmethod
    def remove(path):
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise SanError('cannot remove %s: %s' % (path, exc))

    @staticmethod
    def listdir(directory):
        try:
            return sorted(os.listdir(directory))
        except OSError:
            return []

    @staticmethod
    def mtime_iso(path):
        stamp = os.stat(path).st_mtime
        return datetime.datetime.fromtimestamp(int(stamp), tz=datetime.timezone.utc).isoformat()


def forget_backstore_indexes():
    """Make rtslib read the backstore indexes in use from configfs again before it picks one for a new backstore.

    rtslib keeps them in a module-level cache (rtslib_fb.tcm.bs_cache) filled once per process. In an interpreter
    that outlives one module run (Mitogen runs modules in one per host) the cache misses backstores that other
    processes made since, and a new backstore gets an index in use: "This _Backstore already exists in configFS".
    Called under the configuration lock, so no other process of ours creates one meanwhile.
    """
    cache = getattr(getattr(rtslib_fb, 'tcm', None), 'bs_cache', None)
    if isinstance(cache, dict):
        cache.clear()


def _still_there(node):
    """Whether a configfs object rtslib handed out still exists (False when asking fails too)."""
    try:
        return bool(node.exists)
    except _vanished_errors():
        return False


def _vanished_errors():
    """Errors that mean a configfs object went away while it was read (another tool changed LIO)."""
    errors = (IOError, OSError)
    return errors + ((rtslib_fb.RTSLibError,) if rtslib_fb is not None else ())


def _set_attribute(node, name, value):
    """Set a configfs attribute of a TPG or node ACL unless it holds ``value`` already."""
    if str(node.get_attribute(name)) != value:
        node.set_attribute(name, value)


def _tool_error(exc):
    return SanError(exc.msg, details={'cmd': exc.cmd, 'rc': exc.rc, 'stdout': exc.stdout, 'stderr': exc.stderr})


def save_config(dump, path):
    """Write rtslib's configuration dump to PATH atomically (temp file in the same dir, fsync, rename)."""
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    text = json.dumps(dump, sort_keys=True, indent=2) + '\n'
    fd, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class LioBackend(SanBackend):
    provider = 'lio'
    max_lun_id = 255
    size_granularity = 4 * 1024 * 1024  # LVM's default extent; thin LV sizes are rounded up to it
    default_os_type = 'linux'

    def __init__(self, module):
        super(LioBackend, self).__init__(module)
        if rtslib_fb is None:
            module.fail_json(msg=missing_required_lib('rtslib-fb') + ' Install python3-rtslib-fb (Debian, Ubuntu) '
                             'or python3-rtslib (RHEL, Fedora) on the storage host.', exception=RTSLIB_IMPORT_ERROR,
                             error_code='missing_library')
        self.runner = Runner(module)
        self.lvs = _LvmStore(Lvm(self.runner))
        self.files = _FileStore(self.runner)
        self.portals = _portal_pairs(self.params.get('portals'))
        self.target_iqn = self._target_name()
        rtslib_root = getattr(rtslib_fb, 'root', None)
        self.save_file = self.params.get('save_file') or getattr(rtslib_root, 'default_save_file', FALLBACK_SAVE_FILE)
        self._root = None
        self._batch_depth = 0
        self._unsaved = False

    def _target_name(self):
        target = self.params.get('target')
        if target is None:
            return None
        try:
            validate_name(target, what='target name')
        except InvalidName as exc:
            raise SanInvalid(str(exc))
        return target.lower()

    # -- rtslib access --------------------------------------------------------------------------
    def root(self):
        if self._root is None:
            try:
                self._root = rtslib_fb.RTSRoot()
            except rtslib_fb.RTSLibError as exc:
                raise SanConnectionError('the LIO target is not available on this host (configfs, target_core_mod): '
                                         '%s' % exc)
        return self._root

    def _require_target_option(self):
        if self.target_iqn is None:
            raise SanInvalid('target is required with provider lio for igroups and LUN maps: the IQN of the LIO '
                             'target whose portal group holds them')

    def _lookup_tpg(self):
        """(target, tpg); either is None when missing."""
        self._require_target_option()
        self.root()
        fabric = rtslib_fb.FabricModule('iscsi')
        try:
            target = rtslib_fb.Target(fabric, self.target_iqn, mode='lookup')
        except rtslib_fb.RTSLibNotInCFS:
            return None, None
        try:
            return target, rtslib_fb.TPG(target, self.params.get('tpg', 1), mode='lookup')
        except rtslib_fb.RTSLibNotInCFS:
            return target, None

    def _tpg(self):
        """The TPG, None when it is missing but would be created (portals given); SanNotFound otherwise."""
        _target, tpg = self._lookup_tpg()
        if tpg is None and not self.portals:
            raise SanNotFound('LIO target %s (portal group %d) does not exist on this host; create it, or give portals '
                              'so that the module creates it' % (self.target_iqn, self.params.get('tpg', 1)))
        return tpg

    def _ensure_tpg(self):
        target, tpg = self._lookup_tpg()
        if tpg is not None:
            return tpg
        if not self.portals:
            self._tpg()
        created_target = target is None
        if created_target:
            target = rtslib_fb.Target(rtslib_fb.FabricModule('iscsi'), self.target_iqn, mode='create')
        try:
            return self._create_tpg(target)
        except BaseException:
            if created_target:
                target.delete()
            raise

    def _create_tpg(self, target):
        tpg = rtslib_fb.TPG(target, self.params.get('tpg', 1), mode='create')
        try:
            tpg.set_attribute('generate_node_acls', '0')
            tpg.set_attribute('authentication', '0')
            wanted_ports = set(port for _host, port in self.portals)
            for portal in list(tpg.network_portals):  # some setups add a wildcard portal to every new TPG
                if portal.ip_address.strip('[]') in WILDCARD_HOSTS and portal.port in wanted_ports:
                    portal.delete()
            for host, port in self.portals:
                rtslib_fb.NetworkPortal(tpg, host, port, mode='create')
            tpg.enable = True
        except BaseException:
            tpg.delete()
            raise
        return tpg

    @staticmethod
    def _reconcile_auth(tpg):
        """Make exactly the initiators with CHAP credentials authenticate.

        Kernels since 5.16 give each node ACL its own ``authentication`` attribute (-1: the TPG's): each
        ACL's follows its credentials and the TPG's is 0, so one host's CHAP does not lock out a host
        without it. Older kernels have only the TPG's: 1 while any ACL has a CHAP user."""
        acls = list(tpg.node_acls)
        per_acl = bool(acls) and 'authentication' in acls[0].list_attributes()
        for acl in acls if per_acl else ():
            _set_attribute(acl, 'authentication', '1' if acl.chap_userid else '0')
        wanted = '1' if not per_acl and any(acl.chap_userid for acl in acls) else '0'
        _set_attribute(tpg, 'authentication', wanted)

    def _scanned_tpgs(self):
        """The TPG of ``target`` when given (none if missing), else every TPG of every iSCSI target."""
        if self.target_iqn is not None:
            _target, tpg = self._lookup_tpg()
            return [tpg] if tpg is not None else []
        tpgs = []
        for target in self.root().targets:
            try:
                if target.fabric_module.name == 'iscsi':
                    tpgs.extend(target.tpgs)
            except _vanished_errors():
                continue
        return tpgs

    # -- saving ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        """Hold the storage host's LIO lock (a HostLock: bounded wait, the holder named when it runs out)."""
        directory = next((d for d in LOCK_DIRS if os.path.isdir(d)), os.path.dirname(self.save_file))
        lock = host_lock(os.path.join(directory, LOCK_NAME))
        try:
            lock.acquire('change the LIO configuration of %s' % (self.target_iqn or 'this host'))
        except HostLockTimeout as error:
            raise SanError(error.msg, code=error.error_code)
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def _changing_config(self):
        """Hold the lock over a change of the LIO configuration and save it afterwards, also after a
        failure (the rollback may have changed it too), so the saved file always equals the running state.
        Within changes_saved_once the save waits for the end of the batch."""
        with self._locked():
            try:
                yield
            except BaseException:
                if self._batch_depth:
                    self._unsaved = True
                    raise
                try:
                    self._save()
                except SanError:
                    pass  # the original error matters more
                raise
            if self._batch_depth:
                self._unsaved = True
            else:
                self._save()

    @contextlib.contextmanager
    def changes_saved_once(self):
        """Save the configuration once, after every change made inside (also after a failure), instead of
        after each: a dump of the whole configuration costs more than most changes. The save writes the
        running state, other hosts' runs' changes included, so deferring it loses nothing; a run killed
        inside leaves the running state unsaved until the next save, as a run killed after a change did."""
        self._batch_depth += 1
        try:
            yield
        except BaseException:
            self._batch_depth -= 1
            try:
                self._save_unsaved()
            except SanError:
                pass  # the original error matters more
            raise
        self._batch_depth -= 1
        self._save_unsaved()

    def _save_unsaved(self):
        if self._batch_depth or not self._unsaved:
            return
        self._unsaved = False
        with self._locked():
            self._save()

    def _save(self):
        try:
            save_config(self.root().dump(), self.save_file)
        except (OSError, IOError, rtslib_fb.RTSLibError) as exc:
            raise SanError('the LIO configuration changed but could not be saved to %s: %s' % (self.save_file, exc))

    # -- naming ---------------------------------------------------------------------------------
    @classmethod
    def lun_path(cls, volume, name):
        parsed = _Volume(volume)
        _check_name(name, 'LUN name')
        if parsed.kind == 'dir':
            return os.path.join(parsed.directory, name)
        return '%s/%s/%s' % (parsed.vg, parsed.pool, name)

    @classmethod
    def split_lun_path(cls, path):
        if isinstance(path, str) and path.startswith('/'):
            volume, name = os.path.dirname(path), os.path.basename(path)
        else:
            parts = path.split('/') if isinstance(path, str) else []
            if len(parts) != 3:
                raise SanInvalid('LUN path %r is not valid on LIO: give VG/THINPOOL/NAME or /DIR/NAME' % (path,))
            volume, name = '%s/%s' % (parts[0], parts[1]), parts[2]
        cls.lun_path(volume, name)
        return volume, name

    def clone_route(self, volume):
        if _Volume(volume).kind == 'dir':
            return 'reflink copy of the snapshot file'
        return 'lvcreate thin snapshot of the snapshot LV'

    def check_volume(self, volume):
        self._check_container(_Volume(volume))

    def _check_container(self, volume):
        if volume.kind == 'dir':
            self.files.check_directory(volume)
        else:
            self.lvs.check_pool(volume)

    def check_connection(self):
        self.root()
        if self.target_iqn is not None:
            self._tpg()

    # -- storage objects ------------------------------------------------------------------------
    def _so_key(self, storage_object):
        """What a backstore exports: ('lv', VG, LV), ('file', PATH), ('dev', PATH), or ('unset', PATH) for one
        without an absolute path - being created by another process, which writes udev_path after the
        backstore's directory (seen in the lab: a LUN list read '' there and failed on it)."""
        path = storage_object.udev_path or ''
        if not path.startswith('/'):
            return ('unset', path)
        if path.startswith('/dev/'):
            parts = path.split('/')
            if len(parts) == 4 and parts[2] != 'mapper':
                return ('lv', parts[2], parts[3])
            if len(parts) == 4 and dm_lv_name(parts[3]):
                return ('lv',) + dm_lv_name(parts[3])
            return ('dev', os.path.realpath(path))
        return ('file', os.path.normpath(path))

    def _storage_objects(self):
        """[(key, storage object)] of the block and fileio backstores, each read once (others may delete
        theirs while we read: those are skipped)."""
        found = []
        for storage_object in self.root().storage_objects:
            try:
                if storage_object.plugin in ('block', 'fileio'):
                    found.append((self._so_key(storage_object), storage_object))
            except _vanished_errors():
                continue
        return found

    def _find_so(self, volume, name):
        if volume.kind == 'dir':
            key = ('file', volume.data_path(name))
        else:
            key = ('lv', volume.vg, name)
        return next((so for so_key, so in self._storage_objects() if so_key == key), None)

    def _so_named(self, name):
        return next((so for so in self.root().storage_objects if so.name == name), None)

    def _so_path(self, storage_object):
        """The LUN path of a backstore (its device or file path when it is not a LUN of a volume)."""
        key = self._so_key(storage_object)
        if key[0] == 'file':
            return key[1]
        if key[0] == 'lv':
            row = self.lvs.rows(key[1]).get(key[2]) if valid_vg_name(key[1]) else None
            if row and row.get('segtype') == 'thin' and row.get('pool_lv'):
                return '%s/%s/%s' % (key[1], row['pool_lv'], key[2])
        return storage_object.udev_path

    # -- maps index -----------------------------------------------------------------------------
    @staticmethod
    def _so_identity(storage_object):
        return (storage_object.plugin, storage_object.name)

    @staticmethod
    def _acl_mapped_luns(acl):
        """[(MappedLUN, storage object)] of one node ACL.

        A mapped LUN that another process is deleting while this one reads (its link to the TPG LUN already
        gone: rtslib raises RTSLibBrokenLink) is left out, as if the delete had finished. rtslib lists an
        ACL's mapped LUNs with a generator that looks each one up after listing the directory, so another
        process deleting one of them in between (runs sharing an initiator share its ACL) stops the whole
        listing: it is listed again, and only an ACL that is itself gone lets the error through."""
        for _attempt in range(ACL_LISTING_ATTEMPTS):
            try:
                mluns = list(acl.mapped_luns)
                break
            except _vanished_errors():
                if not _still_there(acl):
                    raise
        else:
            raise SanConflict('the mapped LUNs of the ACL of %s changed on each of %d reads; try again'
                              % (acl.node_wwn, ACL_LISTING_ATTEMPTS))
        found = []
        for mlun in mluns:
            try:
                found.append((mlun, mlun.tpg_lun.storage_object))
            except _vanished_errors():
                continue
        return found

    def _acl_maps(self, acl):
        """[(mapped_lun_id, storage object)] of one node ACL (see _acl_mapped_luns)."""
        return [(mlun.mapped_lun, storage_object) for mlun, storage_object in self._acl_mapped_luns(acl)]

    def _lun_maps(self, storage_object):
        wanted = self._so_identity(storage_object)
        found = set()
        for tpg in self._scanned_tpgs():
            for acl in tpg.node_acls:
                try:
                    tag = acl.tag
                    maps = self._acl_maps(acl) if tag else []
                except _vanished_errors():  # others may change their own targets while we read
                    continue
                for lun_id, mapped in maps:
                    if self._so_identity(mapped) == wanted:
                        found.add((tag, lun_id))
        return [dict(igroup=igroup, lun_id=lun_id) for igroup, lun_id in sorted(found)]

    # -- LUNs -----------------------------------------------------------------------------------
    def get_lun(self, volume, name):
        parsed = _Volume(volume)
        _check_name(name, 'LUN name')
        self._check_container(parsed)
        return self._read_lun(parsed, name)

    def _read_lun(self, volume, name, storage_object=None):
        storage_object = storage_object or self._find_so(volume, name)
        if storage_object is None:
            return None
        if volume.kind == 'dir':
            path = volume.data_path(name)
            if not os.path.isfile(path):
                return None
            os_type = self.files.get_meta(path, XATTR_OS_TYPE)
            parent = _split_parent(self.files.get_meta(path, XATTR_CLONE_OF))
            size = int(storage_object.size)
        else:
            row = self.lvs.thin_lv(volume, name)
            if row is None:
                return None
            os_type = _tag_value(row['lv_tags'], TAG_OS_TYPE)
            parent = _split_parent(_tag_value(row['lv_tags'], TAG_CLONE_OF))
            size = int(row['lv_size'])
        serial = storage_object.wwn
        return dict(name=name, volume=volume.text, path=self.lun_path(volume.text, name), size=size,
                    os_type=os_type or self.default_os_type, serial=serial, wwid=naa_lio(serial),
                    clone_parent=dict(volume=volume.text, snapshot=parent[0], lun=parent[1]) if parent else None,
                    maps=self._lun_maps(storage_object), vserver=None, uuid=None)

    def list_luns(self, volume=None, name=None):
        wanted_volume = None
        if volume:
            parsed = _Volume(volume)
            self._check_container(parsed)
            wanted_volume = parsed.text
        luns = []
        for key, storage_object in self._storage_objects():
            try:
                located = self._locate(key)
                if located is None or (wanted_volume and located[0].text != wanted_volume):
                    continue
                if name is not None and located[1] != name:
                    continue
                lun = self._read_lun(located[0], located[1], storage_object)
            except _vanished_errors() + (SanNotFound,):  # deleted by someone else while we read it
                continue
            if lun is not None:
                luns.append(lun)
        return sorted(luns, key=lambda lun: lun['path'])

    def _locate(self, key):
        """(volume, name) of a backstore (by its key) that is a LUN of a thin pool or a directory, else None."""
        if key[0] == 'file':
            directory, name = os.path.split(key[1])
            return (_Volume(directory), name) if NAME_RE.match(name) and directory != '/' else None
        if key[0] == 'lv' and valid_vg_name(key[1]):
            row = self.lvs.rows(key[1]).get(key[2])
            if row and row.get('segtype') == 'thin' and NAME_RE.match(row.get('pool_lv') or ''):
                return _Volume('%s/%s' % (key[1], row['pool_lv'])), key[2]
        return None

    def _check_free_data_name(self, volume, name):
        """LUNs, snapshots and clones share the VG (directory) namespace."""
        if volume.kind == 'dir':
            if self.files.exists(volume.data_path(name)):
                raise SanConflict('%s exists already' % volume.data_path(name))
        elif name in self.lvs.rows(volume.vg):
            raise SanConflict('logical volume %s/%s exists already' % (volume.vg, name))

    def _check_new_name(self, volume, name):
        self._check_free_data_name(volume, name)
        existing = self._so_named(name)
        if existing is not None:
            raise SanConflict('a LIO backstore named %r exists already (%s on %s); LIO backstore names are global, '
                              'choose another LUN name' % (name, existing.plugin, existing.udev_path))

    @staticmethod
    def _check_os_type(os_type):
        if not OS_TYPE_RE.match(os_type or ''):
            raise SanInvalid('os_type %r is not valid: use letters, digits and + _ . -' % (os_type,))

    def create_lun(self, volume, name, size, os_type):
        parsed = _Volume(volume)
        _check_name(name, 'LUN name')
        self._check_os_type(os_type)
        self._check_container(parsed)
        size = _round_up(size, SECTOR)
        with self._changing_config():
            self._check_new_name(parsed, name)
            if parsed.kind == 'dir':
                self.files.create_sparse(parsed.data_path(name), size, os_type)
            else:
                self.lvs.create_thin(parsed, name, size, os_type)
            self._export(parsed, name, size)
        return self._read_lun(parsed, name)

    def clone_lun(self, volume, name, source, os_type):
        parsed = _Volume(volume)
        _check_name(name, 'LUN name')
        self._check_os_type(os_type)
        snapshot = self._source_snapshot(parsed, source)
        with self._changing_config():
            self._check_new_name(parsed, name)
            if parsed.kind == 'dir':
                self.files.reflink(parsed.data_path(snapshot['name']), parsed.data_path(name), {
                    XATTR_CLONE_OF: '%s/%s' % (snapshot['name'], snapshot['lun']), XATTR_OS_TYPE: os_type})
                size = os.path.getsize(parsed.data_path(name))
            else:
                self.lvs.clone(parsed, snapshot['name'], snapshot['lun'], name, os_type)
                size = None
            self._export(parsed, name, size)
        return self._read_lun(parsed, name)

    def _source_snapshot(self, volume, source):
        if _Volume(source['volume']).text != volume.text:
            raise SanInvalid('LIO clones live in the volume of their snapshot: clone_from.volume %r differs from '
                             'volume %r' % (source['volume'], volume.text))
        snapshot = self.get_snapshot(volume.text, source['snapshot'])
        if snapshot is None:
            raise SanNotFound('snapshot %r does not exist in volume %r' % (source['snapshot'], volume.text))
        if snapshot['lun'] != source['lun']:
            raise SanNotFound('snapshot %r of volume %r holds LUN %r, not %r'
                              % (source['snapshot'], volume.text, snapshot['lun'], source['lun']))
        return snapshot

    def _export(self, volume, name, size):
        """Create the backstore for freshly made data; remove the data again when that fails."""
        path = volume.data_path(name)
        try:
            forget_backstore_indexes()
            if volume.kind == 'dir':
                rtslib_fb.FileIOStorageObject(name, dev=path, size=size, write_back=False)
            else:
                rtslib_fb.BlockStorageObject(name, dev=path, write_back=False)
        except rtslib_fb.RTSLibError as exc:
            self._remove_data(volume, name)
            raise SanError('cannot export %s as LIO backstore %r: %s' % (path, name, exc))

    def _remove_data(self, volume, name):
        if volume.kind == 'dir':
            self.files.remove(volume.data_path(name))
        else:
            self.lvs.remove(volume, name)

    def validate_lun(self, current, planned):
        parsed = _Volume(planned['volume'])
        if current is not None:
            self._check_growable(parsed, current, planned['size'])
            return
        self._check_os_type(planned['os_type'])
        if planned['clone_parent']:
            self._source_snapshot(parsed, planned['clone_parent'])
        self._check_new_name(parsed, planned['name'])

    @staticmethod
    def _check_growable(volume, current, size):
        if size < current['size']:
            raise SanInvalid('LUN %s is %d bytes; LIO LUNs never shrink' % (current['path'], current['size']))
        if volume.kind == 'dir':
            raise SanInvalid('LUN %s is a fileio LUN: LIO cannot grow a fileio backstore; use a thin pool volume for '
                             'LUNs that grow' % current['path'])

    def resize_lun(self, volume, name, size):
        parsed = _Volume(volume)
        current = self.get_lun(volume, name)
        if current is None:
            raise SanNotFound('LUN %s does not exist' % self.lun_path(volume, name))
        self._check_growable(parsed, current, size)
        with self._locked():
            self.lvs.extend(parsed, name, _round_up(size, SECTOR))
        return self._read_lun(parsed, name)

    def set_lun_os_type(self, volume, name, os_type):
        raise SanInvalid('the os_type of an existing LIO LUN cannot change')

    def delete_lun(self, volume, name):
        parsed = _Volume(volume)
        self._check_container(parsed)
        with self._changing_config():
            storage_object = self._find_so(parsed, name)
            if storage_object is None or self._read_lun(parsed, name) is None:
                raise SanNotFound('LUN %s does not exist' % self.lun_path(volume, name))
            self._check_unexported(storage_object)
            serial = storage_object.wwn
            storage_object.delete()
            try:
                self._remove_data(parsed, name)
            except SanError:
                self._reexport(parsed, name, serial)
                raise

    def _check_unexported(self, storage_object):
        users = []
        for tpg_lun in storage_object.attached_luns:
            tpg = tpg_lun.parent_tpg
            where = '%s TPG %d LUN %d' % (tpg.parent_target.wwn, tpg.tag, tpg_lun.lun)
            users.extend('%s (ACL %s)' % (where, mlun.node_wwn) for mlun in tpg_lun.mapped_luns)
            if str(tpg.get_attribute('generate_node_acls')) == '1':
                users.append('%s (demo mode: every initiator sees it)' % where)
        if users:
            raise SanConflict('backstore %r is still exported: %s; unmap it first'
                              % (storage_object.name, ', '.join(sorted(users))))

    def _reexport(self, volume, name, serial):
        path = volume.data_path(name)
        forget_backstore_indexes()
        if volume.kind == 'dir':
            rtslib_fb.FileIOStorageObject(name, dev=path, size=os.path.getsize(path), wwn=serial, write_back=False)
        else:
            rtslib_fb.BlockStorageObject(name, dev=path, wwn=serial, write_back=False)

    # -- snapshots ------------------------------------------------------------------------------
    def get_snapshot(self, volume, name):
        parsed = _Volume(volume)
        _check_name(name, 'snapshot name')
        self._check_container(parsed)
        return self._read_snapshot(parsed, name)

    def _read_snapshot(self, volume, name):
        if volume.kind == 'dir':
            path = volume.data_path(name)
            origin = self.files.get_meta(path, XATTR_SNAPSHOT_OF) if os.path.isfile(path) else None
            created = self.files.mtime_iso(path) if origin else None
        else:
            row = self.lvs.thin_lv(volume, name)
            origin = _tag_value(row['lv_tags'], TAG_SNAPSHOT_OF) if row else None
            created = _iso_time(row['lv_time']) if origin else None
        if origin is None:
            return None
        return dict(name=name, volume=volume.text, lun=origin, create_time=created,
                    clones=self._clones_of(volume, name), vserver=None, uuid=None)

    def _clones_of(self, volume, snapshot):
        if volume.kind == 'dir':
            names = [entry for entry in self.files.listdir(volume.directory)
                     if (_split_parent(self.files.get_meta(volume.data_path(entry), XATTR_CLONE_OF)) or ('',))[0]
                     == snapshot]
        else:
            names = [lv for lv, row in self.lvs.rows(volume.vg).items()
                     if row.get('pool_lv') == volume.pool
                     and (_split_parent(_tag_value(row['lv_tags'], TAG_CLONE_OF)) or ('',))[0] == snapshot]
        return sorted(self.lun_path(volume.text, entry) for entry in names)

    def list_snapshots(self, volume=None, name=None):
        volumes = [_Volume(volume)] if volume else self._snapshot_volumes()
        found = []
        for parsed in volumes:
            self._check_container(parsed)
            for candidate in self._snapshot_names(parsed):
                if name is None or candidate == name:
                    snapshot = self._read_snapshot(parsed, candidate)
                    if snapshot is not None:
                        found.append(snapshot)
        return sorted(found, key=lambda snap: (snap['volume'], snap['name']))

    def _snapshot_volumes(self):
        """Thin pools holding tagged snapshot LVs, and the directories of fileio backstores."""
        texts = set()
        for row in self.lvs.all_rows():
            if _tag_value(row.get('lv_tags'), TAG_SNAPSHOT_OF) is not None and row.get('pool_lv'):
                texts.add('%s/%s' % (row['vg_name'], row['pool_lv']))
        for key, _storage_object in self._storage_objects():
            if key[0] == 'file' and os.path.dirname(key[1]) != '/':
                texts.add(os.path.dirname(key[1]))
        return [_Volume(text) for text in sorted(texts)]

    def _snapshot_names(self, volume):
        if volume.kind == 'dir':
            return [entry for entry in self.files.listdir(volume.directory) if NAME_RE.match(entry)]
        return sorted(self.lvs.rows(volume.vg))

    @staticmethod
    def _check_snapshot_request(name, lun):
        _check_name(name, 'snapshot name')
        if lun is None:
            raise SanInvalid('lun is required to create a snapshot on LIO: a snapshot copies one LUN')

    @classmethod
    def check_volume_name(cls, volume):
        _Volume(volume)

    @classmethod
    def check_snapshot_name(cls, name):
        _check_name(name, 'snapshot name')

    def validate_snapshot(self, volume, name, lun):
        self._check_snapshot_request(name, lun)
        self._check_free_data_name(_Volume(volume), name)

    def create_snapshot(self, volume, name, lun=None):
        parsed = _Volume(volume)
        self._check_snapshot_request(name, lun)
        if self.get_lun(volume, lun) is None:
            raise SanNotFound('LUN %r does not exist in volume %r' % (lun, parsed.text))
        with self._locked():
            self._check_free_data_name(parsed, name)
            if parsed.kind == 'dir':
                self.files.reflink(parsed.data_path(lun), parsed.data_path(name), {XATTR_SNAPSHOT_OF: lun})
            else:
                self.lvs.snapshot(parsed, lun, name)
        return self._read_snapshot(parsed, name)

    def delete_snapshot(self, volume, name):
        parsed = _Volume(volume)
        with self._locked():
            snapshot = self.get_snapshot(volume, name)
            if snapshot is None:
                raise SanNotFound('snapshot %r does not exist in volume %r' % (name, parsed.text))
            if snapshot['clones']:
                raise SanConflict('snapshot %r of %r backs LUN clone(s) %s; delete the clone(s) first'
                                  % (name, parsed.text, ', '.join(snapshot['clones'])))
            self._remove_data(parsed, name)

    # -- igroups --------------------------------------------------------------------------------
    def _igroup_acls(self, tpg, name):
        return sorted((acl for acl in tpg.node_acls if acl.tag == name), key=lambda acl: acl.node_wwn)

    def _igroup_dict(self, name, acls):
        maps = set()
        for acl in acls:
            for lun_id, storage_object in self._acl_maps(acl):
                maps.add((lun_id, self._so_path(storage_object)))
        return dict(name=name, protocol='iscsi', os_type=self.default_os_type,
                    initiators=sorted(acl.node_wwn.lower() for acl in acls),
                    maps=[dict(path=path, lun_id=lun_id) for lun_id, path in sorted(maps)],
                    vserver=None, uuid=None)

    def get_igroup(self, name):
        tpg = self._tpg()
        if tpg is None:
            return None
        acls = self._igroup_acls(tpg, name)
        return self._igroup_dict(name, acls) if acls else None

    def list_igroups(self, name=None):
        tpg = self._tpg()
        if tpg is None:
            return []
        groups = {}
        for acl in tpg.node_acls:
            tag = acl.tag
            if tag and (name is None or tag == name):
                groups.setdefault(tag, []).append(acl)
        return [self._igroup_dict(tag, sorted(acls, key=lambda acl: acl.node_wwn))
                for tag, acls in sorted(groups.items())]

    @staticmethod
    def _check_igroup_fields(name, protocol, os_type):
        if not IGROUP_RE.match(name or '') or name == 'NULL':
            raise SanInvalid('igroup name %r is not valid on LIO (it becomes the ACL tag): use 1-63 letters, digits '
                             'and _ . : -' % (name,))
        if protocol != 'iscsi':
            raise SanInvalid('LIO igroups support protocol iscsi only, not %r' % (protocol,))
        if os_type != 'linux':
            raise SanInvalid('LIO igroups have no os_type: omit os_type or use linux, not %r' % (os_type,))

    @staticmethod
    def _check_keeps_initiators(name, remaining, removing=()):
        """A LIO igroup is a set of node ACLs: it can neither be created nor left without initiators."""
        if remaining:
            return
        if removing:
            raise SanInvalid('removing %s would leave igroup %r empty; a LIO igroup cannot be empty, delete it '
                             'with state=absent instead' % (', '.join(sorted(removing)), name))
        raise SanInvalid('igroup %r has no initiators: a LIO igroup is a set of node ACLs and cannot be empty' % name)

    def validate_igroup(self, current, planned):
        name, present = planned['name'], current['initiators'] if current else []
        if current is None:
            self._check_igroup_fields(name, planned['protocol'], planned['os_type'])
        elif planned['os_type'] != current['os_type']:
            self._check_igroup_fields(name, 'iscsi', planned['os_type'])
        self._check_keeps_initiators(name, planned['initiators'], set(present) - set(planned['initiators']))
        added = sorted(set(planned['initiators']) - set(present))
        tpg = self._tpg() if added else None
        if tpg is not None:
            self._check_initiators_free(tpg, added)

    def create_igroup(self, name, protocol, os_type, initiators):
        self._check_igroup_fields(name, protocol, os_type)
        keys = [normalize_initiator(initiator) for initiator in initiators]
        self._check_keeps_initiators(name, keys)
        with self._changing_config():
            tpg = self._ensure_tpg()
            if self._igroup_acls(tpg, name):
                raise SanConflict('igroup %r exists already' % name)
            self._add_acls(tpg, name, keys, [])
            self._reconcile_auth(tpg)
            return self.get_igroup(name)

    def set_igroup_os_type(self, name, os_type):
        self._check_igroup_fields(name, 'iscsi', os_type)
        return self.get_igroup(name)

    def add_initiators(self, name, initiators):
        keys = [normalize_initiator(initiator) for initiator in initiators]
        with self._changing_config():
            tpg = self._existing_tpg()
            acls = self._igroup_acls(tpg, name)
            if not acls:
                raise SanNotFound('igroup %r does not exist' % name)
            self._add_acls(tpg, name, keys, self._acl_maps(acls[0]))
            self._reconcile_auth(tpg)
            return self.get_igroup(name)

    def _existing_tpg(self):
        tpg = self._tpg()
        if tpg is None:
            raise SanNotFound('LIO target %s (portal group %d) does not exist on this host'
                              % (self.target_iqn, self.params.get('tpg', 1)))
        return tpg

    def _check_initiators_free(self, tpg, keys):
        owners = dict((acl.node_wwn.lower(), acl.tag) for acl in tpg.node_acls)
        taken = ['%s (%s)' % (key, 'igroup %s' % owners[key] if owners[key] else 'an untagged ACL')
                 for key in keys if key in owners]
        if taken:
            raise SanConflict('initiator(s) already have an ACL in %s TPG %d: %s'
                              % (self.target_iqn, tpg.tag, ', '.join(taken)))

    def _add_acls(self, tpg, name, keys, maps):
        """One tagged ACL per initiator with the igroup's maps; all or none."""
        self._check_initiators_free(tpg, keys)
        tpg_luns = dict((self._so_identity(lun.storage_object), lun) for lun in tpg.luns)
        created = []
        try:
            for key in keys:
                acl = rtslib_fb.NodeACL(tpg, key, mode='create')
                created.append(acl)
                acl.tag = name
                for lun_id, storage_object in maps:
                    rtslib_fb.MappedLUN(acl, lun_id, tpg_luns[self._so_identity(storage_object)])
        except rtslib_fb.RTSLibError as exc:
            for acl in created:
                acl.delete()
            raise SanError('cannot create the ACLs of igroup %r: %s' % (name, exc))

    def remove_initiators(self, name, initiators, force=False):
        keys = set(normalize_initiator(initiator) for initiator in initiators)
        with self._changing_config():
            tpg = self._existing_tpg()
            acls = self._igroup_acls(tpg, name)
            if acls:
                self._check_keeps_initiators(name, [acl for acl in acls if acl.node_wwn.lower() not in keys], keys)
                maps = self._igroup_dict(name, acls)['maps']
                if maps and not force:
                    raise mapped_removal_conflict(name, sorted(keys), maps)
            for acl in acls:
                if acl.node_wwn.lower() in keys:
                    acl.delete()
            self._reconcile_auth(tpg)
            return self.get_igroup(name)

    def delete_igroup(self, name, force=False):
        with self._changing_config():
            tpg = self._existing_tpg()
            acls = self._igroup_acls(tpg, name)
            if not acls:
                raise SanNotFound('igroup %r does not exist' % name)
            mapped = sorted(set(self._so_path(so) for acl in acls for _lun_id, so in self._acl_maps(acl)))
            if mapped and not force:
                raise SanConflict('igroup %r is mapped to %s; unmap first or set force=true' % (name, ', '.join(mapped)))
            used = set(self._so_identity(so) for acl in acls for _lun_id, so in self._acl_maps(acl))
            for acl in acls:
                acl.delete()
            self._drop_unmapped_tpg_luns(tpg, used)
            self._reconcile_auth(tpg)

    # -- CHAP ----------------------------------------------------------------------------------
    @staticmethod
    def _initiator_acl(tpg, initiator):
        key = normalize_initiator(initiator)
        return next((acl for acl in tpg.node_acls if acl.node_wwn.lower() == key), None) if tpg is not None else None

    @staticmethod
    def _chap_dict(acl):
        return dict(initiator=acl.node_wwn.lower(), method='chap', user=acl.chap_userid,
                    mutual_user=acl.chap_mutual_userid or None, vserver=None)

    def _acl_for_chap(self, tpg, initiator):
        acl = self._initiator_acl(tpg, initiator)
        if acl is None:
            raise SanNotFound('initiator %s is in no igroup of %s (portal group %d); LIO keeps CHAP credentials on '
                              "the initiator's node ACL: add it to an igroup first"
                              % (initiator, self.target_iqn, tpg.tag), INITIATOR_NOT_FOUND)
        return acl

    def get_chap(self, initiator):
        _target, tpg = self._lookup_tpg()
        acl = self._initiator_acl(tpg, initiator)
        return self._chap_dict(acl) if acl is not None and acl.chap_userid else None

    def validate_chap(self, initiator):
        self._acl_for_chap(self._existing_tpg(), initiator)

    def set_chap(self, initiator, user, secret, mutual_user=None, mutual_secret=None):
        check_chap_input(user, secret, mutual_user, mutual_secret)
        with self._changing_config():
            tpg = self._existing_tpg()
            acl = self._acl_for_chap(tpg, initiator)
            # credentials first, then the ACL's authentication: no login window with CHAP and no secret
            acl.chap_userid, acl.chap_password = user, secret
            acl.chap_mutual_userid, acl.chap_mutual_password = mutual_user or '', mutual_secret or ''
            self._reconcile_auth(tpg)
            return self._chap_dict(acl)

    def delete_chap(self, initiator):
        with self._changing_config():
            tpg = self._existing_tpg()
            acl = self._acl_for_chap(tpg, initiator)
            if not acl.chap_userid:
                raise SanNotFound('initiator %s has no CHAP credentials' % initiator)
            if 'authentication' in acl.list_attributes():
                _set_attribute(acl, 'authentication', '0')
            acl.chap_mutual_userid, acl.chap_mutual_password = '', ''
            acl.chap_userid, acl.chap_password = '', ''
            self._reconcile_auth(tpg)

    def chap_secrets_match(self, initiator, secret, mutual_secret=None):
        _target, tpg = self._lookup_tpg()
        acl = self._initiator_acl(tpg, initiator)
        if acl is None:
            return False
        return (hmac.compare_digest(acl.chap_password.encode(), secret.encode())
                and hmac.compare_digest((acl.chap_mutual_password or '').encode(), (mutual_secret or '').encode()))

    def _drop_unmapped_tpg_luns(self, tpg, identities):
        """Remove TPG LUNs of these backstores that no ACL maps any more (we create them on first map)."""
        for tpg_lun in list(tpg.luns):
            if self._so_identity(tpg_lun.storage_object) in identities and not list(tpg_lun.mapped_luns):
                tpg_lun.delete()

    # -- maps -----------------------------------------------------------------------------------
    def _lun_so(self, path, missing_ok=False):
        volume, name = self.split_lun_path(path)
        parsed = _Volume(volume)
        self._check_container(parsed)
        storage_object = self._find_so(parsed, name)
        if storage_object is None or self._read_lun(parsed, name, storage_object) is None:
            if missing_ok:
                return None
            raise SanNotFound('LUN %s does not exist' % path)
        return storage_object

    def _map_ids(self, acls, storage_object):
        """{acl node_wwn: mapped LUN id} of the ACLs that map this backstore."""
        wanted = self._so_identity(storage_object)
        ids = {}
        for acl in acls:
            for lun_id, mapped in self._acl_maps(acl):
                if self._so_identity(mapped) == wanted:
                    ids[acl.node_wwn] = lun_id
        return ids

    def get_lun_map(self, path, igroup):
        tpg = self._tpg()
        if tpg is None:
            return None
        acls = self._igroup_acls(tpg, igroup)
        storage_object = self._lun_so(path, missing_ok=True)
        if not acls or storage_object is None:
            return None
        ids = self._map_ids(acls, storage_object)
        if len(ids) != len(acls) or len(set(ids.values())) != 1:
            return None  # not mapped, or only partly: create_lun_map completes it
        return dict(igroup=igroup, path=self.lun_path(*self.split_lun_path(path)), lun_id=list(ids.values())[0],
                    vserver=None)

    def list_lun_maps(self, igroup=None, path=None):
        found = set()
        for group in self.list_igroups(name=igroup):
            for entry in group['maps']:
                if path is None or entry['path'] == path:
                    found.add((group['name'], entry['lun_id'], entry['path']))
        return [dict(igroup=name, path=lun_path, lun_id=lun_id, vserver=None)
                for name, lun_id, lun_path in sorted(found)]

    def create_lun_map(self, path, igroup, lun_id=None):
        if lun_id is not None and not 0 <= lun_id <= self.max_lun_id:
            raise SanInvalid('lun_id %d is out of range 0-%d' % (lun_id, self.max_lun_id))
        storage_object = self._lun_so(path)
        with self._changing_config():
            tpg = self._existing_tpg()
            acls = self._igroup_acls(tpg, igroup)
            if not acls:
                raise SanNotFound('igroup %r does not exist' % igroup)
            lun_id = self._choose_lun_id(acls, storage_object, lun_id, igroup)
            tpg_lun = self._tpg_lun(tpg, storage_object)
            wanted = self._so_identity(storage_object)
            for acl in acls:
                mapped = dict((mlun.mapped_lun, (mlun, so)) for mlun, so in self._acl_mapped_luns(acl))
                if lun_id in mapped and self._so_identity(mapped[lun_id][1]) == wanted:
                    continue
                for mlun, storage_object in mapped.values():  # a partial map under another id is replaced
                    if self._so_identity(storage_object) == wanted:
                        mlun.delete()
                rtslib_fb.MappedLUN(acl, lun_id, tpg_lun)
            return self.get_lun_map(path, igroup)

    def _choose_lun_id(self, acls, storage_object, lun_id, igroup):
        wanted = self._so_identity(storage_object)
        used = dict((mapped_id, so) for acl in acls for mapped_id, so in self._acl_maps(acl))
        if lun_id is None:
            current = set(self._map_ids(acls, storage_object).values())
            if len(current) == 1:
                return current.pop()
            lun_id = next((index for index in range(self.max_lun_id + 1) if index not in used), None)
            if lun_id is None:
                raise SanConflict('igroup %r uses every LUN id 0-%d' % (igroup, self.max_lun_id))
        elif lun_id in used and self._so_identity(used[lun_id]) != wanted:
            raise SanConflict('LUN id %d is already used in igroup %r by %s'
                              % (lun_id, igroup, self._so_path(used[lun_id])))
        return lun_id

    def _tpg_lun(self, tpg, storage_object):
        wanted = self._so_identity(storage_object)
        for tpg_lun in tpg.luns:
            if self._so_identity(tpg_lun.storage_object) == wanted:
                return tpg_lun
        return rtslib_fb.LUN(tpg, storage_object=storage_object)

    def delete_lun_map(self, path, igroup):
        storage_object = self._lun_so(path)
        wanted = self._so_identity(storage_object)
        with self._changing_config():
            tpg = self._existing_tpg()
            for acl in self._igroup_acls(tpg, igroup):
                for mlun, mapped in self._acl_mapped_luns(acl):
                    if self._so_identity(mapped) == wanted:
                        mlun.delete()
            self._drop_unmapped_tpg_luns(tpg, set([wanted]))
