# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.san.iscsi.plugins.modules import autofs_map
from ansible_collections.san.iscsi.plugins.module_utils import _autofs as autofs
from ansible_collections.san.iscsi.plugins.module_utils._autofs import HEADER
from ansible_collections.san.iscsi.plugins.module_utils._host_paths import HostPaths
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_iscsiadm import FakeCommands

FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'autofs', 'auto.master')
SYSTEMCTL = ['/usr/bin/timeout', '-k', '5', '60', '/usr/bin/systemctl']
IS_ACTIVE = SYSTEMCTL + ['is-active', 'autofs.service']
RELOAD = SYSTEMCTL + ['reload', 'autofs.service']
MOUNTINFO_ROOT = '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n'
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason='program maps must be owned by root: needs root')

HOME_ENTRIES = [{'key': 'fred', 'location': 'suitcase:/export/fred'},
                {'key': 'nancy', 'location': 'suitcase:/export/nancy'},
                {'key': '*', 'location': 'homebase:/export/&'}]


class Host(object):
    """A fake host: /etc with autofs' upstream sample auto.master (its +dir: line pointing at the fake
    auto.master.d), and systemctl through the command runner."""

    def __init__(self, tmp_path, monkeypatch):
        self.etc = tmp_path / 'etc'
        self.master_d = self.etc / 'auto.master.d'
        self.master_d.mkdir(parents=True)
        self.master = self.etc / 'auto.master'
        with open(FIXTURE) as handle:
            self.master_text = handle.read().replace('+dir:/etc/auto.master.d', '+dir:%s' % self.master_d)
        self.master.write_text(self.master_text)
        self.mountinfo = tmp_path / 'mountinfo'
        self.mountinfo.write_text(MOUNTINFO_ROOT)
        self.paths = HostPaths(autofs_master=str(self.master), autofs_master_d=str(self.master_d),
                               autofs_map_dir=str(self.etc), mountinfo=str(self.mountinfo))
        self.commands = FakeCommands(monkeypatch, binaries={'timeout': '/usr/bin/timeout',
                                                            'systemctl': '/usr/bin/systemctl'})

    def expect_reload(self, state='active'):
        self.commands.expect(IS_ACTIVE, rc=0 if state == 'active' else 3, out=state + '\n')
        if state == 'active':
            self.commands.expect(RELOAD, effect=self.automount)

    def automount(self):
        """What automount does on SIGHUP, roughly: an autofs mount at every indirect mount point of the master
        files and at every key of every direct map."""
        points = []
        files = [str(self.master)]
        if autofs.includes_dir(self.master.read_text(), str(self.master_d)):
            files += sorted(str(path) for path in self.master_d.glob('*.autofs'))
        for path in files:
            with open(path) as handle:
                blocks = autofs.master_blocks(handle.read())
            for line in (block.master for block in blocks if block.master is not None):
                if line.map_type == 'null':
                    continue
                if line.mount_point != autofs.DIRECT:
                    points.append(line.mount_point)
                elif line.map and os.path.exists(line.map):
                    with open(line.map) as handle:
                        points.extend(entry['key'] for entry in autofs.parse_map(handle.read()))
        self.mountinfo.write_text(MOUNTINFO_ROOT + ''.join(
            '%d 27 0:%d / %s rw,relatime - autofs automount rw,fd=5,pgrp=1,timeout=300\n'
            % (100 + number, 60 + number, point) for number, point in enumerate(points)))

    def tree(self):
        """Every file under /etc with its content and mode: to show that nothing changed."""
        found = {}
        for root, _dirs, files in os.walk(str(self.etc)):
            for name in files:
                path = os.path.join(root, name)
                with open(path, 'rb') as handle:
                    found[path] = (handle.read(), stat.S_IMODE(os.stat(path).st_mode))
        return found

    def path(self, name):
        return str(self.etc / name)


@pytest.fixture
def host(tmp_path, monkeypatch):
    host = Host(tmp_path, monkeypatch)
    yield host
    host.commands.done()


def run(run_module, host, args, **kwargs):
    return run_module(autofs_map, args, paths=host.paths, **kwargs)


def home(host, **extra):
    args = {'name': 'home', 'mount_point': '/home', 'timeout': 300, 'entries': HOME_ENTRIES}
    args.update(extra)
    return args


# --- present ------------------------------------------------------------------------------------------

def test_auto_home_as_a_dropin_and_its_map(run_module, host):
    host.expect_reload()
    result = run(run_module, host, home(host), diff=True)
    map_text = HEADER + 'fred\tsuitcase:/export/fred\nnancy\tsuitcase:/export/nancy\n*\thomebase:/export/&\n'
    line = '/home file:%s --timeout=300' % host.path('auto.home')
    assert (host.etc / 'auto.home').read_text() == map_text
    assert (host.master_d / 'home.autofs').read_text() == HEADER + line + '\n'
    assert host.master.read_text() == host.master_text
    assert stat.S_IMODE(os.stat(host.path('auto.home')).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(str(host.master_d / 'home.autofs')).st_mode) == 0o644
    assert result['changed'] is True and result['reloaded'] is True and result['restart_needed'] is False
    assert (result['reloads'], result['settled']) == (1, True)
    assert result['changed_keys'] == ['fred', 'nancy', '*']
    assert result['master'] == {'file': str(host.master_d / 'home.autofs'), 'line': line, 'mount_point': '/home',
                                'map_type': 'file', 'map_path': host.path('auto.home'), 'timeout': 300,
                                'options': []}
    assert result['map'] == {'path': host.path('auto.home'), 'type': 'file', 'direct': False, 'entries': [
        {'key': 'fred', 'options': [], 'locations': ['suitcase:/export/fred'], 'offsets': []},
        {'key': 'nancy', 'options': [], 'locations': ['suitcase:/export/nancy'], 'offsets': []},
        {'key': '*', 'options': [], 'locations': ['homebase:/export/&'], 'offsets': []}]}
    assert result['diff'] == [
        {'before_header': host.path('auto.home'), 'after_header': host.path('auto.home'), 'before': '',
         'after': map_text},
        {'before_header': str(host.master_d / 'home.autofs'), 'after_header': str(host.master_d / 'home.autofs'),
         'before': '', 'after': HEADER + line + '\n'}]
    assert host.commands.calls == [IS_ACTIVE, RELOAD]


def test_second_run_changes_nothing_and_does_not_reload(run_module, host):
    host.expect_reload()
    run(run_module, host, home(host))
    before = host.tree()
    again = run(run_module, host, home(host), diff=True)
    assert again['changed'] is False and again['reloaded'] is False and again['diff'] == []
    assert again['changed_keys'] == []
    assert again['master']['line'] == '/home file:%s --timeout=300' % host.path('auto.home')
    assert host.tree() == before
    assert host.commands.calls == [IS_ACTIVE, RELOAD]


def test_check_mode_writes_nothing_and_reports_the_same_change_and_diff(run_module, host):
    before = host.tree()
    host.commands.expect(IS_ACTIVE, out='active\n')
    checked = run(run_module, host, home(host), check_mode=True, diff=True)
    assert host.tree() == before
    assert not os.path.exists(host.path('auto.home'))
    assert host.commands.calls == [IS_ACTIVE]
    host.expect_reload()
    done = run(run_module, host, home(host), diff=True)
    assert checked['changed'] is done['changed'] is True
    assert checked['diff'] == done['diff'] and len(done['diff']) == 2
    assert checked['reloaded'] is done['reloaded'] is True
    assert checked['master'] == done['master'] and checked['map'] == done['map']


MAP = ('# people, see HR-1234\n'
       'fred\tsuitcase:/export/fred\n'
       '\n'
       'nancy   -rw,soft   suitcase:/export/nancy\n'
       '+auto.home\n'
       'joe  \\\n'
       '  -ro  oldhost:/export/joe\n'
       '*\thomebase:/export/&\n')


def test_only_the_named_entry_lines_change(run_module, host):
    (host.etc / 'auto.home').write_text(MAP)
    os.chmod(host.path('auto.home'), 0o640)
    host.expect_reload()
    result = run(run_module, host, home(host, entries=[
        {'key': 'joe', 'options': ['ro'], 'location': 'newhost:/export/joe'},
        {'key': 'nancy', 'options': ['-rw', 'soft'], 'location': 'suitcase:/export/nancy'}]), diff=True)
    expected = MAP.replace('joe  \\\n  -ro  oldhost:/export/joe\n', 'joe\t-ro newhost:/export/joe\n')
    assert (host.etc / 'auto.home').read_text() == expected
    assert stat.S_IMODE(os.stat(host.path('auto.home')).st_mode) == 0o640
    assert result['changed_keys'] == ['joe']
    assert result['diff'][0] == {'before_header': host.path('auto.home'), 'after_header': host.path('auto.home'),
                                 'before': MAP, 'after': expected}
    assert [entry['key'] for entry in result['map']['entries']] == ['fred', 'nancy', 'joe', '*']


def test_undecodable_bytes_are_kept_in_the_file_and_shown_replaced(run_module, host):
    (host.etc / 'auto.home').write_bytes(b'# caf\xe9\nfred\tsuitcase:/export/fr\xe9d\n')
    host.expect_reload()
    result = run(run_module, host, home(host, entries=[{'key': 'joe', 'location': 'h:/joe'}]), diff=True)
    assert (host.etc / 'auto.home').read_bytes() == b'# caf\xe9\nfred\tsuitcase:/export/fr\xe9d\njoe\th:/joe\n'
    assert result['diff'][0]['before'] == u'# caf\ufffd\nfred\tsuitcase:/export/fr\ufffdd\n'
    assert result['map']['entries'][0]['locations'] == [u'suitcase:/export/fr\ufffdd']


def test_entry_absent_removes_only_its_lines(run_module, host):
    (host.etc / 'auto.home').write_text(MAP)
    host.expect_reload()
    result = run(run_module, host, home(host, entries=[{'key': 'joe', 'state': 'absent'},
                                                       {'key': 'nobody', 'state': 'absent'}]))
    assert (host.etc / 'auto.home').read_text() == MAP.replace('joe  \\\n  -ro  oldhost:/export/joe\n', '')
    assert result['changed_keys'] == ['joe']
    assert run(run_module, host, home(host, entries=[{'key': 'joe', 'state': 'absent'}]))['changed'] is False


def test_direct_and_multi_mount_maps_share_the_direct_mount_point(run_module, host):
    host.expect_reload()
    host.expect_reload()
    run(run_module, host, {'name': 'direct', 'mount_point': '/-', 'entries': [
        {'key': '/var/mail', 'location': 'mailhub:/var/mail'},
        {'key': '/usr/share/man', 'options': ['ro'], 'location': 'shareserver:/usr/share/man'}]})
    result = run(run_module, host, {'name': 'local', 'mount_point': '/-', 'entries': [
        {'key': '/usr/local', 'offsets': [
            {'path': '/', 'location': 'toolbox:/export/local'},
            {'path': '/bin', 'location': 'toolbox:/export/local/$ARCH/bin'},
            {'path': '/man', 'location': 'docubox:/work/man'},
            {'path': '/lib', 'location': 'buildserv:/projects/lib'}]}]})
    assert (host.etc / 'auto.direct').read_text() == HEADER + (
        '/var/mail\tmailhub:/var/mail\n/usr/share/man\t-ro shareserver:/usr/share/man\n')
    assert (host.etc / 'auto.local').read_text() == HEADER + (
        '/usr/local \\\n\t/ toolbox:/export/local \\\n\t/bin toolbox:/export/local/$ARCH/bin \\\n'
        '\t/man docubox:/work/man \\\n\t/lib buildserv:/projects/lib\n')
    assert (host.master_d / 'direct.autofs').read_text() == HEADER + '/- file:%s\n' % host.path('auto.direct')
    assert (host.master_d / 'local.autofs').read_text() == HEADER + '/- file:%s\n' % host.path('auto.local')
    assert result['map']['direct'] is True
    assert result['map']['entries'][0]['offsets'][1] == {
        'path': '/bin', 'options': [], 'locations': ['toolbox:/export/local/$ARCH/bin']}


def test_master_in_auto_master_then_moved_to_a_dropin(run_module, host):
    host.expect_reload()
    run(run_module, host, home(host, master='auto.master', options=['browse']))
    line = '/home file:%s --timeout=300 browse\n' % host.path('auto.home')
    assert host.master.read_text() == host.master_text + line
    assert not (host.master_d / 'home.autofs').exists()
    host.expect_reload()
    moved = run(run_module, host, home(host, options=['browse']), diff=True)
    assert host.master.read_text() == host.master_text
    assert (host.master_d / 'home.autofs').read_text() == HEADER + line
    assert moved['restart_needed'] is False
    assert [diff['before_header'] for diff in moved['diff']] == [str(host.master_d / 'home.autofs'), str(host.master)]


def test_moved_from_its_dropin_into_auto_master_deletes_the_dropin(run_module, host):
    host.expect_reload()
    run(run_module, host, home(host))
    host.expect_reload()
    run(run_module, host, home(host, master='auto.master'))
    assert not (host.master_d / 'home.autofs').exists()
    assert host.master.read_text() == host.master_text + '/home file:%s --timeout=300\n' % host.path('auto.home')


def test_changed_master_line_is_replaced_in_place_and_restart_reported(run_module, host):
    dropin = host.master_d / 'home.autofs'
    dropin.write_text('# hand-written\n/home\t%s  --timeout=60 nobind\n# end\n' % host.path('auto.home'))
    (host.etc / 'auto.home').write_text('fred\tsuitcase:/export/fred\n')
    host.expect_reload()
    result = run(run_module, host, home(host, entries=[]))
    assert dropin.read_text() == '# hand-written\n/home file:%s --timeout=300\n# end\n' % host.path('auto.home')
    assert result['changed_keys'] == []
    assert result['restart_needed'] is True
    assert result['restart_reasons'] == ['nobind changed: autofs reads it only when it creates the mount point']


def test_timeout_change_needs_only_the_reload(run_module, host):
    (host.master_d / 'home.autofs').write_text('/home file:%s --timeout=60\n' % host.path('auto.home'))
    (host.etc / 'auto.home').write_text('')
    host.expect_reload()
    result = run(run_module, host, home(host, entries=[], timeout=600))
    assert (host.master_d / 'home.autofs').read_text() == '/home file:%s --timeout=600\n' % host.path('auto.home')
    assert (result['reloaded'], result['restart_needed'], result['restart_reasons']) == (True, False, [])


def test_restart_not_needed_when_autofs_is_not_running(run_module, host):
    (host.master_d / 'home.autofs').write_text('/home file:%s browse\n' % host.path('auto.home'))
    (host.etc / 'auto.home').write_text('')
    host.expect_reload(state='inactive')
    result = run(run_module, host, home(host, entries=[]))
    assert (result['changed'], result['reloaded'], result['restart_needed']) == (True, False, False)


def test_reload_false_does_not_reload(run_module, host):
    host.commands.expect(IS_ACTIVE, out='active\n')
    result = run(run_module, host, home(host, reload=False))
    assert (result['changed'], result['reloaded']) == (True, False)
    assert host.commands.calls == [IS_ACTIVE]


def test_failed_reload_is_command_failed_after_the_write(run_module, host):
    host.commands.expect(IS_ACTIVE, out='active\n').expect(RELOAD, rc=1, err='Job for autofs.service failed.\n')
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, host, home(host))
    assert failed.value.result['error_code'] == 'command_failed'
    assert failed.value.result['changed'] is True
    assert failed.value.result['cmd'] == RELOAD
    assert 'Job for autofs.service failed.' in failed.value.result['msg']
    assert (host.master_d / 'home.autofs').exists()


def test_null_map_replaces_the_packages_entry_in_auto_master(run_module, host):
    host.expect_reload()
    run(run_module, host, {'name': 'net', 'mount_point': '/net', 'map_type': 'null', 'master': 'auto.master'})
    assert host.master.read_text() == host.master_text.replace('/net\t-hosts\n', '/net -null\n')
    assert sorted(os.listdir(str(host.etc))) == ['auto.master', 'auto.master.d']


def test_warns_when_auto_master_does_not_include_the_dropins(run_module, host, monkeypatch):
    host.master.write_text(host.master_text.replace('+dir:', '#+dir:'))
    warnings = []
    monkeypatch.setattr(autofs_map.AnsibleModule, 'warn', lambda module, msg: warnings.append(msg))
    host.expect_reload()
    run(run_module, host, home(host))
    assert warnings == ['%s has no "+dir:%s" line, so autofs does not read %s'
                        % (host.master, host.master_d, host.master_d / 'home.autofs')]


# --- absent -------------------------------------------------------------------------------------------

def test_map_absent_removes_master_entry_dropin_and_map_file(run_module, host):
    host.expect_reload()
    run(run_module, host, home(host))
    host.expect_reload()
    result = run(run_module, host, {'name': 'home', 'mount_point': '/home', 'state': 'absent'}, diff=True)
    assert not (host.master_d / 'home.autofs').exists()
    assert not (host.etc / 'auto.home').exists()
    assert host.master.read_text() == host.master_text
    assert result['master'] is None and result['map'] is None
    assert result['changed_keys'] == ['fred', 'nancy', '*']
    assert [(d['before_header'], d['after']) for d in result['diff']] == [
        (str(host.master_d / 'home.autofs'), ''), (host.path('auto.home'), '')]
    again = run(run_module, host, {'name': 'home', 'mount_point': '/home', 'state': 'absent'})
    assert again['changed'] is False


def test_map_absent_keeps_what_is_not_its_own(run_module, host, monkeypatch):
    dropin = host.master_d / 'home.autofs'
    dropin.write_text('# our notes\n/home file:%s\n' % host.path('auto.home'))
    (host.master_d / 'other.autofs').write_text('/other %s\n' % host.path('auto.home'))
    (host.etc / 'auto.home').write_text('fred\tsuitcase:/export/fred\n')
    warnings = []
    monkeypatch.setattr(autofs_map.AnsibleModule, 'warn', lambda module, msg: warnings.append(msg))
    host.expect_reload()
    run(run_module, host, {'name': 'home', 'mount_point': '/home', 'state': 'absent'})
    assert dropin.read_text() == '# our notes\n'
    assert (host.etc / 'auto.home').read_text() == 'fred\tsuitcase:/export/fred\n'
    assert len(warnings) == 1 and 'other.autofs still names it' in warnings[0]


def test_map_absent_from_auto_master(run_module, host):
    host.master.write_text(host.master_text + '/home file:%s --timeout=300\n' % host.path('auto.home'))
    host.expect_reload()
    run(run_module, host, {'name': 'home', 'mount_point': '/home', 'state': 'absent', 'master': 'auto.master'})
    assert host.master.read_text() == host.master_text


# --- refused before anything changes ------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    ({'name': 'a/b'}, 'name'),
    ({'mount_point': 'home'}, 'mount_point'),
    ({'mount_point': '/home/../etc'}, 'normalised'),
    ({'timeout': -1}, 'timeout must be 0 or more'),
    ({'options': ['--timeout=60']}, 'give the timeout as timeout: N'),
    ({'options': ['rw soft']}, 'not an option the master map parser takes'),
    ({'entries': [{'key': 'a b', 'location': 'h:/a'}]}, 'indirect map key'),
    ({'entries': [{'key': '/abs', 'location': 'h:/a'}]}, 'absolute keys belong in a direct map'),
    ({'entries': [{'key': 'a', 'location': 'h:/a\n/etc/passwd'}]}, 'location'),
    ({'entries': [{'key': 'a', 'location': 'h:/a', 'options': ['ro,suid']}]}, 'one mount option'),
    ({'entries': [{'key': 'a', 'location': '-null'}]}, 'is a master map entry'),
    ({'entries': [{'key': 'a'}]}, 'needs location, locations or offsets'),
    ({'entries': [{'key': 'a', 'location': 'h:/a'}, {'key': 'a', 'state': 'absent'}]}, 'given twice'),
    ({'mount_point': '/-', 'entries': [{'key': '*', 'location': 'h:/a'}]}, 'wildcard'),
    ({'mount_point': '/-', 'entries': [{'key': '/a/../b', 'location': 'h:/a'}]}, 'normalised'),
    ({'map_type': 'null', 'timeout': 60, 'entries': []}, 'takes no options'),
    ({'map_type': 'null', 'entries': [{'key': 'a', 'location': 'h:/a'}]}, 'has no entries'),
    ({'map_type': 'hosts', 'map_path': '/etc/auto.x', 'entries': []}, 'has no map_path'),
    ({'map_type': 'hosts', 'mount_point': '/-', 'entries': []}, 'indirect mount point'),
    ({'map_path': 'auto.home'}, 'map_path'),
])
def test_invalid_input_changes_nothing(run_module, host, args, message):
    before = host.tree()
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, host, home(host, **args))
    assert failed.value.result['error_code'] == 'invalid'
    assert message in failed.value.result['msg']
    assert failed.value.result['changed'] is False
    assert host.tree() == before
    assert host.commands.calls == []


def test_conflicting_master_entry_changes_nothing(run_module, host):
    before = host.tree()
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, host, {'name': 'misc', 'mount_point': '/misc', 'entries': [
            {'key': 'cd', 'options': ['fstype=iso9660', 'ro'], 'location': ':/dev/cdrom'}]})
    assert failed.value.result['error_code'] == 'master_conflict'
    assert failed.value.result['conflict'] == {'file': str(host.master), 'line': '/misc\t/etc/auto.misc'}
    assert host.tree() == before


def test_same_direct_map_in_another_dropin_conflicts(run_module, host):
    (host.master_d / 'old.autofs').write_text('/- %s\n' % host.path('auto.direct'))
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, host, {'name': 'direct', 'mount_point': '/-', 'entries': [
            {'key': '/var/mail', 'location': 'mailhub:/var/mail'}]})
    assert failed.value.result['error_code'] == 'master_conflict'
    assert not (host.etc / 'auto.direct').exists()


# --- program maps -------------------------------------------------------------------------------------

@pytest.fixture
def program(tmp_path):
    directory = tmp_path / 'sbin'
    directory.mkdir()
    os.chmod(str(directory), 0o755)
    path = directory / 'auto.iscsi'
    path.write_text('#!/bin/sh\necho "-fstype=xfs,ro,nouuid :/dev/disk/by-id/$1"\n')
    os.chmod(str(path), 0o755)
    return path


def iscsi(program, **extra):
    args = {'name': 'iscsi', 'mount_point': '/iscsiauto', 'map_type': 'program', 'map_path': str(program),
            'timeout': 600}
    args.update(extra)
    return args


@AS_ROOT
def test_program_map_is_checked_not_written(run_module, host, program):
    content = program.read_text()
    host.expect_reload()
    result = run(run_module, host, iscsi(program))
    assert (host.master_d / 'iscsi.autofs').read_text() == HEADER + '/iscsiauto program:%s --timeout=600\n' % program
    assert program.read_text() == content and stat.S_IMODE(os.stat(str(program)).st_mode) == 0o755
    assert result['map'] == {'path': str(program), 'type': 'program', 'direct': False, 'entries': []}
    host.expect_reload()
    run(run_module, host, {'name': 'iscsi', 'mount_point': '/iscsiauto', 'map_type': 'program',
                           'map_path': str(program), 'state': 'absent'})
    assert program.read_text() == content
    assert not (host.master_d / 'iscsi.autofs').exists()


@AS_ROOT
@pytest.mark.parametrize('change, problem', [
    (lambda p: os.chmod(str(p), 0o775), 'is writable by group or others (mode 0775)'),
    (lambda p: os.chmod(str(p), 0o644), 'is not executable by its owner (mode 0644)'),
    (lambda p: os.chown(str(p), 65534, 0), 'is owned by uid 65534, not root'),
    (lambda p: os.chmod(str(p.parent), 0o777), 'its directory %s is writable by group or others'),
    (lambda p: os.unlink(str(p)), 'does not exist'),
])
def test_unsafe_program_map_changes_nothing(run_module, host, program, change, problem):
    change(program)
    before = host.tree()
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, host, iscsi(program))
    result = failed.value.result
    assert result['error_code'] == 'program_map_unsafe'
    assert (problem % program.parent if '%s' in problem else problem) in result['msg']
    assert host.tree() == before
    assert host.commands.calls == []


def test_program_map_takes_no_entries(run_module, host, program):
    with pytest.raises(ModuleFailed) as failed:
        run(run_module, host, iscsi(program, entries=[{'key': 'a', 'location': 'h:/a'}]))
    assert failed.value.result['error_code'] == 'invalid'
    assert 'no entries' in failed.value.result['msg']
