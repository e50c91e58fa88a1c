# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""san.iscsi.lun against a scripted ONTAP REST seam."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.modules import lun
from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import BASE, REST_PARAMS, records
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

LUN_URL = (BASE + '/api/storage/luns?fields=name%2Cuuid%2Clocation.volume.name%2Cspace.size%2Cos_type%2C'
           'serial_number%2Ccomment%2Clun_maps.logical_unit_number%2Clun_maps.igroup.name%2Csvm.name'
           '&name=%2Fvol%2Fvol1%2Fdata01&svm.name=svm1')
VOL_URL = BASE + '/api/storage/volumes?fields=name%2Cuuid&name=vol1&svm.name=svm1'
SVM_URL = BASE + '/api/svm/svms?fields=name%2Cuuid&name=svm1'
SNAP_URL = BASE + '/api/storage/volumes/v-1/snapshots?fields=name%2Cuuid%2Ccreate_time&name=s1'
CLONES_URL = (BASE + '/api/storage/luns?comment=san.iscsi%3Aclone_from%3D%2Fvol%2Fvol1%2F.snapshot%2Fs1%2F%2A'
              '&fields=name&svm.name=svm1')
GIB = 1073741824
LUN = {'name': '/vol/vol1/data01', 'uuid': 'l-1', 'location': {'volume': {'name': 'vol1'}}, 'space': {'size': GIB},
       'os_type': 'linux', 'serial_number': 'wEmAbCdEfGhI', 'comment': '', 'svm': {'name': 'svm1'}, 'lun_maps': []}
SOURCE = {'volume': 'vol1', 'snapshot': 's1', 'lun': 'data01'}
CLONE_COMMENT = 'san.iscsi:clone_from=/vol/vol1/.snapshot/s1/data01'
CONNECTION = dict((key, value) for key, value in REST_PARAMS.items() if value is not None and key != 'job_timeout')


def args(**extra):
    return dict(CONNECTION, volume='vol1', name='data01', **extra)


def test_existing_lun_within_rounding_is_unchanged_and_reports_wwid(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records(dict(LUN, space={'size': GIB + 4096})))
    result = run_module(lun, args(size='1G'))
    assert result['changed'] is False
    assert result['lun']['wwid'] == 'naa.600a098077456d416243644566476849'
    assert result['lun']['serial'] == 'wEmAbCdEfGhI'


def test_path_form_is_equivalent(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records(LUN))
    result = run_module(lun, dict(CONNECTION, path='/vol/vol1/data01', size='1073741824'))
    assert result['changed'] is False and result['lun']['path'] == '/vol/vol1/data01'


def test_unparseable_size_fails_before_any_request(http, run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, args(size='ten gigs'))
    assert failed.value.result['msg'] == "cannot parse size 'ten gigs': use bytes or a number with a K, M, G, T or P suffix"
    assert http.calls == []


def test_create_check_mode_then_real(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records())
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    result = run_module(lun, args(size='1G'), check_mode=True)
    assert result['changed'] is True and result['lun']['size'] == GIB and result['lun']['wwid'] is None
    assert http.writes() == []
    http.probe().expect('GET', LUN_URL, reply=records())
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    http.expect('POST', BASE + '/api/storage/luns', body={'svm': {'name': 'svm1'}, 'name': '/vol/vol1/data01',
                                                          'os_type': 'linux', 'space': {'size': GIB}},
                status=201, reply={})
    http.expect('GET', LUN_URL, reply=records(LUN))
    assert run_module(lun, args(size='1G'))['lun']['serial'] == 'wEmAbCdEfGhI'


def test_unknown_volume(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records()).expect('GET', VOL_URL, reply=records())
    http.expect('GET', SVM_URL, reply=records({'name': 'svm1'}))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, args(size='1G'))
    assert failed.value.result['msg'] == "volume 'vol1' does not exist in vserver 'svm1'"


def test_grow(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records(LUN)).expect('GET', LUN_URL, reply=records(LUN))
    http.expect('PATCH', BASE + '/api/storage/luns/l-1', body={'space': {'size': 2 * GIB}}, reply={})
    http.expect('GET', LUN_URL, reply=records(dict(LUN, space={'size': 2 * GIB})))
    assert run_module(lun, args(size='2G'))['lun']['size'] == 2 * GIB


def test_shrink_is_refused(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records(LUN))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, args(size='512M'))
    assert 'refusing to shrink' in failed.value.result['msg']


def test_size_tolerance_percent(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records(dict(LUN, space={'size': GIB - 10 * 1048576})))
    assert run_module(lun, args(size='1G', size_tolerance='2%'))['changed'] is False


def test_clone_unknown_snapshot_fails_before_any_write(http, run_module):
    http.probe().expect('GET', LUN_URL.replace('data01&', 'data01_c&'), reply=records())
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    http.expect('GET', SNAP_URL, reply=records())
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(CONNECTION, volume='vol1', name='data01_c', clone_from=SOURCE))
    assert failed.value.result['msg'] == "snapshot 's1' does not exist in volume 'vol1'"
    assert http.writes() == []


def test_clone_into_another_volume_fails_in_check_mode_as_for_real(http, run_module):
    """ONTAP clones inside the volume of the snapshot; check mode must not predict a clone it cannot make."""
    http.probe().expect('GET', LUN_URL.replace('vol1%2Fdata01&', 'vol2%2Fdata01_c&'), reply=records())
    http.expect('GET', VOL_URL.replace('vol1', 'vol2'), reply=records({'name': 'vol2', 'uuid': 'v-2'}))
    http.expect('GET', VOL_URL, reply=records({'name': 'vol1', 'uuid': 'v-1'}))
    http.expect('GET', SNAP_URL, reply=records({'name': 's1', 'uuid': 's-1'})).expect('GET', CLONES_URL, reply=records())
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(CONNECTION, volume='vol2', name='data01_c', clone_from=SOURCE), check_mode=True)
    assert failed.value.result['msg'] == ("ONTAP clones a LUN from a Snapshot copy inside the same volume: "
                                          "clone_from.volume 'vol1' differs from volume 'vol2'")
    assert http.writes() == []


def test_existing_clone_with_same_parent_is_unchanged(http, run_module):
    clone = dict(LUN, name='/vol/vol1/data01_c', comment=CLONE_COMMENT)
    http.probe().expect('GET', LUN_URL.replace('data01&', 'data01_c&'), reply=records(clone))
    result = run_module(lun, dict(CONNECTION, volume='vol1', name='data01_c', clone_from=SOURCE))
    assert result['changed'] is False and result['lun']['clone_parent'] == SOURCE


def test_existing_lun_with_another_parent_fails(http, run_module):
    http.probe().expect('GET', LUN_URL.replace('data01&', 'data01_c&'), reply=records(dict(LUN, name='/vol/vol1/data01_c')))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, dict(CONNECTION, volume='vol1', name='data01_c', clone_from=SOURCE))
    assert failed.value.result['msg'] == 'LUN /vol/vol1/data01_c exists and is not a clone; expected a clone of vol1/s1/data01'


def test_absent_refuses_mapped_lun(http, run_module):
    mapped = dict(LUN, lun_maps=[{'logical_unit_number': 0, 'igroup': {'name': 'host1'}}])
    http.probe().expect('GET', LUN_URL, reply=records(mapped))
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, args(state='absent'), check_mode=True)
    assert 'mapped to igroup(s) host1' in failed.value.result['msg']


def test_absent_deletes(http, run_module):
    http.probe().expect('GET', LUN_URL, reply=records(LUN)).expect('GET', LUN_URL, reply=records(LUN))
    http.expect('DELETE', BASE + '/api/storage/luns/l-1', reply={})
    assert run_module(lun, args(state='absent'))['changed'] is True


@pytest.mark.parametrize('extra, message', [
    (dict(portals=['192.0.2.1']), 'option(s) portals do(es) not apply to provider ontap'),
    (dict(save_file='/etc/target/saveconfig.json'), 'option(s) save_file do(es) not apply to provider ontap'),
    (dict(size='1G', size_tolerance='lots'), "size_tolerance: cannot parse size 'lots'"),
    (dict(clone_from={'volume': 'vol1', 'snapshot': 's1', 'lun': 'a/b'}), "clone_from: invalid ONTAP LUN name 'a/b'"),
])
def test_bad_input_fails_before_any_request(http, run_module, extra, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(lun, args(**extra))
    assert failed.value.result['msg'].startswith(message)
    assert failed.value.result['error_code'] == 'invalid'
    assert http.calls == [] and http.connections == 0
