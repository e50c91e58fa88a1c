# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.san.iscsi.plugins.modules import boot_entry, boot_server
from ansible_collections.san.iscsi.tests.unit.plugins.modules.test_boot_entry import file_tree
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import FakeCommands

SYSTEMCTL = ['/usr/bin/timeout', '-k', '5', '60', '/usr/bin/systemctl']
DNSMASQ = ['/usr/bin/timeout', '-k', '5', '60', '/usr/sbin/dnsmasq']
UNIT = 'san-iscsi-boot.service'


class Server(object):
    def __init__(self, tmp_path, monkeypatch):
        self.root = tmp_path / 'server'
        self.units = self.root / 'units'
        self.units.mkdir(parents=True)
        self.config = self.root / 'etc' / 'dnsmasq.conf'
        self.tftp = self.root / 'tftp'
        self.hosts = self.root / 'dhcp-hosts'
        self.commands = FakeCommands(monkeypatch, binaries={'timeout': '/usr/bin/timeout',
                                                            'systemctl': '/usr/bin/systemctl',
                                                            'dnsmasq': '/usr/sbin/dnsmasq'})

    def args(self, **extra):
        args = {'interface': 'eth1', 'network': '10.10.1.0/24', 'tftp_root': str(self.tftp),
                'hosts_dir': str(self.hosts), 'config_path': str(self.config)}
        args.update(extra)
        return args

    def expect_state(self, active, enabled):
        self.commands.expect(SYSTEMCTL + ['is-active', UNIT], rc=0 if active == 'active' else 3, out=active + '\n')
        self.commands.expect(SYSTEMCTL + ['is-enabled', UNIT], rc=0 if enabled == 'enabled' else 1,
                             out=enabled + '\n')

    def expect_check(self, rc=0, err=''):
        self.commands.expect(DNSMASQ + ['--test', '--conf-file=%s' % (self.config.parent / '.dnsmasq.conf.check')],
                             rc=rc, err=err)

    def expect(self, *args):
        self.commands.expect(SYSTEMCTL + list(args))

    def expect_first_start(self):
        """The commands of a first run: the unit's state, the check, then reload, enable, start."""
        self.expect_state('inactive', 'disabled')
        self.expect_check()
        self.expect('daemon-reload')
        self.expect('enable', UNIT)
        self.expect('start', UNIT)

    def tree(self):
        return file_tree(self.root)


@pytest.fixture
def server(tmp_path, monkeypatch):
    server = Server(tmp_path, monkeypatch)
    yield server
    server.commands.done()


def run(run_module, server, args, **kwargs):
    return run_module(boot_server, args, unit_dir=str(server.units), **kwargs)


def test_present_checks_the_config_writes_it_and_starts_the_unit(run_module, server):
    server.expect_first_start()
    result = run(run_module, server, server.args())
    tree = server.tree()
    assert sorted(tree) == ['etc/dnsmasq.conf', 'tftp/san-iscsi.ipxe', 'units/' + UNIT]
    assert 'interface=eth1\n' in tree['etc/dnsmasq.conf']
    assert 'dhcp-hostsdir=%s\n' % server.hosts in tree['etc/dnsmasq.conf']
    assert ('ExecStart=/usr/sbin/dnsmasq --keep-in-foreground --pid-file --conf-file=%s\n' % server.config
            in tree['units/' + UNIT])
    assert os.path.isdir(str(server.hosts))
    assert result['changed'] is True and result['service'] == 'started'
    assert [f['action'] for f in result['files']] == ['created', 'created', 'created']


def test_a_second_run_changes_nothing_and_restarts_nothing(run_module, server):
    server.expect_first_start()
    run(run_module, server, server.args())
    server.expect_state('active', 'enabled')
    result = run(run_module, server, server.args())
    assert result['changed'] is False and result['service'] == 'unchanged'


def test_a_changed_network_is_checked_then_restarts_dnsmasq(run_module, server):
    server.expect_first_start()
    run(run_module, server, server.args())
    server.expect_state('active', 'enabled')
    server.expect_check()
    server.expect('restart', UNIT)
    result = run(run_module, server, server.args(network='10.10.8.0/22', log_dhcp=True))
    assert result['service'] == 'restarted'
    assert [f['action'] for f in result['files']] == ['changed', 'unchanged', 'unchanged']
    assert 'dhcp-range=10.10.8.0,static,255.255.252.0\n' in server.config.read_text()
    assert 'log-dhcp\n' in server.config.read_text()


def test_a_config_dnsmasq_rejects_is_not_written(run_module, server):
    server.expect_state('inactive', 'disabled')
    server.expect_check(rc=1, err='dnsmasq: bad option at line 3 of /x\n')
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, server, server.args())
    assert failed.value.result['error_code'] == 'bad_config'
    assert failed.value.result['rc'] == 1
    assert server.tree() == {}


def test_check_mode_writes_and_starts_nothing(run_module, server):
    server.expect_state('inactive', 'disabled')
    result = run(run_module, server, server.args(), check_mode=True)
    assert result['changed'] is True and result['service'] == 'started'
    assert server.tree() == {}


def test_a_config_file_it_did_not_write_is_refused(run_module, server):
    server.config.parent.mkdir(parents=True)
    server.config.write_text('interface=eth0\n')
    server.expect_state('inactive', 'disabled')
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, server, server.args())
    assert failed.value.result['error_code'] == 'foreign_file'
    assert server.config.read_text() == 'interface=eth0\n'


def test_absent_is_refused_while_hosts_remain_then_removes_everything(run_module, server):
    server.expect_first_start()
    run(run_module, server, server.args())
    run_module(boot_entry, {'name': 'host1', 'mac': '52:54:00:0a:01:15', 'address': '10.10.1.21/24',
                            'initiator_prefix': 'iqn.2026-11.lab.san-iscsi', 'target': 'iqn.2026-11.lab.san-iscsi:r',
                            'portals': ['10.10.1.1'], 'tftp_root': str(server.tftp), 'hosts_dir': str(server.hosts)})
    absent = server.args(state='absent')
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, server, absent)
    assert failed.value.result['error_code'] == 'in_use'
    assert failed.value.result['hosts'] == ['host1']
    run_module(boot_entry, {'name': 'host1', 'state': 'absent', 'tftp_root': str(server.tftp),
                            'hosts_dir': str(server.hosts)})
    server.expect_state('active', 'enabled')
    server.expect('disable', '--now', UNIT)
    server.expect('daemon-reload')
    result = run(run_module, server, absent)
    assert result['service'] == 'stopped'
    assert server.tree() == {}
    assert not server.hosts.exists() and not (server.tftp / 'san-iscsi').exists()
    assert server.tftp.is_dir() and server.config.parent.is_dir()


@pytest.mark.parametrize('change', [{'interface': 'eth 1'}, {'network': '10.10.1.0/33'}, {'network': 'fd5a::/64'},
                                    {'tftp_root': 'srv/tftp'}, {'config_path': '/etc/x y.conf'}])
def test_bad_input_fails_before_any_command(run_module, server, change):
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, server, server.args(**change))
    assert failed.value.result['error_code'] == 'invalid'
    assert server.commands.calls == []
