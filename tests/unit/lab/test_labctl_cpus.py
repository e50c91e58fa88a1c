# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab runner does not let Mitogen pin what it starts to one CPU: its strategy plugin turns Mitogen's
pinning off, and a diskless guest's QEMU runs on every CPU whatever its caller's pinning."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.san.iscsi.tests.unit.role_files import lab_file, load_file

LAB = lab_file()
labctl = load_file('labctl', lab_file('labctl.py'))

# A child pinned to CPU 0 starts a grandchild through labctl.unpin: the grandchild's CPUs are printed.
PINNED_CALLER = '''
import os, subprocess, sys
sys.path.insert(0, sys.argv[1])
import labctl
os.sched_setaffinity(0, {0})
pinned = subprocess.run(['grep', 'Cpus_allowed_list', '/proc/self/status'], capture_output=True, text=True)
unpinned = subprocess.run(['grep', 'Cpus_allowed_list', '/proc/self/status'], capture_output=True, text=True,
                          preexec_fn=labctl.unpin)
print(pinned.stdout.split()[-1], unpinned.stdout.split()[-1])
'''


@pytest.mark.skipif(not hasattr(os, 'sched_setaffinity') or (os.cpu_count() or 1) < 2, reason='needs 2 CPUs')
def test_unpin_gives_a_pinned_callers_child_every_cpu():
    out = subprocess.run([sys.executable, '-c', PINNED_CALLER, LAB], capture_output=True, text=True, check=True)
    pinned, unpinned = out.stdout.split()
    assert pinned == '0'
    assert unpinned == '0-%d' % (os.cpu_count() - 1)


def test_lab_strategy_is_mitogen_linear_without_pinning():
    affinity = pytest.importorskip('ansible_mitogen.affinity')
    strategy = pytest.importorskip('ansible_mitogen.strategy')
    assert labctl.mitogen_strategy_dir() == os.path.realpath(lab_file('strategy_plugins'))
    plugin = load_file('lab_mitogen_linear', lab_file('strategy_plugins', 'mitogen_linear.py'))
    assert type(affinity.policy) is affinity.Policy  # pylint: disable=unidiomatic-typecheck
    assert issubclass(plugin.StrategyModule, strategy.StrategyMixin)
    assert plugin.StrategyModule.__mro__[2].__module__.endswith('strategy.linear')
