# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab guest whose kernel panics during boot: the lab counts the panic (not the panic's trailer line), keeps
the console, waits for the guest's own reboot once, and gives up at once on a second panic."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from ansible_collections.san.iscsi.tests.unit.role_files import lab_file, load_file

labctl = load_file('labctl', lab_file('labctl.py'))

# The end of the console of the guest that CI lost at stop 39 (QEMU TCG, 2 s into the boot).
PANIC = '''[    2.035865] CR2: ffff8a942aa01000 CR3: 0000000029a22000 CR4: 00000000000006f0
[    2.035865] Kernel panic - not syncing: Fatal exception in interrupt
[    2.035865] ---[ end Kernel panic - not syncing: Fatal exception in interrupt ]---
'''
BOOT = '''[    0.000000] Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org)
[    0.000000] Command line: console=ttyS0 root=/dev/vda rw panic=5
[    1.204511] virtio_blk virtio2: [vda] 4194304 512-byte logical blocks (2.15 GB/2.00 GiB)
'''


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setattr(labctl, 'LOG_DIR', tmp_path / 'output')
    logged = []
    monkeypatch.setattr(labctl, 'log', logged.append)
    workdir = tmp_path / 'sil-test'
    workdir.mkdir()
    guests = labctl.Lab(workdir, 'test')
    guests.logged = logged
    return guests


@pytest.mark.parametrize('text, count', [
    ('', 0),
    (BOOT, 0),
    (BOOT + PANIC, 1),
    (BOOT + PANIC + BOOT, 1),
    (BOOT + PANIC + BOOT + PANIC, 2),
])
def test_panic_count_counts_panics_not_trailers(tmp_path, text, count):
    console = tmp_path / 'san.console'
    console.write_text(text)
    assert labctl.panic_count(console) == count


def test_panic_count_of_a_missing_console_is_zero(tmp_path):
    assert labctl.panic_count(tmp_path / 'absent.console') == 0


def test_a_new_panic_is_logged_once_and_its_console_kept(lab):
    lab.console('san').write_text(BOOT + PANIC)
    seen = {}
    assert lab._note_panics('san', seen) == 1
    assert lab._note_panics('san', seen) == 1
    assert len(lab.logged) == 1
    assert 'guest san: kernel panic during boot' in lab.logged[0]
    kept = labctl.LOG_DIR / 'panic-san.console'
    assert kept.read_text() == BOOT + PANIC
    assert str(kept) in lab.logged[0]


def test_waiting_for_ssh_gives_up_at_once_on_a_second_panic(lab, monkeypatch):
    lab.state['pids'] = {guest.name: 1 for guest in labctl.GUESTS}
    lab.state['ports'] = {guest.name: 22 for guest in labctl.GUESTS}
    monkeypatch.setattr(labctl, 'pid_alive', lambda pid: True)
    monkeypatch.setattr(labctl, 'run', lambda *args, **kwargs: subprocess.CompletedProcess(args, 255, '', ''))
    monkeypatch.setattr(labctl.time, 'sleep', lambda secs: pytest.fail('waited for a guest that panicked twice'))
    lab.console('san').write_text(BOOT + PANIC + BOOT + PANIC)
    with pytest.raises(labctl.LabError, match='guest san: a kernel panic on two boots in a row'):
        lab._wait_for_ssh({})


def test_waiting_for_ssh_goes_on_after_one_panic(lab, monkeypatch):
    lab.state['pids'] = {guest.name: 1 for guest in labctl.GUESTS}
    lab.state['ports'] = {guest.name: 22 for guest in labctl.GUESTS}
    monkeypatch.setattr(labctl, 'pid_alive', lambda pid: True)
    monkeypatch.setattr(labctl, 'run', lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, '', ''))
    lab.console('san').write_text(BOOT + PANIC + BOOT)
    boot = lab._wait_for_ssh({})
    assert sorted(boot) == sorted(guest.name for guest in labctl.GUESTS)
    assert [line for line in lab.logged if 'kernel panic' in line] != []


def test_teardown_keeps_the_console_of_a_guest_that_panicked(lab):
    lab.console('host1').write_text(BOOT + PANIC + BOOT)
    lab.console('host2').write_text(BOOT)
    lab.stop()
    assert (labctl.LOG_DIR / 'panic-host1.console').is_file()
    assert not (labctl.LOG_DIR / 'panic-host2.console').exists()
    assert not lab.dir.exists()
    assert any('guest host1 had a kernel panic' in line for line in lab.logged)


def test_a_lab_guest_boots_with_panic_reboot(lab, monkeypatch, tmp_path):
    commands = []
    monkeypatch.setattr(labctl, 'run', lambda cmd, **kwargs: commands.append(cmd) or subprocess.CompletedProcess(cmd, 0, '', ''))
    monkeypatch.setattr(labctl.Lab, '_read_pid', staticmethod(lambda pidfile: 1))
    lab._start_guest(labctl.GUESTS[0], tmp_path / 'image')
    qemu = [cmd for cmd in commands if cmd[0] == 'qemu-system-x86_64']
    assert len(qemu) == 1
    append = qemu[0][qemu[0].index('-append') + 1].split()
    assert 'panic=%d' % labctl.PANIC_REBOOT_SECONDS in append
    assert labctl.PANIC_REBOOT_SECONDS > 0


def test_a_guest_whose_qemu_died_during_boot_is_started_again_once(lab, monkeypatch):
    lab.state['pids'] = {guest.name: 1 for guest in labctl.GUESTS}
    lab.state['ports'] = {guest.name: 22 for guest in labctl.GUESTS}
    started = []

    def start_guest(guest, image):
        started.append((guest.name, image))
        lab.state['pids'][guest.name] = 2
    monkeypatch.setattr(lab, '_start_guest', start_guest)
    monkeypatch.setattr(lab, '_write_inventory', lambda: None)
    monkeypatch.setattr(labctl, 'pid_alive', lambda pid: pid != 1)
    monkeypatch.setattr(labctl, 'run', lambda *args, **kwargs: subprocess.CompletedProcess(args, 0, '', ''))
    lab.console('host2').write_text(BOOT)
    images = {'bookworm': 'img-bookworm', 'trixie': 'img-trixie'}
    boot = lab._wait_for_ssh(images)
    assert sorted(started) == sorted((guest.name, images[guest.suite]) for guest in labctl.GUESTS)
    assert sorted(boot) == sorted(guest.name for guest in labctl.GUESTS)
    assert (labctl.LOG_DIR / 'died-host2.console').read_text() == BOOT


def test_a_guest_whose_qemu_dies_twice_fails_the_lab(lab, monkeypatch):
    lab.state['pids'] = {guest.name: 1 for guest in labctl.GUESTS}
    lab.state['ports'] = {guest.name: 22 for guest in labctl.GUESTS}
    monkeypatch.setattr(lab, '_start_guest', lambda guest, image: None)
    monkeypatch.setattr(lab, '_write_inventory', lambda: None)
    monkeypatch.setattr(labctl, 'pid_alive', lambda pid: False)
    monkeypatch.setattr(labctl.time, 'sleep', lambda secs: None)
    with pytest.raises(labctl.LabError, match='died during boot twice'):
        lab._wait_for_ssh({'bookworm': 'a', 'trixie': 'b'})
