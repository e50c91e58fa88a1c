"""Lab runner callback: at the end of a playbook, the slowest tasks and where a target's time went.

Enabled by lab/labctl.py for every target run (dev tool, not part of the collection). It measures each task
from its start to the start of the next one (or the end of the play), which is the wall time the target
spends on it, handlers and loops included.

With SAN_ISCSI_LAB_GUEST_PIDS set (JSON, guest name -> its QEMU process id; the benchmarks set it), it also
measures the CPU time each guest's QEMU process used during each task, and prints it beside the wall time: under
TCG the guests' CPU, on the machine's few cores, is what bounds a run.
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: print the slowest tasks of a run
description: Prints the wall time of the slowest tasks when the playbook ends.
options: {}
"""

SHOWN = 15


def cpu_seconds(pid):
    """User plus system CPU time of process PID (all its threads: a TCG guest's vCPUs included), or None when
    it cannot be read. Also used by benchmarks/migrate_playbook.py."""
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._current = None
        self._times = {}
        self._cpu = {}  # task -> {guest: CPU seconds}
        try:
            self._guests = json.loads(os.environ.get("SAN_ISCSI_LAB_GUEST_PIDS") or "{}")
        except ValueError:
            self._guests = {}

    def _guest_cpu(self):
        """{guest: CPU seconds of its QEMU process so far} (user plus system, all threads)."""
        found = {}
        for name, pid in self._guests.items():
            seconds = cpu_seconds(pid)
            if seconds is not None:
                found[name] = seconds
        return found

    def _close(self):
        if self._current is not None:
            name, start, cpu = self._current
            self._times[name] = self._times.get(name, 0.0) + time.monotonic() - start
            spent = self._cpu.setdefault(name, {})
            for guest, seconds in self._guest_cpu().items():
                spent[guest] = spent.get(guest, 0.0) + seconds - cpu.get(guest, seconds)
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        path = task.get_path() or ""
        self._current = ("%s (%s)" % (task.get_name(), path.rsplit("/", 3)[-1] if path else "?"), time.monotonic(),
                         self._guest_cpu())

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_playbook_on_stats(self, stats):
        self._close()
        # only the runner's own ansible-playbook prints: a nested run (ansible-runner, a README command) that
        # inherited the environment may have its output parsed
        if os.environ.get("SAN_ISCSI_LAB_RUNNER_PID") != str(os.getppid()):
            return
        total = sum(self._times.values())
        self._display.display("task times: %.0f s in %d tasks; the slowest:" % (total, len(self._times)))
        guests = sorted(self._guests)
        if guests:
            self._display.display("  (wall, then the CPU seconds of the guests %s)" % " ".join(guests))
        for name, seconds in sorted(self._times.items(), key=lambda item: -item[1])[:SHOWN]:
            cpu = self._cpu.get(name, {})
            used = "  [%s]" % " ".join("%4.1f" % cpu.get(guest, 0.0) for guest in guests) if guests else ""
            self._display.display("  %7.1f s%s  %s" % (seconds, used, name))
