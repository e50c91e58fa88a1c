# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_automount/files/automount_san.py with provider ontap, against the ONTAP emulator (tests/doubles).

The real helper end to end: a configuration file and a password file in tmp_path, ``serve`` with the real
``make_backend`` (the collection's REST backend over HTTPS on loopback to the emulator), the emulator's state
checked after each request. No mock of the backend."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _san_factory
from ansible_collections.san.iscsi.plugins.module_utils._san_backend import naa_ontap
from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator, RestApi, State
from ansible_collections.san.iscsi.tests.unit.role_files import load_role_file, role_file

san = load_role_file('snapshot_automount', 'automount_san.py')

PASSWORD = 'Pw-0f-the-automount-account!'
LABEL = 'amh1'
IGROUP = 'am_h1'
TARGET = 'iqn.1992-08.com.netapp:sn.0123456789:vs.3'
PORTALS = ['192.0.2.10', '192.0.2.11']
# the directory holding ansible_collections/san/iscsi (the role copies module_utils to such a "lib")
LIB = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    _san_factory.__file__))))))


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    emu = Emulator(str(tmp_path_factory.mktemp('emu')), username='automount', password=PASSWORD).start()
    yield emu
    emu.stop()


class Array(object):
    """A fresh emulated SVM svm1: volume vol1 with LUNs db and web, snapshots s1 and s2 of both, then LUN late
    (in no snapshot); igroups am_h1 (the browse host's) and prod; a LUN in vol2 the helper must not see."""

    def __init__(self, emulator):
        self.state = state = State()
        state.log = []
        emulator.state = emulator.server.state = state
        emulator.server.rest = RestApi(state)
        state.add_svm('svm1')
        self.volume = state.volumes[state.add_volume('svm1', 'vol1')]
        state.add_volume('svm1', 'vol2')
        for name in ('db', 'web'):
            state.add_lun('svm1', '/vol/vol1/%s' % name, 8 * 1048576)
        state.add_lun('svm1', '/vol/vol2/other', 1048576)
        self.snapshots = dict((name, state.create_snapshot(self.volume, name)['create_time']) for name in ('s1', 's2'))
        state.add_lun('svm1', '/vol/vol1/late', 1048576)
        state.add_igroup('svm1', IGROUP, 'iscsi', 'linux', ['iqn.2026-12.org.example:browse1'])
        state.add_igroup('svm1', 'prod', 'iscsi', 'linux', ['iqn.2026-12.org.example:prod'])

    def luns(self):
        """{path: (comment, {igroup: lun id})} of every LUN."""
        with self.state.lock:
            return dict((lun['name'], (lun['comment'], dict((entry['igroup']['name'], entry['logical_unit_number'])
                                                            for entry in lun['lun_maps'])))
                        for lun in self.state.luns.values())

    def lun(self, name):
        with self.state.lock:
            return dict(self.state.luns[self.state.lun_by_path[('svm1', '/vol/vol1/%s' % name)]])

    def writes(self):
        with self.state.lock:
            return [(method, path.split('?', 1)[0]) for method, path in self.state.log if method != 'GET']

    def requests(self):
        with self.state.lock:
            return list(self.state.log)


@pytest.fixture
def array(emulator):
    return Array(emulator)


def write_password(tmp_path, secret=PASSWORD, mode=0o600):
    path = tmp_path / 'ontap.password'
    path.write_text(secret + '\n')
    os.chmod(str(path), mode)
    return str(path)


def write_config(tmp_path, emulator, **changes):
    config = {'provider': 'ontap', 'volume': 'vol1', 'igroup': IGROUP, 'label': LABEL, 'target': TARGET,
              'portals': PORTALS, 'lib': LIB, 'lock': str(tmp_path / 'lock'), 'hostname': '127.0.0.1',
              'http_port': emulator.port, 'ca_path': emulator.cert, 'username': 'automount',
              'password_file': changes.pop('password_file', None) or write_password(tmp_path), 'vserver': 'svm1'}
    config.update(changes)
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(config))
    return str(path)


@pytest.fixture
def config(tmp_path, emulator):
    return write_config(tmp_path, emulator)


def serve(config, request):
    """The helper's answer through the real make_backend (no backend_factory given); it never shows the password."""
    answer = san.serve(config, request)
    assert PASSWORD not in json.dumps(answer)
    return answer


def comment(lun, snapshot, volume='vol1'):
    return 'san.iscsi:clone_from=/vol/%s/.snapshot/%s/%s' % (volume, snapshot, lun)


def test_attach_clones_from_the_snapshot_maps_and_answers_where_to_log_in(array, config):
    before = array.luns()
    answer = serve(config, 'attach db@s1')
    clone = san.clone_name(LABEL, 'db', 's1')
    assert clone.startswith(LABEL + '-') and len(clone) == len(LABEL) + 17
    record = array.lun(clone)
    assert answer == {'ok': True, 'clone': clone, 'created': True, 'lun_id': 0, 'serial': record['serial_number'],
                      'wwid': naa_ontap(record['serial_number']), 'target': TARGET, 'portals': PORTALS}
    assert array.luns() == dict(before, **{'/vol/vol1/' + clone: (comment('db', 's1'), {IGROUP: 0})})
    assert array.writes() == [('POST', '/api/storage/file/clone'), ('PATCH', '/api/storage/luns/' + record['uuid']),
                              ('POST', '/api/protocols/san/lun-maps')]


def test_attach_again_answers_the_same_clone_and_changes_nothing(array, config):
    first = serve(config, 'attach web@s2')
    state = array.luns()
    writes = array.writes()
    again = serve(config, 'attach web@s2')
    assert again == dict(first, created=False)
    assert array.luns() == state and array.writes() == writes


def test_detach_unmaps_and_deletes_the_clone_then_does_nothing(array, config):
    before = array.luns()
    serve(config, 'attach db@s2')
    clone = san.clone_name(LABEL, 'db', 's2')
    uuid = array.lun(clone)['uuid']
    writes = len(array.writes())
    assert serve(config, 'detach db@s2') == {'ok': True, 'clone': clone, 'deleted': True}
    assert array.luns() == before
    assert [(method, path.rsplit('/', 2)[0] if 'lun-maps' in path else path)
            for method, path in array.writes()[writes:]] == [
        ('DELETE', '/api/protocols/san/lun-maps'), ('DELETE', '/api/storage/luns/' + uuid)]
    assert serve(config, 'detach db@s2') == {'ok': True, 'clone': clone, 'deleted': False}
    assert len(array.writes()) == writes + 2 and array.luns() == before


def test_list_pairs_each_lun_with_each_snapshot_and_leaves_out_the_clones(array, config):
    serve(config, 'attach db@s1')
    clone = san.clone_name(LABEL, 'db', 's1')
    # a LUN with the label that is not a clone of this helper: not offered, not listed as a clone
    array.state.add_lun('svm1', '/vol/vol1/%s-0000000000000000' % LABEL, 1048576, comment=comment('web', 's2'))
    listing = serve(config, 'list')
    assert listing['snapshots'] == [{'lun': lun, 'snapshot': snapshot, 'created': array.snapshots[snapshot]}
                                    for snapshot in ('s1', 's2') for lun in ('db', 'late', 'web')]
    assert listing['clones'] == [{'key': 'db@s1', 'clone': clone, 'mapped': True}]
    assert listing['ok'] is True and set(listing) == {'ok', 'snapshots', 'clones'}


@pytest.mark.parametrize('key', ['late@s1', 'db@nosuch', 'gone@s2'])
def test_a_lun_that_is_not_in_the_snapshot_or_an_unknown_snapshot_is_not_found(array, config, key):
    before = array.luns()
    answer = serve(config, 'attach ' + key)
    assert answer['ok'] is False and answer['error_code'] == 'not_found', answer
    assert array.luns() == before
    assert [write for write in array.writes() if write != ('POST', '/api/storage/file/clone')] == []


def test_a_lun_named_like_the_clone_that_is_not_ours_is_a_conflict_and_left_alone(array, config):
    clone = san.clone_name(LABEL, 'db', 's1')
    lun = array.state.add_lun('svm1', '/vol/vol1/' + clone, 1048576, comment=comment('web', 's2'))
    array.state.map_lun(lun, array.state.igroups[array.state.igroup_by_name[('svm1', 'prod')]], 7)
    before = array.luns()
    for request in ('attach db@s1', 'detach db@s1'):
        answer = serve(config, request)
        assert answer['ok'] is False and answer['error_code'] == 'conflict', answer
    assert array.luns() == before and array.writes() == []
    assert before['/vol/vol1/' + clone] == (comment('web', 's2'), {'prod': 7})


@pytest.mark.parametrize('mode', [0o640, 0o604, 0o660])
def test_a_password_file_others_may_read_is_refused_before_any_request(array, tmp_path, emulator, mode):
    config = write_config(tmp_path, emulator, password_file=write_password(tmp_path, mode=mode))
    for request in ('list', 'attach db@s1', 'detach db@s1'):
        answer = serve(config, request)
        assert answer['ok'] is False and answer['error_code'] == 'config', answer
        assert 'password_file' in answer['msg'] and 'chmod 0600' in answer['msg']
    assert array.requests() == []


@pytest.mark.parametrize('changes, text', [
    ({'password_file': '/nonexistent/ontap.password'}, 'password_file'),
    ({'vserver': ''}, 'missing keys'),
    ({'tpg': 1}, 'keys of another provider'),
    ({'https': 'yes'}, 'https'),
    ({'password': PASSWORD}, 'unknown keys'),
])
def test_a_bad_ontap_configuration_is_refused_before_any_request(array, tmp_path, emulator, changes, text):
    answer = serve(write_config(tmp_path, emulator, **changes), 'list')
    assert answer['ok'] is False and answer['error_code'] == 'config' and text in answer['msg'], answer
    assert array.requests() == []


def test_a_wrong_password_is_an_auth_error_that_does_not_show_it(array, tmp_path, emulator):
    wrong = 'Not-the-password-42'
    answer = san.serve(write_config(tmp_path, emulator, password_file=write_password(tmp_path, wrong)), 'list')
    assert answer['ok'] is False and answer['error_code'] == '6' and "'automount'" in answer['msg']
    assert wrong not in json.dumps(answer)


BLOCK_ANSIBLE = '''
import runpy, sys
class NoAnsibleCore(object):
    def find_spec(self, name, path=None, target=None):
        if name == 'ansible' or name.startswith('ansible.'):
            raise ImportError('no ansible-core on a browse host: ' + name)
sys.meta_path.insert(0, NoAnsibleCore())
sys.argv = ['automount-san'] + sys.argv[1:]
runpy.run_path(%r, run_name='__main__')
'''


def test_the_helper_runs_without_ansible_core_with_the_request_on_its_command_line(array, config):
    env = dict((key, value) for key, value in os.environ.items() if key not in ('PYTHONPATH', 'SSH_ORIGINAL_COMMAND'))
    process = subprocess.run([sys.executable, '-c', BLOCK_ANSIBLE % role_file('snapshot_automount', 'automount_san.py'),
                              config, 'attach', 'web@s1'], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=120, check=False)
    assert process.returncode == 0, (process.stdout, process.stderr)
    answer = json.loads(process.stdout)
    assert answer['ok'] is True and answer['created'] is True and PASSWORD not in process.stdout.decode()
    assert array.luns()['/vol/vol1/' + answer['clone']] == (comment('web', 's1'), {IGROUP: answer['lun_id']})
