# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.plugins.filter.iscsi_root import (
    FilterModule, iscsi_root_hosts, iscsi_root_reset_snapshots, iscsi_root_snapshot_found)

PREFIX = 'iqn.2026-12.com.example'
HOST1 = {'name': 'host1', 'mac': '52-54-00-0A-01-15', 'address': '10.10.1.21/24'}
HOST2 = {'name': 'host2', 'mac': '52:54:00:0a:01:16', 'address': '10.10.1.22/24',
         'initiator': 'iqn.2026-12.com.example:ws-2'}


def test_hosts_get_their_derived_or_given_initiator_and_igroup():
    checked = iscsi_root_hosts([HOST1, HOST2], PREFIX)
    assert checked == {'problems': [], 'hosts': [
        {'name': 'host1', 'mac': '52:54:00:0a:01:15', 'address': '10.10.1.21/24',
         'initiator': PREFIX + ':host1', 'igroup': 'host1', 'reset_snapshot': None, 'chap_user': None},
        {'name': 'host2', 'mac': '52:54:00:0a:01:16', 'address': '10.10.1.22/24',
         'initiator': 'iqn.2026-12.com.example:ws-2', 'igroup': 'host2', 'reset_snapshot': None, 'chap_user': None}]}


def test_a_chap_secret_gives_a_chap_user_and_is_never_returned():
    secret = 'host-secret.0001'
    checked = iscsi_root_hosts([dict(HOST1, chap_secret=secret), dict(HOST2, chap_secret=secret, chap_user='ws2')],
                               PREFIX)
    assert checked['problems'] == []
    assert [host['chap_user'] for host in checked['hosts']] == ['host1', 'ws2']
    assert secret not in str(checked)


def test_bad_chap_settings_are_problems_without_the_secret():
    checked = iscsi_root_hosts([dict(HOST1, chap_secret='short'), dict(HOST2, chap_user='ws2'),
                                dict(HOST1, name='host3', mac='52:54:00:0a:01:17', address='10.10.1.23/24',
                                     chap_secret='host-secret.0001', chap_user='a user')], PREFIX)
    assert checked['hosts'] == []
    assert checked['problems'][0].startswith('host host1: chap_secret (5 characters): 12 to 255')
    assert checked['problems'][1] == 'host host2: chap_user without chap_secret'
    assert checked['problems'][2].startswith("host host3: chap_user 'a user'")
    assert 'short' not in str(checked)


def test_a_reset_snapshot_is_carried_and_must_be_a_name():
    checked = iscsi_root_hosts([dict(HOST1, reset_snapshot='host1_monday'), dict(HOST2, reset_snapshot='')], PREFIX)
    assert [host['reset_snapshot'] for host in checked['hosts']] == ['host1_monday', None]
    problems = iscsi_root_hosts([dict(HOST1, reset_snapshot=['host1_monday'])], PREFIX)['problems']
    assert problems == ['host host1: reset_snapshot must be the name of a snapshot of its own LUN']


def test_invalid_hosts_are_problems_not_exceptions():
    checked = iscsi_root_hosts([{'name': 'Host_1', 'mac': HOST1['mac'], 'address': HOST1['address']},
                                {'name': 'h2', 'mac': '01:00:5e:00:00:01', 'address': '10.10.1.3/24'},
                                {'name': 'h3', 'mac': '52:54:00:0a:01:17', 'address': '10.10.1.3'},
                                {'name': 'h4', 'mac': '52:54:00:0a:01:18', 'address': '10.10.1.4/24'}], None)
    assert checked['hosts'] == []
    assert len(checked['problems']) == 4
    assert 'host name' in checked['problems'][0]
    assert 'multicast' in checked['problems'][1]
    assert 'prefix length' in checked['problems'][2]
    assert 'give its initiator' in checked['problems'][3]


def test_two_hosts_sharing_a_mac_address_or_initiator_are_refused():
    twin = dict(HOST2, mac=HOST1['mac'].lower(), address=HOST1['address'], initiator=(PREFIX + ':HOST1'))
    problems = iscsi_root_hosts([HOST1, twin], PREFIX)['problems']
    assert problems == ['two hosts have the mac 52:54:00:0a:01:15', 'two hosts have the address 10.10.1.21/24',
                        'two hosts have the initiator %s:host1' % PREFIX]


def test_an_initiator_held_by_another_igroup_is_refused_case_insensitively():
    igroups = [{'name': 'desk7', 'initiators': [(PREFIX + ':host1').upper()]},
               {'name': 'builder', 'initiators': [PREFIX + ':host2']},
               {'name': 'host1', 'initiators': [PREFIX + ':host1']}]
    checked = iscsi_root_hosts([HOST1], PREFIX, igroups)
    assert checked['problems'] == ['host host1: igroup desk7 already holds its initiator name %s:host1' % PREFIX]
    assert iscsi_root_hosts([HOST1], PREFIX, igroups[1:])['problems'] == []
    # the builder's initiator name is another host's too
    builder = iscsi_root_hosts([dict(HOST2, initiator=PREFIX + ':host2')], PREFIX, igroups)['problems']
    assert builder == ['host host2: igroup builder already holds its initiator name %s:host2' % PREFIX]


def test_a_host_name_whose_igroup_holds_another_initiator_is_taken():
    igroups = [{'name': 'host1', 'initiators': ['iqn.1994-05.com.redhat:other']}]
    problems = iscsi_root_hosts([HOST1], PREFIX, igroups)['problems']
    assert problems == ['host host1: igroup host1 holds another initiator name (iqn.1994-05.com.redhat:other); '
                        'that host name is taken']


def test_a_reset_snapshot_must_be_one_of_the_hosts_own_lun():
    hosts = iscsi_root_hosts([dict(HOST1, reset_snapshot='monday'), dict(HOST2, reset_snapshot='tuesday'),
                              {'name': 'host3', 'mac': '52:54:00:0a:01:17', 'address': '10.10.1.23/24'}],
                             PREFIX)['hosts']
    lio = [{'name': 'monday', 'lun': 'root_host1'}, {'name': 'tuesday', 'lun': 'root_host1'}]
    assert iscsi_root_reset_snapshots(hosts, lio, 'root_') == [
        'host host2: reset_snapshot tuesday is not a snapshot of its LUN root_host2']
    # ONTAP: a volume's snapshot, lun null; the role's trial clone tells whether it holds the LUN
    ontap = [{'name': 'monday', 'lun': None}, {'name': 'tuesday', 'lun': None}]
    assert iscsi_root_reset_snapshots(hosts, ontap, 'root_') == []
    assert iscsi_root_reset_snapshots(hosts, [], 'root_') == [
        'host host1: reset_snapshot monday is not a snapshot of its LUN root_host1',
        'host host2: reset_snapshot tuesday is not a snapshot of its LUN root_host2']
    # the prefix is part of the LUN's name
    assert len(iscsi_root_reset_snapshots(hosts, lio, 'desk_')) == 2


def test_a_snapshot_is_found_by_name_and_the_lun_it_holds():
    lio = [{'name': 'gold', 'lun': 'golden'}, {'name': 'other', 'lun': 'root_host1'}]
    assert iscsi_root_snapshot_found(lio, 'gold', 'golden') is True
    # the right name of another LUN, or the right LUN under another name
    assert iscsi_root_snapshot_found(lio, 'other', 'golden') is False
    assert iscsi_root_snapshot_found(lio, 'gold', 'root_host1') is False
    assert iscsi_root_snapshot_found(lio, 'Gold', 'golden') is False
    # ONTAP: the volume's snapshot (lun null) counts for any LUN in it
    assert iscsi_root_snapshot_found([{'name': 'gold', 'lun': None}], 'gold', 'golden') is True
    assert iscsi_root_snapshot_found([], 'gold', 'golden') is False
    assert iscsi_root_snapshot_found(None, 'gold', 'golden') is False
    # two that match (a snapshot of the LUN and the volume's of the same name) are not one answer
    assert iscsi_root_snapshot_found([{'name': 'gold', 'lun': 'golden'}, {'name': 'gold', 'lun': None}],
                                     'gold', 'golden') is False


def test_the_filters_are_registered():
    assert FilterModule().filters() == {'iscsi_root_hosts': iscsi_root_hosts,
                                        'iscsi_root_reset_snapshots': iscsi_root_reset_snapshots,
                                        'iscsi_root_snapshot_found': iscsi_root_snapshot_found}
