"""Lab runner strategy: Mitogen's mitogen_linear, without Mitogen's CPU pinning.

Enabled by lab/labctl.py for every target run under Mitogen (dev tool, not part of the collection). On a
machine with 2 or 3 CPUs, ansible_mitogen.affinity pins the multiplexer to CPU 0 and the top-level process, its
workers and every process they start to CPU 1: a diskless guest's QEMU started by a task, a nested
ansible-playbook, the ONTAP emulator. Both diskless guests of iscsi_root_golden then shared one core and took
about twice as long to boot as under stock Ansible (dev lab, 2026-12-05: power-on to SSH 411 s against 263 s,
a reboot 512 s against 242 s). The lab's QEMU guests, started by `labctl up`, are not pinned; the runner's own
processes should not be either, so that the kernel spreads the work over both cores.
"""
from __future__ import annotations

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.strategy

# The base Policy's methods do nothing: no process is pinned, and none has its pinning cleared.
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

Base = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Base):
    """mitogen_linear, as ansible_mitogen/plugins/strategy/mitogen_linear.py defines it."""
