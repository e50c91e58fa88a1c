#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: autofs_map
short_description: Manage Linux autofs maps (sun format) and their master map entries
version_added: 0.1.0
description:
  - Writes one autofs map - its master map entry and, for a file map, the entries of the map file - and
    reloads autofs when something changed.
  - The master entry goes into a drop-in file C(/etc/auto.master.d/<name>.autofs) (O(master=dropin), the
    default; C(/etc/auto.master) must include the directory with a C(+dir:) line, as Debian's does, or the
    module warns) or into C(/etc/auto.master) itself (O(master=auto.master)).
  - Map entries are structured data - key, mount options, one location or several (replicated servers), or
    the offsets of a multi-mount entry - written in the sun format of autofs(5). Entries are matched by key;
    an entry of the map file that the task does not name, comments and blank lines are kept byte for byte,
    and a changed entry replaces only its own (possibly backslash-continued) lines.
  - Direct maps (O(mount_point=/-), absolute keys), indirect maps (one directory name per key, C(*) for
    any key, C(&) in a location for the key), variables such as C($ARCH) in locations, program maps
    (O(map_type=program)) and the built-in C(-null) and C(-hosts) maps.
  - A program map is not written by the module. It must exist and be a regular file, executable, owned by
    root and not writable by group or others, in a directory that is owned by root and not writable by group
    or others; otherwise the module fails (C(program_map_unsafe)) before anything changes.
  - Every input is validated before anything changes (C(invalid)) - keys, paths, options and locations
    can hold no blanks or newlines - and a master entry for the same mount point (or the same direct map)
    in another master file fails the module (C(master_conflict)).
  - Files are replaced atomically (a temporary file, then a rename; an existing file keeps its mode and
    owner, a new one gets mode 0644) under the collection's host lock, so two runs cannot lose each
    other's changes.
  - autofs is reloaded (C(systemctl reload autofs.service)) only when a file changed and autofs is active.
    A reload does not apply every change of a master entry to a running mount point; RV(restart_needed)
    says when only a restart would (the module never restarts autofs).
author: san.iscsi contributors (@san-iscsi)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: C(systemctl is-active) still runs; nothing is written or reloaded.
  diff_mode:
    support: full
    details: One diff per file that changes (created, rewritten or removed).
  platform:
    support: full
    platforms: posix
    details: Linux with autofs 5.1 (Debian 12 and 13 ship 5.1.8 and 5.1.9) and systemd for the reload.
seealso:
  - module: san.iscsi.lun_mount
  - name: autofs(5) - the format of the map entries
    description: The sun map format autofs reads.
    link: https://man7.org/linux/man-pages/man5/autofs.5.html
  - name: auto.master(5)
    description: The master map, its options and the C(+dir:) include of drop-in files.
    link: https://man7.org/linux/man-pages/man5/auto.master.5.html
options:
  name:
    description:
      - Name of the map. The drop-in is C(/etc/auto.master.d/<name>.autofs) and the map file defaults to
        C(/etc/auto.<name>).
      - Letters, digits, C(_), C(.) and C(-), starting with a letter or a digit.
    type: str
    required: true
  mount_point:
    description:
      - C(/-) for a direct map (its keys are the mount points), else the absolute directory under which an
        indirect map's keys appear (autofs creates it).
    type: str
    required: true
  map_type:
    description:
      - V(file) - a sun-format map file the module writes from O(entries).
      - V(program) - an executable at O(map_path) that autofs runs with the key as its only argument; the
        module only checks it (see the description).
      - V(null) - the built-in C(-null) map, which disables the mount point (no O(map_path), O(options),
        O(timeout) or O(entries)).
      - V(hosts) - the built-in C(-hosts) map (indirect mount points only; no O(map_path) or O(entries)).
    type: str
    choices: [file, program, 'null', hosts]
    default: file
  map_path:
    description: The map file or program. Absolute. Default C(/etc/auto.<name>).
    type: path
  options:
    description:
      - Options of the master entry, one per item - autofs options such as C(browse), C(nobrowse),
        C(nobind), C(--ghost), C(-Dvar=value), and mount options applied to every entry of the map
        (C(-rw), C(fstype=nfs4)). They are written in the given order, separated by commas.
      - Give the expiry timeout as O(timeout), not here.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds an unused mount stays mounted (C(--timeout=N) in the master entry); V(0) never expires.
        Omitted, autofs' configured default applies to a new mount point.
    type: int
  master:
    description:
      - V(dropin) writes the master entry into C(/etc/auto.master.d/<name>.autofs).
      - V(auto.master) writes it into C(/etc/auto.master).
      - An entry of this map (the same mount point and map) in the other of the two files is removed, so a
        map can be moved from one to the other.
    type: str
    choices: [dropin, auto.master]
    default: dropin
  entries:
    description:
      - Entries of a file map, matched by O(entries[].key). Entries of the file that are not named here are
        kept as they are.
      - Each one has O(entries[].location), O(entries[].locations) or O(entries[].offsets).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description:
          - For an indirect map one directory name, or C(*) for any name not listed.
          - For a direct map an absolute path (normalised, no C(..)).
        type: str
        required: true
      options:
        description: Mount options of the entry, one per item (C(fstype=xfs), C(ro); a leading C(-) is accepted).
        type: list
        elements: str
        default: []
      location:
        description:
          - What to mount - C(host:/path), C(host1,host2:/path), C(host(5):/path), or a local device or path
            written C(:/dev/...). C(&) stands for the key, C($ARCH) and other variables are expanded by autofs.
        type: str
      locations:
        description: Several locations of replicated servers (C(host1:/a host2:/b)); autofs picks one.
        type: list
        elements: str
      offsets:
        description:
          - The mounts of a multi-mount (hierarchical) entry, each at a path relative to the key; C(/) is the
            root of the entry.
        type: list
        elements: dict
        suboptions:
          path:
            description: C(/) or an absolute path below the entry (normalised).
            type: str
            required: true
          options:
            description: Mount options of this offset, one per item.
            type: list
            elements: str
            default: []
          location:
            description: What to mount there (as O(entries[].location)).
            type: str
          locations:
            description: Replicated locations (as O(entries[].locations)).
            type: list
            elements: str
      state:
        description: V(absent) removes the entry (every entry of the key).
        type: str
        choices: [present, absent]
        default: present
  state:
    description:
      - V(present) writes the master entry (and the map file of a file map).
      - V(absent) removes the master entry of this map from C(/etc/auto.master) and from the drop-in (the
        drop-in file too when nothing else is left in it) and deletes the map file, unless another master
        entry still names it. A program map is never deleted. O(entries) are not looked at.
    type: str
    choices: [present, absent]
    default: present
  reload:
    description:
      - Reload autofs when a file changed and autofs is active. With V(false), reload it yourself (a
        handler) when the result is C(changed).
    type: bool
    default: true
notes:
  - Indirect map files are read again by autofs on each lookup; master entries, direct maps and browse-mode
    maps need the reload, which the module does. What a reload cannot change on a running mount point is
    listed in RV(restart_reasons) (see C(docs/automount.md) in the collection).
  - An entry with offsets that is mounted keeps its old offsets until it expires (autofs(8)).
'''

EXAMPLES = r'''
- name: Home directories - "fred" and "nancy" from suitcase, everyone else from homebase (auto_home with * and &)
  san.iscsi.autofs_map:
    name: home
    mount_point: /home
    timeout: 300
    entries:
      - key: fred
        location: suitcase:/export/fred
      - key: nancy
        location: suitcase:/export/nancy
      - key: "*"
        location: homebase:/export/&

- name: A direct map - unrelated mount points, read-only man pages from replicated servers
  san.iscsi.autofs_map:
    name: direct
    mount_point: /-
    entries:
      - key: /var/mail
        location: mailhub:/var/mail
      - key: /usr/share/man
        options: [ro]
        locations:
          - shareserver:/usr/share/man
          - backupserver:/usr/share/man

- name: A multi-mount (hierarchical) entry - /usr/local assembled from several servers
  san.iscsi.autofs_map:
    name: local
    mount_point: /-
    entries:
      - key: /usr/local
        options: [ro]
        offsets:
          - path: /
            location: toolbox:/export/local
          - path: /bin
            location: toolbox:/export/local/$ARCH/bin
          - path: /man
            location: docubox:/work/man

- name: Mount snapshot LUNs on demand through a program map (the program is installed beforehand)
  san.iscsi.autofs_map:
    name: iscsi
    mount_point: /iscsiauto
    map_type: program
    map_path: /usr/local/sbin/auto.iscsi
    timeout: 600

- name: A local LUN by its stable name, kept in /etc/auto.master rather than a drop-in
  san.iscsi.autofs_map:
    name: archive
    mount_point: /srv/archive
    master: auto.master
    entries:
      - key: vol1
        options: [fstype=xfs, ro, nouuid]
        location: ":/dev/disk/by-id/wwn-0x6001405d3b6a1f0c2e4a4b8b9c0d1e2f"

- name: Remove one entry, keep the rest of the map
  san.iscsi.autofs_map:
    name: home
    mount_point: /home
    timeout: 300
    entries:
      - key: nancy
        state: absent

- name: Remove the map, its master entry and its map file
  san.iscsi.autofs_map:
    name: direct
    mount_point: /-
    state: absent
'''

RETURN = r'''
master:
  description: The master entry after the run; null with O(state=absent).
  returned: always
  type: dict
  contains:
    file:
      description: The master file that holds it.
      type: str
      sample: /etc/auto.master.d/home.autofs
    line:
      description: The line as written (or as found, when it already said the same).
      type: str
      sample: /home file:/etc/auto.home --timeout=300
    mount_point:
      description: The mount point (C(/-) for a direct map).
      type: str
      sample: /home
    map_type:
      description: V(file), V(program), V(null) or V(hosts).
      type: str
      sample: file
    map_path:
      description: The map file or program; null for C(-null) and C(-hosts).
      type: str
      sample: /etc/auto.home
    timeout:
      description: The C(--timeout) in seconds, null when none.
      type: int
      sample: 300
    options:
      description: The other master options.
      type: list
      elements: str
      sample: [browse]
  sample:
    file: /etc/auto.master.d/home.autofs
    line: /home file:/etc/auto.home --timeout=300
    mount_point: /home
    map_type: file
    map_path: /etc/auto.home
    timeout: 300
    options: []
map:
  description: The map after the run; null with O(state=absent) and for C(-null) and C(-hosts).
  returned: always
  type: dict
  contains:
    path:
      description: The map file or program.
      type: str
      sample: /etc/auto.home
    type:
      description: V(file) or V(program).
      type: str
      sample: file
    direct:
      description: Whether it is a direct map.
      type: bool
      sample: false
    entries:
      description:
        - Every entry of the map file (those the task did not name too), parsed; empty for a program map.
          Lines autofs would not read as a sun entry (includes, malformed lines) are left out.
        - Each has C(key), C(options) (without the leading C(-)), C(locations) (a list; empty for a
          multi-mount) and C(offsets) (a list of C(path), C(options), C(locations); empty unless a
          multi-mount).
      type: list
      elements: dict
      sample:
        - {key: fred, options: [], locations: ["suitcase:/export/fred"], offsets: []}
        - {key: "*", options: [], locations: ["homebase:/export/&"], offsets: []}
changed_keys:
  description: Keys of the entries added, changed or removed (that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [nancy]
reloaded:
  description: Whether autofs was reloaded (would be, in check mode).
  returned: always
  type: bool
  sample: true
reloads:
  description:
    - How many times autofs was reloaded. automount reads the maps after C(systemctl reload) returns, and drops
      a reload that comes while it is still reading them for an earlier one, so the module watches the mount
      table (the map's mount point, or a direct map's keys, mounted as autofs or gone) and reloads again when
      nothing has changed after 5 seconds, 3 times at most.
  returned: when autofs was reloaded, not in check mode
  type: int
  sample: 1
settled:
  description:
    - Whether the mount table showed the map as it now is after the reloads. False (with a warning) when it
      did not, for example while a removed map's mounts are still in use.
  returned: when autofs was reloaded, not in check mode
  type: bool
  sample: true
restart_needed:
  description:
    - Whether the running autofs keeps part of the old master entry after the reload, so that only
      C(systemctl restart autofs.service) applies it - a changed browse/nobrowse or nobind, a removed
      C(symlink), C(strictexpire), C(-r), C(-w), C(--timeout) or C(--negative-timeout). False when autofs is
      not running. The module never restarts autofs.
  returned: always
  type: bool
  sample: false
restart_reasons:
  description: Why a restart is needed (empty when it is not).
  returned: always
  type: list
  elements: str
  sample: ["nobind changed: autofs reads it only when it creates the mount point"]
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.san.iscsi.plugins.module_utils import _autofs as autofs
from ansible_collections.san.iscsi.plugins.module_utils import _files as files
from ansible_collections.san.iscsi.plugins.module_utils._command import CommandError, Runner, fail_with
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths

BUILTIN = ('null', 'hosts')


class AutofsMap(object):
    """One autofs map: its master entry and its map file. PATHS: the host's roots (None for the real ones)."""

    def __init__(self, module, paths=None):
        self.module = module
        self.params = module.params
        self.paths = paths or HostPaths()
        self.check = module.check_mode
        self.runner = Runner(module)
        self.result = {'changed': False, 'master': None, 'map': None, 'changed_keys': [], 'reloaded': False,
                       'restart_needed': False, 'restart_reasons': []}
        self.diff = []
        self.texts = {}
        self.unread = False  # the drop-in is not read by autofs (no +dir: line): nothing to wait for
        self.validate()

    # --- input ---------------------------------------------------------------------------------------

    def validate(self):
        """Every check that needs no lock; raises AutofsError before anything is read or written."""
        params = self.params
        self.name = autofs.check_name(params['name'])
        self.state = params['state']
        self.mount_point = autofs.check_mount_point(params['mount_point'])
        self.direct = self.mount_point == autofs.DIRECT
        self.map_type = params['map_type']
        self.timeout = params['timeout']
        if self.timeout is not None and self.timeout < 0:
            raise autofs.AutofsError('timeout must be 0 or more seconds')
        self.options = [autofs.check_master_option(option) for option in params['options']]
        if self.map_type in BUILTIN:
            if params['map_path'] is not None:
                raise autofs.AutofsError('map_type %s has no map_path' % self.map_type)
            if params['entries'] and self.state == 'present':
                raise autofs.AutofsError('map_type %s has no entries' % self.map_type)
            if self.map_type == 'null' and (self.options or self.timeout is not None):
                raise autofs.AutofsError('the -null map takes no options and no timeout')
            if self.map_type == 'hosts' and self.direct:
                raise autofs.AutofsError('the -hosts map needs an indirect mount point, not /-')
            self.map_path = None
            self.identity = '-' + self.map_type
        else:
            self.map_path = autofs.check_map_path(
                params['map_path'] or os.path.join(self.paths.autofs_map_dir, 'auto.' + self.name))
            self.identity = self.map_path
            if self.map_type == 'program' and params['entries'] and self.state == 'present':
                raise autofs.AutofsError('a program map has no entries: the program answers each key')
        self.dropin = os.path.join(self.paths.autofs_master_d, self.name + '.autofs')
        self.target = self.dropin if params['master'] == 'dropin' else self.paths.autofs_master
        self.other = self.paths.autofs_master if params['master'] == 'dropin' else self.dropin
        self.wanted = []
        if self.state == 'present' and self.map_type == 'file':
            seen = set()
            for raw in params['entries']:
                key = autofs.check_key(raw.get('key'), self.direct)
                if key in seen:
                    raise autofs.AutofsError('entries: key %s is given twice' % key)
                seen.add(key)
                entry = autofs.normalise_entry(raw, self.direct) if raw.get('state') != 'absent' else None
                self.wanted.append((key, entry))
        if self.state == 'present' and self.map_type == 'program':
            problems = autofs.program_map_problems(self.map_path)
            if problems:
                raise autofs.AutofsError('program map %s is unsafe: %s' % (self.map_path, '; '.join(problems)),
                                         error_code='program_map_unsafe', problems=problems)

    # --- the run -------------------------------------------------------------------------------------

    def run(self):
        changes = files.planned_and_applied(self.module, self.plan, 'edit the autofs map %s' % self.name,
                                            autofs.AutofsError, self.mark_changed)
        self.result['changed'] = bool(changes)
        if self.module._diff:
            self.result['diff'] = self.diff
        if changes:
            self.service()
        return autofs.displayable(self.result)

    def mark_changed(self, _path):
        self.result['changed'] = True

    def read(self, path):
        if path not in self.texts:
            self.texts[path] = autofs.read_text(path)
        return self.texts[path]

    def plan(self):
        """[(path, new text or None to delete), ...] in the order to apply them; fills result and diff."""
        masters = self.plan_master()
        if self.state == 'absent':
            changes = masters + self.plan_map_removal(masters)
        else:
            changes = self.plan_map() + masters
        for path, after in changes:
            before = self.read(path)
            self.diff.append({'before_header': path, 'after_header': path, 'before': before or '',
                              'after': after or ''})
        return changes

    # --- the master entry ----------------------------------------------------------------------------

    def ours(self, line, path):
        """Whether master LINE in PATH is this map's entry: any line for the mount point in the target file
        and in the drop-in named after the map (for /-, the one of this map), elsewhere only one that names
        this map at this mount point."""
        if line is None or line.mount_point != self.mount_point:
            return False
        if line.identity() == self.identity:
            return True
        owned = path == self.dropin or (path == self.target and self.state == 'present')
        return owned and not self.direct

    def plan_master(self):
        present = self.state == 'present'
        wanted = autofs.render_master(self.mount_point, self.map_type, self.map_path, self.timeout,
                                      self.options) if present else None
        if present:
            self.check_conflicts()
        changes, old = [], None
        for path in ([self.target, self.other] if present else [self.dropin, self.paths.autofs_master]):
            text = self.read(path)
            if text is None and not (present and path == self.target):
                continue
            new, found = self.edit_master(text or '', path, wanted if path == self.target else None)
            old = old or found
            if text is None:
                new = (autofs.HEADER if path == self.dropin else '') + new
            if path == self.dropin and text is not None and autofs.only_header(new):
                new = None
            if new != text:
                changes.append((path, new))
        if present:
            kept = autofs.master_blocks(wanted)[0].master
            line = wanted.rstrip('\n')
            if old is not None and autofs.same_master(old, self.mount_point, self.map_type, self.identity,
                                                      self.timeout, self.options):
                line = old.text.strip()
            self.result['master'] = {'file': self.target, 'line': line, 'mount_point': self.mount_point,
                                     'map_type': self.map_type, 'map_path': self.map_path,
                                     'timeout': self.timeout, 'options': list(self.options)}
            self.reasons = autofs.restart_reasons(old, kept) if changes else []
            if self.target == self.dropin:
                master_text = self.read(self.paths.autofs_master)
                if not autofs.includes_dir(master_text or '', self.paths.autofs_master_d):
                    self.unread = True
                    self.module.warn('%s has no "+dir:%s" line, so autofs does not read %s'
                                     % (self.paths.autofs_master, self.paths.autofs_master_d, self.dropin))
        else:
            self.reasons = []
        return changes

    def edit_master(self, text, path, wanted):
        """(TEXT with this map's lines replaced by WANTED - or removed when None -, the first one found)."""
        blocks = autofs.master_blocks(text)
        out, found = [], None
        for block in blocks:
            if not self.ours(block.master, path):
                out.append(block)
                continue
            if found is None:
                found = block.master
                if wanted is not None:
                    same = autofs.same_master(block.master, self.mount_point, self.map_type, self.identity,
                                              self.timeout, self.options)
                    out.append(block if same else autofs.Block(autofs.physical_lines(wanted)))
                    wanted = None
        lines = [line for block in out for line in block.lines]
        if wanted is not None:
            autofs._ensure_newline(lines)
            lines.append(wanted)
        return ''.join(lines), found

    def check_conflicts(self):
        """A master entry for this mount point (or, for /-, this map) that is not this map's: autofs reads
        only the first of two entries for an indirect mount point, so this one might never be used."""
        files = [self.paths.autofs_master] + autofs.dropin_files(self.paths.autofs_master_d)
        for path in files:
            text = self.read(path)
            for number, block in enumerate(autofs.master_blocks(text or ''), 1):
                line = block.master
                if line is None or line.mount_point != self.mount_point:
                    continue
                if self.direct and line.identity() != self.identity:
                    continue
                if path in (self.target, self.other) and self.ours(line, path):
                    continue
                raise autofs.AutofsError(
                    '%s already has a master entry for %s (%r, line %d); remove it there first'
                    % (path, self.mount_point, block.text.strip(), number), error_code='master_conflict',
                    conflict={'file': path, 'line': block.text.strip()})

    # --- the map file --------------------------------------------------------------------------------

    def plan_map(self):
        if self.map_type in BUILTIN:
            return []
        result = {'path': self.map_path, 'type': self.map_type, 'direct': self.direct, 'entries': []}
        self.result['map'] = result
        if self.map_type == 'program':
            return []
        text = self.read(self.map_path)
        if text is not None and not os.path.isfile(self.map_path):
            raise autofs.AutofsError('%s is not a regular file' % self.map_path)
        new, actions = autofs.update_map(text or '', self.wanted)
        if text is None:
            new = autofs.HEADER + new
        self.result['changed_keys'] = [key for key, _action in actions]
        result['entries'] = autofs.parse_map(new)
        return [(self.map_path, new)] if new != text else []

    def plan_map_removal(self, masters):
        """Delete a file map that no master entry names any more (after MASTERS are applied)."""
        if self.map_type != 'file' or self.read(self.map_path) is None:
            return []
        after = dict(masters)
        files = [self.paths.autofs_master] + autofs.dropin_files(self.paths.autofs_master_d)
        for path in files:
            text = after[path] if path in after else self.read(path)
            for block in autofs.master_blocks(text or ''):
                if block.master is not None and block.master.identity() == self.map_path:
                    self.module.warn('%s is kept: %s still names it (%s)' % (self.map_path, path, block.text.strip()))
                    return []
        self.result['changed_keys'] = [entry['key'] for entry in autofs.parse_map(self.read(self.map_path))]
        return [(self.map_path, None)]

    # --- the service ---------------------------------------------------------------------------------

    def service(self):
        state = autofs.service_state(self.runner)
        if state is None:
            self.module.warn('systemctl was not found: reload autofs yourself')
            self.result['restart_reasons'] = self.reasons
            self.result['restart_needed'] = bool(self.reasons)
            return
        if state != 'active':
            return
        self.result['restart_reasons'] = self.reasons
        self.result['restart_needed'] = bool(self.reasons)
        if not self.params['reload']:
            return
        self.result['reloaded'] = True
        if self.check:
            return
        present, absent = (set(), set()) if self.unread else self.expected_mounts()
        mountinfo = self.paths.mountinfo

        def settled():
            mounted = autofs.autofs_mount_points(mountinfo)
            return present <= mounted and not absent & mounted

        self.result['reloads'], self.result['settled'] = autofs.reload_until_settled(self.runner, settled)
        if not self.result['settled']:
            mounted = autofs.autofs_mount_points(mountinfo)
            self.module.warn('after %d reloads automount has not %s (busy mounts stay until they are unused)' % (
                self.result['reloads'], '; '.join(
                    (['mounted %s' % ', '.join(sorted(present - mounted))] if present - mounted else [])
                    + (['let go of %s' % ', '.join(sorted(absent & mounted))] if absent & mounted else []))))

    def expected_mounts(self):
        """(autofs mounts this map should have after the reload, those it should no longer have): its mount
        point, or for a direct map its keys."""
        if self.direct:
            keys = set(self.result['changed_keys'])
            if self.state == 'present':
                now = set(entry['key'] for entry in (self.result.get('map') or {}).get('entries', []))
                return now, keys - now
            return set(), keys
        if self.state == 'present' and self.map_type != 'null':
            return set([self.mount_point]), set()
        return set(), set([self.mount_point])


def main(paths=None):
    """PATHS: the host's roots (unit tests pass a fake tree's)."""
    offset = dict(
        path=dict(type='str', required=True),
        options=dict(type='list', elements='str', default=[]),
        location=dict(type='str'),
        locations=dict(type='list', elements='str'),
    )
    entry = dict(
        key=dict(type='str', required=True, no_log=False),
        options=dict(type='list', elements='str', default=[]),
        location=dict(type='str'),
        locations=dict(type='list', elements='str'),
        offsets=dict(type='list', elements='dict', options=offset),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            mount_point=dict(type='str', required=True),
            map_type=dict(type='str', default='file', choices=['file', 'program', 'null', 'hosts']),
            map_path=dict(type='path'),
            options=dict(type='list', elements='str', default=[]),
            timeout=dict(type='int'),
            master=dict(type='str', default='dropin', choices=['dropin', 'auto.master']),
            entries=dict(type='list', elements='dict', default=[], options=entry),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            reload=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    manager = None
    try:
        manager = AutofsMap(module, paths)
        module.exit_json(**manager.run())
    except autofs.AutofsError as exc:
        result = autofs.displayable(dict(manager.result)) if manager else {}
        result.update(exc.extra)
        changed = bool(result.pop('changed', False))
        module.fail_json(msg=exc.msg, error_code=exc.error_code, changed=changed, **result)
    except CommandError as exc:
        fail_with(module, exc, manager.result if manager else None)


if __name__ == '__main__':
    main()
