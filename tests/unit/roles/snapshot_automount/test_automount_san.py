# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/snapshot_automount/files/automount_san.py: what the restricted key may do, on an in-memory SAN backend.

The backend is the SAN seam (the LIO backend needs configfs, which only the lab has; the lab target
snapshot_automount runs this helper against the real one)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.san.iscsi.plugins.module_utils._san_backend import SanNotFound
from ansible_collections.san.iscsi.tests.unit.role_files import load_role_file

san = load_role_file('snapshot_automount', 'automount_san.py')
VOLUME = 'labvg/pool'


class MemoryBackend(object):
    """The SanBackend calls the helper makes, on dicts; `calls` records the changes."""

    default_os_type = 'linux'

    def __init__(self):
        self.snapshots = {'s1': {'name': 's1', 'lun': 'db', 'create_time': '2026-12-01T00:00:00+00:00'},
                          's2': {'name': 's2', 'lun': 'web', 'create_time': None}}
        self.luns = {}
        self.calls = []
        self.fail_map = False

    def lun(self, name, parent=None, maps=()):
        self.luns[name] = {'name': name, 'path': '%s/%s' % (VOLUME, name), 'wwid': 'naa.6001405' + name[-4:],
                           'serial': name[-4:], 'clone_parent': parent, 'maps': list(maps)}
        return self.luns[name]

    def list_snapshots(self, volume):
        return [dict(snap, volume=volume) for _name, snap in sorted(self.snapshots.items())]

    def list_luns(self, volume):
        return [self.luns[name] for name in sorted(self.luns)]

    def get_lun(self, volume, name):
        return self.luns.get(name)

    def get_snapshot(self, volume, name):
        return self.snapshots.get(name)

    def clone_lun(self, volume, name, source, os_type):
        self.calls.append(('clone', name))
        return self.lun(name, parent=source)

    def get_lun_map(self, path, igroup):
        name = path.rsplit('/', 1)[1]
        return next((m for m in self.luns[name]['maps'] if m['igroup'] == igroup), None)

    def create_lun_map(self, path, igroup):
        self.calls.append(('map', path, igroup))
        if self.fail_map:
            raise SanNotFound("igroup %r does not exist" % igroup)
        mapping = {'igroup': igroup, 'lun_id': 3}
        self.luns[path.rsplit('/', 1)[1]]['maps'].append(mapping)
        return mapping

    def delete_lun_map(self, path, igroup):
        self.calls.append(('unmap', path, igroup))
        name = path.rsplit('/', 1)[1]
        self.luns[name]['maps'] = [m for m in self.luns[name]['maps'] if m['igroup'] != igroup]

    def delete_lun(self, volume, name):
        self.calls.append(('delete', name))
        del self.luns[name]


CONFIG = {'provider': 'lio', 'volume': VOLUME, 'igroup': 'am_h1', 'label': 'amh1', 'target': 'iqn.2026-12.x:t',
          'portals': ['10.0.0.1']}


@pytest.fixture
def backend():
    return MemoryBackend()


@pytest.fixture
def side(backend):
    return san.SanSide(backend, CONFIG)


@pytest.mark.parametrize('text, expected', [
    ('list', ('list', None)),
    ('attach db@s1', ('attach', ('db', 's1'))),
    ('detach  web@s2 ', ('detach', ('web', 's2'))),
])
def test_requests_it_takes(text, expected):
    assert san.parse_request(text) == expected


@pytest.mark.parametrize('text, code', [
    ('', 'refused'), (None, 'refused'), ('sh -c id', 'refused'), ('rsync --server . /etc', 'refused'),
    ('list all', 'refused'), ('attach', 'refused'), ('attach db@s1 more', 'refused'), ('delete db@s1', 'refused'),
    ('attach db', 'invalid_key'), ('attach db@', 'invalid_key'), ('attach -db@s1', 'invalid_key'),
    ('attach db@s1;id', 'invalid_key'), ('detach ../x@s1', 'invalid_key'),
])
def test_anything_else_is_refused(text, code):
    with pytest.raises(san.Refused) as caught:
        san.parse_request(text)
    assert caught.value.error_code == code


def test_clone_names_carry_the_label_and_never_collide():
    name = san.clone_name('amh1', 'a-b', 'c')
    assert name.startswith('amh1-') and len(name) == len('amh1-') + 16
    assert name == san.clone_name('amh1', 'a-b', 'c')
    assert name != san.clone_name('amh1', 'a', 'b-c')
    assert san.clone_name('other', 'a-b', 'c') != name


def test_attach_clones_maps_and_answers_where_to_log_in(side, backend):
    answer = side.attach('db', 's1')
    clone = san.clone_name('amh1', 'db', 's1')
    assert answer == {'clone': clone, 'created': True, 'lun_id': 3, 'wwid': backend.luns[clone]['wwid'],
                      'serial': backend.luns[clone]['serial'], 'target': 'iqn.2026-12.x:t', 'portals': ['10.0.0.1']}
    assert backend.calls == [('clone', clone), ('map', '%s/%s' % (VOLUME, clone), 'am_h1')]


def test_attach_again_answers_the_same_clone_without_changes(side, backend):
    first = side.attach('db', 's1')
    backend.calls = []
    again = side.attach('db', 's1')
    assert again['clone'] == first['clone'] and again['lun_id'] == first['lun_id'] and not again['created']
    assert backend.calls == []


def test_attach_of_a_snapshot_that_does_not_exist_or_holds_another_lun(side, backend):
    for lun, snapshot in (('db', 'nosuch'), ('db', 's2')):
        with pytest.raises(san.Refused) as caught:
            side.attach(lun, snapshot)
        assert caught.value.error_code == 'not_found'
    assert backend.calls == [] and backend.luns == {}


def test_a_lun_of_that_name_that_is_not_our_clone_is_left_alone(side, backend):
    clone = san.clone_name('amh1', 'db', 's1')
    backend.lun(clone, parent={'volume': VOLUME, 'snapshot': 's2', 'lun': 'web'}, maps=[{'igroup': 'prod'}])
    for action in (side.attach, side.detach):
        with pytest.raises(san.Refused) as caught:
            action('db', 's1')
        assert caught.value.error_code == 'conflict'
    assert backend.calls == [] and clone in backend.luns


def test_a_failed_map_deletes_the_clone_it_made(side, backend):
    backend.fail_map = True
    with pytest.raises(SanNotFound):
        side.attach('db', 's1')
    assert backend.luns == {}
    assert backend.calls[-1] == ('delete', san.clone_name('amh1', 'db', 's1'))


def test_detach_unmaps_everywhere_then_deletes(side, backend):
    side.attach('db', 's1')
    clone = san.clone_name('amh1', 'db', 's1')
    backend.luns[clone]['maps'].append({'igroup': 'stale', 'lun_id': 9})
    backend.calls = []
    assert side.detach('db', 's1') == {'clone': clone, 'deleted': True}
    assert backend.calls == [('unmap', '%s/%s' % (VOLUME, clone), 'am_h1'), ('unmap', '%s/%s' % (VOLUME, clone), 'stale'),
                             ('delete', clone)]
    assert side.detach('db', 's1') == {'clone': clone, 'deleted': False}


def test_list_shows_the_snapshots_and_only_this_labels_clones(side, backend):
    side.attach('db', 's1')
    backend.lun('amh1-0000000000000000', parent={'volume': VOLUME, 'snapshot': 's2', 'lun': 'web'})  # not its hash
    web_s2 = {'volume': VOLUME, 'snapshot': 's2', 'lun': 'web'}
    backend.lun('amh2-' + san.clone_name('amh1', 'web', 's2')[5:], parent=web_s2)  # another label
    backend.lun('prod', parent=None)
    listing = side.list()
    assert listing['snapshots'] == [{'lun': 'db', 'snapshot': 's1', 'created': '2026-12-01T00:00:00+00:00'},
                                    {'lun': 'web', 'snapshot': 's2', 'created': None}]
    assert listing['clones'] == [{'key': 'db@s1', 'clone': san.clone_name('amh1', 'db', 's1'), 'mapped': True}]


def write_config(tmp_path, **changes):
    config = dict(CONFIG, lock=str(tmp_path / 'lock'), **changes)
    path = tmp_path / 'config.json'
    path.write_text(json.dumps(config))
    return str(path)


def test_serve_answers_json_with_ok(tmp_path, backend):
    path = write_config(tmp_path)
    answer = san.serve(path, 'attach db@s1', backend_factory=lambda config: backend)
    assert answer['ok'] and answer['clone'] == san.clone_name('amh1', 'db', 's1')
    assert san.serve(path, 'list', backend_factory=lambda config: backend)['ok']


def test_serve_turns_san_errors_and_refusals_into_codes(tmp_path, backend):
    path = write_config(tmp_path)
    backend.fail_map = True
    assert san.serve(path, 'attach db@s1', backend_factory=lambda config: backend) == {
        'ok': False, 'error_code': 'not_found', 'msg': "igroup 'am_h1' does not exist"}
    answer = san.serve(path, 'bash', backend_factory=lambda config: backend)
    assert answer['ok'] is False and answer['error_code'] == 'refused'


@pytest.mark.parametrize('changes, text', [
    ({'label': 'bad label'}, 'label'),
    ({'shell': '/bin/sh'}, 'unknown keys'),
    ({'volume': ''}, 'missing keys'),
])
def test_a_bad_configuration_changes_nothing(tmp_path, backend, changes, text):
    answer = san.serve(write_config(tmp_path, **changes), 'attach db@s1', backend_factory=lambda config: backend)
    assert answer['ok'] is False and answer['error_code'] == 'config' and text in answer['msg']
    assert backend.calls == []


def test_main_takes_the_request_from_ssh_and_ignores_what_else_the_command_line_says(tmp_path, capsys, monkeypatch):
    path = write_config(tmp_path)
    seen = []
    monkeypatch.setattr(san, 'serve', lambda config, request: seen.append((config, request)) or {'ok': True})
    assert san.main(['automount-san', path, 'list'], environ={'SSH_ORIGINAL_COMMAND': 'detach db@s1'}) == 0
    assert seen == [(path, 'detach db@s1')]
    assert json.loads(capsys.readouterr().out) == {'ok': True}
    assert san.main(['automount-san'], environ={}) == 2
