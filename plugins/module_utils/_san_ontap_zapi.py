# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ONTAP ZAPI (ONTAPI) backend through netapp-lib's NaServer/NaElement, for clusters without REST or
``use_rest: never``. API names and elements as in the ONTAPI reference and the netapp.ontap collection:
igroup-get-iter/create/add/remove/set-os-type/destroy, lun-get-iter/create-by-size/resize/destroy/
set-comment, lun-map, lun-unmap, lun-map-get-iter, snapshot-get-iter/create/delete, clone-create with
snapshot-name (a LUN-level clone from a Snapshot copy), volume-get-iter, vserver-get-iter,
system-get-ontapi-version, iscsi-initiator-auth-get-iter/add-auth/modify-chap-params/delete-auth (the elements
of NetApp's Manageability SDK bindings and Trident's azgo types; secrets as passphrase/outbound-passphrase,
as Trident sends them). Vserver-scoped calls are tunnelled (the ``vfiler`` attribute).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import time
import traceback
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import (
    SanAuthError, SanConflict, SanConnectionError, SanError, SanInvalid, SanNotFound, naa_ontap)
from ansible_collections.san.iscsi.plugins.module_utils._san_ontap_base import (
    OntapBackendBase, OntapHttp, OntapTransportError, clone_comment_pattern, parse_clone_comment,
    split_ontap_lun_path)

try:
    from netapp_lib.api.zapi.zapi import NaApiError, NaElement, NaServer
    HAS_NETAPP_LIB = True
    NETAPP_LIB_IMPORT_ERROR = None
except ImportError:
    HAS_NETAPP_LIB = False
    NETAPP_LIB_IMPORT_ERROR = traceback.format_exc()
    NaServer = object

PAGE_SIZE = 500
# netapp-lib 2021.6.25 netapp_lib/api/zapi/errors.py: EOBJECTNOTFOUND, EVDISK_ERROR_NO_SUCH_INITGROUP,
# EVDISK_ERROR_NO_SUCH_VDISK (a LUN), EVDISK_ERROR_NO_SUCH_LUNMAP, EVDISK_ERROR_NO_SUCH_VOLUME,
# EVOLUMEDOESNOTEXIST, ESNAPSHOTDOESNOTEXIST, EFILENOTFOUND, EISCSISECINITNOTFOUNDERROR (no iSCSI security
# entry for the initiator).
NOT_FOUND_ERRNOS = ('15661', '9003', '9017', '9016', '9036', '13040', '13021', '13113', '13112')
# iSCSI security writes (same errors.py): EDUPLICATEENTRY, an entry exists for the initiator;
# EISCSISECINVALIDAUTHTYPE and EISCSISECINVALIDINPUTERROR, refused input.
CHAP_EXISTS_ERRNOS = ('13130',)
CHAP_REFUSED_ERRNOS = ('13109', '13110')
VSERVER_NOT_FOUND = '15698'  # EVSERVERNOTFOUND
# EONTAPI_EBUSY (netapp-lib 2021.6.25, netapp_lib/api/zapi/errors.py): the API refused to run, nothing was
# done; retried with the transport's bounded backoff.
BUSY_ERRNOS = ('16',)


class _Transport(object):
    """What netapp-lib's NaServer calls its opener: posts the ZAPI XML over the run's one connection
    (``OntapHttp``) and turns the answer into what netapp-lib expects from urllib."""

    def __init__(self, http):
        self.http = http
        self.idempotent = False

    def open(self, request, timeout=None):
        split = urlsplit(request.full_url)
        headers = dict((key.title(), value) for key, value in request.header_items())
        try:
            status, reason, data = self.http.request('POST', split.path, request.data, headers,
                                                     idempotent=self.idempotent)
        except OntapTransportError as exc:
            raise URLError(exc.reason)
        if status >= 300:
            raise HTTPError(request.full_url, status, reason, {}, io.BytesIO(data))
        return io.BytesIO(data)


class _Server(NaServer):
    """NaServer posting through the run's one HTTP(S) connection (netapp-lib's own opener opens one per
    call and has no certificate options)."""

    def __init__(self, params, http):
        super(_Server, self).__init__(
            params['hostname'], transport_type='https' if params['https'] else 'http',
            username=params['username'], password=params['password'], port=http.port)
        self.set_timeout(params['timeout'])
        self.transport = _Transport(http)

    def _build_opener(self):
        self._opener = self.transport


def element(name, children=()):
    """NaElement with ordered children: (name, text) pairs or NaElements."""
    node = NaElement(name)
    for child in children:
        if isinstance(child, NaElement):
            node.add_child_elem(child)
        else:
            node.add_new_child(child[0], str(child[1]))
    return node


def iter_request(api, info_name, query):
    return element(api, [element('query', [element(info_name, query)]), ('max-records', PAGE_SIZE)])


class OntapZapiBackend(OntapBackendBase):

    # What ONTAP's own writes answer for a missing igroup (lun-map, igroup-add) and LUN (lun-map, lun-resize).
    NOT_FOUND_CODES = {'vserver': VSERVER_NOT_FOUND, 'volume': '15661', 'igroup': '9003', 'lun': '9017',
                       'chap': '13112'}

    def __init__(self, module, http=None):
        super(OntapZapiBackend, self).__init__(module)
        if not HAS_NETAPP_LIB:
            module.fail_json(msg=missing_required_lib('netapp-lib'), exception=NETAPP_LIB_IMPORT_ERROR,
                             error_code='missing_library')
        self.vserver = module.params['vserver']
        self.http = http if http is not None else OntapHttp(module.params)
        self.server = _Server(module.params, self.http)
        major, minor = self._ontapi_version()
        self.server.set_api_version(major, minor)
        self.server.set_vserver(self.vserver)

    def request_count(self):
        return self.http.count

    def request_retries(self):
        return list(self.http.retries)

    def _retry_log(self):
        return self.http.retries

    def clone_route(self, volume):
        return 'ZAPI clone-create with snapshot-name'

    # -- transport ------------------------------------------------------------------------------
    def invoke(self, request, tunnel=True, read=False):
        """The ZAPI seam: one HTTP POST (more when ONTAP is busy). Returns the <results> NaElement; raises
        SanError subclasses. ``read``: the API changes nothing, so an HTTP 5xx answer may be retried."""
        api = request.get_name()
        self.server.transport.idempotent = read
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.server.invoke_successfully(request, enable_tunneling=tunnel)
            except NaApiError as exc:
                if str(exc.code) in BUSY_ERRNOS and self.http.backoff(attempt, {
                        'method': 'POST', 'path': 'ZAPI %s' % api, 'reason': 'errno %s: %s' % (exc.code, exc.message)}):
                    continue
                raise self._error(api, exc)

    def _error(self, api, exc):
        code, message = str(exc.code), str(exc.message)
        if code in ('401', '403'):
            return SanAuthError('ONTAP refused the credentials of user %r (HTTP %s)'
                                % (self.module.params['username'], code), code, {'api': api})
        if 'CERTIFICATE_VERIFY_FAILED' in message:
            return SanConnectionError('TLS certificate verification failed for %s: %s (set ca_path to the CA that '
                                      'signed it)' % (self.module.params['hostname'], message), 'tls', {'api': api})
        if code == VSERVER_NOT_FOUND:
            hostname = self.module.params['hostname']
            return SanNotFound('vserver %r does not exist on %s: %s' % (self.vserver, hostname, message),
                               code, {'api': api})
        if code in ('URL error', 'Unable to connect', 'Unexpected error'):
            return SanConnectionError('cannot reach ONTAP at %s: %s' % (self.module.params['hostname'], message),
                                      'connection', {'api': api})
        if code in NOT_FOUND_ERRNOS:
            return SanNotFound('ONTAP ZAPI %s failed with errno %s: %s' % (api, code, message), code, {'api': api})
        return SanError('ONTAP ZAPI %s failed with errno %s: %s' % (api, code, message), code, {'api': api})

    def _ontapi_version(self):
        result = self.invoke(NaElement('system-get-ontapi-version'), tunnel=False, read=True)
        return int(result.get_child_content('major-version')), int(result.get_child_content('minor-version'))

    def get_iter(self, api, info_name, query, tunnel=True):
        """Records of a *-get-iter call, following next-tag."""
        request = iter_request(api, info_name, query)
        records = []
        while True:
            result = self.invoke(request, tunnel, read=True)
            attributes = result.get_child_by_name('attributes-list')
            if attributes is not None:
                records.extend(attributes.get_children())
            tag = result.get_child_content('next-tag')
            if not tag:
                return records
            request = iter_request(api, info_name, query)
            request.add_new_child('tag', tag)

    def get_one(self, api, info_name, query, tunnel=True):
        records = self.get_iter(api, info_name, query, tunnel)
        if len(records) > 1:
            raise SanError('ONTAP returned %d records for %s, expected at most one' % (len(records), api))
        return records[0] if records else None

    # -- connection and containers --------------------------------------------------------------
    def _vserver_record(self):
        return self.get_one('vserver-get-iter', 'vserver-info', [('vserver-name', self.vserver)], tunnel=False)

    def _volume_record(self, volume):
        query = [element('volume-id-attributes', [('name', volume), ('owning-vserver-name', self.vserver)])]
        return self.get_one('volume-get-iter', 'volume-attributes', query)

    # -- maps (used by igroups and LUNs) -----------------------------------------------------------
    def _maps(self, **query):
        fields = [(key.replace('_', '-'), value) for key, value in sorted(query.items())]
        return [{'igroup': record.get_child_content('initiator-group'), 'path': record.get_child_content('path'),
                 'lun_id': int(record.get_child_content('lun-id')), 'vserver': self.vserver}
                for record in self.get_iter('lun-map-get-iter', 'lun-map-info', fields)]

    # -- igroups --------------------------------------------------------------------------------
    def _igroup_dict(self, record):
        name = record.get_child_content('initiator-group-name')
        initiators = record.get_child_by_name('initiators')
        names = [info.get_child_content('initiator-name') for info in initiators.get_children()] if initiators else []
        maps = [{'path': entry['path'], 'lun_id': entry['lun_id']} for entry in self._maps(initiator_group=name)]
        return {'name': name, 'protocol': record.get_child_content('initiator-group-type'),
                'os_type': record.get_child_content('initiator-group-os-type'),
                'initiators': sorted(value.lower() for value in names),
                'maps': sorted(maps, key=lambda entry: entry['lun_id']),
                'vserver': self.vserver, 'uuid': record.get_child_content('initiator-group-uuid')}

    def get_igroup(self, name):
        record = self.get_one('igroup-get-iter', 'initiator-group-info', [('initiator-group-name', name)])
        return self._igroup_dict(record) if record is not None else None

    def list_igroups(self, name=None):
        query = [('initiator-group-name', name)] if name else []
        return sorted((self._igroup_dict(r) for r in self.get_iter('igroup-get-iter', 'initiator-group-info', query)),
                      key=lambda entry: entry['name'])

    def create_igroup(self, name, protocol, os_type, initiators):
        self.invoke(element('igroup-create', [('initiator-group-name', name), ('initiator-group-type', protocol),
                                              ('os-type', os_type)]))
        return self.add_initiators(name, initiators)

    def set_igroup_os_type(self, name, os_type):
        self.invoke(element('igroup-set-os-type', [('initiator-group-name', name), ('os-type', os_type)]))
        return self.get_igroup(name)

    def add_initiators(self, name, initiators):
        for initiator in initiators:
            self.invoke(element('igroup-add', [('initiator-group-name', name), ('initiator', initiator)]))
        return self.get_igroup(name)

    def remove_initiators(self, name, initiators, force=False):
        # Without force ONTAP itself refuses to remove an initiator from a mapped igroup.
        for initiator in initiators:
            self.invoke(element('igroup-remove', [('initiator-group-name', name), ('initiator', initiator),
                                                  ('force', 'true' if force else 'false')]))
        return self.get_igroup(name)

    def _delete_igroup(self, igroup, force):
        self.invoke(element('igroup-destroy', [('initiator-group-name', igroup['name']),
                                               ('force', 'true' if force else 'false')]))

    # -- CHAP credentials -----------------------------------------------------------------------
    def _chap_record(self, initiator):
        return self.get_one('iscsi-initiator-auth-get-iter', 'iscsi-security-entry-info', [('initiator', initiator)])

    def _chap_dict(self, record):
        return {'initiator': record.get_child_content('initiator').lower(),
                'method': (record.get_child_content('auth-type') or '').lower(),
                'user': record.get_child_content('user-name') or None,
                'mutual_user': record.get_child_content('outbound-user-name') or None,
                'vserver': record.get_child_content('vserver') or self.vserver}

    def _write_chap(self, initiator, current, wanted):
        if current is None:
            self._add_chap(initiator, wanted)
        elif (current.get_child_content('auth-type') or '').lower() == 'chap':
            self._modify_chap(current, wanted)
        else:
            self._replace_chap(current, wanted)

    @staticmethod
    def _chap_inputs(wanted):
        inputs = [('user-name', wanted['user']), ('passphrase', wanted['secret'])]
        if wanted['mutual_user']:
            inputs += [('outbound-user-name', wanted['mutual_user']), ('outbound-passphrase', wanted['mutual_secret'])]
        return inputs

    def _add_chap(self, initiator, wanted):
        self._chap_invoke(element('iscsi-initiator-add-auth', [('initiator', initiator), ('auth-type', 'CHAP')]
                                  + self._chap_inputs(wanted)))

    def _modify_chap(self, current, wanted):
        inputs = [('initiator', current.get_child_content('initiator'))] + self._chap_inputs(wanted)
        if not wanted['mutual_user'] and current.get_child_content('outbound-user-name'):
            inputs.append(('remove-outbound', 'true'))
        self._chap_invoke(element('iscsi-initiator-modify-chap-params', inputs))

    def _replace_chap(self, current, wanted):
        """An entry of method none or deny becomes CHAP: modify-chap-params only changes CHAP entries and no
        ZAPI changes an entry's auth-type, so the entry is deleted and added again; should the add fail, the
        entry is put back as it was (its method, which has no secrets) before the error is raised."""
        initiator, method = current.get_child_content('initiator'), current.get_child_content('auth-type')
        self._delete_chap(current)
        try:
            self._add_chap(initiator, wanted)
        except SanError:
            self._chap_invoke(element('iscsi-initiator-add-auth', [('initiator', initiator), ('auth-type', method)]))
            raise

    def _delete_chap(self, record):
        self._chap_invoke(element('iscsi-initiator-delete-auth', [('initiator', record.get_child_content('initiator'))]))

    def _chap_invoke(self, request):
        try:
            return self.invoke(request)
        except SanError as exc:
            if exc.code in CHAP_EXISTS_ERRNOS:
                raise SanConflict(exc.message, exc.code, exc.details)
            if exc.code in CHAP_REFUSED_ERRNOS:
                raise SanInvalid(exc.message, exc.code, exc.details)
            raise

    # -- LUNs -----------------------------------------------------------------------------------
    def _lun_dict(self, record):
        path = record.get_child_content('path')
        volume, name = split_ontap_lun_path(path)
        maps = []
        if record.get_child_content('mapped') == 'true':
            maps = [{'igroup': entry['igroup'], 'lun_id': entry['lun_id']} for entry in self._maps(path=path)]
        serial = record.get_child_content('serial-number') or ''
        return {'name': name, 'volume': volume, 'path': path, 'size': int(record.get_child_content('size')),
                'os_type': record.get_child_content('multiprotocol-type'), 'serial': serial,
                'wwid': naa_ontap(serial) if serial else None,
                'clone_parent': parse_clone_comment(record.get_child_content('comment')),
                'maps': sorted(maps, key=lambda entry: entry['igroup']), 'vserver': self.vserver,
                'uuid': record.get_child_content('uuid')}

    def _lun_record(self, path):
        return self.get_one('lun-get-iter', 'lun-info', [('path', path)])

    def list_luns(self, volume=None, name=None):
        query = []
        if name:
            query.append(('path', '*/%s' % name))
        if volume:
            query.append(('volume', volume))
        return sorted((self._lun_dict(r) for r in self.get_iter('lun-get-iter', 'lun-info', query)),
                      key=lambda entry: entry['path'])

    def _create_lun(self, path, size, os_type):
        self.invoke(element('lun-create-by-size', [('path', path), ('size', size), ('ostype', os_type),
                                                   ('space-reservation-enabled', 'false')]))

    def _clone_from_snapshot(self, volume, name, source):
        if self._snapshot_record(volume, source['snapshot']) is None:
            self.check_volume(volume)
            raise SanNotFound('snapshot %r does not exist in volume %r' % (source['snapshot'], volume),
                              self.NOT_FOUND_CODES['volume'])
        self.invoke(element('clone-create', [('volume', volume), ('source-path', source['lun']),
                                             ('destination-path', name), ('snapshot-name', source['snapshot'])]))

    def _set_lun_comment(self, lun, comment):
        self.invoke(element('lun-set-comment', [('path', lun['path']), ('comment', comment)]))

    def _resize_lun(self, lun, size):
        self.invoke(element('lun-resize', [('path', lun['path']), ('size', size)]))

    def _delete_lun(self, lun):
        self.invoke(element('lun-destroy', [('path', lun['path'])]))

    # -- maps -----------------------------------------------------------------------------------
    def _find_lun_maps(self, igroup, path):
        query = {}
        if igroup:
            query['initiator_group'] = igroup
        if path:
            query['path'] = path
        return self._maps(**query)

    def create_lun_map(self, path, igroup, lun_id=None):
        fields = [('path', path), ('initiator-group', igroup)]
        if lun_id is not None:
            fields.append(('lun-id', lun_id))
        try:
            self.invoke(element('lun-map', fields))
        except SanError as exc:
            if exc.code in NOT_FOUND_ERRNOS:
                raise SanNotFound('cannot map %s to %s: %s' % (path, igroup, exc.message), exc.code, exc.details)
            raise
        return self.get_lun_map(path, igroup)

    def delete_lun_map(self, path, igroup):
        self.invoke(element('lun-unmap', [('path', path), ('initiator-group', igroup)]))

    # -- snapshots ------------------------------------------------------------------------------
    def _snapshot_record(self, volume, name):
        return self.get_one('snapshot-get-iter', 'snapshot-info', [('name', name), ('volume', volume)])

    def _clones_of(self, volume, snapshot):
        query = [('comment', clone_comment_pattern(volume, snapshot))]
        return sorted(record.get_child_content('path') for record in self.get_iter('lun-get-iter', 'lun-info', query))

    def _snapshot_dict(self, record):
        volume, name = record.get_child_content('volume'), record.get_child_content('name')
        access_time = record.get_child_content('access-time')
        return {'name': name, 'volume': volume, 'lun': None,
                'create_time': _iso_time(access_time) if access_time else None,
                'clones': self._clones_of(volume, name), 'vserver': self.vserver,
                'uuid': record.get_child_content('snapshot-instance-uuid')}

    def get_snapshot(self, volume, name):
        record = self._snapshot_record(volume, name)
        if record is None:
            self.check_volume(volume)
            return None
        return self._snapshot_dict(record)

    def list_snapshots(self, volume=None, name=None):
        query = []
        if name:
            query.append(('name', name))
        if volume:
            query.append(('volume', volume))
        return sorted((self._snapshot_dict(r) for r in self.get_iter('snapshot-get-iter', 'snapshot-info', query)),
                      key=lambda entry: (entry['volume'], entry['name']))

    def create_snapshot(self, volume, name, lun=None):
        self.check_volume(volume)
        if lun is not None:
            self._require_lun(self.lun_path(volume, lun))
        self.invoke(element('snapshot-create', [('volume', volume), ('snapshot', name)]))
        record = self._snapshot_record(volume, name)
        if record is None:
            raise self.snapshot_missing(volume, name, 'snapshot-create')
        return self._snapshot_dict(record)

    def delete_snapshot(self, volume, name):
        self.refuse_snapshot_with_clones(volume, name)
        self.invoke(element('snapshot-delete', [('volume', volume), ('snapshot', name)]))


def _iso_time(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime(int(epoch)))
