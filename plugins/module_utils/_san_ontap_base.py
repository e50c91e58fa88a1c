# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ONTAP REST and ZAPI backends share: ONTAP's limits, LUN path naming, the clone-parent comment,
the masking of CHAP secrets and the steps of each operation that do not depend on the API. Each backend
supplies the API calls (the ``_*`` hooks below) and its own "not found" error codes (``NOT_FOUND_CODES``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import select
import socket
import ssl
import time
from http.client import HTTPConnection, HTTPException, HTTPSConnection

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanBackend, SanConflict, SanError, SanInvalid, SanNotFound, check_chap_input, igroup_mapped_conflict)

# Waits before each retry of a busy answer: at most 3 retries and 3.5 s of waiting per request.
RETRY_DELAYS = (0.5, 1.0, 2.0)
# HTTP statuses retried for a read (GET, or a ZAPI read). ONTAP's "Interpret an ONTAP REST API response"
# documents no 5xx status as "not done", so a write that got one is never sent again.
RETRY_STATUSES = (500, 502, 503, 504)


def tls_context(params):
    """The TLS context of ``https``/``validate_certs``/``ca_path`` (None for plain HTTP)."""
    if not params['https']:
        return None
    if not params['validate_certs']:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=params.get('ca_path'))


class OntapTransportError(Exception):
    """No HTTP answer: ``reason`` is the socket/TLS exception; ``sent`` whether the request may have
    reached ONTAP."""

    def __init__(self, reason, sent):
        super(OntapTransportError, self).__init__(str(reason))
        self.reason = reason
        self.sent = sent


def _peer_closed(sock):
    """True when the server has closed an idle keep-alive connection (readable with nothing to read)."""
    try:
        readable = select.select([sock], [], [], 0)[0]
    except (OSError, ValueError):
        return True
    return bool(readable)


class OntapHttp(object):
    """The one HTTP(S) connection of a module run to the ONTAP management address (HTTP/1.1 keep-alive),
    shared by the REST client, the REST probe and the ZAPI backend.

    Every request carries the credentials (basic authentication). An idle connection the server closed is
    replaced before a request is written to it. A request is sent again after ``RETRY_DELAYS`` when it
    cannot have happened (the connection could not be opened), or when it is a read and ONTAP answered
    with a status in ``RETRY_STATUSES``; every retry is recorded in ``retries`` for the module result.
    ``count`` is the number of requests written, ``connections`` the number of connections opened.
    """

    connection_classes = {True: HTTPSConnection, False: HTTPConnection}

    def __init__(self, params):
        self.https = bool(params['https'])
        self.host = params['hostname']
        self.port = params.get('http_port') or (443 if self.https else 80)
        self.base_url = '%s://%s:%d' % ('https' if self.https else 'http', self.host, self.port)
        self.timeout = params['timeout']
        self.context = tls_context(params)
        credentials = '%s:%s' % (params['username'], params['password'])
        self.authorization = 'Basic ' + base64.b64encode(credentials.encode('utf-8')).decode('ascii')
        self.conn = None
        self.count = 0
        self.connections = 0
        self.retries = []

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _open(self):
        cls = self.connection_classes[self.https]
        kwargs = {'timeout': self.timeout}
        if self.https:
            kwargs['context'] = self.context
        conn = cls(self.host, self.port, **kwargs)
        try:
            conn.connect()
        except (OSError, HTTPException) as exc:
            conn.close()
            raise OntapTransportError(exc, sent=False)
        self.connections += 1
        self.conn = conn

    def _exchange(self, method, path, body, headers):
        if self.conn is not None and (self.conn.sock is None or _peer_closed(self.conn.sock)):
            self.close()
        if self.conn is None:
            self._open()
        all_headers = {'Authorization': self.authorization, 'Host': '%s:%d' % (self.host, self.port)}
        all_headers.update(headers or {})
        self.count += 1
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, HTTPException) as exc:
            self.close()
            raise OntapTransportError(exc, sent=True)
        if response.will_close:
            self.close()
        return response.status, response.reason, data

    def backoff(self, attempt, record):
        """Before retry ``attempt`` (1-based): False when the bound is reached, else record it, wait, True."""
        if attempt > len(RETRY_DELAYS):
            return False
        record = dict(record, attempt=attempt, delay=RETRY_DELAYS[attempt - 1])
        self.retries.append(record)
        time.sleep(record['delay'])
        return True

    def request(self, method, path, body=None, headers=None, idempotent=None):
        """Send one request; return (status, reason, body bytes). Raises OntapTransportError.
        ``idempotent`` (default: GET) lets a 5xx answer be retried."""
        if idempotent is None:
            idempotent = method == 'GET'
        attempt = 0
        while True:
            attempt += 1
            what = {'method': method, 'path': path.split('?', 1)[0]}
            try:
                status, reason, data = self._exchange(method, path, body, headers)
            except OntapTransportError as exc:
                retryable = not exc.sent and not isinstance(exc.reason, (ssl.SSLError, socket.gaierror))
                if retryable and self.backoff(attempt, dict(what, reason='connection failed: %s' % exc.reason)):
                    continue
                raise
            if idempotent and status in RETRY_STATUSES and self.backoff(
                    attempt, dict(what, reason='HTTP %d %s' % (status, reason))):
                continue
            return status, reason, data


# The clone parent is recorded in the clone's comment: REST has no field for it (the ONTAPI-to-REST
# map lists clone-create snapshot-name as "No REST Equivalent" on /storage/file/clone).
CLONE_COMMENT_PREFIX = 'san.iscsi:clone_from='


def clone_comment(source):
    return '%s/vol/%s/.snapshot/%s/%s' % (CLONE_COMMENT_PREFIX, source['volume'], source['snapshot'], source['lun'])


def clone_comment_pattern(volume, snapshot):
    """The comment query that finds every LUN cloned from ``snapshot`` of ``volume``."""
    return '%s/vol/%s/.snapshot/%s/*' % (CLONE_COMMENT_PREFIX, volume, snapshot)


def parse_clone_comment(comment):
    """Return {'volume', 'snapshot', 'lun'} from a clone comment, None for any other comment."""
    if not comment or not comment.startswith(CLONE_COMMENT_PREFIX + '/vol/'):
        return None
    parts = comment[len(CLONE_COMMENT_PREFIX + '/vol/'):].split('/')
    if len(parts) != 4 or parts[1] != '.snapshot':
        return None
    return {'volume': parts[0], 'snapshot': parts[2], 'lun': parts[3]}


def split_ontap_lun_path(path):
    parts = (path or '').split('/')
    if len(parts) != 4 or parts[0] != '' or parts[1] != 'vol' or not parts[2] or not parts[3]:
        raise SanInvalid('LUN path %r is not /vol/<volume>/<lun>' % path)
    return parts[2], parts[3]


def check_ontap_name(kind, name):
    if not name or '/' in name or name.startswith('.'):
        raise SanInvalid('invalid ONTAP %s name %r' % (kind, name))


SECRET_MASK = '********'


def mask_secrets(value, secrets):
    """``value`` (text, or dicts and lists of it) with each of ``secrets`` replaced by SECRET_MASK."""
    if isinstance(value, dict):
        return dict((key, mask_secrets(item, secrets)) for key, item in value.items())
    if isinstance(value, list):
        return [mask_secrets(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in sorted((secret for secret in secrets if secret), key=len, reverse=True):
            value = value.replace(secret, SECRET_MASK)
    return value


class OntapBackendBase(SanBackend):
    """The API-independent half of an ONTAP backend.

    A subclass sets ``vserver`` and ``NOT_FOUND_CODES`` (ONTAP's code for a missing vserver, volume, igroup,
    LUN and iSCSI security entry in its API) and implements the hooks: ``_vserver_record``, ``_volume_record``,
    ``_lun_record``, ``_lun_dict``, ``_create_lun``, ``_clone_from_snapshot``, ``_set_lun_comment``,
    ``_resize_lun``, ``_delete_lun``, ``_delete_igroup``, ``_find_lun_maps``, ``_clones_of``, ``_chap_record``,
    ``_chap_dict``, ``_write_chap``, ``_delete_chap`` and ``_retry_log`` (the live list of retried requests).
    """

    provider = 'ontap'
    max_lun_id = 4095
    size_granularity = 4096
    default_os_type = 'linux'
    vserver = None
    NOT_FOUND_CODES = {'vserver': None, 'volume': None, 'igroup': None, 'lun': None, 'chap': None}

    # -- naming ---------------------------------------------------------------------------------
    @classmethod
    def lun_path(cls, volume, name):
        check_ontap_name('volume', volume)
        check_ontap_name('LUN', name)
        return '/vol/%s/%s' % (volume, name)

    @classmethod
    def split_lun_path(cls, path):
        return split_ontap_lun_path(path)

    @classmethod
    def check_volume_name(cls, volume):
        check_ontap_name('volume', volume)

    @classmethod
    def check_snapshot_name(cls, name):
        check_ontap_name('snapshot', name)

    @staticmethod
    def check_clone_source(volume, source):
        if source['volume'] != volume:
            raise SanInvalid('ONTAP clones a LUN from a Snapshot copy inside the same volume: clone_from.volume '
                             '%r differs from volume %r' % (source['volume'], volume))

    def validate_lun(self, current, planned):
        if current is None and planned['clone_parent']:
            self.check_clone_source(planned['volume'], planned['clone_parent'])

    # -- connection and containers --------------------------------------------------------------
    def check_connection(self):
        if self._vserver_record() is None:
            raise SanNotFound('vserver %r does not exist on %s' % (self.vserver, self.module.params['hostname']),
                              self.NOT_FOUND_CODES['vserver'])

    def _missing(self, kind, name):
        """The SanNotFound for a missing volume or igroup, once the vserver is known to exist."""
        self.check_connection()
        return SanNotFound('%s %r does not exist in vserver %r' % (kind, name, self.vserver), self.NOT_FOUND_CODES[kind])

    def _volume(self, volume):
        """The volume's record; SanNotFound naming the vserver or the volume when either is missing."""
        record = self._volume_record(volume)
        if record is None:
            raise self._missing('volume', volume)
        return record

    def check_volume(self, volume):
        self._volume(volume)

    # -- igroups --------------------------------------------------------------------------------
    def _require_igroup(self, name):
        igroup = self.get_igroup(name)
        if igroup is None:
            raise self._missing('igroup', name)
        return igroup

    def delete_igroup(self, name, force=False):
        igroup = self._require_igroup(name)
        if igroup['maps'] and not force:
            raise igroup_mapped_conflict(name, sorted(entry['path'] for entry in igroup['maps']))
        self._delete_igroup(igroup, force)

    # -- CHAP credentials (ONTAP: the vserver's iSCSI security entry of the initiator) -----------
    def get_chap(self, initiator):
        record = self._chap_record(initiator)
        return self._chap_dict(record) if record is not None else None

    def set_chap(self, initiator, user, secret, mutual_user=None, mutual_secret=None):
        check_chap_input(user, secret, mutual_user, mutual_secret)
        wanted = {'user': user, 'secret': secret, 'mutual_user': mutual_user, 'mutual_secret': mutual_secret}
        current = self._chap_record(initiator)
        self._with_secrets_masked((secret, mutual_secret), self._write_chap, initiator, current, wanted)
        record = self._chap_record(initiator)
        if record is None:
            raise SanError('the CHAP credentials of initiator %r are missing after they were set' % initiator)
        return self._chap_dict(record)

    def delete_chap(self, initiator):
        """Delete the initiator's iSCSI security entry, whatever its method (get_chap then returns None); the
        initiator then logs in with the vserver's default authentication."""
        current = self._chap_record(initiator)
        if current is None:
            self.check_connection()
            raise SanNotFound('initiator %r has no CHAP credentials in vserver %r' % (initiator, self.vserver),
                              self.NOT_FOUND_CODES['chap'])
        self._delete_chap(current)

    def _with_secrets_masked(self, secrets, write, *args):
        """``write(*args)``, with no secret in the SanError it raises nor in the retries it recorded.

        The masked error is raised outside the ``except`` block, so that it carries no context (the original
        error, which may quote a secret the array echoed) into a traceback.
        """
        retries = self._retry_log()
        first = len(retries)
        failure = None
        try:
            return write(*args)
        except SanError as exc:
            failure = type(exc)(mask_secrets(exc.message, secrets), exc.code, mask_secrets(exc.details, secrets))
        finally:
            retries[first:] = mask_secrets(retries[first:], secrets)
        raise failure

    # -- LUNs -----------------------------------------------------------------------------------
    def get_lun(self, volume, name):
        record = self._lun_record(self.lun_path(volume, name))
        if record is None:
            self.check_volume(volume)
            return None
        return self._lun_dict(record)

    def _require_lun(self, path):
        """The LUN dict of ``path``; SanNotFound naming the vserver, the volume or the LUN that is missing."""
        record = self._lun_record(path)
        if record is None:
            self.check_volume(split_ontap_lun_path(path)[0])
            raise SanNotFound('LUN %s does not exist in vserver %r' % (path, self.vserver), self.NOT_FOUND_CODES['lun'])
        return self._lun_dict(record)

    def create_lun(self, volume, name, size, os_type):
        path = self.lun_path(volume, name)
        self.check_volume(volume)
        self._create_lun(path, size, os_type)
        return self._require_lun(path)

    def clone_lun(self, volume, name, source, os_type):
        path = self.lun_path(volume, name)
        self.check_clone_source(volume, source)
        self._clone_from_snapshot(volume, name, source)
        self._set_lun_comment(self._require_lun(path), clone_comment(source))
        return self._require_lun(path)

    def resize_lun(self, volume, name, size):
        path = self.lun_path(volume, name)
        current = self._require_lun(path)
        if size < current['size']:
            raise SanInvalid('refusing to shrink LUN %s from %d to %d bytes' % (path, current['size'], size))
        self._resize_lun(current, size)
        return self._require_lun(path)

    def set_lun_os_type(self, volume, name, os_type):
        raise SanInvalid('ONTAP cannot change the os_type of existing LUN %s' % self.lun_path(volume, name))

    def delete_lun(self, volume, name):
        path = self.lun_path(volume, name)
        current = self._require_lun(path)
        if current['maps']:
            raise SanConflict('LUN %s is mapped to igroup(s) %s; unmap it first'
                              % (path, ', '.join(entry['igroup'] for entry in current['maps'])))
        self._delete_lun(current)

    # -- maps -----------------------------------------------------------------------------------
    def get_lun_map(self, path, igroup):
        split_ontap_lun_path(path)
        maps = self._find_lun_maps(igroup, path)
        return maps[0] if maps else None

    def list_lun_maps(self, igroup=None, path=None):
        return sorted(self._find_lun_maps(igroup, path), key=lambda entry: (entry['igroup'], entry['lun_id']))

    # -- snapshots ------------------------------------------------------------------------------
    def refuse_snapshot_with_clones(self, volume, name):
        """SanConflict naming the LUN clones that depend on snapshot ``name`` of ``volume``, if any."""
        clones = self._clones_of(volume, name)
        if clones:
            raise SanConflict('snapshot %r of volume %r backs LUN clone(s) %s; delete them first'
                              % (name, volume, ', '.join(clones)))

    @staticmethod
    def snapshot_missing(volume, name, after):
        return SanError('snapshot %r of volume %r is missing after %s succeeded' % (name, volume, after))
