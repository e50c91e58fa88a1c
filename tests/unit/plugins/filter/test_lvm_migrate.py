# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.plugins.filter.lvm_migrate import (
    FilterModule, lvm_migrate_fstab_entries, lvm_migrate_idle_sessions, lvm_migrate_logins_waited,
    lvm_migrate_lun_moves, lvm_migrate_paths, lvm_migrate_plan, lvm_migrate_sessions, lvm_migrate_targets)

H1 = 'iqn.2026-12.lab:host1'
H2 = 'iqn.2026-12.lab:host2'
W1 = 'naa.6001405aaaa'
W2 = 'naa.6001405bbbb'
SAN = {
    'luns': [{'path': 'labvg/pool/a', 'wwid': W1}, {'path': 'labvg/pool/b', 'wwid': W2},
             {'path': 'labvg/pool/c', 'wwid': 'naa.6001405cccc'}],
    'maps': [{'igroup': 'h1', 'path': 'labvg/pool/a', 'lun_id': 0}, {'igroup': 'h1', 'path': 'labvg/pool/b', 'lun_id': 3},
             {'igroup': 'h2', 'path': 'labvg/pool/c', 'lun_id': 0}],
    'igroups': [{'name': 'h1', 'initiators': [H1.upper()]}, {'name': 'h2', 'initiators': [H2]}],
}


def test_plan_finds_the_luns_their_source_maps_and_the_destination_igroup():
    plan = lvm_migrate_plan(SAN, [W2.upper(), W1], H1, H2.upper())
    assert plan == {'luns': [{'path': 'labvg/pool/b', 'wwid': W2, 'lun_id': 3, 'source_igroups': ['h1']},
                             {'path': 'labvg/pool/a', 'wwid': W1, 'lun_id': 0, 'source_igroups': ['h1']}],
                    'destination_igroup': 'h2', 'destination_problem': None,
                    'missing': [], 'unmapped': [], 'shared': []}


def test_plan_reports_missing_unmapped_and_shared_luns():
    san = dict(SAN, maps=SAN['maps'] + [{'igroup': 'h2', 'path': 'labvg/pool/a', 'lun_id': 5}])
    plan = lvm_migrate_plan(san, [W1, 'naa.6001405cccc', 'naa.nothere'], H1, 'iqn.2026-12.lab:host3')
    assert plan['missing'] == ['naa.nothere']
    assert plan['unmapped'] == ['labvg/pool/c']
    assert plan['shared'] == ['labvg/pool/a', 'labvg/pool/c']
    assert plan['destination_igroup'] is None
    assert plan['destination_problem'] == 'no igroup holds the destination initiator iqn.2026-12.lab:host3'


def test_a_chosen_destination_igroup_must_exist_and_hold_the_destination_initiator():
    chosen = lvm_migrate_plan(SAN, [W1], H1, H2.upper(), destination_igroup='h2')
    assert chosen['destination_igroup'] == 'h2' and chosen['destination_problem'] is None
    assert lvm_migrate_plan(SAN, [W1], H1, H2, destination_igroup='chosen')['destination_problem'] == (
        'igroup chosen does not exist')
    assert lvm_migrate_plan(SAN, [W1], H1, H2, destination_igroup='h1')['destination_problem'] == (
        'igroup h1 does not hold the destination initiator %s' % H2)


FSTAB = '''# /etc/fstab
UUID=1111 / ext4 errors=remount-ro 0 1
/dev/vg-data/xfs /srv/xfs xfs noatime,_netdev,nofail 0 0
/dev/mapper/vg--data-ext4--lv /srv/ext4 ext4 defaults 0 2
UUID=2222 /srv/by-uuid ext4 _netdev
#/dev/vg-data/old /srv/old ext4 defaults 0 0
/dev/othervg/xfs /srv/other xfs defaults 0 0
'''
LVS = [{'name': 'xfs', 'mounts': ['/srv/xfs']}, {'name': 'ext4-lv', 'mounts': []},
       {'name': 'u', 'mounts': ['/srv/by-uuid']}]


def test_fstab_entries_of_the_vgs_lvs_by_path_mapper_name_or_mount_point():
    entries = lvm_migrate_fstab_entries(FSTAB, 'vg-data', LVS)
    assert [(entry['lv'], entry['mountpoint'], entry['fstype'], entry['options']) for entry in entries] == [
        ('xfs', '/srv/xfs', 'xfs', ['noatime']),
        ('ext4-lv', '/srv/ext4', 'ext4', []),
        ('u', '/srv/by-uuid', 'ext4', []),
    ]
    assert entries[0]['line'] == '/dev/vg-data/xfs /srv/xfs xfs noatime,_netdev,nofail 0 0'


INFO = {
    'sessions': [{'sid': 1, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'tpgt': 1, 'iface': 'default'},
                 {'sid': 2, 'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'tpgt': 2, 'iface': 'default'},
                 {'sid': 3, 'target': 'iqn.t2', 'portal': '10.10.1.1:3260', 'tpgt': None, 'iface': 'default'}],
    'devices': [{'session_id': 1, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'wwid': W1},
                {'session_id': 2, 'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'wwid': W1},
                {'session_id': 3, 'target': 'iqn.t2', 'portal': '10.10.1.1:3260', 'wwid': W2}],
}


def test_paths_are_the_sessions_that_carry_the_luns():
    assert lvm_migrate_paths(INFO, [W1.upper()]) == [
        {'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'iface': 'default', 'tpgt': 1},
        {'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'iface': 'default', 'tpgt': 2}]


def test_sessions_group_the_paths_by_target_and_iface():
    """One session call (wwids, logged_out) per target and iface; a journal's paths without iface mean default."""
    info = {
        'sessions': [{'sid': 1, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'iface': 'default'},
                     {'sid': 2, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'iface': 'iface1'},
                     {'sid': 3, 'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'iface': 'iface1'}],
        'devices': [{'session_id': sid, 'target': 'iqn.t1', 'portal': portal, 'wwid': W1}
                    for sid, portal in ((1, '10.10.1.1:3260'), (2, '10.10.1.1:3260'), (3, '10.10.2.1:3260'))],
    }
    assert lvm_migrate_sessions(lvm_migrate_paths(info, [W1])) == [
        {'target': 'iqn.t1', 'iface': 'default', 'portals': ['10.10.1.1:3260']},
        {'target': 'iqn.t1', 'iface': 'iface1', 'portals': ['10.10.1.1:3260', '10.10.2.1:3260']}]
    old_journal = [{'target': 'iqn.t1', 'portal': '10.10.1.1:3260'}, {'target': 'iqn.t1', 'portal': '10.10.2.1:3260'}]
    assert lvm_migrate_sessions(old_journal) == [
        {'target': 'iqn.t1', 'iface': 'default', 'portals': ['10.10.1.1:3260', '10.10.2.1:3260']}]


def test_targets_group_the_paths_with_their_portal_group_tags():
    """A login elsewhere gets each portal's tag where the source's session had one (no discovery needed for the
    record), the plain portal where it had none."""
    paths = lvm_migrate_paths(INFO, [W1, W2])
    assert lvm_migrate_targets(paths) == [{'target': 'iqn.t1', 'portals': ['10.10.1.1:3260,1', '10.10.2.1:3260,2']},
                                          {'target': 'iqn.t2', 'portals': ['10.10.1.1:3260']}]


def test_lun_moves_keep_each_luns_id_and_leave_its_source_igroups():
    plan = lvm_migrate_plan(SAN, [W1, W2], H1, H2)
    assert lvm_migrate_lun_moves(plan['luns']) == [
        {'path': 'labvg/pool/a', 'lun_id': 0, 'unmap_from': ['h1']},
        {'path': 'labvg/pool/b', 'lun_id': 3, 'unmap_from': ['h1']}]


def test_targets_of_a_journal_written_before_paths_had_tags():
    old_journal = [{'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'iface': 'default'},
                   {'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'iface': 'default'}]
    assert lvm_migrate_targets(old_journal) == [{'target': 'iqn.t1', 'portals': ['10.10.1.1:3260', '10.10.2.1:3260']}]


def test_sessions_to_log_out_keep_the_plain_portals():
    """The source's logout names portals as its sessions do; the tags only serve a login."""
    assert lvm_migrate_sessions(lvm_migrate_paths(INFO, [W1])) == [
        {'target': 'iqn.t1', 'iface': 'default', 'portals': ['10.10.1.1:3260', '10.10.2.1:3260']}]


def test_idle_sessions_are_those_of_the_targets_without_disks():
    info = dict(INFO, devices=INFO['devices'][2:])
    assert lvm_migrate_idle_sessions(info, ['IQN.T1', 'iqn.t2']) == [
        {'target': 'iqn.t1', 'iface': 'default', 'portals': ['10.10.1.1:3260', '10.10.2.1:3260']}]
    assert lvm_migrate_idle_sessions(INFO, ['iqn.t1']) == []


def test_idle_sessions_are_known_by_session_id_and_grouped_per_iface():
    """A disk on iface1's session keeps that session only; the default iface's session to the same portal goes."""
    info = {
        'sessions': [{'sid': 1, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'iface': 'default'},
                     {'sid': 2, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'iface': 'iface1'},
                     {'sid': 3, 'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'iface': 'iface1'},
                     {'sid': 4, 'target': 'iqn.t1', 'portal': '10.10.2.1:3260', 'iface': 'default'}],
        'devices': [{'session_id': 2, 'target': 'iqn.t1', 'portal': '10.10.1.1:3260', 'wwid': W1}],
    }
    assert lvm_migrate_idle_sessions(info, ['iqn.t1']) == [
        {'target': 'iqn.t1', 'iface': 'default', 'portals': ['10.10.1.1:3260', '10.10.2.1:3260']},
        {'target': 'iqn.t1', 'iface': 'iface1', 'portals': ['10.10.2.1:3260']}]


def login(portals, logged_in):
    """One item of the registered session loop, as Ansible records it."""
    return {'item': {'target': 'iqn.t1', 'portals': portals}, 'logged_in': logged_in, 'changed': bool(logged_in)}


def test_logins_waited_when_every_session_is_new():
    both = ['10.10.1.1:3260,1', '10.10.2.1:3260,1']
    assert lvm_migrate_logins_waited({'results': [login(both, ['10.10.1.1:3260', '10.10.2.1:3260'])]}) is True
    assert lvm_migrate_logins_waited({'results': [login(both, ['10.10.1.1:3260', '10.10.2.1:3260']),
                                                  login(['10.10.3.1:3260'], ['10.10.3.1:3260'])]}) is True


def test_logins_not_waited_when_a_session_existed_before_or_nothing_ran():
    both = ['10.10.1.1:3260,1', '10.10.2.1:3260,1']
    # one portal's session was there already (another LUN of the target): its LUNs need a rescan
    assert lvm_migrate_logins_waited({'results': [login(both, ['10.10.2.1:3260'])]}) is False
    assert lvm_migrate_logins_waited({'results': [login(both, ['10.10.1.1:3260', '10.10.2.1:3260']),
                                                  login(['10.10.3.1:3260'], [])]}) is False
    assert lvm_migrate_logins_waited({'results': [dict(login(both, []), skipped=True)]}) is False
    assert lvm_migrate_logins_waited({'results': []}) is False
    assert lvm_migrate_logins_waited({}) is False


def test_the_filters_are_registered():
    assert sorted(FilterModule().filters()) == ['lvm_migrate_fstab_entries', 'lvm_migrate_idle_sessions',
                                                'lvm_migrate_logins_waited', 'lvm_migrate_lun_moves',
                                                'lvm_migrate_paths', 'lvm_migrate_plan', 'lvm_migrate_sessions',
                                                'lvm_migrate_targets']
