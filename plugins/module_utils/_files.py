# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Configuration files the modules own: read as text, replaced atomically, removed.

Each function takes the exception class its caller reports (called as ERROR(msg, error_code='io_error')),
so a module keeps one error type. Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os
import tempfile

from ansible_collections.san.iscsi.plugins.module_utils._host_lock import HostLockTimeout, host_lock


class FileError(Exception):
    def __init__(self, msg, error_code='io_error'):
        super(FileError, self).__init__(msg)
        self.msg = msg
        self.error_code = error_code


def read_text(path, error=FileError):
    """The text of PATH (bytes kept: undecodable ones round-trip), or None when it does not exist."""
    try:
        with io.open(path, encoding='utf-8', errors='surrogateescape', newline='') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return None
        raise error('cannot read %s: %s' % (path, exc), error_code='io_error')


def write_text(module, path, text, mode=0o644, error=FileError):
    """Replace PATH with TEXT atomically: a temp file in the same directory (a dot file, which autofs'
    +dir: include and dnsmasq's hosts directory ignore), then rename; an existing file keeps its mode and
    owner, a new one gets MODE. Missing directories are created (0755)."""
    directory = os.path.dirname(path) or '.'
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        handle, temp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    except (IOError, OSError) as exc:
        raise error('cannot write %s: %s' % (path, exc), error_code='io_error')
    try:
        with io.open(handle, 'w', encoding='utf-8', errors='surrogateescape', newline='') as stream:
            stream.write(text)
        if os.path.exists(path):
            module.atomic_move(temp, path)
        else:
            os.chmod(temp, mode)
            os.rename(temp, path)
    except (IOError, OSError) as exc:
        raise error('cannot write %s: %s' % (path, exc), error_code='io_error')
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def remove_file(path, error=FileError):
    try:
        os.unlink(path)
    except (IOError, OSError) as exc:
        if os.path.lexists(path):
            raise error('cannot remove %s: %s' % (path, exc), error_code='io_error')


def action(before, after):
    """What replacing BEFORE with AFTER (None: no file) does: created, changed, unchanged, removed or absent."""
    if after is None:
        return 'absent' if before is None else 'removed'
    if before is None:
        return 'created'
    return 'unchanged' if before == after else 'changed'


def record_change(files, diff, path, before, after, **fields):
    """What replacing BEFORE with AFTER (None: no file) at PATH does, appended to FILES (a module's result list:
    FIELDS, path and action) and, when it changes the file, to DIFF (Ansible's before/after entries). True when
    the file changes."""
    done = action(before, after)
    files.append(dict(fields, path=path, action=done))
    if done in ('unchanged', 'absent'):
        return False
    diff.append({'before_header': path, 'after_header': path, 'before': before or '', 'after': after or ''})
    return True


def apply_changes(module, changes, error=FileError, done=None):
    """Write or remove each file of CHANGES, [(path, new text or None to remove)], in order; DONE(path) runs
    after each one (a module marks itself changed there, so that a failure half-way still says so)."""
    for path, after in changes:
        if after is None:
            remove_file(path, error)
        else:
            write_text(module, path, after, error=error)
        if done:
            done(path)


def planned_and_applied(module, plan, what, error=FileError, done=None):
    """The changes PLAN() returns ([(path, text or None)]), planned and applied under the host lock (WHAT
    names the holder); in check mode only planned. A lock not had in time raises ERROR."""
    if module.check_mode:
        return plan()
    try:
        with host_lock().held(what):
            changes = plan()
            apply_changes(module, changes, error, done)
    except HostLockTimeout as exc:
        raise error(exc.msg, error_code=exc.error_code)
    return changes
