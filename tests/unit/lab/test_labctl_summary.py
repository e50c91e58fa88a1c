# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The integration runner's summary ends with what failed, so a CI view that keeps only the last lines of
the output still names the failed target and its task."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.san.iscsi.tests.unit.role_files import lab_file, load_file

labctl = load_file('labctl', lab_file('labctl.py'))

LOG = '''PLAY [Integration target x] ***

TASK [x : Volume group | host1 - export] ***************************************
ok: [localhost -> host1]

TASK [x : Volume group | host2 - refused] **************************************
fatal: [localhost -> host2]: FAILED! => {"changed": false, "error_code": "vg_in_use"} ...ignoring

TASK [x : Volume group | host2 - take it over] *********************************
fatal: [localhost -> host2]: FAILED! => {"changed": false, "msg": "importing vgmove failed with exit code 5"}

TASK [x : cleanup] ***
fatal: [localhost]: FAILED! => {"msg": "later"}
'''


def test_failure_reason_names_the_first_failed_task_not_an_ignored_one():
    reason = labctl.failure_reason(LOG.splitlines())
    assert reason.splitlines()[0] == 'TASK [x : Volume group | host2 - take it over]'
    assert 'importing vgmove failed with exit code 5' in reason and 'later' not in reason


def test_failure_reason_cuts_long_lines():
    reason = labctl.failure_reason(['TASK [t] ***', 'fatal: [localhost]: FAILED! => ' + 'x' * 5000], width=100)
    assert max(len(line.strip()) for line in reason.splitlines()) == 100


def test_summary_ends_with_the_failed_targets(capsys):
    results = [('lun_mount', True, 100.0, ''), ('session', False, 50.0, 'TASK [s]\n      fatal: boom')]
    labctl.print_summary(results, 120.0, 2)
    out = capsys.readouterr().out.splitlines()
    assert out[-3:] == ['  failed: session: TASK [s]', '      fatal: boom', 'integration: 1 passed, 1 failed']


def test_serial_targets_run_first_after_smoke(tmp_path, monkeypatch):
    """A serial target met mid-run waits for the running target to end, a core idle meanwhile: they go first."""
    for name, aliases in (('alpha', 'lab\n'), ('beta', 'lab\nserial\n'), ('smoke', 'lab\n'),
                          ('gamma', 'lab\nserial  # why\n'), ('delta', 'lab\ndisabled\n')):
        (tmp_path / name / 'tasks').mkdir(parents=True)
        (tmp_path / name / 'tasks' / 'main.yml').write_text('---\n')
        (tmp_path / name / 'aliases').write_text(aliases)
    monkeypatch.setattr(labctl, 'TARGETS_DIR', tmp_path)
    assert labctl.select_targets([]) == ['smoke', 'beta', 'gamma', 'alpha']
    assert labctl.select_targets(['alpha', 'gamma']) == ['gamma', 'alpha']


def test_targets_of_one_exclusive_group_never_run_together(tmp_path, monkeypatch):
    """Targets that write the same host-wide file share an `exclusive/` alias; a serial target runs alone."""
    for name, aliases in (('alpha', 'lab exclusive/wwids\n'), ('beta', 'lab\nexclusive/wwids  # why\n'),
                          ('gamma', 'lab\n'), ('delta', 'lab serial\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'aliases').write_text(aliases)
    monkeypatch.setattr(labctl, 'TARGETS_DIR', tmp_path)
    alpha, beta, gamma, delta = [(name, 'mitogen') for name in ('alpha', 'beta', 'gamma', 'delta')]
    assert labctl.next_startable([beta, gamma], [alpha]) == 1  # beta waits, gamma goes ahead of it
    assert labctl.next_startable([beta], [(alpha[0], 'stock')]) is None  # the group holds across strategies
    assert labctl.next_startable([beta, gamma], [gamma]) == 0
    assert labctl.next_startable([beta, gamma], []) == 0
    assert labctl.next_startable([delta, gamma], [alpha]) is None  # nothing overtakes a serial target
    assert labctl.next_startable([delta, gamma], []) == 0
    assert labctl.next_startable([gamma], [delta]) is None
    assert labctl.next_startable([('demo', 'mitogen')], [alpha]) == 0


def test_controller_only_targets_fill_the_core_a_serial_target_leaves_idle(tmp_path, monkeypatch):
    for name, aliases in (('ctl', 'controller\n'), ('ser', 'lab serial\n'), ('lab1', 'lab\n'), ('ser2', 'lab serial\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'aliases').write_text(aliases)
    monkeypatch.setattr(labctl, 'TARGETS_DIR', tmp_path)
    ctl, ser, lab1, ser2 = [(name, 'mitogen') for name in ('ctl', 'ser', 'lab1', 'ser2')]
    assert labctl.next_startable([lab1, ctl], [ser]) == 1  # the lab target waits, the controller one runs
    assert labctl.next_startable([ser2, ctl], [lab1]) == 1  # behind a waiting serial target, only controller ones
    assert labctl.next_startable([ser2, lab1], [lab1]) is None
    assert labctl.next_startable([ser2, lab1], [ctl]) == 0  # a serial target starts beside a controller one
    assert labctl.next_startable([ser2], [ser]) is None  # never two serial targets
    assert labctl.next_startable([ctl], [ctl]) is None  # a target never beside itself


def test_a_target_never_runs_beside_itself_under_the_other_strategy(tmp_path, monkeypatch):
    for name in ('alpha', 'beta'):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'aliases').write_text('lab\n')
    monkeypatch.setattr(labctl, 'TARGETS_DIR', tmp_path)
    assert labctl.next_startable([('alpha', 'stock'), ('beta', 'stock')], [('alpha', 'mitogen')]) == 1
    assert labctl.next_startable([('demo', 'stock')], [('demo', 'mitogen')]) is None


def test_a_full_run_starts_smoke_then_serial_from_the_shortest_then_the_longest(tmp_path, monkeypatch):
    for name, aliases in (('smoke', 'lab\n'), ('ser', 'lab serial\n'), ('ser_short', 'lab serial\n'),
                          ('ser_unknown', 'lab serial\n'), ('short', 'lab\n'), ('long', 'lab\n'), ('mid', 'lab\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'aliases').write_text(aliases)
    monkeypatch.setattr(labctl, 'TARGETS_DIR', tmp_path)
    typical = {'long': 500, 'mid [stock]': 300, 'mid': 100, 'ser': 900, 'ser_short': 10}
    monkeypatch.setattr(labctl, 'TYPICAL_SECONDS', typical)
    jobs = [('long', 'mitogen'), ('mid', 'mitogen'), ('ser', 'mitogen'), ('short', 'mitogen'), ('smoke', 'mitogen'),
            ('mid', 'stock'), ('demo', 'stock'), ('ser_unknown', 'mitogen'), ('ser_short', 'mitogen')]
    assert [labctl.job_label(job) for job in labctl.longest_first(jobs)] == [
        'smoke', 'ser_short', 'ser_unknown', 'ser', 'long', 'mid [stock]', 'mid', 'demo [stock]', 'short']


def test_san_only_targets_run_beside_a_serial_one_but_not_beside_the_san_restart(tmp_path, monkeypatch):
    """A target that touches only the SAN guest fills the core a serial target leaves idle, and never holds a
    serial target back; the serial target that restarts the SAN guest keeps it out through their shared group."""
    for name, aliases in (('san1', 'lab san_only exclusive/san_guest\n'), ('san2', 'lab\nsan_only exclusive/san_guest\n'),
                          ('ser', 'lab serial\n'), ('reboot', 'lab serial exclusive/san_guest\n'), ('lab1', 'lab\n'),
                          ('ctl', 'controller\n')):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'aliases').write_text(aliases)
    monkeypatch.setattr(labctl, 'TARGETS_DIR', tmp_path)
    san1, san2, ser, reboot, lab1, ctl = [(name, 'mitogen') for name in ('san1', 'san2', 'ser', 'reboot', 'lab1', 'ctl')]
    assert labctl.next_startable([lab1, san1], [ser]) == 1  # the lab target waits, the SAN-only one runs
    assert labctl.next_startable([ser, lab1], [san1]) == 0  # a serial target starts beside a SAN-only one
    assert labctl.next_startable([ser, san1], [lab1]) == 1  # behind a waiting serial target, SAN-only ones go
    assert labctl.next_startable([san1], [reboot]) is None  # not beside the SAN's restart
    assert labctl.next_startable([reboot, lab1], [san1]) is None  # the restart waits for it; nothing overtakes
    assert labctl.next_startable([reboot], [ctl]) == 0
    assert labctl.next_startable([san2], [san1]) is None  # one SAN-only target at a time
    assert labctl.next_startable([san1], [lab1]) == 0  # beside any other target, as before
    assert not labctl.is_san_only(('demo', 'stock'))
