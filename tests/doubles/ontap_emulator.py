#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: a stateful emulator of the NetApp ONTAP REST and ZAPI subsets san.iscsi uses.

Not ONTAP. It serves HTTPS on loopback with a self-signed certificate it generates (openssl CLI) and
implements, strictly, what the san.iscsi ONTAP backends call:

REST (ONTAP REST API reference, docs.netapp.com/us-en/ontap-restapi): /api/cluster, /api/svm/svms,
/api/storage/volumes[/{uuid}/snapshots[/{uuid}]], /api/storage/luns[/{uuid}], /api/storage/file/clone
(source_path ".snapshot/<snap>/<file>" as in the 9.6 example), /api/protocols/san/igroups[/{uuid}
[/initiators[/{name}]]], /api/protocols/san/lun-maps[/{lun.uuid}/{igroup.uuid}], /api/cluster/jobs/{uuid};
``fields=``, field filters with ``*`` and ``|``, ``max_records`` with ``_links.next``; snapshot
create/delete and file clone answer 202 with a job. Errors are ``{"error": {"message", "code"}}`` with
the common codes of "Interpret an ONTAP REST API response" (1 duplicate/409, 2 bad field/400, 4 not
found/404) and the documented endpoint codes (5374875 LUN not found, 5374878 igroup not found for a map,
5374922 map not found, 5374852 igroup not found, 1254213 igroup mapped without allow_delete_while_mapped,
5374034 initiator not a member, 2621462 SVM not found).

ZAPI (POST /servlets/netapp.servlets.admin.XMLrequest_filer): system-get-ontapi-version, vserver-get-iter,
volume-get-iter, igroup-get-iter/create/add/remove/set-os-type/destroy, lun-get-iter/create-by-size/resize/
destroy/set-comment, lun-map, lun-unmap, lun-map-get-iter, snapshot-get-iter/create/delete, clone-create;
vserver APIs need the vfiler tunnelling attribute; failures are ``<results status="failed" errno reason>``.

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
import subprocess
import sys
import threading
import time
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from xml.etree import ElementTree

ZAPI_PATH = '/servlets/netapp.servlets.admin.XMLrequest_filer'
ZAPI_NS = 'http://www.netapp.com/filer/admin'
LUN_ROUNDING = 4096
MAX_LUN_ID = 4095
IGROUP_PROTOCOLS = ('iscsi', 'fcp', 'mixed')
OS_TYPES = ('linux', 'windows', 'vmware', 'aix', 'hpux', 'solaris', 'xen', 'hyper_v')


class ApiError(Exception):
    """REST error: HTTP status + ONTAP code + message; ZAPI uses zapi_errno."""

    def __init__(self, status, code, message, zapi_errno=None):
        super(ApiError, self).__init__(message)
        self.status = status
        self.code = str(code)
        self.message = message
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


def flatten(record, prefix=''):
    """{'a': {'b': 1}} -> {'a.b': [1]}; lists fan out so filters match any element."""
    flat = {}

    def walk(value, key):
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                walk(sub_value, '%s.%s' % (key, sub_key) if key else sub_key)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
            flat.setdefault(key, [])
        else:
            flat.setdefault(key, []).append(value)
    walk(record, prefix)
    return flat


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


def project(record, fields, keys):
    """Keep the key fields plus the requested dotted fields (``*`` = everything)."""
    if fields == ['*']:
        return json.loads(json.dumps(record))
    wanted = set(keys) | set(fields)
    result = {}
    for field in wanted:
        copy_field(record, result, field.split('.'))
    return result


def copy_field(source, target, parts):
    if not isinstance(source, dict) or parts[0] not in source:
        return
    value = source[parts[0]]
    if len(parts) == 1:
        target[parts[0]] = json.loads(json.dumps(value))
    elif isinstance(value, list):
        existing = target.setdefault(parts[0], [{} for dummy in value])
        for item, out in zip(value, existing):
            copy_field(item, out, parts[1:])
    else:
        copy_field(value, target.setdefault(parts[0], {}), parts[1:])


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
        self.jobs = {}
        self.serials = 0
        self.requests = 0
        # Records per page at most, as when ONTAP stops a collection GET at its return_timeout and
        # answers with a _links.next (REST) or next-tag (ZAPI).
        self.page_size = 10000

    # -- population -------------------------------------------------------------------------------
    def add_svm(self, name):
        svm_uuid = new_uuid()
        self.svms[svm_uuid] = {'name': name, 'uuid': svm_uuid}
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
            'space': {'size': rounded}, 'os_type': os_type, 'serial_number': lun_serial(self.serials),
            'comment': comment or '', 'lun_maps': []}
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
                                     'lun_maps': []}
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

    def create_snapshot(self, volume, name):
        if not name or '/' in name or len(name) > 255:
            raise bad_field('Invalid value for field "name".')
        if any(s['name'] == name and s['volume']['uuid'] == volume['uuid'] for s in self.snapshots.values()):
            raise duplicate('Snapshot copy "%s" of volume "%s" already exists.' % (name, volume['name']))
        snap_uuid = new_uuid()
        content = dict((lun['location']['logical_unit'], {'size': lun['space']['size'], 'os_type': lun['os_type']})
                       for lun in self.luns.values() if lun['location']['volume']['uuid'] == volume['uuid'])
        self.snapshots[snap_uuid] = {'uuid': snap_uuid, 'name': name, 'create_time': time.strftime(
            '%Y-%m-%dT%H:%M:%S+00:00', time.gmtime()), 'volume': {'name': volume['name'], 'uuid': volume['uuid']},
            'svm': dict(volume['svm']), '_content': content}

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

    def start_job(self, description, action):
        job_uuid = new_uuid()
        self.jobs[job_uuid] = {'uuid': job_uuid, 'description': description, 'state': 'running', 'polls': 0,
                               'action': action, 'message': '', 'code': 0}
        return job_uuid

    def poll_job(self, job_uuid):
        job = self.jobs.get(job_uuid)
        if job is None:
            raise not_found('entry doesn\'t exist')
        job['polls'] += 1
        if job['state'] == 'running' and job['polls'] >= 2:
            try:
                job['action']()
                job['state'], job['message'] = 'success', 'success'
            except ApiError as exc:
                job['state'], job['message'], job['code'] = 'failure', exc.message, int(exc.code)
        return {'uuid': job_uuid, 'state': job['state'], 'message': job['message'], 'code': job['code'],
                'description': job['description']}


# ---------------------------------------------------------------------------------------------------
# REST
# ---------------------------------------------------------------------------------------------------
COLLECTIONS = {
    # name: (key fields, allowed fields)
    'svm': (('name', 'uuid'), {'name', 'uuid'}),
    'volume': (('name', 'uuid'), {'name', 'uuid', 'svm.name', 'svm.uuid'}),
    'snapshot': (('name', 'uuid'), {'name', 'uuid', 'create_time', 'volume.name', 'volume.uuid', 'svm.name',
                                    'svm.uuid'}),
    'lun': (('name', 'uuid'), {'name', 'uuid', 'svm.name', 'svm.uuid', 'location.volume.name',
                               'location.volume.uuid', 'location.logical_unit', 'space.size', 'os_type',
                               'serial_number', 'comment', 'lun_maps', 'lun_maps.logical_unit_number',
                               'lun_maps.igroup.name', 'lun_maps.igroup.uuid'}),
    'igroup': (('name', 'uuid'), {'name', 'uuid', 'svm.name', 'svm.uuid', 'protocol', 'os_type', 'initiators',
                                  'initiators.name', 'lun_maps', 'lun_maps.logical_unit_number',
                                  'lun_maps.lun.name', 'lun_maps.lun.uuid'}),
    'lun_map': (('lun.name', 'lun.uuid', 'igroup.name', 'igroup.uuid', 'svm.name'),
                {'lun.name', 'lun.uuid', 'igroup.name', 'igroup.uuid', 'igroup.protocol', 'igroup.os_type',
                 'igroup.initiators', 'logical_unit_number', 'svm.name', 'svm.uuid'}),
    'job': (('uuid',), {'uuid', 'state', 'message', 'code', 'description'}),
    'cluster': (('name', 'uuid'), {'name', 'uuid', 'version', 'version.full', 'version.generation',
                                   'version.major', 'version.minor'}),
}
CONTROL_PARAMS = {'fields', 'max_records', 'return_records', 'return_timeout', 'start.index', 'order_by'}


def query_collection(kind, records, query, path, page_size=10000):
    keys, allowed = COLLECTIONS[kind]
    fields = [field for field in query.get('fields', '').split(',') if field]
    for field in fields:
        if field != '*' and field not in allowed and field.split('.')[0] not in allowed:
            raise bad_field('Unexpected argument "%s".' % field)
    filters = dict((k, v) for k, v in query.items() if k not in CONTROL_PARAMS)
    for field in filters:
        if field not in allowed:
            raise bad_field('Unexpected argument "%s".' % field)
    matched = []
    for record in records:
        flat = flatten(record)
        if all(any(value_matches(pattern, actual) for actual in flat.get(field, []))
               for field, pattern in filters.items()):
            matched.append(record)
    max_records = min(int(query.get('max_records', 10000)), page_size)
    start = int(query.get('start.index', 0))
    page = matched[start:start + max_records]
    body = {'records': [project(record, fields, keys) for record in page], 'num_records': len(page),
            '_links': {'self': {'href': path + '?' + urlencode(sorted(query.items()))}}}
    if start + max_records < len(matched):
        next_query = dict(query)
        next_query['start.index'] = str(start + max_records)
        body['_links']['next'] = {'href': path + '?' + urlencode(sorted(next_query.items()))}
    return body


def require_body_fields(body, allowed, required=()):
    for key in body:
        if key not in allowed:
            raise bad_field('Unexpected argument "%s".' % key)
    for key in required:
        node = body
        for part in key.split('.'):
            if not isinstance(node, dict) or part not in node:
                raise bad_field('Missing value for required field "%s".' % key)
            node = node[part]


class RestApi(object):
    def __init__(self, state):
        self.state = state
        self.routes = [
            ('GET', r'/api/cluster', self.get_cluster),
            ('GET', r'/api/cluster/jobs/(?P<job>[^/]+)', self.get_job),
            ('GET', r'/api/svm/svms', self.get_svms),
            ('GET', r'/api/storage/volumes', self.get_volumes),
            ('GET', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots', self.get_snapshots),
            ('POST', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots', self.post_snapshot),
            ('DELETE', r'/api/storage/volumes/(?P<vol>[^/]+)/snapshots/(?P<snap>[^/]+)', self.delete_snapshot),
            ('GET', r'/api/storage/luns', self.get_luns),
            ('POST', r'/api/storage/luns', self.post_lun),
            ('GET', r'/api/storage/luns/(?P<lun>[^/]+)', self.get_lun),
            ('PATCH', r'/api/storage/luns/(?P<lun>[^/]+)', self.patch_lun),
            ('DELETE', r'/api/storage/luns/(?P<lun>[^/]+)', self.delete_lun),
            ('POST', r'/api/storage/file/clone', self.post_clone),
            ('GET', r'/api/protocols/san/igroups', self.get_igroups),
            ('POST', r'/api/protocols/san/igroups', self.post_igroup),
            ('PATCH', r'/api/protocols/san/igroups/(?P<ig>[^/]+)', self.patch_igroup),
            ('DELETE', r'/api/protocols/san/igroups/(?P<ig>[^/]+)', self.delete_igroup),
            ('POST', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators', self.post_initiators),
            ('DELETE', r'/api/protocols/san/igroups/(?P<ig>[^/]+)/initiators/(?P<name>[^/]+)', self.delete_initiator),
            ('GET', r'/api/protocols/san/lun-maps', self.get_maps),
            ('POST', r'/api/protocols/san/lun-maps', self.post_map),
            ('DELETE', r'/api/protocols/san/lun-maps/(?P<lun>[^/]+)/(?P<ig>[^/]+)', self.delete_map),
        ]

    def dispatch(self, method, path, query, body):
        known_path = False
        for route_method, pattern, handler in self.routes:
            match = re.match('^%s$' % pattern, path)
            if match:
                known_path = True
                if route_method == method:
                    params = dict((k, unquote(v)) for k, v in match.groupdict().items())
                    return handler(query=query, body=body, path=path, **params)
        if known_path:
            raise ApiError(405, '3', 'The method %s is not supported on %s.' % (method, path))
        raise ApiError(404, '3', 'API not found: %s' % path)

    @staticmethod
    def no_body(body):
        if body:
            raise bad_field('A request body is not allowed for this operation.')

    def only(self, query, allowed):
        for key in query:
            if key not in allowed:
                raise bad_field('Unexpected argument "%s".' % key)

    # -- cluster/jobs/svms/volumes -----------------------------------------------------------------
    def get_cluster(self, query, body, path):
        self.only(query, {'fields'})
        generation, major, minor = self.state.version
        record = {'name': 'emulator-cluster', 'uuid': '00000000-0000-0000-0000-0000000000e1', 'version': {
            'full': 'NetApp Release %d.%d.%d: emulated (test double)' % self.state.version,
            'generation': generation, 'major': major, 'minor': minor}}
        fields = [f for f in query.get('fields', '').split(',') if f]
        return 200, project(record, fields or ['version'], ('name', 'uuid'))

    def get_job(self, query, body, path, job):
        self.only(query, {'fields'})
        record = self.state.poll_job(job)
        return 200, project(record, [f for f in query.get('fields', '').split(',') if f] or ['*'], ('uuid',))

    def get_svms(self, query, body, path):
        return 200, query_collection('svm', list(self.state.svms.values()), query, path, self.state.page_size)

    def get_volumes(self, query, body, path):
        return 200, query_collection('volume', list(self.state.volumes.values()), query, path, self.state.page_size)

    def volume(self, vol_uuid):
        if vol_uuid not in self.state.volumes:
            raise not_found('entry doesn\'t exist')
        return self.state.volumes[vol_uuid]

    # -- snapshots ----------------------------------------------------------------------------------
    def get_snapshots(self, query, body, path, vol):
        volume = self.volume(vol)
        records = [dict((k, v) for k, v in s.items() if not k.startswith('_'))
                   for s in self.state.snapshots.values() if s['volume']['uuid'] == volume['uuid']]
        return 200, query_collection('snapshot', records, query, path, self.state.page_size)

    def post_snapshot(self, query, body, path, vol):
        self.only(query, {'return_timeout', 'return_records'})
        volume = self.volume(vol)
        require_body_fields(body, {'name', 'comment'}, ('name',))
        name = body['name']
        if self.state.snapshot_named(volume, name):
            raise duplicate('Snapshot copy "%s" of volume "%s" already exists.' % (name, volume['name']))
        return 202, {'job': self.job_link(self.state.start_job(
            'POST /api/storage/volumes/%s/snapshots' % vol, lambda: self.state.create_snapshot(volume, name)))}

    def delete_snapshot(self, query, body, path, vol, snap):
        self.no_body(body)
        volume = self.volume(vol)
        snapshot = self.state.snapshots.get(snap)
        if snapshot is None or snapshot['volume']['uuid'] != volume['uuid']:
            raise not_found('entry doesn\'t exist')
        return 202, {'job': self.job_link(self.state.start_job(
            'DELETE snapshot', lambda: self.state.delete_snapshot(snapshot)))}

    @staticmethod
    def job_link(job_uuid):
        return {'uuid': job_uuid, '_links': {'self': {'href': '/api/cluster/jobs/%s' % job_uuid}}}

    # -- LUNs ---------------------------------------------------------------------------------------
    def get_luns(self, query, body, path):
        return 200, query_collection('lun', list(self.state.luns.values()), query, path, self.state.page_size)

    def lun(self, lun_uuid):
        if lun_uuid not in self.state.luns:
            raise ApiError(404, '5374875', 'The specified LUN does not exist or is not accessible to the caller.')
        return self.state.luns[lun_uuid]

    def get_lun(self, query, body, path, lun):
        self.only(query, {'fields'})
        keys, dummy = COLLECTIONS['lun']
        return 200, project(self.lun(lun), [f for f in query.get('fields', '').split(',') if f], keys)

    def post_lun(self, query, body, path):
        self.only(query, {'return_records'})
        require_body_fields(body, {'svm', 'name', 'os_type', 'space', 'comment'}, ('svm.name', 'name', 'os_type',
                                                                                   'space.size'))
        record = self.state.add_lun(body['svm']['name'], body['name'], body['space']['size'], body['os_type'],
                                    body.get('comment'))
        return 201, {'num_records': 1, 'records': [{'uuid': record['uuid'], 'name': record['name']}]}

    def patch_lun(self, query, body, path, lun):
        self.only(query, set())
        record = self.lun(lun)
        require_body_fields(body, {'space', 'comment'})
        if 'space' in body:
            require_body_fields(body['space'], {'size'}, ('size',))
            size = body['space']['size']
            if not isinstance(size, int) or size < record['space']['size']:
                raise bad_field('Reducing the size of a LUN requires the CLI; requested %r.' % (size,))
            record['space']['size'] = -(-size // LUN_ROUNDING) * LUN_ROUNDING
        if 'comment' in body:
            if len(body['comment']) > 254:
                raise bad_field('Field "comment" is longer than 254 characters.')
            record['comment'] = body['comment']
        return 200, {}

    def delete_lun(self, query, body, path, lun):
        self.only(query, {'allow_delete_while_mapped'})
        self.no_body(body)
        self.state.delete_lun(self.lun(lun))
        return 200, {}

    def post_clone(self, query, body, path):
        self.only(query, {'return_timeout'})
        require_body_fields(body, {'volume', 'source_path', 'destination_path', 'overwrite_destination',
                                   'autodelete', 'is_backup'}, ('volume.uuid', 'source_path', 'destination_path'))
        volume = self.volume(body['volume']['uuid'])
        if body['volume'].get('name') not in (None, volume['name']):
            raise bad_field('volume.name "%s" does not match volume.uuid.' % body['volume']['name'])
        source, destination = body['source_path'], body['destination_path']
        return 202, {'job': self.job_link(self.state.start_job(
            'POST /api/storage/file/clone', lambda: self.state.clone_file(volume, source, destination)))}

    # -- igroups ------------------------------------------------------------------------------------
    def get_igroups(self, query, body, path):
        return 200, query_collection('igroup', list(self.state.igroups.values()), query, path, self.state.page_size)

    def igroup(self, ig_uuid):
        if ig_uuid not in self.state.igroups:
            raise ApiError(404, '5374852', 'The initiator group does not exist.')
        return self.state.igroups[ig_uuid]

    def post_igroup(self, query, body, path):
        self.only(query, {'return_records'})
        require_body_fields(body, {'svm', 'name', 'protocol', 'os_type', 'initiators', 'comment'},
                            ('svm.name', 'name', 'os_type'))
        initiators = []
        for entry in body.get('initiators', []):
            require_body_fields(entry, {'name', 'comment'}, ('name',))
            initiators.append(entry['name'])
        record = self.state.add_igroup(body['svm']['name'], body['name'], body.get('protocol', 'mixed'),
                                       body['os_type'], initiators)
        return 201, {'num_records': 1, 'records': [{'uuid': record['uuid'], 'name': record['name']}]}

    def patch_igroup(self, query, body, path, ig):
        self.only(query, set())
        record = self.igroup(ig)
        require_body_fields(body, {'os_type', 'comment'})
        if 'os_type' in body:
            if body['os_type'] not in OS_TYPES:
                raise bad_field('"%s" is an invalid value for field "os_type".' % body['os_type'])
            record['os_type'] = body['os_type']
        return 200, {}

    def delete_igroup(self, query, body, path, ig):
        self.only(query, {'allow_delete_while_mapped'})
        self.no_body(body)
        self.state.delete_igroup(self.igroup(ig), query.get('allow_delete_while_mapped') == 'true')
        return 200, {}

    def post_initiators(self, query, body, path, ig):
        self.only(query, {'return_records'})
        record = self.igroup(ig)
        require_body_fields(body, {'name', 'records'})
        if ('name' in body) == ('records' in body):
            raise bad_field('Exactly one of "name" or "records" must be supplied.')
        names = [body['name']] if 'name' in body else [entry.get('name') for entry in body['records']]
        self.state.add_initiators(record, names)
        return 201, {}

    def delete_initiator(self, query, body, path, ig, name):
        self.only(query, {'allow_delete_while_mapped'})
        self.no_body(body)
        record = self.igroup(ig)
        if record['lun_maps'] and query.get('allow_delete_while_mapped') != 'true':
            raise ApiError(409, '1254213', 'The initiator group is mapped to one or more LUNs and '
                           'allow_delete_while_mapped has not been specified.')
        before = len(record['initiators'])
        record['initiators'] = [entry for entry in record['initiators'] if entry['name'] != name.lower()]
        if len(record['initiators']) == before:
            raise ApiError(404, '5374034', 'An initiator is not a member of the initiator group.')
        return 200, {}

    # -- LUN maps -----------------------------------------------------------------------------------
    def get_maps(self, query, body, path):
        return 200, query_collection('lun_map', [self.state.map_record(key) for key in self.state.maps], query, path, self.state.page_size)

    def post_map(self, query, body, path):
        self.only(query, {'return_records'})
        require_body_fields(body, {'svm', 'lun', 'igroup', 'logical_unit_number'}, ('svm.name', 'lun', 'igroup'))
        svm_name = body['svm']['name']
        self.state.svm_named(svm_name)
        lun_uuid = body['lun'].get('uuid') or self.state.lun_by_path.get((svm_name, body['lun'].get('name')))
        if lun_uuid not in self.state.luns:
            raise ApiError(404, '5374875', 'The specified LUN does not exist or is not accessible to the caller.')
        ig_uuid = body['igroup'].get('uuid') or self.state.igroup_by_name.get((svm_name, body['igroup'].get('name')))
        if ig_uuid not in self.state.igroups:
            raise ApiError(404, '5374878', 'The specified initiator group does not exist, is not accessible to the '
                           'caller, or is not in the same SVM as the specified LUN.')
        number = self.state.map_lun(self.state.luns[lun_uuid], self.state.igroups[ig_uuid],
                                    body.get('logical_unit_number'))
        return 201, {'num_records': 1, 'records': [{'logical_unit_number': number}]}

    def delete_map(self, query, body, path, lun, ig):
        self.only(query, set())
        self.no_body(body)
        self.state.unmap_lun(self.lun(lun), self.igroup(ig))
        return 200, {}


# ---------------------------------------------------------------------------------------------------
# ZAPI
# ---------------------------------------------------------------------------------------------------
class ZapiError(Exception):
    def __init__(self, errno, reason):
        super(ZapiError, self).__init__(reason)
        self.errno = str(errno)
        self.reason = reason


def child_text(element, name, required=False):
    child = element.find(name) if element is not None else None
    if child is None or child.text is None:
        if required:
            raise ZapiError('13115', 'Missing input: %s' % name)
        return None
    return child.text


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

    def handle(self, payload):
        try:
            root = ElementTree.fromstring(payload)
        except ElementTree.ParseError as exc:
            return self.failed('13001', 'Invalid XML: %s' % exc)
        if root.tag not in ('netapp', '{%s}netapp' % ZAPI_NS) or len(root) != 1:
            return self.failed('13001', 'Request is not a single API inside <netapp>')
        for node in root.iter():
            if node.tag.startswith('{'):
                node.tag = node.tag.split('}', 1)[1]
        api = root[0]
        vserver = root.get('vfiler')
        handler = getattr(self, 'api_' + api.tag.replace('-', '_'), None)
        if handler is None:
            return self.failed('13005', 'Unable to find API: %s' % api.tag)
        try:
            if api.tag not in self.CLUSTER_APIS:
                if not vserver:
                    raise ZapiError('13005', 'Unable to find API: %s on the cluster: it needs a vserver '
                                             '(vfiler tunnelling)' % api.tag)
                if self.state.svm_named(vserver, required=False) is None:
                    raise ZapiError('15698', 'Specified vserver not found')
            children = handler(api, vserver) or []
        except ZapiError as exc:
            return self.failed(exc.errno, exc.reason)
        except ApiError as exc:
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
        max_records = min(int(child_text(api, 'max-records') or 20), self.state.page_size)
        start = int(child_text(api, 'tag') or 0)
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

    # -- APIs ---------------------------------------------------------------------------------------
    def api_system_get_ontapi_version(self, api, vserver):
        return [el('major-version', 1), el('minor-version', 201)]

    def api_vserver_get_iter(self, api, vserver):
        def match(svm, query):
            wanted = self.q(query, 'vserver-name')
            return wanted is None or value_matches(wanted, svm['name'])
        return self.iter_response(api, list(self.state.svms.values()), 'vserver-info', match,
                                  lambda svm: el('vserver-info', children=[el('vserver-name', svm['name']),
                                                                           el('uuid', svm['uuid'])]))

    def api_volume_get_iter(self, api, vserver):
        def match(volume, query):
            name = self.q(query, 'volume-id-attributes/name')
            return volume['svm']['name'] == vserver and (name is None or value_matches(name, volume['name']))
        return self.iter_response(api, list(self.state.volumes.values()), 'volume-attributes', match,
                                  lambda volume: el('volume-attributes', children=[el('volume-id-attributes', children=[
                                      el('name', volume['name']), el('owning-vserver-name', volume['svm']['name']),
                                      el('uuid', volume['uuid'])])]))

    def igroup_by_name(self, vserver, name):
        ig_uuid = self.state.igroup_by_name.get((vserver, name))
        if ig_uuid is None:
            raise ZapiError('15661', 'initiator group "%s" does not exist' % name)
        return self.state.igroups[ig_uuid]

    def api_igroup_get_iter(self, api, vserver):
        def match(igroup, query):
            name = self.q(query, 'initiator-group-name')
            return igroup['svm']['name'] == vserver and (name is None or value_matches(name, igroup['name']))

        def render(igroup):
            return el('initiator-group-info', children=[
                el('initiator-group-name', igroup['name']), el('initiator-group-type', igroup['protocol']),
                el('initiator-group-os-type', igroup['os_type']), el('initiator-group-uuid', igroup['uuid']),
                el('vserver', vserver), el('initiators', children=[
                    el('initiator-info', children=[el('initiator-name', entry['name'])])
                    for entry in igroup['initiators']])])
        return self.iter_response(api, list(self.state.igroups.values()), 'initiator-group-info', match, render)

    def api_igroup_create(self, api, vserver):
        self.state.add_igroup(vserver, child_text(api, 'initiator-group-name', True),
                              child_text(api, 'initiator-group-type') or 'iscsi', child_text(api, 'os-type') or 'linux')

    def api_igroup_add(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        self.state.add_initiators(igroup, [child_text(api, 'initiator', True)])

    def api_igroup_remove(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        name = child_text(api, 'initiator', True).lower()
        if igroup['lun_maps'] and child_text(api, 'force') != 'true':
            raise ZapiError('9035', 'Initiator group is mapped; use force to remove initiator %s' % name)
        if name not in [entry['name'] for entry in igroup['initiators']]:
            raise ZapiError('9030', 'Initiator %s is not in initiator group %s' % (name, igroup['name']))
        igroup['initiators'] = [entry for entry in igroup['initiators'] if entry['name'] != name]

    def api_igroup_set_os_type(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        os_type = child_text(api, 'os-type', True)
        if os_type not in OS_TYPES:
            raise ZapiError('13115', 'Invalid value specified for "os-type" element: %s' % os_type)
        igroup['os_type'] = os_type

    def api_igroup_destroy(self, api, vserver):
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group-name', True))
        if igroup['lun_maps'] and child_text(api, 'force') != 'true':
            raise ZapiError('9006', 'Initiator group %s is mapped; use force' % igroup['name'])
        self.state.delete_igroup(igroup, allow_mapped=True)

    def lun_by_path(self, vserver, path):
        lun_uuid = self.state.lun_by_path.get((vserver, path))
        if lun_uuid is None:
            raise ZapiError('9017', 'No such LUN exists: %s' % path)
        return self.state.luns[lun_uuid]

    def api_lun_get_iter(self, api, vserver):
        def match(lun, query):
            checks = (('path', lun['name']), ('volume', lun['location']['volume']['name']),
                      ('comment', lun['comment']))
            return lun['svm']['name'] == vserver and all(
                self.q(query, key) is None or value_matches(self.q(query, key), actual) for key, actual in checks)

        def render(lun):
            return el('lun-info', children=[
                el('path', lun['name']), el('volume', lun['location']['volume']['name']),
                el('size', lun['space']['size']), el('multiprotocol-type', lun['os_type']),
                el('serial-number', lun['serial_number']), el('comment', lun['comment']),
                el('mapped', 'true' if lun['lun_maps'] else 'false'), el('uuid', lun['uuid']),
                el('vserver', vserver)])
        return self.iter_response(api, list(self.state.luns.values()), 'lun-info', match, render)

    def api_lun_create_by_size(self, api, vserver):
        size = child_text(api, 'size', True)
        if not size.isdigit():
            raise ZapiError('13115', 'Invalid value specified for "size" element: %s' % size)
        lun = self.state.add_lun(vserver, child_text(api, 'path', True), int(size), child_text(api, 'ostype') or 'linux')
        return [el('actual-size', lun['space']['size'])]

    def api_lun_resize(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        size = int(child_text(api, 'size', True))
        if size < lun['space']['size'] and child_text(api, 'force') != 'true':
            raise ZapiError('9042', 'Reducing the size of LUN %s requires force' % lun['name'])
        lun['space']['size'] = -(-size // LUN_ROUNDING) * LUN_ROUNDING
        return [el('actual-size', lun['space']['size'])]

    def api_lun_destroy(self, api, vserver):
        self.state.delete_lun(self.lun_by_path(vserver, child_text(api, 'path', True)))

    def api_lun_set_comment(self, api, vserver):
        self.lun_by_path(vserver, child_text(api, 'path', True))['comment'] = child_text(api, 'comment') or ''

    def api_lun_map(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group', True))
        lun_id = child_text(api, 'lun-id')
        number = self.state.map_lun(lun, igroup, int(lun_id) if lun_id is not None else None)
        return [el('lun-id-assigned', number)]

    def api_lun_unmap(self, api, vserver):
        lun = self.lun_by_path(vserver, child_text(api, 'path', True))
        igroup = self.igroup_by_name(vserver, child_text(api, 'initiator-group', True))
        self.state.unmap_lun(lun, igroup)

    def api_lun_map_get_iter(self, api, vserver):
        def match(record, query):
            checks = (('path', record['lun']['name']), ('initiator-group', record['igroup']['name']))
            return record['svm']['name'] == vserver and all(
                self.q(query, key) is None or value_matches(self.q(query, key), actual) for key, actual in checks)

        def render(record):
            return el('lun-map-info', children=[
                el('path', record['lun']['name']), el('initiator-group', record['igroup']['name']),
                el('lun-id', record['logical_unit_number']), el('vserver', vserver)])
        return self.iter_response(api, [self.state.map_record(key) for key in self.state.maps], 'lun-map-info',
                                  match, render)

    def api_snapshot_get_iter(self, api, vserver):
        def match(snapshot, query):
            checks = (('name', snapshot['name']), ('volume', snapshot['volume']['name']))
            return snapshot['svm']['name'] == vserver and all(
                self.q(query, key) is None or value_matches(self.q(query, key), actual) for key, actual in checks)

        def render(snapshot):
            return el('snapshot-info', children=[
                el('name', snapshot['name']), el('volume', snapshot['volume']['name']), el('vserver', vserver),
                el('access-time', calendar.timegm(time.strptime(snapshot['create_time'][:19], '%Y-%m-%dT%H:%M:%S'))),
                el('snapshot-instance-uuid', snapshot['uuid'])])
        return self.iter_response(api, list(self.state.snapshots.values()), 'snapshot-info', match, render)

    def api_snapshot_create(self, api, vserver):
        volume = self.state.volume_named(vserver, child_text(api, 'volume', True))
        name = child_text(api, 'snapshot', True)
        if self.state.snapshot_named(volume, name):
            raise ZapiError('13020', 'Snapshot copy %s already exists' % name)
        self.state.create_snapshot(volume, name)

    def api_snapshot_delete(self, api, vserver):
        volume = self.state.volume_named(vserver, child_text(api, 'volume', True))
        snapshot = self.state.snapshot_named(volume, child_text(api, 'snapshot', True))
        if snapshot is None:
            raise ZapiError('15661', 'Snapshot copy does not exist')
        self.state.delete_snapshot(snapshot)

    def api_clone_create(self, api, vserver):
        volume = self.state.volume_named(vserver, child_text(api, 'volume', True))
        source = child_text(api, 'source-path', True)
        snapshot = child_text(api, 'snapshot-name')
        if snapshot:
            source = '.snapshot/%s/%s' % (snapshot, source)
        self.state.clone_file(volume, source, child_text(api, 'destination-path', True))


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
        if not split.path.startswith('/api/') and split.path != '/api':
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
                status, result = self.server.rest.dispatch(self.command, split.path, query, body)
        except ApiError as exc:
            return self.reply(exc.status, {'error': {'message': exc.message, 'code': exc.code}})
        return self.reply(status, result)

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
