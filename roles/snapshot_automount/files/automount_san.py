# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SAN side of san.iscsi's snapshot automount, with least privilege.

Installed by the snapshot_automount role (which puts ``#!/usr/bin/python3`` in front); CONFIG's ``provider`` says
where it runs:

``lio``
    On the storage host, as the forced command of one browse host's SSH key
    (``restrict,command="automount-san CONFIG"`` in root's authorized_keys), so that key can do these three
    things and nothing else, whatever the browse host sends (the request is ``SSH_ORIGINAL_COMMAND``).
``ontap``
    On the browse host itself, for root only, as ``automount-san CONFIG REQUEST...``. It talks ONTAP REST
    (``use_rest`` always) to the SVM ``vserver`` at ``hostname`` as ``username``, a dedicated account whose REST
    role allows the calls below and no more; the password is read from ``password_file`` (a root-only file:
    refused when group or other may read it), never from the configuration, the command line or the answer.
    ONTAP cannot limit that account to LUN names: the label rule below is enforced here (give the account a
    dedicated SVM, or at least a dedicated volume, for the snapshots it may browse).

The requests:

``list``
    The snapshots of the configured volume (``[{lun, snapshot, created}]``) and the clones this helper made
    (``[{key, clone, mapped}]``). An ONTAP snapshot holds the whole volume: it is listed once per LUN of the
    volume today, except the LUNs named with this helper's label (its clones).
``attach LUN@SNAPSHOT``
    A clone of the snapshot, named ``<label>-<16 hex digits of the key's SHA-256>`` (the label is the
    configuration's), mapped to the configuration's igroup; answers the target, portals, LUN id, WWID and serial.
    The same key again answers the same clone. ``not_found`` when the snapshot does not exist or does not hold
    that LUN.
``detach LUN@SNAPSHOT``
    Unmaps and deletes that key's clone; nothing when it is gone.

Only clones whose name carries the label and whose recorded parent is the key's snapshot (LIO: the snapshot LV;
ONTAP: the clone's LUN comment) are ever unmapped or deleted. The volume, igroup, target, label and the array's
address and account come from CONFIG (root-owned JSON, keys ``CONFIG_KEYS``), never from the request.
The answer is one JSON object on stdout, ``{"ok": true, ...}`` or ``{"ok": false, "error_code": ..., "msg":
...}`` (exit status 0 or 1). SAN changes go through the collection's SAN backend (``_san_factory``), copied
next to this program by the role (``lib``), with its locks; no ansible-core is needed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import hashlib
import json
import os
import re
import stat
import sys

DEFAULT_LIB = '/usr/local/lib/san-iscsi/python'
NAME = r'[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}'
KEY_RE = re.compile(r'^(%s)@(%s)$' % (NAME, NAME))
LABEL_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$')
COMMANDS = ('list', 'attach', 'detach')
# Keys of every configuration, then the keys only one provider takes (REQUIRED_KEYS: those it needs).
COMMON_KEYS = ('provider', 'volume', 'igroup', 'label', 'target', 'portals', 'lib', 'lock')
PROVIDER_KEYS = {
    'lio': ('tpg',),
    'ontap': ('hostname', 'username', 'password_file', 'vserver', 'https', 'validate_certs', 'ca_path', 'http_port',
              'timeout'),
}
REQUIRED_KEYS = {'lio': (), 'ontap': ('hostname', 'username', 'password_file', 'vserver')}
CONFIG_KEYS = COMMON_KEYS + PROVIDER_KEYS['lio'] + PROVIDER_KEYS['ontap']
BOOLEAN_KEYS = ('https', 'validate_certs')
NUMBER_KEYS = ('http_port', 'timeout')
ONTAP_TIMEOUT = 60       # seconds per HTTP request (the san.iscsi.san doc fragment's default)
ONTAP_JOB_TIMEOUT = 120  # seconds a clone job may take
ONTAP_NOT_FOUND = '4'    # ONTAP REST's "not found" code, also of a clone job whose source file is missing


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
    if not isinstance(config, dict):
        raise Refused('config', '%s: not a JSON object' % path)
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    missing = [key for key in ('provider', 'volume', 'igroup', 'label') if not config.get(key)]
    if unknown or missing:
        raise Refused('config', '%s: unknown keys %s, missing keys %s' % (path, unknown, missing))
    provider = config['provider']
    if provider not in PROVIDER_KEYS:
        raise Refused('config', '%s: provider %r: expected one of %s'
                      % (path, provider, ', '.join(sorted(PROVIDER_KEYS))))
    foreign = sorted(key for other, keys in PROVIDER_KEYS.items() if other != provider for key in keys if key in config)
    missing = [key for key in REQUIRED_KEYS[provider] if not config.get(key)]
    if foreign or missing:
        raise Refused('config', '%s: provider %s: keys of another provider %s, missing keys %s'
                      % (path, provider, foreign, missing))
    if not LABEL_RE.match(config['label']):
        raise Refused('config', '%s: label %r: letters, digits, _ and . (at most 32)' % (path, config['label']))
    wrong = [key for key in BOOLEAN_KEYS if key in config and not isinstance(config[key], bool)]
    wrong += [key for key in NUMBER_KEYS if config.get(key) is not None and (
        isinstance(config[key], bool) or not isinstance(config[key], int) or config[key] <= 0)]
    if wrong:
        raise Refused('config', '%s: %s: %s must be true or false, %s a positive number'
                      % (path, ', '.join(wrong), ' and '.join(BOOLEAN_KEYS), ' and '.join(NUMBER_KEYS)))
    return config


def open_secret(path):
    """A descriptor of the password file PATH, refused (Refused 'config') unless it is a regular file of the user
    running this helper that neither group nor other may access."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, 'O_CLOEXEC', 0))
    except (OSError, TypeError, ValueError) as exc:
        raise Refused('config', 'password_file %r: %s' % (path, getattr(exc, 'strerror', None) or exc))
    info = os.fstat(descriptor)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = 'not a regular file'
    elif info.st_uid != os.geteuid():
        problem = 'owned by uid %d, not by uid %d, who runs this helper' % (info.st_uid, os.geteuid())
    elif info.st_mode & 0o077:
        problem = 'mode %04o lets group or other read it: chmod 0600 it' % stat.S_IMODE(info.st_mode)
    if problem:
        os.close(descriptor)
        raise Refused('config', 'password_file %s is %s' % (path, problem))
    return descriptor


def read_secret(path):
    """The password in the file PATH (checked as open_secret does), without its final line break."""
    with os.fdopen(open_secret(path), 'rb') as handle:
        secret = handle.read().decode('utf-8').rstrip('\r\n')
    if not secret:
        raise Refused('config', 'password_file %s is empty' % path)
    return secret


def backend_params(config):
    """The module params of the collection's SAN backend for CONFIG (ONTAP: the password read from its file)."""
    params = {'provider': config['provider']}
    if config['provider'] == 'lio':
        params.update(target=config.get('target'), tpg=config.get('tpg', 1), portals=None, save_file=None)
    elif config['provider'] == 'ontap':
        params.update(hostname=config['hostname'], username=config['username'], vserver=config['vserver'],
                      password=read_secret(config['password_file']),
                      https=config.get('https', True), validate_certs=config.get('validate_certs', True),
                      ca_path=config.get('ca_path'), http_port=config.get('http_port'),
                      timeout=config.get('timeout') or ONTAP_TIMEOUT, use_rest='always',
                      job_timeout=ONTAP_JOB_TIMEOUT)
    return params


def clone_source_missing(exc):
    """Whether EXC, raised by clone_lun, says the LUN is not in the snapshot: the REST backend raises the failed
    clone job's code (ONTAP_NOT_FOUND), a SanError only; SanNotFound (default_code not_found) from other checks."""
    return getattr(exc, 'default_code', None) == 'not_found' or str(getattr(exc, 'code', '')) == ONTAP_NOT_FOUND


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
        found = self.backend.list_snapshots(self.volume)
        luns = self.backend.list_luns(self.volume)
        prefix = self.label + '-'
        # ONTAP: a snapshot holds the volume (lun None): offer it for each LUN of the volume that is not a clone
        # of this helper (a LUN created since the snapshot answers not_found on attach)
        sources = [lun_info['name'] for lun_info in luns if not lun_info['name'].startswith(prefix)]
        snapshots = [{'lun': lun, 'snapshot': snap['name'], 'created': snap.get('create_time')}
                     for snap in found for lun in ([snap['lun']] if snap['lun'] is not None else sources)]
        clones = []
        for lun_info in luns:
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
            if found is None or found['lun'] not in (None, lun):
                raise Refused('not_found', 'no snapshot %s of LUN %s in %s' % (snapshot, lun, self.volume))
            try:
                current = self.backend.clone_lun(self.volume, name, self.source(lun, snapshot),
                                                 self.backend.default_os_type)
            except Exception as exc:
                # a volume-wide snapshot (ONTAP) may not hold the LUN: only the clone can tell
                if found['lun'] is None and clone_source_missing(exc):
                    raise Refused('not_found', 'no LUN %s in snapshot %s of %s: %s'
                                  % (lun, snapshot, self.volume, getattr(exc, 'message', None) or exc))
                raise
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
