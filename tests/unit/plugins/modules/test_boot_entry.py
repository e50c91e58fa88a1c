# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.san.iscsi.plugins.modules import boot_entry
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed

TARGET = 'iqn.2026-11.lab.san-iscsi:root-host1'


class Server(object):
    """A boot server's TFTP root and dnsmasq hosts directory in a temporary directory."""

    def __init__(self, tmp_path):
        self.root = tmp_path / 'server'
        self.tftp = self.root / 'tftp'
        self.hosts = self.root / 'dhcp-hosts'

    def args(self, **extra):
        args = {'name': 'host1', 'mac': '52:54:00:0A:01:15', 'address': '10.10.1.21/24',
                'initiator_prefix': 'iqn.2026-11.lab.san-iscsi', 'target': TARGET, 'portals': ['10.10.1.1'],
                'tftp_root': str(self.tftp), 'hosts_dir': str(self.hosts)}
        args.update(extra)
        return args

    def tree(self):
        return file_tree(self.root)


def file_tree(top):
    """{path relative to TOP: content} of every file under TOP: to show what a run wrote, or that it wrote nothing."""
    found = {}
    for root, _dirs, names in os.walk(str(top)):
        for name in names:
            path = os.path.join(root, name)
            with open(path) as handle:
                found[os.path.relpath(path, str(top))] = handle.read()
    return found


@pytest.fixture
def server(tmp_path):
    return Server(tmp_path)


PXELINUX = {'kernel': 'golden/vmlinuz', 'initrd': 'golden/initrd.img', 'root': 'UUID=0d7c', 'extra_args': []}


def test_present_writes_the_script_the_chain_and_the_dhcp_host(run_module, server):
    result = run_module(boot_entry, server.args(), diff=True)
    tree = server.tree()
    assert sorted(tree) == ['dhcp-hosts/host1', 'tftp/san-iscsi.ipxe', 'tftp/san-iscsi/52-54-00-0a-01-15.ipxe']
    script = tree['tftp/san-iscsi/52-54-00-0a-01-15.ipxe']
    assert 'set initiator-iqn iqn.2026-11.lab.san-iscsi:host1\n' in script
    assert script.endswith('sanboot iscsi:10.10.1.1::::%s\n' % TARGET)
    assert tree['dhcp-hosts/host1'].endswith('\n52:54:00:0a:01:15,10.10.1.21,host1\n')
    assert result['changed'] is True
    assert result['initiator'] == 'iqn.2026-11.lab.san-iscsi:host1'
    assert result['san_uris'] == ['iscsi:10.10.1.1::::' + TARGET]
    assert result['firmware_kernel_args']['initramfs-tools'] == ['iscsi_auto']
    assert [(f['kind'], f['action']) for f in result['files']] == [
        ('ipxe', 'created'), ('chain', 'created'), ('dhcp_host', 'created'), ('pxelinux', 'absent'),
        ('pxelinux', 'absent')]
    assert [d['after'] for d in result['diff']] == [script, tree['tftp/san-iscsi.ipxe'], tree['dhcp-hosts/host1']]


def test_a_second_run_changes_nothing(run_module, server):
    run_module(boot_entry, server.args())
    before = server.tree()
    result = run_module(boot_entry, server.args(mac='52-54-00-0a-01-15'))
    assert result['changed'] is False
    assert set(f['action'] for f in result['files']) == {'unchanged', 'absent'}
    assert server.tree() == before


def test_check_mode_reports_and_writes_nothing(run_module, server):
    result = run_module(boot_entry, server.args(), check_mode=True)
    assert result['changed'] is True
    assert server.tree() == {}


def test_a_changed_portal_rewrites_only_the_script(run_module, server):
    run_module(boot_entry, server.args())
    result = run_module(boot_entry, server.args(portals=['10.10.1.1', '10.10.1.2:3261']))
    assert [(f['kind'], f['action']) for f in result['files'] if f['action'] != 'absent'] == [
        ('ipxe', 'changed'), ('chain', 'unchanged'), ('dhcp_host', 'unchanged')]
    assert server.tree()['tftp/san-iscsi/52-54-00-0a-01-15.ipxe'].endswith(
        'iscsi:10.10.1.2::3261::%s\n' % TARGET)


def test_pxelinux_entries_by_mac_and_hex_ip_and_gone_when_no_longer_asked_for(run_module, server):
    result = run_module(boot_entry, server.args(pxelinux=dict(PXELINUX, flavor='dracut')))
    tree = server.tree()
    assert tree['tftp/pxelinux.cfg/01-52-54-00-0a-01-15'] == tree['tftp/pxelinux.cfg/0A0A0115']
    assert 'netroot=iscsi:10.10.1.1::::%s' % TARGET in result['pxelinux_kernel_args']
    result = run_module(boot_entry, server.args())
    assert [f['action'] for f in result['files'] if f['kind'] == 'pxelinux'] == ['removed', 'removed']
    assert not any(path.startswith('tftp/pxelinux.cfg/0') for path in server.tree())


def test_absent_by_name_alone_removes_the_hosts_files_and_keeps_the_chain(run_module, server):
    run_module(boot_entry, server.args(pxelinux=dict(PXELINUX, flavor='initramfs-tools')))
    result = run_module(boot_entry, {'name': 'host1', 'state': 'absent', 'tftp_root': str(server.tftp),
                                     'hosts_dir': str(server.hosts)})
    assert result['changed'] is True
    assert sorted(server.tree()) == ['tftp/san-iscsi.ipxe']
    again = run_module(boot_entry, {'name': 'host1', 'state': 'absent', 'tftp_root': str(server.tftp),
                                    'hosts_dir': str(server.hosts)})
    assert again['changed'] is False


def test_a_file_not_written_for_this_host_is_refused_before_anything_is_written(run_module, server):
    script = server.tftp / 'san-iscsi' / '52-54-00-0a-01-15.ipxe'
    script.parent.mkdir(parents=True)
    script.write_text('#!ipxe\nsanboot iscsi:10.9.9.9::::iqn.2001-04.com.example:hand-made\n')
    with pytest.raises(ModuleFailed) as failed:
        run_module(boot_entry, server.args())
    assert failed.value.result['error_code'] == 'foreign_file'
    assert failed.value.result['path'] == str(script)
    assert sorted(server.tree()) == ['tftp/san-iscsi/52-54-00-0a-01-15.ipxe']


def test_another_hosts_script_at_this_mac_is_foreign(run_module, server):
    run_module(boot_entry, server.args())
    with pytest.raises(ModuleFailed) as failed:
        run_module(boot_entry, server.args(name='host9', address='10.10.1.29/24'))
    assert failed.value.result['error_code'] in ('conflict', 'foreign_file')


@pytest.mark.parametrize('change,clash', [({'mac': '52:54:00:0a:01:15'}, 'MAC'),
                                          ({'address': '10.10.1.21/24'}, 'address')])
def test_another_host_with_the_same_mac_or_address_is_a_conflict(run_module, server, change, clash):
    run_module(boot_entry, server.args())
    args = server.args(name='host2', mac='52:54:00:0a:01:16', address='10.10.1.22/24')
    args.update(change)
    before = server.tree()
    with pytest.raises(ModuleFailed) as failed:
        run_module(boot_entry, args)
    assert failed.value.result['error_code'] == 'conflict'
    assert clash in failed.value.result['msg']
    assert server.tree() == before


def test_absent_keeps_a_file_it_did_not_write_and_warns(run_module, server, monkeypatch):
    warnings = []
    monkeypatch.setattr(boot_entry.AnsibleModule, 'warn', lambda module, msg: warnings.append(msg))
    server.hosts.mkdir(parents=True)
    (server.hosts / 'host1').write_text('52:54:00:0a:01:15,10.10.1.21,host1\n')
    result = run_module(boot_entry, {'name': 'host1', 'state': 'absent', 'mac': '52:54:00:0a:01:15',
                                     'tftp_root': str(server.tftp), 'hosts_dir': str(server.hosts)})
    assert result['changed'] is False
    assert (server.hosts / 'host1').exists()
    assert warnings == ['%s is kept: it was not written for host host1' % (server.hosts / 'host1')]


@pytest.mark.parametrize('change', [{'initiator': 'iqn.2026-11.lab.san-iscsi:host1'}, {'initiator_prefix': None},
                                    {'portals': []}, {'portals': ['[fd5a:1::1]']}, {'mac': None},
                                    {'target': 'iqn.bad'}, {'address': '10.10.1.21'}, {'name': 'Host1'},
                                    {'lun': -1}])
def test_bad_input_fails_before_any_file_is_read(run_module, server, change):
    args = server.args()
    args.update(change)
    with pytest.raises(ModuleFailed) as failed:
        run_module(boot_entry, args)
    assert failed.value.result.get('error_code', 'invalid') == 'invalid'
    assert server.tree() == {}


CHAP_SECRET = 'irg2-chap-secret.01'


def test_chap_goes_into_the_script_before_sanboot_and_is_masked_in_the_diff(run_module, server):
    result = run_module(boot_entry, server.args(chap_user='host1', chap_secret=CHAP_SECRET), diff=True)
    script = server.tree()['tftp/san-iscsi/52-54-00-0a-01-15.ipxe'].splitlines()
    assert script.index('set username host1') < script.index('set password %s' % CHAP_SECRET) < len(script) - 1
    assert script[-1].startswith('sanboot ')
    diffs = [entry for entry in result['diff'] if entry['after_header'].endswith('.ipxe') and 'san-iscsi/' in
             entry['after_header']]
    assert 'set password ********' in diffs[0]['after'] and CHAP_SECRET not in str(result)


def test_a_new_chap_secret_rewrites_the_script_and_the_diff_hides_both(run_module, server):
    run_module(boot_entry, server.args(chap_user='host1', chap_secret=CHAP_SECRET))
    result = run_module(boot_entry, server.args(chap_user='host1', chap_secret='irg2-chap-secret.02'), diff=True)
    assert [entry['action'] for entry in result['files'] if entry['kind'] == 'ipxe'] == ['changed']
    assert 'irg2-chap-secret' not in str(result['diff'])
    again = run_module(boot_entry, server.args())
    assert 'set password' not in server.tree()['tftp/san-iscsi/52-54-00-0a-01-15.ipxe'] and again['changed']


@pytest.mark.parametrize('change, option', [
    ({'chap_user': 'host1', 'chap_secret': 'short'}, 'chap_secret'),
    ({'chap_user': 'host1', 'chap_secret': 'with-a-$-sign-in-it'}, 'chap_secret'),
    ({'chap_user': 'host1', 'chap_secret': 'two||commands-in-it'}, 'chap_secret'),
    ({'chap_user': 'a user', 'chap_secret': CHAP_SECRET}, 'chap_user'),
    ({'chap_user': 'host1', 'chap_secret': CHAP_SECRET, 'pxelinux': PXELINUX}, 'pxelinux'),
])
def test_bad_chap_fails_before_any_file_is_read_without_the_secret(run_module, server, change, option):
    with pytest.raises(ModuleFailed) as failed:
        run_module(boot_entry, server.args(**change))
    assert option in failed.value.result['msg']
    assert change['chap_secret'] not in failed.value.result['msg']
    assert server.tree() == {}
