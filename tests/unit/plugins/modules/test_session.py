# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os
import threading

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.plugins.modules import session
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_devices import FakeSysfs
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import (
    FakeCommands, fixture, iscsiadm)

TARGET = 'iqn.2026-11.lab.san-iscsi:helperc-capture'
MULTIPATH = 'session_P1_multipath.txt'
SESSIONS = iscsiadm('-m', 'session', '-P', '1')
SETTLE = ['/usr/bin/timeout', '-k', '5', '6', '/usr/bin/udevadm', 'settle', '--timeout=1']
NODES = iscsiadm('-m', 'node', '-P', '1')
NODE_TREE = ('Target: %s\n\tPortal: 10.10.1.1:3260,1\n\t\tIface Name: default\n'
             '\tPortal: 10.10.2.1:3260,1\n\t\tIface Name: default\n'
             'Target: %s0\n\tPortal: 10.10.1.1:3260,1\n\t\tIface Name: default\n') % (TARGET, TARGET)


def session_blocks(text):
    """Split P1 output into (target line, [session block]) keeping every real line."""
    targets = []
    for line in text.splitlines(True):
        if line.startswith('Target: '):
            targets.append([line, []])
        elif line.startswith('\tCurrent Portal: '):
            targets[-1][1].append(line)
        else:
            targets[-1][1][-1] += line
    return targets


def only_sessions(text, sids):
    """The real P1 output cut down to the sessions with these ids."""
    out = ''
    for target_line, blocks in session_blocks(text):
        kept = [block for block in blocks if any('SID: %d\n' % sid in block for sid in sids)]
        if kept:
            out += target_line + ''.join(kept)
    return out


def discovery(portal, iface='default'):
    return iscsiadm('-m', 'discovery', '-t', 'sendtargets', '-p', portal, '-I', iface, '-o', 'nonpersistent',
                    timeout=300)


def sendtargets(target=TARGET):
    """What LIO answers to SendTargets for a target on the lab's three portals (tpgt 1)."""
    return ''.join('%s,1 %s\n' % (portal, target) for portal in ('10.10.1.1:3260', '10.10.2.1:3260', '[fd5a:1::1]:3260'))


def login(portal):
    return iscsiadm('-m', 'node', '-T', TARGET, '-p', '%s:3260' % portal, '-I', 'default', '--login', timeout=300)


@pytest.fixture
def lab(monkeypatch, tmp_path):
    fake = FakeSysfs(tmp_path)
    proc = tmp_path / 'proc'
    proc.mkdir()
    (proc / 'swaps').write_text('Filename\tType\tSize\tUsed\tPriority\n')
    fake.proc = proc
    fake.paths = HostPaths(sysfs=fake.sys, dev=fake.dev, proc=str(proc), udev_db=fake.udev_db,
                           mountinfo=fake.mountinfo)
    fake.commands = FakeCommands(monkeypatch)
    return fake


@pytest.fixture
def run_module(run_module, lab):
    """Every module run of this file sees the fake tree."""
    return functools.partial(run_module, paths=lab.paths)


def two_paths(lab, luns=(0, 1)):
    """Sessions 2 (host3, 10.10.1.1) and 3 (host4, 10.10.2.1) as in the captured P1 output."""
    lab.add_session(2, 3, target=TARGET)
    lab.add_session(3, 4, target=TARGET, address='10.10.2.1')
    for lun in luns:
        wwid = 'naa.6001405c0ffee00000000000000000%02d' % lun
        lab.add_disk(2, 3, lun, 'sd%s' % 'cd'[lun], wwid=wwid, target=TARGET)
        lab.add_disk(3, 4, lun, 'sd%s' % 'ef'[lun], wwid=wwid, portal='10.10.2.1:3260', target=TARGET)


def test_no_change_multipath_one_iscsiadm_process(run_module, lab):
    two_paths(lab)
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, {'target': TARGET.upper(), 'portals': ['10.10.1.1', '10.10.2.1:3260'],
                                  'luns': [0, 1], 'multipath': 'no'})
    assert result['changed'] is False
    assert result['logged_in'] == []
    assert [(s['sid'], s['portal']) for s in result['sessions']] == [(2, '10.10.1.1:3260'), (3, '10.10.2.1:3260')]
    assert [(lun['lun'], lun['devices']) for lun in result['luns']] == [
        (0, [os.path.join(lab.dev, 'sdc'), os.path.join(lab.dev, 'sde')]),
        (1, [os.path.join(lab.dev, 'sdd'), os.path.join(lab.dev, 'sdf')])]
    assert result['luns'][1]['wwid'] == 'naa.6001405c0ffee0000000000000000001'
    assert len(result['devices']) == 4
    assert len(lab.commands.iscsiadm_calls()) == 1
    lab.commands.done()


def test_ipv6_session_matches_in_any_notation(run_module, lab):
    lab.add_session(4, 5, target=TARGET, address='fd5a:1::1')
    lab.add_disk(4, 5, 0, 'sdg', target=TARGET, portal='[fd5a:1::1]:3260')
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, {'target': TARGET, 'portal': '[fd5a:0001:0::1]:3260', 'multipath': 'no'})
    assert result['changed'] is False
    assert [(s['sid'], s['portal']) for s in result['sessions']] == [(4, '[fd5a:1::1]:3260')]
    assert result['devices'][0]['portal'] == '[fd5a:1::1]:3260'
    lab.commands.done()


def test_all_portals_of_the_records_uses_two_processes(run_module, lab):
    two_paths(lab)
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(NODES, out=NODE_TREE)
    result = run_module(session, {'target': TARGET, 'multipath': 'no'})
    assert result['changed'] is False
    assert len(result['sessions']) == 2
    assert len(lab.commands.iscsiadm_calls()) == 2
    lab.commands.done()


def test_login_missing_portal_then_scan_and_wait(run_module, lab):
    two_paths(lab)
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [1, 2]))
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(login('10.10.2.1'))
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'multipath': 'no'})
    assert result['changed'] is True
    assert result['logged_in'] == ['10.10.2.1:3260']
    assert len(result['luns']) == 2
    with open(os.path.join(lab.sys, 'class/scsi_host/host4/scan')) as handle:
        assert handle.read() == '- - -'
    with open(os.path.join(lab.sys, 'class/scsi_host/host3/scan')) as handle:
        assert handle.read() == ''  # the session that already existed is not rescanned
    lab.commands.done()


def test_check_mode_predicts_and_runs_nothing_else(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21, err='iscsiadm: No active sessions.\n')
    lab.commands.expect(NODES, out=NODE_TREE)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '[fd5a:1::1]']}, check_mode=True)
    assert result['changed'] is True
    assert result['logged_in'] == ['10.10.1.1:3260', '[fd5a:1::1]:3260']
    assert result['sessions'] == []
    lab.commands.done()


def test_failed_login_removes_the_record_it_created(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(discovery('[fd5a:1::1]:3260'), out=sendtargets())
    lab.commands.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', '[fd5a:1::1]:3260,1', '-I', 'default'))
    lab.commands.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '[fd5a:1::1]:3260', '-I', 'default', '--login',
                                 timeout=300),
                        rc=24, err='iscsiadm: initiator reported error (24 - iSCSI login failed due to '
                                   'authorization failure)\n')
    lab.commands.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '[fd5a:1::1]:3260', '-I', 'default',
                                 '-o', 'delete'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portal': '[fd5a:1::1]'})
    result = failed.value.result
    assert result['rc'] == 24
    assert 'authorization failure' in result['msg']
    assert result['logged_in'] == []
    lab.commands.done()


def test_logins_to_several_portals_run_at_the_same_time(run_module, lab):
    """Each login waits (at most 10 s) until the other has started: logins one after the other fail here."""
    two_paths(lab)
    both_started = threading.Barrier(2, timeout=10)
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect_together([(login(portal), 0, '', '', both_started.wait) for portal in ('10.10.1.1', '10.10.2.1')])
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'multipath': 'no'})
    assert result['logged_in'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    assert [s['sid'] for s in result['sessions']] == [2, 3]
    assert len(result['devices']) == 4
    lab.commands.done()


def test_second_login_failure_logs_out_the_first_session(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect_together([
        (login('10.10.1.1'), 0, '', '', None),
        (login('10.10.2.1'), 8, '', 'iscsiadm: connection login retries (reopen_max) 5 exceeded\n', None)])
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [2]))
    lab.commands.expect(iscsiadm('-m', 'session', '-r', '2', '--logout'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1']})
    assert failed.value.result['msg'].startswith(
        'login to %s at 10.10.2.1:3260: iscsiadm exited with 8 (connection timed out' % TARGET)
    lab.commands.done()


def test_no_lun_presented_logs_out_again_and_names_the_acl(run_module, lab):
    lab.add_session(2, 3, target=TARGET)
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(login('10.10.1.1'))
    p1 = only_sessions(fixture(MULTIPATH), [2])
    lab.commands.expect(SESSIONS, out=p1)
    lab.commands.allow(SETTLE)
    lab.commands.expect(SESSIONS, out=p1)
    lab.commands.expect(iscsiadm('-m', 'session', '-r', '2', '--logout'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portal': '10.10.1.1', 'timeout': 1})
    msg = failed.value.result['msg']
    assert msg.startswith('timed out after 1s waiting for: any LUN on %s at 10.10.1.1:3260 (session 2)' % TARGET)
    assert 'presents no LUN to initiator' in msg
    assert 'ACL' in msg
    assert SETTLE in lab.commands.calls
    with open(os.path.join(lab.sys, 'class/scsi_host/host3/scan')) as handle:
        assert handle.read() == '- - -'
    lab.commands.done()


def test_logout_refused_while_mounted(run_module, lab):
    two_paths(lab, luns=(0,))
    lab.add_dm('dm-0', 'mpatha', 'mpath-36001405c0ffee', ['sdc', 'sde'])
    lab.mount(lab.majors['dm-0'], '/dev/mapper/mpatha', '/srv/restore')
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out'})
    assert failed.value.result['msg'] == (
        'refusing to log out of %s: %s (LUN 0) mounted at /srv/restore; %s (LUN 0) mounted at /srv/restore; '
        'unmount/deactivate first or set force=true' % (TARGET, os.path.join(lab.dev, 'sdc'),
                                                        os.path.join(lab.dev, 'sde')))
    lab.commands.done()


def test_logout_refused_for_root_even_with_force(run_module, lab):
    two_paths(lab, luns=(0,))
    lab.mount(lab.majors['sdc'], '/dev/sdc', '/')
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'state': 'logged_out', 'force': True})
    assert 'backs the root file system /' in failed.value.result['msg']


def test_logout_refused_for_active_lvm_and_swap(run_module, lab):
    two_paths(lab, luns=(0,))
    lab.add_dm('dm-3', 'restore-data', 'LVM-abcdef0123', ['sdc'])
    (lab.proc / 'swaps').write_text('Filename\tType\tSize\tUsed\tPriority\n/dev/sde  partition\t1\t0\t-2\n')
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out'})
    assert 'sdc (LUN 0) holds active LVM volume(s) restore-data' in failed.value.result['msg']
    assert 'sde (LUN 0) used as swap' in failed.value.result['msg']


def expect_logouts(lab, *sids, **kwargs):
    """Logouts of the sessions SIDS, side by side; EFFECT (kwargs) runs in each."""
    lab.commands.expect_together([(iscsiadm('-m', 'session', '-r', str(sid), '--logout'), 0, '', '', kwargs.get('effect'))
                                  for sid in sids])


def expect_logout_of_both_paths(lab):
    """The iscsiadm calls of logging out of sessions 2 and 3 (two_paths) and deleting their node records."""
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(NODES, out=NODE_TREE)
    expect_logouts(lab, 2, 3)
    for portal in ('10.10.1.1', '10.10.2.1'):
        lab.commands.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '%s:3260' % portal, '-I', 'default',
                                     '-o', 'delete'))


def test_logout_deletes_devices_then_logs_out_and_removes_records(run_module, lab, monkeypatch):
    two_paths(lab, luns=(0,))
    expect_logout_of_both_paths(lab)
    flushed = []
    monkeypatch.setattr(_blockdev, 'flush_device', flushed.append)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out',
                                  'remove_node': True})
    assert result['changed'] is True
    assert result['logged_out'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    assert result['removed_nodes'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    assert flushed == [os.path.join(lab.dev, 'sdc'), os.path.join(lab.dev, 'sde')]
    for hctl in ('3:0:0:0', '4:0:0:0'):
        with open(os.path.join(lab.sys, 'bus/scsi/devices', hctl, 'delete')) as handle:
            assert handle.read() == '1'
    lab.commands.done()


def test_logouts_of_several_sessions_run_at_the_same_time(run_module, lab, monkeypatch):
    """Each logout waits (at most 10 s) until the other has started: logouts one after the other fail here."""
    two_paths(lab, luns=(0,))
    both_started = threading.Barrier(2, timeout=10)
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    expect_logouts(lab, 2, 3, effect=both_started.wait)
    monkeypatch.setattr(_blockdev, 'flush_device', lambda path: None)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out'})
    assert result['logged_out'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    lab.commands.done()


def test_a_failed_logout_is_reported_after_the_other_ran(run_module, lab, monkeypatch):
    two_paths(lab, luns=(0,))
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect_together([
        (iscsiadm('-m', 'session', '-r', '2', '--logout'), 0, '', '', None),
        (iscsiadm('-m', 'session', '-r', '3', '--logout'), 7, '', 'iscsiadm: Could not logout of [sid: 3]\n', None)])
    monkeypatch.setattr(_blockdev, 'flush_device', lambda path: None)
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out'})
    assert failed.value.result['rc'] == 7
    assert failed.value.result['msg'].startswith('logout of session 3 (%s at 10.10.2.1:3260)' % TARGET)
    lab.commands.done()


def test_logout_flushes_a_multipath_map_built_only_on_these_paths(run_module, lab, monkeypatch):
    two_paths(lab, luns=(0,))
    lab.add_dm('dm-0', 'mpatha', 'mpath-36001405c0ffee', ['sdc', 'sde'])
    lab.commands.binaries['multipath'] = '/usr/sbin/multipath'
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(['/usr/bin/timeout', '-k', '5', '60', '/usr/sbin/multipath', '-f', 'mpatha'])
    expect_logouts(lab, 2, 3)
    monkeypatch.setattr(_blockdev, 'flush_device', lambda path: None)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out'})
    assert result['changed'] is True
    lab.commands.done()


def test_logged_out_no_change_and_check_mode(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    assert run_module(session, {'target': TARGET, 'state': 'logged_out'})['changed'] is False
    lab.commands.done()
    two_paths(lab, luns=(0,))
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, {'target': TARGET, 'state': 'logged_out'}, check_mode=True)
    assert result['changed'] is True
    assert result['logged_out'] == ['10.10.1.1:3260', '10.10.2.1:3260', '[fd5a:1::1]:3260']
    assert not os.path.exists(os.path.join(lab.sys, 'bus/scsi/devices/3:0:0:0/delete'))
    lab.commands.done()


def claim_for_multipath(lab, names, value='1'):
    for name in names:
        lab.udev_entry(name, ['E:DM_MULTIPATH_DEVICE_PATH=%s' % value])


def test_waits_for_multipath_maps_of_claimed_paths_only(run_module, lab):
    two_paths(lab, luns=(0,))
    (lab.proc / '99').mkdir()
    (lab.proc / '99' / 'comm').write_text('multipathd\n')
    args = {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'luns': [0]}
    claim_for_multipath(lab, ['sdc', 'sde'], value='0')  # find_multipaths strict, WWID unknown: no map coming
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    assert run_module(session, args)['luns'][0]['multipath'] is None
    claim_for_multipath(lab, ['sdc', 'sde'])
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, args)
    assert 'multipath map of %s (LUN 0' % os.path.join(lab.dev, 'sdc') in failed.value.result['msg']
    lab.commands.done()
    lab.add_dm('dm-0', 'mpatha', 'mpath-36001405c0ffee', ['sdc', 'sde'])
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, args)
    assert result['luns'][0]['multipath'] == '/dev/mapper/mpatha'
    assert result['luns'][0]['holders'] == ['dm-0']


def test_existing_session_recovering_after_target_restart_is_waited_for(run_module, lab):
    two_paths(lab, luns=(0,))
    state = os.path.join(lab.sys, 'class/iscsi_session/session3/state')
    with open(state, 'w') as handle:
        handle.write('FAILED\n')

    def recovered():
        with open(state, 'w') as handle:
            handle.write('LOGGED_IN\n')
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.allow(SETTLE, effect=recovered)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'multipath': 'no'})
    assert result['changed'] is False
    assert len(result['devices']) == 2
    assert SETTLE in lab.commands.calls
    lab.commands.done()


def test_missing_lun_on_existing_sessions_fails_fast_with_rescan_hint(run_module, lab):
    two_paths(lab, luns=(0,))
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'luns': [0, 5],
                             'multipath': 'no'})
    msg = failed.value.result['msg']
    assert 'LUN 5 on %s at 10.10.1.1:3260 (session 2)' % TARGET in msg
    assert 'set rescan=true' in msg
    lab.commands.done()


def test_rescan_runs_only_in_real_runs(run_module, lab):
    two_paths(lab, luns=(0,))
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(iscsiadm('-m', 'session', '-r', '2', '--rescan'))
    lab.commands.expect(iscsiadm('-m', 'session', '-r', '3', '--rescan'))
    args = {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'rescan': True, 'multipath': 'no'}
    assert run_module(session, args)['changed'] is False  # nothing new appeared
    lab.commands.done()
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    assert run_module(session, args, check_mode=True)['changed'] is False
    lab.commands.done()


@pytest.mark.parametrize('args, message', [
    ({'target': 'iqn.2026-11.localhost:x'}, 'naming authority'),
    ({'portal': '[fd5a:1::1'}, 'without a closing'),
    ({'portal': ':3260'}, 'has no host'),
    ({'portals': []}, 'portals is empty'),
    ({'luns': [0, 16384, -1]}, 'luns: 16384, -1 out of range 0-16383'),
    ({'timeout': 0}, 'timeout must be greater than 0'),
])
def test_bad_input_fails_before_any_command(run_module, lab, args, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, dict({'target': TARGET, 'portal': '10.10.1.1'} if 'portals' not in args
                                 else {'target': TARGET}, **args))
    assert message in failed.value.result['msg']
    assert lab.commands.calls == []


def test_no_records_and_no_portal(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, rc=21)
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET})
    assert failed.value.result['msg'].startswith('no node record for target %s (iface default)' % TARGET)


# --- node_settings, create_iface, remove_iface ---------------------------------------------------

TIMEO = 'node.session.timeo.replacement_timeout'
IPV6 = '[fd5a:1::1]:3260'


def node(portal, *args, **kwargs):
    return iscsiadm('-m', 'node', '-T', TARGET, '-p', portal, '-I', kwargs.get('iface', 'default'), *args,
                    timeout=kwargs.get('timeout', 60))


def on_iface(text, iface):
    return text.replace('Iface Name: default', 'Iface Name: %s' % iface)


def test_node_settings_written_to_a_created_record_before_the_login(run_module, lab):
    lab.add_session(4, 5, target=TARGET, address='fd5a:1::1')
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(discovery(IPV6), out=sendtargets())
    lab.commands.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', IPV6 + ',1', '-I', 'default'))
    lab.commands.expect(node(IPV6, '-o', 'show'), out=fixture('node_show.txt'))
    lab.commands.expect(node(IPV6, '-o', 'update', '-n', 'node.session.scan', '-v', 'manual'))
    lab.commands.expect(node(IPV6, '-o', 'update', '-n', TIMEO, '-v', '15'))
    lab.commands.expect(node(IPV6, '--login', timeout=300))
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [4]))
    result = run_module(session, {'target': TARGET, 'portal': '[fd5a:1::1]', 'wait': False,
                                  'node_settings': {TIMEO: 15, 'node.startup': 'manual', 'node.session.scan': 'manual'}})
    assert result['changed'] is True
    assert result['updated_settings'] == [{'target': TARGET, 'portal': IPV6, 'iface': 'default',
                                           'settings': {'node.session.scan': 'manual', TIMEO: '15'}}]
    assert result['logged_in'] == [IPV6]
    lab.commands.done()


def test_node_settings_on_logged_in_records_are_written_once(run_module, lab):
    two_paths(lab)
    args = {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'multipath': 'no', 'node_settings': {TIMEO: 15}}
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(node('10.10.1.1:3260', '-o', 'show'), out=fixture('node_show.txt').replace('= 120', '= 15'))
    lab.commands.expect(node('10.10.2.1:3260', '-o', 'show'), out=fixture('node_show.txt'))
    lab.commands.expect(node('10.10.2.1:3260', '-o', 'update', '-n', TIMEO, '-v', '15'))
    result = run_module(session, args)
    assert result['changed'] is True
    assert result['logged_in'] == []
    assert result['updated_settings'] == [{'target': TARGET, 'portal': '10.10.2.1:3260', 'iface': 'default',
                                           'settings': {TIMEO: '15'}}]
    lab.commands.done()
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(NODES, out=NODE_TREE)
    for portal in ('10.10.1.1:3260', '10.10.2.1:3260'):
        lab.commands.expect(node(portal, '-o', 'show'), out=fixture('node_show.txt').replace('= 120', '= 15'))
    result = run_module(session, args)
    assert result['changed'] is False
    assert result['updated_settings'] == []
    lab.commands.done()


def test_node_settings_check_mode_predicts_and_writes_nothing(run_module, lab):
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [2]))
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(node('10.10.1.1:3260', '-o', 'show'), out=fixture('node_show.txt'))
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '[fd5a:1::1]'],
                                  'node_settings': {TIMEO: 15, 'node.session.scan': False}}, check_mode=True)
    assert result['changed'] is True
    assert result['logged_in'] == [IPV6]
    assert result['updated_settings'] == [
        {'target': TARGET, 'portal': '10.10.1.1:3260', 'iface': 'default',
         'settings': {TIMEO: '15', 'node.session.scan': 'No'}},
        {'target': TARGET, 'portal': IPV6, 'iface': 'default', 'settings': {TIMEO: '15', 'node.session.scan': 'No'}}]
    lab.commands.done()


def test_unknown_node_setting_refused_before_any_write(run_module, lab):
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [2]))
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(node('10.10.2.1:3260', '-o', 'show'), out=fixture('node_show.txt'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'node_settings': {'node.bogus': 1}})
    assert failed.value.result['msg'].startswith('node_settings: unknown node setting(s): node.bogus')
    assert failed.value.result['changed'] is False
    lab.commands.done()


@pytest.mark.parametrize('args, message', [
    ({'node_settings': {'node.session.auth.password': 'S3cr3t-value'}},
     'node_settings: node.session.auth.password is a secret; use the chap_password/chap_password_in options'),
    ({'node_settings': {'discovery.sendtargets.auth.password_in': 'S3cr3t-value'}}, 'is a secret'),
    ({'node_settings': {'node.conn[0].address': '10.0.0.1'}}, 'node_settings: node.conn[0].address identifies the record'),
    ({'state': 'logged_out', 'remove_iface': True}, 'remove_iface needs remove_node=true'),
])
def test_refused_node_settings_and_options_before_any_command(run_module, lab, args, message):
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, dict({'target': TARGET, 'portal': '10.10.1.1'}, **args))
    assert message in failed.value.result['msg']
    assert 'S3cr3t-value' not in repr(failed.value.result)
    assert lab.commands.calls == []


IFACES = iscsiadm('-m', 'iface')
BUILT_IN = 'default tcp,<empty>,<empty>,<empty>,<empty>\niser iser,<empty>,<empty>,<empty>,<empty>\n'
WITH_BROWSE = BUILT_IN + 'browse-1 tcp,<empty>,<empty>,<empty>,<empty>\n'
IFACE_NEW = iscsiadm('-m', 'iface', '-I', 'browse-1', '-o', 'new')
IFACE_DELETE = iscsiadm('-m', 'iface', '-I', 'browse-1', '-o', 'delete')
BROWSE = {'target': TARGET, 'portal': '10.10.1.1', 'iface': 'browse-1'}


def test_create_iface_before_the_node_record_then_log_in(run_module, lab):
    lab.add_session(2, 3, target=TARGET)
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(IFACES, out=BUILT_IN)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(IFACE_NEW, out='browse-1 updated.\nNew interface browse-1 added\n')
    lab.commands.expect(discovery('10.10.1.1:3260', 'browse-1'), out=sendtargets())
    lab.commands.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', '10.10.1.1:3260,1', '-I', 'browse-1'))
    lab.commands.expect(node('10.10.1.1:3260', '--login', iface='browse-1', timeout=300))
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2]), 'browse-1'))
    result = run_module(session, dict(BROWSE, create_iface=True, wait=False))
    assert result['changed'] is True
    assert result['created_iface'] is True
    assert [(s['sid'], s['iface']) for s in result['sessions']] == [(2, 'browse-1')]
    lab.commands.done()


def test_create_iface_existing_or_check_mode_runs_no_new(run_module, lab):
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2]), 'browse-1'))
    lab.commands.expect(IFACES, out=WITH_BROWSE)
    result = run_module(session, dict(BROWSE, create_iface=True, wait=False))
    assert result['changed'] is False
    assert result['created_iface'] is False
    lab.commands.done()
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(IFACES, out=BUILT_IN)
    lab.commands.expect(NODES, out=NODE_TREE)
    result = run_module(session, dict(BROWSE, create_iface=True), check_mode=True)
    assert (result['changed'], result['created_iface'], result['logged_in']) == (True, True, ['10.10.1.1:3260'])
    lab.commands.done()


def test_create_iface_is_undone_when_the_login_fails(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(IFACES, out=BUILT_IN)
    lab.commands.expect(NODES, rc=21)
    lab.commands.expect(IFACE_NEW)
    lab.commands.expect(discovery('10.10.1.1:3260', 'browse-1'), out=sendtargets())
    lab.commands.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', '10.10.1.1:3260,1', '-I', 'browse-1'))
    lab.commands.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.1.1:3260', '-I', 'browse-1', '--login',
                                 timeout=300), rc=19, err='iscsiadm: Could not login to [iface: browse-1]\n')
    lab.commands.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.1.1:3260', '-I', 'browse-1', '-o', 'delete'))
    lab.commands.expect(IFACE_DELETE)
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, dict(BROWSE, create_iface=True))
    assert failed.value.result['rc'] == 19
    assert failed.value.result['created_iface'] is False
    lab.commands.done()


LOGOUT_BROWSE = dict(BROWSE, state='logged_out', remove_node=True, remove_iface=True)
BROWSE_TREE = 'Target: %s\n\tPortal: 10.10.1.1:3260,1\n\t\tIface Name: browse-1\n' % TARGET


def test_remove_iface_after_the_logout_when_unused(run_module, lab, monkeypatch):
    lab.add_session(2, 3, target=TARGET)
    monkeypatch.setattr(_blockdev, 'flush_device', lambda path: None)
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2]), 'browse-1'))
    lab.commands.expect(NODES, out=BROWSE_TREE)
    lab.commands.expect(iscsiadm('-m', 'session', '-r', '2', '--logout'))
    lab.commands.expect(iscsiadm('-m', 'node', '-T', TARGET, '-p', '10.10.1.1:3260', '-I', 'browse-1', '-o', 'delete'))
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [3]))
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(IFACE_DELETE, out='browse-1 unbound and deleted.\n')
    result = run_module(session, LOGOUT_BROWSE)
    assert (result['changed'], result['removed_iface']) == (True, True)
    assert result['removed_nodes'] == ['10.10.1.1:3260']
    lab.commands.done()


def test_remove_iface_skipped_while_still_used_and_when_missing(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=BROWSE_TREE.replace(TARGET, TARGET + '0'))
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=BROWSE_TREE.replace(TARGET, TARGET + '0'))  # another target's record uses it
    result = run_module(session, LOGOUT_BROWSE)
    assert (result['changed'], result['removed_iface']) == (False, False)
    lab.commands.done()
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, rc=21)
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, rc=21)
    lab.commands.expect(IFACE_DELETE, rc=7, err='iscsiadm: Could not read iface info for browse-1.\n'
                                                'iscsiadm: Could not delete iface browse-1: invalid parameter\n')
    result = run_module(session, LOGOUT_BROWSE)
    assert (result['changed'], result['removed_iface']) == (False, False)
    lab.commands.done()


def test_remove_iface_check_mode_predicts_from_what_the_run_would_remove(run_module, lab):
    lab.add_session(2, 3, target=TARGET)
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2]), 'browse-1'))
    lab.commands.expect(NODES, out=BROWSE_TREE)
    lab.commands.expect(IFACES, out=WITH_BROWSE)
    result = run_module(session, LOGOUT_BROWSE, check_mode=True)
    assert (result['changed'], result['removed_iface'], result['logged_out']) == (True, True, ['10.10.1.1:3260'])
    lab.commands.done()
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2, 3]), 'browse-1'))
    lab.commands.expect(NODES, out=BROWSE_TREE)
    result = run_module(session, LOGOUT_BROWSE, check_mode=True)  # session 3 (10.10.2.1) still uses browse-1
    assert result['removed_iface'] is False
    lab.commands.done()


def test_node_settings_written_to_an_existing_record_before_its_login(run_module, lab):
    lab.add_session(3, 4, target=TARGET, address='10.10.2.1')
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=NODE_TREE)
    lab.commands.expect(node('10.10.2.1:3260', '-o', 'show'), out=fixture('node_show.txt'))
    lab.commands.expect(node('10.10.2.1:3260', '-o', 'update', '-n', TIMEO, '-v', '5'))
    lab.commands.expect(login('10.10.2.1'))
    lab.commands.expect(SESSIONS, out=only_sessions(fixture(MULTIPATH), [3]))
    result = run_module(session, {'target': TARGET, 'portal': '10.10.2.1', 'wait': False, 'node_settings': {TIMEO: 5}})
    assert (result['changed'], result['logged_in']) == (True, ['10.10.2.1:3260'])
    assert result['updated_settings'] == [{'target': TARGET, 'portal': '10.10.2.1:3260', 'iface': 'default',
                                           'settings': {TIMEO: '5'}}]
    lab.commands.done()


# --- new records carry their portal group tag (issue 19: a record without one is replaced by another iface's) --

def test_one_discovery_gives_the_tag_of_every_new_record(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(IFACES, out=WITH_BROWSE)
    lab.commands.expect(NODES, rc=21)
    lab.commands.expect(discovery('10.10.1.1:3260', 'browse-1'), out=sendtargets())
    for address in ('10.10.1.1', '10.10.2.1'):
        lab.commands.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', '%s:3260,1' % address,
                                     '-I', 'browse-1'))
    lab.commands.expect_together([(node('%s:3260' % address, '--login', iface='browse-1', timeout=300), 0, '', '', None)
                                  for address in ('10.10.1.1', '10.10.2.1')])
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2, 3]), 'browse-1'))
    args = dict(BROWSE, portals=['10.10.1.1', '10.10.2.1'], create_iface=True, wait=False)
    del args['portal']
    result = run_module(session, args)
    assert result['logged_in'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    assert (result['lock_wait_seconds'], result['lock_waits'], result['retries']) == (0, [], [])
    lab.commands.done()


def test_a_portal_given_with_its_tag_needs_no_discovery(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, rc=21)
    lab.commands.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', TARGET, '-p', '10.10.1.1:3260,7', '-I', 'browse-1'))
    lab.commands.expect(node('10.10.1.1:3260', '--login', iface='browse-1', timeout=300))
    lab.commands.expect(SESSIONS, out=on_iface(only_sessions(fixture(MULTIPATH), [2]), 'browse-1'))
    run_module(session, dict(BROWSE, portal='10.10.1.1:3260,7', wait=False))
    lab.commands.done()


def test_a_target_the_portal_does_not_list_is_refused_before_any_record(run_module, lab):
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, rc=21)
    lab.commands.expect(discovery('10.10.1.1:3260', 'browse-1'), out=sendtargets(TARGET + '-other'))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, dict(BROWSE, wait=False))
    assert failed.value.result['error_code'] == 'tpgt_unknown'
    assert 'does not list target %s on that portal' % TARGET in failed.value.result['msg']
    assert failed.value.result['logged_in'] == []
    lab.commands.done()


def test_a_flat_record_of_another_iface_is_never_replaced(run_module, lab):
    flat = 'Target: %s\n\tPortal: 10.10.1.1:3260,-1\n\t\tIface Name: default\n' % TARGET
    lab.commands.expect(SESSIONS, rc=21)
    lab.commands.expect(NODES, out=flat)
    lab.commands.expect(discovery('10.10.1.1:3260', 'browse-1'), out=sendtargets())
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, dict(BROWSE, wait=False))
    assert failed.value.result['error_code'] == 'node_record_conflict'
    assert 'it would delete the node record of iface default' in failed.value.result['msg']
    lab.commands.done()  # no `-o new`, no login


TWO_IFACES_TARGET = 'iqn.2026-11.lab.san-iscsi:p1cap'


def two_ifaces_one_portal(lab, udev_done=True):
    """Sessions 12 (iface capa) and 13 (capb) to one target through one portal, as captured in the lab:
    both see LUN 0, so both disks ask udev for one by-path name and udev gives it to the first."""
    for sid, host, name in ((12, 7, 'sdh'), (13, 8, 'sdi')):
        lab.add_session(sid, host, target=TWO_IFACES_TARGET)
        lab.add_disk(sid, host, 0, name, target=TWO_IFACES_TARGET, udev=udev_done or name == 'sdh')


def test_a_disk_whose_by_path_link_went_to_the_other_iface_counts_once_udev_processed_it(run_module, lab):
    two_ifaces_one_portal(lab)
    lab.commands.expect(SESSIONS, out=only_sessions(fixture('session_P1_two_ifaces.txt'), [12, 13]))
    result = run_module(session, {'target': TWO_IFACES_TARGET, 'portal': '10.10.1.1', 'iface': 'capb',
                                  'luns': [0], 'multipath': 'no'})
    assert result['changed'] is False
    assert [(s['sid'], s['iface']) for s in result['sessions']] == [(13, 'capb')]
    assert [(d['name'], d['by_path']) for d in result['devices']] == [('sdi', [])]
    lab.commands.done()


def test_a_disk_udev_has_not_processed_is_waited_for_by_name(run_module, lab):
    two_ifaces_one_portal(lab, udev_done=False)
    lab.commands.expect(SESSIONS, out=only_sessions(fixture('session_P1_two_ifaces.txt'), [12, 13]))
    lab.commands.allow(SETTLE)
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TWO_IFACES_TARGET, 'portal': '10.10.1.1', 'iface': 'capb', 'luns': [0],
                             'multipath': 'no', 'timeout': 1})
    assert 'udev to process %s (LUN 0)' % os.path.join(lab.dev, 'sdi') in failed.value.result['msg']


WWID0 = 'naa.6001405c0ffee0000000000000000000'


def test_wwids_lets_go_of_one_lun_and_keeps_the_sessions_that_carry_another(run_module, lab, monkeypatch):
    two_paths(lab)
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    lab.commands.expect(NODES, out=NODE_TREE)
    flushed = []
    monkeypatch.setattr(_blockdev, 'flush_device', flushed.append)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out',
                                  'wwids': [WWID0.upper()], 'remove_node': True})
    assert result['changed'] is True
    assert (result['logged_out'], result['removed_nodes']) == ([], [])
    assert result['kept'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    assert flushed == [os.path.join(lab.dev, 'sdc'), os.path.join(lab.dev, 'sde')]
    for hctl, deleted in (('3:0:0:0', True), ('4:0:0:0', True), ('3:0:0:1', False), ('4:0:0:1', False)):
        assert os.path.exists(os.path.join(lab.sys, 'bus/scsi/devices', hctl, 'delete')) is deleted
    lab.commands.done()  # no logout, no record deleted


def test_wwids_logs_out_where_no_other_lun_remains(run_module, lab, monkeypatch):
    two_paths(lab, luns=(0,))
    expect_logout_of_both_paths(lab)
    monkeypatch.setattr(_blockdev, 'flush_device', lambda path: None)
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out',
                                  'wwids': [WWID0], 'remove_node': True})
    assert (result['changed'], result['kept']) == (True, [])
    assert result['logged_out'] == result['removed_nodes'] == ['10.10.1.1:3260', '10.10.2.1:3260']
    lab.commands.done()


def test_wwids_check_mode_reports_and_changes_nothing(run_module, lab):
    two_paths(lab)
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    result = run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out',
                                  'wwids': [WWID0]}, check_mode=True)
    assert (result['changed'], result['logged_out']) == (True, [])
    assert [device['name'] for device in result['devices']] == ['sdc', 'sde']
    assert not os.path.exists(os.path.join(lab.sys, 'bus/scsi/devices/3:0:0:0/delete'))
    lab.commands.done()


@pytest.mark.parametrize('holder, reason', [('mount', 'mounted at /srv/x'), ('crypt', 'holds dm-1')])
def test_wwids_refuses_a_lun_in_use_before_anything_changes(run_module, lab, holder, reason):
    two_paths(lab)
    if holder == 'mount':
        lab.mount(lab.majors['sdc'], '/dev/sdc', '/srv/x')
    else:
        lab.add_dm('dm-1', 'secret', 'CRYPT-LUKS2-abc', ['sde'])
    lab.commands.expect(SESSIONS, out=fixture(MULTIPATH))
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, {'target': TARGET, 'portals': ['10.10.1.1', '10.10.2.1'], 'state': 'logged_out',
                             'wwids': [WWID0]})
    assert failed.value.result['error_code'] == 'devices_busy' and reason in failed.value.result['msg']
    assert not os.path.exists(os.path.join(lab.sys, 'bus/scsi/devices/3:0:0:0/delete'))
    lab.commands.done()


@pytest.mark.parametrize('params', [{'state': 'logged_in'}, {'state': 'logged_out', 'force': True}])
def test_wwids_only_with_a_plain_logout(run_module, lab, params):
    with pytest.raises(ModuleFailed) as failed:
        run_module(session, dict(params, target=TARGET, wwids=[WWID0]))
    assert failed.value.result['error_code'] == 'invalid'
    assert lab.commands.calls == []
