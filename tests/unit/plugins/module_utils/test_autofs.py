# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _autofs as autofs
from ansible_collections.san.iscsi.plugins.module_utils._autofs import AutofsError


def entry(key, locations=(), options=(), offsets=()):
    return {'key': key, 'options': list(options), 'locations': list(locations), 'offsets': list(offsets)}


def offset(path, locations, options=()):
    return {'path': path, 'options': list(options), 'locations': list(locations)}


# --- parse and render ----------------------------------------------------------------------------------

@pytest.mark.parametrize('value, text', [
    (entry('fred', ['suitcase:/export/fred']), 'fred\tsuitcase:/export/fred\n'),
    (entry('*', ['homebase:/export/&']), '*\thomebase:/export/&\n'),
    (entry('/usr/share/man', ['shareserver:/usr/share/man'], ['ro']), '/usr/share/man\t-ro shareserver:/usr/share/man\n'),
    (entry('vol1', [':/dev/disk/by-id/wwn-0x6001405d3b6a1f0c'], ['fstype=xfs', 'ro', 'nouuid']),
     'vol1\t-fstype=xfs,ro,nouuid :/dev/disk/by-id/wwn-0x6001405d3b6a1f0c\n'),
    (entry('data', ['host1:/export/data', 'host2(5):/export/data']),
     'data\thost1:/export/data host2(5):/export/data\n'),
    (entry('tools', ['host1,host2,host3:/export/$ARCH/${OS}']), 'tools\thost1,host2,host3:/export/$ARCH/${OS}\n'),
    (entry('/usr/local', offsets=[offset('/', ['toolbox:/export/local']),
                                  offset('/bin', ['toolbox:/export/local/$ARCH/bin']),
                                  offset('/man', ['docubox:/work/man'], ['ro'])], options=['rw']),
     '/usr/local\t-rw \\\n\t/ toolbox:/export/local \\\n\t/bin toolbox:/export/local/$ARCH/bin \\\n'
     '\t/man -ro docubox:/work/man\n'),
    (entry('server', offsets=[offset('/', ['a:/', 'b:/']), offset('/usr', ['a:/usr'])]),
     'server \\\n\t/ a:/ b:/ \\\n\t/usr a:/usr\n'),
])
def test_render_and_parse_round_trip(value, text):
    assert autofs.render_entry(value) == text
    assert autofs.parse_map(text) == [value]


def test_parse_reads_entries_the_way_autofs_does():
    text = ('# comment \\\n'
            'still the comment, continued by the backslash\n'
            '\n'
            'fred   -rw,soft  -intr\tsuitcase:/export/fred\n'
            '+auto.home\n'
            'broken -ro\n'
            '"quoted key"  host:/x\n'
            '/usr/local \\\n'
            '    / -ro toolbox:/export/local \\\n'
            '    /bin toolbox:/bin')
    blocks = autofs.map_blocks(text)
    assert [block.kind for block in blocks] == ['comment', 'blank', 'entry', 'include', 'entry', 'entry', 'entry']
    assert ''.join(line for block in blocks for line in block.lines) == text
    assert [block.key for block in blocks] == [None, None, 'fred', None, 'broken', '"quoted key"', '/usr/local']
    assert blocks[4].entry is None
    assert autofs.parse_map(text) == [
        entry('fred', ['suitcase:/export/fred'], ['rw', 'soft', 'intr']),
        entry('"quoted key"', ['host:/x']),
        entry('/usr/local', offsets=[offset('/', ['toolbox:/export/local'], ['ro']), offset('/bin', ['toolbox:/bin'])]),
    ]


def test_tokens_keep_quotes_and_escapes_inside_a_word():
    assert autofs.tokens('a  "b c"\td\\ e  f') == ['a', '"b c"', 'd\\ e', 'f']


# --- update_map ----------------------------------------------------------------------------------------

MAP = ('# /etc/auto.home: people\n'
       'fred\tsuitcase:/export/fred\n'
       '\n'
       'nancy     -rw    suitcase:/export/nancy\n'
       '/usr/local \\\n'
       '\t/ toolbox:/export/local \\\n'
       '\t/bin toolbox:/export/local/sun4/bin\n'
       '*\thomebase:/export/&\n')


def test_update_replaces_only_the_changed_entry_and_keeps_every_other_byte():
    text, actions = autofs.update_map(MAP, [
        ('fred', entry('fred', ['suitcase:/export/fred'])),
        ('/usr/local', entry('/usr/local', offsets=[offset('/', ['toolbox:/export/local']),
                                                    offset('/bin', ['toolbox:/export/local/$ARCH/bin'])])),
    ])
    assert actions == [('/usr/local', 'updated')]
    assert text == MAP.replace('/sun4/', '/$ARCH/')


def test_a_hash_after_the_location_is_part_of_the_entry():
    # autofs' file lookup takes '#' as a comment only at the start of a line (modules/lookup_file.c read_one)
    text = 'fred\tsuitcase:/export/fred   # moved in 2024\n'
    assert autofs.parse_map(text) == [entry('fred', ['suitcase:/export/fred', '#', 'moved', 'in', '2024'])]
    assert autofs.update_map(text, [('fred', entry('fred', ['suitcase:/export/fred']))]) == (
        'fred\tsuitcase:/export/fred\n', [('fred', 'updated')])


def test_update_equal_entry_in_other_spacing_is_left_alone():
    text, actions = autofs.update_map(MAP, [('nancy', entry('nancy', ['suitcase:/export/nancy'], ['rw']))])
    assert (text, actions) == (MAP, [])


def test_update_changed_entry_is_rendered_in_place():
    text, actions = autofs.update_map(MAP, [('nancy', entry('nancy', ['suitcase:/export/nancy'], ['ro']))])
    assert actions == [('nancy', 'updated')]
    assert text == MAP.replace('nancy     -rw    suitcase:/export/nancy\n', 'nancy\t-ro suitcase:/export/nancy\n')


def test_update_removes_and_appends():
    text, actions = autofs.update_map(MAP, [('nancy', None), ('joe', entry('joe', ['h1:/a', 'h2:/b'])),
                                            ('nobody', None)])
    assert actions == [('nancy', 'removed'), ('joe', 'added')]
    assert text == MAP.replace('nancy     -rw    suitcase:/export/nancy\n', '') + 'joe\th1:/a h2:/b\n'


def test_update_drops_later_duplicates_of_a_key():
    text, actions = autofs.update_map('a\th:/1\nb\th:/b\na\th:/2\n', [('a', entry('a', ['h:/1']))])
    assert (text, actions) == ('a\th:/1\nb\th:/b\n', [('a', 'updated')])


def test_update_appends_after_a_last_line_without_newline():
    text, _actions = autofs.update_map('# x\na\th:/a', [('b', entry('b', ['h:/b']))])
    assert text == '# x\na\th:/a\nb\th:/b\n'


def test_update_keeps_crlf_and_undecodable_lines(tmp_path):
    path = tmp_path / 'map'
    path.write_bytes(b'# caf\xe9\r\na\th:/a\r\n')
    text = autofs.read_text(str(path))
    new, _actions = autofs.update_map(text, [('b', entry('b', ['h:/b']))])
    autofs.write_text(None, str(tmp_path / 'out'), new)
    assert (tmp_path / 'out').read_bytes() == b'# caf\xe9\r\na\th:/a\r\nb\th:/b\n'


# --- the master map ------------------------------------------------------------------------------------

@pytest.mark.parametrize('word, expected', [
    ('/etc/auto.home', (None, None, '/etc/auto.home')),
    ('file:/etc/auto.home', ('file', None, '/etc/auto.home')),
    ('file,sun:/etc/auto.home', ('file', 'sun', '/etc/auto.home')),
    ('exec:/usr/sbin/auto.iscsi', ('program', None, '/usr/sbin/auto.iscsi')),
    ('program:/usr/sbin/auto.iscsi', ('program', None, '/usr/sbin/auto.iscsi')),
    ('-null', ('null', None, None)),
    ('-hosts', ('hosts', None, None)),
    ('auto.home', (None, None, 'auto.home')),
    ('server:/x', (None, None, 'server:/x')),
])
def test_map_spec(word, expected):
    assert autofs.parse_map_spec(word) == expected


@pytest.mark.parametrize('words, expected', [
    (['--timeout=60', 'browse'], (60, ['browse'])),
    (['--timeout', '60', '-rw,soft'], (60, ['-rw', 'soft'])),
    (['-t', '30'], (30, [])),
    (['-t60', '--ghost,-rw'], (60, ['--ghost', '-rw'])),
    (['--negative-timeout=10', 'nobind'], (None, ['--negative-timeout=10', 'nobind'])),
    ([], (None, [])),
])
def test_master_options(words, expected):
    assert autofs.split_master_options(words) == expected


def test_master_line_and_render():
    line = autofs.master_blocks('/home/ \t /etc/auto.home  --timeout 300 browse\n')[0].master
    assert (line.mount_point, line.map_type, line.map, line.timeout, line.options) == (
        '/home', None, '/etc/auto.home', 300, ['browse'])
    assert line.identity() == '/etc/auto.home'
    assert autofs.render_master('/home', 'file', '/etc/auto.home', 300, ['browse', '-rw']) == \
        '/home file:/etc/auto.home --timeout=300 browse,-rw\n'
    assert autofs.render_master('/net', 'null', None, None, []) == '/net -null\n'
    assert autofs.render_master('/net', 'hosts', None, 60, []) == '/net -hosts --timeout=60\n'


def test_untyped_map_is_a_program_when_its_owner_may_run_it(tmp_path):
    path = tmp_path / 'auto.x'
    path.write_text('a\th:/a\n')
    os.chmod(str(path), 0o644)
    line = autofs.master_blocks('/x %s\n' % path)[0].master
    assert line.effective_type() == 'file'
    os.chmod(str(path), 0o744)
    assert line.effective_type() == 'program'
    assert autofs.same_master(line, '/x', 'program', str(path), None, [])
    assert not autofs.same_master(line, '/x', 'file', str(path), None, [])


def test_includes_dir_and_only_header():
    assert autofs.includes_dir('# x\n+dir:/etc/auto.master.d/\n+auto.master\n', '/etc/auto.master.d')
    assert not autofs.includes_dir('#+dir:/etc/auto.master.d\n+auto.master\n', '/etc/auto.master.d')
    assert autofs.only_header(autofs.HEADER + '\n\n')
    assert not autofs.only_header(autofs.HEADER + '# mine\n')


def _master(line):
    return autofs.master_blocks(line + '\n')[0].master


@pytest.mark.parametrize('old, new, reasons', [
    ('/h f:/m --timeout=60', '/h f:/m --timeout=600', []),
    ('/h f:/m -rw', '/h f:/m -ro,soft', []),
    ('/h /m', '/h /m2', []),
    ('/h f:/m --timeout=60', '/h f:/m', ['timeout removed: a reload keeps the running timeout']),
    ('/h f:/m browse', '/h f:/m', ['browse/nobrowse changed: autofs reads it only when it creates the mount point']),
    ('/h f:/m', '/h f:/m --ghost', ['browse/nobrowse changed: autofs reads it only when it creates the mount point']),
    ('/h f:/m --ghost', '/h f:/m browse', []),
    ('/h f:/m', '/h f:/m nobind', ['nobind changed: autofs reads it only when it creates the mount point']),
    ('/h f:/m symlink,-r', '/h f:/m', [
        'random-multimount-selection removed: a reload does not clear it',
        'symlink removed: a reload does not clear it']),
    ('/h f:/m', '/h f:/m symlink', []),
    ('/h f:/m --negative-timeout=5', '/h f:/m', ['negative timeout removed: a reload keeps the running value']),
])
def test_restart_reasons(old, new, reasons):
    assert autofs.restart_reasons(_master(old), _master(new)) == reasons


def test_no_restart_for_a_new_or_removed_mount_point():
    assert autofs.restart_reasons(None, _master('/h f:/m browse')) == []
    assert autofs.restart_reasons(_master('/h f:/m browse'), None) == []


# --- validation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('key, direct', [
    ('fred', False), ('*', False), ('iqn.2026-11.lab.san-iscsi:browse', False), ('.snapshot', False),
    ('/usr/local', True), ('/var/mail', True),
])
def test_good_keys(key, direct):
    assert autofs.check_key(key, direct) == key


@pytest.mark.parametrize('key, direct', [
    ('', False), ('a b', False), ('a\nb', False), ('fred\n', False), ('/var/mail\n', True), ('-x', False), ('+auto.home', False), ('a/b', False),
    ('/abs', False), ('..', False), ('&', False), ('#x', False), ('x' * 256, False),
    ('*', True), ('relative', True), ('/a/../b', True), ('/a/', True), ('//a', True), ('/a b', True), ('/', True),
])
def test_bad_keys(key, direct):
    with pytest.raises(AutofsError) as error:
        autofs.check_key(key, direct)
    assert error.value.error_code == 'invalid'


@pytest.mark.parametrize('location', [
    'server:/export/home', 'h1,h2,h3:/p', 'h1(5),h2(10):/p', ':/dev/sdb1', '://server/share', 'homebase:/export/&',
    'toolbox:/export/$ARCH/bin', 'host:/${OS}', ':sshfs\\#user@host\\:/path',
])
def test_good_locations(location):
    assert autofs.check_location(location, 'entry x') == location


@pytest.mark.parametrize('location', [
    '', 'server:/a b', 'server:/a\n/etc/passwd x', '/dev/sdb1', '-null', '-hosts', '-ro', 'server', 'h:/a\\',
    'h:/"a"', 'h:/\ta', 'h:/a\n',
])
def test_bad_locations(location):
    with pytest.raises(AutofsError):
        autofs.check_location(location, 'entry x')


def test_map_options():
    assert autofs.check_map_option('-fstype=xfs', 'x') == 'fstype=xfs'
    assert autofs.check_map_option('ro', 'x') == 'ro'
    for bad in ('', '-', '--ro', 'ro,soft', 'ro soft', 'a\nb', 'a"b', 'ro\n'):
        with pytest.raises(AutofsError):
            autofs.check_map_option(bad, 'x')


@pytest.mark.parametrize('option', [
    'browse', 'nobrowse', '--ghost', 'nobind', 'symlink', '-r', '--random-multimount-selection', '-rw', 'soft',
    'fstype=nfs4', 'sec=krb5p', '-DSERVER=nfs1.example.org', '--negative-timeout=30', 'strictexpire',
])
def test_good_master_options(option):
    assert autofs.check_master_option(option) == option


@pytest.mark.parametrize('option', [
    '', '--timeout=60', '-t', '--timeout', 'rw soft', 'rw,soft', 'vers=4.2', '--bogus', 'a\nb', 'browse\n',
])
def test_bad_master_options(option):
    with pytest.raises(AutofsError):
        autofs.check_master_option(option)


def test_normalise_entry_forms():
    assert autofs.normalise_entry({'key': 'a', 'options': ['-ro'], 'location': 'h:/a'}, False) == \
        entry('a', ['h:/a'], ['ro'])
    assert autofs.normalise_entry({'key': 'a', 'locations': ['h:/a', 'i:/a']}, False) == entry('a', ['h:/a', 'i:/a'])
    assert autofs.normalise_entry({'key': '/m', 'offsets': [{'path': '/', 'location': 'h:/'},
                                                            {'path': '/x', 'options': ['ro'], 'locations': ['h:/x']}]},
                                  True) == entry('/m', offsets=[offset('/', ['h:/']), offset('/x', ['h:/x'], ['ro'])])


@pytest.mark.parametrize('raw, message', [
    ({'key': 'a'}, 'needs location, locations or offsets'),
    ({'key': 'a', 'location': 'h:/a', 'locations': ['h:/b']}, 'not both'),
    ({'key': 'a', 'location': 'h:/a', 'offsets': [{'path': '/', 'location': 'h:/'}]}, 'not a location'),
    ({'key': 'a', 'offsets': [{'path': '/', 'location': 'h:/'}, {'path': '/', 'location': 'i:/'}]}, 'twice'),
    ({'key': 'a', 'offsets': [{'path': 'x', 'location': 'h:/'}]}, 'absolute'),
    ({'key': 'a', 'offsets': [{'path': '/x'}]}, 'needs a location'),
    ({'key': 'a', 'location': 'h:/' + 'x' * 16400}, 'longer than autofs reads'),
])
def test_bad_entries(raw, message):
    with pytest.raises(AutofsError) as error:
        autofs.normalise_entry(raw, False)
    assert message in error.value.msg


def test_names_and_paths():
    assert autofs.check_name('home') == 'home'
    for bad in ('', '.hidden', 'a/b', 'home.autofs', 'a b', 'home\n'):
        with pytest.raises(AutofsError):
            autofs.check_name(bad)
    assert autofs.check_mount_point('/-') == '/-'
    for bad in ('/', 'home', '/home/', '/a/../b', '/a b', '/home\n'):
        with pytest.raises(AutofsError):
            autofs.check_mount_point(bad)


# --- program maps --------------------------------------------------------------------------------------

@pytest.fixture
def program(tmp_path):
    directory = tmp_path / 'sbin'
    directory.mkdir()
    os.chmod(str(directory), 0o755)
    path = directory / 'auto.iscsi'
    path.write_text('#!/bin/sh\n')
    os.chmod(str(path), 0o755)
    return path


def test_safe_program_map(program):
    assert autofs.program_map_problems(str(program), owner=os.geteuid()) == []


@pytest.mark.parametrize('mode, dir_mode, problem', [
    (0o644, 0o755, 'is not executable by its owner (mode 0644)'),
    (0o775, 0o755, 'is writable by group or others (mode 0775)'),
    (0o757, 0o755, 'is writable by group or others (mode 0757)'),
    (0o755, 0o777, 'is writable by group or others (mode 0777)'),
])
def test_unsafe_program_map_modes(program, mode, dir_mode, problem):
    os.chmod(str(program), mode)
    os.chmod(str(program.parent), dir_mode)
    problems = autofs.program_map_problems(str(program), owner=os.geteuid())
    assert len(problems) == 1 and problem in problems[0]


def test_program_map_owner_missing_and_not_regular(program, tmp_path):
    problems = autofs.program_map_problems(str(program), owner=os.geteuid() + 1)
    assert problems == ['%s is owned by uid %d, not root' % (program, os.geteuid()),
                        'its directory %s is owned by uid %d, not root' % (program.parent, os.geteuid())]
    assert 'does not exist' in autofs.program_map_problems(str(tmp_path / 'nope'))[0]
    assert autofs.program_map_problems(str(tmp_path)) == ['%s is not a regular file' % tmp_path]


def test_program_map_behind_a_symlink_checks_both_directories(program, tmp_path):
    link_dir = tmp_path / 'links'
    link_dir.mkdir()
    os.chmod(str(link_dir), 0o777)
    link = link_dir / 'auto.iscsi'
    link.symlink_to(program)
    problems = autofs.program_map_problems(str(link), owner=os.geteuid())
    assert problems == ['its directory %s is writable by group or others (mode 0777)' % link_dir]


# --- files ---------------------------------------------------------------------------------------------

class AtomicModule(object):
    """What write_text needs of AnsibleModule: atomic_move keeping the destination's mode."""

    def atomic_move(self, src, dest):
        mode = stat.S_IMODE(os.stat(dest).st_mode)
        os.rename(src, dest)
        os.chmod(dest, mode)


def test_write_text_new_file_0644_existing_keeps_mode_no_temp_left(tmp_path):
    new = tmp_path / 'd' / 'new.autofs'
    autofs.write_text(AtomicModule(), str(new), 'x\n')
    assert new.read_text() == 'x\n' and stat.S_IMODE(os.stat(str(new)).st_mode) == 0o644
    os.chmod(str(new), 0o600)
    autofs.write_text(AtomicModule(), str(new), 'y\n')
    assert new.read_text() == 'y\n' and stat.S_IMODE(os.stat(str(new)).st_mode) == 0o600
    assert os.listdir(str(new.parent)) == ['new.autofs']


def test_read_text_missing_is_none(tmp_path):
    assert autofs.read_text(str(tmp_path / 'nope')) is None
    with pytest.raises(AutofsError) as error:
        autofs.read_text(str(tmp_path))
    assert error.value.error_code == 'io_error'


def test_dropin_files_are_the_ones_autofs_reads(tmp_path):
    for name in ('b.autofs', 'a.autofs', '.hidden.autofs', 'c.autofs.bak', 'README'):
        (tmp_path / name).write_text('')
    assert autofs.dropin_files(str(tmp_path)) == [str(tmp_path / 'a.autofs'), str(tmp_path / 'b.autofs')]


# --- reload until the mount table shows the maps -----------------------------------------------------------

class FakeClock(object):
    def __init__(self):
        self.now = 0.0
        self.slept = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        self.slept += seconds


class ReloadRunner(object):
    """The command runner as the seam uses it for the reload: each reload may or may not reach automount."""

    def __init__(self, works):
        self.works = list(works)
        self.reloads = 0
        self.applied = False

    def run(self, name, args, **kwargs):
        assert (name, args) == ('systemctl', ['reload', 'autofs.service'])
        self.reloads += 1
        self.applied = self.applied or self.works.pop(0)
        return 0, '', ''


@pytest.mark.parametrize('works, expected', [
    ([True], (1, True)),
    ([False, True], (2, True)),  # automount dropped the first SIGHUP: sent again after 5 s
    ([False, False, False], (3, False)),
])
def test_reload_is_sent_again_until_the_mount_table_shows_the_maps(works, expected):
    runner, fake = ReloadRunner(works), FakeClock()
    result = autofs.reload_until_settled(runner, lambda: runner.applied, sleep=fake.sleep, clock=fake.clock)
    assert result == expected
    assert runner.reloads == expected[0]
    assert fake.slept == pytest.approx(5.0 * (expected[0] - (1 if expected[1] else 0)))


def test_autofs_mount_points_reads_only_autofs_mounts(tmp_path):
    mountinfo = tmp_path / 'mountinfo'
    mountinfo.write_text(
        '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n'
        '40 27 0:50 / /mnt/lab\\040dir rw,relatime - autofs /etc/auto.x rw,fd=5,timeout=2,indirect\n'
        '41 27 0:51 / /mnt/direct rw,relatime - autofs /etc/auto.d rw,fd=6,timeout=2,direct\n'
        '42 41 0:52 / /mnt/direct rw,relatime - nfs4 10.10.1.1:/srv/one ro\n')
    assert autofs.autofs_mount_points(str(mountinfo)) == set(['/mnt/lab dir', '/mnt/direct'])
