# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared fixtures for the unit tests (see module_runner.py for how to use run_module)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.san.iscsi.tests.unit.module_runner import call_main, patch_exits


@pytest.fixture
def run_module(monkeypatch):
    """run_module(module, args, check_mode=False, diff=False) -> exit_json dict; fail_json raises ModuleFailed.

    The module runs as in a module process: once a test of this session has imported Ansible's controller code
    (the templar, in tests/unit/extensions), ansible-core routes module warnings to the controller's display,
    and the module's result would lose them."""
    from ansible.module_utils import _internal
    monkeypatch.setattr(_internal, 'is_controller', False)
    patch_exits(monkeypatch)
    return call_main


@pytest.fixture(autouse=True)
def host_lock_in_tmp(monkeypatch, tmp_path):
    """Modules take the host lock and prepare open-iscsi's lock directory: in the test's tmp_path, not in /run."""
    from ansible_collections.san.iscsi.plugins.module_utils import _host_lock, _iscsiadm
    monkeypatch.setattr(_host_lock, 'HOST_LOCK_PATH', str(tmp_path / 'run-lock' / 'san.iscsi.lock'))
    monkeypatch.setattr(_host_lock, '_LOCKS', {})
    monkeypatch.setattr(_iscsiadm, 'IDBM_LOCK_DIRS', (str(tmp_path / 'run-lock' / 'iscsi'),))


@pytest.fixture
def http(monkeypatch):
    """A scripted ONTAP REST seam (tests/doubles/ontap_fakes.FakeRest); every expected request must be sent."""
    from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import FakeRest
    fake = FakeRest().install(monkeypatch)
    yield fake
    fake.done()


@pytest.fixture
def zapi(monkeypatch):
    """A scripted ONTAP ZAPI seam (tests/doubles/ontap_fakes.FakeZapiOpener); every expected call must be sent."""
    from ansible_collections.san.iscsi.tests.doubles.ontap_fakes import FakeZapiOpener
    fake = FakeZapiOpener().install(monkeypatch)
    yield fake
    fake.done()


@pytest.fixture
def no_sleep(monkeypatch):
    """The ONTAP REST backend's waits (job polls, retry backoff) return at once."""
    from ansible_collections.san.iscsi.plugins.module_utils import _san_ontap_rest
    monkeypatch.setattr(_san_ontap_rest.time, 'sleep', lambda seconds: None)
