# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a host keeps what the seams read: the one object that names a host's roots.

Seams and module managers take a HostPaths; a module's main(paths=None) uses the real host's, and unit
tests build one on a fake tree instead of patching module globals.
Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


class HostPaths(object):
    """sysfs, /dev, /proc, mountinfo and udev's database; open-iscsi's node and SendTargets databases and its
    initiator-name file; LVM's
    devices file, runtime, backup and archive directories; where copy-on-write overlays keep their scratch files;
    autofs' master map, its drop-in directory and the directory of map files (/etc/auto.<name>).

    node_db_dirs, sendtargets_db_dirs: the directories to look in, first existing wins; None means the
    iscsiadm seam's defaults (/etc/iscsi/..., then /var/lib/iscsi/...)."""

    def __init__(self, sysfs='/sys', dev='/dev', proc='/proc', udev_db='/run/udev/data', mountinfo=None,
                 node_db_dirs=None, sendtargets_db_dirs=None, lvm_devices_dir='/etc/lvm/devices',
                 lvm_online_dir='/run/lvm', lvm_backup_dir='/etc/lvm/backup', lvm_archive_dir='/etc/lvm/archive',
                 overlay_dir='/run/san-iscsi', initiator_file='/etc/iscsi/initiatorname.iscsi',
                 autofs_master='/etc/auto.master', autofs_master_d='/etc/auto.master.d', autofs_map_dir='/etc'):
        self.sysfs = sysfs
        self.dev = dev
        self.proc = proc
        self.udev_db = udev_db
        self.mountinfo = mountinfo or os.path.join(proc, 'self', 'mountinfo')
        self.node_db_dirs = node_db_dirs
        self.sendtargets_db_dirs = sendtargets_db_dirs
        self.lvm_devices_dir = lvm_devices_dir
        self.lvm_online_dir = lvm_online_dir
        self.lvm_backup_dir = lvm_backup_dir
        self.lvm_archive_dir = lvm_archive_dir
        self.overlay_dir = overlay_dir
        self.initiator_file = initiator_file
        self.autofs_master = autofs_master
        self.autofs_master_d = autofs_master_d
        self.autofs_map_dir = autofs_map_dir
