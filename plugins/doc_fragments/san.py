# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options shared by igroup, lun, lun_map, snapshot and san_info.
    # Set them once with module_defaults: {group/san.iscsi.san: {...}}.
    DOCUMENTATION = r'''
options:
  provider:
    description:
      - The storage array type.
      - C(ontap) talks to a NetApp ONTAP cluster or SVM management interface over HTTPS (REST, or ZAPI
        through netapp-lib).
      - C(lio) manages the Linux LIO target of the host the module runs on (use C(delegate_to) the
        storage host); needs the python3-rtslib-fb library there.
    type: str
    required: true
    choices: [ontap, lio]
  hostname:
    description:
      - ONTAP cluster or SVM management address. Required with O(provider=ontap).
    type: str
  username:
    description:
      - ONTAP user name. Required with O(provider=ontap).
    type: str
    aliases: [user]
  password:
    description:
      - ONTAP password. Never logged.
    type: str
    aliases: [pass]
  https:
    description:
      - Use HTTPS. Keep the default outside tests.
    type: bool
    default: true
  validate_certs:
    description:
      - Verify the array's TLS certificate. A verification failure is an error.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA (or self-signed certificate) to trust for the ONTAP management address.
    type: path
  http_port:
    description:
      - Port of the ONTAP management interface; default 443 (HTTPS) or 80 (HTTP).
    type: int
  use_rest:
    description:
      - C(auto) uses the REST API when the cluster offers it (ONTAP 9.6 or later), ZAPI otherwise.
      - C(always) uses REST only; C(never) uses ZAPI only (needs the netapp-lib Python library).
    type: str
    default: auto
    choices: [auto, always, never]
  vserver:
    description:
      - ONTAP SVM (vserver) that owns the igroups, LUNs and volumes. Required with O(provider=ontap).
    type: str
  timeout:
    description:
      - Seconds to wait for each HTTP request to ONTAP.
    type: int
    default: 60
  job_timeout:
    description:
      - Seconds to wait for an ONTAP asynchronous job (snapshot create/delete, LUN clone) to finish.
    type: int
    default: 120
  target:
    description:
      - LIO only. IQN of the LIO iSCSI target whose portal group holds the igroups (node ACLs) and LUNs.
      - Required with O(provider=lio) by modules that touch igroups or maps.
    type: str
  tpg:
    description:
      - LIO only. Target portal group tag.
    type: int
    default: 1
  portals:
    description:
      - LIO only. Portals (C(ADDRESS) or C(ADDRESS:PORT), IPv6 as C([ADDRESS]:PORT); default port 3260) of the
        target portal group when the module creates it.
      - When O(target) or its portal group O(tpg) does not exist and O(portals) is given, the first igroup
        creation creates the target and portal group with exactly these portals (never the 0.0.0.0 wildcard),
        C(generate_node_acls=0), and enables it. Without O(portals) a missing target is an error.
      - Portals of an existing portal group are never changed.
    type: list
    elements: str
  save_file:
    description:
      - LIO only. File the whole LIO configuration is saved to, atomically, after every change, so that it
        survives a reboot of the storage host.
      - Default is the file of the installed rtslib (C(/etc/rtslib-fb-target/saveconfig.json) on Debian and
        Ubuntu, restored at boot by C(rtslib-fb-targetctl); C(/etc/target/saveconfig.json) on RHEL).
    type: path
notes:
  - Modules never branch on O(provider); the backend chosen by it maps the same options onto the array.
  - A failure reported by the array or by the checks of these modules has C(msg) and C(error_code); playbooks
    and roles test C(error_code), never C(msg).
  - Errors from ONTAP carry ONTAP's own error code in C(error_code) and its message in C(msg).
  - These refusals have a code of their own on every O(provider) - C(igroup_not_found) (the igroup does not
    exist, or vanished before the LUN map was made), C(igroup_mapped) (an igroup with LUN maps is not deleted
    without C(force=true)), C(lun_not_found) (the LUN to map or snapshot does not exist); when it replaces
    an ONTAP code, that code is in C(array_error_code).
  - Any other failure without an ONTAP code has C(error_code) C(not_found), C(conflict), C(invalid),
    C(connection), C(auth) or C(san_error), by kind.
requirements:
  - ONTAP with O(use_rest=never) or a cluster without REST, the netapp-lib Python library.
  - LIO, python3-rtslib-fb and LVM on the storage host.
'''
