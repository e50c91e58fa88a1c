#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: boot_server
short_description: DHCP and TFTP with dnsmasq for hosts that boot from iSCSI LUNs
version_added: 0.1.0
description:
  - Makes a host the boot server of a storage network - dnsmasq on one interface, for DHCP and TFTP only,
    run by its own systemd unit C(san-iscsi-boot.service) with its own configuration file, so that a
    dnsmasq the host already runs (DNS, libvirt, NetworkManager) is not touched.
  - DHCP answers only the hosts that M(san.iscsi.boot_entry) added to O(hosts_dir) (C(dhcp-range) in
    C(static) mode), offers no router and no DNS server (an iBFT gateway would become the booting host's
    default route), and sends iPXE clients to the chain script C(san-iscsi.ipxe), which runs the booting
    NIC's own script.
  - The configuration is checked with C(dnsmasq --test) before it replaces the old one (C(bad_config)),
    and dnsmasq is restarted only when its configuration or unit changed.
  - V(absent) stops and removes the unit, its configuration and the chain script, then O(hosts_dir),
    C(<tftp_root>/san-iscsi) and the configuration's directory if it is named C(san-iscsi), when they are
    empty. It refuses (C(in_use)) while O(hosts_dir) still has host entries - retire those hosts first.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: C(systemctl is-active) and C(is-enabled) still run; nothing is written, checked with dnsmasq or restarted.
  diff_mode:
    support: full
    details: One diff per file created, changed or removed.
  platform:
    support: full
    platforms: posix
    details: Linux with systemd and dnsmasq 2.73 or later (Debian package C(dnsmasq-base) is enough).
seealso:
  - module: san.iscsi.boot_entry
  - name: dnsmasq(8)
    description: The options the configuration uses.
    link: https://thekelleys.org.uk/dnsmasq/docs/dnsmasq-man.html
options:
  interface:
    description: The interface on the storage network that DHCP and TFTP answer on (and only there).
    type: str
  network:
    description: The IPv4 network of that interface, such as V(10.10.1.0/24).
    type: str
  tftp_root:
    description: The TFTP root, which M(san.iscsi.boot_entry) writes the hosts' scripts into.
    type: path
    default: /srv/tftp
  hosts_dir:
    description: dnsmasq's C(dhcp-hostsdir), one file per host (M(san.iscsi.boot_entry)).
    type: path
    default: /etc/san-iscsi/dhcp-hosts
  config_path:
    description: The dnsmasq configuration file of the unit.
    type: path
    default: /etc/san-iscsi/dnsmasq.conf
  log_dhcp:
    description: Log every DHCP exchange in detail (C(log-dhcp)) to the journal.
    type: bool
    default: false
  state:
    description: V(present) configures and starts the service; V(absent) stops and removes it.
    type: str
    choices: [present, absent]
    default: present
'''

EXAMPLES = r'''
- name: DHCP and TFTP on the storage network's first fabric
  san.iscsi.boot_server:
    interface: eth1
    network: 10.10.1.0/24

- name: Stop serving boot files (after every host was retired)
  san.iscsi.boot_server:
    state: absent
'''

RETURN = r'''
files:
  description: Each file of the service, with what the run did to it (would do, in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /etc/san-iscsi/dnsmasq.conf
    kind:
      description: V(config), V(chain) or V(unit).
      type: str
      sample: config
    action:
      description: V(created), V(changed), V(unchanged), V(removed) or V(absent).
      type: str
      sample: created
service:
  description: What the run did to C(san-iscsi-boot.service) - V(started), V(restarted), V(stopped) or V(unchanged).
  returned: always
  type: str
  sample: started
unit:
  description: The systemd unit's name.
  returned: always
  type: str
  sample: san-iscsi-boot.service
'''

import ipaddress
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _files as files
from ansible_collections.san.iscsi.plugins.module_utils import _netboot as netboot
from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, Runner
from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLockTimeout, host_lock

UNIT_DIR = '/etc/systemd/system'
INTERFACE_RE = re.compile(r'^[A-Za-z0-9_.:@-]{1,15}\Z')


class BootServer(object):
    def __init__(self, module, unit_dir=UNIT_DIR):
        self.module = module
        self.params = module.params
        self.check = module.check_mode
        self.runner = Runner(module)
        self.unit_path = os.path.join(unit_dir, netboot.SERVER_UNIT)
        self.result = {'changed': False, 'files': [], 'service': 'unchanged', 'unit': netboot.SERVER_UNIT}
        self.diff = []
        self.validate()

    def validate(self):
        params = self.params
        self.state = params['state']
        for key in ('tftp_root', 'hosts_dir', 'config_path'):
            if not params[key].startswith('/') or not re.match(r'^[A-Za-z0-9_./+-]+\Z', params[key]):
                raise netboot.NetbootError('%s %r: an absolute path of letters, digits and "_./+-"' % (key, params[key]))
        if self.state == 'absent':
            return
        if not params['interface'] or not INTERFACE_RE.match(params['interface']):
            raise netboot.NetbootError('interface %r: a network interface name' % (params['interface'],))
        try:
            network = ipaddress.IPv4Network(u'%s' % params['network'])
        except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
            raise netboot.NetbootError('network %r: an IPv4 network such as 10.10.1.0/24' % (params['network'],))
        self.config = netboot.server_config(params['interface'], network, params['tftp_root'], params['hosts_dir'],
                                            params['log_dhcp'])

    def wanted(self):
        chain = os.path.join(self.params['tftp_root'], netboot.CHAIN_SCRIPT)
        if self.state == 'absent':
            return [('config', self.params['config_path'], None), ('chain', chain, None),
                    ('unit', self.unit_path, None)]
        dnsmasq = self.runner.binary('dnsmasq', hint='Debian/Ubuntu package: dnsmasq-base')
        return [('config', self.params['config_path'], self.config), ('chain', chain, netboot.chain_script()),
                ('unit', self.unit_path, netboot.server_unit(dnsmasq, self.params['config_path']))]

    def plan(self):
        changes = []
        for kind, path, after in self.wanted():
            before = files.read_text(path, netboot.NetbootError)
            if before is not None and not self.ours(kind, before):
                if after is not None:
                    raise netboot.NetbootError('%s exists and was not written by san.iscsi; move it away first' % path,
                                               error_code='foreign_file', path=path)
                self.module.warn('%s is kept: san.iscsi did not write it' % path)
                continue
            if files.record_change(self.result['files'], self.diff, path, before, after, kind=kind):
                changes.append((kind, path, after))
        return changes

    @staticmethod
    def ours(kind, text):
        return netboot.owned_by(text, 'boot_server') or (kind == 'chain' and netboot.owned_by(text, 'boot_entry'))

    def run(self):
        if self.state == 'absent':
            self.refuse_while_hosts_remain()
        active, enabled = netboot.unit_state(self.runner)
        if self.check:
            changes = self.plan()
            self.result['service'] = self.service_action(changes, active, enabled)
        else:
            try:
                with host_lock().held('configure the boot server'):
                    changes = self.plan()
                    if self.state == 'present':
                        self.check_new_config(changes)
                        self.apply_present(changes, active, enabled)
                    else:
                        self.apply_absent(changes, active, enabled)
            except HostLockTimeout as error:
                raise netboot.NetbootError(error.msg, error_code=error.error_code)
        self.result['changed'] = bool(changes) or self.result['service'] != 'unchanged' or (
            self.state == 'present' and enabled != 'enabled')
        if self.module._diff:
            self.result['diff'] = self.diff
        return self.result

    def service_action(self, changes, active, enabled):
        if self.state == 'absent':
            return 'stopped' if active == 'active' or enabled == 'enabled' else 'unchanged'
        if active != 'active':
            return 'started'
        return 'restarted' if changes else 'unchanged'

    def check_new_config(self, changes):
        """dnsmasq --test on the new configuration, in a file beside the old one (.<name>.check, under the
        host lock), before it replaces the old one."""
        new = [after for kind, _path, after in changes if kind == 'config']
        if not new:
            return
        path = self.params['config_path']
        check = os.path.join(os.path.dirname(path), '.%s.check' % os.path.basename(path))
        files.write_text(self.module, check, new[0], mode=0o600, error=netboot.NetbootError)
        try:
            netboot.check_config(self.runner, check)
        except CommandError as exc:
            exc.error_code = 'bad_config'
            raise
        finally:
            files.remove_file(check, netboot.NetbootError)

    def write(self, changes):
        files.apply_changes(self.module, [(path, after) for _kind, path, after in changes], netboot.NetbootError,
                            self.mark_changed)

    def mark_changed(self, _path):
        self.result['changed'] = True

    def apply_present(self, changes, active, enabled):
        for directory in (self.params['tftp_root'], self.params['hosts_dir']):
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
        self.write(changes)
        if any(kind == 'unit' for kind, _path, _after in changes):
            netboot.systemctl(self.runner, 'daemon-reload')
        action = self.service_action(changes, active, enabled)
        if enabled != 'enabled':
            netboot.systemctl(self.runner, 'enable', netboot.SERVER_UNIT)
        if action == 'started':
            netboot.systemctl(self.runner, 'start', netboot.SERVER_UNIT)
        elif action == 'restarted':
            netboot.systemctl(self.runner, 'restart', netboot.SERVER_UNIT)
        self.result['service'] = action

    def apply_absent(self, changes, active, enabled):
        action = self.service_action(changes, active, enabled)
        if action == 'stopped':
            netboot.systemctl(self.runner, 'disable', '--now', netboot.SERVER_UNIT)
        self.write(changes)
        if any(kind == 'unit' for kind, _path, _after in changes):
            netboot.systemctl(self.runner, 'daemon-reload')
        self.result['service'] = action
        self.remove_empty_directories()

    def remove_empty_directories(self):
        """The directories of the collection's own names, when nothing is left in them: the hosts directory,
        <tftp_root>/san-iscsi and a configuration directory named san-iscsi."""
        directories = [self.params['hosts_dir'], os.path.join(self.params['tftp_root'], netboot.IPXE_DIR)]
        if os.path.basename(os.path.dirname(self.params['config_path'])) == 'san-iscsi':
            directories.append(os.path.dirname(self.params['config_path']))
        for directory in directories:
            try:
                os.rmdir(directory)
            except OSError:
                continue
            self.result['changed'] = True

    def refuse_while_hosts_remain(self):
        try:
            hosts = sorted(name for name in os.listdir(self.params['hosts_dir']) if not name.startswith('.'))
        except OSError:
            return
        if hosts:
            raise netboot.NetbootError('%s still has boot entries (%s): retire those hosts first'
                                       % (self.params['hosts_dir'], ', '.join(hosts)), error_code='in_use', hosts=hosts)


def main(unit_dir=UNIT_DIR):
    """UNIT_DIR: where the unit file goes (unit tests pass a temporary directory)."""
    module = AnsibleModule(
        argument_spec=dict(
            interface=dict(type='str'),
            network=dict(type='str'),
            tftp_root=dict(type='path', default='/srv/tftp'),
            hosts_dir=dict(type='path', default='/etc/san-iscsi/dhcp-hosts'),
            config_path=dict(type='path', default='/etc/san-iscsi/dnsmasq.conf'),
            log_dhcp=dict(type='bool', default=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
        ),
        required_if=[('state', 'present', ('interface', 'network'))],
        supports_check_mode=True,
    )
    netboot.run_manager(module, lambda ansible_module: BootServer(ansible_module, unit_dir))


if __name__ == '__main__':
    main()
