# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import threading

import pytest

from ansible.module_utils import basic

from ansible_collections.san.iscsi.plugins.module_utils import _iscsiadm
from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLock, HostLockTimeout
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import Portal, parse_portal

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'iscsiadm')
ISCSIADM = '/usr/sbin/iscsiadm'
TIMEOUT = '/usr/bin/timeout'
BINARIES = {'iscsiadm': ISCSIADM, 'timeout': TIMEOUT, 'udevadm': '/usr/bin/udevadm'}
LAB_TARGET = 'iqn.2026-11.lab.san-iscsi:helperc-capture'


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


def iscsiadm(*args, **kwargs):
    """The exact argv the seam runs for `iscsiadm ARGS` (bounded by coreutils timeout)."""
    seconds = kwargs.get('timeout', _iscsiadm.DEFAULT_TIMEOUT)
    return [TIMEOUT, '-k', '10', str(seconds), ISCSIADM] + list(args)


class FakeCommands(object):
    """Stands in for run_command/get_bin_path: expects exact argv lists in order, answers each one.

    expect(argv, rc, out, err) queues one answer; expect_together([...]) queues commands that run at the same
    time, in any order among themselves; `calls` lists every argv run; done() checks that every expected
    command ran. Calls from several threads are taken one at a time.
    """

    def __init__(self, monkeypatch, binaries=None):
        self.expected = []
        self.allowed = {}
        self.calls = []
        self.environ = []
        self.binaries = dict(BINARIES if binaries is None else binaries)
        self.lock = threading.Lock()
        fake = self

        def run_command(module, args, **kwargs):
            return fake.run(args, **kwargs)

        def get_bin_path(module, name, required=False, opt_dirs=None):
            return fake.binaries.get(name)
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)

    def expect(self, argv, rc=0, out='', err='', effect=None):
        """EFFECT() runs when the command does, standing for what it does to the host."""
        self.expected.append((list(argv), (rc, out, err), effect))
        return self

    def expect_together(self, commands):
        """COMMANDS: [(argv, rc, out, err, effect)] run side by side; each is answered whatever their order."""
        self.expected.append([(list(argv), (rc, out, err), effect) for argv, rc, out, err, effect in commands])
        return self

    def allow(self, argv, rc=0, out='', err='', effect=None):
        """A command that may run any number of times, anywhere in the order (a bounded wait).

        effect() runs each time, standing for what happens meanwhile (udev finishing, a session recovering).
        """
        self.allowed[tuple(argv)] = (rc, out, err, effect)
        return self

    def run(self, args, environ_update=None, **kwargs):
        assert environ_update and environ_update.get('LC_ALL') == 'C'
        with self.lock:
            self.calls.append(list(args))
            self.environ.append(environ_update)
            if tuple(args) in self.allowed:
                rc, out, err, effect = self.allowed[tuple(args)]
                answer = (rc, out, err)
            else:
                argv, answer, effect = self.take(list(args))
                assert list(args) == argv
        if effect:
            effect()  # outside the lock: an effect may wait for a command another thread runs
        return answer

    def take(self, args):
        """The expected entry for ARGS: the next one, or a match within the next group of expect_together."""
        assert self.expected, 'unexpected command: %r' % (args,)
        if not isinstance(self.expected[0], list):
            return self.expected.pop(0)
        group = self.expected[0]
        matching = [entry for entry in group if entry[0] == args]
        assert matching, 'unexpected command: %r (expected one of %r)' % (args, [entry[0] for entry in group])
        group.remove(matching[0])
        if not group:
            self.expected.pop(0)
        return matching[0]

    def done(self):
        assert self.expected == [], 'commands expected but not run: %r' % self.expected

    def iscsiadm_calls(self):
        return [call for call in self.calls if ISCSIADM in call]


class Module(object):
    """The smallest module the seam needs (get_bin_path, run_command, fail_json)."""

    check_mode = False

    def __init__(self, fake):
        self.fake = fake

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return self.fake.binaries.get(name)

    def run_command(self, args, **kwargs):
        return self.fake.run(args, **kwargs)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


@pytest.fixture
def fake(monkeypatch):
    return FakeCommands(monkeypatch)


# --- parsers -----------------------------------------------------------------------------------

def test_parse_node_tree_from_real_output():
    records = _iscsiadm.parse_node_tree(fixture('node_P1.txt'))
    assert records == [
        _iscsiadm.NodeRecord('iqn.2026-11.lab.san-iscsi:t2', Portal('10.10.2.1', 3260, 1), 'default'),
        _iscsiadm.NodeRecord('iqn.2026-11.lab.test:a', Portal('10.10.1.1', 3260, 1), 'default'),
        _iscsiadm.NodeRecord('iqn.2026-11.lab.test:a', Portal('fd5a:1::1', 3260, None), 'default'),
    ]


def test_parse_flat_nodes_maps_unsigned_minus_one_tpgt_to_none():
    records = _iscsiadm.parse_flat_nodes(fixture('node_flat.txt'))
    assert [(r.target, r.portal) for r in records] == [
        ('iqn.2026-11.lab.san-iscsi:t2', Portal('10.10.2.1', 3260, 1)),
        ('iqn.2026-11.lab.test:a', Portal('10.10.1.1', 3260, 1)),
        ('iqn.2026-11.lab.test:a', Portal('fd5a:1::1', 3260, None)),
    ]


def test_parse_show_from_real_output():
    shown = _iscsiadm.parse_show(fixture('node_show.txt'))
    assert len(shown) == 1
    record = shown[0]
    assert record['node.name'] == 'iqn.2026-11.lab.test:a'
    assert record['node.tpgt'] == '1'
    assert record['node.session.auth.password'] == '********'
    assert record['node.session.auth.username'] == ''
    assert record['node.conn[0].address'] == '10.10.1.1'
    assert len(record) > 60
    ipv6 = _iscsiadm.parse_show(fixture('node_show_ipv6.txt'))[0]
    assert ipv6['node.conn[0].address'] == 'fd5a:1::1'
    assert ipv6['node.tpgt'] == '-1'


def test_parse_show_many_records():
    text = fixture('node_show.txt') + '\n' + fixture('node_show_ipv6.txt')
    assert [r['node.conn[0].address'] for r in _iscsiadm.parse_show(text)] == ['10.10.1.1', 'fd5a:1::1']


def test_parse_flat_sessions():
    out = ('tcp: [1] 10.10.1.1:3260,1 iqn.2026-11.lab.san-iscsi:a (non-flash)\n'
           'tcp: [12] [fd5a:1::1]:3260,1 iqn.2026-11.lab.san-iscsi:b (non-flash)\n')
    sessions = _iscsiadm.parse_flat_sessions(out)
    assert [(s.sid, s.target, s.portal) for s in sessions] == [
        (1, 'iqn.2026-11.lab.san-iscsi:a', Portal('10.10.1.1', 3260, 1)),
        (12, 'iqn.2026-11.lab.san-iscsi:b', Portal('fd5a:1::1', 3260, 1)),
    ]


def test_describe_rc_names_iscsiadm_codes():
    assert 'already exists' in _iscsiadm.describe_rc(15)
    assert 'no records' in _iscsiadm.describe_rc(21)
    assert 'authorization failure' in _iscsiadm.describe_rc(24)
    assert 'iscsid' in _iscsiadm.describe_rc(20)
    assert 'in time' in _iscsiadm.describe_rc(124)
    assert _iscsiadm.describe_rc(99) == 'unknown error'


# --- runner ------------------------------------------------------------------------------------

def test_missing_iscsiadm_names_the_package(fake):
    fake.binaries.pop('iscsiadm')
    with pytest.raises(_iscsiadm.IscsiadmError) as caught:
        _iscsiadm.Iscsiadm(Module(fake))
    assert 'open-iscsi' in str(caught.value)
    assert 'iscsi-initiator-utils' in str(caught.value)


def test_run_maps_exit_code_and_keeps_cmd_rc_stderr(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1'), 'default')
    fake.expect(iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '--login',
                         timeout=300),
                rc=24, out='Logging in to [iface: default, target: %s, portal: 10.10.1.1,3260]\n' % LAB_TARGET,
                err='iscsiadm: Could not login to [iface: default].\n'
                    'iscsiadm: initiator reported error (24 - iSCSI login failed due to authorization failure)\n')
    with pytest.raises(_iscsiadm.IscsiadmError) as caught:
        runner.login(record)
    error = caught.value.as_fail_kwargs()
    assert error['rc'] == 24
    assert error['cmd'] == fake.calls[0]
    assert error['msg'].startswith('login to %s at 10.10.1.1:3260: iscsiadm exited with 24 (authorization failure' % LAB_TARGET)
    assert error['msg'].endswith('(24 - iSCSI login failed due to authorization failure)')
    assert 'authorization failure' in error['stderr']
    fake.done()


def test_timeout_is_reported_as_such(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake), timeout=5)
    fake.expect(iscsiadm('-m', 'session', '-P', '1', timeout=5), rc=124)
    with pytest.raises(_iscsiadm.IscsiadmError) as caught:
        runner.sessions()
    assert str(caught.value) == 'iscsiadm -m session -P 1: iscsiadm did not finish within 5s and was stopped'


def test_without_coreutils_timeout_runs_iscsiadm_directly(fake):
    fake.binaries.pop('timeout')
    runner = _iscsiadm.Iscsiadm(Module(fake))
    fake.expect([ISCSIADM, '-m', 'session', '-P', '1'], rc=21, err='iscsiadm: No active sessions.\n')
    assert runner.sessions() == []
    fake.done()


def test_node_commands_are_exact(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    portal = parse_portal('[fd5a:1::1]:3260,1')
    fake.expect(iscsiadm('-m', 'node', '-P', '1'), rc=21)  # what `-o new` could replace: nothing
    fake.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', LAB_TARGET, '-p', '[fd5a:1::1]:3260,1', '-I', 'default'))
    record = runner.node_new(LAB_TARGET, portal)
    fake.expect(iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '[fd5a:1::1]:3260', '-I', 'default', '-o', 'update',
                         '-n', 'node.startup', '-v', 'automatic'))
    runner.node_update(record, 'node.startup', 'automatic')
    fake.expect(iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '[fd5a:1::1]:3260', '-I', 'default', '-o', 'delete'))
    runner.node_delete(record)
    fake.expect(iscsiadm('-m', 'session', '-r', '7', '--logout'))
    runner.logout_session(7, LAB_TARGET, '[fd5a:1::1]:3260')
    fake.expect(iscsiadm('-m', 'session', '-r', '7', '--rescan'))
    runner.rescan_session(7)
    fake.done()
    with pytest.raises(ValueError):
        runner.node_update(record, 'node.session.auth.password', 'secret')
    assert len(fake.calls) == 6


def test_find_record_matches_exactly_and_case_insensitively(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    fake.expect(iscsiadm('-m', 'node', '-P', '1'), out=fixture('node_P1.txt'))
    records = runner.node_records()
    found = runner.find_record('IQN.2026-11.LAB.TEST:A', parse_portal('[fd5a:0001::1]'), records=records)
    assert found.target == 'iqn.2026-11.lab.test:a'
    assert found.portal.host == 'fd5a:1::1'
    assert runner.find_record('iqn.2026-11.lab.test:a', parse_portal('10.10.1.1:3261'), records=records) is None
    assert runner.find_record('iqn.2026-11.lab.test:a', parse_portal('10.10.1.1'), 'iser', records=records) is None
    assert runner.find_record('iqn.2026-11.lab.test', parse_portal('10.10.1.1'), records=records) is None
    fake.done()


def test_discover_is_nonpersistent(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    fake.expect(iscsiadm('-m', 'discovery', '-t', 'sendtargets', '-p', '10.10.1.1:3260', '-o', 'nonpersistent',
                         timeout=300),
                out='10.10.1.1:3260,1 %s\n[fd5a:1::1]:3260,1 %s\n' % (LAB_TARGET, LAB_TARGET))
    found = runner.discover('sendtargets', parse_portal('10.10.1.1'))
    assert [r.portal for r in found] == [Portal('10.10.1.1', 3260, 1), Portal('fd5a:1::1', 3260, 1)]
    fake.done()


# --- record files -------------------------------------------------------------------------------

def make_db(tmp_path):
    db = tmp_path / 'nodes'
    new_style = db / 'iqn.2026-11.lab.test:a' / '10.10.1.1,3260,1'
    new_style.mkdir(parents=True)
    (new_style / 'default').write_text(fixture('node_record_file.txt'))
    old_style = db / 'iqn.2026-11.lab.test:a' / 'fd5a:1::1,3260'
    old_style.write_text('# BEGIN RECORD 2.1.8\nnode.tpgt = -1\n# END RECORD')
    return str(db)


def test_node_record_file_both_layouts(tmp_path):
    db = make_db(tmp_path)
    first = _iscsiadm.NodeRecord('iqn.2026-11.lab.test:a', parse_portal('10.10.1.1:3260'), 'default')
    second = _iscsiadm.NodeRecord('iqn.2026-11.lab.test:a', parse_portal('[fd5a:1:0:0::1]'), 'default')
    expected = os.path.join(db, 'iqn.2026-11.lab.test:a', '10.10.1.1,3260,1', 'default')
    assert _iscsiadm.node_record_file(first, [db]) == expected
    assert _iscsiadm.node_record_file(second, [db]).endswith('fd5a:1::1,3260')
    assert _iscsiadm.node_record_file(second._replace(portal=parse_portal('fd5a::1')), [db]) is None
    assert _iscsiadm.node_record_file(second._replace(portal=parse_portal('fd5a:1::1')), [db]).endswith(
        'fd5a:1::1,3260')
    assert _iscsiadm.node_record_file(first._replace(iface='iser'), [db]) is None


def test_node_record_file_of_another_iface_in_the_flat_layout(tmp_path):
    # `iscsiadm -m node -o new -I irg_chap` without a tpgt writes <target>/<address>,<port> naming the iface
    # (seen on the lab's Debian 12 host, 2026-12-06)
    db = make_db(tmp_path)
    flat = os.path.join(db, 'iqn.2026-11.lab.test:b', '10.10.1.1,3260')
    os.makedirs(os.path.dirname(flat))
    with open(flat, 'w') as handle:
        handle.write('# BEGIN RECORD 2.1.8\nnode.tpgt = -1\niface.iscsi_ifacename = irg_chap\n# END RECORD\n')
    record = _iscsiadm.NodeRecord('iqn.2026-11.lab.test:b', parse_portal('10.10.1.1'), 'irg_chap')
    assert _iscsiadm.node_record_file(record, [db]) == flat
    assert _iscsiadm.node_record_file(record._replace(iface='default'), [db]) is None


def test_write_record_secret_replaces_or_inserts_and_keeps_0600(tmp_path):
    db = make_db(tmp_path)
    path = os.path.join(db, 'iqn.2026-11.lab.test:a', '10.10.1.1,3260,1', 'default')
    before = open(path).read().splitlines()
    _iscsiadm.write_record_secret(path, 'node.session.auth.password', 'first')
    _iscsiadm.write_record_secret(path, 'node.session.auth.password', 's3cr et')
    _iscsiadm.write_record_secret(path, 'node.session.auth.password_in', 'in-secret')
    after = open(path).read().splitlines()
    assert _iscsiadm.read_record_value(path, 'node.session.auth.password') == 's3cr et'
    assert _iscsiadm.read_record_value(path, 'node.session.auth.password_in') == 'in-secret'
    assert after[-1] == '# END RECORD'
    assert len(after) == len(before) + 2
    assert [line for line in after if not line.startswith('node.session.auth.password')] == \
        [line for line in before if not line.startswith('node.session.auth.password')]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(os.path.dirname(path))) == ['default']


def test_setting_comparison():
    assert _iscsiadm.setting_text(True) == 'Yes'
    assert _iscsiadm.setting_text(15) == '15'
    assert _iscsiadm.same_setting('015', '15')
    assert _iscsiadm.same_setting('None', 'none')
    assert not _iscsiadm.same_setting('manual', 'automatic')
    assert not _iscsiadm.same_setting(None, '')


# --- parsers fed with the lab's real output (host1, open-iscsi 2.1.8) ------------------------------

def test_parse_sessions_p1_lab_multipath_and_ipv6():
    sessions = _iscsiadm.parse_sessions(fixture('session_P1_multipath.txt'))
    assert [(s.sid, s.target, s.persistent_portal, s.iface) for s in sessions] == [
        (1, 'iqn.2026-11.lab.san-iscsi:lmx', Portal('10.10.1.1', 3260, 1), 'default'),
        (2, LAB_TARGET, Portal('10.10.1.1', 3260, 1), 'default'),
        (3, LAB_TARGET, Portal('10.10.2.1', 3260, 1), 'default'),
        (4, LAB_TARGET, Portal('fd5a:1::1', 3260, 1), 'default'),
    ]
    ipv6 = sessions[3]
    assert ipv6.portal == Portal('fd5a:0001:0000:0000:0000:0000:0000:0001', 3260, 1)
    assert ipv6.matches(LAB_TARGET.upper(), parse_portal('[fd5a:1::1]'))
    assert not ipv6.matches(LAB_TARGET, parse_portal('[fd5a:1::1]'), 'iser')
    assert not sessions[1].matches(LAB_TARGET[:-1], parse_portal('10.10.1.1'))
    assert ipv6.to_dict()['initiator_address'] == '[fd5a:0001:0000:0000:0000:0000:0000:0011]'
    assert ipv6.session_state == 'LOGGED_IN'
    assert ipv6.connection_state == 'LOGGED IN'


def test_parse_sessions_p3_lab_lists_attached_disks():
    sessions = _iscsiadm.parse_sessions(fixture('session_P3.txt'))
    assert [s.sid for s in sessions] == [1, 2, 3, 4]
    assert sessions[0].disks == [
        {'host': 2, 'channel': 0, 'id': 0, 'lun': 0, 'name': 'sda', 'state': 'running'},
        {'host': 2, 'channel': 0, 'id': 0, 'lun': 100, 'name': 'sdb', 'state': 'running'},
    ]
    assert [(d['lun'], d['name']) for d in sessions[3].disks] == [(0, 'sdg'), (1, 'sdh')]
    assert sessions[1].values['Recovery Timeout'] == '120'
    assert sessions[1].values['Iface Initiatorname'] == 'iqn.2026-11.lab.san-iscsi:host1'


def test_parse_node_tree_lab_records_without_tpgt():
    records = _iscsiadm.parse_node_tree(fixture('lab_node_P1.txt'))
    assert [(r.target, r.portal) for r in records] == [
        ('iqn.2003-01.org.linux-iscsi.san:lab-smoke', Portal('10.10.1.1', 3260, None)),
        ('iqn.2003-01.org.linux-iscsi.san:lab-smoke', Portal('10.10.2.1', 3260, None)),
        (LAB_TARGET, Portal('10.10.1.1', 3260, 1)),
        (LAB_TARGET, Portal('10.10.2.1', 3260, 1)),
        (LAB_TARGET, Portal('fd5a:1::1', 3260, 1)),
        ('iqn.2026-11.lab.san-iscsi:lmx', Portal('10.10.1.1', 3260, None)),
    ]


def test_parse_show_lab_all_records():
    shown = _iscsiadm.parse_show(fixture('lab_node_show_all.txt'))
    assert len(shown) == 6
    assert sorted(set(r['node.name'] for r in shown)) == [
        'iqn.2003-01.org.linux-iscsi.san:lab-smoke', LAB_TARGET, 'iqn.2026-11.lab.san-iscsi:lmx']
    ipv6 = _iscsiadm.parse_show(fixture('lab_node_show_ipv6.txt'))
    assert len(ipv6) == 1
    assert ipv6[0]['node.conn[0].address'] == 'fd5a:1::1'
    assert ipv6[0]['node.tpgt'] == '1'


def test_parse_discovery_lab_many_targets():
    records = _iscsiadm.parse_flat_nodes(fixture('discovery_sendtargets.txt'))
    assert len(records) == 6
    assert records[3] == _iscsiadm.NodeRecord(LAB_TARGET, Portal('fd5a:1::1', 3260, 1), None)


RACE = ('iscsiadm: iface iter could not stat /etc/iscsi/nodes/iqn.2026-11.lab.san-iscsi:other/10.10.1.1,3260.\n'
        'iscsiadm: Could not execute operation on all records: encountered iSCSI database failure\n')


def test_a_record_deleted_by_another_iscsiadm_meanwhile_is_retried(fake, monkeypatch):
    sleeps = []
    monkeypatch.setattr(_iscsiadm.time, 'sleep', sleeps.append)
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'default')
    delete = iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '-o', 'delete')
    fake.expect(delete, rc=6, err=RACE)
    fake.expect(delete, rc=21, err='iscsiadm: No records found\n')  # the first try had deleted ours
    runner.node_delete(record)
    fake.done()
    assert sleeps == [_iscsiadm.NODE_DB_RETRY_DELAY]


def test_the_node_database_race_is_retried_a_bounded_number_of_times(fake, monkeypatch):
    monkeypatch.setattr(_iscsiadm.time, 'sleep', lambda seconds: None)
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'default')
    login = iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '--login', timeout=300)
    for _attempt in range(_iscsiadm.NODE_DB_ATTEMPTS):
        fake.expect(login, rc=6, err=RACE)
    with pytest.raises(_iscsiadm.IscsiadmError) as failed:
        runner.login(record)
    fake.done()
    assert len(fake.calls) == _iscsiadm.NODE_DB_ATTEMPTS
    assert failed.value.as_fail_kwargs()['rc'] == 6
    assert 'encountered iSCSI database failure' in failed.value.as_fail_kwargs()['msg']


SB1_TREE = 'Target: %s\n\tPortal: 10.10.1.1:3260,1\n\t\tIface Name: sb1\n' % LAB_TARGET
OTHER_TREE = 'Target: %s\n\tPortal: 10.10.1.1:3260,1\n\t\tIface Name: sb2\n' % LAB_TARGET
SB1_LOGIN = iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '10.10.1.1:3260', '-I', 'sb1', '--login', timeout=300)
NO_RECORDS = 'iscsiadm: No records found\n'


def test_a_login_that_finds_no_record_is_retried_while_iscsiadm_lists_it(fake, monkeypatch):
    sleeps = []
    monkeypatch.setattr(_iscsiadm.time, 'sleep', sleeps.append)
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'sb1')
    fake.expect(SB1_LOGIN, rc=21, err=NO_RECORDS)  # another iscsiadm rewrote the database meanwhile
    fake.expect(iscsiadm('-m', 'node', '-P', '1'), out=SB1_TREE)
    fake.expect(SB1_LOGIN)
    runner.login(record)
    fake.done()
    assert sleeps == [_iscsiadm.NODE_DB_RETRY_DELAY]
    assert [(r['command'], r['rc'], r['attempt']) for r in runner.retries] == [
        ('iscsiadm ' + ' '.join(SB1_LOGIN[5:]), 21, 1)]
    assert runner.contention()['retries'] == runner.retries


def test_a_login_whose_record_another_process_replaced_fails_with_its_own_code(fake, monkeypatch):
    monkeypatch.setattr(_iscsiadm.time, 'sleep', lambda seconds: pytest.fail('no retry without the record'))
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'sb1')
    fake.expect(SB1_LOGIN, rc=21, err=NO_RECORDS)
    fake.expect(iscsiadm('-m', 'node', '-P', '1'), out=OTHER_TREE)  # what the retry would need is gone
    fake.expect(iscsiadm('-m', 'node', '-P', '1'), out=OTHER_TREE)
    with pytest.raises(_iscsiadm.IscsiadmError) as failed:
        runner.login(record)
    fake.done()
    error = failed.value.as_fail_kwargs()
    assert (error['rc'], error['error_code']) == (21, 'node_record_vanished')
    assert 'the node record is gone' in error['msg']
    assert runner.retries == []


def test_a_login_that_never_finds_its_record_stops_after_the_bound(fake, monkeypatch):
    monkeypatch.setattr(_iscsiadm.time, 'sleep', lambda seconds: None)
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'sb1')
    for _attempt in range(_iscsiadm.NODE_DB_ATTEMPTS):
        fake.expect(SB1_LOGIN, rc=21, err=NO_RECORDS)
        fake.expect(iscsiadm('-m', 'node', '-P', '1'), out=SB1_TREE)
    with pytest.raises(_iscsiadm.IscsiadmError) as failed:
        runner.login(record)
    fake.done()
    assert failed.value.error_code == 'iscsiadm_failed'
    assert len(runner.retries) == _iscsiadm.NODE_DB_ATTEMPTS - 1
    assert len([call for call in fake.calls if "--login" in call]) == _iscsiadm.NODE_DB_ATTEMPTS


def test_other_node_database_errors_are_not_retried(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'default')
    delete = iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '10.10.1.1:3260', '-I', 'default', '-o', 'delete')
    fake.expect(delete, rc=6, err='iscsiadm: Could not remove link /etc/iscsi/nodes/x: Permission denied\n')
    with pytest.raises(_iscsiadm.IscsiadmError):
        runner.node_delete(record)
    fake.done()
    assert len(fake.calls) == 1


# --- shared node settings and interfaces ---------------------------------------------------------

def test_node_settings_text_normalises_and_refuses_secrets_and_identity():
    assert _iscsiadm.node_settings_text({'node.session.scan': False, 'node.session.timeo.replacement_timeout': 15,
                                         'node.startup': 'manual'}) == {
        'node.session.scan': 'No', 'node.session.timeo.replacement_timeout': '15', 'node.startup': 'manual'}
    with pytest.raises(ValueError) as error:
        _iscsiadm.node_settings_text({'node.session.auth.password_in': 'x'}, 'node_settings', 'san.iscsi.node')
    assert str(error.value) == 'node_settings: node.session.auth.password_in is a secret; use san.iscsi.node'
    with pytest.raises(ValueError) as error:
        _iscsiadm.node_settings_text({'iface.iscsi_ifacename': 'x'})
    assert str(error.value) == 'settings: iface.iscsi_ifacename identifies the record; use target/portal/iface'


def test_settings_to_update_only_where_the_record_differs():
    shown = _iscsiadm.parse_show(fixture('node_show.txt'))[0]
    wanted = {'node.session.timeo.replacement_timeout': '0120', 'node.startup': 'MANUAL', 'node.session.scan': 'manual'}
    assert _iscsiadm.settings_to_update(shown, wanted) == [('node.session.scan', 'manual')]
    assert _iscsiadm.unknown_settings(shown, {'node.bogus': '1', 'node.startup': 'x'}) == ['node.bogus']


def test_node_apply_settings_reads_then_writes_only_the_difference(fake):
    adm = _iscsiadm.Iscsiadm(Module(fake))
    record = _iscsiadm.NodeRecord('iqn.2026-11.lab.test:a', Portal('10.10.1.1', 3260, 1), 'default')
    node = ['-m', 'node', '-T', 'iqn.2026-11.lab.test:a', '-p', '10.10.1.1:3260', '-I', 'default']
    wanted = {'node.session.timeo.replacement_timeout': '15', 'node.startup': 'manual'}
    fake.expect(iscsiadm(*node + ['-o', 'show']), out=fixture('node_show.txt'))
    assert adm.node_apply_settings(record, wanted, check_mode=True) == {'node.session.timeo.replacement_timeout': '15'}
    fake.expect(iscsiadm(*node + ['-o', 'show']), out=fixture('node_show.txt'))
    fake.expect(iscsiadm(*node + ['-o', 'update', '-n', 'node.session.timeo.replacement_timeout', '-v', '15']))
    assert adm.node_apply_settings(record, wanted) == {'node.session.timeo.replacement_timeout': '15'}
    fake.expect(iscsiadm(*node + ['-o', 'show']), out=fixture('node_show.txt'))
    with pytest.raises(ValueError) as error:
        adm.node_apply_settings(record, {'node.bogus': '1'})
    assert str(error.value).startswith('unknown node setting(s): node.bogus')
    fake.expect(iscsiadm(*node + ['-o', 'show']), rc=21, err='iscsiadm: No records found\n')
    assert adm.node_apply_settings(record, wanted) is None
    fake.done()


def test_iface_commands_and_exit_codes(fake):
    """rc/messages as open-iscsi 2.1.8 on the lab prints them."""
    adm = _iscsiadm.Iscsiadm(Module(fake))
    listing = ('default tcp,<empty>,<empty>,<empty>,<empty>\n'
               'iser iser,<empty>,<empty>,<empty>,<empty>\n'
               'browse-1 tcp,<empty>,<empty>,<empty>,<empty>\n')
    fake.expect(iscsiadm('-m', 'iface'), out=listing)
    assert adm.iface_names() == ['default', 'iser', 'browse-1']
    fake.expect(iscsiadm('-m', 'iface', '-I', 'browse-1', '-o', 'new'),
                out='browse-1 updated.\nNew interface browse-1 added\n')
    adm.iface_new('browse-1')
    fake.expect(iscsiadm('-m', 'iface', '-I', 'browse-1', '-o', 'new'), rc=15, err='iscsiadm: iface exists\n')
    adm.iface_new('browse-1')
    fake.expect(iscsiadm('-m', 'iface', '-I', 'browse-1', '-o', 'delete'), out='browse-1 unbound and deleted.\n')
    assert adm.iface_delete('browse-1') is True
    fake.expect(iscsiadm('-m', 'iface', '-I', 'browse-1', '-o', 'delete'), rc=7,
                err='iscsiadm: Could not read iface info for browse-1.\n'
                    'iscsiadm: Could not delete iface browse-1: invalid parameter\n')
    assert adm.iface_delete('browse-1') is False
    fake.expect(iscsiadm('-m', 'iface', '-I', 'bad name', '-o', 'delete'), rc=7, err='iscsiadm: invalid iface\n')
    with pytest.raises(_iscsiadm.IscsiadmError) as error:
        adm.iface_delete('bad name')
    assert error.value.rc == 7
    assert str(error.value) == 'delete iface bad name: iscsiadm exited with 7 (invalid argument): iscsiadm: invalid iface'
    fake.done()


# --- records in iscsiadm's old flat layout; the host lock ----------------------------------------------

# `iscsiadm -m node -P 1` after `-o new -T T -p 10.10.1.1:3260 -I sb1` (no tpgt), iscsiadm 2.1.8: the record is
# the file nodes/T/10.10.1.1,3260, and a second `-o new ... -I sb2` replaced it (seen on this project's machines)
FLAT_SB1_TREE = 'Target: %s\n\tPortal: 10.10.1.1:3260,-1\n\t\tIface Name: sb1\n' % LAB_TARGET


def test_a_record_that_would_replace_a_flat_record_of_another_iface_is_refused(fake):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    records = _iscsiadm.parse_node_tree(FLAT_SB1_TREE)
    assert records[0].portal.tpgt is None
    with pytest.raises(_iscsiadm.IscsiadmError) as refused:
        runner.node_new(LAB_TARGET, parse_portal('10.10.1.1:3260,1'), 'sb2', records=records)
    assert refused.value.error_code == 'node_record_conflict'
    assert 'it would delete the node record of iface sb1' in refused.value.msg
    assert fake.calls == []  # nothing written


@pytest.mark.parametrize('tree, portal, iface', [
    (FLAT_SB1_TREE, '10.10.2.1:3260,1', 'sb2'),  # another portal
    (FLAT_SB1_TREE.replace('3260,-1', '3260,1'), '10.10.1.1:3260,1', 'sb2'),  # the other record has its tag
    (FLAT_SB1_TREE.replace('helperc-capture', 'other'), '10.10.1.1:3260,1', 'sb2'),  # another target
])
def test_records_that_iscsiadm_keeps_apart_are_created(fake, tree, portal, iface):
    runner = _iscsiadm.Iscsiadm(Module(fake))
    fake.expect(iscsiadm('-m', 'node', '-P', '1'), out=tree)
    fake.expect(iscsiadm('-m', 'node', '-o', 'new', '-T', LAB_TARGET, '-p', portal, '-I', iface))
    runner.node_new(LAB_TARGET, parse_portal(portal), iface)
    fake.done()


def test_the_idbm_lock_directory_race_is_retried_and_reported(fake, monkeypatch, tmp_path):
    monkeypatch.setattr(_iscsiadm.time, 'sleep', lambda seconds: None)
    runner = _iscsiadm.Iscsiadm(Module(fake), idbm_lock_dirs=())
    delete = iscsiadm('-m', 'node', '-T', LAB_TARGET, '-p', '10.10.1.1:3260', '-I', 'sb1', '-o', 'delete')
    # iscsiadm 2.1.8 on a freshly booted host, two runs at once (issue 19, run 1)
    fake.expect(delete, rc=6, err='iscsiadm: Could not open /run/lock/iscsi: 17 File exists\n')
    fake.expect(delete)
    runner.node_delete(_iscsiadm.NodeRecord(LAB_TARGET, parse_portal('10.10.1.1:3260'), 'sb1'))
    fake.done()
    assert runner.contention()['retries'] == [{
        'command': 'iscsiadm ' + ' '.join(delete[5:]), 'rc': 6, 'attempt': 1,
        'reason': 'another iscsiadm created the lock directory'}]


def test_the_idbm_lock_directory_is_made_before_the_first_call(fake, tmp_path):
    lock_dir = tmp_path / 'run' / 'lock' / 'iscsi'
    lock_dir.parent.mkdir(parents=True)
    runner = _iscsiadm.Iscsiadm(Module(fake), idbm_lock_dirs=(str(lock_dir),))
    fake.expect(iscsiadm('-m', 'iface', '-I', 'sb1', '-o', 'new'))
    assert not lock_dir.exists()
    runner.iface_new('sb1')
    assert lock_dir.is_dir()
    fake.done()


def test_a_lock_wait_that_runs_out_is_an_iscsiadm_error_naming_the_holder(fake, tmp_path):
    class Held(object):
        waits = []

        def acquire(self, what):
            raise HostLockTimeout('waited 330s for the host lock /run/lock/san.iscsi.lock to %s; it is held by '
                                  'pid 77: login to t at p' % what, 'pid 77: login to t at p')

        def release(self):
            raise AssertionError('never acquired')
    runner = _iscsiadm.Iscsiadm(Module(fake), lock=Held())
    with pytest.raises(_iscsiadm.IscsiadmError) as failed:
        runner.iface_new('sb1')
    assert failed.value.error_code == 'host_lock_timeout'
    assert failed.value.msg.endswith('it is held by pid 77: login to t at p')
    assert fake.calls == []


@pytest.mark.parametrize('level', [1, 3])
def test_sessions_on_one_portal_through_two_ifaces_stay_apart(level):
    # captured in the lab: capa and capb each logged in to both portals, the two ifaces one after the other
    # per portal, so iscsiadm prints each portal once, for two sessions (the second after a blank line)
    sessions = _iscsiadm.parse_sessions(fixture('session_P%d_two_ifaces.txt' % level))
    assert [(s.sid, s.iface, s.persistent_portal.address, s.persistent_portal.tpgt) for s in sessions] == [
        (12, 'capa', '10.10.1.1:3260', 1), (13, 'capb', '10.10.1.1:3260', 1),
        (14, 'capa', '10.10.2.1:3260', 1), (15, 'capb', '10.10.2.1:3260', 1)]
    assert [s.target for s in sessions] == ['iqn.2026-11.lab.san-iscsi:p1cap'] * 4
    assert [s.values['Iface IPaddress'] for s in sessions] == ['10.10.1.11', '10.10.1.11', '10.10.2.11', '10.10.2.11']
    if level == 3:
        assert [[(disk['lun'], disk['name']) for disk in s.disks] for s in sessions] == [
            [(0, name)] for name in _disk_names(fixture('session_P3_two_ifaces.txt'))]


def _disk_names(text):
    return [line.split()[3] for line in text.splitlines() if line.strip().startswith('Attached scsi disk')]


def test_a_run_reports_only_the_lock_waits_it_had(fake, tmp_path):
    # Mitogen runs modules in one interpreter per host: the host lock object outlives a module run
    lock = _host_lock_for_test(tmp_path)
    lock.waits.append({'seconds': 4.2, 'holder': 'pid 9: login', 'for': 'an earlier task'})
    runner = _iscsiadm.Iscsiadm(Module(fake), lock=lock)
    assert runner.contention() == {'lock_wait_seconds': 0, 'lock_waits': [], 'retries': []}
    lock.waits.append({'seconds': 1.5, 'holder': 'pid 10: create iface', 'for': 'create iface sb1'})
    assert runner.contention()['lock_wait_seconds'] == 1.5
    assert [wait['for'] for wait in runner.contention()['lock_waits']] == ['create iface sb1']


def _host_lock_for_test(tmp_path):
    return HostLock(str(tmp_path / 'lock'))


def test_a_sendtargets_discovery_runs_under_the_host_lock(fake):
    # iscsiadm's SendTargets sessions share one ISID: two at once from one host make the target drop the first
    events = []

    class RecordingLock(object):
        waits = []

        def acquire(self, what):
            events.append('acquire: ' + what)

        def release(self):
            events.append('release')
    runner = _iscsiadm.Iscsiadm(Module(fake), lock=RecordingLock())
    argv = iscsiadm('-m', 'discovery', '-t', 'sendtargets', '-p', '10.10.1.1:3260', '-I', 'sb1', '-o', 'nonpersistent',
                    timeout=300)
    fake.expect(argv, out='10.10.1.1:3260,1 %s\n' % LAB_TARGET)
    run = fake.run
    fake.run = lambda args, **kwargs: events.append('iscsiadm') or run(args, **kwargs)
    found = runner.discover('sendtargets', parse_portal('10.10.1.1'), iface='sb1')
    assert [(r.target, r.portal.tpgt) for r in found] == [(LAB_TARGET, 1)]
    assert events == ['acquire: sendtargets discovery at 10.10.1.1:3260', 'iscsiadm', 'release']


def test_raise_first_raises_the_first_error_naming_the_others():
    first = _iscsiadm.IscsiadmError('login to t at a failed', rc=8)
    second = _iscsiadm.IscsiadmError('login to t at b failed', rc=24)
    _iscsiadm.raise_first([None, None])
    with pytest.raises(_iscsiadm.IscsiadmError) as raised:
        _iscsiadm.raise_first([None, first, second])
    assert raised.value is first
    assert raised.value.msg == 'login to t at a failed; also failed: login to t at b failed'
