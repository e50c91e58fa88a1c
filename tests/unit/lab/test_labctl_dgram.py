# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab raises the AF_UNIX datagram queue that the fabrics' frames go through (vde_switch and QEMU), never
lowers it, and goes on with a warning where it may not change it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.tests.unit.role_files import lab_file, load_file

labctl = load_file('labctl', lab_file('labctl.py'))


def test_the_kernels_default_is_raised(tmp_path, capsys):
    qlen = tmp_path / 'max_dgram_qlen'
    qlen.write_text('10\n')
    assert labctl.raise_unix_dgram_queue(qlen, 512) == 512
    assert qlen.read_text() == '512\n'
    assert 'raised from 10 to 512' in capsys.readouterr().out


def test_a_larger_queue_is_left_alone(tmp_path, capsys):
    qlen = tmp_path / 'max_dgram_qlen'
    qlen.write_text('1024\n')
    assert labctl.raise_unix_dgram_queue(qlen, 512) == 1024
    assert qlen.read_text() == '1024\n'
    assert capsys.readouterr().out == ''


def test_a_queue_that_cannot_be_changed_is_a_warning(tmp_path, monkeypatch, capsys):
    qlen = tmp_path / 'max_dgram_qlen'
    qlen.write_text('10\n')

    def refuse(*_args, **_kwargs):
        raise PermissionError('read-only file system')
    monkeypatch.setattr(type(qlen), 'write_text', refuse)
    assert labctl.raise_unix_dgram_queue(qlen, 512) == 10
    assert 'cannot be raised' in capsys.readouterr().out


def test_no_such_setting_changes_nothing(tmp_path):
    assert labctl.raise_unix_dgram_queue(tmp_path / 'absent', 512) is None
    assert not (tmp_path / 'absent').exists()
