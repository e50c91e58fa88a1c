# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The helper programs roles ship in their files/ directory, and the lab's Python files, loaded as modules for
unit tests."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')


def role_file(role, name):
    """The path of roles/ROLE/files/NAME."""
    return os.path.join(ROOT, 'roles', role, 'files', name)


def load_file(module_name, path):
    """The Python file PATH as a module named MODULE_NAME."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_role_file(role, name):
    """roles/ROLE/files/NAME (a Python program) as a module named after the file."""
    return load_file(os.path.splitext(name)[0], role_file(role, name))


def lab_file(*parts):
    """The path of lab/PARTS."""
    return os.path.join(ROOT, 'lab', *parts)
