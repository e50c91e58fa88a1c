# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network boot of hosts whose root is an iSCSI LUN: names, kernel arguments and the text of the boot files.

The boot chain (docs/iscsi_root.md): DHCP (dnsmasq) -> iPXE -> the host's iPXE script -> sanboot, which
publishes the iBFT -> the bootloader on the LUN -> the initramfs logs in again from the iBFT -> root.

- The initiator name rule: PREFIX:HOST (the host name's first label, lower case), validated as an IQN.
- SAN URIs as iPXE reads them (RFC 4173: iscsi:server:protocol:port:LUN:target, empty port = 3260,
  empty LUN = 0, the LUN in hex).
- The host's iPXE script: its initiator name, a static address on the NIC iPXE booted from (so the iBFT
  NIC block is static and the initramfs does no DHCP of its own), then sanboot.
- PXELINUX entries (named 01-<mac> and by the IP in upper-case hex, as pxelinux looks for them) with the
  iSCSI kernel arguments of initramfs-tools (Debian, Ubuntu) or of dracut (the RHEL family).
- dnsmasq: one dhcp-hostsdir file per host (dnsmasq reads that directory again by itself when a file
  changes), and the boot server's main configuration.

Pure functions, no I/O. Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, fail_with
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import (
    DEFAULT_PORT, InvalidName, format_portal, validate_name)

HEADER = 'Managed by Ansible (san.iscsi.%s) for host %s; rewritten on each run.'
FLAVORS = ('initramfs-tools', 'dracut')
CHAIN_SCRIPT = 'san-iscsi.ipxe'
IPXE_DIR = 'san-iscsi'
PXELINUX_DIR = 'pxelinux.cfg'

_HOST_LABEL_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z')
_MAC_RE = re.compile(r'^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}\Z')
_TFTP_PATH_RE = re.compile(r'^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*\Z')
_LEASE_RE = re.compile(r'^(infinite|[0-9]+[smhdw]?)\Z')
_KERNEL_ARG_RE = re.compile(r'^[^\s"\'\\\x00-\x1f\x7f]+\Z')


class NetbootError(ValueError):
    """A refusal or failure of the boot modules; error_code is stable (invalid, foreign_file, conflict,
    in_use, io_error, ...); EXTRA goes into the failure's result."""

    def __init__(self, msg, error_code='invalid', **extra):
        super(NetbootError, self).__init__(msg)
        self.msg = msg
        self.error_code = error_code
        self.extra = extra


def fail_with_error(module, exc, partial_result):
    """fail_json for a NetbootError EXC: what the run had found and done (PARTIAL_RESULT, its 'changed' kept
    as changed), the error's extra fields, msg and error_code."""
    result = dict(partial_result or {})
    changed = bool(result.pop('changed', False))
    result.update(exc.extra)
    module.fail_json(msg=exc.msg, error_code=exc.error_code, changed=changed, **result)


def run_manager(module, make_manager):
    """exit_json with the result of MAKE_MANAGER(module).run(); a NetbootError (or subclass) or a CommandError
    fails the module with what the manager had found and done so far."""
    manager = None
    try:
        manager = make_manager(module)
        module.exit_json(**manager.run())
    except NetbootError as exc:
        fail_with_error(module, exc, manager.result if manager else None)
    except CommandError as exc:
        fail_with(module, exc, manager.result if manager else None)


def check_host_name(name):
    """A host name as the boot files use it: one DNS label (RFC 1123), lower case."""
    if not isinstance(name, str) or not _HOST_LABEL_RE.match(name):
        raise NetbootError('host name %r: one DNS label of lower-case letters, digits and "-" (at most 63, '
                           'not starting or ending with "-")' % (name,))
    return name


def derive_initiator(prefix, host):
    """The documented rule: PREFIX:HOST, for example iqn.2026-11.com.example:host1. PREFIX is an iqn. name
    without a unique part of its own."""
    check_host_name(host)
    try:
        validate_name(prefix, 'initiator prefix')
    except InvalidName as exc:
        raise NetbootError(str(exc))
    if not prefix.lower().startswith('iqn.') or ':' in prefix:
        raise NetbootError('initiator prefix %r: an iqn. name without ":" (the host name is added after ":")'
                           % (prefix,))
    return check_initiator('%s:%s' % (prefix.lower(), host))


def check_initiator(name):
    try:
        return validate_name(name, 'initiator name')
    except InvalidName as exc:
        raise NetbootError(str(exc))


def normalize_mac(mac):
    """aa:bb:cc:dd:ee:ff (lower case) from "AA:BB:..." or "aa-bb-..."; a group (multicast) address is refused."""
    lowered = mac.strip().lower() if isinstance(mac, str) else ''
    if not _MAC_RE.match(lowered):
        raise NetbootError('MAC address %r: six hex pairs separated by ":" or "-"' % (mac,))
    lowered = lowered.replace('-', ':')
    if int(lowered[:2], 16) & 1:
        raise NetbootError('MAC address %r is a group (multicast) address, not a NIC\'s' % (mac,))
    return lowered


def mac_hexhyp(mac):
    """The MAC as iPXE's ${mac:hexhyp} prints it: aa-bb-cc-dd-ee-ff."""
    return normalize_mac(mac).replace(':', '-')


def parse_address(address):
    """An IPv4 interface address with its prefix (10.10.1.21/24). The network and broadcast addresses are
    refused. IPv4 only: the iBFT and PXELINUX paths of this collection are IPv4."""
    try:
        interface = ipaddress.IPv4Interface(u'%s' % address)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise NetbootError('address %r: an IPv4 address with its prefix length, such as 10.10.1.21/24' % (address,))
    if '/' not in str(address):
        raise NetbootError('address %r needs its prefix length (10.10.1.21/24)' % (address,))
    network = interface.network
    if network.prefixlen < 31 and interface.ip in (network.network_address, network.broadcast_address):
        raise NetbootError('address %r is the network or broadcast address of %s' % (address, network))
    return interface


def parse_gateway(gateway, interface):
    if gateway in (None, ''):
        return None
    try:
        address = ipaddress.IPv4Address(u'%s' % gateway)
    except (ipaddress.AddressValueError, ValueError):
        raise NetbootError('gateway %r is not an IPv4 address' % (gateway,))
    if address not in interface.network:
        raise NetbootError('gateway %s is not in the host\'s network %s' % (address, interface.network))
    return address


def pxelinux_names(mac, interface):
    """The two names pxelinux looks for first: 01-<mac, lower case, "-"> and the IP in upper-case hex."""
    return ['01-' + mac_hexhyp(mac), '%08X' % int(interface.ip)]


def san_uri(portal, target, lun=0):
    """iscsi:<server>::<port>:<LUN>:<target>; the port and LUN are left empty at their defaults."""
    validate_target(target)
    host = '[%s]' % portal.host if ':' in portal.host else portal.host
    port = '' if int(portal.port) == DEFAULT_PORT else str(int(portal.port))
    return 'iscsi:%s::%s:%s:%s' % (host, port, '%x' % lun if lun else '', target)


def validate_target(target):
    try:
        return validate_name(target, 'target name')
    except InvalidName as exc:
        raise NetbootError(str(exc))


def check_lun(lun):
    if not isinstance(lun, int) or isinstance(lun, bool) or not 0 <= lun <= 16383:
        raise NetbootError('lun %r: a number from 0 to 16383' % (lun,))
    return lun


def check_tftp_path(path, what):
    """A path below the TFTP root: relative, plain components (no "..", no blanks)."""
    if not isinstance(path, str) or not _TFTP_PATH_RE.match(path) or '..' in path.split('/'):
        raise NetbootError('%s %r: a path relative to the TFTP root (letters, digits, "_.+-" and "/")' % (what, path))
    return path


def check_kernel_args(args):
    for arg in args:
        if not isinstance(arg, str) or not _KERNEL_ARG_RE.match(arg):
            raise NetbootError('kernel argument %r: one word, without blanks, quotes or backslashes' % (arg,))
    return list(args)


# CHAP user and secret as iPXE's script reads them: one word, without $ (setting expansion), quotes, backslashes,
# '#' or the command separators || and &&.
IPXE_CHAP_USER_RE = re.compile(r'^[A-Za-z0-9._~+=,:@%/!*^?-]{1,128}$')
IPXE_CHAP_SECRET_RE = re.compile(r'^[A-Za-z0-9._~+=,:@%/!*^?-]{12,255}$')
IPXE_CHAP_CHARACTERS = 'letters, digits and the characters of ._~+=,:@%/!*^?-'
MASKED_SECRET = '********'


def check_chap(user, secret):
    """(user, secret) for the iPXE script, or (None, None) without CHAP; the message never holds the secret."""
    if user is None and secret is None:
        return None, None
    if not user or not IPXE_CHAP_USER_RE.match(user):
        raise NetbootError('chap_user %r: 1 to 128 of %s' % (user, IPXE_CHAP_CHARACTERS))
    if not secret or not IPXE_CHAP_SECRET_RE.match(secret):
        raise NetbootError('chap_secret (%d characters): 12 to 255 of %s, which the iPXE script can hold as one word'
                           % (len(secret or ''), IPXE_CHAP_CHARACTERS))
    return user, secret


def masked(text):
    """An iPXE script with its CHAP secret replaced, for diffs."""
    return re.sub(r'(?m)^(set password ).*$', r'\g<1>' + MASKED_SECRET, text) if text else text


class BootHost(object):
    """One host's boot settings, validated when made."""

    def __init__(self, name, mac, address, initiator, target, portals, lun=0, gateway=None, chap=(None, None)):
        self.name = check_host_name(name)
        self.mac = normalize_mac(mac)
        self.interface = parse_address(address)
        self.gateway = parse_gateway(gateway, self.interface)
        self.initiator = check_initiator(initiator)
        self.target = validate_target(target)
        if not portals:
            raise NetbootError('at least one portal is needed')
        for portal in portals:
            if ':' in portal.host:
                raise NetbootError('portal %s: the boot path is IPv4 only' % format_portal(portal.host, portal.port))
        self.portals = list(portals)
        self.lun = check_lun(lun)
        self.chap_user, self.chap_secret = check_chap(*chap)

    @property
    def uris(self):
        return [san_uri(portal, self.target, self.lun) for portal in self.portals]

    def ip_argument(self, device='', autoconf='off'):
        """The kernel's ip= argument: client::gateway:netmask:hostname:device:autoconf."""
        return 'ip=%s::%s:%s:%s:%s:%s' % (self.interface.ip, self.gateway or '', self.interface.netmask, self.name,
                                          device, autoconf)


def ipxe_script(host):
    """The host's iPXE script. It runs on the NIC iPXE booted from (netX): the initiator name, the
    address set by hand (a static iBFT NIC block), then sanboot over each portal (iPXE uses the first
    that answers and publishes the iBFT)."""
    lines = [
        '#!ipxe',
        '# ' + HEADER % ('boot_entry', host.name),
        'set initiator-iqn %s' % host.initiator,
        'set netX/ip %s' % host.interface.ip,
        'set netX/netmask %s' % host.interface.netmask,
    ]
    if host.gateway:
        lines.append('set netX/gateway %s' % host.gateway)
    if host.chap_user:
        # iPXE logs in with CHAP and publishes the credentials in the iBFT, from which the initramfs logs in
        lines += ['set username %s' % host.chap_user, 'set password %s' % host.chap_secret]
    lines += [
        'echo san.iscsi: %s boots from %s as %s' % (host.name, host.target, host.initiator),
        'sanboot %s' % ' '.join(host.uris),
    ]
    return '\n'.join(lines) + '\n'


def chain_script():
    """The script DHCP names for every iPXE client: it runs the booting NIC's own script."""
    return '\n'.join([
        '#!ipxe',
        '# Managed by Ansible (san.iscsi.boot_server); rewritten on each run.',
        'chain %s/${netX/mac:hexhyp}.ipxe || goto none' % IPXE_DIR,
        ':none',
        'echo san.iscsi: no boot entry for ${netX/mac}',
        'exit 1',
    ]) + '\n'


def kernel_args(host, flavor):
    """The iSCSI root arguments for a kernel loaded without iPXE's sanboot (PXELINUX): the first portal,
    the host's address (its device is found from BOOTIF, which IPAPPEND 2 adds)."""
    if flavor not in FLAVORS:
        raise NetbootError('flavor %r: one of %s' % (flavor, ', '.join(FLAVORS)))
    portal = host.portals[0]
    if flavor == 'initramfs-tools':
        args = ['iscsi_initiator=%s' % host.initiator, 'iscsi_target_name=%s' % host.target,
                'iscsi_target_ip=%s' % portal.host]
        if int(portal.port) != DEFAULT_PORT:
            args.append('iscsi_target_port=%d' % int(portal.port))
        return args + [host.ip_argument()]
    args = ['rd.iscsi.initiator=%s' % host.initiator]
    args += ['netroot=%s' % uri for uri in host.uris]
    return args + [host.ip_argument(autoconf='none'), 'rd.neednet=1']


def firmware_kernel_args(flavor):
    """The arguments that make the initramfs log in from the iBFT that iPXE's sanboot published. One set
    serves every host: the initiator and target come from the firmware table."""
    if flavor == 'initramfs-tools':
        return ['iscsi_auto']
    if flavor == 'dracut':
        return ['rd.iscsi.firmware=1', 'rd.iscsi.ibft=1']
    raise NetbootError('flavor %r: one of %s' % (flavor, ', '.join(FLAVORS)))


def pxelinux_entry(host, kernel, initrd, root, flavor, extra_args=()):
    """A PXELINUX configuration that boots KERNEL and INITRD (paths below the TFTP root) with ROOT
    (root=ROOT, for example UUID=...) and the iSCSI arguments of FLAVOR."""
    check_tftp_path(kernel, 'kernel')
    check_tftp_path(initrd, 'initrd')
    args = check_kernel_args(['root=%s' % root, 'ro'] + kernel_args(host, flavor) + list(extra_args))
    return '\n'.join([
        '# ' + HEADER % ('boot_entry', host.name),
        'DEFAULT %s' % host.name,
        'LABEL %s' % host.name,
        '  KERNEL %s' % kernel,
        '  INITRD %s' % initrd,
        '  APPEND %s' % ' '.join(args),
        '  IPAPPEND 2',
    ]) + '\n'


def dhcp_host_line(host):
    """The host's line in dnsmasq's dhcp-hostsdir: MAC, fixed address, host name."""
    return '# %s\n%s,%s,%s\n' % (HEADER % ('boot_entry', host.name), host.mac, host.interface.ip, host.name)


def parse_dhcp_hosts(text):
    """[(mac, ip, name)] from a dhcp-hostsdir file (comments and blank lines skipped; fields this module
    does not write are ignored)."""
    entries = []
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        fields = [field.strip() for field in line.split(',')]
        mac = next((field.lower() for field in fields if _MAC_RE.match(field.lower())), None)
        address = next((field for field in fields if _is_ipv4(field)), None)
        names = [field for field in fields[1:] if _HOST_LABEL_RE.match(field.lower()) and not _is_ipv4(field)
                 and not _MAC_RE.match(field.lower()) and not _LEASE_RE.match(field.lower())]
        entries.append((mac.replace('-', ':') if mac else None, address, names[-1] if names else None))
    return entries


def _is_ipv4(text):
    try:
        ipaddress.IPv4Address(u'%s' % text)
        return True
    except (ipaddress.AddressValueError, ValueError):
        return False


def server_config(interface, network, tftp_root, hosts_dir, log_dhcp=False):
    """dnsmasq's configuration for a boot server: DHCP and TFTP on INTERFACE only, no DNS, addresses only
    for the hosts in HOSTS_DIR (dhcp-range "static"), no router and no DNS server offered (an iBFT
    gateway would become the initramfs' default route), iPXE clients sent to the chain script."""
    network = ipaddress.IPv4Network(u'%s' % network)
    lines = [
        '# Managed by Ansible (san.iscsi.boot_server); rewritten on each run.',
        'port=0',
        'interface=%s' % interface,
        'bind-interfaces',
        'dhcp-range=%s,static,%s' % (network.network_address, network.netmask),
        'dhcp-hostsdir=%s' % hosts_dir,
        'dhcp-option=3',
        'dhcp-option=6',
        'dhcp-match=set:ipxe,175',
        'dhcp-boot=tag:ipxe,%s' % CHAIN_SCRIPT,
        'dhcp-boot=tag:!ipxe,pxelinux.0',
        'enable-tftp',
        'tftp-root=%s' % tftp_root,
    ]
    if log_dhcp:
        lines.append('log-dhcp')
    return '\n'.join(lines) + '\n'


def owned_by(text, module, host=None):
    """Whether TEXT (a file's content) carries the header this collection writes (for HOST, when given)."""
    if text is None:
        return False
    marker = 'Managed by Ansible (san.iscsi.%s)' % module
    if host is not None:
        marker = HEADER % (module, host)
    return any(line.startswith('#') and marker in line for line in text.split('\n', 2)[:2])


# --- the boot server's dnsmasq (systemd unit) ------------------------------------------------------------

SERVER_UNIT = 'san-iscsi-boot.service'


def server_unit(dnsmasq, config_path):
    """A systemd unit that runs dnsmasq with CONFIG_PATH only (--conf-file keeps it from reading
    /etc/dnsmasq.conf), in the foreground, checking the configuration before each start."""
    return '\n'.join([
        '# Managed by Ansible (san.iscsi.boot_server); rewritten on each run.',
        '[Unit]',
        'Description=DHCP and TFTP for hosts booting from iSCSI LUNs (san.iscsi)',
        'After=network.target',
        '',
        '[Service]',
        'ExecStartPre=%s --test --conf-file=%s' % (dnsmasq, config_path),
        'ExecStart=%s --keep-in-foreground --pid-file --conf-file=%s' % (dnsmasq, config_path),
        'Restart=on-failure',
        '',
        '[Install]',
        'WantedBy=multi-user.target',
    ]) + '\n'


def check_config(runner, path):
    """`dnsmasq --test` on the configuration file PATH; raises the runner's error (error_code bad_config)."""
    runner.run('dnsmasq', ['--test', '--conf-file=%s' % path], what='checking the dnsmasq configuration')


def unit_state(runner):
    """(active state, enabled state) of the unit, as systemctl prints them ('inactive', 'disabled', ...)."""
    _rc, active, _err = runner.run('systemctl', ['is-active', SERVER_UNIT], ok=None)
    _rc, enabled, _err = runner.run('systemctl', ['is-enabled', SERVER_UNIT], ok=None)
    return active.strip() or 'unknown', enabled.strip() or 'unknown'


def systemctl(runner, *args):
    runner.run('systemctl', list(args), what='systemctl %s' % ' '.join(args))
