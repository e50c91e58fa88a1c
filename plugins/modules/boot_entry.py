#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: boot_entry
short_description: Boot files of one diskless host whose root is an iSCSI LUN (iPXE, PXELINUX, dnsmasq)
version_added: 0.1.0
description:
  - Runs on the boot server (DHCP and TFTP) and writes the files that boot one host from its iSCSI LUN,
    or removes them.
  - The host's iPXE script C(<tftp_root>/san-iscsi/<mac>.ipxe) (the MAC as C(aa-bb-cc-dd-ee-ff)). It sets
    the host's initiator name, sets the host's address by hand on the NIC iPXE booted from (so the iBFT
    that C(sanboot) publishes has a static NIC block and the initramfs does no DHCP of its own), and
    C(sanboot)s the LUN over each portal; iPXE uses the first that answers. One initramfs then serves
    every host, as it reads the initiator and target from the iBFT (see C(docs/iscsi_root.md)).
  - The chain script C(<tftp_root>/san-iscsi.ipxe), the same for every host, which DHCP names for iPXE
    clients and which runs the booting NIC's own script.
  - The host's line in dnsmasq's C(dhcp-hostsdir) (MAC, fixed address, host name), C(<hosts_dir>/<name>).
    dnsmasq reads that directory again by itself when a file changes, so no reload is needed.
  - With O(pxelinux), for sites without iPXE, a PXELINUX entry named by the MAC (C(01-aa-bb-...)) and by
    the IP in upper-case hex (C(0A0A0115)), as the seed's mini-HOWTO names them, which loads a kernel and
    an initramfs over TFTP and gives them the iSCSI root arguments of initramfs-tools or dracut.
  - The module only writes files it made. A file at one of its paths without its header for this host
    fails the module (C(foreign_file)), and so does another host's entry in O(hosts_dir) with the same
    MAC, address or name (C(conflict)); both before anything is written.
  - Every input is validated before any file is read (C(invalid)).
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written or removed.
  diff_mode:
    support: full
    details: One diff per file created, changed or removed.
  platform:
    support: full
    platforms: posix
    details: Any boot server with dnsmasq 2.73 or later (C(dhcp-hostsdir)), or another TFTP server for the files.
seealso:
  - module: san.iscsi.lun
  - name: iPXE sanboot
    description: The sanboot command and the SAN URI format.
    link: https://ipxe.org/cmd/sanboot
  - name: dnsmasq(8)
    description: dhcp-hostsdir, dhcp-range static mode, TFTP.
    link: https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html
options:
  name:
    description:
      - The host's name - one DNS label, lower case. The dnsmasq entry gives it to the host, and the files
        carry it in their header.
    type: str
    required: true
  mac:
    description:
      - MAC address of the NIC the host boots from. Required with O(state=present); with O(state=absent) it
        is read from the host's dnsmasq entry when omitted.
    type: str
  address:
    description:
      - The host's IPv4 address on the boot NIC with its prefix length, such as V(10.10.1.21/24). Required
        with O(state=present).
    type: str
  gateway:
    description:
      - A default gateway for the boot NIC. Leave it out on a storage network - the iBFT carries it and the
        initramfs then routes everything through it.
    type: str
  initiator:
    description:
      - The host's own initiator name. Give it, or O(initiator_prefix), with O(state=present).
    type: str
  initiator_prefix:
    description:
      - Derive the initiator name as C(<prefix>:<name>), for example V(iqn.2026-11.com.example) gives
        C(iqn.2026-11.com.example:host1). The prefix is an C(iqn.) name without C(:).
    type: str
  target:
    description: The target that holds the host's root LUN. Required with O(state=present).
    type: str
  portals:
    description:
      - The portals to boot over, reachable from the boot NIC (C(host) or C(host:port), IPv4).
        Required with O(state=present).
    type: list
    elements: str
  lun:
    description: The root LUN's number on the target.
    type: int
    default: 0
  tftp_root:
    description: The TFTP server's root directory.
    type: path
    default: /srv/tftp
  hosts_dir:
    description: dnsmasq's C(dhcp-hostsdir) directory.
    type: path
    default: /etc/san-iscsi/dhcp-hosts
  pxelinux:
    description:
      - Also write PXELINUX entries that boot a kernel and initramfs over TFTP with the iSCSI root arguments.
      - Without it, PXELINUX entries an earlier run wrote for this host are removed.
    type: dict
    suboptions:
      kernel:
        description: The kernel, relative to O(tftp_root).
        type: str
        required: true
      initrd:
        description: The initramfs, relative to O(tftp_root).
        type: str
        required: true
      root:
        description: What the kernel's C(root=) names, for example V(UUID=0d7c...).
        type: str
        required: true
      flavor:
        description:
          - V(initramfs-tools) (Debian, Ubuntu) - C(iscsi_initiator=), C(iscsi_target_name=), C(iscsi_target_ip=)
            and C(ip=); the first portal only, as initramfs-tools logs in to one.
          - V(dracut) (RHEL, Fedora, SUSE) - C(rd.iscsi.initiator=), one C(netroot=iscsi:...) per portal, C(ip=)
            and C(rd.neednet=1).
        type: str
        choices: [initramfs-tools, dracut]
        default: initramfs-tools
      extra_args:
        description: More kernel arguments, one word each (C(console=ttyS0)).
        type: list
        elements: str
        default: []
  chap_user:
    description:
      - The CHAP user iPXE logs in with, for a LUN whose initiator must authenticate (M(san.iscsi.initiator_chap)).
        iPXE publishes it in the iBFT, from which the initramfs logs in again.
      - 1 to 128 letters, digits and the characters of C(._~+=,:@%/!*^?-).
    type: str
  chap_secret:
    description:
      - The CHAP secret of O(chap_user), written into the host's iPXE script. 12 to 255 of the same characters.
      - B(Anyone on the boot network can fetch that script over TFTP), so the secret keeps out only initiators
        that cannot reach the boot network (see C(docs/iscsi_root.md), CHAP). Not with O(pxelinux), which would
        put it on the kernel command line.
    type: str
  state:
    description: V(present) writes the files, V(absent) removes this host's files (never another host's).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Diffs show the CHAP secret as C(********).
'''

EXAMPLES = r'''
- name: Boot files for host1, whose root is LUN 0 of its own target
  san.iscsi.boot_entry:
    name: host1
    mac: "52:54:00:0a:01:15"
    address: 10.10.1.21/24
    initiator_prefix: iqn.2026-11.com.example
    target: iqn.2026-11.com.example:root-host1
    portals: [10.10.1.1]

- name: The same host, also bootable through PXELINUX with a RHEL kernel
  san.iscsi.boot_entry:
    name: host1
    mac: "52:54:00:0a:01:15"
    address: 10.10.1.21/24
    initiator: iqn.2026-11.com.example:host1
    target: iqn.2026-11.com.example:root-host1
    portals: [10.10.1.1, 10.10.1.2]
    pxelinux:
      kernel: golden/vmlinuz
      initrd: golden/initramfs.img
      root: UUID=0d7c6a5e-8d6f-4a52-9d0f-3c1a8e0b2f11
      flavor: dracut
      extra_args: [console=ttyS0]

- name: Retire host1's boot files (its MAC and address are read from its dnsmasq entry)
  san.iscsi.boot_entry:
    name: host1
    state: absent
'''

RETURN = r'''
initiator:
  description: The host's initiator name (given or derived); null with O(state=absent).
  returned: always
  type: str
  sample: iqn.2026-11.com.example:host1
san_uris:
  description: The SAN URIs the iPXE script boots, one per portal; empty with O(state=absent).
  returned: always
  type: list
  elements: str
  sample: ["iscsi:10.10.1.1::::iqn.2026-11.com.example:root-host1"]
firmware_kernel_args:
  description:
    - The kernel arguments that make the host's initramfs log in from the iBFT, by flavor. They are the same
      for every host, so they belong in the golden image's bootloader configuration.
  returned: always
  type: dict
  sample: {initramfs-tools: [iscsi_auto], dracut: [rd.iscsi.firmware=1, rd.iscsi.ibft=1]}
pxelinux_kernel_args:
  description: The kernel arguments of the PXELINUX entry; empty without O(pxelinux).
  returned: always
  type: list
  elements: str
  sample: [root=UUID=0d7c6a5e-8d6f-4a52-9d0f-3c1a8e0b2f11, ro, iscsi_initiator=iqn.2026-11.com.example:host1]
files:
  description: Each file of the host, with what the run did to it (would do, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /srv/tftp/san-iscsi/52-54-00-0a-01-15.ipxe
    kind:
      description: V(ipxe), V(chain), V(dhcp_host) or V(pxelinux).
      type: str
      sample: ipxe
    action:
      description: V(created), V(changed), V(unchanged), V(removed) or V(absent).
      type: str
      sample: created
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _files as files
from ansible_collections.san.iscsi.plugins.module_utils import _netboot as netboot
from ansible_collections.san.iscsi.plugins.module_utils._iscsi_names import InvalidName, parse_portal


class BootEntry(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.result = {'changed': False, 'initiator': None, 'san_uris': [], 'files': [],
                       'pxelinux_kernel_args': [],
                       'firmware_kernel_args': dict((flavor, netboot.firmware_kernel_args(flavor))
                                                    for flavor in netboot.FLAVORS)}
        self.diff = []
        self.texts = {}
        self.validate()

    # --- input ---------------------------------------------------------------------------------------

    def validate(self):
        params = self.params
        self.name = netboot.check_host_name(params['name'])
        self.state = params['state']
        self.tftp_root = params['tftp_root']
        self.hosts_dir = params['hosts_dir']
        self.host = None
        if self.state == 'absent':
            self.mac = netboot.normalize_mac(params['mac']) if params['mac'] else None
            self.interface = netboot.parse_address(params['address']) if params['address'] else None
            return
        missing = [key for key in ('mac', 'address', 'target', 'portals') if not params[key]]
        if missing:
            raise netboot.NetbootError('state=present needs %s' % ', '.join(missing))
        if bool(params['initiator']) == bool(params['initiator_prefix']):
            raise netboot.NetbootError('give initiator or initiator_prefix (one of them)')
        initiator = (netboot.check_initiator(params['initiator']) if params['initiator']
                     else netboot.derive_initiator(params['initiator_prefix'], self.name))
        try:
            portals = [parse_portal(portal) for portal in params['portals']]
        except InvalidName as exc:
            raise netboot.NetbootError(str(exc))
        if params['pxelinux'] and params['chap_secret']:
            raise netboot.NetbootError('chap_secret and pxelinux: a PXELINUX entry would put the CHAP secret on the '
                                       "host's kernel command line, which every user of the host can read")
        self.host = netboot.BootHost(self.name, params['mac'], params['address'], initiator, params['target'],
                                     portals, params['lun'], params['gateway'],
                                     (params['chap_user'], params['chap_secret']))
        self.mac, self.interface = self.host.mac, self.host.interface
        self.result['initiator'] = self.host.initiator
        self.result['san_uris'] = self.host.uris
        self.pxelinux_text = None
        if params['pxelinux']:
            pxe = params['pxelinux']
            self.pxelinux_text = netboot.pxelinux_entry(self.host, pxe['kernel'], pxe['initrd'], pxe['root'],
                                                        pxe['flavor'], pxe['extra_args'])
            self.result['pxelinux_kernel_args'] = self.pxelinux_text.split('APPEND ', 1)[1].split('\n', 1)[0].split()

    # --- paths ---------------------------------------------------------------------------------------

    def ipxe_path(self, mac):
        return os.path.join(self.tftp_root, netboot.IPXE_DIR, netboot.mac_hexhyp(mac) + '.ipxe')

    def pxelinux_paths(self, mac, interface):
        return [os.path.join(self.tftp_root, netboot.PXELINUX_DIR, name)
                for name in netboot.pxelinux_names(mac, interface)]

    def hosts_path(self):
        return os.path.join(self.hosts_dir, self.name)

    def read(self, path):
        if path not in self.texts:
            self.texts[path] = files.read_text(path, netboot.NetbootError)
        return self.texts[path]

    # --- the run -------------------------------------------------------------------------------------

    def run(self):
        changes = files.planned_and_applied(self.module, self.plan, 'write the boot files of %s' % self.name,
                                            netboot.NetbootError, self.mark_changed)
        self.result['changed'] = bool(changes)
        if self.module._diff:
            self.result['diff'] = self.diff
        return self.result

    def mark_changed(self, _path):
        self.result['changed'] = True

    def plan(self):
        """[(path, new text or None to delete)], after every refusal has been checked."""
        wanted = self.wanted_files() if self.state == 'present' else self.files_to_remove()
        if self.state == 'present':
            self.check_conflicts()
        changes = []
        for kind, path, after in wanted:
            before = self.read(path)
            if before is not None and not self.ours(kind, before):
                if after is None:
                    if self.state == 'absent':
                        self.module.warn('%s is kept: it was not written for host %s' % (path, self.name))
                    continue
                raise netboot.NetbootError('%s exists and was not written by san.iscsi for host %s; move it away first'
                                           % (path, self.name), error_code='foreign_file', path=path)
            if files.record_change(self.result['files'], self.diff, path, before, after, kind=kind):
                changes.append((path, after))
                if kind == 'ipxe':
                    self.diff[-1].update(before=netboot.masked(self.diff[-1]['before']),
                                         after=netboot.masked(self.diff[-1]['after']))
        return changes

    def ours(self, kind, text):
        if text is None:
            return False
        if kind == 'chain':
            return netboot.owned_by(text, 'boot_server') or netboot.owned_by(text, 'boot_entry')
        return netboot.owned_by(text, 'boot_entry', self.name)

    def wanted_files(self):
        host = self.host
        wanted = [
            ('ipxe', self.ipxe_path(host.mac), netboot.ipxe_script(host)),
            ('chain', os.path.join(self.tftp_root, netboot.CHAIN_SCRIPT), netboot.chain_script()),
            ('dhcp_host', self.hosts_path(), netboot.dhcp_host_line(host)),
        ]
        for path in self.pxelinux_paths(host.mac, host.interface):
            wanted.append(('pxelinux', path, self.pxelinux_text))
        return wanted

    def files_to_remove(self):
        """This host's files. Its MAC and address come from the task or from its dnsmasq entry; a PXELINUX
        file is removed by the name it has only if its header names this host (see plan)."""
        mac, interface = self.mac, self.interface
        text = self.read(self.hosts_path())
        entry = netboot.parse_dhcp_hosts(text) if self.ours('dhcp_host', text) else []
        if entry:
            mac = mac or entry[0][0]
            if interface is None and entry[0][1]:
                interface = netboot.parse_address(entry[0][1] + '/32')
        removal = [('dhcp_host', self.hosts_path(), None)]
        if mac:
            removal.insert(0, ('ipxe', self.ipxe_path(mac), None))
            names = netboot.pxelinux_names(mac, interface) if interface else ['01-' + netboot.mac_hexhyp(mac)]
            removal += [('pxelinux', os.path.join(self.tftp_root, netboot.PXELINUX_DIR, name), None)
                        for name in names]
        return removal

    def check_conflicts(self):
        """Another host's dnsmasq entry with this MAC, address or name (dnsmasq would hand out one of them)."""
        try:
            names = sorted(os.listdir(self.hosts_dir))
        except OSError:
            return
        ip = str(self.host.interface.ip)
        for name in names:
            path = os.path.join(self.hosts_dir, name)
            if name == self.name or name.startswith('.') or not os.path.isfile(path):
                continue
            for mac, address, host_name in netboot.parse_dhcp_hosts(self.read(path)):
                clash = [what for what, same in (('MAC %s' % self.host.mac, mac == self.host.mac),
                                                 ('address %s' % ip, address == ip),
                                                 ('name %s' % self.name, host_name == self.name)) if same]
                if clash:
                    raise netboot.NetbootError('%s already gives %s to another host; retire that host first'
                                               % (path, ' and '.join(clash)), error_code='conflict', path=path)


def main():
    pxelinux = dict(
        kernel=dict(type='str', required=True),
        initrd=dict(type='str', required=True),
        root=dict(type='str', required=True),
        flavor=dict(type='str', default='initramfs-tools', choices=list(netboot.FLAVORS)),
        extra_args=dict(type='list', elements='str', default=[]),
    )
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            mac=dict(type='str'),
            address=dict(type='str'),
            gateway=dict(type='str'),
            initiator=dict(type='str'),
            initiator_prefix=dict(type='str'),
            target=dict(type='str'),
            portals=dict(type='list', elements='str'),
            lun=dict(type='int', default=0),
            tftp_root=dict(type='path', default='/srv/tftp'),
            hosts_dir=dict(type='path', default='/etc/san-iscsi/dhcp-hosts'),
            pxelinux=dict(type='dict', options=pxelinux),
            chap_user=dict(type='str'),
            chap_secret=dict(type='str', no_log=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        mutually_exclusive=[('initiator', 'initiator_prefix')],
        required_together=[('chap_user', 'chap_secret')],
        supports_check_mode=True,
    )
    netboot.run_manager(module, BootEntry)


if __name__ == '__main__':
    main()
