# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures for the unit tests (see module_runner.py for how to use run_module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.tests.unit.module_runner import call_main, patch_exits


@pytest.fixture
def run_module(monkeypatch):
    """run_module(module, args, check_mode=False, diff=False) -> exit_json dict; fail_json raises ModuleFailed."""
    patch_exits(monkeypatch)
    return call_main
