"""Lab runner callback: at the end of a playbook, the slowest tasks and where a target's time went.

Enabled by lab/labctl.py for every target run (dev tool, not part of the collection). It measures each task
from its start to the start of the next one (or the end of the play), which is the wall time the target
spends on it, handlers and loops included.
"""
from __future__ import annotations

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


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._current = None
        self._times = {}

    def _close(self):
        if self._current is not None:
            name, start = self._current
            self._times[name] = self._times.get(name, 0.0) + time.monotonic() - start
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        path = task.get_path() or ""
        self._current = ("%s (%s)" % (task.get_name(), path.rsplit("/", 3)[-1] if path else "?"), time.monotonic())

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_playbook_on_stats(self, stats):
        self._close()
        # only the runner's own ansible-playbook prints: a nested run (ansible-runner, a README command) that
        # inherited the environment may have its output parsed
        if os.environ.get("SAN_ISCSI_LAB_RUNNER_PID") != str(os.getppid()):
            return
        total = sum(self._times.values())
        self._display.display("task times: %.0f s in %d tasks; the slowest:" % (total, len(self._times)))
        for name, seconds in sorted(self._times.items(), key=lambda item: -item[1])[:SHOWN]:
            self._display.display("  %7.1f s  %s" % (seconds, name))
