# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAN backend interface shared by igroup, lun, lun_map, snapshot and san_info.

Modules talk to a storage array only through a :class:`SanBackend` returned by
``_san_factory.get_backend``. They never look at ``provider`` themselves. This file holds the interface, the
data shapes and the errors; it imports no implementation.

Vocabulary (the same words for every array type):

``volume``
    The container LUNs and snapshots live in.
    ONTAP: a FlexVol name (``vol1``).
    LIO: ``VG/THINPOOL`` (``labvg/pool``) for block LUNs on LVM thin volumes, or an
    absolute directory (``/srv/luns``) for fileio LUNs.
``lun`` (name)
    The LUN's name inside its volume. ONTAP: the last element of ``/vol/VOL/NAME``.
    LIO: the thin LV name (block) or file name (fileio); the LIO backstore carries the same name.
``path``
    The array's canonical, unique identifier of a LUN, built by :meth:`SanBackend.lun_path`.
    ONTAP: ``/vol/VOL/NAME``. LIO: ``VG/THINPOOL/NAME`` or ``/DIR/NAME``.
``igroup``
    ONTAP: an initiator group. LIO: a named set of node ACLs of the target portal group, each ACL
    tagged with the igroup name (the ACL tag), all sharing the same mapped LUNs.
``snapshot``
    Identified by ``(volume, name)``; names are unique within a volume.
    ONTAP: a volume Snapshot copy (covers every LUN in the volume).
    LIO: an LVM thin snapshot LV of one LUN's LV (name = LV name), or a reflink copy of one fileio file.
``clone``
    A writable LUN whose data comes from LUN ``lun`` as it was in snapshot ``snapshot`` of volume
    ``volume`` (``clone_from``). ONTAP: ``clone-create`` with ``snapshot-name`` (LUN-level, not a
    FlexClone). LIO: a writable thin snapshot of the snapshot LV (reflink copy for files).

Data shapes. Every method returns plain JSON-serialisable dicts (modules return them as-is):

IGROUP::

    {'name': str, 'protocol': 'iscsi'|'fcp'|'mixed', 'os_type': str,
     'initiators': [str, ...],            # lower-cased IQNs, sorted
     'maps': [{'path': str, 'lun_id': int}, ...],   # sorted by lun_id
     'vserver': str|None, 'uuid': str|None}

LUN::

    {'name': str, 'volume': str, 'path': str,
     'size': int,                         # bytes, as the host will see it
     'os_type': str|None,
     'serial': str,                       # ONTAP: 12-char serial; LIO: backstore unit serial (UUID)
     'wwid': str,                         # what the host sees in /dev/disk/by-id/wwn-0x..., see naa_*()
     'clone_parent': None | {'volume': str, 'snapshot': str, 'lun': str},
     'maps': [{'igroup': str, 'lun_id': int}, ...],  # sorted by igroup
     'vserver': str|None, 'uuid': str|None}

MAP::

    {'igroup': str, 'path': str, 'lun_id': int, 'vserver': str|None}

SNAPSHOT::

    {'name': str, 'volume': str,
     'lun': str|None,                     # LIO: the origin LUN name; ONTAP: None (volume-wide)
     'create_time': str|None,             # ISO 8601
     'clones': [str, ...],                # paths of LUN clones that depend on this snapshot, sorted
     'vserver': str|None, 'uuid': str|None}

CHAP (the credentials an initiator logs in with; ONTAP: iSCSI security of the vserver, LIO: the initiator's
node ACL)::

    {'initiator': str,                    # lower-cased
     'method': 'chap'|'none'|'deny',      # ONTAP authentication_type; LIO: chap when the ACL has a user
     'user': str|None,                    # inbound: the initiator proves itself with user and secret
     'mutual_user': str|None,             # outbound (mutual CHAP): the array proves itself to the initiator
     'vserver': str|None}

Secrets are never returned. ``chap_secrets_match`` tells whether the array holds given secrets where it
can (LIO), and None where it cannot show them (ONTAP).

Contract for every backend:

* Reads never change anything. Writes are only called by modules after reads showed a change is
  needed, and never in check mode (modules compute the would-be object themselves in check mode).
* Check mode predicts the real run: before the check-mode return, modules pass the planned change to
  ``validate_igroup``/``validate_lun``/``validate_snapshot``, which raise what the writes would raise
  for input this array refuses (read-only; the default accepts). A backend shares one code path
  between a write's own checks and its validation hook.
* Writes are not required to be idempotent themselves but must leave the array consistent on error.
  Every write returns the object as read back from the array after the change (async work awaited
  with a bounded wait; ``SanError`` when the wait runs out).
* Look-ups address one object by name (ONTAP: ``fields=`` query with name filters), never
  list-all-and-filter; a ``get_*`` that finds nothing returns ``None``.
* Errors are raised as :class:`SanError` subclasses carrying the array's own ``code`` and message.
  A ``get_*`` raises :class:`SanNotFound` when a *container* is missing (unknown vserver, volume,
  target), not when the object itself is missing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import re

from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import InvalidName, normalize_name, validate_name

PROVIDERS = ('ontap', 'lio')

_SIZE_RE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)?\s*$', re.IGNORECASE)
_SIZE_UNITS = {'': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4, 'p': 1024 ** 5}


# Stable error codes of the refusals roles and playbooks test (error_code in a failure result).
IGROUP_NOT_FOUND = 'igroup_not_found'
IGROUP_MAPPED = 'igroup_mapped'
INITIATOR_NOT_FOUND = 'initiator_not_found'
LUN_NOT_FOUND = 'lun_not_found'


class SanError(Exception):
    """Any failure reported by, or while talking to, a SAN backend.

    ``code``: the array's error code as a string (ONTAP REST ``error.code``, ZAPI ``errno``, an HTTP status
    or ``tls``/``connection``/``timeout`` for transport errors), one of the stable codes above, or, when
    neither is given, the class's ``default_code``; never None. ``details``: extra facts for fail_json.
    """

    default_code = 'san_error'

    def __init__(self, message, code=None, details=None):
        super(SanError, self).__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.details = details or {}

    def to_fail_kwargs(self):
        """Keyword arguments for ``module.fail_json``."""
        result = dict(self.details)
        result['msg'] = self.message
        result['error_code'] = self.code
        return result


class SanConnectionError(SanError):
    """The array cannot be reached: refused, timeout, TLS verification failure."""

    default_code = 'connection'


class SanAuthError(SanError):
    """Credentials rejected (HTTP 401) or not allowed (403)."""

    default_code = 'auth'


class SanNotFound(SanError):
    """A referenced object or container does not exist (vserver, volume, igroup, LUN, snapshot)."""

    default_code = 'not_found'


class SanConflict(SanError):
    """The request contradicts the array's state: mapped igroup, snapshot backing a clone,
    LUN id already used, existing map with another id, existing LUN with another clone parent."""

    default_code = 'conflict'


class SanInvalid(SanError):
    """Input the backend cannot accept (bad name for this array type, unsupported option)."""

    default_code = 'invalid'


def with_code(exc, code):
    """``exc`` as the same kind of SanError with the stable ``code``; an array code it carried is kept in
    the details as ``array_error_code``."""
    details = dict(exc.details)
    if exc.code != exc.default_code:
        details['array_error_code'] = exc.code
    return type(exc)(exc.message, code, details)


def igroup_mapped_conflict(igroup, paths):
    """The SanConflict for deleting an igroup that has LUN maps (without force)."""
    return SanConflict('igroup %r is mapped to %s; unmap first or set force=true' % (igroup, ', '.join(paths)),
                       IGROUP_MAPPED)


def mapped_removal_conflict(igroup, initiators, maps):
    """The SanConflict for removing initiators from an igroup that has LUN maps (without force):
    the hosts would lose those LUNs, an unmap in effect."""
    luns = ', '.join('%s (LUN %d)' % (entry['path'], entry['lun_id']) for entry in maps)
    return SanConflict('refusing to remove initiator(s) %s from igroup %r: it is mapped to %s and those hosts would '
                       'lose access to them; unmap first or set force=true' % (', '.join(initiators), igroup, luns))


def normalize_initiator(name):
    """Validate an iSCSI initiator name (RFC 3720) and return its lower-cased comparison key.
    Raises SanInvalid naming the rule that failed."""
    try:
        validate_name(name, what='initiator name')
    except InvalidName as exc:
        raise SanInvalid(str(exc))
    return normalize_name(name)


def parse_size(value):
    """Parse ``10G``, ``512MiB``, ``1.5T``, ``1048576`` (binary units) into bytes.

    Raises SanInvalid on anything else, before anything is changed.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise SanInvalid('size must be positive, got %r' % value)
        return value
    match = _SIZE_RE.match(str(value))
    if not match or (match.group(3) and match.group(3).lower() == 'i'):
        raise SanInvalid('cannot parse size %r: use bytes or a number with a K, M, G, T or P suffix' % value)
    number = float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]
    if number < 1:
        raise SanInvalid('size must be positive, got %r' % value)
    return int(number)


def naa_ontap(serial):
    """WWID a Linux host sees for an ONTAP LUN: NetApp's NAA 6 prefix + the serial's ASCII in hex."""
    return 'naa.600a0980' + ''.join('%02x' % ord(char) for char in serial)


def naa_lio(unit_serial):
    """WWID a Linux host sees for a LIO LUN (VPD page 0x83, NAA IEEE Registered Extended).

    Linux target_core_spc.c (spc_emulate_evpd_83 / spc_parse_naa_6h_vendor_specific) writes NAA 6,
    the OpenFabrics company id 001405, then the hex digits of the backstore's unit serial (others
    skipped) into the remaining 13 bytes starting at the low nibble: 25 digits, zero-filled.
    """
    digits = re.sub(r'[^0-9a-f]', '', (unit_serial or '').lower())[:25]
    return 'naa.6001405' + digits.ljust(25, '0')


class SanBackend(object):
    """One array. Built by ``_san_factory.get_backend``; connection facts come from the module's params.

    Class attributes each implementation sets:

    ``provider``: 'ontap' or 'lio'.
    ``max_lun_id``: highest LUN id a map may use (ONTAP 4095, LIO 255); modules check ranges before
    changing anything.
    ``size_granularity``: bytes the array rounds LUN sizes to; modules add it to the user's tolerance.
    ``default_os_type``: os_type used when the user gives none.
    """

    provider = None
    max_lun_id = 255
    size_granularity = 512
    default_os_type = 'linux'

    def __init__(self, module):
        self.module = module
        self.params = module.params

    # -- connection -----------------------------------------------------------------------------
    def check_connection(self):
        """Verify the array is reachable, credentials are accepted and the scope exists.

        ONTAP: the vserver (when given) exists. LIO: the target/TPG exists.
        Read-only. Raises SanConnectionError, SanAuthError, SanNotFound. Returns None.
        Modules call it only when a look-up returned None and they are about to change something,
        so that a missing scope is reported as such rather than as a missing object.
        """
        raise NotImplementedError

    def request_count(self):
        """Number of requests sent to the array so far (HTTP requests for ONTAP, 0 for LIO)."""
        return 0

    def request_retries(self):
        """Requests sent again because the array was busy or unreachable, in order: dicts with ``method``,
        ``path``, ``attempt``, ``delay`` (seconds waited first) and ``reason``. Empty for LIO."""
        return []

    @contextlib.contextmanager
    def changes_saved_once(self):
        """A batch of changes that the backend may persist once, at its end (also after a failure), rather
        than after each. LIO saves its configuration file once; ONTAP persists every request itself, so
        this does nothing there."""
        yield

    def clone_route(self, volume):
        """How this array clones a LUN from a snapshot in ``volume`` (the API call or tool), for the module
        result. Pure; no I/O."""
        raise NotImplementedError

    # -- naming (class methods: modules check input with them before connecting) ---------------
    @classmethod
    def lun_path(cls, volume, name):
        """Canonical path of LUN ``name`` in ``volume`` (see module docstring). Pure; no I/O.
        Raises SanInvalid when the volume or name is not valid for this array type."""
        raise NotImplementedError

    @classmethod
    def split_lun_path(cls, path):
        """Inverse of lun_path: return ``(volume, name)``. Pure; raises SanInvalid."""
        raise NotImplementedError

    def check_volume(self, volume):
        """Raise SanNotFound unless ``volume`` exists (in the vserver). Read-only. Returns None."""
        raise NotImplementedError

    # -- igroups --------------------------------------------------------------------------------
    def get_igroup(self, name):
        """Return the IGROUP dict for ``name`` or None. Read-only."""
        raise NotImplementedError

    def list_igroups(self, name=None):
        """Return IGROUP dicts (all, or the one called ``name``), sorted by name. Read-only."""
        raise NotImplementedError

    def create_igroup(self, name, protocol, os_type, initiators):
        """Create igroup ``name`` with lower-cased ``initiators`` (list, may be empty).

        Returns the new IGROUP. Raises SanConflict when it exists already, SanInvalid for a
        protocol/os_type the array does not support (LIO: protocol must be iscsi).
        """
        raise NotImplementedError

    def set_igroup_os_type(self, name, os_type):
        """Change the igroup's os_type (LIO: stored in the ACL tag data or ignored). Returns IGROUP."""
        raise NotImplementedError

    def add_initiators(self, name, initiators):
        """Add each initiator in ``initiators`` (lower-cased, none present yet). Returns IGROUP.

        LIO: one ACL per initiator, tagged ``name``, given the igroup's current mapped LUNs.
        SanConflict when an initiator belongs to another igroup (LIO: an ACL exists with another tag).
        """
        raise NotImplementedError

    def remove_initiators(self, name, initiators, force=False):
        """Remove each initiator in ``initiators`` (all present). Returns IGROUP.

        While LUNs are mapped to the igroup those hosts lose them: without ``force`` the backend refuses
        (``mapped_removal_conflict``, or the array's own refusal) before removing any initiator.
        """
        raise NotImplementedError

    def delete_igroup(self, name, force=False):
        """Delete igroup ``name``. With maps and not ``force``: SanConflict naming the LUN paths.
        With ``force``: its maps are removed first. Returns None."""
        raise NotImplementedError

    # -- CHAP credentials of one initiator -------------------------------------------------------
    def get_chap(self, initiator):
        """Return the CHAP dict of the lower-cased ``initiator``, or None when the array holds no credentials
        for it (ONTAP: no iSCSI security entry; LIO: no node ACL, or one without a CHAP user). Read-only."""
        raise NotImplementedError

    def set_chap(self, initiator, user, secret, mutual_user=None, mutual_secret=None):
        """Make the initiator log in with CHAP (``user``/``secret``), and the array answer with mutual CHAP when
        ``mutual_user`` is given (without it, mutual CHAP is removed). Creates or changes the entry.

        LIO keeps credentials on the initiator's node ACL: SanNotFound (``initiator_not_found``) when the
        initiator is in no igroup of the target. Only that initiator must then authenticate: LIO sets the ACL's
        own ``authentication`` attribute, never the portal group's. Returns CHAP.
        """
        raise NotImplementedError

    def delete_chap(self, initiator):
        """Remove the initiator's CHAP credentials (it then logs in without CHAP, as before). Returns None;
        SanNotFound when there are none."""
        raise NotImplementedError

    def chap_secrets_match(self, initiator, secret, mutual_secret=None):
        """True when the array holds exactly these secrets (``mutual_secret`` None: no mutual secret), False
        when it holds others, None when the array cannot show its secrets (ONTAP). Read-only."""
        return None

    # -- LUNs -----------------------------------------------------------------------------------
    def get_lun(self, volume, name):
        """Return the LUN dict or None. SanNotFound when the volume does not exist. Read-only."""
        raise NotImplementedError

    def list_luns(self, volume=None, name=None):
        """Return LUN dicts, optionally only in ``volume`` and/or named ``name``, sorted by path."""
        raise NotImplementedError

    def create_lun(self, volume, name, size, os_type):
        """Create a thin LUN of ``size`` bytes. Returns LUN (size as rounded by the array).
        SanNotFound for a missing volume; SanConflict when it exists."""
        raise NotImplementedError

    def clone_lun(self, volume, name, source, os_type):
        """Create LUN ``name`` in ``volume`` as a writable clone of ``source`` =
        ``{'volume': str, 'snapshot': str, 'lun': str}`` (the LUN as it was in the snapshot).

        SanNotFound naming what is missing (source volume, snapshot, or LUN in the snapshot).
        Returns the LUN with ``clone_parent`` equal to ``source``.
        """
        raise NotImplementedError

    def resize_lun(self, volume, name, size):
        """Grow the LUN to ``size`` bytes (never shrinks: SanInvalid). Returns LUN."""
        raise NotImplementedError

    def set_lun_os_type(self, volume, name, os_type):
        """Change os_type where the array allows it; SanInvalid where it cannot change. Returns LUN."""
        raise NotImplementedError

    def delete_lun(self, volume, name):
        """Delete an unmapped LUN. SanConflict (naming the igroups) while mapped;
        SanConflict (naming the clones) while LIO clones depend on it. Returns None."""
        raise NotImplementedError

    # -- maps -----------------------------------------------------------------------------------
    def get_lun_map(self, path, igroup):
        """Return the MAP of LUN ``path`` to ``igroup`` or None. Read-only.
        At most one request on ONTAP (the benchmark holds this to <= 2 per module run)."""
        raise NotImplementedError

    def list_lun_maps(self, igroup=None, path=None):
        """Return MAP dicts, optionally filtered, sorted by (igroup, lun_id)."""
        raise NotImplementedError

    def create_lun_map(self, path, igroup, lun_id=None):
        """Map the LUN to the igroup with ``lun_id`` (None: the array picks the lowest free id).
        SanNotFound for a missing LUN or igroup; SanConflict when ``lun_id`` is used in the igroup.
        Returns MAP with the assigned id."""
        raise NotImplementedError

    def delete_lun_map(self, path, igroup):
        """Remove the map. Returns None."""
        raise NotImplementedError

    # -- snapshots ------------------------------------------------------------------------------
    def get_snapshot(self, volume, name):
        """Return the SNAPSHOT dict (``clones`` filled in) or None.
        SanNotFound when the volume does not exist. Read-only."""
        raise NotImplementedError

    def list_snapshots(self, volume=None, name=None):
        """Return SNAPSHOT dicts, sorted by (volume, name)."""
        raise NotImplementedError

    def create_snapshot(self, volume, name, lun=None):
        """Create snapshot ``name`` of ``volume``.

        ``lun``: LIO requires it (the origin LUN whose LV/file is snapshotted; SanInvalid without
        it). ONTAP snapshots are volume-wide; when ``lun`` is given it must exist in the volume
        (SanNotFound otherwise). Returns SNAPSHOT."""
        raise NotImplementedError

    def delete_snapshot(self, volume, name):
        """Delete the snapshot. SanConflict naming the clone LUN paths while clones depend on it.
        Returns None."""
        raise NotImplementedError

    # -- validation (check mode predicts the real run) -----------------------------------------
    def validate_igroup(self, current, planned):
        """Raise the SanError the writes turning IGROUP ``current`` (None: create) into IGROUP
        ``planned`` would raise for input this array refuses. Read-only. Default: accept."""

    def validate_lun(self, current, planned):
        """Same for a LUN: ``current`` None creates LUN ``planned`` (a clone when its ``clone_parent``
        is set), else ``planned['size']`` grows ``current``. Read-only. Default: accept."""

    def validate_chap(self, initiator):
        """Same for ``set_chap`` of ``initiator`` (LIO: SanNotFound ``initiator_not_found`` when it is in no
        igroup). Read-only. Default: accept."""

    def validate_snapshot(self, volume, name, lun):
        """Same for creating snapshot ``name`` of ``volume`` (``lun`` may be None). Read-only.
        Default: accept."""

    @classmethod
    def check_volume_name(cls, volume):
        """SanInvalid when ``volume`` cannot be a volume (pool) of this provider; no request. Default: accept."""

    @classmethod
    def check_snapshot_name(cls, name):
        """SanInvalid when ``name`` cannot be a snapshot name on this provider; no request. Default: accept."""


def san_argument_spec():
    """Connection options of the ``san.iscsi.san`` doc fragment (keep the two in step)."""
    return dict(
        provider=dict(type='str', required=True, choices=list(PROVIDERS)),
        hostname=dict(type='str'),
        username=dict(type='str', aliases=['user']),
        password=dict(type='str', no_log=True, aliases=['pass']),
        https=dict(type='bool', default=True),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        http_port=dict(type='int'),
        use_rest=dict(type='str', default='auto', choices=['auto', 'always', 'never']),
        vserver=dict(type='str'),
        timeout=dict(type='int', default=60),
        job_timeout=dict(type='int', default=120),
        target=dict(type='str'),
        tpg=dict(type='int', default=1),
        portals=dict(type='list', elements='str'),
        save_file=dict(type='path'),
    )


def check_lun_id(backend_class, lun_id, option='lun_id'):
    """SanInvalid naming ``option`` unless ``lun_id`` (None: the array picks) is in the provider's range."""
    if lun_id is not None and not 0 <= lun_id <= backend_class.max_lun_id:
        raise SanInvalid('%s %d is out of range: provider %s allows 0-%d'
                         % (option, lun_id, backend_class.provider, backend_class.max_lun_id),
                         details={'options': [option]})


def check_chap_input(user, secret, mutual_user, mutual_secret):
    """SanInvalid, before any change, unless CHAP has a user and a secret, and mutual CHAP both or neither: the
    first check of every backend's ``set_chap``."""
    if not user or not secret:
        raise SanInvalid('CHAP needs a user and a secret')
    if bool(mutual_user) != bool(mutual_secret):
        raise SanInvalid('mutual CHAP needs both a mutual user and a mutual secret')


def checked(option, check, *args):
    """``check(*args)``, with a SanInvalid it raises naming ``option`` (in ``msg`` and ``options``)."""
    try:
        return check(*args)
    except SanInvalid as exc:
        details = dict(exc.details, options=[option])
        message = exc.message
        if not re.search(r'\b%s\b' % re.escape(option), message):
            message = '%s: %s' % (option, message)
        raise SanInvalid(message, exc.code, details)


def report_retries(module, backend, result, retries=None):
    """Add the backend's retried requests (or ``retries``) to ``result`` as ``retries`` and warn about each."""
    if retries is None:
        retries = backend.request_retries() if backend is not None else []
    for retry in retries:
        module.warn('%s %s was sent again (attempt %d after %.1f s): %s' % (
            retry['method'], retry['path'], retry['attempt'] + 1, retry['delay'], retry['reason']))
    result['retries'] = retries
    return result


def run_san_manager(module, manager_class):
    """The ``main()`` of a SAN module whose manager needs nothing more: build ``manager_class(module)`` (its
    ``backend`` attribute is the array), ``run()`` it and exit with the result and the backend's retries; a
    SanError fails the module with the array's code and the retries so far."""
    manager = None
    try:
        manager = manager_class(module)
        result = manager.run()
    except SanError as exc:
        fail_san(module, exc, manager and manager.backend)
    module.exit_json(**report_retries(module, manager.backend, result))


def fail_san(module, exc, backend=None, **result):
    """fail_json for a SanError, keeping the array's code, any result gathered so far and the retries (those
    of ``backend``, or those a backend that failed while connecting put in the error's details)."""
    kwargs = dict(result)
    kwargs.update(exc.to_fail_kwargs())
    report_retries(module, backend, kwargs, None if backend is not None else kwargs.get('retries', []))
    module.fail_json(**kwargs)
