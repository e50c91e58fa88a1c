# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ONTAP REST backend (ONTAP 9.6+): the only module_utils file that speaks ONTAP REST.

Endpoints and fields follow the ONTAP REST API reference (docs.netapp.com/us-en/ontap-restapi):
/api/cluster, /api/svm/svms, /api/storage/volumes[/{uuid}/snapshots], /api/storage/luns,
/api/storage/file/clone (clone from a Snapshot copy via source_path ".snapshot/<snap>/<lun>", example in
the 9.6 "post storage file clone" page), /api/protocols/san/igroups[/{uuid}/initiators],
/api/protocols/san/lun-maps, /api/protocols/san/iscsi/credentials[/{svm.uuid}/{initiator}] and
/api/cluster/jobs/{uuid}. Errors are ``{"error": {"message", "code"}}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import ssl
import time

try:
    from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
except ImportError:  # the automount SAN helper (_script_host) runs this backend without ansible-core
    from urllib.parse import quote, urlencode

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanAuthError, SanConflict, SanConnectionError, SanError, SanInvalid, SanNotFound, mapped_removal_conflict,
    naa_ontap)
from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_base import (
    OntapBackendBase, OntapHttp, OntapTransportError, clone_comment_pattern, parse_clone_comment,
    split_ontap_lun_path)

MIN_REST_VERSION = (9, 6)

IGROUP_FIELDS = 'name,uuid,protocol,os_type,initiators.name,lun_maps.logical_unit_number,lun_maps.lun.name,svm.name'
LUN_FIELDS = ('name,uuid,location.volume.name,space.size,os_type,serial_number,comment,'
              'lun_maps.logical_unit_number,lun_maps.igroup.name,svm.name')
MAP_FIELDS = 'logical_unit_number,lun.name,lun.uuid,igroup.name,igroup.uuid,svm.name'
SNAPSHOT_FIELDS = 'name,uuid,create_time'
CHAP_URL = '/api/protocols/san/iscsi/credentials'
# Passwords are write-only: GET never returns them, not even with fields=*.
CHAP_FIELDS = 'initiator,authentication_type,chap.inbound.user,chap.outbound.user,svm.name,svm.uuid'
# The error tables of POST/PATCH/DELETE /protocols/san/iscsi/credentials in the ONTAP REST API reference:
# an entry exists for the initiator; the entry does not exist ('4': the generic "entry doesn't exist");
# refused input (2: a field's value, 5374145 a 0x password without an even number of hex digits, 5374147 the
# same inbound and outbound password, 5374148 deleting the default entry, 5374149 CHAP without inbound user
# and password, 5374150 an outbound user without password, 5374155 not for the default entry, 5374900 CHAP
# properties with none or deny, 5373969-5373997 a malformed initiator name).
CHAP_EXISTS = ('5374142',)
CHAP_MISSING = ('5374895', '4')
CHAP_REFUSED = ('2', '5374145', '5374147', '5374148', '5374149', '5374150', '5374155', '5374900', '5373969',
                '5373970', '5373971', '5373972', '5373977', '5373978', '5373997')


class RestClient(object):
    """HTTP seam: every REST request to ONTAP goes through ``request``, over the run's one connection
    (``OntapHttp``, shared with ZAPI when ``use_rest=auto`` falls back)."""

    def __init__(self, params, http=None):
        self.http = http if http is not None else OntapHttp(params)
        self.base_url = self.http.base_url
        self.username = params['username']

    @property
    def count(self):
        return self.http.count

    def url(self, path, query=None):
        return self.base_url + self.target(path, query)

    @staticmethod
    def target(path, query=None):
        if query:
            path += '?' + urlencode(sorted(query.items()))
        return path

    def request(self, method, path, query=None, body=None):
        """Send one request; return (status, decoded JSON or {}). Raises SanError subclasses."""
        if path.startswith(self.base_url):
            path = path[len(self.base_url):]
        target = self.target(path, query)
        url = self.base_url + target
        data = json.dumps(body, sort_keys=True).encode('utf-8') if body is not None else None
        try:
            status, reason, raw = self.http.request(method, target, data, {
                'Accept': 'application/json', 'Content-Type': 'application/json'})
        except OntapTransportError as exc:
            raise self._transport_error(exc.reason, method, url)
        if status >= 300:
            raise self._http_error(status, reason, raw, method, url)
        return status, self._decode(raw)

    @staticmethod
    def _decode(raw):
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise SanError('ONTAP returned a body that is not JSON: %r' % raw[:200])

    def _http_error(self, status, reason, raw, method, url):
        try:
            error = json.loads(raw or b'{}').get('error', {})
        except (ValueError, AttributeError):
            error = {}
        code = str(error.get('code', status))
        message = error.get('message') or str(reason)
        details = {'status': status, 'method': method, 'url': url}
        if status in (401, 403):
            return SanAuthError('ONTAP refused the credentials of user %r (HTTP %d): %s'
                                % (self.username, status, message), code, details)
        return SanError('ONTAP error %s on %s %s: %s' % (code, method, url, message), code, details)

    @staticmethod
    def _transport_error(reason, method, url):
        if isinstance(reason, ssl.SSLCertVerificationError) or 'CERTIFICATE_VERIFY_FAILED' in str(reason):
            return SanConnectionError('TLS certificate verification failed for %s: %s (set ca_path to the '
                                      'CA that signed it)' % (url, reason), 'tls', {'url': url})
        return SanConnectionError('cannot reach ONTAP at %s: %s' % (url, reason), 'connection', {'url': url})

    def get_records(self, path, query):
        """GET a collection, following _links.next; returns the list of records."""
        status, body = self.request('GET', path, query)
        records = list(body.get('records', []))
        next_link = body.get('_links', {}).get('next', {}).get('href')
        while next_link:
            status, body = self.request('GET', next_link)
            records.extend(body.get('records', []))
            next_link = body.get('_links', {}).get('next', {}).get('href')
        return records

    def get_one(self, path, query):
        records = self.get_records(path, query)
        if len(records) > 1:
            raise SanError('ONTAP returned %d records for %s %r, expected at most one' % (len(records), path, query))
        return records[0] if records else None


def probe_rest(client):
    """Return the cluster version tuple when REST answers, None when this ONTAP has no REST API."""
    try:
        dummy, body = client.request('GET', '/api/cluster', {'fields': 'version'})
    except SanAuthError:
        raise
    except SanConnectionError:
        raise
    except SanError as exc:
        if exc.details.get('status') in (404, 405, 400):
            return None
        raise
    version = body.get('version', {})
    return (version.get('generation', 0), version.get('major', 0), version.get('minor', 0))


class OntapRestBackend(OntapBackendBase):

    NOT_FOUND_CODES = {'vserver': '2621462', 'volume': '4', 'igroup': '5374852', 'lun': '5374875',
                       'chap': '5374895'}

    def __init__(self, module, client, version):
        super(OntapRestBackend, self).__init__(module)
        self.client = client
        self.version = version
        self.vserver = module.params['vserver']
        self.job_timeout = module.params['job_timeout']

    def request_count(self):
        return self.client.count

    def request_retries(self):
        return list(self.client.http.retries)

    def _retry_log(self):
        return self.client.http.retries

    def clone_route(self, volume):
        # The ONTAPI-to-REST map (docs.netapp.com/us-en/ontap-restmap) maps clone-create to this endpoint
        # (REST 9.6+, the oldest REST this backend uses), its snapshot-name to a ".snapshot/<snap>/" source_path.
        return 'POST /api/storage/file/clone'

    # -- helpers --------------------------------------------------------------------------------
    def _svm_query(self, **query):
        query['svm.name'] = self.vserver
        return query

    def _error(self, exc, cls, message):
        return cls('%s: %s' % (message, exc.message), exc.code, exc.details)

    def wait_job(self, body):
        """Wait (bounded by job_timeout) for the job a 202 response names; raise on failure."""
        job = body.get('job')
        if not job:
            return
        deadline = time.time() + self.job_timeout
        delay = 0.1
        while True:
            dummy, state = self.client.request('GET', '/api/cluster/jobs/%s' % job['uuid'],
                                               {'fields': 'state,message,code'})
            if state.get('state') == 'success':
                return
            if state.get('state') == 'failure':
                raise SanError('ONTAP job %s failed: %s' % (job['uuid'], state.get('message')),
                               str(state.get('code')), {'job': job['uuid']})
            if time.time() + delay > deadline:
                raise SanError('ONTAP job %s still %s after %d s' % (job['uuid'], state.get('state'), self.job_timeout),
                               'timeout', {'job': job['uuid']})
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    # -- connection -----------------------------------------------------------------------------
    def _vserver_record(self):
        return self.client.get_one('/api/svm/svms', {'name': self.vserver, 'fields': 'name,uuid'})

    def _volume_record(self, volume):
        return self.client.get_one('/api/storage/volumes', self._svm_query(name=volume, fields='name,uuid'))

    # -- igroups --------------------------------------------------------------------------------
    @staticmethod
    def _igroup_dict(record):
        maps = [{'path': entry['lun']['name'], 'lun_id': entry['logical_unit_number']}
                for entry in record.get('lun_maps', [])]
        return {
            'name': record['name'], 'protocol': record.get('protocol'), 'os_type': record.get('os_type'),
            'initiators': sorted(entry['name'].lower() for entry in record.get('initiators', [])),
            'maps': sorted(maps, key=lambda entry: entry['lun_id']),
            'vserver': record.get('svm', {}).get('name'), 'uuid': record.get('uuid'),
        }

    def get_igroup(self, name):
        record = self.client.get_one('/api/protocols/san/igroups', self._svm_query(name=name, fields=IGROUP_FIELDS))
        return self._igroup_dict(record) if record else None

    def list_igroups(self, name=None):
        query = self._svm_query(fields=IGROUP_FIELDS)
        if name:
            query['name'] = name
        return sorted((self._igroup_dict(r) for r in self.client.get_records('/api/protocols/san/igroups', query)),
                      key=lambda entry: entry['name'])

    def create_igroup(self, name, protocol, os_type, initiators):
        body = {'svm': {'name': self.vserver}, 'name': name, 'protocol': protocol, 'os_type': os_type}
        if initiators:
            body['initiators'] = [{'name': initiator} for initiator in initiators]
        self.client.request('POST', '/api/protocols/san/igroups', body=body)
        return self.get_igroup(name)

    def set_igroup_os_type(self, name, os_type):
        igroup = self._require_igroup(name)
        self.client.request('PATCH', '/api/protocols/san/igroups/%s' % igroup['uuid'], body={'os_type': os_type})
        return self.get_igroup(name)

    def add_initiators(self, name, initiators):
        igroup = self._require_igroup(name)
        self.client.request('POST', '/api/protocols/san/igroups/%s/initiators' % igroup['uuid'],
                            body={'records': [{'name': initiator} for initiator in initiators]})
        return self.get_igroup(name)

    def remove_initiators(self, name, initiators, force=False):
        igroup = self._require_igroup(name)
        query = None
        if igroup['maps']:
            if not force:
                raise mapped_removal_conflict(name, initiators, igroup['maps'])
            # In the REST reference of both DELETE endpoints since 9.6, the oldest REST this backend uses.
            query = {'allow_delete_while_mapped': 'true'}
        for initiator in initiators:
            self.client.request('DELETE', '/api/protocols/san/igroups/%s/initiators/%s'
                                % (igroup['uuid'], quote(initiator, safe='')), query)
        return self.get_igroup(name)

    def _delete_igroup(self, igroup, force):
        query = {'allow_delete_while_mapped': 'true'} if igroup['maps'] else None
        self.client.request('DELETE', '/api/protocols/san/igroups/%s' % igroup['uuid'], query)

    # -- CHAP credentials -----------------------------------------------------------------------
    def _chap_record(self, initiator):
        return self.client.get_one(CHAP_URL, self._svm_query(initiator=initiator, fields=CHAP_FIELDS))

    @staticmethod
    def _chap_dict(record):
        chap = record.get('chap') or {}
        return {'initiator': record['initiator'].lower(), 'method': record.get('authentication_type'),
                'user': chap.get('inbound', {}).get('user') or None,
                'mutual_user': chap.get('outbound', {}).get('user') or None,
                'vserver': record.get('svm', {}).get('name')}

    @staticmethod
    def _chap_url(record):
        """The entry's own URL, with the initiator as ONTAP holds it."""
        return '%s/%s/%s' % (CHAP_URL, record['svm']['uuid'], quote(record['initiator'], safe=''))

    def _write_chap(self, initiator, current, wanted):
        """POST a new entry, or PATCH the current one to CHAP (authentication_type is always sent: netapp.ontap's
        na_ontap_iscsi_security notes a PATCH of chap fails without it)."""
        chap = {'inbound': {'user': wanted['user'], 'password': wanted['secret']}}
        if wanted['mutual_user']:
            chap['outbound'] = {'user': wanted['mutual_user'], 'password': wanted['mutual_secret']}
        if current is None:
            self._chap_request('POST', CHAP_URL, {'svm': {'name': self.vserver}, 'initiator': initiator,
                                                  'authentication_type': 'chap', 'chap': chap})
            return
        if 'outbound' not in chap and (current.get('chap') or {}).get('outbound', {}).get('user'):
            # "To clear previously set outbound CHAP credentials, set property chap.outbound.user to an empty
            # string in PATCH" (REST reference).
            chap['outbound'] = {'user': ''}
        self._chap_request('PATCH', self._chap_url(current), {'authentication_type': 'chap', 'chap': chap})

    def _delete_chap(self, record):
        self._chap_request('DELETE', self._chap_url(record))

    def _chap_request(self, method, path, body=None):
        try:
            self.client.request(method, path, body=body)
        except SanError as exc:
            what = 'cannot %s the CHAP credentials' % {'POST': 'create', 'PATCH': 'change', 'DELETE': 'delete'}[method]
            if exc.code in CHAP_EXISTS:
                raise self._error(exc, SanConflict, what)
            if exc.code in CHAP_MISSING:
                raise self._error(exc, SanNotFound, what)
            if exc.code in CHAP_REFUSED:
                raise self._error(exc, SanInvalid, what)
            raise

    # -- LUNs -----------------------------------------------------------------------------------
    @staticmethod
    def _lun_dict(record):
        volume, name = split_ontap_lun_path(record['name'])
        maps = [{'igroup': entry['igroup']['name'], 'lun_id': entry['logical_unit_number']}
                for entry in record.get('lun_maps', [])]
        serial = record.get('serial_number', '')
        return {
            'name': name, 'volume': volume, 'path': record['name'], 'size': record.get('space', {}).get('size'),
            'os_type': record.get('os_type'), 'serial': serial, 'wwid': naa_ontap(serial) if serial else None,
            'clone_parent': parse_clone_comment(record.get('comment')),
            'maps': sorted(maps, key=lambda entry: entry['igroup']),
            'vserver': record.get('svm', {}).get('name'), 'uuid': record.get('uuid'),
        }

    def _lun_record(self, path):
        return self.client.get_one('/api/storage/luns', self._svm_query(name=path, fields=LUN_FIELDS))

    def list_luns(self, volume=None, name=None):
        query = self._svm_query(fields=LUN_FIELDS)
        if volume:
            query['location.volume.name'] = volume
        if name:
            query['name'] = '*/%s' % name
        return sorted((self._lun_dict(r) for r in self.client.get_records('/api/storage/luns', query)),
                      key=lambda entry: entry['path'])

    def _create_lun(self, path, size, os_type):
        self.client.request('POST', '/api/storage/luns', body={
            'svm': {'name': self.vserver}, 'name': path, 'os_type': os_type, 'space': {'size': size}})

    def _clone_from_snapshot(self, volume, name, source):
        volume_record = self._volume(volume)
        if self._snapshot_record(volume_record, source['snapshot']) is None:
            raise SanNotFound('snapshot %r does not exist in volume %r' % (source['snapshot'], volume),
                              self.NOT_FOUND_CODES['volume'])
        dummy, body = self.client.request('POST', '/api/storage/file/clone', body={
            'volume': {'name': volume, 'uuid': volume_record['uuid']},
            'source_path': '.snapshot/%s/%s' % (source['snapshot'], source['lun']),
            'destination_path': name})
        self.wait_job(body)

    def _set_lun_comment(self, lun, comment):
        self.client.request('PATCH', '/api/storage/luns/%s' % lun['uuid'], body={'comment': comment})

    def _resize_lun(self, lun, size):
        self.client.request('PATCH', '/api/storage/luns/%s' % lun['uuid'], body={'space': {'size': size}})

    def _delete_lun(self, lun):
        self.client.request('DELETE', '/api/storage/luns/%s' % lun['uuid'])

    # -- maps -----------------------------------------------------------------------------------
    @staticmethod
    def _map_dict(record):
        return {'igroup': record['igroup']['name'], 'path': record['lun']['name'],
                'lun_id': record['logical_unit_number'], 'vserver': record.get('svm', {}).get('name')}

    def _map_records(self, igroup=None, path=None):
        query = self._svm_query(fields=MAP_FIELDS)
        if igroup:
            query['igroup.name'] = igroup
        if path:
            query['lun.name'] = path
        return self.client.get_records('/api/protocols/san/lun-maps', query)

    def _find_lun_maps(self, igroup, path):
        return [self._map_dict(record) for record in self._map_records(igroup, path)]

    def create_lun_map(self, path, igroup, lun_id=None):
        body = {'svm': {'name': self.vserver}, 'lun': {'name': path}, 'igroup': {'name': igroup}}
        if lun_id is not None:
            body['logical_unit_number'] = lun_id
        try:
            self.client.request('POST', '/api/protocols/san/lun-maps', body=body)
        except SanError as exc:
            if exc.code in ('5374875', '5374878'):
                raise self._error(exc, SanNotFound, 'cannot map %s to %s' % (path, igroup))
            if exc.details.get('status') == 409:
                raise self._error(exc, SanConflict, 'cannot map %s to %s as LUN %s' % (path, igroup, lun_id))
            raise
        return self.get_lun_map(path, igroup)

    def delete_lun_map(self, path, igroup):
        for record in self._map_records(igroup, path):
            self.client.request('DELETE', '/api/protocols/san/lun-maps/%s/%s'
                                % (record['lun']['uuid'], record['igroup']['uuid']))

    # -- snapshots ------------------------------------------------------------------------------
    def _snapshot_record(self, volume_record, name):
        return self.client.get_one('/api/storage/volumes/%s/snapshots' % volume_record['uuid'],
                                   {'name': name, 'fields': SNAPSHOT_FIELDS})

    def _clones_of(self, volume, snapshot):
        query = self._svm_query(comment=clone_comment_pattern(volume, snapshot), fields='name')
        return sorted(record['name'] for record in self.client.get_records('/api/storage/luns', query))

    def _snapshot_dict(self, volume, record):
        return {'name': record['name'], 'volume': volume, 'lun': None, 'create_time': record.get('create_time'),
                'clones': self._clones_of(volume, record['name']), 'vserver': self.vserver,
                'uuid': record.get('uuid')}

    def get_snapshot(self, volume, name):
        record = self._snapshot_record(self._volume(volume), name)
        return self._snapshot_dict(volume, record) if record else None

    def list_snapshots(self, volume=None, name=None):
        volumes = [self._volume(volume)] if volume else self.client.get_records(
            '/api/storage/volumes', self._svm_query(fields='name,uuid'))
        result = []
        for volume_record in volumes:
            query = {'fields': SNAPSHOT_FIELDS}
            if name:
                query['name'] = name
            for record in self.client.get_records('/api/storage/volumes/%s/snapshots' % volume_record['uuid'], query):
                result.append(self._snapshot_dict(volume_record['name'], record))
        return sorted(result, key=lambda entry: (entry['volume'], entry['name']))

    def create_snapshot(self, volume, name, lun=None):
        volume_record = self._volume(volume)
        if lun is not None:
            self._require_lun(self.lun_path(volume, lun))
        dummy, body = self.client.request('POST', '/api/storage/volumes/%s/snapshots' % volume_record['uuid'],
                                          body={'name': name})
        self.wait_job(body)
        record = self._snapshot_record(volume_record, name)
        if record is None:
            raise self.snapshot_missing(volume, name, 'its job')
        return self._snapshot_dict(volume, record)

    def delete_snapshot(self, volume, name):
        volume_record = self._volume(volume)
        record = self._snapshot_record(volume_record, name)
        if record is None:
            return
        self.refuse_snapshot_with_clones(volume, name)
        dummy, body = self.client.request('DELETE', '/api/storage/volumes/%s/snapshots/%s'
                                          % (volume_record['uuid'], record['uuid']))
        self.wait_job(body)
