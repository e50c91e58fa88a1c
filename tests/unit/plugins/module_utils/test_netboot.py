# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _netboot as netboot
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import parse_portal

TARGET = 'iqn.2026-11.lab.san-iscsi:root-host1'
INITIATOR = 'iqn.2026-11.lab.san-iscsi:host1'


def host(portals=('10.10.1.1',), lun=0, gateway=None, address='10.10.1.21/24', mac='52:54:00:0A:01:15'):
    return netboot.BootHost('host1', mac, address, INITIATOR, TARGET, [parse_portal(p) for p in portals],
                            lun=lun, gateway=gateway)


def test_the_initiator_rule_is_prefix_colon_host_in_lower_case():
    assert netboot.derive_initiator('iqn.2026-11.Lab.San-iSCSI', 'host1') == 'iqn.2026-11.lab.san-iscsi:host1'


@pytest.mark.parametrize('prefix', ['iqn.2026-11.lab.san-iscsi:hosts', 'eui.0123456789abcdef', 'iqn.2026-13.lab.x',
                                    'iqn.2026-11.lab', ''])
def test_an_initiator_prefix_that_is_not_a_bare_iqn_is_refused(prefix):
    with pytest.raises(netboot.NetbootError) as error:
        netboot.derive_initiator(prefix, 'host1')
    assert error.value.error_code == 'invalid'


@pytest.mark.parametrize('name', ['Host1', 'host_1', '-host', 'host.example.com', 'a' * 64, ''])
def test_a_host_name_is_one_lower_case_dns_label(name):
    with pytest.raises(netboot.NetbootError):
        netboot.check_host_name(name)


def test_mac_forms():
    assert netboot.normalize_mac('52-54-00-0A-01-15') == '52:54:00:0a:01:15'
    assert netboot.mac_hexhyp('52:54:00:0A:01:15') == '52-54-00-0a-01-15'


@pytest.mark.parametrize('mac', ['52:54:00:0a:01', '52:54:00-0a:01:15', '01:00:5e:00:00:01', 'zz:54:00:0a:01:15'])
def test_a_bad_or_group_mac_is_refused(mac):
    with pytest.raises(netboot.NetbootError):
        netboot.normalize_mac(mac)


def test_pxelinux_looks_for_the_mac_and_the_ip_in_upper_case_hex():
    # the examples of pxelinux.doc: 192.168.2.91 -> C0A8025B
    interface = netboot.parse_address('192.168.2.91/24')
    assert netboot.pxelinux_names('88:99:AA:BB:CC:DD', interface) == ['01-88-99-aa-bb-cc-dd', 'C0A8025B']


@pytest.mark.parametrize('address', ['10.10.1.21', '10.10.1.0/24', '10.10.1.255/24', '10.10.1.300/24', 'fd5a:1::5/64'])
def test_an_address_needs_a_prefix_and_a_host_part(address):
    with pytest.raises(netboot.NetbootError):
        netboot.parse_address(address)


def test_a_gateway_outside_the_network_is_refused():
    with pytest.raises(netboot.NetbootError):
        host(gateway='10.10.2.254')


def test_san_uris_follow_rfc_4173_with_empty_defaults_and_a_hex_lun():
    assert netboot.san_uri(parse_portal('10.10.1.1'), TARGET) == 'iscsi:10.10.1.1::::' + TARGET
    assert netboot.san_uri(parse_portal('10.10.1.1:3261'), TARGET, 26) == 'iscsi:10.10.1.1::3261:1a:' + TARGET


def test_the_ipxe_script_sets_the_initiator_and_a_static_address_then_sanboots_every_portal():
    assert netboot.ipxe_script(host(portals=('10.10.1.1', '10.10.1.2'))) == (
        '#!ipxe\n'
        '# Managed by Ansible (san.iscsi.boot_entry) for host host1; rewritten on each run.\n'
        'set initiator-iqn iqn.2026-11.lab.san-iscsi:host1\n'
        'set netX/ip 10.10.1.21\n'
        'set netX/netmask 255.255.255.0\n'
        'echo san.iscsi: host1 boots from iqn.2026-11.lab.san-iscsi:root-host1 as iqn.2026-11.lab.san-iscsi:host1\n'
        'sanboot iscsi:10.10.1.1::::iqn.2026-11.lab.san-iscsi:root-host1 '
        'iscsi:10.10.1.2::::iqn.2026-11.lab.san-iscsi:root-host1\n')


def test_the_ipxe_script_sets_a_gateway_only_when_given():
    assert 'set netX/gateway 10.10.1.254\n' in netboot.ipxe_script(host(gateway='10.10.1.254'))
    assert 'gateway' not in netboot.ipxe_script(host())


def test_the_chain_script_runs_the_booting_nics_own_script():
    script = netboot.chain_script()
    assert script.startswith('#!ipxe\n')
    assert 'chain san-iscsi/${netX/mac:hexhyp}.ipxe || goto none\n' in script
    assert script.endswith('exit 1\n')


def test_initramfs_tools_kernel_arguments_name_the_first_portal():
    assert netboot.kernel_args(host(portals=('10.10.1.1:3261', '10.10.1.2')), 'initramfs-tools') == [
        'iscsi_initiator=' + INITIATOR, 'iscsi_target_name=' + TARGET, 'iscsi_target_ip=10.10.1.1',
        'iscsi_target_port=3261', 'ip=10.10.1.21:::255.255.255.0:host1::off']


def test_dracut_kernel_arguments_have_one_netroot_per_portal():
    assert netboot.kernel_args(host(portals=('10.10.1.1', '10.10.1.2'), lun=1, gateway='10.10.1.254'), 'dracut') == [
        'rd.iscsi.initiator=' + INITIATOR, 'netroot=iscsi:10.10.1.1:::1:' + TARGET,
        'netroot=iscsi:10.10.1.2:::1:' + TARGET, 'ip=10.10.1.21::10.10.1.254:255.255.255.0:host1::none',
        'rd.neednet=1']


def test_firmware_arguments_are_the_same_for_every_host():
    assert netboot.firmware_kernel_args('initramfs-tools') == ['iscsi_auto']
    assert netboot.firmware_kernel_args('dracut') == ['rd.iscsi.firmware=1', 'rd.iscsi.ibft=1']
    with pytest.raises(netboot.NetbootError):
        netboot.firmware_kernel_args('genkernel')


def test_a_pxelinux_entry_boots_kernel_and_initrd_with_root_and_bootif():
    text = netboot.pxelinux_entry(host(), 'golden/vmlinuz', 'golden/initrd.img', 'UUID=0d7c', 'initramfs-tools',
                                  ['console=ttyS0'])
    assert text.splitlines()[1:] == [
        'DEFAULT host1', 'LABEL host1', '  KERNEL golden/vmlinuz', '  INITRD golden/initrd.img',
        '  APPEND root=UUID=0d7c ro iscsi_initiator=%s iscsi_target_name=%s iscsi_target_ip=10.10.1.1 '
        'ip=10.10.1.21:::255.255.255.0:host1::off console=ttyS0' % (INITIATOR, TARGET), '  IPAPPEND 2']


@pytest.mark.parametrize('kernel,extra', [('../etc/shadow', []), ('/vmlinuz', []), ('golden/vmlinuz', ['a b']),
                                          ('golden/vmlinuz', ['x"y'])])
def test_pxelinux_paths_and_arguments_are_checked(kernel, extra):
    with pytest.raises(netboot.NetbootError):
        netboot.pxelinux_entry(host(), kernel, 'golden/initrd.img', 'UUID=0d7c', 'dracut', extra)


def test_a_dhcp_hosts_line_parses_back():
    line = netboot.dhcp_host_line(host())
    assert line.endswith('\n52:54:00:0a:01:15,10.10.1.21,host1\n')
    assert netboot.parse_dhcp_hosts(line) == [('52:54:00:0a:01:15', '10.10.1.21', 'host1')]
    assert netboot.parse_dhcp_hosts('# x\n\n52-54-00-0A-01-16,set:lab,10.10.1.22,id:*,host2,infinite\n') == [
        ('52:54:00:0a:01:16', '10.10.1.22', 'host2')]


def test_the_server_configuration_serves_known_hosts_only_without_dns_or_router():
    text = netboot.server_config('eth1', '10.10.1.0/24', '/srv/tftp', '/etc/san-iscsi/dhcp-hosts')
    lines = text.splitlines()
    for line in ('port=0', 'interface=eth1', 'bind-interfaces', 'dhcp-range=10.10.1.0,static,255.255.255.0',
                 'dhcp-hostsdir=/etc/san-iscsi/dhcp-hosts', 'dhcp-option=3', 'dhcp-option=6',
                 'dhcp-match=set:ipxe,175', 'dhcp-boot=tag:ipxe,san-iscsi.ipxe', 'enable-tftp',
                 'tftp-root=/srv/tftp'):
        assert line in lines
    assert 'log-dhcp' not in lines


def test_ownership_is_read_from_the_header():
    script = netboot.ipxe_script(host())
    assert netboot.owned_by(script, 'boot_entry', 'host1')
    assert not netboot.owned_by(script, 'boot_entry', 'host2')
    assert not netboot.owned_by('#!ipxe\nsanboot iscsi:x\n', 'boot_entry', 'host1')
    assert not netboot.owned_by(None, 'boot_entry')
    assert netboot.owned_by(netboot.chain_script(), 'boot_server')
