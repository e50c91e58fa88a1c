# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAN side of san.iscsi's snapshot automount, with least privilege.

Installed by the snapshot_automount role (which puts ``#!/usr/bin/python3`` in front). With LIO it runs on the storage host as the forced command of one
browse host's SSH key (``restrict,command="automount-san CONFIG"`` in root's authorized_keys), so that key can
do these three things and nothing else, whatever the browse host sends:

``list``
    The snapshots of the configured volume (``[{lun, snapshot, created}]``) and the clones this helper made
    (``[{key, clone, mapped}]``).
``attach LUN@SNAPSHOT``
    A clone of the snapshot, named ``<label>-<16 hex digits of the key's SHA-256>`` (the label is the
    configuration's), mapped to the configuration's igroup; answers the target, portals, LUN id and WWID.
    The same key again answers the same clone.
``detach LUN@SNAPSHOT``
    Unmaps and deletes that key's clone; nothing when it is gone.

Only clones whose name carries the label and whose recorded parent is the key's snapshot are ever unmapped or
deleted. The volume, igroup, target and label come from CONFIG (root-owned JSON), never from the request.
The answer is one JSON object on stdout, ``{"ok": true, ...}`` or ``{"ok": false, "error_code": ..., "msg":
...}`` (exit status 0 or 1). SAN changes go through the collection's SAN backend (``_san_factory``), copied
next to this program by the role, with its locks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import hashlib
import json
import os
import re
import sys

DEFAULT_LIB = '/usr/local/lib/san-iscsi/python'
NAME = r'[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}'
KEY_RE = re.compile(r'^(%s)@(%s)$' % (NAME, NAME))
LABEL_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$')
COMMANDS = ('list', 'attach', 'detach')
CONFIG_KEYS = ('provider', 'volume', 'igroup', 'label', 'target', 'portals', 'tpg', 'lib', 'lock')


class Refused(Exception):
    """A request this helper will not carry out: ERROR_CODE for the browse host, MSG for people."""

    def __init__(self, error_code, msg):
        super(Refused, self).__init__(msg)
        self.error_code = error_code
        self.msg = msg


def parse_request(text):
    """('list', None) or (command, (lun, snapshot)) from the SSH command line; Refused for anything else."""
    words = (text or '').split()
    if not words or words[0] not in COMMANDS:
        raise Refused('refused', 'this key may only run: list, attach LUN@SNAPSHOT, detach LUN@SNAPSHOT')
    if words[0] == 'list':
        if len(words) != 1:
            raise Refused('refused', 'list takes no argument')
        return 'list', None
    if len(words) != 2:
        raise Refused('refused', '%s takes one LUN@SNAPSHOT' % words[0])
    match = KEY_RE.match(words[1])
    if not match:
        raise Refused('invalid_key', 'not a LUN@SNAPSHOT key: %r' % words[1])
    return words[0], (match.group(1), match.group(2))


def clone_name(label, lun, snapshot):
    digest = hashlib.sha256(('%s@%s' % (lun, snapshot)).encode('utf-8')).hexdigest()[:16]
    return '%s-%s' % (label, digest)


def load_config(path):
    with open(path) as handle:
        config = json.load(handle)
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    missing = [key for key in ('provider', 'volume', 'igroup', 'label') if not config.get(key)]
    if unknown or missing:
        raise Refused('config', '%s: unknown keys %s, missing keys %s' % (path, unknown, missing))
    if not LABEL_RE.match(config['label']):
        raise Refused('config', '%s: label %r: letters, digits, _ and . (at most 32)' % (path, config['label']))
    return config


def backend_params(config):
    params = {'provider': config['provider']}
    if config['provider'] == 'lio':
        params.update(target=config.get('target'), tpg=config.get('tpg', 1), portals=None, save_file=None)
    return params


class SanSide(object):
    """The three requests on one BACKEND (a san.iscsi SanBackend) for one CONFIG."""

    def __init__(self, backend, config):
        self.backend = backend
        self.volume = config['volume']
        self.igroup = config['igroup']
        self.label = config['label']
        self.target = config.get('target')
        self.portals = list(config.get('portals') or [])

    def source(self, lun, snapshot):
        return {'volume': self.volume, 'snapshot': snapshot, 'lun': lun}

    def ours(self, lun_info, lun, snapshot):
        """Whether LUN_INFO is this helper's clone of that snapshot (label and recorded parent)."""
        return (lun_info is not None and lun_info['name'] == clone_name(self.label, lun, snapshot)
                and lun_info.get('clone_parent') == self.source(lun, snapshot))

    def list(self):
        snapshots = [{'lun': snap['lun'], 'snapshot': snap['name'], 'created': snap.get('create_time')}
                     for snap in self.backend.list_snapshots(self.volume)]
        clones = []
        prefix = self.label + '-'
        for lun_info in self.backend.list_luns(self.volume):
            parent = lun_info.get('clone_parent')
            if not lun_info['name'].startswith(prefix) or not parent:
                continue
            if self.ours(lun_info, parent['lun'], parent['snapshot']):
                clones.append({'key': '%s@%s' % (parent['lun'], parent['snapshot']), 'clone': lun_info['name'],
                               'mapped': any(m.get('igroup') == self.igroup for m in lun_info.get('maps') or [])})
        return {'snapshots': snapshots, 'clones': clones}

    def attach(self, lun, snapshot):
        name = clone_name(self.label, lun, snapshot)
        current = self.backend.get_lun(self.volume, name)
        created = False
        if current is not None and not self.ours(current, lun, snapshot):
            raise Refused('conflict', 'LUN %s exists and is not the clone of %s@%s' % (name, lun, snapshot))
        if current is None:
            found = self.backend.get_snapshot(self.volume, snapshot)
            if found is None or found['lun'] != lun:
                raise Refused('not_found', 'no snapshot %s of LUN %s in %s' % (snapshot, lun, self.volume))
            current = self.backend.clone_lun(self.volume, name, self.source(lun, snapshot),
                                             self.backend.default_os_type)
            created = True
        try:
            path = current['path']
            mapped = self.backend.get_lun_map(path, self.igroup) or self.backend.create_lun_map(path, self.igroup)
        except Exception:
            if created:
                self.backend.delete_lun(self.volume, name)
            raise
        return {'clone': name, 'created': created, 'lun_id': mapped['lun_id'], 'wwid': current['wwid'],
                'serial': current['serial'], 'target': self.target, 'portals': self.portals}

    def detach(self, lun, snapshot):
        name = clone_name(self.label, lun, snapshot)
        current = self.backend.get_lun(self.volume, name)
        if current is None:
            return {'clone': name, 'deleted': False}
        if not self.ours(current, lun, snapshot):
            raise Refused('conflict', 'LUN %s is not the clone of %s@%s: left alone' % (name, lun, snapshot))
        for mapping in current.get('maps') or []:
            self.backend.delete_lun_map(current['path'], mapping['igroup'])
        self.backend.delete_lun(self.volume, name)
        return {'clone': name, 'deleted': True}

    def handle(self, command, key):
        if command == 'list':
            return self.list()
        return getattr(self, command)(*key)


def make_backend(config):
    """The collection's SAN backend for CONFIG, through the module_utils copied next to this program."""
    lib = config.get('lib') or DEFAULT_LIB
    if lib not in sys.path:
        sys.path.insert(0, lib)
    from ansible_collections.san.iscsi.plugins.module_utils._san_factory import get_backend
    from ansible_collections.san.iscsi.plugins.module_utils._script_host import ScriptModule
    return get_backend(ScriptModule(backend_params(config)))


def serve(config_path, request, backend_factory=make_backend):
    """The answer (a dict with ok) to REQUEST under CONFIG_PATH; one request at a time per configuration."""
    try:
        command, key = parse_request(request)
        config = load_config(config_path)
        with open(config.get('lock') or '/run/lock/san-iscsi-automount-%s.lock' % config['label'], 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            answer = SanSide(backend_factory(config), config).handle(command, key)
        answer['ok'] = True
        return answer
    except Refused as exc:
        return {'ok': False, 'error_code': exc.error_code, 'msg': exc.msg}
    except Exception as exc:  # pylint: disable=broad-except
        # the backend's SanError and ScriptFailure carry an error_code; anything else is a failure of this helper
        code = getattr(exc, 'code', None) or getattr(exc, 'error_code', None)
        result = getattr(exc, 'result', None) or {}
        return {'ok': False, 'error_code': result.get('error_code') or code or 'san_error',
                'msg': result.get('msg') or str(exc) or exc.__class__.__name__}


def main(argv=None, environ=None):
    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if len(argv) < 2:
        sys.stderr.write('usage: %s CONFIG (the request in SSH_ORIGINAL_COMMAND, or as the next arguments)\n'
                         % argv[0])
        return 2
    request = environ.get('SSH_ORIGINAL_COMMAND')
    if request is None:
        request = ' '.join(argv[2:])
    answer = serve(argv[1], request)
    sys.stdout.write(json.dumps(answer, sort_keys=True) + '\n')
    return 0 if answer['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
