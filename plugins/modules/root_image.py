#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: root_image
short_description: Lay out a golden root LUN for diskless hosts, or make a clone of it one host's own
version_added: 0.1.0
description:
  - Runs on a builder host that has the LUN attached (logged in), and works on the LUN offline, mounted under
    O(mount_dir) only for the run. See C(docs/iscsi_root.md) for the whole chain.
  - O(state=golden) lays out a blank LUN as a bootable root image made from the builder's own root
    filesystem (O(source)) - an msdos label, one ext4 partition, the files copied with C(rsync -aHAXx) - and
    generalizes it as virt-sysprep does for the same things. It empties C(/etc/machine-id) and
    C(/etc/hostname) and removes the SSH host keys, the initiator name, iSCSI node records, DHCP leases,
    networkd state, journals and logs, and whatever O(remove) adds. It writes C(/etc/fstab) with the root by
    filesystem UUID, installs GRUB (i386-pc) on the LUN with a C(grub.cfg) whose kernel arguments make the
    initramfs log in from the iBFT (O(flavor)), so one image boots every host, and a marker file.
  - O(state=personalized) makes a clone of a golden image one host's own - C(/etc/hostname),
    C(/etc/hosts), C(/etc/iscsi/initiatorname.iscsi), a systemd-networkd file that leaves the boot NIC to
    the initramfs (O(boot_mac)), and new SSH host keys.
  - The module only writes a LUN it made. O(state=golden) refuses a LUN that holds anything but its own
    golden image (C(not_blank)) - a signature blkid knows, or data in its first or last MiB. O(state=personalized)
    refuses a LUN without its marker (C(not_ours)). Both only read a LUN, mounted read-only without journal
    replay, to tell. A LUN that is mounted or held (LVM, multipath, a partition in use) is refused (C(busy)).
  - A file it reads or writes in the image that is a symlink, or lies behind a directory link leading out of the
    image, is refused (C(unsafe_path)); so the builder never reads or writes its own files through a clone. The
    image is mounted C(nosuid,nodev,noexec) whenever it is mounted read-write.
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written; a LUN is at most mounted read-only to read what it holds.
  diff_mode:
    support: partial
    details: With O(state=personalized), one diff per file written; none with O(state=golden), which copies a whole root.
  platform:
    support: full
    platforms: posix
    details: >-
      A Linux builder with parted, e2fsprogs, rsync, GRUB for i386-pc (C(grub-pc-bin)) and ssh-keygen.
      The image boots BIOS (iPXE C(sanboot)); UEFI is not built.
seealso:
  - module: san.iscsi.lun
  - module: san.iscsi.snapshot
  - module: san.iscsi.boot_entry
  - name: virt-sysprep(1)
    description: The generalization this module follows for the files it removes or empties.
    link: https://libguestfs.org/virt-sysprep.1.html
options:
  wwid:
    description:
      - The LUN's WWID as the builder sees it (C(naa.6001405...)), such as the RV(san.iscsi.lun#module:lun.wwid)
        that M(san.iscsi.lun) returns. The LUN must be attached; it is never found by a device name.
    type: str
    required: true
  state:
    description: V(golden) lays out and fills a blank LUN; V(personalized) makes a clone one host's own.
    type: str
    choices: [golden, personalized]
    required: true
  source:
    description: With O(state=golden), the root filesystem copied into the image (only that filesystem).
    type: path
    default: /
  exclude:
    description: With O(state=golden), more rsync patterns not copied (C(/srv/data/*)).
    type: list
    elements: str
    default: []
  remove:
    description:
      - With O(state=golden), more paths removed from the image after the copy, relative to its root, shell
        globs allowed per component (V(etc/systemd/network/20-*.network)). A trailing C(/*) empties a
        directory.
    type: list
    elements: str
    default: []
  flavor:
    description:
      - With O(state=golden), the initramfs of the image - V(initramfs-tools) (Debian, Ubuntu) adds
        C(iscsi_auto), V(dracut) (the RHEL family) C(rd.iscsi.firmware=1 rd.iscsi.ibft=1) to the kernel
        arguments.
    type: str
    choices: [initramfs-tools, dracut]
    default: initramfs-tools
  kernel_args:
    description: With O(state=golden), more kernel arguments, one word each.
    type: list
    elements: str
    default: []
  console:
    description:
      - With O(state=golden), a serial console for GRUB and the kernel, such as V(ttyS0,115200n8).
    type: str
  hostname:
    description: With O(state=personalized), the host's name, one lower-case DNS label. Required then.
    type: str
  initiator:
    description:
      - With O(state=personalized), the host's own initiator name, the one its igroup holds and its iPXE
        script sets. Required then.
    type: str
  boot_mac:
    description:
      - With O(state=personalized), the MAC address of the NIC the host boots from. A systemd-networkd file
        matching it says C(Unmanaged=yes), so networkd neither runs DHCP on it nor drops the address the root
        session runs over at shutdown.
    type: str
  host_keys:
    description: With O(state=personalized), make SSH host keys in the clone when it has none.
    type: bool
    default: true
  mount_dir:
    description: Where the LUN's filesystem is mounted during the run (a directory per LUN below it).
    type: path
    default: /run/san-iscsi/root-image
notes:
  - The golden image copies the builder's root, its users and C(authorized_keys) included. Build it on a
    host that carries nothing a diskless host should not have.
  - A run that stops half-way leaves a golden image marked incomplete; the next run lays it out again.
'''

EXAMPLES = r'''
- name: A blank LUN becomes the golden root image, built from this host's root
  san.iscsi.root_image:
    wwid: "{{ golden_lun.lun.wwid }}"
    state: golden
    console: ttyS0,115200n8
    remove: [etc/systemd/network/20-*.network]

- name: A clone of the golden snapshot becomes host1's root
  san.iscsi.root_image:
    wwid: "{{ clone.lun.wwid }}"
    state: personalized
    hostname: host1
    initiator: iqn.2026-11.com.example:host1
    boot_mac: "52:54:00:0a:01:15"
'''

RETURN = r'''
device:
  description: The LUN's device on the builder.
  returned: always
  type: str
  sample: /dev/sdc
uuid:
  description: The root filesystem's UUID (the same in every clone of the golden image); null in check mode on a blank LUN.
  returned: success
  type: str
  sample: 0d7c6a5e-8d6f-4a52-9d0f-3c1a8e0b2f11
kernel:
  description: The kernel GRUB boots, relative to the image's root; null in check mode on a blank LUN.
  returned: success
  type: str
  sample: boot/vmlinuz-6.1.0-28-amd64
initrd:
  description: The initramfs GRUB loads.
  returned: success
  type: str
  sample: boot/initrd.img-6.1.0-28-amd64
kernel_args:
  description: The kernel arguments in the image's C(grub.cfg), C(root=) first.
  returned: success
  type: list
  elements: str
  sample: [root=UUID=0d7c6a5e-8d6f-4a52-9d0f-3c1a8e0b2f11, ro, iscsi_auto]
marker:
  description: The image's marker (kind V(golden) or V(personalized), its host and initiator once personalized).
  returned: success
  type: dict
  sample: {kind: personalized, hostname: host1, initiator: "iqn.2026-11.com.example:host1", uuid: 0d7c6a5e-...}
generalized:
  description: With O(state=golden), the paths the run removed or emptied in the image (would, in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/machine-id, /etc/ssh/ssh_host_ed25519_key]
files:
  description: Each file the run wrote (would write), with what it did to it.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file, relative to the image's root.
      type: str
      sample: etc/iscsi/initiatorname.iscsi
    action:
      description: V(created), V(changed) or V(unchanged).
      type: str
      sample: changed
'''

import contextlib
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _blockdev as blockdev
from ansible_collections.san.iscsi.plugins.module_utils import _files as files
from ansible_collections.san.iscsi.plugins.module_utils import _mounts as mounts
from ansible_collections.san.iscsi.plugins.module_utils import _root_image as image
from ansible_collections.san.iscsi.plugins.module_utils import _netboot as netboot
from ansible_collections.san.iscsi.plugins.module_utils._command import Runner
from ansible_collections.san.iscsi.plugins.module_utils._devices import find_devices

READ_ONLY = ['ro', 'noload', 'nosuid', 'nodev', 'noexec']
# A filesystem is only written, never run from or used for device nodes, on the builder.
READ_WRITE = ['nosuid', 'nodev', 'noexec']
PARTITION_WAIT = 30


class RootImage(object):
    def __init__(self, module, runner=None, paths=None, sleep=time.sleep):
        self.module = module
        self.sleep = sleep
        self.params = module.params
        self.runner = runner or Runner(module)
        self.paths = paths or {}
        self.result = {'changed': False, 'device': None, 'files': []}
        self.diff = []
        self.validate()

    # --- input ---------------------------------------------------------------------------------------

    def validate(self):
        params = self.params
        self.wwid = (params['wwid'] or '').strip().lower()
        if not self.wwid or any(char.isspace() or char == '/' for char in self.wwid):
            raise image.RootImageError('wwid %r is not a WWID' % (params['wwid'],))
        if params['state'] == 'golden':
            self.remove = image.check_relative_patterns(params['remove'], 'remove')
            self.console = image.check_console(params['console'])
            self.kernel_args = netboot.firmware_kernel_args(params['flavor']) + image.check_kernel_args(params['kernel_args'])
            return
        missing = [key for key in ('hostname', 'initiator') if not params[key]]
        if missing:
            raise image.RootImageError('state=personalized needs %s' % ', '.join(missing))
        self.hostname = netboot.check_host_name(params['hostname'])
        self.initiator = netboot.check_initiator(params['initiator'])
        self.boot_mac = netboot.normalize_mac(params['boot_mac']) if params['boot_mac'] else None

    # --- the LUN -------------------------------------------------------------------------------------

    def find_disk(self):
        """The LUN's disk on this host, refused when anything mounts or holds it or its partitions."""
        found = find_devices(wwid=self.wwid, **self.paths)
        if not found:
            raise image.RootImageError('no disk with WWID %s on this host: attach the LUN first' % self.wwid,
                                       error_code='not_found')
        disk = found[0]
        self.result['device'] = disk.path
        users = list(disk.mountpoints) + ['held by %s' % holder for holder in disk.holders]
        if disk.multipath:
            users.append('multipath map %s' % disk.multipath)
        if users:
            raise image.RootImageError('%s (WWID %s) is in use: %s' % (disk.path, self.wwid, ', '.join(users)),
                                       error_code='busy', users=users)
        return disk

    def partition(self, disk, wait=0):
        """The root partition's device path, waiting up to WAIT seconds for the kernel to show it."""
        sysfs = self.paths.get('sysfs_root', '/sys')
        for _attempt in range(int(wait) * 2 + 1):
            name = blockdev.partition_devices(disk.name, sysfs).get(image.ROOT_PARTITION)
            if name:
                return os.path.join(os.path.dirname(disk.path), name)
            if wait:
                blockdev.settle(self.runner, timeout=5)
                self.sleep(0.5)
        if wait:
            raise image.RootImageError('the kernel shows no partition %d on %s after partitioning'
                                       % (image.ROOT_PARTITION, disk.path), error_code='io_error')
        return None

    @contextlib.contextmanager
    def mounted(self, device, options):
        """DEVICE mounted (ext4, OPTIONS) on a directory of its own below mount_dir for the block's time."""
        target = os.path.join(self.params['mount_dir'], self.wwid)
        if os.path.ismount(target):
            raise image.RootImageError('%s is already mounted: another run on this LUN?' % target, error_code='busy')
        made = []                   # the directories this run makes, the mount point first: all go afterwards
        directory = target
        while not os.path.isdir(directory):
            made.append(directory)
            directory = os.path.dirname(directory)
        if made:
            os.makedirs(target, 0o700)
        mounts.mount(self.runner, device, target, image.FSTYPE, options)
        try:
            yield target
        finally:
            mounts.umount(self.runner, target)
            for directory in made:
                try:
                    os.rmdir(directory)
                except OSError:     # another run's mount point is in it
                    break

    def marker_of(self, disk):
        """The marker of an image on DISK (its partition mounted read-only, no journal replay), or None."""
        part = self.partition(disk)
        if not part or blockdev.probe(self.runner, part).get('TYPE') != image.FSTYPE:
            return None
        with self.mounted(part, READ_ONLY) as root:
            return image.read_marker(self.read(root, image.MARKER))

    # --- golden --------------------------------------------------------------------------------------

    def golden(self):
        disk = self.find_disk()
        if blockdev.probe(self.runner, disk.path):
            marker = self.marker_of(disk)
            if marker and marker['kind'] == 'golden' and marker.get('complete'):
                return self.report(marker)
            if not marker or marker['kind'] != 'golden':
                raise image.RootImageError(
                    '%s (WWID %s) is not blank and holds no golden image of san.iscsi.root_image; it is never '
                    'overwritten' % (disk.path, self.wwid), error_code='not_blank', marker=marker)
            self.module.warn('%s holds a golden image that an earlier run did not finish; laying it out again'
                             % disk.path)
        elif not blockdev.reads_as_zeros(disk.path):
            raise image.RootImageError('%s (WWID %s) holds data that blkid does not recognize (its first or last MiB '
                                       'is not zero); it is never overwritten' % (disk.path, self.wwid),
                                       error_code='not_blank')
        self.result['changed'] = True
        if self.module.check_mode:
            self.result.update(uuid=None, kernel=None, initrd=None, marker=None, generalized=[],
                               kernel_args=['root=UUID=(new)', 'ro'] + self.kernel_args)
            return self.result
        image.make_layout(self.runner, disk.path)
        blockdev.settle(self.runner)
        part = self.partition(disk, wait=PARTITION_WAIT)
        image.make_filesystem(self.runner, part)
        uuid = blockdev.probe(self.runner, part).get('UUID')
        with self.mounted(part, READ_WRITE) as root:
            self.write(root, image.MARKER, image.marker_text('golden', complete=False, uuid=uuid))
            image.copy_root(self.runner, self.params['source'], root, self.params['exclude'])
            self.result['generalized'] = self.generalize(root)
            pair = image.kernel_pair(root)
            if not pair:
                raise image.RootImageError('%s/boot holds no kernel with an initramfs' % self.params['source'],
                                           error_code='no_kernel')
            kernel, initrd = pair
            self.write(root, 'etc/fstab', image.fstab_with_root(self.read(root, 'etc/fstab'), uuid))
            if self.params['flavor'] == 'initramfs-tools' and os.path.isdir(os.path.join(root, 'etc/iscsi')):
                self.write(root, 'etc/iscsi/iscsi.initramfs', '%s\nISCSI_AUTO=true\n' % image.HEADER)
            self.write(root, 'boot/grub/grub.cfg',
                       image.grub_config(uuid, kernel, initrd, self.kernel_args, self.console))
            image.install_grub(self.runner, root, disk.path)
            marker = dict(complete=True, uuid=uuid, kernel=kernel, initrd=initrd,
                          kernel_args=['root=UUID=%s' % uuid, 'ro'] + self.kernel_args + (
                              ['console=%s' % self.console] if self.console else []))
            self.write(root, image.MARKER, image.marker_text('golden', **marker))
        return self.report(image.read_marker(image.marker_text('golden', **marker)))

    def generalize(self, root):
        remove, empty = image.generalize_paths(root, self.remove)
        for path in remove:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        for path in empty:
            with open(path, 'w'):
                pass
        return sorted('/' + os.path.relpath(path, root) for path in remove + empty)

    def report(self, marker):
        self.result.update(uuid=marker.get('uuid'), kernel=marker.get('kernel'), initrd=marker.get('initrd'),
                           kernel_args=marker.get('kernel_args', []), marker=marker)
        self.result.setdefault('generalized', [])
        return self.result

    # --- personalized --------------------------------------------------------------------------------

    def personalized(self):
        disk = self.find_disk()
        part = self.partition(disk)
        content = blockdev.probe(self.runner, part) if part else {}
        if content.get('TYPE') != image.FSTYPE:
            raise image.RootImageError('%s (WWID %s) holds no root image of san.iscsi.root_image'
                                       % (disk.path, self.wwid), error_code='not_ours')
        # Read-only first, without journal replay, until the marker says the image is ours.
        with self.mounted(part, READ_ONLY) as root:
            marker = image.read_marker(self.read(root, image.MARKER))
            if not marker or not marker.get('complete'):
                raise image.RootImageError('%s (WWID %s) holds no finished image of san.iscsi.root_image; it is '
                                           'never written' % (disk.path, self.wwid), error_code='not_ours')
            changes, wanted_marker = self.plan(root, marker)
        if changes and not self.module.check_mode:
            with self.mounted(part, READ_WRITE) as root:
                self.apply(root, changes)
        self.result['changed'] = bool(changes)
        self.report(wanted_marker)
        if self.module._diff:
            self.result['diff'] = self.diff
        return self.result

    def plan(self, root, marker):
        """[(relative path, text and mode, or 'host_keys')] to write, and the marker they lead to."""
        changes = []
        wanted = image.personal_files(lambda rel: self.read(root, rel), self.hostname, self.initiator,
                                      self.boot_mac)
        wanted_marker = dict(marker, kind='personalized', hostname=self.hostname, initiator=self.initiator,
                             boot_mac=self.boot_mac)
        marker_text = image.marker_text(wanted_marker.pop('kind'), **dict(
            (key, value) for key, value in wanted_marker.items() if key not in ('version', 'made_by')))
        wanted[image.MARKER] = (marker_text, 0o644)
        for rel in sorted(wanted):
            text, mode = wanted[rel]
            if files.record_change(self.result['files'], self.diff, rel, self.read(root, rel), text):
                changes.append((rel, text, mode))
        if self.params['host_keys'] and not image.has_host_keys(root):
            self.result['files'].append({'path': 'etc/ssh/ssh_host_*_key', 'action': 'created'})
            changes.append(('etc/ssh', 'host_keys', None))
        return changes, image.read_marker(marker_text)

    def apply(self, root, changes):
        for rel, text, mode in changes:
            if text == 'host_keys':
                image.contained(root, 'etc/ssh/ssh_host_key')
                image.make_host_keys(self.runner, root)
            else:
                self.write(root, rel, text, mode)
            self.result['changed'] = True

    # --- files in the image --------------------------------------------------------------------------

    def read(self, root, rel):
        return files.read_text(image.contained(root, rel), image.RootImageError)

    def write(self, root, rel, text, mode=0o644):
        files.write_text(self.module, image.contained(root, rel), text, mode, error=image.RootImageError)

    def run(self):
        return self.golden() if self.params['state'] == 'golden' else self.personalized()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            wwid=dict(type='str', required=True),
            state=dict(type='str', required=True, choices=['golden', 'personalized']),
            source=dict(type='path', default='/'),
            exclude=dict(type='list', elements='str', default=[]),
            remove=dict(type='list', elements='str', default=[]),
            flavor=dict(type='str', default='initramfs-tools', choices=['initramfs-tools', 'dracut']),
            kernel_args=dict(type='list', elements='str', default=[]),
            console=dict(type='str'),
            hostname=dict(type='str'),
            initiator=dict(type='str'),
            boot_mac=dict(type='str'),
            host_keys=dict(type='bool', default=True),
            mount_dir=dict(type='path', default='/run/san-iscsi/root-image'),
        ),
        required_if=[('state', 'personalized', ('hostname', 'initiator'))],
        supports_check_mode=True,
    )
    netboot.run_manager(module, RootImage)


if __name__ == '__main__':
    main()
