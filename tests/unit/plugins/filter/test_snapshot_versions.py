# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.san.iscsi.plugins.filter.snapshot_versions import (
    snapshot_versions_luns, snapshot_versions_mounts,
    FilterModule, snapshot_versions_leftovers, snapshot_versions_plan, snapshot_versions_select,
    snapshot_versions_table)

# Snapshots as san_info reports them, in no particular order: of LUN data01, of the whole volume (lun null,
# or no lun at all), of another LUN, and without a create_time. daily.2 is taken at 12:00 UTC too (+02:00).
SNAPSHOTS = [
    {'name': 'daily.3', 'volume': 'labvg', 'lun': 'data01', 'create_time': '2026-11-19T12:00:00+00:00'},
    {'name': 'vol.b', 'volume': 'labvg', 'lun': None, 'create_time': '2026-11-18T12:00:00+00:00'},
    {'name': 'daily.1', 'volume': 'labvg', 'lun': 'data01', 'create_time': '2026-11-17T12:00:00+00:00'},
    {'name': 'other', 'volume': 'labvg', 'lun': 'data02', 'create_time': '2026-11-18T00:00:00+00:00'},
    {'name': 'pending', 'volume': 'labvg', 'lun': 'data01', 'create_time': None},
    {'name': 'vol.a', 'volume': 'labvg', 'create_time': '2026-11-18T12:00:00Z'},
    {'name': 'no-time', 'volume': 'labvg', 'lun': 'data01'},
    {'name': 'daily.2', 'volume': 'labvg', 'lun': 'data01', 'create_time': '2026-11-18T14:00:00+02:00'},
]
TIMES = dict((snapshot['name'], snapshot.get('create_time')) for snapshot in SNAPSHOTS)


def picked(*wanted):
    return [dict(name=name, create_time=TIMES[name]) for name in wanted]


def names(snapshots):
    return [snapshot['name'] for snapshot in snapshots]


# snapshot_versions_select

def test_select_keeps_the_luns_and_the_whole_volume_snapshots_oldest_first_ties_by_name():
    assert snapshot_versions_select(SNAPSHOTS, 'data01') == picked('daily.1', 'daily.2', 'vol.a', 'vol.b',
                                                                   'daily.3')


def test_select_without_a_lun_takes_every_snapshot_with_a_create_time():
    assert names(snapshot_versions_select(SNAPSHOTS)) == ['daily.1', 'other', 'daily.2', 'vol.a', 'vol.b',
                                                          'daily.3']
    assert names(snapshot_versions_select(SNAPSHOTS, 'data02')) == ['other', 'vol.a', 'vol.b']
    assert snapshot_versions_select(SNAPSHOTS, 'data03') == picked('vol.a', 'vol.b')


def test_select_skips_snapshots_without_a_create_time():
    assert 'pending' not in names(snapshot_versions_select(SNAPSHOTS, 'data01'))
    assert 'no-time' not in names(snapshot_versions_select(SNAPSHOTS))
    assert snapshot_versions_select([{'name': 'pending', 'lun': 'data01', 'create_time': ''},
                                     {'name': 'none', 'lun': None, 'create_time': None}], 'data01') == []
    assert snapshot_versions_select([]) == []


def test_select_returns_only_name_and_create_time():
    assert snapshot_versions_select([dict(SNAPSHOTS[0], clones=['labvg/pool/x'], uuid='u1')], 'data01') == [
        {'name': 'daily.3', 'create_time': '2026-11-19T12:00:00+00:00'}]


def test_select_the_last_n_are_the_newest_returned_oldest_first():
    assert snapshot_versions_select(SNAPSHOTS, 'data01', last=2) == picked('vol.b', 'daily.3')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', last=3) == picked('vol.a', 'vol.b', 'daily.3')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', last='1') == picked('daily.3')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', last=5) == snapshot_versions_select(SNAPSHOTS, 'data01')
    assert names(snapshot_versions_select(SNAPSHOTS, 'data01', last=50)) == ['daily.1', 'daily.2', 'vol.a',
                                                                             'vol.b', 'daily.3']


def test_select_ties_in_time_are_ordered_by_name_whatever_the_input_order():
    tied = [{'name': name, 'lun': None, 'create_time': '2026-11-18T12:00:00+00:00'} for name in ('c', 'a', 'b')]
    assert names(snapshot_versions_select(tied)) == ['a', 'b', 'c']
    assert names(snapshot_versions_select(list(reversed(tied)), last=2)) == ['b', 'c']


def test_select_since_is_included_and_until_is_not():
    assert snapshot_versions_select(SNAPSHOTS, 'data01', since='2026-11-18T12:00:00+00:00',
                                    until='2026-11-19T12:00:00+00:00') == picked('daily.2', 'vol.a', 'vol.b')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', since='2026-11-18T12:00:01+00:00') == picked('daily.3')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', until='2026-11-18T12:00:00+00:00') == picked('daily.1')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', until='2026-11-18T12:00:01+00:00') == picked(
        'daily.1', 'daily.2', 'vol.a', 'vol.b')


def test_select_compares_times_across_utc_offsets():
    # 13:00+01:00 and 07:00-05:00 are both 12:00 UTC
    assert snapshot_versions_select(SNAPSHOTS, 'data01', since='2026-11-18T13:00:00+01:00',
                                    until='2026-11-19T07:00:00-05:00') == picked('daily.2', 'vol.a', 'vol.b')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', since='2026-11-18T12:00:00Z',
                                    until='2026-11-19T12:00:00+0000') == picked('daily.2', 'vol.a', 'vol.b')


def test_select_an_empty_since_or_until_is_no_bound():
    assert snapshot_versions_select(SNAPSHOTS, 'data01', since='', until=None) == snapshot_versions_select(
        SNAPSHOTS, 'data01')


def test_select_the_last_n_of_a_time_range():
    assert snapshot_versions_select(SNAPSHOTS, 'data01', last=2, since='2026-11-17T12:00:00+00:00',
                                    until='2026-11-19T00:00:00+00:00') == picked('vol.a', 'vol.b')
    assert snapshot_versions_select(SNAPSHOTS, 'data01', last=2, since='2026-11-20T00:00:00+00:00') == []


@pytest.mark.parametrize('bound, value', [
    ('since', 'yesterday'),
    ('since', '2026-11-19'),
    ('until', '2026-11-19T12:00:00'),  # no UTC offset
    ('until', '2026-11-19 12:00:00+00:00'),
])
def test_select_refuses_a_bad_time(bound, value):
    with pytest.raises(AnsibleFilterError) as failed:
        snapshot_versions_select(SNAPSHOTS, 'data01', **{bound: value})
    assert str(failed.value) == '%s %r is not a time like 2026-11-19T12:00:00+00:00' % (bound, value)


def test_select_refuses_a_snapshot_with_a_bad_create_time_only_when_it_is_looked_at():
    bad = SNAPSHOTS + [{'name': 'broken', 'lun': 'data02', 'create_time': '19.11.2026 12:00'}]
    assert names(snapshot_versions_select(bad, 'data01')) == ['daily.1', 'daily.2', 'vol.a', 'vol.b', 'daily.3']
    with pytest.raises(AnsibleFilterError) as failed:
        snapshot_versions_select(bad, 'data02')
    assert str(failed.value) == ("create_time of snapshot 'broken' '19.11.2026 12:00' is not a time like "
                                 "2026-11-19T12:00:00+00:00")


@pytest.mark.parametrize('last', [0, -1, '0', 'abc', [5]])
def test_select_refuses_last_below_one_or_not_a_number(last):
    with pytest.raises(AnsibleFilterError) as failed:
        snapshot_versions_select(SNAPSHOTS, 'data01', last=last)
    assert str(failed.value) == 'last must be a number of at least 1'


# snapshot_versions_plan

def clone_of(prefix, snapshot):
    return prefix + hashlib.sha1(snapshot.encode('utf-8')).hexdigest()[:8]


def test_plan_names_each_clone_by_the_sha1_of_its_snapshot_and_mounts_it_under_the_mount_dir():
    plan = snapshot_versions_plan(picked('daily.1', 'vol.a'), 'data01_run1_', '/run/san-iscsi/run1')
    assert plan == [
        dict(snapshot='daily.1', create_time='2026-11-17T12:00:00+00:00', clone=clone_of('data01_run1_', 'daily.1'),
             mount_point='/run/san-iscsi/run1/daily.1'),
        dict(snapshot='vol.a', create_time='2026-11-18T12:00:00Z', clone=clone_of('data01_run1_', 'vol.a'),
             mount_point='/run/san-iscsi/run1/vol.a'),
    ]


def test_plan_clone_names_are_fixed_by_the_snapshot_name():
    # sha1('daily.2026-11-19_0010') = 29c1a63a...; sha1('hourly.1') = 686811c7...
    plan = snapshot_versions_plan([{'name': 'daily.2026-11-19_0010'}, {'name': 'hourly.1', 'create_time': None}],
                                  'lun_x_', '/mnt/v/')
    assert [item['clone'] for item in plan] == ['lun_x_29c1a63a', 'lun_x_686811c7']
    assert [item['mount_point'] for item in plan] == ['/mnt/v/daily.2026-11-19_0010', '/mnt/v/hourly.1']
    assert [item['create_time'] for item in plan] == [None, None]
    again = snapshot_versions_plan([{'name': 'hourly.1'}], 'lun_x_', '/mnt/v')
    assert again == [dict(snapshot='hourly.1', create_time=None, clone='lun_x_686811c7',
                          mount_point='/mnt/v/hourly.1')]


def test_plan_of_nothing_is_empty():
    assert snapshot_versions_plan([], 'data01_run1_', '/mnt') == []


# snapshot_versions_leftovers

def test_leftovers_are_the_clones_named_by_the_prefix_and_exactly_eight_hex_digits():
    snapshots = [
        {'name': 'daily.1', 'create_time': '2026-11-17T12:00:00+00:00', 'clones': [
            'labvg/pool/data01_run1_29c1a63a',
            'labvg/pool/data01_run1_29c1a63a0',  # nine digits
            'labvg/pool/data01_run1_29c1a63',  # seven
            'labvg/pool/data01_run1_29C1A63A',  # not lower case hex
            'labvg/pool/data01_run1_29c1a63g',
            'labvg/pool/data01_run10_29c1a63a',  # another run label
            'labvg/pool/xdata01_run1_29c1a63a',
            'labvg/pool/data01_run1_29c1a63a.bak',
            'labvg/pool/data01_run1_',
            'labvg/pool/restore_of_daily.1',
            'data01_run1_deadbeef',  # no volume and pool in the path
            'labvg/pool/data01_run1_0badf00d/',
        ]},
        {'name': 'daily.2', 'create_time': None, 'clones': None},
        {'name': 'daily.3', 'create_time': '2026-11-19T12:00:00+00:00'},
        {'name': 'daily.4', 'create_time': '2026-11-20T12:00:00+00:00', 'clones': []},
        {'name': 'daily.5', 'clones': ['labvg/pool/data01_run1_01234567']},
    ]
    assert snapshot_versions_leftovers(snapshots, 'data01_run1_', '/run/san-iscsi/run1/') == [
        dict(snapshot='daily.1', create_time='2026-11-17T12:00:00+00:00', clone='data01_run1_29c1a63a',
             mount_point='/run/san-iscsi/run1/daily.1'),
        dict(snapshot='daily.1', create_time='2026-11-17T12:00:00+00:00', clone='data01_run1_deadbeef',
             mount_point='/run/san-iscsi/run1/daily.1'),
        dict(snapshot='daily.1', create_time='2026-11-17T12:00:00+00:00', clone='data01_run1_0badf00d',
             mount_point='/run/san-iscsi/run1/daily.1'),
        dict(snapshot='daily.5', create_time=None, clone='data01_run1_01234567',
             mount_point='/run/san-iscsi/run1/daily.5'),
    ]


def test_leftovers_take_the_prefix_literally():
    snapshots = [{'name': 's', 'create_time': None, 'clones': ['labvg/pool/dataX01_run1_12345678',
                                                               'labvg/pool/data.01_run1_12345678']}]
    assert [item['clone'] for item in snapshot_versions_leftovers(snapshots, 'data.01_run1_', '/mnt')] == [
        'data.01_run1_12345678']


def test_leftovers_find_what_the_plan_made():
    chosen = snapshot_versions_select(SNAPSHOTS, 'data01', last=3)
    plan = snapshot_versions_plan(chosen, 'data01_run1_', '/mnt/run1')
    clones = dict((item['snapshot'], ['labvg/pool/' + item['clone'], 'labvg/pool/data01_run2_' + item['clone'][-8:]])
                  for item in plan)
    on_san = [dict(snapshot, clones=clones.get(snapshot['name'], [])) for snapshot in SNAPSHOTS]
    found = snapshot_versions_leftovers(on_san, 'data01_run1_', '/mnt/run1')
    assert sorted(found, key=lambda item: item['snapshot']) == sorted(plan, key=lambda item: item['snapshot'])
    assert snapshot_versions_leftovers(on_san, 'data01_run3_', '/mnt/run3') == []


# snapshot_versions_table

SHA_1 = '1' * 8 + 'a' * 56
SHA_2 = '2' * 8 + 'b' * 56
SHA_3 = '3' * 8 + 'c' * 56


def digest(name, sha256=SHA_1, kind='file', exists=True, refused=None, **fields):
    """One entry of copy_paths.py digest's "versions" (a refused one exists, and has nothing else)."""
    entry = dict(name=name, root='/run/san-iscsi/run1/%s' % name, exists=bool(refused), type=None, size=None,
                 files=None, mtime=None, uid=None, gid=None, mode=None, sha256=None, target=None, refused=refused)
    if exists and not refused:
        entry.update(exists=True, type=kind, size=10, files=1, mtime=1700000000, uid=0, gid=0, mode='0644',
                     sha256=sha256)
    entry.update(fields)
    return entry


def versions(*snapshot_names):
    return [dict(name=name, create_time='2026-11-%02dT12:00:00+00:00' % (10 + index))
            for index, name in enumerate(snapshot_names)]


def row_of(table, snapshot):
    return [row for row in table['rows'] if row['snapshot'] == snapshot][0]


def test_table_marks_first_same_changed_deleted_and_created():
    snaps = versions('s1', 's2', 's3', 's4', 's5')
    digests = [digest('s5', SHA_3), digest('s4', exists=False), digest('s3', SHA_2), digest('s2'), digest('s1')]
    table = snapshot_versions_table(digests, snaps, digest('live', SHA_2, root='/'))
    assert [(row['snapshot'], row['change'], row['equals_live']) for row in table['rows']] == [
        ('s1', 'first', False), ('s2', 'same', False), ('s3', 'changed', True), ('s4', 'deleted', False),
        ('s5', 'created', False)]
    assert table['changes'] == ['s3', 's4', 's5']
    assert table['equal_to_live'] == ['s3']


def test_table_rows_are_the_digest_fields_with_the_snapshot_its_time_change_and_live():
    snaps = versions('s1', 's2')
    table = snapshot_versions_table([digest('s1'), digest('s2', exists=False)], snaps, digest('live'))
    assert table['rows'] == [
        dict(snapshot='s1', create_time='2026-11-10T12:00:00+00:00', change='first', equals_live=True, exists=True,
             type='file', size=10, files=1, mtime=1700000000, uid=0, gid=0, mode='0644', sha256=SHA_1, target=None,
             refused=None),
        dict(snapshot='s2', create_time='2026-11-11T12:00:00+00:00', change='deleted', equals_live=False,
             exists=False, type=None, size=None, files=None, mtime=None, uid=None, gid=None, mode=None, sha256=None,
             target=None, refused=None),
    ]


def test_table_when_the_path_is_absent_at_first():
    snaps = versions('s1', 's2', 's3', 's4', 's5')
    digests = [digest('s1', exists=False), digest('s2', exists=False), digest('s3'), digest('s4'),
               digest('s5', exists=False)]
    table = snapshot_versions_table(digests, snaps)
    assert [row['change'] for row in table['rows']] == ['absent', 'absent', 'created', 'same', 'deleted']
    assert [row['equals_live'] for row in table['rows']] == [None] * 5
    assert table['changes'] == ['s3', 's5']
    assert table['equal_to_live'] == []


def test_table_owner_mode_and_times_do_not_make_a_change_but_the_type_does():
    snaps = versions('s1', 's2', 's3', 's4')
    digests = [digest('s1'), digest('s2', uid=1000, gid=1000, mode='0600', mtime=1800000000, size=10),
               digest('s3', kind='symlink', target='elsewhere'), digest('s4', kind='symlink', target='elsewhere')]
    table = snapshot_versions_table(digests, snaps)
    assert [row['change'] for row in table['rows']] == ['first', 'same', 'changed', 'same']
    assert table['changes'] == ['s3']


def test_table_a_live_path_that_does_not_exist_equals_no_snapshot():
    snaps = versions('s1', 's2')
    table = snapshot_versions_table([digest('s1'), digest('s2', exists=False)], snaps,
                                    digest('live', exists=False))
    assert [row['equals_live'] for row in table['rows']] == [False, False]
    assert table['equal_to_live'] == []
    assert [line.split()[2] for line in table['table']] == ['change', 'first', 'deleted']
    assert not [line for line in table['table'] if 'equals live' in line]


def test_table_several_snapshots_may_equal_the_live_path():
    snaps = versions('s1', 's2', 's3')
    table = snapshot_versions_table([digest('s1'), digest('s2', SHA_2), digest('s3')], snaps, digest('live'))
    assert table['equal_to_live'] == ['s1', 's3']
    assert [row['change'] for row in table['rows']] == ['first', 'changed', 'changed']
    assert table['table'][1].endswith('equals live') and table['table'][3].endswith('equals live')


def test_table_ignores_digests_of_snapshots_not_looked_through():
    table = snapshot_versions_table([digest('s1'), digest('s0', SHA_2)], versions('s1'))
    assert [row['snapshot'] for row in table['rows']] == ['s1']


def test_table_of_no_snapshots_is_only_the_header():
    table = snapshot_versions_table([], [])
    assert table == dict(rows=[], changes=[], equal_to_live=[],
                         table=['snapshot  taken  change  type  size  mtime  owner  mode  sha256  live'])


def test_table_refuses_snapshots_without_a_digest():
    with pytest.raises(AnsibleFilterError) as failed:
        snapshot_versions_table([digest('s1'), digest('s3')], versions('s1', 's2', 's3', 's4'))
    assert str(failed.value) == 'no digest for snapshot(s) s2, s4'


def test_table_text_has_a_header_and_one_aligned_line_per_row():
    snaps = versions('s1', 's2', 's3', 's4', 's5') + [dict(name='s6')]
    digests = [
        digest('s1', '0123456789abcdef' + 'f' * 48, size=1234, mode='0640', uid=1000, gid=100),
        digest('s2', SHA_2, kind='directory', size=30, files=2, mtime=1700000061, mode='0755'),
        digest('s3', exists=False),
        digest('s4', refused='a directory on the way is a symlink that leaves the snapshot'),
        digest('s5', SHA_3, kind='symlink', size=0, files=None, target='a.txt', mode='0777'),
        digest('s6', None, kind='special', size=0, files=None),
    ]
    table = snapshot_versions_table(digests, snaps, digest('live', SHA_2, kind='directory'))
    refused = 'refused: a directory on the way is a symlink that leaves the snapshot'
    line = '%-8s  %-25s  %-7s  %-' + str(len(refused)) + 's  %-12s  %-20s  %-8s  %-4s  %-16s  %s'
    assert table['table'] == [(line % cells).rstrip() for cells in [
        ('snapshot', 'taken', 'change', 'type', 'size', 'mtime', 'owner', 'mode', 'sha256', 'live'),
        ('s1', '2026-11-10T12:00:00+00:00', 'first', 'file', '1234', '2023-11-14T22:13:20Z', '1000:100', '0640',
         '0123456789abcdef', ''),
        ('s2', '2026-11-11T12:00:00+00:00', 'changed', 'directory', '30 (2 files)', '2023-11-14T22:14:21Z', '0:0',
         '0755', '22222222bbbbbbbb', 'equals live'),
        ('s3', '2026-11-12T12:00:00+00:00', 'deleted', '-', '-', '-', '-', '-', '-', ''),
        ('s4', '2026-11-13T12:00:00+00:00', 'refused', refused, '-', '-', '-', '-', '-', ''),
        ('s5', '2026-11-14T12:00:00+00:00', 'created', 'symlink', '0', '2023-11-14T22:13:20Z', '0:0', '0777',
         '33333333cccccccc', ''),
        ('s6', '-', 'changed', 'special', '0', '2023-11-14T22:13:20Z', '0:0', '0644', '-', ''),
    ]]
    assert table['table'][4] == ('s4        2026-11-13T12:00:00+00:00  refused  ' + refused
                                 + '  -             -                     -         -     -')
    assert len(table['table']) == 1 + len(table['rows'])
    assert table['changes'] == ['s2', 's3', 's5', 's6']
    assert table['equal_to_live'] == ['s2']


def test_a_refused_row_is_marked_never_equals_live_and_the_next_row_is_compared_with_the_last_one_read():
    snaps = versions('s1', 's2', 's3', 's4')
    refused = 'a directory on the way is a symlink that leaves the snapshot'
    digests = [digest('s1', SHA_2), digest('s2', refused=refused), digest('s3', refused=refused), digest('s4', SHA_2)]
    table = snapshot_versions_table(digests, snaps, digest('live', refused=refused))
    assert [row['change'] for row in table['rows']] == ['first', 'refused', 'refused', 'same']
    assert [row['equals_live'] for row in table['rows']] == [False, False, False, False]
    assert (table['changes'], table['equal_to_live']) == ([], [])


def test_table_shows_the_sha256_truncated_to_16_characters_and_a_directory_with_its_files():
    snaps = versions('s1')
    table = snapshot_versions_table([digest('s1', SHA_2, kind='directory', size=4096, files=17)], snaps)
    header, line = table['table']
    assert header.split() == ['snapshot', 'taken', 'change', 'type', 'size', 'mtime', 'owner', 'mode', 'sha256',
                              'live']
    assert line.split() == ['s1', '2026-11-10T12:00:00+00:00', 'first', 'directory', '4096', '(17', 'files)',
                            '2023-11-14T22:13:20Z', '0:0', '0644', SHA_2[:16], '-']
    assert SHA_2[:17] not in line


# FilterModule

def test_filter_module_exposes_the_six_filters():
    assert FilterModule().filters() == {
        'snapshot_versions_luns': snapshot_versions_luns,
        'snapshot_versions_mounts': snapshot_versions_mounts,
        'snapshot_versions_select': snapshot_versions_select,
        'snapshot_versions_plan': snapshot_versions_plan,
        'snapshot_versions_leftovers': snapshot_versions_leftovers,
        'snapshot_versions_table': snapshot_versions_table,
    }


# --- snapshot_versions_mounts ------------------------------------------------------------------------------

BATCH = [dict(snapshot='s1', clone='lun_sv_aaaaaaaa', mount_point='/srv/v/s1'),
         dict(snapshot='s2', clone='lun_sv_bbbbbbbb', mount_point='/srv/v/s2')]


def test_mounts_without_the_session_are_the_mount_points_only():
    assert snapshot_versions_mounts(BATCH) == [dict(path='/srv/v/s1'), dict(path='/srv/v/s2')]


def test_mounts_take_each_clones_multipath_map_or_first_path_by_lun_id_and_wwid():
    luns = [dict(lun=1, wwid='naa.6001405bbbb', devices=['/dev/sdd', '/dev/sdf'], multipath=None),
            dict(lun=0, wwid='naa.6001405aaaa', devices=['/dev/sdc', '/dev/sde'], multipath='/dev/dm-3')]
    entries = snapshot_versions_mounts(BATCH, luns, {'lun_sv_aaaaaaaa': '0', 'lun_sv_bbbbbbbb': 1},
                                       {'lun_sv_aaaaaaaa': 'NAA.6001405AAAA', 'lun_sv_bbbbbbbb': 'naa.6001405bbbb'})
    assert entries == [dict(path='/srv/v/s1', device='/dev/dm-3'), dict(path='/srv/v/s2', device='/dev/sdd')]


def test_mounts_never_take_a_lun_id_whose_wwid_is_another_clones():
    luns = [dict(lun=0, wwid='naa.6001405old', devices=['/dev/sdc'], multipath=None)]
    with pytest.raises(AnsibleFilterError, match='no device of clone lun_sv_aaaaaaaa .LUN id 0, WWID naa.6001405aaaa.'):
        snapshot_versions_mounts(BATCH[:1], luns, {'lun_sv_aaaaaaaa': 0}, {'lun_sv_aaaaaaaa': 'naa.6001405aaaa'})


def test_luns_are_the_clones_of_the_batch_in_the_volume():
    assert snapshot_versions_luns(BATCH, 'labvg/pool') == [dict(volume='labvg/pool', name='lun_sv_aaaaaaaa'),
                                                           dict(volume='labvg/pool', name='lun_sv_bbbbbbbb')]


def test_luns_with_the_lun_are_made_from_each_snapshot():
    assert snapshot_versions_luns(BATCH, 'labvg/pool', 'lun') == [
        dict(volume='labvg/pool', name='lun_sv_aaaaaaaa', clone_from=dict(volume='labvg/pool', snapshot='s1', lun='lun')),
        dict(volume='labvg/pool', name='lun_sv_bbbbbbbb', clone_from=dict(volume='labvg/pool', snapshot='s2', lun='lun'))]
