# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module_utils the snapshot_automount role copies next to each program are exactly what the program imports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
UTILS = os.path.join(ROOT, 'plugins', 'module_utils')
FILES = os.path.join(ROOT, 'roles', 'snapshot_automount', 'files')
IMPORT_RE = re.compile(r'module_utils(?:\._(\w+)| import (_\w+(?:, _\w+)*))')
# the backends _san_factory imports when chosen: LIO's on the storage host, ONTAP REST's on the browse host (the
# helper forces REST, so ZAPI's is never imported there)
ONTAP_ONLY = {'_san_ontap_base', '_san_ontap_rest', '_san_ontap_zapi'}
LIO_ONLY = {'_san_lio'}


def imported(path):
    with open(path) as handle:
        text = handle.read()
    names = set()
    for single, several in IMPORT_RE.findall(text):
        names.update(['_' + single] if single else several.split(', '))
    return names


def closure(roots, excluded):
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name not in seen and name not in excluded:
            seen.add(name)
            todo.extend(imported(os.path.join(UTILS, name + '.py')))
    return seen


def role_vars():
    with open(os.path.join(ROOT, 'roles', 'snapshot_automount', 'vars', 'main.yml')) as handle:
        return yaml.safe_load(handle)


def test_browse_host_copies_what_the_program_map_imports():
    assert set(role_vars()['__snapshot_automount_browse_utils']) == closure(
        imported(os.path.join(FILES, 'automount.py')), ONTAP_ONLY | LIO_ONLY)


def test_storage_host_copies_what_the_san_helper_imports():
    assert set(role_vars()['__snapshot_automount_san_utils']) == closure(
        imported(os.path.join(FILES, 'automount_san.py')) | LIO_ONLY, ONTAP_ONLY)


def test_browse_host_copies_what_the_san_helper_imports_for_ontap():
    assert set(role_vars()['__snapshot_automount_ontap_utils']) == closure(
        imported(os.path.join(FILES, 'automount_san.py')) | {'_san_ontap_base', '_san_ontap_rest'},
        LIO_ONLY | {'_san_ontap_zapi'})


def test_the_programs_hold_no_jinja_delimiters():
    # the role installs them through a templated copy content (to put the interpreter line in front)
    for name in ('automount.py', 'automount_san.py'):
        with open(os.path.join(FILES, name)) as handle:
            text = handle.read()
        assert not re.search(r'\{\{|\{%|\{#', text), name
