#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: a stateful emulator of the NetApp ONTAP REST and ZAPI subsets san.iscsi uses.

Not ONTAP. It serves HTTPS on loopback with a self-signed certificate it generates (openssl CLI) and
implements, strictly, what the san.iscsi ONTAP backends call:

REST (ONTAP REST API reference, docs.netapp.com/us-en/ontap-restapi): /api/cluster, /api/cluster/jobs[/{uuid}],
/api/svm/svms[/{uuid}], /api/storage/volumes[/{uuid}[/snapshots[/{uuid}]]], /api/storage/luns[/{uuid}],
/api/storage/file/clone (source_path ".snapshot/<snap>/<file>" as in the 9.6 example),
/api/protocols/san/igroups[/{uuid}[/initiators[/{name}]]], /api/protocols/san/lun-maps[/{lun.uuid}/{igroup.uuid}],
/api/protocols/san/iscsi/credentials[/{svm.uuid}/{initiator}] (each SVM has its "default" entry; passwords are
write-only; the documented refusals, see "iSCSI credentials" below).
The model of each resource (field names, types, nesting; read-only and create-only fields) is not written
here: ontap_rest_model.py loads it from NetApp's netapp-ontap library (its ``*Schema`` classes) when the
RestApi is built, and fails with a hint when the library is missing. Every record served is checked against
it. Conventions (ontap_rest_model.py): ``fields=`` (fields, objects, ``*``, ``**``), filters on nested fields
with ``*`` ``|`` ``!`` ``<`` ``>`` ``<=`` ``>=`` ``..``, booleans in any case, ``order_by``, ``max_records``
with ``_links.next``, ``return_records``, ``return_timeout`` (0-120 s; a job is waited for), dotted or nested
JSON bodies; the filter fields are in each record; 201 carries a Location header. Snapshot create/patch/
delete and file clone answer 202 with a job that is queued, then running, then done (State.job_queue_seconds,
job_run_seconds); ``Emulator.fail_next_job`` or ``POST /_emulator/control {"fail_next_job": {...}}`` (a test
switch, not ONTAP) makes the next job fail. Errors are ``{"error": {"message", "code", "target"}}`` with the
common codes of "Interpret an ONTAP REST API response" (1 duplicate/409, 2 bad, missing or extra field/400,
3 operation not supported/400 (also: a field ONTAP has that this double does not emulate), 4 not found/404)
and the documented endpoint codes (5374875 LUN not found, 5374878 igroup not found for a map, 5374922 map
not found, 5374852 igroup not found, 1254213 igroup mapped without allow_delete_while_mapped, 5374034
initiator not a member, 2621462 SVM not found, and the iSCSI credential codes CRED_*).

ZAPI (POST /servlets/netapp.servlets.admin.XMLrequest_filer): system-get-ontapi-version, vserver-get-iter,
volume-get-iter, igroup-get-iter/create/add/remove/set-os-type/rename/destroy, lun-get-iter/create-by-size/
resize/destroy/set-comment, lun-map, lun-unmap, lun-map-get-iter, lun-map-list-info, snapshot-get-iter/create/
delete, clone-create (with snapshot-name), iscsi-initiator-auth-get-iter/get-auth/get-default-auth/add-auth/
modify-chap-params/set-default-auth/delete-auth; the inputs and query fields of each (API_INPUTS, INFO_FIELDS), an
unknown one refused with errno 13115 "Extra input: <element>"; vserver APIs need the vfiler tunnelling
attribute; failures are ``<results status="failed" errno reason>`` with netapp-lib's errnos (cited in the
ZAPI section); ``ZapiApi.busy_next`` answers the next calls with EONTAPI_EBUSY.

Run: ``ontap_emulator.py --port 0 --state-dir DIR --detach`` prints one JSON line (port, pid, cafile).
"""

from __future__ import absolute_import, division, print_function

import argparse
import base64
import calendar
import hashlib
import fnmatch
import json
import os
import re
import signal
import ssl
import string
import subprocess
import sys
import threading
import time
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.etree import ElementTree

try:
    from ansible_collections.san.iscsi.tests.doubles import ontap_rest_model as rest_model
except ImportError:  # run as a script or imported from tests/doubles on sys.path (the benchmarks)
    import ontap_rest_model as rest_model  # pylint: disable=import-error

ZAPI_PATH = '/servlets/netapp.servlets.admin.XMLrequest_filer'
CONTROL_PATH = '/_emulator/control'
ZAPI_NS = 'http://www.netapp.com/filer/admin'
LUN_ROUNDING = 4096
MAX_LUN_ID = 4095
IGROUP_PROTOCOLS = ('iscsi', 'fcp', 'mixed')
OS_TYPES = ('linux', 'windows', 'vmware', 'aix', 'hpux', 'solaris', 'xen', 'hyper_v')


class ApiError(Exception):
    """REST error: HTTP status + ONTAP code + message; ZAPI uses zapi_errno."""

    def __init__(self, status, code, message, zapi_errno=None, target=None):
        super(ApiError, self).__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message
        self.target = target
        self.zapi_errno = zapi_errno or {'4': '15661', '5374875': '15661', '5374878': '15661',
                                         '5374922': '15661', '5374852': '15661', '2621462': '15698'}.get(str(code), '13115')


def not_found(message, code='4'):
    return ApiError(404, code, message)


def bad_field(message):
    return ApiError(400, '2', message)


def duplicate(message, code='1'):
    return ApiError(409, code, message)


def new_uuid():
    return str(uuidlib.uuid4())


def lun_serial(counter):
    """12 printable characters like ONTAP's LUN serial numbers."""
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    value, chars = int(hashlib.sha1(str(counter).encode()).hexdigest(), 16), []
    for dummy in range(9):
        value, index = divmod(value, len(alphabet))
        chars.append(alphabet[index])
    return 'wEm' + ''.join(chars)


def value_matches(pattern, actual):
    """ONTAP query syntax subset: a|b alternatives, * wildcard, !negation; case-insensitive."""
    for alternative in pattern.split('|'):
        negate = alternative.startswith('!')
        alternative = alternative[1:] if negate else alternative
        text = str(actual).lower() if not isinstance(actual, bool) else str(actual).lower()
        hit = fnmatch.fnmatchcase(text, alternative.lower()) if '*' in alternative else text == alternative.lower()
        if hit != negate:
            return True
    return False


class State(object):
    """Everything the emulator knows; guarded by one lock."""

    def __init__(self, version=(9, 12, 1)):
        self.lock = threading.RLock()
        self.version = version
        self.svms = {}
        self.volumes = {}
        self.snapshots = {}
        self.luns = {}
        self.lun_by_path = {}
        self.igroups = {}
        self.igroup_by_name = {}
        self.maps = {}
        # iSCSI credentials by (SVM uuid, lower-cased initiator); each SVM has its "default" entry.
        self.credentials = {}
        self.jobs = {}
        self.serials = 0
        self.requests = 0
        # Records per page at most, as when ONTAP stops a collection GET at its return_timeout and
        # answers with a _links.next (REST) or next-tag (ZAPI).
        self.page_size = 10000
        # REST jobs: seconds queued, then running (see advance_jobs); the failure of the next job.
        self.job_queue_seconds = 0.02
        self.job_run_seconds = 0.05
        self.next_job_failure = None

    # -- population -------------------------------------------------------------------------------
    def add_svm(self, name):
        svm_uuid = new_uuid()
        self.svms[svm_uuid] = {'name': name, 'uuid': svm_uuid}
        self.add_default_credential(self.svms[svm_uuid])
        return svm_uuid

    def svm_named(self, name, required=True):
        for svm in self.svms.values():
            if svm['name'] == name:
                return svm
        if required:
            raise ApiError(404, '2621462', 'SVM "%s" does not exist.' % name)
        return None

    def add_volume(self, svm_name, name):
        svm = self.svm_named(svm_name)
        vol_uuid = new_uuid()
        self.volumes[vol_uuid] = {'name': name, 'uuid': vol_uuid, 'svm': {'name': svm['name'], 'uuid': svm['uuid']}}
        return vol_uuid

    def volume_named(self, svm_name, name):
        for volume in self.volumes.values():
            if volume['name'] == name and volume['svm']['name'] == svm_name:
                return volume
        raise not_found('The specified volume "%s" was not found in SVM "%s".' % (name, svm_name))

    def add_lun(self, svm_name, path, size, os_type='linux', comment=None):
        svm = self.svm_named(svm_name)
        match = re.match(r'^/vol/([^/]+)/([^/]+)$', path or '')
        if not match:
            raise bad_field('Invalid value for field "name": "%s" is not a LUN path of the form /vol/<volume>/<lun>.'
                            % path)
        volume = self.volume_named(svm_name, match.group(1))
        if (svm_name, path) in self.lun_by_path:
            raise duplicate('A LUN with the name "%s" already exists in SVM "%s".' % (path, svm_name))
        if os_type not in OS_TYPES:
            raise bad_field('"%s" is an invalid value for field "os_type".' % os_type)
        if not isinstance(size, int) or isinstance(size, bool) or size < 4096:
            raise bad_field('Invalid value for field "space.size": %r.' % (size,))
        self.serials += 1
        lun_uuid = new_uuid()
        rounded = -(-size // LUN_ROUNDING) * LUN_ROUNDING
        self.luns[lun_uuid] = {
            'uuid': lun_uuid, 'name': path, 'svm': {'name': svm['name'], 'uuid': svm['uuid']},
            'location': {'volume': {'name': volume['name'], 'uuid': volume['uuid']}, 'logical_unit': match.group(2)},
            'space': {'size': rounded, 'guarantee': {'requested': False, 'reserved': False}}, 'os_type': os_type,
            'serial_number': lun_serial(self.serials), 'comment': comment or '', 'lun_maps': [],
            'status': {'state': 'online', 'container_state': 'online'}, 'enabled': True, 'class': 'regular',
            'create_time': time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime())}
        self.lun_by_path[(svm_name, path)] = lun_uuid
        return self.luns[lun_uuid]

    def add_igroup(self, svm_name, name, protocol='mixed', os_type='linux', initiators=()):
        svm = self.svm_named(svm_name)
        if not name or len(name) > 96:
            raise bad_field('Invalid value for field "name".')
        if (svm_name, name) in self.igroup_by_name:
            raise duplicate('An initiator group with the name "%s" already exists in SVM "%s".' % (name, svm_name))
        if protocol not in IGROUP_PROTOCOLS:
            raise bad_field('"%s" is an invalid value for field "protocol".' % protocol)
        if os_type not in OS_TYPES:
            raise bad_field('"%s" is an invalid value for field "os_type".' % os_type)
        igroup_uuid = new_uuid()
        self.igroups[igroup_uuid] = {'uuid': igroup_uuid, 'name': name, 'protocol': protocol, 'os_type': os_type,
                                     'svm': {'name': svm['name'], 'uuid': svm['uuid']}, 'initiators': [],
                                     'lun_maps': [], 'delete_on_unmap': False}
        self.igroup_by_name[(svm_name, name)] = igroup_uuid
        self.add_initiators(self.igroups[igroup_uuid], initiators)
        return self.igroups[igroup_uuid]

    @staticmethod
    def check_initiator(name):
        if not re.match(r'^(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9a-fA-F]{16}|naa\.[0-9a-fA-F]{16,32})$', name or ''):
            raise bad_field('"%s" is an invalid value for field "initiators.name". An iSCSI IQN has the form '
                            'iqn.yyyy-mm.reverse_domain_name:any.' % name)

    def add_initiators(self, igroup, names):
        existing = set(entry['name'] for entry in igroup['initiators'])
        for name in names:
            self.check_initiator(name)
            key = name.lower()
            if key in existing:
                raise duplicate('Initiator "%s" is already in initiator group "%s".' % (name, igroup['name']))
            existing.add(key)
            igroup['initiators'].append({'name': key})

    def map_lun(self, lun, igroup, lun_id=None):
        if (lun['uuid'], igroup['uuid']) in self.maps:
            raise duplicate('The LUN is already mapped to this initiator group.')
        used = set(entry['lun_id'] for key, entry in self.maps.items() if key[1] == igroup['uuid'])
        if lun_id is None:
            lun_id = next(number for number in range(MAX_LUN_ID + 1) if number not in used)
        if not isinstance(lun_id, int) or isinstance(lun_id, bool) or not 0 <= lun_id <= MAX_LUN_ID:
            raise bad_field('Field "logical_unit_number" must be in the range 0 to %d.' % MAX_LUN_ID)
        if lun_id in used:
            raise duplicate('The logical unit number %d is already in use in initiator group "%s".'
                            % (lun_id, igroup['name']))
        self.maps[(lun['uuid'], igroup['uuid'])] = {'lun_id': lun_id}
        self.refresh_map_views(lun, igroup)
        return lun_id

    def unmap_lun(self, lun, igroup):
        if self.maps.pop((lun['uuid'], igroup['uuid']), None) is None:
            raise ApiError(404, '5374922', 'The specified LUN map does not exist.')
        self.refresh_map_views(lun, igroup)

    def refresh_map_views(self, lun, igroup):
        lun['lun_maps'] = sorted(
            ({'igroup': {'name': self.igroups[ig]['name'], 'uuid': ig}, 'logical_unit_number': entry['lun_id']}
             for (lu, ig), entry in self.maps.items() if lu == lun['uuid']), key=lambda e: e['igroup']['name'])
        igroup['lun_maps'] = sorted(
            ({'lun': {'name': self.luns[lu]['name'], 'uuid': lu}, 'logical_unit_number': entry['lun_id']}
             for (lu, ig), entry in self.maps.items() if ig == igroup['uuid']), key=lambda e: e['logical_unit_number'])

    def map_record(self, key):
        lun, igroup = self.luns[key[0]], self.igroups[key[1]]
        return {'lun': {'name': lun['name'], 'uuid': lun['uuid']},
                'igroup': {'name': igroup['name'], 'uuid': igroup['uuid'], 'protocol': igroup['protocol'],
                           'os_type': igroup['os_type'], 'initiators': [e['name'] for e in igroup['initiators']]},
                'logical_unit_number': self.maps[key]['lun_id'], 'svm': dict(lun['svm'])}

    def delete_lun(self, lun):
        if lun['lun_maps']:
            raise ApiError(409, '5374865', 'The LUN is mapped; unmap it before deleting it.')
        del self.luns[lun['uuid']]
        del self.lun_by_path[(lun['svm']['name'], lun['name'])]

    def delete_igroup(self, igroup, allow_mapped=False):
        if igroup['lun_maps'] and not allow_mapped:
            raise ApiError(409, '1254213', 'The initiator group is mapped to one or more LUNs and '
                           'allow_delete_while_mapped has not been specified.')
        for key in [key for key in self.maps if key[1] == igroup['uuid']]:
            self.unmap_lun(self.luns[key[0]], igroup)
        del self.igroups[igroup['uuid']]
        del self.igroup_by_name[(igroup['svm']['name'], igroup['name'])]

    def create_snapshot(self, volume, name, comment=None, expiry_time=None, snap_uuid=None):
        if not name or '/' in name or len(name) > 255:
            raise bad_field('Invalid value for field "name".')
        if any(s['name'] == name and s['volume']['uuid'] == volume['uuid'] for s in self.snapshots.values()):
            raise duplicate('Snapshot copy "%s" of volume "%s" already exists.' % (name, volume['name']))
        snap_uuid = snap_uuid or new_uuid()
        content = dict((lun['location']['logical_unit'], {'size': lun['space']['size'], 'os_type': lun['os_type']})
                       for lun in self.luns.values() if lun['location']['volume']['uuid'] == volume['uuid'])
        self.snapshots[snap_uuid] = {'uuid': snap_uuid, 'name': name, 'create_time': time.strftime(
            '%Y-%m-%dT%H:%M:%S+00:00', time.gmtime()), 'volume': {'name': volume['name'], 'uuid': volume['uuid']},
            'svm': dict(volume['svm']), '_content': content}
        for key, value in (('comment', comment), ('expiry_time', expiry_time)):
            if value is not None:
                self.snapshots[snap_uuid][key] = value
        return self.snapshots[snap_uuid]

    def snapshot_named(self, volume, name):
        for snapshot in self.snapshots.values():
            if snapshot['volume']['uuid'] == volume['uuid'] and snapshot['name'] == name:
                return snapshot
        return None

    def clone_file(self, volume, source_path, destination):
        match = re.match(r'^(?:\./)?\.snapshot/([^/]+)/([^/]+)$', source_path or '')
        if match:
            snapshot = self.snapshot_named(volume, match.group(1))
            if snapshot is None:
                raise not_found('Snapshot copy "%s" does not exist in volume "%s".' % (match.group(1), volume['name']))
            source = snapshot['_content'].get(match.group(2))
        else:
            lun_uuid = self.lun_by_path.get((volume['svm']['name'], '/vol/%s/%s' % (volume['name'], source_path)))
            source = self.luns[lun_uuid] and {'size': self.luns[lun_uuid]['space']['size'],
                                              'os_type': self.luns[lun_uuid]['os_type']} if lun_uuid else None
        if source is None:
            raise not_found('Source file "%s" does not exist in volume "%s".' % (source_path, volume['name']))
        if not destination or '/' in destination:
            raise bad_field('Invalid value for field "destination_path".')
        self.add_lun(volume['svm']['name'], '/vol/%s/%s' % (volume['name'], destination), source['size'],
                     source['os_type'])

    def delete_snapshot(self, snapshot):
        del self.snapshots[snapshot['uuid']]

    # -- iSCSI credentials (REST /protocols/san/iscsi/credentials, ZAPI iscsi-initiator-*-auth) ----------
    # Initiator names are kept as given and found case-insensitively (IQNs compare case-insensitively).
    def add_default_credential(self, svm):
        """The "default" entry ONTAP creates with an SVM's iSCSI service: authentication none; it can be
        changed but not deleted (REST reference, "Initiator default")."""
        self.credentials[(svm['uuid'], 'default')] = new_credential(svm, 'default')

    def credential(self, svm_uuid, initiator):
        record = self.credentials.get((svm_uuid, initiator.lower()))
        if record is None:
            raise ApiError(404, CRED_NOT_FOUND, 'The iSCSI security credential does not exist on the specified SVM.',
                           zapi_errno=EISCSISECINITNOTFOUNDERROR)
        return record

    def add_credential(self, svm, initiator, auth_type, inbound=None, outbound=None):
        """``inbound``/``outbound``: (user, password), either may be None, or None when not given."""
        check_credential_initiator(initiator)
        key = (svm['uuid'], initiator.lower())
        if key in self.credentials:
            raise ApiError(409, CRED_EXISTS, 'An iSCSI security credential already exists for the specified '
                           'initiator.', zapi_errno=EDUPLICATEENTRY)
        record = new_credential(svm, initiator)
        apply_chap(record, auth_type, inbound, outbound)
        self.credentials[key] = record
        return record

    def delete_credential(self, record):
        if record['initiator'] == 'default':
            raise credential_refusal(CRED_DEFAULT_KEPT, 'The default security credential cannot be deleted for an SVM.')
        del self.credentials[(record['svm']['uuid'], record['initiator'].lower())]

    # -- jobs (REST) ------------------------------------------------------------------------------
    # A job is queued, then running, then done: its action runs when its time is up (job_queue_seconds,
    # job_run_seconds after it was queued) and is observed on the next request, as a client polls. The
    # test switch fail_next_job() makes the next job started fail with the given message and code.
    def fail_next_job(self, message, code):
        self.next_job_failure = (message, str(code))

    def start_job(self, description, action):
        job_uuid = new_uuid()
        self.jobs[job_uuid] = {'uuid': job_uuid, 'description': description, 'state': 'queued', 'message': '',
                               'code': 0, '_queued': time.time(), '_action': action,
                               '_fail': self.next_job_failure}
        self.next_job_failure = None
        return job_uuid

    def advance_jobs(self, finish=None):
        """Move jobs on by the clock; ``finish`` (a job uuid) runs that job to its end now."""
        now = time.time()
        for job in self.jobs.values():
            if job['state'] in ('success', 'failure'):
                continue
            forced = job['uuid'] == finish
            if job['state'] == 'queued' and (forced or now >= job['_queued'] + self.job_queue_seconds):
                started = now if forced else job['_queued'] + self.job_queue_seconds
                job['state'], job['_started'] = 'running', started
                job['start_time'] = time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime(started))
            if job['state'] == 'running' and (forced or now >= job['_started'] + self.job_run_seconds):
                self.run_job(job, now)

    @staticmethod
    def run_job(job, now):
        try:
            if job['_fail']:
                raise ApiError(500, job['_fail'][1], job['_fail'][0])
            job['_action']()
            job['state'], job['message'] = 'success', 'success'
        except ApiError as exc:
            job['state'], job['message'], job['code'] = 'failure', exc.message, int(exc.code)
            job['error'] = {'message': exc.message, 'code': exc.code}
        job['end_time'] = time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime(now))

    def job_record(self, job_uuid):
        self.advance_jobs()
        job = self.jobs.get(job_uuid)
        if job is None:
            raise not_found('entry doesn\'t exist')
        return dict((key, value) for key, value in job.items() if not key.startswith('_'))


# ---------------------------------------------------------------------------------------------------
# iSCSI credentials: the rules NetApp documents, shared by REST and ZAPI
# ---------------------------------------------------------------------------------------------------
# REST codes: the error tables of POST/PATCH/DELETE /protocols/san/iscsi/credentials in the ONTAP REST API
# reference (as generated into NetApp Trident, storage_drivers/ontap/api/rest/client/s_a_n/
# iscsi_credentials_{create,modify,delete}_responses.go). The rules: the iscsi_credentials overview of the
# same reference (netapp_ontap/resources/iscsi_credentials.py): passwords are write-only; outbound CHAP only
# with inbound CHAP; a password is any string or "0x"/"0X" and an even number of hex digits; and the CLI
# reference of "vserver iscsi security create": inbound and outbound passwords must differ. NetApp publishes
# no errno table for the ZAPI calls: each ZAPI errno below is the netapp-lib EISCSISEC*/EDUPLICATEENTRY of
# the same meaning, a stand-in.
CRED_EXISTS = '5374142'             # an iSCSI security credential already exists for the initiator (POST)
CRED_NOT_FOUND = '5374895'          # the credential does not exist on the SVM (PATCH, DELETE)
CRED_DEFAULT_KEPT = '5374148'       # the default credential cannot be deleted (DELETE)
CRED_BAD_HEX = '5374145'            # a 0x password without an even number of hex digits
CRED_SAME_PASSWORDS = '5374147'     # inbound and outbound passwords are the same
CRED_INBOUND_NEEDED = '5374149'     # chap without inbound user and password
CRED_OUTBOUND_PASSWORD = '5374150'  # outbound user without outbound password
CRED_CHAP_REFUSED = '5374900'       # chap properties with authentication_type none or deny
CRED_BAD_EUI = '5373977'            # eui. without exactly 16 hex digits (POST)
CRED_BAD_INITIATOR = '5373997'      # neither an iqn. nor an eui. name (POST)


def credential_refusal(code, message):
    return ApiError(400, code, message, zapi_errno=EISCSISECINVALIDINPUTERROR)


def new_credential(svm, initiator):
    """A credential without authentication; ``_secrets`` holds the passwords, never served (``_`` keys)."""
    return {'svm': {'name': svm['name'], 'uuid': svm['uuid']}, 'initiator': initiator, 'authentication_type': 'none',
            '_secrets': {}}


def check_credential_initiator(name):
    if name.lower().startswith('eui.'):
        if not re.match(r'^eui\.[0-9a-fA-F]{16}$', name):
            raise credential_refusal(CRED_BAD_EUI, 'The EUI-64 identifier field must be exactly 16 hexadecimal digits.')
    elif not re.match(r'^iqn\.\d{4}-\d{2}\.\S+$', name, re.IGNORECASE):
        raise credential_refusal(CRED_BAD_INITIATOR, 'The initiator name supplied in invalid. The valid initiator name '
                                 'formats are iqn.1995-08.com.example:string or eui.0123456789abcdef.')


def current_chap(record):
    """(inbound, outbound) of a credential: (user, password) pairs, or None."""
    chap = record.get('chap', {})
    return tuple((chap[side]['user'], record['_secrets'][side]) if side in chap else None
                 for side in ('inbound', 'outbound'))


def check_chap(auth_type, inbound, outbound):
    """Refuse a credential ONTAP refuses, as it would be after the change. No message names a password."""
    if auth_type != 'chap':
        if inbound or outbound:
            raise credential_refusal(CRED_CHAP_REFUSED, 'Setting the CHAP authentication properties are not '
                                     'supported with authentication types none or deny.')
        return
    if not inbound or not inbound[0] or not inbound[1]:
        raise credential_refusal(CRED_INBOUND_NEEDED, 'The inbound user and password properties are required for '
                                 'CHAP authentication.')
    if outbound and not outbound[1]:
        raise credential_refusal(CRED_OUTBOUND_PASSWORD, 'Outbound CHAP authentication requires an outbound password.')
    if outbound and not outbound[0]:
        # Not in NetApp's error tables (an outbound password without a user): the common code 2, a stand-in.
        raise credential_refusal('2', 'Missing value for required field "chap.outbound.user".')
    if not all(chap_password_ok(pair[1]) for pair in (inbound, outbound) if pair):
        raise credential_refusal(CRED_BAD_HEX, 'The iSCSI security password must contain an even number of valid hex '
                                 'digits.')
    if outbound and outbound[1] == inbound[1]:
        raise credential_refusal(CRED_SAME_PASSWORDS, 'The CHAP inbound and outbound passwords must be different.')


def chap_password_ok(password):
    """Any string, or "0x"/"0X" followed by an even number of hexadecimal digits."""
    if password[:2] not in ('0x', '0X'):
        return True
    digits = password[2:]
    return bool(digits) and len(digits) % 2 == 0 and all(char in string.hexdigits for char in digits)


def apply_chap(record, auth_type, inbound, outbound):
    """Check the credential as it would be, then make it so (nothing changes when it is refused)."""
    check_chap(auth_type, inbound, outbound)
    record['authentication_type'] = auth_type
    record.pop('chap', None)
    record['_secrets'] = {}
    if auth_type == 'chap':
        record['chap'] = {}
        for side, pair in (('inbound', inbound), ('outbound', outbound)):
            if pair:
                record['chap'][side] = {'user': pair[0]}
                record['_secrets'][side] = pair[1]


# ---------------------------------------------------------------------------------------------------
# REST
# ---------------------------------------------------------------------------------------------------
# The model of each resource (fields, types, nesting, read-only and create-only fields) is netapp-ontap's
# schema, loaded by ontap_rest_model when the RestApi is built; here: the key fields each collection GET
# always returns, and what the emulator implements beyond the schema's checks.
KEYS = {
    'cluster': ('name', 'uuid'), 'svm': ('name', 'uuid'), 'volume': ('name', 'uuid'), 'snapshot': ('name', 'uuid'),
    'lun': ('name', 'uuid'), 'igroup': ('name', 'uuid'), 'igroup_initiator': ('name',),
    'lun_map': ('lun.name', 'lun.uuid', 'igroup.name', 'igroup.uuid', 'svm.name', 'svm.uuid'), 'job': ('uuid',),
    'iscsi_credentials': ('svm.name', 'svm.uuid', 'initiator'),
}
# Fields the schemas accept in a body whose effect this test double implements; any other field the schema
# accepts is refused with code 3 (operation not supported) rather than silently ignored.
EMULATED = {
    ('lun', 'post'): ('svm.name', 'svm.uuid', 'name', 'os_type', 'space.size', 'space.guarantee.requested',
                      'comment', 'location.volume.name', 'location.logical_unit', 'qos_policy.name'),
    ('lun', 'patch'): ('space.size', 'space.guarantee.requested', 'comment', 'qos_policy.name', 'enabled'),
    ('igroup', 'post'): ('svm.name', 'svm.uuid', 'name', 'os_type', 'protocol', 'initiators.name',
                         'initiators.comment', 'igroups.name', 'igroups.uuid', 'comment', 'delete_on_unmap'),
    ('igroup', 'patch'): ('os_type', 'comment', 'delete_on_unmap'),
    ('igroup_initiator', 'post'): ('name', 'comment', 'records.name', 'records.comment'),
    ('igroup_initiator', 'patch'): ('comment',),
    ('lun_map', 'post'): ('svm.name', 'svm.uuid', 'lun.name', 'lun.uuid', 'igroup.name', 'igroup.uuid',
                          'logical_unit_number'),
    ('snapshot', 'post'): ('name', 'comment', 'expiry_time', 'svm.name', 'svm.uuid', 'volume.name', 'volume.uuid'),
    ('snapshot', 'patch'): ('name', 'comment', 'expiry_time'),
    ('file_clone', 'post'): ('volume.name', 'volume.uuid', 'source_path', 'destination_path', 'overwrite_destination',
                             'autodelete', 'is_backup'),
    ('iscsi_credentials', 'post'): ('svm.name', 'svm.uuid', 'initiator', 'authentication_type', 'chap.inbound.user',
                                    'chap.inbound.password', 'chap.outbound.user', 'chap.outbound.password'),
    ('iscsi_credentials', 'patch'): ('authentication_type', 'chap.inbound.user', 'chap.inbound.password',
                                     'chap.outbound.user', 'chap.outbound.password'),
}


CREDENTIAL_PATH = r'/api/protocols/san/iscsi/credentials/(?P<svm>[^/]+)/(?P<initiator>[^/]+)'


def leaf_paths(body, prefix=''):
    for key, value in body.items():
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, prefix + key + '.')
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for item in value:
                yield from leaf_paths(item, prefix + key + '.')
        else:
            yield prefix + key


def require(body, *paths):
    for path in paths:
        node = body
        for part in path.split('.'):
            if not isinstance(node, dict) or node.get(part) is None:
                raise rest_model.RestError(400, '2', 'Missing value for required field "%s".' % path, path)
            node = node[part]


def dig(body, path, default=None):
    node = body
    for part in path.split('.'):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


class RestApi(object):
    def __init__(self, state):
        self.state = state
        self.models = rest_model.models()
        uuid_part = r'(?P<%s>[^/]+)'
        self.routes = [
            ('GET', r'/api/cluster', self.get_cluster),
            ('GET', r'/api/cluster/jobs', self.get_jobs),
            ('GET', r'/api/cluster/jobs/' + uuid_part % 'job', self.get_job),
            ('GET', r'/api/svm/svms', self.get_svms),
            ('GET', r'/api/svm/svms/' + uuid_part % 'svm', self.get_svm),
            ('GET', r'/api/storage/volumes', self.get_volumes),
            ('GET', r'/api/storage/volumes/' + uuid_part % 'vol', self.get_volume),
            ('GET', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots', self.get_snapshots),
            ('POST', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots', self.post_snapshot),
            ('GET', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots/(?P<snap>[^/]+)', self.get_snapshot),
            ('PATCH', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots/(?P<snap>[^/]+)', self.patch_snapshot),
            ('DELETE', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots/(?P<snap>[^/]+)', self.delete_snapshot),
            ('GET', r'/api/storage/luns', self.get_luns),
            ('POST', r'/api/storage/luns', self.post_lun),
            ('GET', r'/api/storage/luns/' + uuid_part % 'lun', self.get_lun),
            ('PATCH', r'/api/storage/luns/' + uuid_part % 'lun', self.patch_lun),
            ('DELETE', r'/api/storage/luns/' + uuid_part % 'lun', self.delete_lun),
            ('POST', r'/api/storage/file/clone', self.post_clone),
            ('GET', r'/api/protocols/san/igroups', self.get_igroups),
            ('POST', r'/api/protocols/san/igroups', self.post_igroup),
            ('GET', r'/api/protocols/san/igroups/' + uuid_part % 'ig', self.get_igroup),
            ('PATCH', r'/api/protocols/san/igroups/' + uuid_part % 'ig', self.patch_igroup),
            ('DELETE', r'/api/protocols/san/igroups/' + uuid_part % 'ig', self.delete_igroup),
            ('GET', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators', self.get_initiators),
            ('POST', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators', self.post_initiators),
            ('GET', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators/(?P<name>[^/]+)', self.get_initiator),
            ('PATCH', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators/(?P<name>[^/]+)', self.patch_initiator),
            ('DELETE', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators/(?P<name>[^/]+)', self.delete_initiator),
            ('GET', r'/api/protocols/san/lun-maps', self.get_maps),
            ('POST', r'/api/protocols/san/lun-maps', self.post_map),
            ('GET', r'/api/protocols/san/lun-maps/(?P<lun>[^/]+)/(?P<ig>[^/]+)', self.get_map),
            ('DELETE', r'/api/protocols/san/lun-maps/(?P<lun>[^/]+)/(?P<ig>[^/]+)', self.delete_map),
            ('GET', r'/api/protocols/san/iscsi/credentials', self.get_credentials),
            ('POST', r'/api/protocols/san/iscsi/credentials', self.post_credentials),
            ('GET', CREDENTIAL_PATH, self.get_credential),
            ('PATCH', CREDENTIAL_PATH, self.patch_credential),
            ('DELETE', CREDENTIAL_PATH, self.delete_credential),
        ]

    def dispatch(self, method, path, query, body):
        self.state.advance_jobs()
        known_path = False
        for route_method, pattern, handler in self.routes:
            match = re.match('^%s$' % pattern, path)
            if match:
                known_path = True
                if route_method == method:
                    params = dict((k, unquote(v)) for k, v in match.groupdict().items())
                    return handler(query=query, body=rest_model.expand_body(body), path=path, **params)
        if known_path:
            raise ApiError(405, '3', 'The method %s is not supported on %s.' % (method, path))
        raise ApiError(404, '3', 'API not found: %s' % path)

    # -- shared steps -----------------------------------------------------------------------------
    @staticmethod
    def no_body(body):
        if body:
            raise bad_field('A request body is not allowed for this operation.')

    def checked_body(self, kind, op, body):
        """The body as the schema allows it for this operation, limited to what the emulator implements."""
        self.models[kind].check_body(op, body)
        emulated = EMULATED.get((kind, op), ())
        for path in leaf_paths(body):
            if path not in emulated:
                raise rest_model.RestError(400, '3', 'Field "%s" is valid in ONTAP but not emulated by this test '
                                           'double.' % path, path)
        return body

    def collection(self, kind, records, query, path):
        body = rest_model.query_collection(self.models[kind], records, query, path, KEYS[kind], self.state.page_size)
        for record in body.get('records', ()):
            self.conform(kind, record)
        return 200, body

    def instance(self, kind, record, query):
        rest_model.check_params(query, ('fields', 'return_timeout'))
        fields = rest_model.field_list(self.models[kind], query)
        result = rest_model.project(record, fields or ['*'], KEYS[kind])
        return 200, self.conform(kind, result)

    def conform(self, kind, record):
        """What the emulator serves is as the schema says; anything else is a bug of the emulator (500)."""
        problems = self.models[kind].check_record(record)
        if problems:
            raise ApiError(500, '3', 'emulator bug: %s record does not match netapp-ontap\'s schema: %s'
                           % (kind, '; '.join(problems)))
        return record

    def created(self, kind, record, return_records, location):
        """201 with the new object's URL in the Location header (ONTAP REST API reference, "Interpret an ONTAP
        REST API response"), and the record itself with return_records=true."""
        headers = {'Location': location}
        if not return_records:
            return 201, {}, headers
        return 201, {'num_records': 1, 'records': [rest_model.project(record, ['*'], KEYS[kind])]}, headers

    def job_reply(self, job_uuid, return_timeout, done_status, location=None):
        """202 with the job; with a return_timeout ONTAP waits for the job (here: runs it to its end) and
        answers done_status, or the job's error when it failed."""
        headers = {'Location': location} if location else {}
        if return_timeout:
            self.state.advance_jobs(finish=job_uuid)
            job = self.state.jobs[job_uuid]
            if job['state'] == 'failure':
                raise ApiError(400, job['error']['code'], job['error']['message'])
            return done_status, {'job': self.job_link(job_uuid)}, headers
        return 202, {'job': self.job_link(job_uuid)}, headers

    @staticmethod
    def job_link(job_uuid):
        return {'uuid': job_uuid, '_links': {'self': {'href': '/api/cluster/jobs/%s' % job_uuid}}}

    def svm_of(self, body):
        """The SVM a body names by svm.name and/or svm.uuid (both must agree)."""
        name, svm_uuid = dig(body, 'svm.name'), dig(body, 'svm.uuid')
        svm = self.state.svms.get(svm_uuid) if svm_uuid else self.state.svm_named(name)
        if svm is None or (name is not None and svm['name'] != name):
            raise ApiError(404, '2621462', 'SVM "%s" does not exist.' % (name or svm_uuid), target='svm')
        return svm

    # -- cluster/jobs/svms/volumes ----------------------------------------------------------------
    def cluster_record(self):
        generation, major, minor = self.state.version
        return {'name': 'emulator-cluster', 'uuid': '00000000-0000-0000-0000-0000000000e1', 'version': {
            'full': 'NetApp Release %d.%d.%d: emulated (test double)' % self.state.version,
            'generation': generation, 'major': major, 'minor': minor}}

    def get_cluster(self, query, body, path):
        return self.instance('cluster', self.cluster_record(), query)

    def get_jobs(self, query, body, path):
        return self.collection('job', [self.state.job_record(key) for key in self.state.jobs], query, path)

    def get_job(self, query, body, path, job):
        return self.instance('job', self.state.job_record(job), query)

    def get_svms(self, query, body, path):
        return self.collection('svm', list(self.state.svms.values()), query, path)

    def get_svm(self, query, body, path, svm):
        if svm not in self.state.svms:
            raise not_found('entry doesn\'t exist')
        return self.instance('svm', self.state.svms[svm], query)

    def get_volumes(self, query, body, path):
        return self.collection('volume', list(self.state.volumes.values()), query, path)

    def get_volume(self, query, body, path, vol):
        return self.instance('volume', self.volume(vol), query)

    def volume(self, vol_uuid):
        if vol_uuid not in self.state.volumes:
            raise not_found('entry doesn\'t exist')
        return self.state.volumes[vol_uuid]

    # -- snapshots ----------------------------------------------------------------------------------
    def snapshot(self, volume, snap):
        snapshot = self.state.snapshots.get(snap)
        if snapshot is None or snapshot['volume']['uuid'] != volume['uuid']:
            raise not_found('entry doesn\'t exist')
        return snapshot

    def get_snapshots(self, query, body, path, vol):
        volume = self.volume(vol)
        records = [s for s in self.state.snapshots.values() if s['volume']['uuid'] == volume['uuid']]
        return self.collection('snapshot', records, query, path)

    def get_snapshot(self, query, body, path, vol, snap):
        return self.instance('snapshot', self.snapshot(self.volume(vol), snap), query)

    def post_snapshot(self, query, body, path, vol):
        return_timeout, dummy, dummy = rest_model.write_params(query)
        volume = self.volume(vol)
        self.checked_body('snapshot', 'post', body)
        require(body, 'name')
        if 'svm' in body and self.svm_of(body)['uuid'] != volume['svm']['uuid']:
            raise bad_field('The SVM of the body is not the SVM of volume "%s".' % volume['name'])
        for key in ('name', 'uuid'):
            if dig(body, 'volume.' + key) not in (None, volume[key]):
                raise bad_field('volume.%s does not match the volume of the path.' % key)
        name = body['name']
        if self.state.snapshot_named(volume, name):
            raise duplicate('Snapshot copy "%s" of volume "%s" already exists.' % (name, volume['name']))
        snap_uuid = new_uuid()
        job = self.state.start_job('POST /api/storage/volumes/%s/snapshots' % vol, lambda: self.state.create_snapshot(
            volume, name, body.get('comment'), body.get('expiry_time'), snap_uuid))
        return self.job_reply(job, return_timeout, 201, '%s/%s' % (path, snap_uuid))

    def patch_snapshot(self, query, body, path, vol, snap):
        return_timeout, dummy, dummy = rest_model.write_params(query)
        snapshot = self.snapshot(self.volume(vol), snap)
        self.checked_body('snapshot', 'patch', body)
        if body.get('name') not in (None, snapshot['name']) and self.state.snapshot_named(
                self.volume(vol), body['name']):
            raise duplicate('Snapshot copy "%s" already exists.' % body['name'])

        def change():
            for key in ('name', 'comment', 'expiry_time'):
                if key in body:
                    snapshot[key] = body[key]
        return self.job_reply(self.state.start_job('PATCH snapshot', change), return_timeout, 200)

    def delete_snapshot(self, query, body, path, vol, snap):
        return_timeout, dummy, dummy = rest_model.write_params(query)
        self.no_body(body)
        snapshot = self.snapshot(self.volume(vol), snap)
        job = self.state.start_job('DELETE snapshot', lambda: self.state.delete_snapshot(snapshot))
        return self.job_reply(job, return_timeout, 200)

    # -- LUNs ---------------------------------------------------------------------------------------
    def get_luns(self, query, body, path):
        return self.collection('lun', list(self.state.luns.values()), query, path)

    def lun(self, lun_uuid):
        if lun_uuid not in self.state.luns:
            raise ApiError(404, '5374875', 'The specified LUN does not exist or is not accessible to the caller.')
        return self.state.luns[lun_uuid]

    def get_lun(self, query, body, path, lun):
        return self.instance('lun', self.lun(lun), query)

    def post_lun(self, query, body, path):
        dummy, return_records, dummy = rest_model.write_params(query)
        self.checked_body('lun', 'post', body)
        require(body, 'os_type', 'space.size')
        svm = self.svm_of(body)
        name = body.get('name')
        if name is None:
            require(body, 'location.volume.name', 'location.logical_unit')
            name = '/vol/%s/%s' % (body['location']['volume']['name'], body['location']['logical_unit'])
        elif body.get('location'):
            raise bad_field('Fields "name" and "location" cannot be given together.')
        record = self.state.add_lun(svm['name'], name, body['space']['size'], body['os_type'], body.get('comment'))
        requested = dig(body, 'space.guarantee.requested')
        if requested is not None:
            record['space']['guarantee'] = {'requested': requested, 'reserved': requested}
        if dig(body, 'qos_policy.name') is not None:
            record['qos_policy'] = {'name': body['qos_policy']['name']}
        return self.created('lun', record, return_records, '%s/%s' % (path, record['uuid']))

    def patch_lun(self, query, body, path, lun):
        rest_model.write_params(query)
        record = self.lun(lun)
        self.checked_body('lun', 'patch', body)
        size = dig(body, 'space.size')
        if size is not None and size < record['space']['size']:
            raise bad_field('Reducing the size of a LUN requires the CLI; requested %r.' % (size,))
        if len(body.get('comment') or '') > 254:
            raise bad_field('Field "comment" is longer than 254 characters.')
        if size is not None:
            record['space']['size'] = -(-size // LUN_ROUNDING) * LUN_ROUNDING
        requested = dig(body, 'space.guarantee.requested')
        if requested is not None:
            record['space']['guarantee'] = {'requested': requested, 'reserved': requested}
        if 'comment' in body:
            record['comment'] = body['comment'] or ''
        if dig(body, 'qos_policy.name') is not None:
            record['qos_policy'] = {'name': body['qos_policy']['name']}
        if body.get('enabled') is not None:
            record['enabled'] = body['enabled']
        return 200, {}

    def delete_lun(self, query, body, path, lun):
        dummy, dummy, flags = rest_model.write_params(query, ('allow_delete_while_mapped',))
        self.no_body(body)
        record = self.lun(lun)
        if flags['allow_delete_while_mapped']:
            for key in [key for key in self.state.maps if key[0] == record['uuid']]:
                self.state.unmap_lun(record, self.state.igroups[key[1]])
        self.state.delete_lun(record)
        return 200, {}

    def post_clone(self, query, body, path):
        return_timeout, dummy, dummy = rest_model.write_params(query)
        self.checked_body('file_clone', 'post', body)
        require(body, 'volume', 'source_path', 'destination_path')
        if dig(body, 'volume.uuid'):
            volume = self.volume(body['volume']['uuid'])
            if body['volume'].get('name') not in (None, volume['name']):
                raise bad_field('volume.name "%s" does not match volume.uuid.' % body['volume']['name'])
        else:
            volume = next((v for v in self.state.volumes.values() if v['name'] == dig(body, 'volume.name')), None)
            if volume is None:
                raise not_found('The specified volume "%s" was not found.' % dig(body, 'volume.name'))
        source, destination = body['source_path'], body['destination_path']
        job = self.state.start_job('POST /api/storage/file/clone',
                                   lambda: self.state.clone_file(volume, source, destination))
        return self.job_reply(job, return_timeout, 201)

    # -- igroups ------------------------------------------------------------------------------------
    def get_igroups(self, query, body, path):
        return self.collection('igroup', list(self.state.igroups.values()), query, path)

    def igroup(self, ig_uuid):
        if ig_uuid not in self.state.igroups:
            raise ApiError(404, '5374852', 'The initiator group does not exist.')
        return self.state.igroups[ig_uuid]

    def get_igroup(self, query, body, path, ig):
        return self.instance('igroup', self.igroup(ig), query)

    def post_igroup(self, query, body, path):
        dummy, return_records, dummy = rest_model.write_params(query)
        self.checked_body('igroup', 'post', body)
        require(body, 'name', 'os_type')
        svm = self.svm_of(body)
        if body.get('initiators') and body.get('igroups'):
            raise bad_field('An initiator group cannot contain both initiators and nested initiator groups.')
        children = []
        for entry in body.get('igroups') or []:
            child_uuid = entry.get('uuid') or self.state.igroup_by_name.get((svm['name'], entry.get('name')))
            if child_uuid not in self.state.igroups:
                raise ApiError(404, '5374852', 'The initiator group does not exist.', target='igroups')
            children.append({'name': self.state.igroups[child_uuid]['name'], 'uuid': child_uuid})
        initiators = []
        for entry in body.get('initiators') or []:
            require(entry, 'name')
            initiators.append(entry['name'])
        record = self.state.add_igroup(svm['name'], body['name'], body.get('protocol', 'mixed'), body['os_type'],
                                       initiators)
        for key in ('comment', 'delete_on_unmap'):
            if body.get(key) is not None:
                record[key] = body[key]
        if children:
            record['igroups'] = children
        return self.created('igroup', record, return_records, '%s/%s' % (path, record['uuid']))

    def patch_igroup(self, query, body, path, ig):
        rest_model.write_params(query)
        record = self.igroup(ig)
        self.checked_body('igroup', 'patch', body)
        for key in ('os_type', 'comment', 'delete_on_unmap'):
            if key in body:
                record[key] = body[key]
        return 200, {}

    def delete_igroup(self, query, body, path, ig):
        dummy, dummy, flags = rest_model.write_params(query, ('allow_delete_while_mapped',))
        self.no_body(body)
        self.state.delete_igroup(self.igroup(ig), flags['allow_delete_while_mapped'])
        return 200, {}

    def initiator_records(self, igroup):
        return [dict(entry, igroup={'name': igroup['name'], 'uuid': igroup['uuid']}) for entry in igroup['initiators']]

    def get_initiators(self, query, body, path, ig):
        return self.collection('igroup_initiator', self.initiator_records(self.igroup(ig)), query, path)

    def initiator(self, igroup, name):
        for entry in igroup['initiators']:
            if entry['name'] == name.lower():
                return entry
        raise ApiError(404, '5374034', 'An initiator is not a member of the initiator group.')

    def get_initiator(self, query, body, path, ig, name):
        igroup = self.igroup(ig)
        self.initiator(igroup, name)
        record = next(r for r in self.initiator_records(igroup) if r['name'] == name.lower())
        return self.instance('igroup_initiator', record, query)

    def post_initiators(self, query, body, path, ig):
        dummy, return_records, dummy = rest_model.write_params(query)
        record = self.igroup(ig)
        self.checked_body('igroup_initiator', 'post', body)
        if ('name' in body) == ('records' in body):
            raise bad_field('Exactly one of "name" or "records" must be supplied.')
        if record.get('igroups'):
            raise bad_field('Initiators cannot be added to an initiator group that contains nested initiator '
                            'groups.')
        entries = [body] if 'name' in body else body['records']
        for entry in entries:
            require(entry, 'name')
        self.state.add_initiators(record, [entry['name'] for entry in entries])
        for entry in entries:
            if entry.get('comment') is not None:
                self.initiator(record, entry['name'])['comment'] = entry['comment']
        headers = {'Location': '%s/%s' % (path, quote(entries[0]['name'].lower(), safe=''))} if 'name' in body else {}
        if not return_records:
            return 201, {}, headers
        added = set(entry['name'].lower() for entry in entries)
        shown = [r for r in self.initiator_records(record) if r['name'] in added]
        return 201, {'num_records': len(shown), 'records': shown}, headers

    def patch_initiator(self, query, body, path, ig, name):
        rest_model.write_params(query)
        entry = self.initiator(self.igroup(ig), name)
        self.checked_body('igroup_initiator', 'patch', body)
        if 'comment' in body:
            entry['comment'] = body['comment']
        return 200, {}

    def delete_initiator(self, query, body, path, ig, name):
        dummy, dummy, flags = rest_model.write_params(query, ('allow_delete_while_mapped',))
        self.no_body(body)
        record = self.igroup(ig)
        if record['lun_maps'] and not flags['allow_delete_while_mapped']:
            raise ApiError(409, '1254213', 'The initiator group is mapped to one or more LUNs and '
                           'allow_delete_while_mapped has not been specified.')
        entry = self.initiator(record, name)
        record['initiators'].remove(entry)
        return 200, {}

    # -- LUN maps -----------------------------------------------------------------------------------
    def get_maps(self, query, body, path):
        return self.collection('lun_map', [self.state.map_record(key) for key in self.state.maps], query, path)

    def get_map(self, query, body, path, lun, ig):
        if (lun, ig) not in self.state.maps:
            raise ApiError(404, '5374922', 'The specified LUN map does not exist.')
        return self.instance('lun_map', self.state.map_record((lun, ig)), query)

    def post_map(self, query, body, path):
        dummy, return_records, dummy = rest_model.write_params(query)
        self.checked_body('lun_map', 'post', body)
        require(body, 'lun', 'igroup')
        svm = self.svm_of(body)
        svm_name = svm['name']
        lun_uuid = dig(body, 'lun.uuid') or self.state.lun_by_path.get((svm_name, dig(body, 'lun.name')))
        if lun_uuid not in self.state.luns:
            raise ApiError(404, '5374875', 'The specified LUN does not exist or is not accessible to the caller.',
                           target='lun')
        ig_uuid = dig(body, 'igroup.uuid') or self.state.igroup_by_name.get((svm_name, dig(body, 'igroup.name')))
        if ig_uuid not in self.state.igroups:
            raise ApiError(404, '5374878', 'The specified initiator group does not exist, is not accessible to the '
                           'caller, or is not in the same SVM as the specified LUN.', target='igroup')
        self.state.map_lun(self.state.luns[lun_uuid], self.state.igroups[ig_uuid], body.get('logical_unit_number'))
        return self.created('lun_map', self.state.map_record((lun_uuid, ig_uuid)), return_records,
                            '%s/%s/%s' % (path, lun_uuid, ig_uuid))

    def delete_map(self, query, body, path, lun, ig):
        rest_model.write_params(query)
        self.no_body(body)
        self.state.unmap_lun(self.lun(lun), self.igroup(ig))
        return 200, {}

    # -- iSCSI credentials --------------------------------------------------------------------------
    def get_credentials(self, query, body, path):
        return self.collection('iscsi_credentials', list(self.state.credentials.values()), query, path)

    def credential(self, svm, initiator):
        if svm not in self.state.svms:
            raise ApiError(404, '2621462', 'An SVM with the specified UUID does not exist.')
        return self.state.credential(svm, initiator)

    def get_credential(self, query, body, path, svm, initiator):
        return self.instance('iscsi_credentials', self.credential(svm, initiator), query)

    def post_credentials(self, query, body, path):
        dummy, return_records, dummy = rest_model.write_params(query)
        self.checked_body('iscsi_credentials', 'post', body)
        if 'svm' not in body:
            raise ApiError(400, '2621707', 'No SVM was specified. Either "svm.name" or "svm.uuid" must be supplied.')
        require(body, 'initiator', 'authentication_type')
        svm = self.svm_of(body)
        record = self.state.add_credential(svm, body['initiator'], body['authentication_type'],
                                           chap_pair(body, 'inbound'), chap_pair(body, 'outbound'))
        location = '%s/%s/%s' % (path, svm['uuid'], quote(record['initiator'], safe=''))
        return self.created('iscsi_credentials', record, return_records, location)

    def patch_credential(self, query, body, path, svm, initiator):
        """Changes what the body names. "To clear previously set outbound CHAP credentials, set property
        chap.outbound.user to an empty string in PATCH" (REST reference); chap with none or deny is refused;
        a change to none or deny drops the CHAP users and passwords."""
        rest_model.write_params(query)
        record = self.credential(svm, initiator)
        clear_outbound = dig(body, 'chap.outbound.user') == ''
        if clear_outbound:
            body = without_path(body, ('chap', 'outbound', 'user'))
        self.checked_body('iscsi_credentials', 'patch', body)
        auth_type = body.get('authentication_type', record['authentication_type'])
        new_inbound, new_outbound = chap_pair(body, 'inbound'), chap_pair(body, 'outbound')
        if auth_type == 'chap':
            inbound, outbound = current_chap(record)
            inbound = new_inbound or inbound
            if clear_outbound:
                outbound = None
            elif new_outbound and new_outbound[0] is None and outbound:
                outbound = (outbound[0], new_outbound[1])  # a new password for the same outbound user
            else:
                outbound = new_outbound or outbound
            new_inbound, new_outbound = inbound, outbound
        apply_chap(record, auth_type, new_inbound, new_outbound)
        return 200, {}

    def delete_credential(self, query, body, path, svm, initiator):
        rest_model.write_params(query)
        self.no_body(body)
        self.state.delete_credential(self.credential(svm, initiator))
        return 200, {}


def chap_pair(body, side):
    """(user, password) of chap.inbound or chap.outbound in a body, None when the body has none."""
    node = dig(body, 'chap.' + side)
    return None if node is None else (node.get('user'), node.get('password'))


def without_path(body, parts):
    """The body without the key at ``parts``, and without the objects that leaves empty."""
    if len(parts) == 1:
        return dict((key, value) for key, value in body.items() if key != parts[0])
    inner = without_path(body[parts[0]], parts[1:])
    rest = dict((key, value) for key, value in body.items() if key != parts[0])
    if inner:
        rest[parts[0]] = inner
    return rest


# ---------------------------------------------------------------------------------------------------
# ZAPI
# ---------------------------------------------------------------------------------------------------
# Errnos: the names and numbers are netapp-lib's (PyPI netapp-lib 2021.6.25, netapp_lib/api/zapi/errors.py,
# NetApp's table of ONTAP error codes); the reason texts "Unable to find API: <api>", "Extra input: <element>",
# 'Invalid value specified for "<element>" element within "<api>": "<value>"', "Specified vserver not found"
# and "entry doesn't exist" are the ones the NetApp Ansible collection (netapp.ontap) matches or quotes
# (plugins/module_utils/netapp.py classify_zapi_exception and is_zapi_missing_vserver_error,
# plugins/modules/na_ontap_cluster.py create_cluster), its issue #112 and NetApp/netappdvp issue #92.
EONTAPI_EBUSY = '16'                        # errors.py EONTAPI_EBUSY; the emulator's test switch (busy_next)
EAPIERROR = '13001'                         # errors.py EAPIERROR: request is not ZAPI XML
EAPINOTFOUND = '13005'                      # errors.py EAPINOTFOUND: "Unable to find API: <api>"
EAPIMISSINGARGUMENT = '13006'               # errors.py EAPIMISSINGARGUMENT: a required input is missing
EINVALIDINPUTERROR = '13115'                # errors.py EINVALIDINPUTERROR: "Extra input", "Invalid value"
EOBJECTNOTFOUND = '15661'                   # errors.py EOBJECTNOTFOUND: "entry doesn't exist"
EVSERVERNOTFOUND = '15698'                  # errors.py EVSERVERNOTFOUND: "Specified vserver not found"
ESNAPSHOTEXISTS = '13020'                   # errors.py ESNAPSHOTEXISTS
ESNAPSHOTDOESNOTEXIST = '13021'             # errors.py ESNAPSHOTDOESNOTEXIST
EFILENOTFOUND = '13113'                     # errors.py EFILENOTFOUND: clone source not in the Snapshot copy
EVOLUMEDOESNOTEXIST = '13040'               # errors.py EVOLUMEDOESNOTEXIST
EVDISK_ERROR_NO_SUCH_INITGROUP = '9003'     # errors.py
EVDISK_ERROR_INITGROUP_EXISTS = '9004'      # errors.py
EVDISK_ERROR_NOT_VALID_ISCSI_NAME = '9006'  # errors.py
EVDISK_ERROR_NODE_NOT_IN_INITGROUP = '9007'  # errors.py
EVDISK_ERROR_INITGROUP_HAS_NODE = '9008'    # errors.py
EVDISK_ERROR_LUN_MAPPING_CONFLICT = '9009'  # errors.py: already mapped, or the LUN id is in use
EVDISK_ERROR_VDISK_EXISTS = '9012'          # errors.py
EVDISK_ERROR_VDISK_EXPORTED = '9013'        # errors.py: LUN is mapped
EVDISK_ERROR_NO_SUCH_LUNMAP = '9016'        # errors.py
EVDISK_ERROR_NO_SUCH_VDISK = '9017'         # errors.py
EVDISK_ERROR_INITGROUP_MAPS_EXIST = '9029'  # errors.py: igroup (initiator) change while mapped, without force
EVDISK_ERROR_MUST_SPECIFY_F_FLAG = '9033'   # errors.py: shrinking a LUN without force
EVDISK_ERROR_NO_SUCH_VOLUME = '9036'        # errors.py: LUN path in a volume that does not exist
EISCSISECINVALIDAUTHTYPE = '13109'          # errors.py: auth-type not CHAP/none/deny, or not CHAP for modify
EISCSISECINVALIDINPUTERROR = '13110'        # errors.py: iSCSI security input refused
EISCSISECINITNOTFOUNDERROR = '13112'        # errors.py: no iSCSI security entry for the initiator
EDUPLICATEENTRY = '13130'                   # errors.py: the initiator has an entry already

# Inputs of each API: (required, optional). Elements as in the ONTAPI reference; the optional ones are
# those ONTAP clients send (netapp.ontap's na_ontap_lun, _lun_map, _igroup, _igroup_initiator, _snapshot;
# the ONTAPI-to-REST map, docs.netapp.com/us-en/ontap-restmap, for clone-create). Unknown elements are
# refused with EINVALIDINPUTERROR "Extra input: <element>", as ONTAP refuses them.
ITER_INPUTS = ((), ('query', 'max-records', 'tag', 'desired-attributes'))
# iscsi-initiator-*-auth inputs (ONTAPI reference, as in NetApp's Manageability SDK bindings and Trident's azgo
# types): the plain-text secrets are passphrase/outbound-passphrase (Trident sends them); password/
# outbound-password carry an encoded form (libstoragemgmt's ONTAP plugin RC4-encodes it), not emulated, nor
# are RADIUS and initiator address ranges: refused as "not emulated", never silently ignored.
CHAP_INPUTS = ('user-name', 'passphrase', 'outbound-user-name', 'outbound-passphrase')
CHAP_NOT_EMULATED = ('password', 'outbound-password', 'radius', 'initiator-address-ranges')
API_INPUTS = {
    'system-get-ontapi-version': ((), ()),
    'vserver-get-iter': ITER_INPUTS,
    'volume-get-iter': ITER_INPUTS,
    'igroup-get-iter': ITER_INPUTS,
    'igroup-create': (('initiator-group-name',), ('initiator-group-type', 'os-type', 'ostype', 'bind-portset')),
    'igroup-add': (('initiator-group-name', 'initiator'), ('force',)),
    'igroup-remove': (('initiator-group-name', 'initiator'), ('force',)),
    'igroup-set-os-type': (('initiator-group-name', 'os-type'), ()),
    'igroup-rename': (('initiator-group-name', 'initiator-group-new-name'), ()),
    'igroup-destroy': (('initiator-group-name',), ('force',)),
    'lun-get-iter': ITER_INPUTS,
    'lun-create-by-size': (('path', 'size'), ('ostype', 'type', 'space-reservation-enabled',
                                              'space-allocation-enabled', 'comment', 'use-exact-size',
                                              'qos-policy-group', 'qos-adaptive-policy-group', 'class',
                                              'prefix-size')),
    'lun-resize': (('path', 'size'), ('force',)),
    'lun-destroy': (('path',), ('force', 'destroy-fenced-lun')),
    'lun-set-comment': (('path', 'comment'), ()),
    'lun-map': (('path', 'initiator-group'), ('lun-id', 'force', 'additional-reporting-node')),
    'lun-unmap': (('path', 'initiator-group'), ()),
    'lun-map-get-iter': ITER_INPUTS,
    'lun-map-list-info': (('path',), ()),
    'snapshot-get-iter': ITER_INPUTS,
    'snapshot-create': (('volume', 'snapshot'), ('async', 'comment', 'snapmirror-label', 'expiry-time')),
    'snapshot-delete': (('volume', 'snapshot'), ('ignore-owners', 'snapshot-instance-uuid')),
    'iscsi-initiator-auth-get-iter': ITER_INPUTS,
    'iscsi-initiator-get-auth': (('initiator',), ()),
    'iscsi-initiator-get-default-auth': ((), ()),
    'iscsi-initiator-add-auth': (('initiator', 'auth-type'), CHAP_INPUTS + CHAP_NOT_EMULATED),
    'iscsi-initiator-modify-chap-params': (('initiator',), CHAP_INPUTS + ('remove-outbound',) + CHAP_NOT_EMULATED[:3]),
    'iscsi-initiator-set-default-auth': (('auth-type',), CHAP_INPUTS + CHAP_NOT_EMULATED[:3]),
    'iscsi-initiator-delete-auth': (('initiator',), ()),
    'clone-create': (('volume', 'source-path'), (
        'destination-path', 'snapshot-name', 'space-reserve', 'autodelete', 'block-ranges', 'bypass-license-check',
        'bypass-throttle', 'destination-exists', 'destination-volume', 'fixed-block-count', 'ignore-locks',
        'ignore-streams', 'is-backup', 'is-fixed-block-count', 'is-vvol-backup', 'lun-serial-number',
        'nosplit-entry', 'qos-adaptive-policy-group-name', 'qos-policy-group-name', 'token-uuid')),
}
# Fields of each *-info type a query may name (a nested type maps to its own fields).
INFO_FIELDS = {
    'vserver-info': ('vserver-name', 'uuid', 'vserver-type', 'state', 'operational-state', 'root-volume',
                     'vserver-subtype', 'comment'),
    'volume-attributes': {'volume-id-attributes': ('name', 'owning-vserver-name', 'uuid', 'instance-uuid',
                                                   'junction-path', 'type', 'containing-aggregate-name', 'style'),
                          'volume-state-attributes': ('state', 'is-node-root', 'is-vserver-root')},
    'initiator-group-info': ('initiator-group-name', 'initiator-group-type', 'initiator-group-os-type',
                             'initiator-group-uuid', 'initiators', 'vserver', 'initiator-group-alua-enabled',
                             'initiator-group-portset-name', 'initiator-group-use-partner', 'lun-id'),
    'lun-info': ('path', 'volume', 'qtree', 'lun', 'size', 'size-used', 'online', 'mapped', 'multiprotocol-type',
                 'serial-number', 'comment', 'uuid', 'vserver', 'state', 'node', 'is-space-reservation-enabled',
                 'is-space-alloc-enabled', 'qos-policy-group', 'qos-adaptive-policy-group', 'is-clone',
                 'creation-timestamp', 'class', 'share-state', 'alignment', 'block-size'),
    'lun-map-info': ('path', 'initiator-group', 'initiator-group-uuid', 'lun-id', 'lun-uuid', 'node', 'vserver',
                     'reporting-nodes'),
    'iscsi-security-entry-info': ('initiator', 'auth-type', 'user-name', 'outbound-user-name', 'vserver',
                                  'auth-chap-policy', 'initiator-address-ranges'),
    'snapshot-info': ('name', 'volume', 'vserver', 'access-time', 'snapshot-instance-uuid', 'comment',
                      'snapmirror-label', 'busy', 'dependency', 'state', 'expiry-time', 'total', 'cumulative-total',
                      'is-constituent-snapshot', 'snapshot-version'),
}
ITER_INFO = {'vserver-get-iter': 'vserver-info', 'volume-get-iter': 'volume-attributes',
             'igroup-get-iter': 'initiator-group-info', 'lun-get-iter': 'lun-info',
             'lun-map-get-iter': 'lun-map-info', 'snapshot-get-iter': 'snapshot-info',
             'iscsi-initiator-auth-get-iter': 'iscsi-security-entry-info'}
ZAPI_BOOLEANS = ('true', 'false')
# Inputs typed boolean in the ONTAPI reference: checked before the API runs, like every typed input.
BOOLEAN_INPUTS = ('force', 'space-reservation-enabled', 'space-allocation-enabled', 'use-exact-size',
                  'destroy-fenced-lun', 'async', 'ignore-owners', 'space-reserve', 'autodelete', 'is-backup',
                  'ignore-streams', 'ignore-locks', 'destination-exists', 'bypass-license-check', 'bypass-throttle',
                  'is-fixed-block-count', 'is-vvol-backup', 'nosplit-entry', 'remove-outbound', 'radius')


class ZapiError(Exception):
    def __init__(self, errno, reason):
        super(ZapiError, self).__init__(reason)
        self.errno = str(errno)
        self.reason = reason


def child_text(element, name, required=False):
    child = element.find(name) if element is not None else None
    if child is None or child.text is None:
        if required:
            raise ZapiError(EAPIMISSINGARGUMENT, 'Missing input: %s' % name)
        return None
    return child.text


def invalid_value(api, name, value):
    return ZapiError(EINVALIDINPUTERROR, 'Invalid value specified for "%s" element within "%s": "%s"'
                     % (name, api, value))


def check_elements(api, node, allowed, required=()):
    """Refuse an element ``allowed`` does not name ("Extra input") and a missing required one."""
    for child in node:
        if child.tag not in allowed and child.tag not in required:
            raise ZapiError(EINVALIDINPUTERROR, 'Extra input: %s' % child.tag)
    for name in required:
        if node.find(name) is None:
            raise ZapiError(EAPIMISSINGARGUMENT, 'Missing input: %s' % name)


def check_query(api, query):
    """A get-iter query holds one element, the API's *-info type, whose children are fields of that type."""
    info = ITER_INFO[api]
    if len(query) != 1 or query[0].tag != info:
        raise ZapiError(EINVALIDINPUTERROR, 'Extra input: %s' % (query[0].tag if len(query) else 'query'))
    fields = INFO_FIELDS[info]
    for child in query[0]:
        if child.tag not in fields:
            raise ZapiError(EINVALIDINPUTERROR, 'Extra input: %s' % child.tag)
        if isinstance(fields, dict):
            check_elements(api, child, fields[child.tag])


def boolean(api, node, name):
    value = child_text(node, name)
    if value is not None and value not in ZAPI_BOOLEANS:
        raise invalid_value(api, name, value)
    return value == 'true'


def el(name, text=None, children=()):
    node = ElementTree.Element(name)
    if text is not None:
        node.text = str(text)
    for child in children:
        node.append(child)
    return node


class ZapiApi(object):
    CLUSTER_APIS = ('system-get-ontapi-version', 'vserver-get-iter')

    def __init__(self, state):
        self.state = state
        # Test switch: answer the next N calls with EONTAPI_EBUSY (nothing done), as a busy node does.
        self.busy_next = 0

    def handle(self, payload):
        try:
            root = ElementTree.fromstring(payload)
        except ElementTree.ParseError as exc:
            return self.failed(EAPIERROR, 'Invalid XML: %s' % exc)
        if root.tag not in ('netapp', '{%s}netapp' % ZAPI_NS) or len(root) != 1:
            return self.failed(EAPIERROR, 'Request is not a single API inside <netapp>')
        for node in root.iter():
            if node.tag.startswith('{'):
                node.tag = node.tag.split('}', 1)[1]
        api = root[0]
        vserver = root.get('vfiler')
        handler = getattr(self, 'api_' + api.tag.replace('-', '_'), None)
        if handler is None or api.tag not in API_INPUTS:
            return self.failed(EAPINOTFOUND, 'Unable to find API: %s' % api.tag)
        try:
            if api.tag not in self.CLUSTER_APIS:
                if not vserver:
                    raise ZapiError(EAPINOTFOUND, 'Unable to find API: %s on admin vserver' % api.tag)
                if self.state.svm_named(vserver, required=False) is None:
                    raise ZapiError(EVSERVERNOTFOUND, 'Specified vserver not found')
            elif api.tag == 'system-get-ontapi-version' and vserver:
                pass
            required, optional = API_INPUTS[api.tag]
            check_elements(api.tag, api, optional, required)
            for name in BOOLEAN_INPUTS:
                boolean(api.tag, api, name)
            if api.tag in ITER_INFO and api.find('query') is not None:
                check_query(api.tag, api.find('query'))
            if self.busy_next:
                self.busy_next -= 1
                raise ZapiError(EONTAPI_EBUSY, 'Device or resource busy')
            children = handler(api, vserver) or []
        except ZapiError as exc:
            return self.failed(exc.errno, exc.reason)
        except ApiError as exc:  # a refusal of the State, shared with REST: its ZAPI errno
            return self.failed(exc.zapi_errno, exc.message)
        results = el('results', children=children)
        results.set('status', 'passed')
        return self.wrap(results)

    @staticmethod
    def wrap(results):
        netapp = ElementTree.Element('netapp', {'version': '1.201', 'xmlns': ZAPI_NS})
        netapp.append(results)
        return b"<?xml version='1.0' encoding='UTF-8'?>" + ElementTree.tostring(netapp)

    def failed(self, errno, reason):
        return self.wrap(ElementTree.Element('results', {'status': 'failed', 'errno': str(errno), 'reason': reason}))

    # -- iterators ----------------------------------------------------------------------------------
    def iter_response(self, api, records, query_path, match, render):
        query = api.find('query/' + query_path)
        selected = [record for record in records if match(record, query)]
        text = child_text(api, 'max-records') or '20'
        if not text.isdigit() or int(text) < 1:
            raise invalid_value(api.tag, 'max-records', text)
        max_records = min(int(text), self.state.page_size)
        tag = child_text(api, 'tag') or '0'
        if not tag.isdigit():
            raise invalid_value(api.tag, 'tag', tag)
        start = int(tag)
        page = selected[start:start + max_records]
        children = [el('num-records', len(page))]
        if page:
            children.append(el('attributes-list', children=[render(record) for record in page]))
        if start + max_records < len(selected):
            children.append(el('next-tag', start + max_records))
        return children

    @staticmethod
    def q(query, path):
        return child_text(query, path) if query is not None else None

    def matches(self, query, checks):
        return all(self.q(query, key) is None or value_matches(self.q(query, key), actual) for key, actual in checks)

    # -- cluster, vservers, volumes -----------------------------------------------------------------
    def api_system_get_ontapi_version(self, api, vserver):
        return [el('major-version', 1), el('minor-version', 201)]

    def api_vserver_get_iter(self, api, vserver):
        return self.iter_response(api, list(self.state.svms.values()), 'vserver-info',
                                  lambda svm, query: self.matches(query, (('vserver-name', svm['name']),
                                                                          ('uuid', svm['uuid']))),
                                  lambda svm: el('vserver-info', children=[el('vserver-name', svm['name']),
                                                                           el('uuid', svm['uuid'])]))

    def api_volume_get_iter(self, api, vserver):
        def match(volume, query):
            ids = query.find('volume-id-attributes') if query is not None else None
            return volume['svm']['name'] == vserver and self.matches(ids, (
                ('name', volume['name']), ('owning-vserver-name', volume['svm']['name']), ('uuid', volume['uuid'])))
        return self.iter_response(api, list(self.state.volumes.values()), 'volume-attributes', match,
                                  lambda volume: el('volume-attributes', children=[el('volume-id-attributes', children=[
                                      el('name', volume['name']), el('owning-vserver-name', volume['svm']['name']),
                                      el('uuid', volume['uuid'])])]))

    def volume(self, vserver, name, errno=EVOLUMEDOESNOTEXIST):
        for volume in self.state.volumes.values():
            if volume['name'] == name and volume['svm']['name'] == vserver:
                return volume
        raise ZapiError(errno, 'Volume "%s" does not exist in Vserver "%s"' % (name, vserver))

    # -- igroups ------------------------------------------------------------------------------------
    def igroup_by_name(self, vserver, name):
        ig_uuid = self.state.igroup_by_name.get((vserver, name))
        if ig_uuid is None:
            raise ZapiError(EVDISK_ERROR_NO_SUCH_INITGROUP, 'Initiator group "%s" does not exist' % name)
        return self.state.igroups[ig_uuid]

    def render_igroup(self, igroup, vserver, lun_id=None):
        children = [
            el('initiator-group-name', igroup['name']), el('initiator-group-type', igroup['protocol']),
            el('initiator-group-os-type', igroup['os_type']), el('initiator-group-uuid', igroup['uuid']),
            el('vserver', vserver), el('initiators', children=[
                el('initiator-info', children=[el('initiator-name', entry['name'])])
                for entry in igroup['initiators']])]
        if lun_id is not None:
            children.append(el('lun-id', lun_id))
        return el('initiator-group-info', children=children)

    def api_igroup_get_iter(self, api, vserver):
        def match(igroup, query):
            return igroup['svm']['name'] == vserver and self.matches(query, (
                ('initiator-group-name', igroup['name']), ('initiator-group-type', igroup['protocol']),
                ('initiator-group-os-type', igroup['os_type']), ('initiator-group-uuid', igroup['uuid'])))
        return self.iter_response(api, list(self.state.igroups.values()), 'initiator-group-info', match,
                                  lambda igroup: self.render_igroup(igroup, vserver))

    def api_igroup_create(self, api, vserver):
        name = child_text(api, 'initiator-group-name', True)
        if (vserver, name) in self.state.igroup_by_name:
            raise ZapiError(EVDISK_ERROR_INITGROUP_EXISTS, 'Initiator group "%s" already exists' % name)
        protocol = child_text(api, 'initiator-group-type') or 'iscsi'
        if protocol not in IGROUP_PROTOCOLS:
            raise invalid_value(api.tag, 'initiator-group-type', protocol)
        os_type = child_text(api, 'os-type') or child_text(api, 'ostype') or 'linux'
        if os_type not in OS_TYPES:
            raise invalid_value(api.tag, 'os-type', os_type)
        if not name or len(name) > 96:
            raise invalid_value(api.tag, 'initiator-group-name', name)
        self.state.add_igroup(vserver, name, protocol, os_type)

    def api_igroup_add(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        name = child_text(api, 'initiator', True)
        boolean(api.tag, api, 'force')
        try:
            State.check_initiator(name)
        except ApiError:
            raise ZapiError(EVDISK_ERROR_NOT_VALID_ISCSI_NAME, '"%s" is not a valid iSCSI initiator name' % name)
        if name.lower() in [entry['name'] for entry in igroup['initiators']]:
            raise ZapiError(EVDISK_ERROR_INITGROUP_HAS_NODE, 'Initiator %s is already in initiator group %s'
                            % (name, igroup['name']))
        self.state.add_initiators(igroup, [name])

    def api_igroup_remove(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        name = child_text(api, 'initiator', True).lower()
        if igroup['lun_maps'] and not boolean(api.tag, api, 'force'):
            raise ZapiError(EVDISK_ERROR_INITGROUP_MAPS_EXIST, 'Initiator group %s is mapped to LUNs; removing '
                            'initiator %s needs force' % (igroup['name'], name))
        if name not in [entry['name'] for entry in igroup['initiators']]:
            raise ZapiError(EVDISK_ERROR_NODE_NOT_IN_INITGROUP, 'Initiator %s is not in initiator group %s'
                            % (name, igroup['name']))
        igroup['initiators'] = [entry for entry in igroup['initiators'] if entry['name'] != name]

    def api_igroup_set_os_type(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        os_type = child_text(api, 'os-type', True)
        if os_type not in OS_TYPES:
            raise invalid_value(api.tag, 'os-type', os_type)
        igroup['os_type'] = os_type

    def api_igroup_rename(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        new_name = child_text(api, 'initiator-group-new-name', True)
        if (vserver, new_name) in self.state.igroup_by_name:
            raise ZapiError(EVDISK_ERROR_INITGROUP_EXISTS, 'Initiator group "%s" already exists' % new_name)
        del self.state.igroup_by_name[(vserver, igroup['name'])]
        igroup['name'] = new_name
        self.state.igroup_by_name[(vserver, new_name)] = igroup['uuid']

    def api_igroup_destroy(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        if igroup['lun_maps'] and not boolean(api.tag, api, 'force'):
            raise ZapiError(EVDISK_ERROR_INITGROUP_MAPS_EXIST, 'Initiator group %s is mapped to LUNs; destroying it '
                            'needs force' % igroup['name'])
        self.state.delete_igroup(igroup, allow_mapped=True)

    # -- LUNs ---------------------------------------------------------------------------------------
    def lun_by_path(self, vserver, path):
        lun_uuid = self.state.lun_by_path.get((vserver, path))
        if lun_uuid is None:
            raise ZapiError(EVDISK_ERROR_NO_SUCH_VDISK, 'No such LUN exists: %s' % path)
        return self.state.luns[lun_uuid]

    def api_lun_get_iter(self, api, vserver):
        def match(lun, query):
            return lun['svm']['name'] == vserver and self.matches(query, (
                ('path', lun['name']), ('volume', lun['location']['volume']['name']), ('comment', lun['comment']),
                ('lun', lun['location']['logical_unit']), ('uuid', lun['uuid']),
                ('serial-number', lun['serial_number']), ('multiprotocol-type', lun['os_type']),
                ('mapped', 'true' if lun['lun_maps'] else 'false')))

        def render(lun):
            return el('lun-info', children=[
                el('path', lun['name']), el('volume', lun['location']['volume']['name']),
                el('lun', lun['location']['logical_unit']), el('qtree', ''),
                el('size', lun['space']['size']), el('multiprotocol-type', lun['os_type']),
                el('serial-number', lun['serial_number']), el('comment', lun['comment']),
                el('mapped', 'true' if lun['lun_maps'] else 'false'), el('online', 'true'), el('state', 'online'),
                el('uuid', lun['uuid']), el('vserver', vserver)])
        return self.iter_response(api, list(self.state.luns.values()), 'lun-info', match, render)

    def check_new_path(self, api, vserver, path):
        match = re.match(r'^/vol/([^/]+)/([^/]+)$', path or '')
        if not match:
            raise invalid_value(api.tag, 'path', path)
        self.volume(vserver, match.group(1), EVDISK_ERROR_NO_SUCH_VOLUME)
        if (vserver, path) in self.state.lun_by_path:
            raise ZapiError(EVDISK_ERROR_VDISK_EXISTS, 'A LUN already exists at path %s' % path)

    def api_lun_create_by_size(self, api, vserver):
        path = child_text(api, 'path', True)
        size = child_text(api, 'size', True)
        if not size.isdigit() or int(size) < 4096:
            raise invalid_value(api.tag, 'size', size)
        os_type = child_text(api, 'ostype') or child_text(api, 'type') or 'linux'
        if os_type not in OS_TYPES:
            raise invalid_value(api.tag, 'ostype', os_type)
        for flag in ('space-reservation-enabled', 'space-allocation-enabled', 'use-exact-size'):
            boolean(api.tag, api, flag)
        self.check_new_path(api, vserver, path)
        lun = self.state.add_lun(vserver, path, int(size), os_type, child_text(api, 'comment'))
        return [el('actual-size', lun['space']['size'])]

    def api_lun_resize(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        size = child_text(api, 'size', True)
        if not size.isdigit():
            raise invalid_value(api.tag, 'size', size)
        if int(size) < lun['space']['size'] and not boolean(api.tag, api, 'force'):
            raise ZapiError(EVDISK_ERROR_MUST_SPECIFY_F_FLAG, 'Reducing the size of LUN %s requires force'
                            % lun['name'])
        lun['space']['size'] = -(-int(size) // LUN_ROUNDING) * LUN_ROUNDING
        return [el('actual-size', lun['space']['size'])]

    def api_lun_destroy(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        boolean(api.tag, api, 'destroy-fenced-lun')
        if lun['lun_maps']:
            if not boolean(api.tag, api, 'force'):
                raise ZapiError(EVDISK_ERROR_VDISK_EXPORTED, 'LUN %s is mapped; unmap it or use force' % lun['name'])
            for key in [key for key in self.state.maps if key[0] == lun['uuid']]:
                self.state.unmap_lun(lun, self.state.igroups[key[1]])
        self.state.delete_lun(lun)

    def api_lun_set_comment(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        comment = child_text(api, 'comment') or ''
        if len(comment) > 254:
            raise invalid_value(api.tag, 'comment', comment)
        lun['comment'] = comment

    # -- LUN maps -----------------------------------------------------------------------------------
    def api_lun_map(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group', True))
        text = child_text(api, 'lun-id')
        boolean(api.tag, api, 'force')
        if text is not None and (not text.isdigit() or int(text) > MAX_LUN_ID):
            raise invalid_value(api.tag, 'lun-id', text)
        if (lun['uuid'], igroup['uuid']) in self.state.maps:
            raise ZapiError(EVDISK_ERROR_LUN_MAPPING_CONFLICT, 'LUN %s is already mapped to initiator group %s'
                            % (lun['name'], igroup['name']))
        used = set(entry['lun_id'] for key, entry in self.state.maps.items() if key[1] == igroup['uuid'])
        if text is not None and int(text) in used:
            raise ZapiError(EVDISK_ERROR_LUN_MAPPING_CONFLICT, 'LUN ID %s is already in use in initiator group %s'
                            % (text, igroup['name']))
        number = self.state.map_lun(lun, igroup, int(text) if text is not None else None)
        return [el('lun-id-assigned', number)]

    def api_lun_unmap(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group', True))
        if (lun['uuid'], igroup['uuid']) not in self.state.maps:
            raise ZapiError(EVDISK_ERROR_NO_SUCH_LUNMAP, 'LUN %s is not mapped to initiator group %s'
                            % (lun['name'], igroup['name']))
        self.state.unmap_lun(lun, igroup)

    def api_lun_map_get_iter(self, api, vserver):
        def match(record, query):
            return record['svm']['name'] == vserver and self.matches(query, (
                ('path', record['lun']['name']), ('initiator-group', record['igroup']['name']),
                ('lun-id', record['logical_unit_number']), ('lun-uuid', record['lun']['uuid']),
                ('initiator-group-uuid', record['igroup']['uuid'])))

        def render(record):
            return el('lun-map-info', children=[
                el('path', record['lun']['name']), el('initiator-group', record['igroup']['name']),
                el('initiator-group-uuid', record['igroup']['uuid']), el('lun-id', record['logical_unit_number']),
                el('lun-uuid', record['lun']['uuid']), el('vserver', vserver)])
        return self.iter_response(api, [self.state.map_record(key) for key in self.state.maps], 'lun-map-info',
                                  match, render)

    def api_lun_map_list_info(self, api, vserver):
        """The igroups one LUN is mapped to (what netapp.ontap's na_ontap_lun_map reads with ZAPI)."""
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        groups = [self.render_igroup(self.state.igroups[key[1]], vserver, entry['lun_id'])
                  for key, entry in sorted(self.state.maps.items()) if key[0] == lun['uuid']]
        return [el('initiator-groups', children=groups)]

    # -- snapshots and clones -----------------------------------------------------------------------
    def api_snapshot_get_iter(self, api, vserver):
        def match(snapshot, query):
            return snapshot['svm']['name'] == vserver and self.matches(query, (
                ('name', snapshot['name']), ('volume', snapshot['volume']['name']),
                ('snapshot-instance-uuid', snapshot['uuid']), ('vserver', snapshot['svm']['name'])))

        def render(snapshot):
            return el('snapshot-info', children=[
                el('name', snapshot['name']), el('volume', snapshot['volume']['name']), el('vserver', vserver),
                el('access-time', calendar.timegm(time.strptime(snapshot['create_time'][:19], '%Y-%m-%dT%H:%M:%S'))),
                el('busy', 'false'), el('snapshot-instance-uuid', snapshot['uuid'])])
        return self.iter_response(api, list(self.state.snapshots.values()), 'snapshot-info', match, render)

    def api_snapshot_create(self, api, vserver):
        volume = self.volume(vserver, child_text(api, 'volume', True))
        name = child_text(api, 'snapshot', True)
        boolean(api.tag, api, 'async')
        if self.state.snapshot_named(volume, name):
            raise ZapiError(ESNAPSHOTEXISTS, 'Snapshot copy %s already exists' % name)
        if '/' in name or len(name) > 255:
            raise invalid_value(api.tag, 'snapshot', name)
        self.state.create_snapshot(volume, name)

    def api_snapshot_delete(self, api, vserver):
        volume = self.volume(vserver, child_text(api, 'volume', True))
        name = child_text(api, 'snapshot', True)
        boolean(api.tag, api, 'ignore-owners')
        snapshot = self.state.snapshot_named(volume, name)
        if snapshot is None or child_text(api, 'snapshot-instance-uuid') not in (None, snapshot['uuid']):
            raise ZapiError(ESNAPSHOTDOESNOTEXIST, 'Snapshot copy %s does not exist' % name)
        self.state.delete_snapshot(snapshot)

    def api_clone_create(self, api, vserver):
        """A file (LUN) clone inside one volume, from the active file system or, with snapshot-name, from a
        Snapshot copy of it."""
        volume = self.volume(vserver, child_text(api, 'volume', True))
        source = child_text(api, 'source-path', True)
        destination = child_text(api, 'destination-path')
        for flag in ('space-reserve', 'ignore-streams', 'ignore-locks', 'autodelete', 'is-backup',
                     'destination-exists'):
            boolean(api.tag, api, flag)
        if not destination:
            raise ZapiError(EAPIMISSINGARGUMENT, 'Missing input: destination-path')
        snapshot_name = child_text(api, 'snapshot-name')
        if snapshot_name:
            snapshot = self.state.snapshot_named(volume, snapshot_name)
            if snapshot is None:
                raise ZapiError(ESNAPSHOTDOESNOTEXIST, 'Snapshot copy %s does not exist in volume %s'
                                % (snapshot_name, volume['name']))
            if source not in snapshot['_content']:
                raise ZapiError(EFILENOTFOUND, 'File %s does not exist in Snapshot copy %s'
                                % (source, snapshot_name))
            source = '.snapshot/%s/%s' % (snapshot_name, source)
        elif (vserver, '/vol/%s/%s' % (volume['name'], source)) not in self.state.lun_by_path:
            raise ZapiError(EFILENOTFOUND, 'File %s does not exist in volume %s' % (source, volume['name']))
        target = '/vol/%s/%s' % (volume['name'], destination)
        if (vserver, target) in self.state.lun_by_path:
            raise ZapiError(EVDISK_ERROR_VDISK_EXISTS, 'A LUN already exists at path %s' % target)
        if '/' in destination:
            raise invalid_value(api.tag, 'destination-path', destination)
        self.state.clone_file(volume, source, destination)

    # -- iSCSI initiator authentication (vserver iscsi security) ------------------------------------------
    @staticmethod
    def refuse_not_emulated(api):
        for name in CHAP_NOT_EMULATED:
            if api.find(name) is not None:
                raise ZapiError(EINVALIDINPUTERROR, 'Input %s is valid in ONTAP but not emulated by this test double'
                                % name)

    @staticmethod
    def auth_type(api):
        value = child_text(api, 'auth-type', True)
        if value.lower() not in ('chap', 'none', 'deny'):
            raise ZapiError(EISCSISECINVALIDAUTHTYPE, 'Invalid value specified for "auth-type" element within "%s": '
                            '"%s"' % (api.tag, value))
        return value.lower()

    @staticmethod
    def chap_inputs(api):
        """(inbound, outbound): the (user, passphrase) pairs the call names, or None; lengths as in REST."""
        limits = rest_model.SCHEMA_LENGTHS['iscsi_credentials']
        pairs = []
        for side, user_tag, secret_tag in (('inbound', 'user-name', 'passphrase'),
                                           ('outbound', 'outbound-user-name', 'outbound-passphrase')):
            values = child_text(api, user_tag), child_text(api, secret_tag)
            for tag, value, field in ((user_tag, values[0], 'user'), (secret_tag, values[1], 'password')):
                low, high = limits['chap.%s.%s' % (side, field)]
                if value is not None and not low <= len(value) <= high:
                    raise ZapiError(EISCSISECINVALIDINPUTERROR, 'Element "%s" must be %d to %d characters long'
                                    % (tag, low, high))
            pairs.append(values if values != (None, None) else None)
        return pairs

    def credential(self, vserver, initiator):
        return self.state.credential(self.state.svm_named(vserver)['uuid'], initiator)

    @staticmethod
    def credential_fields(record):
        """What get-auth and get-default-auth answer; the passwords never ("not returned for security purposes")."""
        chap = record.get('chap', {})
        fields = [el('auth-type', 'CHAP' if record['authentication_type'] == 'chap' else record['authentication_type'])]
        for side, tag in (('inbound', 'user-name'), ('outbound', 'outbound-user-name')):
            if side in chap:
                fields.append(el(tag, chap[side]['user']))
        return fields

    def render_credential(self, record):
        return el('iscsi-security-entry-info', children=[el('initiator', record['initiator'])] + self.credential_fields(
            record) + [el('vserver', record['svm']['name'])])

    def api_iscsi_initiator_auth_get_iter(self, api, vserver):
        svm = self.state.svm_named(vserver)

        def match(record, query):
            chap = record.get('chap', {})
            return self.matches(query, (
                ('initiator', record['initiator']), ('auth-type', record['authentication_type']),
                ('vserver', vserver), ('user-name', chap.get('inbound', {}).get('user', '')),
                ('outbound-user-name', chap.get('outbound', {}).get('user', ''))))
        records = [record for record in self.state.credentials.values() if record['svm']['uuid'] == svm['uuid']]
        return self.iter_response(api, records, 'iscsi-security-entry-info', match, self.render_credential)

    def api_iscsi_initiator_get_auth(self, api, vserver):
        """"If initiator is not found, default authentication method is returned" (ONTAPI reference)."""
        svm = self.state.svm_named(vserver)
        name = child_text(api, 'initiator', True).lower()
        return self.credential_fields(self.state.credentials.get((svm['uuid'], name))
                                      or self.state.credentials[(svm['uuid'], 'default')])

    def api_iscsi_initiator_get_default_auth(self, api, vserver):
        return self.credential_fields(self.credential(vserver, 'default'))

    def api_iscsi_initiator_add_auth(self, api, vserver):
        self.refuse_not_emulated(api)
        auth_type = self.auth_type(api)
        inbound, outbound = self.chap_inputs(api)
        self.state.add_credential(self.state.svm_named(vserver), child_text(api, 'initiator', True), auth_type,
                                  inbound, outbound)

    def api_iscsi_initiator_modify_chap_params(self, api, vserver):
        """CHAP parameters of an entry "whose auth-type equals CHAP"; those given replace the current ones;
        remove-outbound turns mutual CHAP into one-way CHAP and excludes outbound parameters."""
        self.refuse_not_emulated(api)
        record = self.credential(vserver, child_text(api, 'initiator', True))
        if record['authentication_type'] != 'chap':
            raise ZapiError(EISCSISECINVALIDAUTHTYPE, 'The authentication type of initiator %s is not CHAP'
                            % record['initiator'])
        new_inbound, new_outbound = self.chap_inputs(api)
        remove_outbound = boolean(api.tag, api, 'remove-outbound')
        if remove_outbound and new_outbound:
            raise ZapiError(EISCSISECINVALIDINPUTERROR, 'Outbound CHAP parameters must not be specified when '
                            'remove-outbound is true')
        inbound, outbound = current_chap(record)
        apply_chap(record, 'chap', new_inbound or inbound, None if remove_outbound else new_outbound or outbound)

    def api_iscsi_initiator_set_default_auth(self, api, vserver):
        self.refuse_not_emulated(api)
        auth_type = self.auth_type(api)
        inbound, outbound = self.chap_inputs(api)
        apply_chap(self.credential(vserver, 'default'), auth_type, inbound, outbound)

    def api_iscsi_initiator_delete_auth(self, api, vserver):
        self.state.delete_credential(self.credential(vserver, child_text(api, 'initiator', True)))


# ---------------------------------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    server_version = 'ontap-emulator/1 (test double)'
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write('%s %s\n' % (self.command, self.path))

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        # One handler per accepted connection: what a client's keep-alive saves is visible here.
        with self.server.state.lock:
            self.server.connections += 1

    def do_GET(self):
        self.handle_any()

    do_POST = do_PATCH = do_DELETE = do_GET

    def authorised(self):
        header = self.headers.get('Authorization', '')
        expected = 'Basic ' + base64.b64encode(('%s:%s' % self.server.credentials).encode()).decode()
        return header == expected

    def handle_any(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        state = self.server.state
        with state.lock:
            state.requests += 1
            state.log.append((self.command, self.path))
        if not self.authorised():
            return self.reply(401, {'error': {'message': 'User is not authorized.', 'code': '6'}},
                              {'WWW-Authenticate': 'Basic realm="ONTAP"'})
        split = urlsplit(self.path)
        if split.path == ZAPI_PATH:
            if self.command != 'POST':
                return self.reply(405, {'error': {'message': 'ZAPI needs POST', 'code': '3'}})
            with state.lock:
                return self.reply_raw(200, self.server.zapi.handle(raw), 'text/xml')
        if not split.path.startswith('/api/') and split.path not in ('/api', CONTROL_PATH):
            return self.reply(404, {'error': {'message': 'not found', 'code': '3'}})
        if not self.server.rest_enabled:
            return self.reply_raw(404, b'<html><body>Not Found</body></html>', 'text/html')
        pairs = parse_qsl(split.query, keep_blank_values=True)
        query = dict(pairs)
        if len(query) != len(pairs):
            return self.reply(400, {'error': {'message': 'Duplicate query parameter.', 'code': '2'}})
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError('body is not an object')
        except ValueError as exc:
            return self.reply(400, {'error': {'message': 'Invalid JSON input: %s' % exc, 'code': '2'}})
        try:
            with state.lock:
                if split.path == CONTROL_PATH:
                    return self.reply(*self.control(body))
                answer = self.server.rest.dispatch(self.command, split.path, query, body)
        except rest_model.RestError as exc:
            return self.reply(exc.status, exc.body())
        except ApiError as exc:
            error = {'message': exc.message, 'code': exc.code}
            if exc.target:
                error['target'] = exc.target
            return self.reply(exc.status, {'error': error})
        return self.reply(*answer)

    def control(self, body):
        """The emulator's test switches (not ONTAP): POST {"fail_next_job": {"message", "code"}}."""
        if self.command != 'POST' or set(body) != {'fail_next_job'}:
            return 400, {'error': {'message': 'POST {"fail_next_job": {"message": ..., "code": ...}}', 'code': '2'}}
        self.server.state.fail_next_job(body['fail_next_job']['message'], body['fail_next_job']['code'])
        return 200, {}

    def reply(self, status, body, headers=None):
        self.reply_raw(status, json.dumps(body).encode(), 'application/hal+json', headers)

    def reply_raw(self, status, data, content_type, headers=None):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


def make_certificate(directory):
    """Self-signed certificate for 127.0.0.1/localhost via the openssl CLI; returns (cert, key)."""
    cert, key = os.path.join(directory, 'emulator.crt'), os.path.join(directory, 'emulator.key')
    if not (os.path.exists(cert) and os.path.exists(key)):
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-keyout', key,
                        '-out', cert, '-subj', '/CN=ontap-emulator', '-addext',
                        'subjectAltName=IP:127.0.0.1,DNS:localhost'],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60,
                       env=dict(os.environ, LC_ALL='C'))
    return cert, key


class Emulator(object):
    """In-process use (benchmarks, tests): ``with Emulator(state_dir) as emu: emu.port``."""

    def __init__(self, state_dir, port=0, username='admin', password='netapp1!', rest=True, version=(9, 12, 1),
                 verbose=False):
        self.state = State(version)
        self.state.log = []
        self.cert, self.key = make_certificate(state_dir)
        self.server = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.server.state = self.state
        self.server.rest = RestApi(self.state)
        self.server.zapi = ZapiApi(self.state)
        self.server.credentials = (username, password)
        self.server.rest_enabled = rest
        self.server.verbose = verbose
        self.server.connections = 0
        self.port = self.server.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def fail_next_job(self, message, code):
        """Test switch: the next REST job started fails with this message and ONTAP error code."""
        with self.state.lock:
            self.state.fail_next_job(message, code)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def populate(self, svm, volume, luns=0, igroups=0, prefix='bulk'):
        """Add ``luns`` LUNs and ``igroups`` igroups (one initiator each) for scale tests."""
        with self.state.lock:
            if self.state.svm_named(svm, required=False) is None:
                self.state.add_svm(svm)
            if not any(v['name'] == volume for v in self.state.volumes.values()):
                self.state.add_volume(svm, volume)
            for index in range(luns):
                self.state.add_lun(svm, '/vol/%s/%s_lun%05d' % (volume, prefix, index), 1048576)
            for index in range(igroups):
                self.state.add_igroup(svm, '%s_ig%04d' % (prefix, index), 'iscsi', 'linux',
                                      ['iqn.2026-11.emulator.bulk:host%04d' % index])


def parse_args(argv):
    parser = argparse.ArgumentParser(description='ONTAP REST/ZAPI emulator (a test double, not ONTAP).')
    parser.add_argument('--port', type=int, default=0, help='TCP port on 127.0.0.1 (0 = a free one)')
    parser.add_argument('--state-dir', required=True, help='directory for the certificate, pid and port files')
    parser.add_argument('--username', default='admin')
    parser.add_argument('--password-file', help='file holding the password (default "netapp1!")')
    parser.add_argument('--svm', action='append', default=[], help='SVM to create (repeatable)')
    parser.add_argument('--volume', action='append', default=[], help='SVM:VOLUME to create (repeatable)')
    parser.add_argument('--no-rest', action='store_true', help='behave like ONTAP before 9.6 (no /api)')
    parser.add_argument('--version', default='9.12.1', help='ONTAP version to report')
    parser.add_argument('--page-size', type=int, default=10000,
                        help='records per page at most (REST _links.next, ZAPI next-tag)')
    parser.add_argument('--detach', action='store_true', help='run in the background; print JSON and exit')
    parser.add_argument('--verbose', action='store_true')
    return parser.parse_args(argv)


def build(args):
    password = 'netapp1!'
    if args.password_file:
        with open(args.password_file) as handle:
            password = handle.read().strip()
    emulator = Emulator(args.state_dir, args.port, args.username, password, not args.no_rest,
                        tuple(int(part) for part in args.version.split('.')), args.verbose)
    emulator.state.page_size = args.page_size
    for svm in args.svm:
        emulator.state.add_svm(svm)
    for spec in args.volume:
        svm, volume = spec.split(':', 1)
        emulator.state.add_volume(svm, volume)
    return emulator


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    os.makedirs(args.state_dir, exist_ok=True)
    ready = os.path.join(args.state_dir, 'emulator.json')
    if os.path.exists(ready):
        os.unlink(ready)
    try:
        rest_model.models()  # before detaching, so that a missing netapp-ontap is reported, not hidden
    except RuntimeError as exc:
        sys.stderr.write('ontap_emulator: %s\n' % exc)
        return 2
    if args.detach:
        pid = os.fork()
        if pid:
            deadline = time.time() + 30
            while time.time() < deadline and not os.path.exists(ready):
                time.sleep(0.05)
            if not os.path.exists(ready):
                sys.stderr.write('emulator did not start within 30 s\n')
                return 1
            with open(ready) as handle:
                sys.stdout.write(handle.read() + '\n')
            return 0
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
    emulator = build(args)
    # shutdown() waits for serve_forever(), which runs in this thread: call it from another one.
    signal.signal(signal.SIGTERM, lambda *dummy: threading.Thread(target=emulator.server.shutdown).start())
    info = {'port': emulator.port, 'pid': os.getpid(), 'cafile': emulator.cert}
    with open(ready + '.tmp', 'w') as handle:
        json.dump(info, handle)
    os.rename(ready + '.tmp', ready)
    if not args.detach:
        print(json.dumps(info), flush=True)
    emulator.server.serve_forever()
    emulator.server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
