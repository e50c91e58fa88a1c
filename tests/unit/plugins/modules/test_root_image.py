# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import shutil
import stat

import pytest

from ansible_collections.san.iscsi.plugins.modules import root_image
from ansible_collections.san.iscsi.plugins.module_utils import _root_image as image
from ansible_collections.san.iscsi.plugins.module_utils._command import ToolError
from ansible_collections.san.iscsi.plugins.module_utils._netboot import NetbootError
from ansible_collections.san.iscsi.tests.unit.module_runner import ModuleFailed
from ansible_collections.san.iscsi.tests.unit.plugins.module_utils.test_devices import FakeSysfs

WWID = 'naa.6001405a1b2c3d4e5f60718293a4b5c6'
INITIATOR = 'iqn.2026-11.lab.san-iscsi:host1'
READ_ONLY = ['ro', 'noload', 'nosuid', 'nodev', 'noexec']
READ_WRITE = ['nosuid', 'nodev', 'noexec']
KERNEL = 'boot/vmlinuz-6.1.0-9-amd64'
INITRD = 'boot/initrd.img-6.1.0-9-amd64'

BUILDER = {
    KERNEL: 'kernel 6.1.0-9\n',
    INITRD: 'initrd 6.1.0-9\n',
    'boot/vmlinuz-6.1.0-8-amd64': 'kernel 6.1.0-8\n',
    'boot/initrd.img-6.1.0-8-amd64': 'initrd 6.1.0-8\n',
    'etc/ssh/ssh_host_ed25519_key': 'builder private key\n',
    'etc/ssh/ssh_host_ed25519_key.pub': 'builder public key\n',
    'etc/ssh/sshd_config': 'PermitRootLogin no\n',
    'etc/machine-id': '0123456789abcdef0123456789abcdef\n',
    'etc/hostname': 'builder\n',
    'etc/iscsi/initiatorname.iscsi': 'InitiatorName=iqn.2026-11.lab.san-iscsi:builder\n',
    'etc/iscsi/iscsid.conf': 'node.startup = manual\n',
    'etc/fstab': 'UUID=1111 / ext4 errors=remount-ro 0 1\n/dev/vdb1 /data ext4 defaults 0 2\n'
                 'tmpfs /tmp tmpfs defaults 0 0\n',
    'etc/hosts': '127.0.0.1 localhost\n127.0.1.1 builder\n::1 localhost ip6-localhost\n',
    'etc/systemd/network/20-eth1.network': '[Match]\nName=eth1\n',
    'var/log/journal/0123/system.journal': 'journal\n',
    'tmp/scratch': 'not copied\n',
    'swapfile': 'not copied\n',
}


def write(root, rel, text):
    path = os.path.join(root, rel)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        handle.write(text)


def file_tree(top):
    """{path relative to TOP: content} of every file under TOP."""
    found = {}
    for root, _dirs, names in os.walk(top):
        for name in names:
            path = os.path.join(root, name)
            with open(path) as handle:
                found[os.path.relpath(path, top)] = handle.read()
    return found


class LunSysfs(FakeSysfs):
    def add_partition(self, disk, number):
        """A kernel partition of DISK, as the kernel shows it once the partition table is re-read."""
        name = '%s%d' % (disk, number)
        block_dir = os.path.realpath(os.path.join(self.sys, 'class/block', disk))
        self._block(os.path.join(block_dir, name), name, 1024)
        self.write(os.path.join(block_dir, name, 'partition'), '%d\n' % number)


class Lun(object):
    """The builder with the LUN attached: a fake sysfs with its disk, the LUN's filesystem content as a directory
    (moved to the mount point by `mount`, back by `umount`), a builder's root to copy, and the commands."""

    def __init__(self, tmp_path):
        self.sysfs = LunSysfs(tmp_path / 'host')
        self.sysfs.add_disk(None, 0, 0, 'sdb', wwid=WWID)
        self.disk = os.path.join(self.sysfs.dev, 'sdb')
        self.part = os.path.join(self.sysfs.dev, 'sdb1')
        self.raw_bytes(0, b'')                      # the disk's bytes: 8 MiB of zeros, as a LUN never written
        self.content = str(tmp_path / 'lun_fs')
        self.source = str(tmp_path / 'builder')
        self.mount_dir = str(tmp_path / 'run' / 'root-image')
        for rel, text in BUILDER.items():
            write(self.source, rel, text)
        self.partitioned = False
        self.kernel_shows_partitions = True
        self.uuid = None
        self.whole_disk_fs = False
        self.mounted = None
        self.mount_options = []
        self.sleeps = []
        self.made = 0
        self.failing = set()
        self.calls = []

    def paths(self):
        return self.sysfs.kwargs()

    def raw_bytes(self, offset, data, size=8 * 1024 * 1024):
        """DATA written at OFFSET of the disk's device file (a sparse file of SIZE bytes)."""
        with open(self.disk, 'r+b' if os.path.exists(self.disk) else 'w+b') as handle:
            handle.truncate(size)
            handle.seek(offset)
            handle.write(data)

    # --- states -----------------------------------------------------------------------------------

    def partitioned_with(self, files):
        """A LUN partitioned and formatted elsewhere, holding FILES."""
        self.on_parted(['-s', '-a', 'optimal', self.disk])
        self.on_mkfs_ext4([self.part])
        for rel, text in files.items():
            write(self.content, rel, text)

    def image(self, rel):
        """A file of the LUN's filesystem (unmounted), or None."""
        assert self.mounted is None
        path = os.path.join(self.content, rel)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return handle.read()

    def marker(self):
        return image.read_marker(self.image(image.MARKER))

    def tree(self):
        assert self.mounted is None
        return file_tree(self.content)

    def tools(self):
        return [call[0] for call in self.calls]

    # --- commands ---------------------------------------------------------------------------------

    def run(self, tool, args):
        self.calls.append([tool] + list(args))
        if tool in self.failing:
            return 1, '', '%s: simulated failure' % tool
        return getattr(self, 'on_' + tool.replace('-', '_').replace('.', '_'))(list(args))

    def on_blkid(self, args):
        assert args[:3] == ['-p', '-o', 'export']
        device = args[3]
        if device == self.disk:
            if self.partitioned:
                return 0, 'DEVNAME=%s\nPTUUID=1a2b3c4d\nPTTYPE=dos\n' % device, ''
            if self.whole_disk_fs:
                return 0, 'DEVNAME=%s\nUUID=7ce76ef0-5503-4921-b8df-191c7342f731\nTYPE=xfs\nUSAGE=filesystem\n' % device, ''
            return 2, '', ''
        assert device == self.part and self.partitioned
        if self.uuid:
            return 0, 'DEVNAME=%s\nLABEL=san-root\nUUID=%s\nVERSION=1.0\nTYPE=ext4\nUSAGE=filesystem\n' % (
                device, self.uuid), ''
        return 2, '', ''

    def on_parted(self, args):
        assert args[3] == self.disk and self.mounted is None
        self.partitioned = True
        if self.kernel_shows_partitions and not os.path.exists(os.path.join(self.sysfs.sys, 'class/block/sdb1')):
            self.sysfs.add_partition('sdb', 1)
        return 0, '', ''

    def on_udevadm(self, args):
        assert args[0] == 'settle'
        return 0, '', ''

    def on_mkfs_ext4(self, args):
        assert args[-1] == self.part and self.partitioned and self.mounted is None
        if os.path.exists(self.content):
            shutil.rmtree(self.content)
        os.makedirs(os.path.join(self.content, 'lost+found'))
        self.made += 1
        self.uuid = '0d7c6a5e-8d6f-4a52-9d0f-3c1a8e0b2f%02d' % self.made
        return 0, '', ''

    def on_mount(self, args):
        assert args[:2] == ['-t', 'ext4']
        options = args[3].split(',') if args[2] == '-o' else []
        source, target = args[-2], args[-1]
        assert source == self.part and self.uuid and self.mounted is None
        assert os.path.isdir(target) and os.listdir(target) == []
        os.rmdir(target)
        os.rename(self.content, target)
        self.mounted = target
        self.mount_options.append(options)
        return 0, '', ''

    def on_umount(self, args):
        assert args == [self.mounted]
        os.rename(self.mounted, self.content)
        os.mkdir(self.mounted)       # the mount point stays, empty
        self.mounted = None
        return 0, '', ''

    def on_rsync(self, args):
        """rsync -a --delete SOURCE/ TARGET/ with anchored --exclude patterns: an excluded path is neither copied
        nor deleted on the receiving side."""
        source, target = args[-2], args[-1]
        assert source.endswith('/') and target.endswith('/') and target.rstrip('/') == self.mounted
        assert '-aHAXx' in args and '--delete' in args
        excludes = [args[index + 1] for index, arg in enumerate(args) if arg == '--exclude']

        def excluded(rel):
            parts = rel.split('/')
            return any(fnmatch.fnmatch('/' + '/'.join(parts[:end]), pattern)
                       for pattern in excludes for end in range(1, len(parts) + 1))

        for top, dirs, names in os.walk(source):
            for name in dirs + names:
                rel = os.path.relpath(os.path.join(top, name), source)
                if excluded(rel):
                    continue
                if name in dirs:
                    if not os.path.isdir(os.path.join(target, rel)):
                        os.makedirs(os.path.join(target, rel))
                else:
                    shutil.copy2(os.path.join(top, name), os.path.join(target, rel))
        for top, dirs, names in os.walk(target, topdown=False):
            for name in names + dirs:
                rel = os.path.relpath(os.path.join(top, name), target)
                if excluded(rel) or os.path.lexists(os.path.join(source, rel)):
                    continue
                if name in dirs:
                    if not os.listdir(os.path.join(top, name)):    # rsync cannot delete a directory it must keep files in
                        os.rmdir(os.path.join(top, name))
                else:
                    os.unlink(os.path.join(top, name))
        return 0, '', ''

    def on_grub_install(self, args):
        assert args[1] == '--boot-directory=%s' % os.path.join(self.mounted, 'boot')
        write(self.mounted, 'boot/grub/i386-pc/core.img', 'core\n')
        return 0, '', ''

    def on_ssh_keygen(self, args):
        assert args == ['-A', '-f', self.mounted]
        write(self.mounted, 'etc/ssh/ssh_host_ed25519_key', 'new private key\n')
        write(self.mounted, 'etc/ssh/ssh_host_ed25519_key.pub', 'new public key\n')
        return 0, '', ''

    def on_sync(self, args):
        assert args == ['-f', os.path.join(self.mounted, image.MARKER)]
        return 0, '', ''


class FakeRunner(object):
    """_command.Runner's interface on the fake builder: records [tool] + args and their timeout."""

    def __init__(self, lun):
        self.lun = lun
        self.calls = []
        self.timeouts = []

    def run(self, tool, args, ok=(0,), timeout=None, what=None):
        self.calls.append([tool] + [str(arg) for arg in args])
        self.timeouts.append(timeout)
        rc, out, err = self.lun.run(tool, [str(arg) for arg in args])
        if ok is not None and rc not in ok:
            raise ToolError('%s failed with exit code %s: %s' % (what or tool, rc, err), cmd=self.calls[-1], rc=rc,
                            stdout=out, stderr=err)
        return rc, out, err


class FakeModule(object):
    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)

    def atomic_move(self, src, dest):
        os.rename(src, dest)


@pytest.fixture
def lun(tmp_path):
    return Lun(tmp_path)


def params(lun, **changes):
    values = dict(wwid=WWID, state='golden', source=lun.source, exclude=[], remove=[], flavor='initramfs-tools',
                  kernel_args=[], console=None, hostname=None, initiator=None, boot_mac=None, host_keys=True,
                  mount_dir=lun.mount_dir)
    values.update(changes)
    return values


def personal(lun, **changes):
    values = dict(state='personalized', hostname='host1', initiator=INITIATOR, boot_mac='52-54-00-0A-01-15')
    values.update(changes)
    return params(lun, **values)


def run(lun, values, check_mode=False, diff=False):
    """(result, module) of one RootImage run; the LUN is never left mounted."""
    module = FakeModule(values, check_mode, diff)
    try:
        result = root_image.RootImage(module, runner=FakeRunner(lun), paths=lun.paths(), sleep=lun.sleeps.append).run()
    finally:
        assert lun.mounted is None
        # the mount point and the directories made for it are gone (other tests look for leftovers in /run)
        assert not os.path.exists(os.path.dirname(lun.mount_dir))
    return result, module


def refused(lun, values, check_mode=False):
    with pytest.raises(NetbootError) as error:
        run(lun, values, check_mode)
    return error.value


def golden(lun, **changes):
    result, _module = run(lun, params(lun, **changes))
    del lun.calls[:]
    del lun.mount_options[:]
    return result


# --- golden --------------------------------------------------------------------------------------

def test_golden_lays_out_a_blank_lun_and_generalizes_it(lun):
    result, module = run(lun, params(lun, console='ttyS0,115200n8', remove=['etc/systemd/network/20-*.network']))
    uuid = lun.uuid
    assert lun.tools() == ['blkid', 'parted', 'udevadm', 'mkfs.ext4', 'blkid', 'mount', 'rsync', 'grub-install', 'umount']
    assert [tool for tool in lun.tools() if tool in ('parted', 'mkfs.ext4', 'rsync', 'grub-install')] == [
        'parted', 'mkfs.ext4', 'rsync', 'grub-install']
    assert lun.calls[1] == ['parted', '-s', '-a', 'optimal', lun.disk, 'mklabel', 'msdos', 'mkpart', 'primary', 'ext4',
                            '1MiB', '100%', 'set', '1', 'boot', 'on']
    assert lun.calls[3] == ['mkfs.ext4', '-q', '-F', '-L', 'san-root', lun.part]
    assert lun.calls[6][-2:] == [lun.source + '/', os.path.join(lun.mount_dir, WWID) + '/']
    assert lun.calls[7][-1] == lun.disk
    assert lun.mount_options == [READ_WRITE]     # the filling mount is read-write, nothing runs from it
    assert module.warnings == []

    assert result['changed'] is True
    assert (result['device'], result['uuid'], result['kernel'], result['initrd']) == (lun.disk, uuid, KERNEL, INITRD)
    assert result['kernel_args'] == ['root=UUID=%s' % uuid, 'ro', 'iscsi_auto', 'console=ttyS0,115200n8']
    assert result['generalized'] == [
        '/etc/hostname', '/etc/iscsi/initiatorname.iscsi', '/etc/machine-id', '/etc/ssh/ssh_host_ed25519_key',
        '/etc/ssh/ssh_host_ed25519_key.pub', '/etc/systemd/network/20-eth1.network', '/var/log/journal/0123']

    tree = lun.tree()
    assert tree['etc/machine-id'] == '' and tree['etc/hostname'] == ''
    for gone in ('etc/ssh/ssh_host_ed25519_key', 'etc/iscsi/initiatorname.iscsi', 'etc/systemd/network/20-eth1.network',
                 'var/log/journal/0123/system.journal', 'tmp/scratch', 'swapfile'):
        assert gone not in tree
    assert os.path.isdir(os.path.join(lun.content, 'lost+found'))     # excluded, so not deleted by rsync --delete
    assert tree['etc/ssh/sshd_config'] == 'PermitRootLogin no\n' and tree[KERNEL] == 'kernel 6.1.0-9\n'
    fstab = tree['etc/fstab'].splitlines()
    assert fstab[1] == 'UUID=%s / ext4 rw,errors=remount-ro 0 1' % uuid
    assert '# not on this image (san.iscsi.root_image): /dev/vdb1 /data ext4 defaults 0 2' in fstab
    assert 'tmpfs /tmp tmpfs defaults 0 0' in fstab
    grub = tree['boot/grub/grub.cfg']
    assert '    linux /%s root=UUID=%s ro iscsi_auto console=ttyS0,115200n8\n' % (KERNEL, uuid) in grub
    assert '    initrd /%s\n' % INITRD in grub
    assert '    search --no-floppy --fs-uuid --set=root %s\n' % uuid in grub
    assert 'serial --unit=0 --speed=115200\n' in grub
    assert tree['etc/iscsi/iscsi.initramfs'].endswith('\nISCSI_AUTO=true\n')
    marker = lun.marker()
    assert (marker['kind'], marker['complete'], marker['uuid'], marker['kernel'], marker['initrd']) == (
        'golden', True, uuid, KERNEL, INITRD)
    assert marker['kernel_args'] == result['kernel_args']
    assert result['marker'] == marker
    # the builder's own root is only read
    assert file_tree(lun.source) == BUILDER


def test_golden_again_on_its_own_golden_changes_nothing(lun):
    first = golden(lun)
    before = lun.tree()
    again, _module = run(lun, params(lun))
    assert again['changed'] is False
    assert lun.tools() == ['blkid', 'blkid', 'mount', 'umount']
    assert lun.mount_options[-1] == READ_ONLY
    assert (again['uuid'], again['kernel'], again['initrd'], again['kernel_args']) == (
        first['uuid'], first['kernel'], first['initrd'], first['kernel_args'])
    assert again['generalized'] == []
    assert lun.tree() == before


def test_golden_in_check_mode_on_its_own_golden_changes_nothing(lun):
    first = golden(lun)
    again, _module = run(lun, params(lun), check_mode=True)
    assert again['changed'] is False
    assert again['uuid'] == first['uuid']
    assert lun.tools() == ['blkid', 'blkid', 'mount', 'umount']


def test_golden_refuses_a_lun_with_a_filesystem_it_did_not_make(lun):
    lun.partitioned_with({'srv/data.txt': 'precious\n'})
    before = lun.tree()
    error = refused(lun, params(lun))
    assert error.error_code == 'not_blank'
    assert error.extra == {'marker': None}
    assert set(lun.tools()) == {'blkid', 'mount', 'umount'}
    assert lun.mount_options == [READ_ONLY]
    assert lun.tree() == before


def test_golden_refuses_a_whole_disk_filesystem_without_mounting_it(lun):
    lun.whole_disk_fs = True
    error = refused(lun, params(lun))
    assert error.error_code == 'not_blank'
    assert lun.tools() == ['blkid']


@pytest.mark.parametrize('offset', [4096, 8 * 1024 * 1024 - 512], ids=['head', 'tail'])
@pytest.mark.parametrize('check_mode', [False, True])
def test_golden_refuses_data_blkid_does_not_recognize(lun, offset, check_mode):
    lun.raw_bytes(offset, b'ORACLE RAW DATAFILE')
    error = refused(lun, params(lun), check_mode)
    assert error.error_code == 'not_blank'
    assert 'does not recognize' in error.msg
    assert lun.tools() == ['blkid']


def test_data_in_the_middle_of_a_blank_disk_is_not_looked_for(lun):
    lun.raw_bytes(4 * 1024 * 1024, b'x')          # only the first and last MiB are read
    result, _module = run(lun, params(lun))
    assert result['changed'] is True


def test_golden_refuses_a_personalized_clone(lun):
    golden(lun)
    run(lun, personal(lun))
    del lun.calls[:]
    before = lun.tree()
    error = refused(lun, params(lun))
    assert error.error_code == 'not_blank'
    assert error.extra['marker']['kind'] == 'personalized'
    assert set(lun.tools()) == {'blkid', 'mount', 'umount'}
    assert lun.tree() == before


def test_a_golden_run_that_stops_half_way_is_laid_out_again(lun):
    lun.failing.add('grub-install')
    with pytest.raises(ToolError):
        run(lun, params(lun))
    marker = lun.marker()
    assert marker is not None, 'the unfinished image lost its marker: the next run would refuse it as not blank'
    assert (marker['kind'], marker['complete']) == ('golden', False)
    first_uuid = lun.uuid

    lun.failing.clear()
    del lun.calls[:]
    result, module = run(lun, params(lun))
    assert result['changed'] is True
    assert len(module.warnings) == 1 and 'did not finish' in module.warnings[0]
    assert lun.tools() == ['blkid', 'blkid', 'mount', 'umount', 'parted', 'udevadm', 'mkfs.ext4', 'blkid', 'mount',
                           'rsync', 'grub-install', 'umount']
    assert lun.uuid != first_uuid and result['uuid'] == lun.uuid
    assert lun.marker()['complete'] is True


def test_golden_in_check_mode_on_a_blank_lun_writes_nothing(lun):
    result, _module = run(lun, params(lun), check_mode=True)
    assert result['changed'] is True
    assert lun.tools() == ['blkid']
    assert lun.partitioned is False and lun.uuid is None
    assert (result['kernel'], result['marker'], result['generalized']) == (None, None, [])
    assert result['kernel_args'] == ['root=UUID=(new)', 'ro', 'iscsi_auto']


def test_golden_in_check_mode_on_an_unfinished_golden_warns_and_changes_nothing(lun):
    lun.partitioned_with({image.MARKER: image.marker_text('golden', complete=False, uuid='x')})
    before = lun.tree()
    result, module = run(lun, params(lun), check_mode=True)
    assert result['changed'] is True
    assert len(module.warnings) == 1
    assert 'parted' not in lun.tools() and 'mkfs.ext4' not in lun.tools()
    assert lun.tree() == before


def test_dracut_flavor_logs_in_from_the_ibft_with_dracuts_arguments(lun):
    result, _module = run(lun, params(lun, flavor='dracut', kernel_args=['quiet']))
    assert result['kernel_args'] == ['root=UUID=%s' % lun.uuid, 'ro', 'rd.iscsi.firmware=1', 'rd.iscsi.ibft=1', 'quiet']
    assert 'ro rd.iscsi.firmware=1 rd.iscsi.ibft=1 quiet\n' in lun.image('boot/grub/grub.cfg')
    assert 'iscsi_auto' not in lun.image('boot/grub/grub.cfg')
    assert lun.image('etc/iscsi/iscsi.initramfs') is None


def test_golden_excludes_more_paths_from_the_copy(lun):
    write(lun.source, 'srv/data/big.img', 'big\n')
    golden(lun, exclude=['/srv/data/*'])
    assert os.path.isdir(os.path.join(lun.content, 'srv', 'data'))
    assert lun.image('srv/data/big.img') is None


def test_a_builder_without_a_kernel_with_initramfs_is_no_kernel(lun):
    os.unlink(os.path.join(lun.source, INITRD))
    os.unlink(os.path.join(lun.source, 'boot/initrd.img-6.1.0-8-amd64'))
    error = refused(lun, params(lun))
    assert error.error_code == 'no_kernel'
    assert 'grub-install' not in lun.tools()
    assert lun.marker()['complete'] is False


def test_a_partition_the_kernel_never_shows_is_an_io_error(lun):
    lun.kernel_shows_partitions = False
    error = refused(lun, params(lun))
    assert error.error_code == 'io_error'
    assert 'mkfs.ext4' not in lun.tools()
    assert lun.tools().count('udevadm') == 1 + 2 * root_image.PARTITION_WAIT + 1
    assert lun.sleeps == [0.5] * (2 * root_image.PARTITION_WAIT + 1)     # bounded: about PARTITION_WAIT seconds


# --- personalized --------------------------------------------------------------------------------

def test_personalized_makes_a_clone_the_hosts_own(lun):
    uuid = golden(lun)['uuid']
    result, _module = run(lun, personal(lun))
    assert result['changed'] is True
    assert lun.tools() == ['blkid', 'mount', 'umount', 'mount', 'ssh-keygen', 'umount']
    assert lun.mount_options == [READ_ONLY, READ_WRITE]     # read-only until the marker is read, then read-write
    assert [(f['path'], f['action']) for f in result['files']] == [
        ('etc/hostname', 'changed'), ('etc/hosts', 'changed'), ('etc/iscsi/initiatorname.iscsi', 'created'),
        (image.MARKER, 'changed'), (image.BOOT_NIC_NETWORK, 'created'), ('etc/ssh/ssh_host_*_key', 'created')]

    assert lun.image('etc/hostname') == 'host1\n'
    assert lun.image('etc/hosts') == '127.0.0.1 localhost\n127.0.1.1 host1\n::1 localhost ip6-localhost\n'
    assert lun.image(image.INITIATOR_FILE).endswith('\nInitiatorName=%s\n' % INITIATOR)
    assert stat.S_IMODE(os.stat(os.path.join(lun.content, image.INITIATOR_FILE)).st_mode) == 0o600
    network = lun.image(image.BOOT_NIC_NETWORK)
    assert 'MACAddress=52:54:00:0a:01:15\n' in network and 'Unmanaged=yes\n' in network
    assert lun.image('etc/ssh/ssh_host_ed25519_key') == 'new private key\n'
    marker = lun.marker()
    assert (marker['kind'], marker['hostname'], marker['initiator'], marker['boot_mac']) == (
        'personalized', 'host1', INITIATOR, '52:54:00:0a:01:15')
    assert (marker['uuid'], marker['complete'], marker['kernel']) == (uuid, True, KERNEL)
    assert result['marker'] == marker
    assert (result['uuid'], result['kernel']) == (uuid, KERNEL)


def test_personalized_again_changes_nothing(lun):
    golden(lun)
    run(lun, personal(lun))
    before = lun.tree()
    del lun.calls[:]
    del lun.mount_options[:]
    result, _module = run(lun, personal(lun))
    assert result['changed'] is False
    assert lun.tools() == ['blkid', 'mount', 'umount']
    assert lun.mount_options == [READ_ONLY]         # nothing to write: never mounted read-write
    assert set(f['action'] for f in result['files']) == {'unchanged'}
    assert 'etc/ssh/ssh_host_*_key' not in [f['path'] for f in result['files']]
    assert lun.tree() == before


def test_personalized_with_another_hostname_changes_and_shows_the_diff(lun):
    golden(lun)
    run(lun, personal(lun))
    del lun.calls[:]
    result, _module = run(lun, personal(lun, hostname='host2'), diff=True)
    assert result['changed'] is True
    assert 'ssh-keygen' not in lun.tools()
    assert [(f['path'], f['action']) for f in result['files'] if f['action'] != 'unchanged'] == [
        ('etc/hostname', 'changed'), ('etc/hosts', 'changed'), (image.MARKER, 'changed')]
    diffs = dict((d['before_header'], d) for d in result['diff'])
    assert sorted(diffs) == ['etc/hostname', 'etc/hosts', image.MARKER]
    assert (diffs['etc/hostname']['before'], diffs['etc/hostname']['after']) == ('host1\n', 'host2\n')
    assert lun.image('etc/hostname') == 'host2\n'
    assert lun.marker()['hostname'] == 'host2'


def test_personalized_without_boot_mac_or_host_keys(lun):
    golden(lun)
    result, _module = run(lun, personal(lun, boot_mac=None, host_keys=False))
    assert result['changed'] is True
    assert 'ssh-keygen' not in lun.tools()
    assert lun.image(image.BOOT_NIC_NETWORK) is None
    assert lun.image('etc/ssh/ssh_host_ed25519_key') is None
    assert lun.marker()['boot_mac'] is None


@pytest.mark.parametrize('rel', ['etc/hostname', 'etc/hosts'])
def test_a_clone_file_linked_out_of_the_image_is_neither_read_nor_written(lun, tmp_path, rel):
    golden(lun)
    outside = tmp_path / 'builders-own-file'
    outside.write_text('secret\n')
    os.unlink(os.path.join(lun.content, rel))
    os.symlink(str(outside), os.path.join(lun.content, rel))
    error = refused(lun, personal(lun))
    assert error.error_code == 'unsafe_path'
    assert error.extra['path'] == rel
    assert outside.read_text() == 'secret\n'
    assert lun.mount_options[-1] == READ_ONLY           # refused before any read-write mount


def test_a_clone_directory_linked_out_of_the_image_is_refused(lun, tmp_path):
    golden(lun)
    outside = tmp_path / 'builders-etc-iscsi'
    outside.mkdir()
    shutil.rmtree(os.path.join(lun.content, 'etc/iscsi'))
    os.symlink(str(outside), os.path.join(lun.content, 'etc/iscsi'))
    error = refused(lun, personal(lun))
    assert error.error_code == 'unsafe_path'
    assert os.listdir(str(outside)) == []


def test_personalized_in_check_mode_writes_nothing(lun):
    golden(lun)
    before = lun.tree()
    result, _module = run(lun, personal(lun), check_mode=True, diff=True)
    assert result['changed'] is True
    assert lun.tools() == ['blkid', 'mount', 'umount']
    assert lun.mount_options[-1] == READ_ONLY
    assert lun.tree() == before
    assert [f['action'] for f in result['files']] == ['changed', 'changed', 'created', 'changed', 'created', 'created']
    assert result['marker']['hostname'] == 'host1'
    assert [d['before_header'] for d in result['diff']] == [
        'etc/hostname', 'etc/hosts', image.INITIATOR_FILE, image.MARKER, image.BOOT_NIC_NETWORK]


def test_personalized_refuses_a_lun_without_the_marker(lun):
    lun.partitioned_with({'etc/hostname': 'someone\n'})
    before = lun.tree()
    error = refused(lun, personal(lun))
    assert error.error_code == 'not_ours'
    assert lun.tools() == ['blkid', 'mount', 'umount']
    assert lun.tree() == before


def test_personalized_refuses_a_blank_lun_without_running_anything(lun):
    error = refused(lun, personal(lun))
    assert error.error_code == 'not_ours'
    assert lun.calls == []


def test_personalized_refuses_an_unfinished_golden(lun):
    lun.partitioned_with({image.MARKER: image.marker_text('golden', complete=False, uuid='x')})
    error = refused(lun, personal(lun))
    assert error.error_code == 'not_ours'
    assert 'ssh-keygen' not in lun.tools()


# --- the LUN -------------------------------------------------------------------------------------

@pytest.mark.parametrize('state', ['golden', 'personalized'])
def test_a_wwid_not_attached_is_not_found(lun, state):
    error = refused(lun, personal(lun, state=state, wwid='naa.60014050000000000000000000000000'))
    assert error.error_code == 'not_found'
    assert lun.calls == []


def test_the_wwid_is_matched_case_insensitively(lun):
    result, _module = run(lun, params(lun, wwid=' ' + WWID.upper()), check_mode=True)
    assert result['device'] == lun.disk


def busy_mounted(lun):
    lun.sysfs.add_partition('sdb', 1)
    lun.sysfs.mount(lun.sysfs.majors['sdb1'], '/dev/sdb1', '/srv/data')
    return ['/srv/data']


def busy_lvm(lun):
    lun.sysfs.add_dm('dm-0', 'vg-lv', 'LVM-abcdef', ['sdb'])
    return ['held by dm-0']


def busy_multipath(lun):
    lun.sysfs.add_dm('dm-0', 'mpatha', 'mpath-36001405a1b2c3d4e5f60718293a4b5c6', ['sdb'])
    return ['held by dm-0', 'multipath map /dev/mapper/mpatha']


@pytest.mark.parametrize('state', ['golden', 'personalized'])
@pytest.mark.parametrize('make_busy', [busy_mounted, busy_lvm, busy_multipath])
def test_a_lun_in_use_is_busy(lun, state, make_busy):
    users = make_busy(lun)
    error = refused(lun, personal(lun, state=state))
    assert error.error_code == 'busy'
    assert error.extra['users'] == users
    assert lun.calls == []


def test_mount_directories_that_were_there_before_stay(lun):
    os.makedirs(lun.mount_dir)
    keep = os.path.join(lun.mount_dir, 'another-runs-mount-point')
    os.mkdir(keep)
    module = FakeModule(params(lun), False, False)
    root_image.RootImage(module, runner=FakeRunner(lun), paths=lun.paths(), sleep=lun.sleeps.append).run()
    assert os.listdir(lun.mount_dir) == ['another-runs-mount-point']


def test_a_mount_point_already_mounted_is_busy(lun, monkeypatch):
    target = os.path.join(lun.mount_dir, WWID)
    lun.partitioned_with({})
    monkeypatch.setattr(root_image.os.path, 'ismount', lambda path: path == target)
    error = refused(lun, params(lun))
    assert error.error_code == 'busy'
    assert lun.tools() == ['blkid', 'blkid']


# --- input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize('change', [
    {'wwid': ''}, {'wwid': 'naa.6001 405'}, {'wwid': '../../sdb'}, {'wwid': 'naa.1\t2'},
    {'remove': ['../x']}, {'remove': ['etc/../../x']}, {'remove': ['etc/a b']},
    {'console': 'tty0'}, {'console': 'ttyS0,115200n8 quiet'},
    {'kernel_args': ['quiet', 'a;b']},
    {'state': 'personalized', 'hostname': 'host1', 'initiator': None},
    {'state': 'personalized', 'hostname': None, 'initiator': INITIATOR},
])
def test_invalid_input_is_a_root_image_error_before_anything_runs(lun, change):
    error = refused(lun, params(lun, **change))
    assert isinstance(error, image.RootImageError)
    assert error.error_code == 'invalid'
    assert lun.calls == []


@pytest.mark.parametrize('change', [
    {'hostname': 'Host_1'}, {'initiator': 'iqn.bad'}, {'boot_mac': '01:00:5e:00:00:01'}, {'boot_mac': 'nonsense'},
])
def test_invalid_personal_input_is_refused_before_anything_runs(lun, change):
    error = refused(lun, personal(lun, **change))
    assert error.error_code == 'invalid'
    assert lun.calls == []


def test_main_reports_invalid_input_with_its_error_code(run_module):
    with pytest.raises(ModuleFailed) as failed:
        run_module(root_image, {'wwid': 'naa.6001 405', 'state': 'golden'})
    assert failed.value.result['error_code'] == 'invalid'
    assert failed.value.result['changed'] is False
    assert 'is not a WWID' in failed.value.result['msg']
