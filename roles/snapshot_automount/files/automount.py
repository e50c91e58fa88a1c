# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""autofs program map, reaper and by-name tree of san.iscsi's snapshot automount (a browse host).

Installed by the snapshot_automount role (which puts ``#!/usr/bin/python3`` in front) as the program map ``auto.snapshots`` (autofs runs it with the key as
its one argument) and, under the name ``san-iscsi-automount``, as the command of the reaper's timer:
``san-iscsi-automount reap|refresh|lookup KEY|status``.

A lookup of ``LUN@SNAPSHOT`` (serialised per key by a lock file):

1. reuses the key's staging mount when it is still there (the mount autofs expired, not yet reaped);
2. otherwise asks the SAN side (``automount-san``: through the restricted SSH key with LIO, run here with its own
   REST account with ONTAP) for a clone of the snapshot mapped to this host, logs in to its target (an existing
   session is rescanned instead), waits for the disk by WWID as the collection's modules do (udev), sets it
   read-only in the kernel, finds the filesystem or LVM PV (on the disk or in its one partition holding one; a VG
   on one PV is imported as a clone VG on a copy-on-write overlay, as lun_mount does for a snapshot, and its one
   LV able to hold a filesystem activated read-only) and mounts it on ``STATE/mnt/KEY`` with the snapshot options
   (``ro,nosuid,nodev,noexec`` and the filesystem's no-replay option);
3. prints ``-fstype=bind :STATE/mnt/KEY``: autofs bind-mounts it, so autofs itself never runs fsck (its
   ext2/3/4 mount module always does) and no fsck ever runs.

The key ``by-name`` is the tree ``by-name/LUN/SNAPSHOT`` of symlinks into the automount point, rebuilt by
``refresh``. An unknown or malformed key prints nothing and exits 1 (autofs answers "No such file or
directory"). Logs go to syslog (the journal), never to stdout.

``reap`` (the timer) finishes the seed's steps 9 and 10 for each key whose bind mount autofs has expired and
that no lookup used for ``reap_grace`` seconds: unmount the staging mount, remove the clone VG and its overlay
(LVM content), let go of the disk, unmap and delete the clone, and log out of (and delete the node record of) a
session this program logged in to once it has no disk left. It also deletes clones the SAN side lists for keys
this host has no state of (a lookup killed half-way). Nothing is torn down while it is in use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import json
import os
import re
import sys
import syslog
import time

DEFAULT_CONFIG = '/etc/san-iscsi/automount.json'
DEFAULT_LIB = '/usr/local/lib/san-iscsi/python'
NAME = r'[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}'
KEY_RE = re.compile(r'^(%s)@(%s)$' % (NAME, NAME))
BY_NAME = 'by-name'
PROGRAM_MAP_NAME = 'auto.snapshots'
DEFAULTS = {
    'state_dir': '/run/san-iscsi-automount',
    'iface': 'default',
    'device_timeout': 50,
    # a node record this program creates gets these (open-iscsi's defaults retry an unreachable portal for about
    # two minutes: lab, connection refused, 129 s), so a lookup whose login cannot succeed fails in about 30 s
    'login_retries': 2,
    'login_timeout': 15,
    'san_timeout': 40,
    'reap_grace': 30,
    'refresh_interval': 60,
    'ssh_port': 22,
    'ssh_user': 'root',
    'lib': DEFAULT_LIB,
}
REQUIRED = ('mount_point',)
# the SAN side: through the restricted SSH key (LIO), or SAN_COMMAND run here (ONTAP: the helper with its REST
# account)
SSH_KEYS = ('ssh_host', 'ssh_identity', 'ssh_known_hosts')
# the settings of a node record this program creates: (name, value or the configuration key holding it)
NODE_SETTINGS = (('node.startup', 'manual'), ('node.session.initial_login_retry_max', 'login_retries'),
                 ('node.conn[0].timeo.login_timeout', 'login_timeout'))


class Unknown(Exception):
    """The key names no snapshot (autofs: "No such file or directory")."""


class Failed(Exception):
    """A step failed: ERROR_CODE, and MSG for the journal."""

    def __init__(self, msg, error_code='failed'):
        super(Failed, self).__init__(msg)
        self.error_code = error_code


def log(message, priority=syslog.LOG_INFO):
    syslog.syslog(priority, message)


def load_config(path):
    with open(path) as handle:
        config = dict(DEFAULTS, **json.load(handle))
    missing = [key for key in REQUIRED if not config.get(key)]
    if not config.get('san_command'):
        missing.extend(key for key in SSH_KEYS if not config.get(key))
    if missing:
        raise Failed('%s lacks %s (the SAN side needs san_command, or %s)'
                     % (path, ', '.join(missing), ', '.join(SSH_KEYS)), 'config')
    return config


def parse_key(key):
    """(lun, snapshot) of KEY, or Unknown."""
    match = KEY_RE.match(key or '')
    if not match:
        raise Unknown('not a LUN@SNAPSHOT key: %r' % (key,))
    return match.group(1), match.group(2)


@contextlib.contextmanager
def flocked(path):
    with open(path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


class Seams(object):
    """The collection's module_utils, imported from LIB (where the role copies them)."""

    def __init__(self, lib):
        if lib not in sys.path:
            sys.path.insert(0, lib)
        from ansible_collections.san.iscsi.plugins.module_utils import _blockdev, _devices, _iscsiadm, _lvm, _mounts
        from ansible_collections.san.iscsi.plugins.module_utils._command import Runner
        from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import parse_portal
        from ansible_collections.san.iscsi.plugins.module_utils._script_host import ScriptModule
        self.blockdev, self.devices, self.iscsiadm, self.mounts = _blockdev, _devices, _iscsiadm, _mounts
        self.lvm = _lvm
        self.parse_portal = parse_portal
        self.module = ScriptModule(warn=lambda message: log(message, syslog.LOG_WARNING))
        self.runner = Runner(self.module)
        self._iscsi = None

    def iscsi(self):
        if self._iscsi is None:
            self._iscsi = self.iscsiadm.Iscsiadm(self.module)
        return self._iscsi


def usable_content(fields):
    """Whether blkid FIELDS show something the automounter can mount: a filesystem, or an LVM PV."""
    return fields.get('USAGE') == 'filesystem' or fields.get('TYPE') == 'LVM2_member'


class SanClient(object):
    """The SAN side through the restricted key: one ssh call per request, the host key pinned."""

    def __init__(self, config, runner):
        self.config = config
        self.runner = runner

    def command(self, words):
        """(program, arguments) that carry the request WORDS to the SAN side."""
        config = self.config
        return 'ssh', ['-F', '/dev/null', '-i', config['ssh_identity'], '-p', str(config['ssh_port']),
                       '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes',
                       '-o', 'UserKnownHostsFile=%s' % config['ssh_known_hosts'], '-o', 'ConnectTimeout=10',
                       '-o', 'LogLevel=ERROR', '%s@%s' % (config['ssh_user'], config['ssh_host'])] + list(words)

    def request(self, *words):
        program, args = self.command(words)
        rc, out, err = self.runner.run(program, args, ok=None, timeout=self.config['san_timeout'],
                                       what='SAN request %s' % ' '.join(words))
        try:
            answer = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            detail = (err or out).strip()[-300:]
            raise Failed('SAN request %s: no answer (exit %s): %s' % (' '.join(words), rc, detail), 'san')
        if not answer.get('ok'):
            if answer.get('error_code') in ('not_found', 'invalid_key'):
                raise Unknown(answer.get('msg'))
            raise Failed('SAN request %s: %s' % (' '.join(words), answer.get('msg')), answer.get('error_code', 'san'))
        return answer


class LocalSanClient(SanClient):
    """The SAN side run on this host (ONTAP): the helper ``automount-san CONFIG`` with its own REST account,
    whose password only root can read."""

    def command(self, words):
        helper = list(self.config['san_command'])
        return helper[0], helper[1:] + list(words)


class Automounter(object):
    def __init__(self, config, seams=None, san=None):
        self.config = config
        self._seams = seams
        self._san = san
        self.state = config['state_dir']
        for sub in ('', 'locks', 'keys', 'mnt', 'sessions', BY_NAME):
            path = os.path.join(self.state, sub)
            if not os.path.isdir(path):
                os.makedirs(path, 0o700 if sub != BY_NAME else 0o755)

    @property
    def seams(self):
        # imported on first use: a refused key is answered without loading them
        if self._seams is None:
            self._seams = Seams(self.config['lib'])
        return self._seams

    @property
    def san(self):
        if self._san is None:
            client = LocalSanClient if self.config.get('san_command') else SanClient
            self._san = client(self.config, self.seams.runner)
        return self._san

    # --- places -------------------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.state, *parts)

    def staging(self, key):
        return self.path('mnt', key)

    def record_path(self, key):
        return self.path('keys', key + '.json')

    def read_record(self, key):
        try:
            with open(self.record_path(key)) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def write_record(self, key, record):
        temp = self.record_path(key) + '.tmp'
        with open(temp, 'w') as handle:
            json.dump(record, handle, sort_keys=True)
        os.rename(temp, self.record_path(key))

    def mount_table(self):
        return self.seams.mounts.read_mountinfo()

    def mounted_at(self, mountpoint, table=None):
        return self.seams.mounts.mount_at(self.mount_table() if table is None else table, mountpoint)

    # --- lookup -------------------------------------------------------------------------------------------
    def lookup(self, key):
        """The map entry for KEY; Unknown or Failed."""
        if key == BY_NAME:
            if not os.listdir(self.path(BY_NAME)):
                self.refresh()
            return '-fstype=bind :%s' % self.path(BY_NAME)
        lun, snapshot = parse_key(key)
        if self.read_record(key) is None:
            self.refuse_unlisted(key)
        with flocked(self.path('locks', key + '.lock')):
            record = self.read_record(key)
            if record is not None and self.mounted_at(self.staging(key)) is not None:
                record['used'] = time.time()
                self.write_record(key, record)
                return '-fstype=bind :%s' % self.staging(key)
            self.write_record(key, {'key': key, 'lun': lun, 'snapshot': snapshot, 'phase': 'attaching',
                                    'used': time.time()})
            try:
                self.attach(key)
            except Unknown:
                os.unlink(self.record_path(key))  # the SAN side made nothing
                raise
            except Exception:
                self.teardown_after_failure(key)
                raise
            return '-fstype=bind :%s' % self.staging(key)

    def refuse_unlisted(self, key):
        """Unknown at once for a key the last refresh (recent enough) did not list: no SAN request for it."""
        listing = self.read_listing()
        if listing is None or time.time() - listing['time'] > 2 * self.config['refresh_interval']:
            return
        if key not in set('%s@%s' % (s['lun'], s['snapshot']) for s in listing['snapshots']):
            raise Unknown('%s is not among the snapshots listed %.0f s ago' % (key, time.time() - listing['time']))

    def attach(self, key):
        answer = self.san.request('attach', key)
        record = self.read_record(key)
        record.update(phase='attached', clone=answer['clone'], wwid=answer['wwid'], lun_id=answer['lun_id'],
                      target=answer['target'], portal=(self.config.get('portals') or answer['portals'])[0],
                      iface=self.config['iface'])
        self.write_record(key, record)
        device = self.connect(record)
        source, fields = self.content(device)
        if fields.get('TYPE') == 'LVM2_member':
            source, fields = self.lvm_clone(key, record, source)
        fstype = fields['TYPE']
        staging = self.staging(key)
        if not os.path.isdir(staging):
            os.mkdir(staging, 0o755)
        self.seams.mounts.mount(self.seams.runner, source, staging, fstype,
                                self.seams.mounts.snapshot_options(fstype))
        record.update(phase='mounted', source=source, fstype=fstype, device=device.name, used=time.time())
        self.write_record(key, record)
        log('%s: clone %s (%s) mounted read-only from %s (%s)' % (key, record['clone'], record['wwid'], source,
                                                                  fstype))

    def connect(self, record):
        """The clone's disk: log in (or rescan the live session), then wait for it by WWID."""
        seams = self.seams
        iscsi = seams.iscsi()
        portal = seams.parse_portal(record['portal'])
        with flocked(self.path('sessions.lock')):
            session = self.session(record, portal)
            if session is None:
                node = iscsi.find_record(record['target'], portal, record['iface'])
                marker = {'target': record['target'], 'portal': record['portal'], 'iface': record['iface'],
                          'created_record': node is None}
                if node is None:
                    node = iscsi.node_new(record['target'], portal, record['iface'])
                    for name, value in NODE_SETTINGS:  # never logged in at boot; a bounded first login
                        iscsi.node_update(node, name, str(self.config.get(value, value)))
                with open(self.session_marker(record), 'w') as handle:
                    json.dump(marker, handle)
                iscsi.login(node)
            else:
                iscsi.rescan_session(session.sid)
        disks = seams.devices.SessionDisks(seams.runner)

        need_multipath = disks.multipath_expected('auto')

        def predicate():
            found = seams.devices.find_devices(wwid=record['wwid'])
            if not found:
                return [], ['the disk of %s (%s)' % (record['clone'], record['wwid'])]
            return found, disks.ready(found[0], need_multipath)
        try:
            return disks.wait(predicate, self.config['device_timeout'])[0]
        except seams.devices.DeviceWaitTimeout as exc:
            raise Failed('no usable disk for %s within %s s: %s'
                         % (record['wwid'], self.config['device_timeout'], exc), 'device_timeout')

    def session(self, record, portal):
        for session in self.seams.iscsi().sessions():
            if session.matches(record['target'], portal, record['iface']):
                return session
        return None

    def session_marker(self, record):
        name = re.sub(r'[^A-Za-z0-9.:-]', '_', '%s_%s_%s' % (record['target'], record['portal'], record['iface']))
        return self.path('sessions', name + '.json')

    def content(self, device):
        """(path, blkid fields) of the filesystem or LVM PV on DEVICE or in its one partition holding one; the
        kernel's read-only flag set on the disk and that partition first."""
        blockdev, runner = self.seams.blockdev, self.seams.runner
        blockdev.set_read_only(runner, device.path)
        if device.multipath:  # multipathd claimed the disk: the map is what can be mounted
            blockdev.set_read_only(runner, device.multipath)
            fields = blockdev.probe(runner, device.multipath)
            if fields.get('USAGE') != 'filesystem':
                raise Failed('%s holds %s: only a filesystem on the whole LUN is automounted through a multipath '
                             'map' % (device.multipath, fields.get('TYPE') or fields.get('PTTYPE') or 'nothing'),
                             'content')
            return device.multipath, fields
        fields = blockdev.probe(runner, device.path)
        path = device.path
        if fields.get('PTTYPE') and not fields.get('TYPE'):
            nodes = blockdev.partition_devices(device.name)
            found = []
            for row in blockdev.partitions(runner, device.path):
                if row['nr'] in nodes:
                    part = blockdev.device_path(nodes[row['nr']])
                    probed = blockdev.probe(runner, part)
                    if usable_content(probed):
                        found.append((part, probed))
            if len(found) != 1:
                raise Failed('%s: %d partitions hold a filesystem or an LVM PV; the automounter mounts only one'
                             % (device.path, len(found)), 'content')
            path, fields = found[0]
            blockdev.set_read_only(runner, path)
        if not usable_content(fields):
            raise Failed('%s holds %s, neither a filesystem nor an LVM PV'
                         % (path, fields.get('TYPE') or 'nothing known'), 'content')
        return path, fields

    def lvm_clone(self, key, record, pv_path):
        """(path, blkid fields) of the one LV able to hold a filesystem of the VG on PV_PATH, imported as a clone
        VG on a copy-on-write overlay (the LUN stays read-only, as lun_mount's snapshot: true does) and activated
        read-only. The record names the clone VG before anything is made, so a teardown finds it."""
        seams = self.seams
        lvm_seam, blockdev = seams.lvm, seams.blockdev
        lvm, engine = self.lvm_engine()
        try:
            pv, vg_row = engine.vg_on(pv_path)
            vg = pv['vg_name']
            if int(vg_row.get('pv_count') or 1) != 1:
                raise Failed('VG %s on %s spans %s PVs; only a VG on one LUN is automounted'
                             % (vg, pv_path, vg_row['pv_count']), 'content')
            lv_rows = lvm.lvs(vg, devices=[pv_path], readonly=True)
            lv = lvm_seam.choose_lv(vg, lv_rows)
            name = lvm_seam.default_clone_name(vg, record['wwid'])
            record.update(clone_vg=name, lv=lv)
            self.write_record(key, record)
            clone = engine.clone(name, blockdev.kernel_name(pv_path), pv_path, pv)
            engine.release_autoactivated(clone, lv_rows)
            if not clone.imported:
                engine.refuse_taken_name(name)
                engine.import_clone(clone)
            engine.activate_clone_lv(clone, lv)
            _name, dm_path = engine.lv_device(name, lv, [clone.overlay_path])
        except lvm_seam.LvmRefusal as exc:
            raise Failed('%s: %s' % (pv_path, exc.msg), 'content')
        blockdev.set_read_only(seams.runner, dm_path)
        fields = blockdev.probe(seams.runner, dm_path)
        if fields.get('USAGE') != 'filesystem':
            raise Failed('LV %s/%s holds %s, not a filesystem' % (vg, lv, fields.get('TYPE') or 'nothing known'),
                         'content')
        return dm_path, fields

    def remove_lvm_clone(self, record):
        """Deactivate and remove the clone VG the record names, its overlay and what the import left."""
        seams = self.seams
        blockdev = seams.blockdev
        overlay = blockdev.overlay_name(record['clone_vg'])
        overlay_path = os.path.join('/dev/mapper', overlay)
        if blockdev.kernel_name(overlay_path) is None:
            blockdev.remove_overlay(seams.runner, overlay)  # its scratch file, if the import got that far
            return
        self.lvm_engine()[1].remove_clone(record['clone_vg'], [overlay_path], strict=True)

    def lvm_engine(self):
        """(Lvm, LvmEngine) of the LVM seam, the engine's warnings to the journal."""
        lvm = self.seams.lvm.Lvm(self.seams.runner)
        return lvm, self.seams.lvm.LvmEngine(lvm, {}, lambda message: log(message, syslog.LOG_WARNING))

    # --- teardown -----------------------------------------------------------------------------------------
    def bind_in_use(self, key, table):
        return self.mounted_at(os.path.join(self.config['mount_point'], key), table) is not None

    def reap(self, grace=None):
        """Tear down every expired key (see the module docstring); the keys torn down."""
        grace = self.config['reap_grace'] if grace is None else grace
        reaped = []
        for name in sorted(os.listdir(self.path('keys'))):
            if not name.endswith('.json'):
                continue
            key = name[:-len('.json')]
            with flocked(self.path('locks', key + '.lock')):
                record = self.read_record(key)
                table = self.mount_table()
                if record is None or self.bind_in_use(key, table) or time.time() - record.get('used', 0) < grace:
                    continue
                try:
                    if self.teardown(key):
                        reaped.append(key)
                except Exception as exc:  # pylint: disable=broad-except
                    log('%s: reaping failed, retried next time: %s' % (key, exc), syslog.LOG_ERR)
        reaped.extend(self.reap_orphans())
        return reaped

    def teardown_after_failure(self, key):
        try:
            self.teardown(key)
        except Exception as exc:  # pylint: disable=broad-except
            log('%s: the clean-up after the failed lookup failed too, the reaper retries: %s' % (key, exc),
                syslog.LOG_ERR)

    def teardown(self, key):
        """Undo whatever the key's record says was done; False when something is still in use."""
        record = self.read_record(key) or {'key': key}
        seams = self.seams
        staging = self.staging(key)
        if self.mounted_at(staging) is not None:
            try:
                seams.mounts.umount(seams.runner, staging)
            except Exception as exc:  # pylint: disable=broad-except
                log('%s: still in use, kept: %s' % (key, exc), syslog.LOG_WARNING)
                return False
        if os.path.isdir(staging):
            os.rmdir(staging)
        if record.get('clone_vg'):
            self.remove_lvm_clone(record)
        if record.get('wwid'):
            disks = seams.devices.SessionDisks(seams.runner)
            devices = seams.devices.find_devices(wwid=record['wwid'])
            busy = disks.not_releasable(devices)
            if busy:
                log('%s: the disk is in use, kept: %s' % (key, '; '.join(busy)), syslog.LOG_WARNING)
                return False
            disks.release(devices, warn=lambda message: log(message, syslog.LOG_WARNING))
        self.san.request('detach', key)
        if record.get('target'):
            self.logout_if_idle(record)
        os.unlink(self.record_path(key))
        log('%s: reaped (clone %s deleted)' % (key, record.get('clone')))
        return True

    def logout_if_idle(self, record):
        """Log out of the record's session when this program logged in to it and nothing uses it any more.

        Nothing uses it: no other key is attaching (its disk may not be mounted yet), and no disk of the session is
        mounted, swap, an active LV or held by anything (a disk of another LUN mapped to this host's igroup that
        appeared with the login and is unused goes with the logout)."""
        marker_path = self.session_marker(record)
        if not os.path.exists(marker_path):
            return
        seams = self.seams
        iscsi = seams.iscsi()
        portal = seams.parse_portal(record['portal'])
        with flocked(self.path('sessions.lock')):
            attaching = [name for name in os.listdir(self.path('keys')) if name.endswith('.json')
                         and name != record['key'] + '.json'
                         and (self.read_record(name[:-len('.json')]) or {}).get('phase') != 'mounted']
            if attaching:
                return
            session = self.session(record, portal)
            if session is not None:
                disks = seams.devices.SessionDisks(seams.runner)
                devices = seams.devices.session_devices(session.sid)
                busy = disks.not_releasable(devices)
                if busy:
                    log('session %s at %s stays: %s' % (record['target'], record['portal'], '; '.join(busy)))
                    return
                disks.release(devices, warn=lambda message: log(message, syslog.LOG_WARNING))
                iscsi.logout_session(session.sid, record['target'], record['portal'])
            with open(marker_path) as handle:
                marker = json.load(handle)
            if marker.get('created_record'):
                node = iscsi.find_record(record['target'], portal, record['iface'])
                if node is not None:
                    iscsi.node_delete(node)
            os.unlink(marker_path)

    def reap_orphans(self):
        """Clones the SAN side lists for keys of which this host keeps no record (a lookup killed half-way)."""
        reaped = []
        for clone in self.san.request('list').get('clones', []):
            key = clone['key']
            with flocked(self.path('locks', key + '.lock')):
                if self.read_record(key) is None:
                    self.san.request('detach', key)
                    log('%s: orphaned clone %s deleted' % (key, clone['clone']))
                    reaped.append(key)
        return reaped

    # --- by-name tree -------------------------------------------------------------------------------------
    def listing_path(self):
        return self.path('snapshots.json')

    def read_listing(self):
        try:
            with open(self.listing_path()) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def refresh(self):
        """Ask the SAN side for its snapshots; rebuild by-name/LUN/SNAPSHOT -> MOUNT_POINT/LUN@SNAPSHOT."""
        answer = self.san.request('list')
        snapshots = sorted(answer['snapshots'], key=lambda s: (s['lun'], s['snapshot']))
        listing = {'time': time.time(), 'snapshots': snapshots}
        temp = self.listing_path() + '.tmp'
        with open(temp, 'w') as handle:
            json.dump(listing, handle)
        os.rename(temp, self.listing_path())
        root = self.path(BY_NAME)
        wanted = {}
        for snap in snapshots:
            wanted.setdefault(snap['lun'], set()).add(snap['snapshot'])
        for lun in set(os.listdir(root)) - set(wanted):
            directory = os.path.join(root, lun)
            for entry in os.listdir(directory):
                os.unlink(os.path.join(directory, entry))
            os.rmdir(directory)
        for lun, names in wanted.items():
            directory = os.path.join(root, lun)
            if not os.path.isdir(directory):
                os.mkdir(directory, 0o755)
            for entry in set(os.listdir(directory)) - names:
                os.unlink(os.path.join(directory, entry))
            for name in names:
                link = os.path.join(directory, name)
                if not os.path.islink(link):
                    os.symlink(os.path.join(self.config['mount_point'], '%s@%s' % (lun, name)), link)
        return snapshots

    def status(self):
        keys = [name[:-5] for name in sorted(os.listdir(self.path('keys'))) if name.endswith('.json')]
        return {'keys': dict((key, self.read_record(key)) for key in keys)}


def program_map(argv, automounter_factory):
    """autofs's call: print the entry for argv[1], or nothing and exit 1."""
    key = argv[1] if len(argv) == 2 else None
    try:
        entry = automounter_factory().lookup(key)
    except Unknown as exc:
        log('lookup %r: no such snapshot: %s' % (key, exc))
        return 1
    except Exception as exc:  # pylint: disable=broad-except
        log('lookup %r failed (%s): %s' % (key, getattr(exc, 'error_code', exc.__class__.__name__), exc),
            syslog.LOG_ERR)
        return 1
    sys.stdout.write(entry + '\n')
    return 0


def command(argv, automounter_factory):
    words = argv[1:]
    if words not in (['reap'], ['reap', '--all'], ['refresh'], ['status']) and \
            not (len(words) == 2 and words[0] == 'lookup'):
        sys.stderr.write('usage: san-iscsi-automount reap [--all]|refresh|status|lookup KEY\n')
        return 2
    automounter = automounter_factory()
    if words[0] == 'lookup':
        return program_map(['lookup', words[1]], lambda: automounter)
    if words[0] == 'reap':
        result = {'reaped': automounter.reap(grace=0 if words[1:] == ['--all'] else None)}
    elif words[0] == 'refresh':
        result = {'snapshots': automounter.refresh()}
    else:
        result = automounter.status()
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    return 0


def main(argv=None, config_path=None):
    argv = sys.argv if argv is None else argv
    syslog.openlog('san-iscsi-automount', syslog.LOG_PID, syslog.LOG_DAEMON)
    config_path = config_path or os.environ.get('SAN_ISCSI_AUTOMOUNT_CONFIG') or DEFAULT_CONFIG

    def factory():
        return Automounter(load_config(config_path))
    if os.path.basename(argv[0]) == PROGRAM_MAP_NAME:
        return program_map(argv, factory)
    return command(argv, factory)


if __name__ == '__main__':
    sys.exit(main())
