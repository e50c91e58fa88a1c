# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.san.iscsi.plugins.module_utils import _root_image as image
from ansible_collections.san.iscsi.plugins.module_utils._netboot import NetbootError

UUID = '0d7c6a5e-8d6f-4a52-9d0f-3c1a8e0b2f11'
INITIATOR = 'iqn.2026-11.lab.san-iscsi:host1'


def put(root, rel, text='x\n'):
    path = os.path.join(str(root), rel)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        handle.write(text)
    return path


def rel(root, paths):
    return [os.path.relpath(path, str(root)) for path in paths]


# --- input ---------------------------------------------------------------------------------------

def test_relative_patterns_are_stripped_of_a_leading_slash_and_blanks():
    assert image.check_relative_patterns(['/etc/foo', ' var/lib/x/* ', 'etc/systemd/network/20-*.network', 'a/[0-9]?'],
                                         'remove') == ['etc/foo', 'var/lib/x/*', 'etc/systemd/network/20-*.network', 'a/[0-9]?']
    assert image.check_relative_patterns(None, 'remove') == []


@pytest.mark.parametrize('pattern', ['..', '../x', 'etc/../../x', 'etc/..', '/', '', 'etc//x', 'etc/foo bar',
                                     'etc/$HOME', 'etc/a;b', 'etc/`x`', 'etc/a\\b'])
def test_a_pattern_that_could_leave_the_image_root_or_is_odd_is_refused(pattern):
    with pytest.raises(image.RootImageError) as error:
        image.check_relative_patterns(['etc/fine', pattern], 'remove')
    assert error.value.error_code == 'invalid'
    assert error.value.msg.startswith('remove: ')


def test_root_image_error_is_a_netboot_error_with_extra_fields():
    error = image.RootImageError('busy', error_code='busy', users=['/mnt'])
    assert isinstance(error, NetbootError)
    assert (error.msg, error.error_code, error.extra) == ('busy', 'busy', {'users': ['/mnt']})


@pytest.mark.parametrize('console', ['ttyS0', 'ttyS1,115200', 'ttyS0,115200n8', 'ttyS3,9600'])
def test_a_serial_console_is_kept(console):
    assert image.check_console(console) == console


def test_no_console_is_none():
    assert image.check_console(None) is None
    assert image.check_console('') is None


@pytest.mark.parametrize('console', ['tty0', 'ttyS10', 'ttyS0,115200e7', 'ttyS0,115200n8 quiet', 'ttyUSB0',
                                     'ttyS0,12', 'hvc0'])
def test_anything_but_a_serial_console_is_refused(console):
    with pytest.raises(image.RootImageError) as error:
        image.check_console(console)
    assert error.value.error_code == 'invalid'


def test_plain_kernel_arguments_are_kept():
    assert image.check_kernel_args(['quiet', 'net.ifnames=0', 'systemd.unit=multi-user.target']) == [
        'quiet', 'net.ifnames=0', 'systemd.unit=multi-user.target']
    assert image.check_kernel_args(None) == []


@pytest.mark.parametrize('arg', ['a b', 'x"y', "x'y", 'a;b', '${root}', 'a\\b', '{', '}', 'a\tb', '', 'a\x7f'])
def test_a_kernel_argument_grub_would_read_as_script_is_refused(arg):
    with pytest.raises(image.RootImageError) as error:
        image.check_kernel_args(['quiet', arg])
    assert error.value.error_code == 'invalid'


# --- expand and generalize -----------------------------------------------------------------------

def test_expand_globs_per_component_and_sorts(tmp_path):
    root = tmp_path / 'image'
    for name in ('etc/ssh/ssh_host_rsa_key', 'etc/ssh/ssh_host_ed25519_key', 'etc/ssh/ssh_host_ed25519_key.pub',
                 'etc/ssh/sshd_config', 'var/log/a.log', 'var/log/sub/b.log'):
        put(root, name)
    assert rel(root, image.expand(str(root), 'etc/ssh/ssh_host_*')) == [
        'etc/ssh/ssh_host_ed25519_key', 'etc/ssh/ssh_host_ed25519_key.pub', 'etc/ssh/ssh_host_rsa_key']
    assert rel(root, image.expand(str(root), 'etc/ssh/ssh_host_*_key')) == [
        'etc/ssh/ssh_host_ed25519_key', 'etc/ssh/ssh_host_rsa_key']
    assert rel(root, image.expand(str(root), '*/log/*.log')) == ['var/log/a.log']   # '*' does not cross '/'
    assert rel(root, image.expand(str(root), 'etc/ssh')) == ['etc/ssh']
    assert image.expand(str(root), 'etc/nothing/*') == []
    assert image.expand(str(root), 'etc/ssh/sshd_config/x') == []     # a file is not entered


def test_expand_never_enters_a_symlinked_directory(tmp_path):
    root = tmp_path / 'image'
    outside = tmp_path / 'outside'
    put(outside, 'logs/secret.log')
    put(outside, 'ssh/ssh_host_rsa_key')
    put(root, 'var/keep')
    os.symlink(str(outside / 'logs'), str(root / 'var' / 'log'))
    os.symlink(str(outside), str(root / 'etc'))
    assert image.expand(str(root), 'var/log/*') == []
    assert image.expand(str(root), 'var/log/secret.log') == []
    assert image.expand(str(root), 'etc/ssh/ssh_host_*') == []
    # the link itself is matched (removing it removes the link, not what it points to)
    assert rel(root, image.expand(str(root), 'var/log')) == ['var/log']
    assert rel(root, image.expand(str(root), 'var/*')) == ['var/keep', 'var/log']


def test_expand_matches_a_dangling_symlink(tmp_path):
    root = tmp_path / 'image'
    put(root, 'etc/keep')
    os.symlink('/nonexistent/random-seed', str(root / 'etc' / 'seed'))
    assert rel(root, image.expand(str(root), 'etc/seed')) == ['etc/seed']


def builder_tree(root):
    for name in ('etc/ssh/ssh_host_rsa_key', 'etc/ssh/ssh_host_rsa_key.pub', 'etc/ssh/sshd_config',
                 'etc/iscsi/initiatorname.iscsi', 'etc/iscsi/iscsid.conf',
                 'etc/iscsi/nodes/iqn.2026-11.lab.san-iscsi:t1/10.10.1.1,3260,1/default',
                 'etc/iscsi/send_targets/10.10.1.1,3260/st_config',
                 'var/lib/dhcp/dhclient.eth0.leases', 'var/log/journal/0123/system.journal', 'var/log/syslog.log',
                 'var/log/dpkg.log.1', 'var/log/syslog.2.gz', 'var/log/messages.1', 'var/log/apt/history.log',
                 'var/lib/systemd/random-seed', 'etc/san-iscsi/autofs.d/lab.autofs',
                 'etc/systemd/network/20-eth1.network', 'etc/systemd/network/10-eth0.network'):
        put(root, name)
    put(root, 'etc/machine-id', '0123456789abcdef0123456789abcdef\n')
    put(root, 'etc/hostname', '')


def test_generalize_removes_host_identity_and_state_and_empties_a_non_empty_machine_id(tmp_path):
    root = tmp_path / 'image'
    builder_tree(root)
    remove, empty = image.generalize_paths(str(root))
    assert rel(root, remove) == [
        'etc/ssh/ssh_host_rsa_key', 'etc/ssh/ssh_host_rsa_key.pub', 'etc/iscsi/initiatorname.iscsi',
        'etc/iscsi/nodes/iqn.2026-11.lab.san-iscsi:t1', 'etc/iscsi/send_targets/10.10.1.1,3260',
        'var/lib/dhcp/dhclient.eth0.leases', 'var/lib/systemd/random-seed', 'var/log/journal/0123',
        'var/log/syslog.log', 'var/log/syslog.2.gz', 'var/log/dpkg.log.1', 'var/log/messages.1', 'etc/san-iscsi/autofs.d']
    # the directories of the node records are kept, emptied; an empty hostname is left alone
    assert rel(root, empty) == ['etc/machine-id']
    for kept in ('etc/ssh/sshd_config', 'etc/iscsi/iscsid.conf', 'etc/iscsi/nodes', 'var/log/apt/history.log',
                 'var/log/apt', 'etc/systemd/network/20-eth1.network'):
        assert str(root / kept) not in remove


def test_generalize_adds_the_extra_patterns_once(tmp_path):
    root = tmp_path / 'image'
    builder_tree(root)
    put(root, 'etc/hostname', 'builder\n')
    remove, empty = image.generalize_paths(str(root), ['etc/systemd/network/20-*.network', 'etc/ssh/ssh_host_rsa_key',
                                                       'srv/nothing/*'])
    assert rel(root, remove)[-1:] == ['etc/systemd/network/20-eth1.network']
    assert rel(root, remove).count('etc/ssh/ssh_host_rsa_key') == 1
    assert str(root / 'etc/systemd/network/10-eth0.network') not in remove
    assert rel(root, empty) == ['etc/machine-id', 'etc/hostname']


def test_generalize_of_a_bare_tree_finds_nothing(tmp_path):
    assert image.generalize_paths(str(tmp_path)) == ([], [])


def test_generalize_never_empties_through_a_symlink(tmp_path):
    """An image's /etc/machine-id that is an absolute link would name the builder's own file once copied."""
    root = tmp_path / 'image'
    builders = put(tmp_path / 'builder', 'etc/machine-id', 'builder-id\n')
    put(root, 'etc/keep')
    os.symlink(builders, str(root / 'etc' / 'machine-id'))
    _remove, empty = image.generalize_paths(str(root))
    assert empty == []


def test_generalize_keeps_the_images_own_marker(tmp_path):
    """The marker of an unfinished golden image is what lets the next run lay it out again."""
    root = tmp_path / 'image'
    put(root, image.MARKER, image.marker_text('golden', complete=False, uuid=UUID))
    put(root, 'etc/san-iscsi/boot-server.json', '{}\n')
    remove, _empty = image.generalize_paths(str(root))
    assert rel(root, remove) == ['etc/san-iscsi/boot-server.json']


# --- kernels -------------------------------------------------------------------------------------

def test_the_newest_kernel_by_version_not_by_name(tmp_path):
    for version in ('6.1.0-9-amd64', '6.1.0-10-amd64', '5.10.0-28-amd64'):
        put(tmp_path, 'boot/vmlinuz-%s' % version)
        put(tmp_path, 'boot/initrd.img-%s' % version)
    put(tmp_path, 'boot/config-6.1.0-10-amd64')
    assert image.kernel_pair(str(tmp_path)) == ('boot/vmlinuz-6.1.0-10-amd64', 'boot/initrd.img-6.1.0-10-amd64')


def test_a_kernel_without_initramfs_is_not_booted(tmp_path):
    put(tmp_path, 'boot/vmlinuz-6.1.0-9-amd64')
    put(tmp_path, 'boot/initrd.img-6.1.0-9-amd64')
    put(tmp_path, 'boot/vmlinuz-6.12.0-1-amd64')
    assert image.kernel_pair(str(tmp_path)) == ('boot/vmlinuz-6.1.0-9-amd64', 'boot/initrd.img-6.1.0-9-amd64')


def test_the_rhel_initramfs_name_and_not_the_rescue_kernel(tmp_path):
    for version in ('5.14.0-427.13.1.el9_4.x86_64', '5.14.0-70.el9.x86_64', '0-rescue-0123456789abcdef'):
        put(tmp_path, 'boot/vmlinuz-%s' % version)
        put(tmp_path, 'boot/initramfs-%s.img' % version)
    put(tmp_path, 'boot/initramfs-5.14.0-427.13.1.el9_4.x86_64kdump.img')
    assert image.kernel_pair(str(tmp_path)) == ('boot/vmlinuz-5.14.0-427.13.1.el9_4.x86_64',
                                                'boot/initramfs-5.14.0-427.13.1.el9_4.x86_64.img')


def test_no_kernel_pair_without_boot_or_initramfs(tmp_path):
    assert image.kernel_pair(str(tmp_path)) is None
    put(tmp_path, 'boot/vmlinuz-6.1.0-9-amd64')
    put(tmp_path, 'boot/vmlinuz')
    assert image.kernel_pair(str(tmp_path)) is None


def test_version_key_compares_numbers_as_numbers():
    assert image.version_key('6.1.0-10-amd64') > image.version_key('6.1.0-9-amd64')
    assert image.version_key('6.10.0-1') > image.version_key('6.9.12-1')
    assert sorted(['6.1.0-10-amd64', '6.1.0-9-amd64', '6.1.0-9-cloud-amd64'], key=image.version_key) == [
        '6.1.0-9-amd64', '6.1.0-9-cloud-amd64', '6.1.0-10-amd64']


# --- text in the image ---------------------------------------------------------------------------

def test_grub_config_boots_by_filesystem_uuid_with_a_serial_console():
    text = image.grub_config(UUID, 'boot/vmlinuz-6.1.0-9-amd64', 'boot/initrd.img-6.1.0-9-amd64', ['iscsi_auto', 'quiet'],
                             'ttyS0,115200n8')
    lines = text.splitlines()
    assert lines[0] == image.HEADER
    assert 'serial --unit=0 --speed=115200' in lines
    assert 'terminal_input serial console' in lines and 'terminal_output serial console' in lines
    assert "menuentry 'san.iscsi root (vmlinuz-6.1.0-9-amd64)' {" in lines
    assert '    search --no-floppy --fs-uuid --set=root %s' % UUID in lines
    assert '    linux /boot/vmlinuz-6.1.0-9-amd64 root=UUID=%s ro iscsi_auto quiet console=ttyS0,115200n8' % UUID in lines
    assert '    initrd /boot/initrd.img-6.1.0-9-amd64' in lines
    assert text.endswith('}\n')
    assert '/dev/' not in text


def test_grub_config_console_speed_defaults_and_no_console():
    text = image.grub_config(UUID, 'boot/vmlinuz-1', 'boot/initrd.img-1', [], 'ttyS1')
    assert 'serial --unit=1 --speed=115200\n' in text
    assert 'root=UUID=%s ro console=ttyS1\n' % UUID in text
    slow = image.grub_config(UUID, 'boot/vmlinuz-1', 'boot/initrd.img-1', [], 'ttyS0,9600')
    assert 'serial --unit=0 --speed=9600\n' in slow
    plain = image.grub_config(UUID, 'boot/vmlinuz-1', 'boot/initrd.img-1', ['rd.iscsi.firmware=1'])
    assert 'serial' not in plain and 'console=' not in plain
    assert '    linux /boot/vmlinuz-1 root=UUID=%s ro rd.iscsi.firmware=1\n' % UUID in plain


BUILDER_FSTAB = '''# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=1111-2222 /               ext4    errors=remount-ro 0       1
/dev/vdb1      /data           xfs     defaults        0       2
/swapfile      none            swap    sw              0       0

tmpfs          /tmp            tmpfs   defaults        0       0
proc           /proc           proc    defaults        0       0
LABEL=scratch  /scratch        ext4    defaults,nofail 0       2
server:/export /mnt/nfs        nfs     defaults        0       0
'''


def test_fstab_gets_the_root_by_uuid_and_loses_the_builders_disks():
    text = image.fstab_with_root(BUILDER_FSTAB, UUID)
    note = '# not on this image (san.iscsi.root_image): '
    assert text.splitlines() == [
        image.HEADER,
        'UUID=%s / ext4 rw,errors=remount-ro 0 1' % UUID,
        '# /etc/fstab: static file system information.',
        '#',
        '# <file system> <mount point>   <type>  <options>       <dump>  <pass>',
        note + '/dev/vdb1      /data           xfs     defaults        0       2',
        note + '/swapfile      none            swap    sw              0       0',
        '',
        'tmpfs          /tmp            tmpfs   defaults        0       0',
        'proc           /proc           proc    defaults        0       0',
        note + 'LABEL=scratch  /scratch        ext4    defaults,nofail 0       2',
        'server:/export /mnt/nfs        nfs     defaults        0       0',
    ]
    assert 'UUID=1111-2222' not in text.replace(note, '')


def test_fstab_applied_to_its_own_output_is_the_same():
    once = image.fstab_with_root(BUILDER_FSTAB, UUID)
    assert image.fstab_with_root(once, UUID) == once
    other = image.fstab_with_root(once, '11111111-2222-3333-4444-555555555555')
    assert other == once.replace(UUID, '11111111-2222-3333-4444-555555555555')


def test_fstab_of_nothing_is_the_root_line():
    assert image.fstab_with_root(None, UUID) == '%s\nUUID=%s / ext4 rw,errors=remount-ro 0 1\n' % (image.HEADER, UUID)


def test_hosts_gets_the_name_on_127_0_1_1_and_keeps_the_rest():
    before = '127.0.0.1\tlocalhost\n127.0.1.1\tbuilder.lab builder\n\n# IPv6\n::1 localhost ip6-localhost\n10.10.1.1 san\n'
    after = image.hosts_with_name(before, 'host1')
    assert after == '127.0.0.1\tlocalhost\n127.0.1.1 host1\n\n# IPv6\n::1 localhost ip6-localhost\n10.10.1.1 san\n'
    assert image.hosts_with_name(after, 'host1') == after


def test_hosts_without_localhost_gets_one():
    assert image.hosts_with_name('::1 localhost\n10.10.1.1 san\n', 'host1') == (
        '127.0.0.1 localhost\n127.0.1.1 host1\n::1 localhost\n10.10.1.1 san\n')
    assert image.hosts_with_name(None, 'host1') == '127.0.0.1 localhost\n127.0.1.1 host1\n'
    assert image.hosts_with_name('127.0.1.1 old\n', 'host1') == '127.0.0.1 localhost\n127.0.1.1 host1\n'


def test_boot_nic_network_matches_the_mac_and_leaves_it_unmanaged():
    text = image.boot_nic_network('52-54-00-0A-01-15')
    assert text == '%s\n[Match]\nMACAddress=52:54:00:0a:01:15\n\n[Link]\nUnmanaged=yes\n' % image.HEADER


def test_marker_round_trip():
    text = image.marker_text('golden', complete=True, uuid=UUID, kernel='boot/vmlinuz-1')
    assert text.endswith('\n')
    assert image.read_marker(text) == {'kind': 'golden', 'version': image.MARKER_VERSION, 'made_by': 'san.iscsi.root_image',
                                       'complete': True, 'uuid': UUID, 'kernel': 'boot/vmlinuz-1'}
    assert image.marker_text('golden', complete=True, uuid=UUID, kernel='boot/vmlinuz-1') == text   # stable text
    personal = image.read_marker(image.marker_text('personalized', hostname='host1', initiator=INITIATOR))
    assert (personal['kind'], personal['hostname'], personal['initiator']) == ('personalized', 'host1', INITIATOR)


@pytest.mark.parametrize('text', [
    None, '', 'garbage', '{', '[]', '"golden"', '{"kind": "golden"}',
    json.dumps({'kind': 'golden', 'made_by': 'someone.else'}),
    json.dumps({'kind': 'other', 'made_by': 'san.iscsi.root_image'}),
    json.dumps({'made_by': 'san.iscsi.root_image'}),
])
def test_read_marker_rejects_what_is_not_ours(text):
    assert image.read_marker(text) is None


def test_personal_files_with_a_boot_nic():
    hosts = {'etc/hosts': '127.0.0.1 localhost\n127.0.1.1 builder\n'}
    wanted = image.personal_files(hosts.get, 'host1', INITIATOR, '52:54:00:0A:01:15')
    assert sorted(wanted) == ['etc/hostname', 'etc/hosts', 'etc/iscsi/initiatorname.iscsi', image.BOOT_NIC_NETWORK]
    assert wanted['etc/hostname'] == ('host1\n', 0o644)
    assert wanted['etc/hosts'] == ('127.0.0.1 localhost\n127.0.1.1 host1\n', 0o644)
    assert wanted[image.INITIATOR_FILE] == ('%s\nInitiatorName=%s\n' % (image.HEADER, INITIATOR), 0o600)
    assert wanted[image.BOOT_NIC_NETWORK][1] == 0o644
    assert 'MACAddress=52:54:00:0a:01:15\n' in wanted[image.BOOT_NIC_NETWORK][0]


def test_personal_files_without_a_boot_nic_has_no_network_file():
    wanted = image.personal_files(lambda rel: None, 'host1', INITIATOR)
    assert sorted(wanted) == ['etc/hostname', 'etc/hosts', 'etc/iscsi/initiatorname.iscsi']
    assert wanted['etc/hosts'][0] == '127.0.0.1 localhost\n127.0.1.1 host1\n'


def test_has_host_keys_wants_a_private_key(tmp_path):
    assert image.has_host_keys(str(tmp_path)) is False
    put(tmp_path, 'etc/ssh/ssh_host_ed25519_key.pub')
    assert image.has_host_keys(str(tmp_path)) is False
    put(tmp_path, 'etc/ssh/ssh_host_ed25519_key')
    assert image.has_host_keys(str(tmp_path)) is True


# --- commands ------------------------------------------------------------------------------------

class RecordingRunner(object):
    def __init__(self):
        self.calls = []

    def run(self, tool, args, ok=(0,), timeout=None, what=None):
        assert what
        self.calls.append((tool, list(args), timeout))
        return 0, '', ''


@pytest.fixture
def runner():
    return RecordingRunner()


def test_make_layout_is_one_bootable_msdos_partition_from_1mib_to_the_end(runner):
    image.make_layout(runner, '/dev/sdc')
    assert runner.calls == [('parted', ['-s', '-a', 'optimal', '/dev/sdc', 'mklabel', 'msdos', 'mkpart', 'primary', 'ext4',
                                        '1MiB', '100%', 'set', '1', 'boot', 'on'], image.LAYOUT_TIMEOUT)]


def test_make_filesystem_is_labelled_ext4(runner):
    image.make_filesystem(runner, '/dev/sdc1')
    assert runner.calls == [('mkfs.ext4', ['-q', '-F', '-L', 'san-root', '/dev/sdc1'], image.LAYOUT_TIMEOUT)]


def test_copy_root_keeps_everything_of_one_filesystem_and_excludes(runner):
    image.copy_root(runner, '/', '/run/san-iscsi/root-image/naa.1', ['/srv/data/*'], is_mount=lambda path: False)
    assert len(runner.calls) == 1
    tool, args, timeout = runner.calls[0]
    assert (tool, timeout) == ('rsync', image.COPY_TIMEOUT)
    assert args[:3] == ['-aHAXx', '--numeric-ids', '--delete']
    assert args[-2:] == ['/', '/run/san-iscsi/root-image/naa.1/']
    excludes = args[3:-2]
    assert excludes[0::2] == ['--exclude'] * (len(excludes) // 2)
    assert excludes[1::2] == list(image.COPY_EXCLUDE) + ['/srv/data/*']
    for pattern in ('/swapfile', '/lost+found', '/tmp/*', '/var/tmp/*'):
        assert pattern in excludes
    # the marker of the image being filled is neither copied from the builder nor deleted by --delete
    assert '/' + image.MARKER in excludes


def test_copy_root_puts_one_trailing_slash_on_each_side(runner):
    image.copy_root(runner, '/srv/builder-root/', '/mnt/image//', is_mount=lambda path: False)
    assert runner.calls[0][1][-2:] == ['/srv/builder-root/', '/mnt/image/']


def test_copy_root_also_copies_a_boot_partition_of_its_own(runner):
    asked = []
    image.copy_root(runner, '/', '/mnt/image', is_mount=lambda path: asked.append(path) or path == '/boot')
    assert asked == ['/boot']
    assert len(runner.calls) == 2
    assert runner.calls[1] == ('rsync', ['-aHAXx', '--numeric-ids', '--delete', '/boot/', '/mnt/image/boot/'],
                               image.COPY_TIMEOUT)


def test_install_grub_is_for_bios_into_the_images_boot(runner):
    image.install_grub(runner, '/run/x/naa.1', '/dev/sdc')
    assert runner.calls == [('grub-install', ['--target=i386-pc', '--boot-directory=/run/x/naa.1/boot',
                                              '--modules=part_msdos ext2', '/dev/sdc'], image.GRUB_TIMEOUT)]


def test_make_host_keys_in_the_image(runner):
    image.make_host_keys(runner, '/run/x/naa.1')
    assert runner.calls == [('ssh-keygen', ['-A', '-f', '/run/x/naa.1'], None)]
