# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _iscsid as iscsid
from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_blockdev import FakeModule

DEBIAN_FILE = ('## DO NOT EDIT OR REMOVE THIS FILE!\n'
               '## If you remove this file, the iSCSI daemon will not start.\n'
               'InitiatorName=iqn.1993-08.org.debian:01:5b1d9f7e3a2c\n')
IS_ACTIVE = ['/usr/bin/timeout', '-k', '5', '60', '/sbin/systemctl', 'is-active', 'iscsid.service']
TRY_RESTART = ['/usr/bin/timeout', '-k', '5', '120', '/sbin/systemctl', 'try-restart', 'iscsid.service']


# --- the initiator-name file ---------------------------------------------------------------------------

def test_read_initiator_of_the_debian_file(tmp_path):
    path = tmp_path / 'initiatorname.iscsi'
    path.write_text(DEBIAN_FILE)
    assert iscsid.read_initiator(str(path)) == {'name': 'iqn.1993-08.org.debian:01:5b1d9f7e3a2c', 'alias': None}


def test_read_initiator_of_a_missing_file(tmp_path):
    assert iscsid.read_initiator(str(tmp_path / 'nope')) == {'name': None, 'alias': None}


@pytest.mark.parametrize('lines, expected', [
    (['  InitiatorName=iqn.2026-11.lab:a  ', 'InitiatorAlias=browse host'], 'iqn.2026-11.lab:a'),
    (['InitiatorName=iqn.2026-11.lab:a', 'InitiatorName=iqn.2026-11.lab:b'], 'iqn.2026-11.lab:b'),  # last wins
    (['InitiatorName=iqn.2026-11.lab:a', 'InitiatorName='], 'iqn.2026-11.lab:a'),  # an empty one does not count
    (['#InitiatorName=iqn.2026-11.lab:a'], None),
    (['InitiatorName = iqn.2026-11.lab:a'], None),  # iscsid reads the key only as `InitiatorName=`
    (['InitiatorNameX=iqn.2026-11.lab:a'], None),
])
def test_initiator_value_is_what_iscsid_reads(lines, expected):
    assert iscsid.initiator_value(lines, 'InitiatorName') == expected


# --- restart -----------------------------------------------------------------------------------------------

def test_restart_of_a_running_iscsid():
    module = FakeModule([(['/sbin/systemctl', 'is-active'], (0, 'active\n', '')),
                         (['/sbin/systemctl', 'try-restart'], (0, '', ''))])
    assert iscsid.restart_iscsid(module, 'no systemctl') is True
    assert module.commands == [IS_ACTIVE, TRY_RESTART]
    assert all(environ['LC_ALL'] == 'C' for environ in module.environ)


def test_restart_in_check_mode_only_asks():
    module = FakeModule([(['/sbin/systemctl', 'is-active'], (0, 'active\n', ''))])
    module.check_mode = True
    assert iscsid.restart_iscsid(module, 'no systemctl') is True
    assert module.commands == [IS_ACTIVE]


def test_iscsid_not_running_is_left_alone():
    module = FakeModule([(['/sbin/systemctl', 'is-active'], (3, 'inactive\n', ''))])
    assert iscsid.restart_iscsid(module, 'no systemctl') is False
    assert module.commands == [IS_ACTIVE]


def test_without_systemctl_the_caller_s_warning_is_given():
    module = FakeModule(missing=['systemctl'])
    assert iscsid.restart_iscsid(module, 'systemctl not found: restart iscsid yourself') is False
    assert module.warnings == ['systemctl not found: restart iscsid yourself']
    assert module.commands == []


def test_failed_restart_carries_the_command_and_its_output():
    module = FakeModule([(['/sbin/systemctl', 'is-active'], (0, 'active\n', '')),
                         (['/sbin/systemctl', 'try-restart'], (1, '', 'Job for iscsid.service failed.\n'))])
    with pytest.raises(CommandError) as failed:
        iscsid.restart_iscsid(module, 'no systemctl')
    assert (failed.value.cmd, failed.value.rc, failed.value.stderr) == (
        TRY_RESTART, 1, 'Job for iscsid.service failed.\n')
