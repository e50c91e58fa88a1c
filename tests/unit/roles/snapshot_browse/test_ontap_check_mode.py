# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/restore.yml --check with provider ontap against the ONTAP emulator (tests/doubles) on loopback.

No array is reachable and the host side needs a real clone, so this proves the role's ONTAP wiring only up to
what check mode runs: the connection options reach the SAN modules through module_defaults, san_info lists the
volume's snapshots and igroups (REST and ZAPI), the newest snapshot taken before a time is picked from ONTAP's
timestamps, the browse host's igroup is found by its initiator, the clone is predicted, and nothing is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

from xml.etree import ElementTree

import pytest

from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator

ROLE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
COLLECTIONS = os.path.abspath(os.path.join(ROLE_ROOT, '..', '..', '..'))
BROWSE_IQN = 'iqn.1994-05.com.redhat:browse1'
ZAPI_WRITES = ('create', 'destroy', 'add', 'remove', 'map', 'modify', 'clone', 'set', 'start', 'online', 'offline')


@pytest.fixture
def array(tmp_path):
    emulator = Emulator(str(tmp_path)).start()
    state = emulator.state
    state.add_svm('svm1')
    state.add_volume('svm1', 'vol1')
    volume = state.volume_named('svm1', 'vol1')
    state.add_lun('svm1', '/vol/vol1/data01', 1 << 30)
    for name, taken in (('nightly.2', '2026-11-18T02:00:00+00:00'), ('nightly.1', '2026-11-19T02:00:00+00:00'),
                        ('nightly.0', '2026-11-20T02:00:00+00:00')):
        state.create_snapshot(volume, name)
        state.snapshot_named(volume, name)['create_time'] = taken
    state.add_igroup('svm1', 'browse1_ig', 'iscsi', 'linux', [BROWSE_IQN.upper().replace('IQN', 'iqn')])
    emulator.zapi_apis = []
    original = emulator.server.zapi.handle

    def recording(payload):
        emulator.zapi_apis.append(ElementTree.fromstring(payload)[0].tag.split('}', 1)[-1])
        return original(payload)
    emulator.server.zapi.handle = recording
    yield emulator
    emulator.stop()


def run_check(array, tmp_path, use_rest, playbook='restore.yml', **overrides):  # pylint: disable=redefined-outer-name
    local = dict(ansible_connection='local', ansible_python_interpreter=sys.executable)
    inventory = dict(all=dict(hosts=dict(localhost=local, browse1=local, dest1=local)))
    variables = dict(
        snapshot_browse_provider='ontap', snapshot_browse_san_host='localhost',
        snapshot_browse_san=dict(hostname='127.0.0.1', http_port=array.port, username='admin', password='netapp1!',
                                 vserver='svm1', ca_path=array.cert, use_rest=use_rest),
        snapshot_browse_target_iqn='iqn.1992-08.com.netapp:sn.1234:vs.2', snapshot_browse_portals=['192.0.2.10'],
        snapshot_browse_volume='vol1', snapshot_browse_lun='data01', snapshot_browse_before='2026-11-20T00:00:00Z',
        snapshot_browse_host='browse1', snapshot_browse_initiator_name=BROWSE_IQN,
        snapshot_browse_paths=['etc/app.conf'], snapshot_browse_dest_host='dest1', snapshot_browse_dest_path='/srv/app')
    variables.update(overrides)
    variables = dict((name, value) for name, value in variables.items() if value is not None)
    (tmp_path / 'inventory.json').write_text(json.dumps(inventory))
    (tmp_path / 'vars.json').write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='0',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_HOME=str(tmp_path / 'home'))
    argv = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '--check',
            '-i', str(tmp_path / 'inventory.json'), os.path.join(ROLE_ROOT, 'playbooks', playbook),
            '-e', '@' + str(tmp_path / 'vars.json')]
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, timeout=300)
    return proc.returncode, proc.stdout


def zapi_writes(array):  # pylint: disable=redefined-outer-name
    return [api for api in array.zapi_apis if api.split('-')[-1] in ZAPI_WRITES]


@pytest.mark.parametrize('use_rest', ['always', 'never'])
def test_restore_check_mode_plans_the_clone_of_the_newest_snapshot_before_the_time(array, tmp_path, use_rest):  # pylint: disable=redefined-outer-name
    rc, output = run_check(array, tmp_path, use_rest)
    assert rc == 0, output[-3000:]
    assert 'would clone data01 of vol1@nightly.1 as data01_sb' in output, output[-3000:]
    assert 'map it to igroup browse1_ig and mount it on browse1:/mnt/snapshots/vol1/nightly.1' in output
    if use_rest == 'always':
        methods = set(method for method, _path in array.state.log)
        assert methods == {'GET'}, array.state.log
        assert any(path.startswith('/api/storage/volumes/') and '/snapshots' in path for _m, path in array.state.log)
        assert any(path.startswith('/api/protocols/san/igroups') for _m, path in array.state.log)
    else:
        assert array.zapi_apis and not zapi_writes(array), array.zapi_apis
        assert 'snapshot-get-iter' in array.zapi_apis and 'igroup-get-iter' in array.zapi_apis
    assert sorted(lun['name'] for lun in array.state.luns.values()) == ['/vol/vol1/data01']
    assert 'netapp1!' not in output


def test_no_snapshot_before_the_time_fails_before_any_change(array, tmp_path):  # pylint: disable=redefined-outer-name
    rc, output = run_check(array, tmp_path, 'always', snapshot_browse_before='2026-11-01T00:00:00+00:00')
    assert rc != 0
    assert 'no snapshot of vol1 taken before 2026-11-01T00:00:00+00:00' in output, output[-3000:]
    assert set(method for method, _path in array.state.log) == {'GET'}


VERSIONS = dict(playbook='versions.yml', snapshot_browse_before=None, snapshot_browse_dest_host=None,
                snapshot_browse_dest_path=None)


@pytest.mark.parametrize('use_rest', ['always', 'never'])
def test_versions_check_mode_plans_the_snapshots_in_the_range_oldest_first(array, tmp_path, use_rest):  # pylint: disable=redefined-outer-name
    rc, output = run_check(array, tmp_path, use_rest, snapshot_browse_versions_since='2026-11-18T12:00:00+00:00',
                           snapshot_browse_versions_parallel=1, **VERSIONS)
    assert rc == 0, output[-3000:]
    assert ('would look at etc/app.conf in 2 snapshot(s) of vol1/data01 on browse1, at most 1 clone(s) at a time:'
            ' nightly.1, nightly.0') in output, output[-3000:]
    if use_rest == 'always':
        assert set(method for method, _path in array.state.log) == {'GET'}, array.state.log
    else:
        assert array.zapi_apis and not zapi_writes(array), array.zapi_apis
    assert sorted(lun['name'] for lun in array.state.luns.values()) == ['/vol/vol1/data01']


def test_versions_check_mode_takes_the_last_n_snapshots(array, tmp_path):  # pylint: disable=redefined-outer-name
    rc, output = run_check(array, tmp_path, 'always', snapshot_browse_versions_last=2, **VERSIONS)
    assert rc == 0, output[-3000:]
    assert 'at most 5 clone(s) at a time: nightly.1, nightly.0' in output, output[-3000:]


def test_versions_with_a_bad_time_or_two_paths_fails_before_any_request(array, tmp_path):  # pylint: disable=redefined-outer-name
    for overrides in (dict(snapshot_browse_versions_until='yesterday'),
                      dict(snapshot_browse_paths=['etc/app.conf', 'etc/other.conf'])):
        rc, output = run_check(array, tmp_path, 'always', **dict(VERSIONS, **overrides))
        assert rc != 0
        assert 'snapshot_browse: invalid input' in output, output[-3000:]
    assert array.state.log == []


def test_versions_with_no_snapshot_in_the_range_fails_naming_them(array, tmp_path):  # pylint: disable=redefined-outer-name
    rc, output = run_check(array, tmp_path, 'always', snapshot_browse_versions_until='2026-11-01T00:00:00+00:00',
                           **VERSIONS)
    assert rc != 0
    assert 'no snapshot of data01 in vol1 in the range' in output, output[-3000:]
    assert set(method for method, _path in array.state.log) == {'GET'}
