# -*- coding: utf-8 -*-
# Copyright: (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Descriptions of the attributes of the array-side modules (igroup, lun, lun_map, snapshot, san_info).
    # Each module states its own check_mode and diff_mode support:
    #   extends_documentation_fragment: [san.iscsi.attributes, san.iscsi.attributes.platform]
    #   attributes: {check_mode: {support: full}, diff_mode: {support: none}}
    DOCUMENTATION = r'''
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the array.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
'''

    # The module talks to the array (ONTAP over HTTPS, or the LIO target of the host it runs on).
    PLATFORM = r'''
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
'''
