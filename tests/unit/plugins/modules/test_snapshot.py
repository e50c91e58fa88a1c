# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.snapshot against a scripted ONTAP REST seam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import snapshot
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import BASE, REST_PARAMS, records
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

VOL_URL = BASE + '/api/storage/volumes?fields=name%2Cuuid&name=vol1&svm.name=svm1'
SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
SNAP_URL = BASE + '/api/storage/volumes/v-1/snapshots?fields=name%2Cuuid%2Ccreate_time&name=s1'
CLONES_URL = (BASE + '/api/storage/luns?comment=san.iscsi%3Aclone_from%3D%2Fvol%2Fvol1%2F.snapshot%2Fs1%2F%2A'
              '&fields=name&svm.name=svm1')
JOB_URL = BASE + '/api/cluster/jobs/j-1?fields=state%2Cmessage%2Ccode'
VOLUME = {'name': 'vol1', 'uuid': 'v-1'}
SNAPSHOT = {'name': 's1', 'uuid': 's-1', 'create_time': '2026-11-21T10:00:00+00:00'}
JOB = {'job': {'uuid': 'j-1'}}
CONNECTION = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')


def args(**extra):
    return dict(CONNECTION, volume='vol1', name='s1', **extra)


def expect_lookup(http, found):
    http.probe().expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT) if found else records())
    if found:
        http.expect('GET', CLONES_URL, reply=records())


@pytest.fixture(autouse=True)
def _instant_waits(no_sleep):
    """Job polls and retry waits return at once in this file."""


def test_existing_snapshot_unchanged(http, run_module):
    expect_lookup(http, True)
    result = run_module(snapshot, args())
    assert result['changed'] is False and result['snapshot']['create_time'] == '2026-11-21T10:00:00+00:00'


def test_create_check_mode(http, run_module):
    expect_lookup(http, False)
    result = run_module(snapshot, args(), check_mode=True)
    assert result['changed'] is True and result['snapshot']['name'] == 's1'
    assert http.writes() == []


def test_create_waits_for_job(http, run_module):
    expect_lookup(http, False)
    http.expect('GET', VOL_URL, reply=records(VOLUME))
    http.expect('POST', BASE + '/api/storage/volumes/v-1/snapshots', body={'name': 's1'}, status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'state': 'success'})
    http.expect('GET', SNAP_URL, reply=records(SNAPSHOT)).expect('GET', CLONES_URL, reply=records())
    assert run_module(snapshot, args())['snapshot']['uuid'] == 's-1'


def test_unknown_volume(http, run_module):
    http.probe().expect('GET', VOL_URL, reply=records()).expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    with pytest.raises(ModuleFailed) as failed:
        run_module(snapshot, args())
    assert failed.value.result['msg'] == "volume 'vol1' does not exist in vserver 'svm1'"


def test_delete_refused_while_backing_a_clone(http, run_module):
    http.probe().expect('GET', VOL_URL, reply=records(VOLUME)).expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('GET', CLONES_URL, reply=records({'name': '/vol/vol1/data01_c'}))
    with pytest.raises(ModuleFailed) as failed:
        run_module(snapshot, args(state='absent'), check_mode=True)
    assert failed.value.result['msg'] == ("snapshot 's1' of 'vol1' backs LUN clone(s) /vol/vol1/data01_c; "
                                          "delete the clone(s) first")


def test_delete(http, run_module):
    expect_lookup(http, True)
    http.expect('GET', VOL_URL, reply=records(VOLUME)).expect('GET', SNAP_URL, reply=records(SNAPSHOT))
    http.expect('GET', CLONES_URL, reply=records())
    http.expect('DELETE', BASE + '/api/storage/volumes/v-1/snapshots/s-1', status=202, reply=JOB)
    http.expect('GET', JOB_URL, reply={'state': 'success'})
    assert run_module(snapshot, args(state='absent'))['changed'] is True


@pytest.mark.parametrize('extra, option, message', [
    (dict(volume='vol1/data'), 'volume', "invalid ONTAP volume name 'vol1/data'"),
    (dict(name='.snapshot'), 'name', "invalid ONTAP snapshot name '.snapshot'"),
    (dict(lun='a/b'), 'lun', "lun: invalid ONTAP LUN name 'a/b'"),
])
def test_bad_input_fails_before_any_request(http, run_module, extra, option, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(snapshot, dict(args(), **extra))
    assert failed.value.result['msg'] == message
    assert (failed.value.result['error_code'], failed.value.result['options']) == ('invalid', [option])
    assert http.calls == [] and http.connections == 0
