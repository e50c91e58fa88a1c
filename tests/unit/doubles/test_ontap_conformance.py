# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Conformance of the ONTAP emulator (tests/doubles) with a client nobody here wrote: NetApp's netapp-ontap
library drives it over HTTPS on loopback (certificate verified against the emulator's own) through create,
get, patch and delete of each resource the san.iscsi backend uses, and every record the emulator answers
with is checked against the library's marshmallow schemas (field names, nesting, types)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from marshmallow import fields as mf
from netapp_ontap import HostConnection
from netapp_ontap.error import NetAppRestError
from netapp_ontap.resources import (Cluster, FileClone, Igroup, IgroupInitiator, Job, Lun, LunMap, Snapshot, Svm,
                                    Volume)

from ansible_collections.san.iscsi.tests.doubles.ontap_emulator import Emulator

pytestmark = pytest.mark.filterwarnings("ignore:`Number` field should not be instantiated")

IQN1, IQN2 = 'iqn.2026-11.lab.conformance:host1', 'iqn.2026-11.lab.conformance:host2'


@pytest.fixture(scope='module')
def emulator(tmp_path_factory):
    emu = Emulator(str(tmp_path_factory.mktemp('conformance'))).start()
    emu.state.add_svm('svm1')
    emu.state.add_volume('svm1', 'vol1')
    yield emu
    emu.stop()


@pytest.fixture
def conn(emulator, monkeypatch):
    # requests prefers REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE over the session's CA file; the emulator's
    # self-signed certificate is the only one to trust here.
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    connection = HostConnection('127.0.0.1', port=emulator.port, username='admin', password='netapp1!',
                                verify=emulator.cert, poll_interval=1, poll_timeout=20)
    with connection:
        yield connection


def schema_problems(schema, data, path=''):
    """Keys of ``data`` the schema has no field for, and values of the wrong type, walking nested schemas."""
    declared = dict(((field.data_key or attr), field) for attr, field in schema._declared_fields.items())
    problems = []
    for key, value in data.items():
        field = declared.get(key)
        where = path + key
        if field is None:
            problems.append('%s: unknown to %s' % (where, type(schema).__name__))
        elif value is not None:
            problems.extend(value_problems(field, value, where))
    return problems


def value_problems(field, value, where):
    if isinstance(field, mf.Nested):
        if not isinstance(value, dict):
            return ['%s: not an object' % where]
        return schema_problems(field.schema, value, where + '.')
    if isinstance(field, mf.List):
        if not isinstance(value, list):
            return ['%s: not a list' % where]
        return [problem for item in value for problem in value_problems(field.inner, item, where + '[]')]
    expected = ((mf.Boolean, bool), (mf.Integer, int), (mf.Number, (int, float)), (mf.DateTime, str), (mf.String, str))
    for field_type, python_type in expected:
        if isinstance(field, field_type):
            if not isinstance(value, python_type) or (python_type is int and isinstance(value, bool)):
                return ['%s: %r is not %s' % (where, value, field_type.__name__)]
            return []
    return []


def raw(conn, resource, **query):
    """The emulator's JSON for a resource's instance, as the wire carries it."""
    response = conn.session.get(conn.origin + resource.instance_location, params=query)
    response.raise_for_status()
    return response.json()


def assert_conforms(conn, resource):
    body = raw(conn, resource, fields='*')
    assert schema_problems(resource._schema(), body) == []
    return body


def test_cluster_svm_volume_reads(conn):
    cluster = Cluster()
    cluster.get(fields='version')
    assert (cluster.version.generation, cluster.version.major) == (9, 12)
    svm = Svm.find(name='svm1', fields='name,uuid')
    assert svm.name == 'svm1' and svm.uuid
    svm.get()
    assert_conforms(conn, svm)
    volume = Volume.find(name='vol1', **{'svm.name': 'svm1'})
    volume.get(fields='name,svm')
    assert volume.svm.name == 'svm1'
    assert_conforms(conn, volume)
    assert Volume.count_collection(**{'svm.name': 'svm1'}) == 1


def test_igroup_create_get_patch_delete(conn):
    igroup = Igroup(svm={'name': 'svm1'}, name='conf_ig', os_type='linux', protocol='iscsi',
                    initiators=[{'name': IQN1}])
    igroup.post(hydrate=True)
    assert igroup.uuid and igroup.protocol == 'iscsi' and [i.name for i in igroup.initiators] == [IQN1]
    assert_conforms(conn, igroup)
    igroup.os_type = 'windows'
    igroup.comment = 'conformance'
    igroup.patch()
    again = Igroup(uuid=igroup.uuid)
    again.get(fields='os_type,comment,svm')
    assert (again.os_type, again.comment, again.svm.name) == ('windows', 'conformance', 'svm1')
    found = list(Igroup.get_collection(**{'svm.name': 'svm1', 'name': 'conf_*', 'fields': 'initiators'}))
    assert [(ig.name, [i.name for i in ig.initiators]) for ig in found] == [('conf_ig', [IQN1])]
    again.delete()
    assert list(Igroup.get_collection(name='conf_ig')) == []


def test_igroup_initiators_create_get_patch_delete(conn):
    igroup = Igroup(svm={'name': 'svm1'}, name='conf_ig_init', os_type='linux', protocol='iscsi')
    igroup.post(hydrate=True)
    initiator = IgroupInitiator(igroup.uuid, name=IQN2, comment='second')
    initiator.post(hydrate=True)
    assert initiator.name == IQN2 and initiator.comment == 'second'
    assert_conforms(conn, initiator)
    initiator.comment = 'changed'
    initiator.patch()
    assert [(i.name, i.comment) for i in IgroupInitiator.get_collection(igroup.uuid, fields='comment')] == [
        (IQN2, 'changed')]
    initiator.delete()
    assert list(IgroupInitiator.get_collection(igroup.uuid)) == []
    igroup.delete()


def test_lun_create_get_patch_delete(conn):
    lun = Lun(svm={'name': 'svm1'}, name='/vol/vol1/conf_lun', os_type='linux', space={'size': 1048576})
    lun.post(hydrate=True)
    assert lun.uuid and lun.space.size == 1048576 and lun.location.volume.name == 'vol1'
    assert lun.status.state == 'online'
    assert_conforms(conn, lun)
    lun.comment = 'conformance'
    lun.space.size = 2 * 1048576
    lun.patch()
    lun.get(fields='comment,space')
    assert (lun.comment, lun.space.size) == ('conformance', 2 * 1048576)
    assert [item.name for item in Lun.get_collection(**{'svm.name': 'svm1', 'space.size': '>1048576'})] == [
        '/vol/vol1/conf_lun']
    lun.delete()
    assert Lun.count_collection(name='/vol/vol1/conf_lun') == 0


def test_lun_map_create_get_delete(conn):
    lun = Lun(svm={'name': 'svm1'}, name='/vol/vol1/conf_mapped', os_type='linux', space={'size': 1048576})
    lun.post(hydrate=True)
    igroup = Igroup(svm={'name': 'svm1'}, name='conf_ig_map', os_type='linux', protocol='iscsi',
                    initiators=[{'name': IQN1}])
    igroup.post(hydrate=True)
    lun_map = LunMap(svm={'name': 'svm1'}, lun={'name': lun.name}, igroup={'name': igroup.name},
                     logical_unit_number=7)
    lun_map.post(hydrate=True)
    assert (lun_map.lun.uuid, lun_map.igroup.uuid, lun_map.logical_unit_number) == (lun.uuid, igroup.uuid, 7)
    assert_conforms(conn, lun_map)
    maps = list(LunMap.get_collection(**{'igroup.name': 'conf_ig_map', 'fields': 'logical_unit_number'}))
    assert [(m.lun.name, m.logical_unit_number) for m in maps] == [('/vol/vol1/conf_mapped', 7)]
    with pytest.raises(NetAppRestError) as refused:
        lun.delete()
    assert refused.value.http_err_response.http_response.status_code == 409
    lun_map.delete()
    assert LunMap.count_collection(**{'igroup.name': 'conf_ig_map'}) == 0
    lun.delete()
    igroup.delete()


def test_snapshot_create_get_patch_delete_and_clone(conn, emulator):
    volume = Volume.find(name='vol1')
    lun = Lun(svm={'name': 'svm1'}, name='/vol/vol1/conf_src', os_type='linux', space={'size': 1048576})
    lun.post(hydrate=True)
    snapshot = Snapshot(volume.uuid, name='conf_snap', comment='first')
    snapshot.post(hydrate=True)
    assert snapshot.uuid and snapshot.comment == 'first' and snapshot.volume.name == 'vol1'
    assert_conforms(conn, snapshot)
    snapshot.comment = 'second'
    snapshot.patch()
    snapshot.get(fields='comment')
    assert snapshot.comment == 'second'
    FileClone(volume={'name': 'vol1', 'uuid': volume.uuid}, source_path='.snapshot/conf_snap/conf_src',
              destination_path='conf_clone').post()
    clone = Lun.find(name='/vol/vol1/conf_clone', fields='space.size')
    assert clone.space.size == 1048576
    clone.delete()
    snapshot.delete()
    assert Snapshot.count_collection(volume.uuid, name='conf_snap') == 0
    lun.delete()


def test_a_failing_job_is_reported_to_the_client(conn, emulator):
    volume = Volume.find(name='vol1')
    emulator.fail_next_job('Failed to create snapshot: no space left (injected).', 2)
    with pytest.raises(NetAppRestError) as failed:
        Snapshot(volume.uuid, name='conf_doomed').post()
    assert 'no space left (injected)' in str(failed.value)
    assert Snapshot.count_collection(volume.uuid, name='conf_doomed') == 0
    jobs = list(Job.get_collection(state='failure', fields='message,code,error'))
    assert [(job.state, job.code) for job in jobs][-1] == ('failure', 2)
    assert schema_problems(Job._schema(), raw(conn, jobs[-1], fields='*')) == []
