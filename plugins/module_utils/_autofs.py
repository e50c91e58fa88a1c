# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The autofs seam: the master map (/etc/auto.master, /etc/auto.master.d/*.autofs), sun-format map files,
program maps, and the autofs service.

- Validation of every field before anything is written (no whitespace or newline can reach a file).
- Text in, text out: a file is split into logical lines (backslash continuations joined, as autofs' file
  lookup reads them); only the lines of an entry that is changed are rewritten, every other line (other
  entries, comments, blanks, includes, lines autofs would reject) is kept byte for byte.
- Files are replaced atomically (temp file in the same directory, then rename; mode and owner kept).
- `systemctl is-active/reload autofs.service` through _command.Runner.

What a reload applies and what needs a restart follows autofs 5.1 (lib/master_parse.y, lib/master.c,
daemon/state.c); see docs/automount.md. Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import posixpath
import re
import stat
import time

from ansible_collections.san.iscsi.plugins.module_utils import _files as files
from ansible_collections.san.iscsi.plugins.module_utils._mounts import read_mountinfo

UNIT = 'autofs.service'
HEADER = '# Managed in part by Ansible (san.iscsi.autofs_map): the lines it writes are rewritten, others are kept.\n'
DIRECT = '/-'
# include/automount.h: KEY_MAX_LEN is NAME_MAX, MAPENT_MAX_LEN 16384
KEY_MAX_LEN = 255
MAPENT_MAX_LEN = 16384
# master map types (lib/master_tok.l MTYPE); exec is a synonym of program
MAP_TYPES = ('file', 'program', 'exec', 'sss', 'yp', 'nis', 'nisplus', 'ldap', 'ldaps', 'hesiod', 'userdir',
             'multi', 'dir')
BUILTIN_MAPS = {'-null': 'null', '-hosts': 'hosts'}

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*\Z')
COMPONENT_RE = re.compile(r'^[A-Za-z0-9_@%.:+=~-]+\Z')
INDIRECT_KEY_RE = re.compile(r'^[A-Za-z0-9_@%.][A-Za-z0-9_@%.:+=~-]*\Z')
LOCATION_RE = re.compile(r'^(?:[^\s"\\\x00-\x1f\x7f]|\\[^\s\x00-\x1f\x7f])+\Z')
MAP_OPTION_RE = re.compile(r'^[^\s,"\\\x00-\x1f\x7f]+\Z')
# lib/master_tok.l: what the master map's lexer takes as an option (OPTIONSTR, MACROSTR, SLASHIFYSTR and the
# daemon options it names)
MASTER_OPTION_RE = re.compile(
    r'^(?:--ghost|--verbose|--debug|--use-weight-only|--random-multimount-selection|--(?:no-)?slashify-colons'
    r'|--negative-timeout=[0-9]+|-n=?[0-9]+'
    r'|-D[A-Za-z_][A-Za-z0-9_.-]*=[A-Za-z0-9_.-]+'
    r'|-?[A-Za-z_][A-Za-z0-9_-]*(?:="?[A-Za-z0-9_:-]+"?)?)\Z')
TIMEOUT_OPTION_RE = re.compile(r'^(?:-t|--timeout)(?:=?[0-9]*)\Z')
NEGATIVE_TIMEOUT_RE = re.compile(r'^(?:-n|--negative-timeout)=?([0-9]*)\Z')
# master options a reload never takes back (lib/master_parse.y master_parse_entry(): set, never cleared)
STICKY_FLAGS = {
    'symlink': ('symlink', '-symlink'),
    'strictexpire': ('strictexpire', '-strictexpire'),
    'random-multimount-selection': ('-r', '--random-multimount-selection'),
    'use-weight-only': ('-w', '--use-weight-only'),
}
BROWSE = ('browse', '-browse', '-g', '--ghost')
NOBROWSE = ('nobrowse', '-nobrowse')
NOBIND = ('nobind', '-nobind')


class AutofsError(Exception):
    """A refusal or failure; error_code is stable (invalid, program_map_unsafe, master_conflict, io_error)."""

    def __init__(self, msg, error_code='invalid', **extra):
        super(AutofsError, self).__init__(msg)
        self.msg = msg
        self.error_code = error_code
        self.extra = extra


# --- validation ------------------------------------------------------------------------------------------

def check_name(name):
    if not NAME_RE.match(name or '') or name.endswith('.autofs'):
        raise AutofsError('name %r: letters, digits, "_", "." and "-", starting with a letter or digit, without '
                          'the .autofs suffix (the drop-in is <name>.autofs)' % (name,))
    return name


def _check_absolute(value, what, allow_root=False):
    """VALUE as an absolute, normalised path of plain components (no '..', '.', '//', trailing '/', blanks)."""
    if not isinstance(value, str) or not value.startswith('/') or value.startswith('//'):
        raise AutofsError('%s %r must be an absolute path' % (what, value))
    if value == '/':
        if allow_root:
            return value
        raise AutofsError('%s must not be /' % what)
    if posixpath.normpath(value) != value:
        raise AutofsError('%s %r must be normalised (no "..", ".", "//" or trailing "/")' % (what, value))
    for component in value[1:].split('/'):
        if not COMPONENT_RE.match(component) or component in ('.', '..'):
            raise AutofsError('%s %r: each path component may hold letters, digits and _@%%.:+=~- only'
                              % (what, value))
    return value


def check_mount_point(value):
    """/- (direct map) or an absolute directory (indirect map)."""
    if value == DIRECT:
        return value
    return _check_absolute(value, 'mount_point')


def check_map_path(value):
    return _check_absolute(value, 'map_path')


def check_key(key, direct):
    """A key of a direct map (an absolute path) or of an indirect map (one path component, or *)."""
    if not isinstance(key, str) or not key:
        raise AutofsError('an entry needs a key')
    if len(key) > KEY_MAX_LEN:
        raise AutofsError('key %r is longer than autofs reads (%d characters)' % (key[:40] + '...', KEY_MAX_LEN))
    if direct:
        if key == '*':
            raise AutofsError('the wildcard key * is for indirect maps only; a direct map key is an absolute path')
        return _check_absolute(key, 'direct map key')
    if key == '*':
        return key
    if key in ('.', '..') or not INDIRECT_KEY_RE.match(key):
        raise AutofsError('indirect map key %r: one directory name (letters, digits and _@%%.:+=~-, not starting '
                          'with "-" or "+") or *; absolute keys belong in a direct map (mount_point: /-)' % (key,))
    return key


def check_offset(path):
    return _check_absolute(path, 'multi-mount offset', allow_root=True)


def check_map_option(option, where):
    """One mount option of a map entry ('-' in front accepted: -fstype=xfs and fstype=xfs are the same)."""
    if not isinstance(option, str):
        raise AutofsError('%s: option %r is not a string' % (where, option))
    bare = option[1:] if option.startswith('-') else option
    if not bare or bare.startswith('-') or not MAP_OPTION_RE.match(bare):
        raise AutofsError('%s: option %r must be one mount option without blanks, commas, quotes or backslashes '
                          '(give a list, one option per item)' % (where, option))
    return bare


def check_location(location, where):
    if not isinstance(location, str) or not location:
        raise AutofsError('%s: a location must be a non-empty string' % where)
    if location in BUILTIN_MAPS:
        raise AutofsError('%s: %s is a master map entry (map_type: %s), not a location'
                          % (where, location, BUILTIN_MAPS[location]))
    if location.startswith(('-', '/')) or ':' not in location or not LOCATION_RE.match(location):
        raise AutofsError('%s: location %r must be host:/path, host1,host2:/path, host(weight):/path or '
                          ':/local/path (a local path starts with ":"), without blanks, quotes or a trailing '
                          'backslash' % (where, location))
    return location


def check_master_option(option):
    if not isinstance(option, str) or not option:
        raise AutofsError('options: every master option must be a non-empty string')
    if TIMEOUT_OPTION_RE.match(option):
        raise AutofsError('options: give the timeout as timeout: N, not %r' % option)
    if not MASTER_OPTION_RE.match(option):
        raise AutofsError('options: %r is not an option the master map parser takes (one option per item: '
                          'name or name=value of letters, digits, "_", "-", ":"; --ghost, -Dvar=value, ...)'
                          % option)
    return option


def _locations(raw, where):
    location, locations = raw.get('location'), raw.get('locations')
    if location is not None and locations:
        raise AutofsError('%s: give location or locations, not both' % where)
    values = [location] if location is not None else list(locations or [])
    return [check_location(value, where) for value in values]


def normalise_entry(raw, direct):
    """The structured entry of a task ({key, options, location|locations|offsets}) in its one normal form:
    {key, options (no leading '-'), locations (list), offsets (list of {path, options, locations})}."""
    key = check_key(raw.get('key'), direct)
    where = 'entry %s' % key
    options = [check_map_option(option, where) for option in raw.get('options') or []]
    locations = _locations(raw, where)
    offsets = []
    seen = set()
    for offset in raw.get('offsets') or []:
        path = check_offset(offset.get('path'))
        if path in seen:
            raise AutofsError('%s: offset %s is given twice' % (where, path))
        seen.add(path)
        owhere = '%s offset %s' % (where, path)
        olocations = _locations(offset, owhere)
        if not olocations:
            raise AutofsError('%s needs a location' % owhere)
        ooptions = [check_map_option(option, owhere) for option in offset.get('options') or []]
        offsets.append({'path': path, 'options': ooptions, 'locations': olocations})
    if offsets and locations:
        raise AutofsError('%s: a multi-mount entry has offsets (the root one is path: /), not a location' % where)
    if not offsets and not locations:
        raise AutofsError('%s needs location, locations or offsets' % where)
    entry = {'key': key, 'options': options, 'locations': locations, 'offsets': offsets}
    if len(render_entry(entry).replace('\\\n', '')) > MAPENT_MAX_LEN:
        raise AutofsError('%s is longer than autofs reads (%d characters)' % (where, MAPENT_MAX_LEN))
    return entry


# --- logical lines ---------------------------------------------------------------------------------------

def physical_lines(text):
    """TEXT as lines that keep their '\\n' (the last one may have none); split on '\\n' only."""
    return re.findall(r'[^\n]*\n|[^\n]+$', text or '')


def logical_lines(text):
    """[[physical line, ...], ...]: a line ending in a backslash continues on the next one (as autofs reads)."""
    groups, current = [], []
    for line in physical_lines(text):
        current.append(line)
        if not line.rstrip('\r\n').endswith('\\') or not line.endswith('\n'):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def joined(lines):
    """The logical line's text as autofs sees it: backslash-newline removed, nothing else."""
    return re.sub(r'\\\r?\n', '', ''.join(lines)).rstrip('\r\n')


def tokens(text):
    """Blank-separated words; a double-quoted span and a backslash-escaped character stay inside a word."""
    words, word, quoted, escaped, started = [], [], False, False, False
    for char in text:
        if escaped:
            word.append(char)
            escaped = False
        elif char == '\\':
            word.append(char)
            escaped = started = True
        elif char == '"':
            word.append(char)
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                words.append(''.join(word))
            word, started = [], False
        else:
            word.append(char)
            started = True
    if started:
        words.append(''.join(word))
    return words


def _ensure_newline(lines):
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n'


# --- map files (sun format) ------------------------------------------------------------------------------

def _option_group(word):
    return [option for option in word[1:].split(',') if option]


def parse_entry(words):
    """Structured entry of a map line's words (key first); None when it is not a plain sun entry."""
    if len(words) < 2:
        return None
    key, rest = words[0], words[1:]
    options, index = [], 0
    while index < len(rest) and rest[index].startswith('-'):
        options.extend(_option_group(rest[index]))
        index += 1
    if index == len(rest):
        return None
    if not rest[index].startswith('/'):
        locations = rest[index:]
        if any(word.startswith(('-', '/')) for word in locations):
            return None
        return {'key': key, 'options': options, 'locations': locations, 'offsets': []}
    offsets = []
    while index < len(rest):
        path = rest[index]
        if not path.startswith('/'):
            return None
        index += 1
        offset_options = []
        while index < len(rest) and rest[index].startswith('-'):
            offset_options.extend(_option_group(rest[index]))
            index += 1
        locations = []
        while index < len(rest) and not rest[index].startswith(('/', '-')):
            locations.append(rest[index])
            index += 1
        if not locations:
            return None
        offsets.append({'path': path, 'options': offset_options, 'locations': locations})
    return {'key': key, 'options': options, 'locations': [], 'offsets': offsets}


class Block(object):
    """One logical line of a file: kind is 'blank', 'comment', 'include' (+...) or 'entry' (whose words autofs
    may still reject)."""

    def __init__(self, lines):
        self.lines = lines
        self.text = joined(lines)
        self.words = tokens(self.text)
        stripped = self.text.strip()
        if not stripped:
            self.kind = 'blank'
        elif stripped.startswith('#'):
            self.kind = 'comment'
        elif stripped.startswith('+'):
            self.kind = 'include'
        else:
            self.kind = 'entry'


def map_blocks(text):
    blocks = [Block(lines) for lines in logical_lines(text)]
    for block in blocks:
        block.entry = parse_entry(block.words) if block.kind == 'entry' else None
        block.key = block.words[0] if block.kind == 'entry' else None
    return blocks


def parse_map(text):
    """The entries of a map file autofs would read (plain sun entries), in file order."""
    return [block.entry for block in map_blocks(text) if block.entry is not None]


def _options_word(options):
    return '-' + ','.join(options)


def render_entry(entry):
    """The text of ENTRY (normal form): one line, or a multi-mount as backslash-continued lines."""
    head = [entry['key']]
    if entry['options']:
        head.append(_options_word(entry['options']))
    if not entry['offsets']:
        return '%s\t%s\n' % (head[0], ' '.join(head[1:] + entry['locations']))
    lines = [' '.join(head).replace(' ', '\t', 1) + ' \\\n']
    for index, offset in enumerate(entry['offsets']):
        words = [offset['path']] + ([_options_word(offset['options'])] if offset['options'] else [])
        words += offset['locations']
        lines.append('\t%s%s' % (' '.join(words), ' \\\n' if index < len(entry['offsets']) - 1 else '\n'))
    return ''.join(lines)


def update_map(text, wanted):
    """TEXT with WANTED applied: [(key, entry or None for absent), ...] -> (new text, [(key, action), ...]).

    The first entry of a key is replaced in place (its own lines only, and only when it differs), later
    entries of the same key are removed (autofs would read one of them, not both), new keys are appended.
    Every other line is kept as it was.
    """
    blocks = map_blocks(text)
    actions = []
    for key, entry in wanted:
        mine = [index for index, block in enumerate(blocks) if block.key == key]
        if entry is None:
            if mine:
                actions.append((key, 'removed'))
            blocks = [block for index, block in enumerate(blocks) if index not in mine]
            continue
        if not mine:
            if blocks:
                _ensure_newline(blocks[-1].lines)
            new = Block(physical_lines(render_entry(entry)))
            new.entry, new.key = entry, key
            blocks.append(new)
            actions.append((key, 'added'))
            continue
        first = mine[0]
        if blocks[first].entry != entry:
            new = Block(physical_lines(render_entry(entry)))
            new.entry, new.key = entry, key
            blocks[first] = new
            actions.append((key, 'updated'))
        elif len(mine) > 1:
            actions.append((key, 'updated'))
        blocks = [block for index, block in enumerate(blocks) if index not in mine[1:]]
    return ''.join(''.join(block.lines) for block in blocks), actions


# --- the master map --------------------------------------------------------------------------------------

def parse_map_spec(word):
    """(type, format, map) of a master map's second field; type None when not given."""
    if word in BUILTIN_MAPS:
        return BUILTIN_MAPS[word], None, None
    match = re.match(r'^([a-z]+)(?:,([a-z]+))?:(.*)$', word)
    if match and match.group(1) in MAP_TYPES:
        kind = 'program' if match.group(1) == 'exec' else match.group(1)
        return kind, match.group(2), match.group(3)
    return None, None, word


def effective_type(kind, path):
    """The map type autofs uses: the given one, else for an absolute path program when the file's owner
    execute bit is set and file otherwise (daemon/lookup.c read_file_source_instance)."""
    if kind or not path or not path.startswith('/'):
        return kind
    try:
        return 'program' if os.stat(path).st_mode & stat.S_IXUSR else 'file'
    except OSError:
        return 'file'


def split_master_options(words):
    """(timeout or None, other option words) of a master line's option words (blank- or comma-separated)."""
    parts = [part for word in words for part in word.split(',') if part]
    timeout, others, index = None, [], 0
    while index < len(parts):
        part = parts[index]
        match = TIMEOUT_OPTION_RE.match(part)
        if match:
            digits = re.sub(r'^(?:-t|--timeout)=?', '', part)
            if not digits and index + 1 < len(parts) and parts[index + 1].isdigit():
                index += 1
                digits = parts[index]
            if digits:
                timeout = int(digits)
                index += 1
                continue
        others.append(part)
        index += 1
    return timeout, others


class MasterLine(object):
    """A master map entry line: mount_point, map_type, map_format, map (path or name; None for -null/-hosts),
    timeout, options (words other than the timeout); text is the line as autofs reads it."""

    def __init__(self, words, text=None):
        self.text = text if text is not None else ' '.join(words)
        # autofs strips trailing slashes from a mount point (lib/master_parse.y master_parse_entry())
        self.mount_point = words[0] if words[0] == DIRECT else (words[0].rstrip('/') or '/')
        self.map_type, self.map_format, self.map = parse_map_spec(words[1]) if len(words) > 1 else (None,) * 3
        self.timeout, self.options = split_master_options(words[2:])

    def identity(self):
        """What names the map: its path/name, or -null/-hosts."""
        if self.map_type in ('null', 'hosts'):
            return '-' + self.map_type
        return posixpath.normpath(self.map) if self.map and self.map.startswith('/') else self.map

    def effective_type(self):
        return effective_type(self.map_type, self.map)

    def as_dict(self):
        return {'mount_point': self.mount_point, 'map_type': self.effective_type(), 'map': self.map,
                'timeout': self.timeout, 'options': self.options}


def master_blocks(text):
    blocks = [Block(lines) for lines in logical_lines(text)]
    for block in blocks:
        block.master = MasterLine(block.words, block.text) if block.kind == 'entry' and len(block.words) >= 2 else None
    return blocks


def render_master(mount_point, map_type, map_path, timeout, options):
    spec = '-%s' % map_type if map_type in ('null', 'hosts') else '%s:%s' % (map_type, map_path)
    words = [mount_point, spec]
    if timeout is not None:
        words.append('--timeout=%d' % timeout)
    if options:
        words.append(','.join(options))
    return ' '.join(words) + '\n'


def same_master(line, mount_point, map_type, identity, timeout, options):
    """Whether master line LINE already says what a task wants."""
    return (line.mount_point == mount_point and line.identity() == identity
            and line.effective_type() == map_type and line.map_format in (None, 'sun')
            and line.timeout == timeout and line.options == list(options))


def includes_dir(text, directory):
    """Whether master map TEXT includes the drop-in DIRECTORY (a +dir: line)."""
    for block in master_blocks(text):
        words = block.words
        if block.kind == 'include' and words and words[0].startswith('+dir:'):
            if posixpath.normpath(words[0][len('+dir:'):]) == posixpath.normpath(directory):
                return True
    return False


def only_header(text):
    """Whether TEXT holds nothing but blank lines and this module's header (a file it may delete)."""
    return all(line.strip() == '' or line == HEADER.rstrip('\n') for line in (text or '').splitlines())


def _browse(options):
    """True (browse), False (nobrowse) or None (the configured default) for master option words."""
    last = None
    for word in options:
        if word in BROWSE:
            last = True
        elif word in NOBROWSE:
            last = False
    return last


def restart_reasons(old, new):
    """Why a reload does not bring master line OLD (MasterLine) to NEW for a running mount point.

    lib/master_parse.y master_parse_entry(): browse/nobrowse and nobind are read only when the autofs mount
    point is created (master_add_autofs_point() runs for a new entry only); symlink, strictexpire,
    -r and -w are OR-ed into the mount point's flags and never cleared; a removed --timeout or
    --negative-timeout leaves the running value (the timeout falls back to the map source's current one).
    A changed --timeout, map or mount options take effect on reload (daemon/state.c do_readmap()); mounts in
    use keep their options until they expire.
    """
    if old is None or new is None:
        return []
    reasons = []
    old_words, new_words = set(old.options), set(new.options)
    if _browse(old.options) != _browse(new.options):
        reasons.append('browse/nobrowse changed: autofs reads it only when it creates the mount point')
    if bool(old_words & set(NOBIND)) != bool(new_words & set(NOBIND)):
        reasons.append('nobind changed: autofs reads it only when it creates the mount point')
    for flag, spellings in sorted(STICKY_FLAGS.items()):
        if old_words & set(spellings) and not new_words & set(spellings):
            reasons.append('%s removed: a reload does not clear it' % flag)
    if any(NEGATIVE_TIMEOUT_RE.match(word) for word in old.options) and \
            not any(NEGATIVE_TIMEOUT_RE.match(word) for word in new.options):
        reasons.append('negative timeout removed: a reload keeps the running value')
    if old.timeout is not None and new.timeout is None:
        reasons.append('timeout removed: a reload keeps the running timeout')
    return reasons


# --- program maps ----------------------------------------------------------------------------------------

def program_map_problems(path, owner=0):
    """Why executable PATH is unsafe as a program map autofs runs as root (empty when it is fine): it must
    exist, be a regular file, executable, owned by OWNER (root) and not writable by group or others, and so
    must the directory it is in (as named and after symlinks)."""
    try:
        st = os.stat(path)
    except OSError as error:
        return ['%s does not exist (%s); the module does not write program maps' % (path, error.strerror)]
    problems = []
    mode = stat.S_IMODE(st.st_mode)
    if not stat.S_ISREG(st.st_mode):
        return ['%s is not a regular file' % path]
    if not mode & stat.S_IXUSR:
        problems.append('%s is not executable by its owner (mode %04o)' % (path, mode))
    if st.st_uid != owner:
        problems.append('%s is owned by uid %d, not root' % (path, st.st_uid))
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        problems.append('%s is writable by group or others (mode %04o)' % (path, mode))
    directories = []
    for candidate in (os.path.dirname(path), os.path.dirname(os.path.realpath(path))):
        if candidate not in directories:
            directories.append(candidate)
    for directory in directories:
        dst = os.stat(directory)
        if dst.st_uid != owner:
            problems.append('its directory %s is owned by uid %d, not root' % (directory, dst.st_uid))
        if stat.S_IMODE(dst.st_mode) & (stat.S_IWGRP | stat.S_IWOTH):
            problems.append('its directory %s is writable by group or others (mode %04o)'
                            % (directory, stat.S_IMODE(dst.st_mode)))
    return problems


# --- files -----------------------------------------------------------------------------------------------

def displayable(value):
    """VALUE (str, list, dict) with the undecodable bytes read_text kept shown as U+FFFD, fit for JSON."""
    if isinstance(value, str):
        return value.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
    if isinstance(value, list):
        return [displayable(item) for item in value]
    if isinstance(value, dict):
        return dict((key, displayable(item)) for key, item in value.items())
    return value


def read_text(path):
    """The text of PATH (bytes kept: undecodable ones round-trip), or None when it does not exist."""
    return files.read_text(path, AutofsError)


def write_text(module, path, text, mode=0o644):
    """Replace PATH with TEXT atomically (see _files.write_text)."""
    files.write_text(module, path, text, mode, AutofsError)


def dropin_files(directory):
    """The drop-ins autofs reads from DIRECTORY: *.autofs, not dot files, sorted."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [os.path.join(directory, name) for name in sorted(names)
            if name.endswith('.autofs') and not name.startswith('.')]


# --- the service -----------------------------------------------------------------------------------------

def service_state(runner):
    """`systemctl is-active autofs.service` ('active', 'inactive', ...), or None without systemctl."""
    if not runner.has('systemctl'):
        return None
    _rc, out, _err = runner.run('systemctl', ['is-active', UNIT], ok=None)
    return out.strip() or 'unknown'


def reload_service(runner):
    """`systemctl reload autofs.service`: automount re-reads the master map and every map (SIGHUP)."""
    runner.run('systemctl', ['reload', UNIT], what='reloading autofs')


def autofs_mount_points(mountinfo='/proc/self/mountinfo'):
    """The paths where automount has an autofs mount (indirect mount points, direct keys, offsets)."""
    return set(entry.mountpoint for entry in read_mountinfo(mountinfo) if entry.fstype == 'autofs')


def reload_until_settled(runner, settled, rounds=3, wait=5.0, step=0.25, sleep=time.sleep, clock=time.monotonic):
    """Reload autofs, then wait until SETTLED() says the mount table shows what the maps now say.

    SIGHUP is asynchronous, and automount drops a SIGHUP that arrives while it is still reading the maps for
    an earlier one (two module runs in a row lose the second reload: seen in the lab with autofs 5.1.8), so a
    reload that has not settled after WAIT seconds is sent again, ROUNDS reloads at most.
    Returns (reloads sent, settled).
    """
    for sent in range(1, rounds + 1):
        reload_service(runner)
        deadline = clock() + wait
        while not settled():
            if clock() >= deadline:
                break
            sleep(step)
        else:
            return sent, True
    return rounds, False
