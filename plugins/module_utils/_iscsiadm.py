# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one seam that runs iscsiadm (open-iscsi) and reads its node database.

- every call: argv list, LC_ALL=C, bounded by coreutils `timeout`, exit codes of iscsiadm(8)
  (include/iscsi_err.h) turned into messages that say what to check;
- parsers for `-m node -P 1`, `-m node -o show`, `-m session -P 1|3`, discovery output;
- CHAP secrets never go on a command line: they are written into the record file directly
  (the same "name = value" file iscsiadm itself reads and writes);
- calls that create, change or delete node records or interfaces, logins and logouts run under the
  collection's host lock (_host_lock), so two runs of our modules on one host never interleave them;
  races with other iscsiadm users are retried a bounded number of times, and every retry and lock wait
  is recorded (`retries`, `lock.waits`) for the module result.

Node records are always created with their portal group tag when one is known. Without it iscsiadm
keeps the record in its old flat layout, <db>/<target>/<address>,<port>, which has room for ONE iface:
`-o new` of the same target and portal through another iface then deletes that record and writes its own
(idbm_add_node in open-iscsi's usr/idbm.c). node_new refuses when that would delete a record.

Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import functools
import os
import re
import tempfile
import time
from collections import namedtuple

from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, Runner, concurrently
from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLockTimeout, host_lock
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    InvalidName, names_equal, parse_portal, format_portal,
)

PACKAGE_HINT = 'install the open-iscsi package (Debian/Ubuntu/SUSE: open-iscsi; RHEL/Fedora: iscsi-initiator-utils)'
# iscsid's own budget for one login is login_timeout (30 s in Debian's iscsid.conf, 15 s upstream)
# times initial_login_retry_max (4..8) plus reconnect delays: 300 s stays above it.
DEFAULT_TIMEOUT = 60
LOGIN_TIMEOUT = 300
KILL_GRACE = 10
TIMEOUT_RC = 124
NODE_DB_DIRS = ('/etc/iscsi/nodes', '/var/lib/iscsi/nodes')
SENDTARGETS_DB_DIRS = ('/etc/iscsi/send_targets', '/var/lib/iscsi/send_targets')
EMPTY = '<empty>'
MASKED = '********'
NO_TPGT = (-1, 4294967295)

# include/iscsi_err.h
EXIT_CODES = {
    1: 'generic error',
    2: 'session not found',
    3: 'out of memory',
    4: 'transport error',
    5: 'login failed',
    6: 'error accessing the iSCSI node database',
    7: 'invalid argument',
    8: 'connection timed out while connecting to the portal',
    9: 'internal iscsid error',
    10: 'logout failed',
    11: 'iSCSI PDU timed out',
    12: 'iSCSI transport not found (is the iscsi_tcp kernel module loaded?)',
    13: 'permission denied (iscsiadm must run as root)',
    14: 'the transport does not support this operation',
    15: 'a session for this target and portal already exists',
    16: 'invalid request to iscsid',
    17: 'iSNS service not supported',
    18: 'reading from or writing to iscsid failed',
    19: 'fatal login error (the target rejected the initiator: unknown target name or no ACL for this initiator)',
    20: 'cannot connect to iscsid (is the iscsid service running?)',
    21: 'no records, targets, sessions or portals found',
    22: 'could not look up the object in sysfs',
    23: 'could not look up the host',
    24: 'authorization failure (wrong CHAP user name or password, or the target expects CHAP)',
    25: 'iSNS query failed',
    26: 'iSNS registration or deregistration failed',
    27: 'operation not supported',
    28: 'device or resource busy',
    29: 'resource temporarily unavailable, try again',
    30: 'unknown discovery type',
    31: 'child process terminated',
    32: 'session not connected',
}
# iscsiadm's closing summaries; the line before them says what went wrong
GENERIC_LINE = re.compile(r'Could not (log into|logout of) all portals|Could not login to \[iface')
RC_SESSION_EXISTS = 15
RC_NO_OBJECTS = 21
RC_NODE_DB = 6
# Node database races with another iscsiadm (an admin, another tool): not our failure, retried a bounded
# number of times. Each is (rc, what iscsiadm prints, reason); the texts are open-iscsi 2.1's usr/idbm.c.
NODE_DB_RACES = (
    # the walk of the whole database (even for one record) found a record that another iscsiadm deleted
    (6, re.compile(r'could not stat /(etc|var/lib)/iscsi/nodes/'), 'a record vanished while iscsiadm listed them'),
    # idbm_lock: two iscsiadm both saw no lock directory and both ran mkdir; the second gets EEXIST
    (6, re.compile(r'Could not open \S*/lock/iscsi\S*: (17 )?File exists'), 'another iscsiadm created the lock directory'),
    # idbm_rec_write: the same access()-then-mkdir race on a target or portal directory
    (6, re.compile(r'Could not make (dir )?\S+: File exists'), 'another iscsiadm created the same record directory'),
)
# where open-iscsi's idbm_lock() keeps its lock file (LOCK_DIR); created before the first call (see prepare)
IDBM_LOCK_DIRS = ('/run/lock/iscsi',)
NODE_DB_ATTEMPTS = 4
NODE_DB_RETRY_DELAY = 0.5
RC_AUTH = 24
RC_INVALID_ARGUMENT = 7
# `iscsiadm -m iface -I NAME -o delete` of an interface that is not there (rc 7, open-iscsi 2.1.8)
IFACE_MISSING = 'Could not read iface info'
# interfaces iscsiadm provides itself (built in, not files under ifaces/): never created or deleted
BUILTIN_IFACES = ('default', 'iser')
# settings that name the record itself (target, portal, tpgt, iface): changed through the record's key only
IDENTITY_SETTINGS = ('node.name', 'node.tpgt', 'node.conn[0].address', 'node.conn[0].port', 'iface.iscsi_ifacename')


class IscsiadmError(CommandError):
    """A failed iscsiadm call (error_code iscsiadm_failed unless a more precise one is given)."""

    default_code = 'iscsiadm_failed'


def race_reason(rc, err):
    """Why rc/err is a node-database race with another iscsiadm (NODE_DB_RACES), or None."""
    for race_rc, pattern, reason in NODE_DB_RACES:
        if rc == race_rc and pattern.search(err or ''):
            return reason
    return None


def describe_rc(rc):
    if rc == TIMEOUT_RC:
        return 'did not finish in time and was stopped'
    return EXIT_CODES.get(rc, 'unknown error')


NodeRecord = namedtuple('NodeRecord', ['target', 'portal', 'iface'])


class Session(object):
    """One iSCSI session from `iscsiadm -m session -P 1|3`."""

    def __init__(self, target, portal, persistent_portal=None):
        self.target = target
        self.portal = portal
        self.persistent_portal = persistent_portal or portal
        self.iface = 'default'
        self.sid = None
        self.values = {}
        self.disks = []  # [{'host', 'channel', 'id', 'lun', 'name', 'state'}] (P3 only)

    @property
    def connection_state(self):
        return self.values.get('iSCSI Connection State')

    @property
    def session_state(self):
        return self.values.get('iSCSI Session State')

    def matches(self, target, portal, iface='default'):
        """Exact key (target case-insensitive, portal by canonical address and port, iface name)."""
        return (names_equal(self.target, target) and self.persistent_portal.same_as(portal)
                and self.iface == iface)

    def to_dict(self):
        return {
            'sid': self.sid, 'target': self.target, 'portal': self.persistent_portal.address,
            'current_portal': self.portal.address, 'tpgt': self.persistent_portal.tpgt, 'iface': self.iface,
            'connection_state': self.connection_state, 'session_state': self.session_state,
            'initiator_name': self.values.get('Iface Initiatorname'),
            'initiator_address': self.values.get('Iface IPaddress'),
            'disks': list(self.disks),
        }


# --- parsers -------------------------------------------------------------------------------

def _tpgt(value):
    return None if value is None or value in NO_TPGT else value


def _portal(text):
    portal = parse_portal(text, lenient=True)
    return portal._replace(tpgt=_tpgt(portal.tpgt))


def parse_flat_nodes(out):
    """`iscsiadm -m node` / discovery output: "portal,tpgt target" lines -> [NodeRecord] (iface None)."""
    records = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) != 2:
            continue
        records.append(NodeRecord(fields[1], _portal(fields[0]), None))
    return records


def parse_node_tree(out):
    """`iscsiadm -m node -P 1` -> [NodeRecord] with iface names."""
    records = []
    target = portal = None
    for line in out.splitlines():
        key, _sep, value = line.strip().partition(': ')
        if key == 'Target':
            target, portal = value.strip(), None
        elif key == 'Portal' and target:
            portal = _portal(value.strip())
        elif key == 'Iface Name' and target and portal:
            records.append(NodeRecord(target, portal, value.strip()))
    return records


def parse_show(out):
    """`-o show` output -> list of {name: value} dicts, one per record; '<empty>' becomes ''."""
    records = []
    current = None
    for line in out.splitlines():
        if line.startswith('# BEGIN RECORD'):
            current = {}
            records.append(current)
            continue
        if line.startswith('#') or ' = ' not in line:
            continue
        if current is None:
            current = {}
            records.append(current)
        name, value = line.split(' = ', 1)
        current[name.strip()] = '' if value.strip() == EMPTY else value.strip()
    return records


_DISK_HOST_RE = re.compile(r'^scsi(\d+) Channel (\d+) Id (\d+) Lun: (\d+)$')
_ATTACHED_RE = re.compile(r'^Attached scsi disk (\S+)\s+State: (\S+)')


def parse_sessions(out):
    """`iscsiadm -m session -P 1` or `-P 3` -> [Session].

    iscsiadm prints the target once for consecutive sessions of one target, and the portals once for
    consecutive sessions on one portal (open-iscsi's session_info_print_tree): a second session through another
    iface on the same portal starts with its "Interface:" header after a blank line, and inherits the portals.
    """
    sessions = []
    target = session = lun = None
    for raw in out.splitlines():
        line = raw.strip()
        if line.startswith('Target: '):
            target = line[len('Target: '):].split(' ')[0]
            session = None
        elif line.startswith('Current Portal: ') and target:
            session = Session(target, _portal(line.split(': ', 1)[1].strip()))
            sessions.append(session)
        elif session is None:
            continue
        elif line == 'Interface:' and (session.sid is not None or 'Iface Name' in session.values):
            session = Session(target, session.portal, session.persistent_portal)
            sessions.append(session)
            lun = None
        elif line.startswith('Persistent Portal: '):
            session.persistent_portal = _portal(line.split(': ', 1)[1].strip())
        elif _DISK_HOST_RE.match(line):
            lun = [int(group) for group in _DISK_HOST_RE.match(line).groups()]
        elif _ATTACHED_RE.match(line) and lun:
            name, state = _ATTACHED_RE.match(line).groups()
            session.disks.append({'host': lun[0], 'channel': lun[1], 'id': lun[2], 'lun': lun[3],
                                  'name': name, 'state': state})
        elif ': ' in line:
            _parse_session_value(session, line)
    return sessions


def _parse_session_value(session, line):
    # "Host Number: 2\tState: running" holds two pairs on one line
    for part in line.split('\t'):
        key, _sep, value = part.strip().partition(': ')
        if not key:
            continue
        value = value.strip()
        if key == 'SID':
            session.sid = int(value)
        elif key == 'Iface Name':
            session.iface = value
        session.values.setdefault(key, value)


def parse_flat_sessions(out):
    """`iscsiadm -m session`: "tcp: [1] 10.10.1.1:3260,1 iqn... (non-flash)" -> [Session]."""
    sessions = []
    for line in out.splitlines():
        match = re.match(r'^(\S+): \[(\d+)\] (\S+) (\S+)', line.strip())
        if match:
            session = Session(match.group(4), _portal(match.group(3)))
            session.sid = int(match.group(2))
            sessions.append(session)
    return sessions


def parse_fw(out):
    """`iscsiadm -m fw` ("iface.x = y" / "node.x = y" lines, one block per boot target) -> [dict]."""
    return parse_show(out)


# --- the runner -------------------------------------------------------------------------------


def only_iscsiadm_errors(outcomes):
    """The errors of concurrently()'s OUTCOMES ([IscsiadmError or None]); any other exception is raised."""
    errors = []
    for _result, error in outcomes:
        if error is not None and not isinstance(error, IscsiadmError):
            raise error
        errors.append(error)
    return errors


def raise_first(errors):
    """Raise the first error of ERRORS (login_all, logout_sessions: None for a success), its message naming the
    others; nothing when all succeeded."""
    failed = [error for error in errors if error is not None]
    if failed:
        first = failed[0]
        if len(failed) > 1:
            first.msg += '; also failed: %s' % '; '.join(error.msg for error in failed[1:])
        raise first


class Iscsiadm(object):
    """Runs iscsiadm for one module; `calls` records every argv (useful in tests and benchmarks).

    lock: the HostLock held around changes (default: the host's one lock); idbm_lock_dirs: see prepare();
    paths: the host's roots (a HostPaths: where the node and SendTargets databases are).
    """

    def __init__(self, module, timeout=DEFAULT_TIMEOUT, lock=None, idbm_lock_dirs=None, paths=None):
        self.module = module
        self.paths = paths or HostPaths()
        self.timeout = timeout
        self.runner = Runner(module, timeout, error=IscsiadmError, kill_grace=KILL_GRACE)
        self.binary = self.runner.binary('iscsiadm', hint=PACKAGE_HINT)
        self.retries = []  # [{'command', 'rc', 'reason', 'attempt'}]: races with another iscsiadm, retried
        self.lock = lock if lock is not None else host_lock()
        # the lock object outlives one module run where the interpreter does (Mitogen): report only our waits
        self._waits_before = len(self.lock.waits)
        self.idbm_lock_dirs = IDBM_LOCK_DIRS if idbm_lock_dirs is None else idbm_lock_dirs
        self._prepared = False

    @contextlib.contextmanager
    def locked(self, what):
        """Hold the host lock for WHAT; a wait that runs out is an IscsiadmError naming the holder."""
        try:
            self.lock.acquire(what)
        except HostLockTimeout as error:
            raise IscsiadmError('%s: %s' % (what, error.msg), error_code=error.error_code)
        try:
            yield
        finally:
            self.lock.release()

    def prepare(self):
        """Create open-iscsi's lock directory when it is missing, as its idbm_lock() does on first use.

        Two iscsiadm processes that both find it missing both run mkdir, and the loser fails with rc 6
        ("Could not open /run/lock/iscsi: File exists"): seen on freshly booted hosts. Created here before
        the first call (an EEXIST from another process doing the same is fine), the race cannot happen
        between our calls, nor between ours and another tool's; reads take iscsiadm's lock too.
        """
        if self._prepared:
            return
        for directory in self.idbm_lock_dirs:
            if os.path.isdir(os.path.dirname(directory)) and not os.path.isdir(directory):
                try:
                    os.mkdir(directory, 0o770)
                except OSError as error:
                    if error.errno != errno.EEXIST:
                        raise
        self._prepared = True

    def record_file(self, record):
        """The file iscsiadm keeps RECORD in (see node_record_file), or None."""
        return node_record_file(record, self.paths.node_db_dirs)

    def sendtargets_file(self, portal):
        """The SendTargets discovery record file of PORTAL, or None."""
        return sendtargets_record_file(portal, self.paths.sendtargets_db_dirs)

    def contention(self):
        """What this run waited for: {'lock_wait_seconds', 'lock_waits', 'retries'} (for the module result)."""
        waits = list(self.lock.waits[self._waits_before:])
        return {'lock_wait_seconds': round(sum(wait['seconds'] for wait in waits), 2), 'lock_waits': waits,
                'retries': list(self.retries)}

    @property
    def calls(self):
        """Every argv run so far (tests, benchmarks)."""
        return self.runner.calls

    def command(self, args, timeout=None):
        return self.runner.argv(self.binary, args, timeout)

    def run(self, args, ok=(0,), timeout=None, what=None, db_race=None):
        """Run iscsiadm ARGS; return (rc, out, err) when rc is in ok, else raise IscsiadmError.

        A node database race with another iscsiadm (NODE_DB_RACES) is retried a bounded number of times, as is
        whatever DB_RACE(rc, err) also calls one (it returns the reason, or a false value); each retry is
        recorded in `retries`.
        """
        argv = self.command(args, timeout)
        self.prepare()
        for attempt in range(1, NODE_DB_ATTEMPTS + 1):
            rc, out, err = self.runner.execute(argv)
            if attempt == NODE_DB_ATTEMPTS:
                break
            reason = race_reason(rc, err) or (db_race is not None and db_race(rc, err))
            if not reason:
                break
            self.retries.append({'command': 'iscsiadm ' + ' '.join(args), 'rc': rc, 'attempt': attempt,
                                 'reason': reason if isinstance(reason, str) else 'node database race'})
            time.sleep(NODE_DB_RETRY_DELAY)
        if rc in ok:
            return rc, out, err
        self.run_failed(args, rc, out, err, what, timeout)

    def run_failed(self, args, rc, out, err, what=None, timeout=None):
        """Raise the IscsiadmError for a failed `iscsiadm ARGS` (the last meaningful line says why)."""
        argv = self.command(args, timeout)
        detail = [line for line in (err or out or '').strip().splitlines() if not GENERIC_LINE.search(line)]
        what = what or 'iscsiadm ' + ' '.join(args)
        if rc == TIMEOUT_RC:
            msg = '%s: iscsiadm did not finish within %ss and was stopped' % (what, int(timeout or self.timeout))
        else:
            msg = '%s: iscsiadm exited with %d (%s)' % (what, rc, describe_rc(rc))
        if detail:
            msg += ': %s' % detail[-1]
        raise IscsiadmError(msg, cmd=argv, rc=rc, stdout=out, stderr=err)

    # node records ---------------------------------------------------------------------------

    @staticmethod
    def node_args(record):
        args = ['-m', 'node', '-T', record.target, '-p', record.portal.address]
        if record.iface:
            args += ['-I', record.iface]
        return args

    def node_records(self):
        rc, out, _err = self.run(['-m', 'node', '-P', '1'], ok=(0, RC_NO_OBJECTS))
        return [] if rc == RC_NO_OBJECTS else parse_node_tree(out)

    def find_record(self, target, portal, iface='default', records=None):
        """The stored record for exactly (target, portal, iface), with the stored spelling, or None."""
        for record in self.node_records() if records is None else records:
            if names_equal(record.target, target) and record.portal.same_as(portal) and record.iface == iface:
                return record
        return None

    def node_show(self, record):
        rc, out, _err = self.run(self.node_args(record) + ['-o', 'show'], ok=(0, RC_NO_OBJECTS))
        if rc == RC_NO_OBJECTS:
            return None
        shown = parse_show(out)
        return shown[0] if shown else None

    def node_new(self, target, portal, iface='default', records=None):
        """Create the record (target, portal, iface); give the portal its tpgt (see the module docstring).

        RECORDS (as node_records() lists them) saves a listing. Refused, with nothing written, when
        `-o new` would delete another record: one of the same target and portal in the old flat layout
        (no tpgt) bound to another iface.
        """
        address = portal.address if portal.tpgt is None else '%s,%d' % (portal.address, portal.tpgt)
        what = 'create node record %s %s (iface %s)' % (target, address, iface)
        with self.locked(what):
            clobbered = flat_record_in_the_way(self.node_records() if records is None else records,
                                               target, portal, iface)
            if clobbered:
                raise IscsiadmError(
                    '%s: refused, it would delete the node record of iface %s for the same target and portal: '
                    'that record has no portal group tag, so iscsiadm keeps it where a record of any other iface '
                    'would replace it. Log in through iface %s, or recreate that record with its tag '
                    '(portal "%s,TPGT")' % (what, clobbered.iface, clobbered.iface, portal.address),
                    error_code='node_record_conflict')
            self.run(['-m', 'node', '-o', 'new', '-T', target, '-p', address, '-I', iface], what=what)
        return NodeRecord(target, portal, iface)

    def node_update(self, record, name, value):
        if is_secret(name):
            raise ValueError('%s is a secret: use write_record_secret, never the command line' % name)
        what = 'set %s on node record %s %s' % (name, record.target, record.portal.address)
        with self.locked(what):
            self.run(self.node_args(record) + ['-o', 'update', '-n', name, '-v', value], what=what)

    def node_apply_settings(self, record, wanted, check_mode=False):
        """Write the settings of WANTED ({name: text}) that differ in the record; -> {name: text} written.

        Reads the record first (`-o show`); a name the record does not have is refused before any write.
        Returns None when the record does not exist (any more).
        """
        shown = self.node_show(record)
        if shown is None:
            return None
        unknown = unknown_settings(shown, wanted)
        if unknown:
            raise ValueError(unknown_settings_message(unknown))
        updates = settings_to_update(shown, wanted)
        if not check_mode:
            for name, value in updates:
                self.node_update(record, name, value)
        return dict(updates)

    def node_delete(self, record):
        # no record (21) is what a retry after a node database race finds when the first try deleted ours
        what = 'delete node record %s %s' % (record.target, record.portal.address)
        with self.locked(what):
            self.run(self.node_args(record) + ['-o', 'delete'], ok=(0, RC_NO_OBJECTS), what=what)

    # interfaces -----------------------------------------------------------------------------

    def iface_names(self):
        """Names of the interfaces (`iscsiadm -m iface`: "NAME transport,hwaddress,ip,netdev,initiator")."""
        rc, out, _err = self.run(['-m', 'iface'], ok=(0, RC_NO_OBJECTS))
        return [] if rc == RC_NO_OBJECTS else [line.split()[0] for line in out.splitlines() if line.strip()]

    def iface_new(self, name):
        """Create interface NAME (tcp transport defaults); rc 15 (it exists) is accepted."""
        with self.locked('create iface %s' % name):
            self.run(['-m', 'iface', '-I', name, '-o', 'new'], ok=(0, RC_SESSION_EXISTS),
                     what='create iface %s' % name)

    def iface_delete(self, name):
        """Delete interface NAME; -> False when it was not there (iscsiadm: rc 7, "Could not read iface info")."""
        with self.locked('delete iface %s' % name):
            rc, out, err = self.run(['-m', 'iface', '-I', name, '-o', 'delete'], ok=(0, RC_INVALID_ARGUMENT),
                                    what='delete iface %s' % name)
        if rc == 0:
            return True
        if IFACE_MISSING in (err or '') + (out or ''):
            return False
        self.run_failed(['-m', 'iface', '-I', name, '-o', 'delete'], rc, out, err, 'delete iface %s' % name)

    # sessions -------------------------------------------------------------------------------

    def sessions(self, level=1):
        rc, out, _err = self.run(['-m', 'session', '-P', str(level)], ok=(0, RC_NO_OBJECTS))
        return [] if rc == RC_NO_OBJECTS else parse_sessions(out)

    def login(self, record, timeout=LOGIN_TIMEOUT):
        """Log in with one RECORD (see login_all); its error is raised."""
        raise_first(self.login_all([record], timeout))

    def login_all(self, records, timeout=LOGIN_TIMEOUT):
        """Log in with RECORDS at once, under one hold of the host lock; -> [IscsiadmError or None] in their order.

        As `iscsiadm -m node -T TARGET --login` does for all of a target's records: each login waits on its
        portal, so N portals take the time of the slowest, not the sum. Logins only read the node database,
        and no writer of this collection runs while the lock is held.

        "No records found" is retried while iscsiadm still lists the record. When it does not, the record is gone
        (another process deleted or replaced it): error_code node_record_vanished.
        """
        if not records:
            return []
        self.prepare()
        what = 'login to %s' % ', '.join('%s at %s' % (r.target, r.portal.address) for r in records)
        with self.locked(what):
            outcomes = concurrently([functools.partial(self._login, record, timeout) for record in records])
        return only_iscsiadm_errors(outcomes)

    def _login(self, record, timeout):
        """The login itself; the caller holds the host lock."""
        what = 'login to %s at %s' % (record.target, record.portal.address)
        try:
            self.run(self.node_args(record) + ['--login'], ok=(0, RC_SESSION_EXISTS), timeout=timeout,
                     what=what, db_race=lambda rc, _err: rc == RC_NO_OBJECTS and self.still_listed(record))
        except IscsiadmError as error:
            if error.rc != RC_NO_OBJECTS or self.still_listed(record):
                raise
            raise IscsiadmError(
                '%s: the node record is gone: another process deleted or replaced it after this run found or '
                'created it (iscsiadm: %s)' % (what, (error.stderr or '').strip() or 'No records found'),
                cmd=error.cmd, rc=error.rc, stdout=error.stdout, stderr=error.stderr,
                error_code='node_record_vanished')

    def still_listed(self, record):
        """Whether iscsiadm lists the record (exact target, portal and iface): the reason for a retry, or None."""
        if self.find_record(record.target, record.portal, record.iface or 'default') is None:
            return None
        return 'iscsiadm found no record although it lists it (the database was changed while it read it)'

    def logout_session(self, sid, target, portal):
        """Log out of session SID (of TARGET at PORTAL; see logout_sessions); its error is raised."""
        raise_first(self.logout_sessions([(sid, target, portal)]))

    def logout_sessions(self, sessions):
        """Log out of SESSIONS ([(sid, target, portal)]) at once, under one hold of the host lock.

        -> [IscsiadmError or None] in their order. Each logout waits on its target, as each login does
        (see login_all).
        """
        if not sessions:
            return []
        self.prepare()
        whats = ['logout of session %s (%s at %s)' % session for session in sessions]
        with self.locked(', '.join(whats)):
            outcomes = concurrently([functools.partial(self.run, ['-m', 'session', '-r', str(sid), '--logout'], what=what)
                                     for (sid, _target, _portal), what in zip(sessions, whats)])
        return only_iscsiadm_errors(outcomes)

    def rescan_session(self, sid):
        self.run(['-m', 'session', '-r', str(sid), '--rescan'], what='rescan of session %s' % sid)

    # discovery ------------------------------------------------------------------------------

    def discoverydb_args(self, kind, portal):
        return ['-m', 'discoverydb', '-t', kind, '-p', portal.address]

    def discover(self, kind, portal=None, iface=None, use_db=False, timeout=LOGIN_TIMEOUT):
        """Discovery that writes no node records ("-o nonpersistent"); -> [NodeRecord]."""
        if kind == 'fw':
            args = ['-m', 'discovery', '-t', 'fw']
        elif use_db:
            args = self.discoverydb_args(kind, portal) + ['--discover']
        else:
            args = ['-m', 'discovery', '-t', kind, '-p', portal.address]
        if iface and kind != 'fw':
            args += ['-I', iface]
        args += ['-o', 'nonpersistent']
        what = '%s discovery%s' % (kind, ' at %s' % portal.address if portal else '')
        # under the host lock even when it writes nothing: iscsiadm's SendTargets sessions all use one ISID
        # (usr/discovery.c), so two at once from this host are one I_T nexus to the target, which drops the
        # first ("iSCSI PDU timed out", rc 11: seen with three restores starting together)
        with self.locked(what):
            rc, out, _err = self.run(args, ok=(0, RC_NO_OBJECTS), timeout=timeout, what=what)
        return [] if rc == RC_NO_OBJECTS else parse_flat_nodes(out)

    def discoverydb_show(self, kind, portal):
        rc, out, _err = self.run(self.discoverydb_args(kind, portal) + ['-o', 'show'], ok=(0, RC_NO_OBJECTS))
        shown = parse_show(out) if rc == 0 else []
        return shown[0] if shown else None

    def discoverydb_new(self, kind, portal):
        with self.locked('create discovery record'):
            self.run(self.discoverydb_args(kind, portal) + ['-o', 'new'], what='create discovery record')

    def discoverydb_update(self, kind, portal, name, value):
        if is_secret(name):
            raise ValueError('%s is a secret: use write_record_secret, never the command line' % name)
        what = 'set %s on the discovery record' % name
        with self.locked(what):
            self.run(self.discoverydb_args(kind, portal) + ['-o', 'update', '-n', name, '-v', value], what=what)

    def write_secret(self, path, name, value):
        """write_record_secret under the host lock (the record file is shared with other runs)."""
        with self.locked('set %s in %s' % (name, path)):
            write_record_secret(path, name, value)


@contextlib.contextmanager
def no_lock():
    """Stands in for Iscsiadm.locked() where nothing is changed (check mode, read-only discovery)."""
    yield


def flat_record_in_the_way(records, target, portal, iface):
    """The record that `-o new` of (target, portal, iface) would delete, or None (see the module docstring)."""
    for record in records:
        if (record.portal.tpgt is None and names_equal(record.target, target) and record.portal.same_as(portal)
                and record.iface != iface):
            return record
    return None


def is_secret(name):
    return name.endswith('.password') or name.endswith('.password_in')


# --- record files (for secrets) ---------------------------------------------------------------

def _first_existing(candidates):
    for candidate in candidates:
        if os.path.isdir(candidate):
            return candidate
    return None


def node_record_file(record, db_dirs=None):
    """Path of the record file iscsiadm keeps for (target, portal, iface), or None.

    Layout (idbm.c): <db>/<target>/<address>,<port>,<tpgt>/<iface>; records created without a
    tpgt use the old flat layout <db>/<target>/<address>,<port>, a file of any iface, which it names
    (``iface.iscsi_ifacename``; one such file per target and portal).
    """
    base = _first_existing(db_dirs or NODE_DB_DIRS)
    if base is None:
        return None
    target_dir = os.path.join(base, record.target)
    try:
        entries = os.listdir(target_dir)
    except OSError:
        return None
    for entry in sorted(entries):
        path = os.path.join(target_dir, entry)
        parts = entry.rsplit(',', 2)
        if len(parts) < 2 or not parts[-1].lstrip('-').isdigit():
            continue
        if os.path.isdir(path) and len(parts) == 3:
            host, port, tpgt = parts
            candidate = os.path.join(path, record.iface or 'default')
        elif os.path.isfile(path) and (read_record_value(path, 'iface.iscsi_ifacename') or 'default') == \
                (record.iface or 'default'):
            host, port = entry.rsplit(',', 1)
            tpgt, candidate = None, path
        else:
            continue
        try:
            portal = parse_portal(format_portal(host, int(port)))
        except (InvalidName, ValueError):
            continue
        if portal.same_as(record.portal) and os.path.isfile(candidate) and \
                (record.portal.tpgt is None or tpgt is None or int(tpgt) == record.portal.tpgt):
            return candidate
    return None


def sendtargets_record_file(portal, db_dirs=None):
    base = _first_existing(db_dirs or SENDTARGETS_DB_DIRS)
    if base is None:
        return None
    path = os.path.join(base, '%s,%d' % (portal.host, portal.port), 'st_config')
    return path if os.path.isfile(path) else None


def read_record_value(path, name):
    with open(path) as handle:
        for line in handle:
            key, sep, value = line.rstrip('\n').partition(' = ')
            if sep and key.strip() == name:
                return value
    return None


def write_record_secret(path, name, value):
    """Set `name = value` in an iscsiadm record file in place (atomic rename, mode 0600)."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    wanted = '%s = %s' % (name, value)
    for index, line in enumerate(lines):
        if line.partition(' = ')[0].strip() == name:
            lines[index] = wanted
            break
    else:
        end = [i for i, line in enumerate(lines) if line.startswith('# END RECORD')]
        lines.insert(end[0] if end else len(lines), wanted)
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.san-iscsi-', dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# --- helpers for modules ----------------------------------------------------------------------

def report_contention(module, iscsiadm, result):
    """Add what the run waited for to RESULT, and warn about each retried race with another iscsiadm."""
    if iscsiadm is None:
        return result
    waited = iscsiadm.contention()
    for retry in waited['retries']:
        module.warn('%s was retried (attempt %d, rc %d): %s' % (
            retry['command'], retry['attempt'], retry['rc'], retry['reason']))
    result.update(waited)
    return result


def connect(module, timeout=DEFAULT_TIMEOUT, paths=None):
    """An Iscsiadm for the module (PATHS: the host's roots), or fail_json saying which package to install."""
    try:
        return Iscsiadm(module, timeout=timeout, paths=paths)
    except IscsiadmError as error:
        module.fail_json(**error.as_fail_kwargs())


def fail(module, error, **extra):
    """fail_json from an IscsiadmError (msg, cmd, rc, stdout, stderr) plus extra result keys."""
    result = error.as_fail_kwargs()
    result.update(extra)
    module.fail_json(**result)


def setting_text(value):
    """A YAML value as iscsiadm prints it: booleans Yes/No, everything else as text."""
    if isinstance(value, bool):
        return 'Yes' if value else 'No'
    return str(value)


def same_setting(have, want):
    if have is None:
        return False
    if have.lstrip('-').isdigit() and want.lstrip('-').isdigit():
        return int(have) == int(want)
    return have.lower() == want.lower()


def node_settings_text(settings, option='settings', secret_hint='chap_password/chap_password_in'):
    """{iscsiadm name: YAML value} -> {name: text as iscsiadm prints it}; ValueError for names refused.

    Secrets never go through `-o update` (they would be on a command line); the record's identity
    (target, portal, tpgt, iface) is its key, not a setting.
    """
    for name in settings:
        if is_secret(name):
            raise ValueError('%s: %s is a secret; use %s' % (option, name, secret_hint))
        if name in IDENTITY_SETTINGS:
            raise ValueError('%s: %s identifies the record; use target/portal/iface' % (option, name))
    return dict((name, setting_text(value)) for name, value in settings.items())


def unknown_settings(shown, wanted):
    """Names of WANTED that the record (`-o show` dict) does not have, sorted."""
    return sorted(name for name in wanted if name not in shown)


def unknown_settings_message(names):
    return 'unknown node setting(s): %s (see iscsiadm -m node -o show for the names)' % ', '.join(names)


def settings_to_update(shown, wanted):
    """[(name, text)] of WANTED that differ from the record (`-o show` dict), sorted by name."""
    return [(name, value) for name, value in sorted(wanted.items()) if not same_setting(shown.get(name), value)]
