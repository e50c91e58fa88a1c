# -*- coding: utf-8 -*-
# Copyright (c) 2026, san.iscsi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root images of diskless hosts (docs/iscsi_root.md): a golden LUN laid out from a builder's root, and a
clone of it made one host's own.

- What a golden image loses (GENERALIZE_REMOVE, GENERALIZE_EMPTY): virt-sysprep's operations for the same
  things (machine-id, ssh-hostkeys, dhcp-client-state, logfiles, net-hostname), plus the builder's iSCSI
  identity (initiator name, node records), because every clone gets its own.
- The text the image carries: fstab with the root by UUID, GRUB's configuration with the kernel arguments
  that make the initramfs log in from the iBFT, the marker that says the image is ours.
- What personalization writes: hostname, hosts, initiator name, a networkd file that leaves the boot NIC
  alone (the initramfs configured it from the iBFT, and the root's session runs over it).
- The commands that lay out and fill a LUN (parted, mkfs.ext4, rsync, grub-install, ssh-keygen).

Private to the collection: no compatibility promise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import os
import re

from ansible_collections.san.iscsi.plugins.module_utils._netboot import NetbootError
from ansible_collections.san.iscsi.plugins.module_utils._netboot import check_kernel_args as check_netboot_kernel_args

MARKER = 'etc/san-iscsi/root-image.json'
MARKER_VERSION = 1
FSTYPE = 'ext4'
FS_LABEL = 'san-root'
ROOT_PARTITION = 1
BOOT_NIC_NETWORK = 'etc/systemd/network/05-san-iscsi-boot-nic.network'
INITIATOR_FILE = 'etc/iscsi/initiatorname.iscsi'
HEADER = '# Managed by Ansible (san.iscsi.root_image); rewritten on each run.'

# Paths relative to the image's root; a trailing '/*' empties a directory and keeps it.
GENERALIZE_REMOVE = (
    'etc/ssh/ssh_host_*',                    # virt-sysprep ssh-hostkeys: the first boot (or personalization) makes new ones
    INITIATOR_FILE,                          # each clone gets its own initiator name
    'etc/iscsi/nodes/*', 'etc/iscsi/send_targets/*',   # stale node records can hang a login at boot
    'var/lib/iscsi/nodes/*', 'var/lib/iscsi/send_targets/*',
    'var/lib/dhcp/*', 'var/lib/dhclient/*',  # dhcp-client-state
    'var/lib/systemd/network/*', 'var/lib/NetworkManager/*.lease',
    'var/lib/systemd/random-seed', 'var/lib/systemd/credential.secret',
    'var/log/journal/*', 'var/log/*.log', 'var/log/*.gz', 'var/log/*.[0-9]',  # logfiles
    'var/cache/apt/archives/*.deb',
    'etc/san-iscsi/*',                       # the builder's own san.iscsi state (boot server, autofs maps)
    'var/lib/san-iscsi/*',
)
# Files kept but emptied: an empty machine-id makes systemd generate one at first boot.
GENERALIZE_EMPTY = ('etc/machine-id', 'etc/hostname')

# Never copied from the builder: other filesystems are skipped by rsync -x, these are on the root itself.
# The image's own marker is excluded too: an excluded path is also kept from rsync --delete, so an image whose
# fill stops half-way still says it is ours (and unfinished), and a builder's own marker is never copied.
COPY_EXCLUDE = ('/swapfile', '/lost+found', '/tmp/*', '/var/tmp/*', '/var/cache/apt/archives/*.deb', '/' + MARKER)

_RELATIVE_RE = re.compile(r'^[A-Za-z0-9_.@+*?\[\]-]+(/[A-Za-z0-9_.@+*?\[\]-]+)*\Z')
_KERNEL_VERSION_RE = re.compile(r'^vmlinuz-(.+)\Z')
_CONSOLE_RE = re.compile(r'^ttyS([0-9])(?:,([0-9]{4,6})(?:n8)?)?\Z')
# On top of netboot's rule for a kernel argument: what GRUB's script language would read in grub.cfg.
_GRUB_SCRIPT_CHARS = ';{}$'
_FSTAB_DEVICE_SOURCES = ('/dev/', 'UUID=', 'LABEL=', 'PARTUUID=', 'PARTLABEL=')


class RootImageError(NetbootError):
    """A refusal or failure of root_image; error_code is stable (invalid, not_found, busy, not_blank,
    not_ours, no_kernel, unsafe_path, io_error); EXTRA goes into the failure's result (netboot.fail_with_error)."""


# --- input ---------------------------------------------------------------------------------------

def check_relative_patterns(patterns, what):
    """Paths or globs relative to the image's root ('etc/foo', 'var/lib/x/*'), never '..' or absolute."""
    checked = []
    for pattern in patterns or ():
        pattern = pattern.strip().lstrip('/')
        if not pattern or not _RELATIVE_RE.match(pattern) or '..' in pattern.split('/'):
            raise RootImageError('%s: %r is not a path relative to the image root' % (what, pattern))
        checked.append(pattern)
    return checked


def check_console(console):
    """A serial console as the kernel names it: ttyS0, ttyS1,115200 or ttyS0,115200n8."""
    if console and not _CONSOLE_RE.match(console):
        raise RootImageError('console %r is not a serial console such as ttyS0,115200n8' % (console,))
    return console or None


def check_kernel_args(args):
    """Kernel arguments go into grub.cfg: one word each (netboot.check_kernel_args), and nothing GRUB's script
    language would read."""
    try:
        args = check_netboot_kernel_args(args or [])
    except NetbootError as exc:
        raise RootImageError(exc.msg)
    for arg in args:
        if any(char in _GRUB_SCRIPT_CHARS for char in arg):
            raise RootImageError('kernel argument %r: GRUB would read %s in it as script' % (arg, _GRUB_SCRIPT_CHARS))
    return args


# --- what the image holds ------------------------------------------------------------------------

def expand(root, pattern):
    """The paths under ROOT that PATTERN (relative, shell glob per component) names, sorted; symlinks are
    not followed out of ROOT (a component that is a symlink is matched, never entered)."""
    found = [root]
    for part in pattern.split('/'):
        next_found = []
        for base in found:
            if os.path.islink(base) or not os.path.isdir(base):
                continue
            if any(char in part for char in '*?['):
                try:
                    names = sorted(os.listdir(base))
                except OSError:
                    names = []
                next_found.extend(os.path.join(base, name) for name in fnmatch.filter(names, part))
            elif os.path.lexists(os.path.join(base, part)):
                next_found.append(os.path.join(base, part))
        found = next_found
    return sorted(path for path in found if path != root)


def contained(root, rel):
    """ROOT/REL, when neither it nor a directory on the way is a symlink that leads out of ROOT, and it is not a
    symlink itself. A clone's files were in a host's hands: a link to an absolute path would make the builder
    read or write its own files."""
    path = os.path.join(root, rel)
    real_root = os.path.realpath(root)
    parent = os.path.realpath(os.path.dirname(path))
    if os.path.islink(path) or (parent != real_root and not parent.startswith(real_root + os.sep)):
        raise RootImageError('%s in the image is a symlink or lies behind one that leads out of the image; it is '
                             'neither read nor written' % rel, error_code='unsafe_path', path=rel)
    return path


def generalize_paths(root, extra_remove=()):
    """(paths to remove, paths to empty) under ROOT, each as it exists now. The image's own marker is never
    removed (etc/san-iscsi/* would name it); a symlink is never emptied (it may name a file of the builder)."""
    marker = os.path.join(root, MARKER)
    remove = []
    for pattern in tuple(GENERALIZE_REMOVE) + tuple(extra_remove):
        remove.extend(path for path in expand(root, pattern) if path not in remove and path != marker)
    empty = [os.path.join(root, name) for name in GENERALIZE_EMPTY
             if not os.path.islink(os.path.join(root, name)) and os.path.isfile(os.path.join(root, name)) and
             os.path.getsize(os.path.join(root, name))]
    return remove, empty


def kernel_pair(root):
    """(kernel, initramfs) paths relative to ROOT of the newest kernel in ROOT/boot that has an initramfs
    (Debian's initrd.img-V or the RHEL family's initramfs-V.img); None when there is none."""
    boot = os.path.join(root, 'boot')
    try:
        names = os.listdir(boot)
    except OSError:
        return None
    pairs = []
    for name in names:
        match = _KERNEL_VERSION_RE.match(name)
        if not match:
            continue
        version = match.group(1)
        for initrd in ('initrd.img-%s' % version, 'initramfs-%s.img' % version):
            if os.path.isfile(os.path.join(boot, initrd)):
                pairs.append((version_key(version), 'boot/' + name, 'boot/' + initrd))
                break
    if not pairs:
        return None
    pairs.sort()
    return pairs[-1][1], pairs[-1][2]


def version_key(version):
    """A sort key for kernel versions: numbers compared as numbers ('6.1.0-10' after '6.1.0-9')."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part) for part in re.split(r'(\d+)', version) if part]


def grub_config(uuid, kernel, initrd, kernel_args, console=None):
    """GRUB's grub.cfg for a golden image: one entry, root by filesystem UUID (never a device name, which
    changes between hosts and boots), the kernel arguments that log in from the iBFT."""
    lines = [HEADER, 'set timeout=1', 'set default=0']
    args = ['root=UUID=%s' % uuid, 'ro'] + list(kernel_args)
    if console:
        match = _CONSOLE_RE.match(console)
        lines += ['serial --unit=%s --speed=%s' % (match.group(1), match.group(2) or '115200'),
                  'terminal_input serial console', 'terminal_output serial console']
        args.append('console=%s' % console)
    lines += [
        "menuentry 'san.iscsi root (%s)' {" % os.path.basename(kernel),
        '    insmod part_msdos',
        '    insmod ext2',
        '    search --no-floppy --fs-uuid --set=root %s' % uuid,
        '    linux /%s %s' % (kernel, ' '.join(args)),
        '    initrd /%s' % initrd,
        '}',
    ]
    return '\n'.join(lines) + '\n'


def fstab_with_root(text, uuid):
    """The builder's fstab for the image: '/' by UUID; every other entry of a block device (the builder's
    own disks, swap) commented out, as the clones do not have them; pseudo filesystems and comments kept."""
    out = [HEADER]
    for line in (text or '').splitlines():
        fields = line.split()
        if line.strip() == HEADER or not fields or fields[0].startswith('#') or len(fields) < 3:
            if line.strip() != HEADER:
                out.append(line)
            continue
        if fields[1] == '/':
            continue
        if fields[0].startswith(_FSTAB_DEVICE_SOURCES) or fields[2] == 'swap':
            out.append('# not on this image (san.iscsi.root_image): %s' % line)
        else:
            out.append(line)
    out.insert(1, 'UUID=%s / %s rw,errors=remount-ro 0 1' % (uuid, FSTYPE))
    return '\n'.join(out) + '\n'


def hosts_with_name(text, hostname):
    """/etc/hosts with the host's own name on 127.0.1.1 (Debian's convention), other lines kept."""
    out = [line for line in (text or '').splitlines() if not line.split()[:1] == ['127.0.1.1']]
    if not any(line.split()[:1] == ['127.0.0.1'] for line in out):
        out.insert(0, '127.0.0.1 localhost')
    index = next(i for i, line in enumerate(out) if line.split()[:1] == ['127.0.0.1']) + 1
    out.insert(index, '127.0.1.1 %s' % hostname)
    return '\n'.join(out) + '\n'


def boot_nic_network(mac):
    """A systemd-networkd file that leaves the boot NIC (by MAC) to the initramfs: networkd must neither
    run DHCP on it nor drop the address the root's session runs over, up to the last moment of shutdown."""
    return '%s\n[Match]\nMACAddress=%s\n\n[Link]\nUnmanaged=yes\n' % (HEADER, mac.lower().replace('-', ':'))


def initiator_file(initiator):
    return '%s\nInitiatorName=%s\n' % (HEADER, initiator)


def marker_text(kind, **fields):
    data = dict(fields, kind=kind, version=MARKER_VERSION, made_by='san.iscsi.root_image')
    return json.dumps(data, sort_keys=True, indent=2) + '\n'


def read_marker(text):
    """The marker's fields, or None when TEXT is not one of ours."""
    try:
        data = json.loads(text or '')
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get('made_by') != 'san.iscsi.root_image' or \
            data.get('kind') not in ('golden', 'personalized'):
        return None
    return data


def personal_files(root_text, hostname, initiator, boot_mac=None):
    """{relative path: (text, mode)} personalization writes; ROOT_TEXT(relative path) reads the clone."""
    wanted = {
        'etc/hostname': (hostname + '\n', 0o644),
        'etc/hosts': (hosts_with_name(root_text('etc/hosts'), hostname), 0o644),
        INITIATOR_FILE: (initiator_file(initiator), 0o600),
    }
    if boot_mac:
        wanted[BOOT_NIC_NETWORK] = (boot_nic_network(boot_mac), 0o644)
    return wanted


# --- commands ------------------------------------------------------------------------------------

LAYOUT_TIMEOUT = 120
COPY_TIMEOUT = 3600
GRUB_TIMEOUT = 600


def make_layout(runner, disk):
    """An msdos label and one bootable partition from 1 MiB to the end (GRUB's core image fits before it)."""
    runner.run('parted', ['-s', '-a', 'optimal', disk, 'mklabel', 'msdos', 'mkpart', 'primary', FSTYPE,
                          '1MiB', '100%', 'set', str(ROOT_PARTITION), 'boot', 'on'],
               timeout=LAYOUT_TIMEOUT, what='partitioning %s' % disk)


def make_filesystem(runner, partition):
    runner.run('mkfs.ext4', ['-q', '-F', '-L', FS_LABEL, partition], timeout=LAYOUT_TIMEOUT,
               what='making the root filesystem on %s' % partition)


# Trees the image needs even where the builder mounts them on a filesystem of their own.
SEPARATE_TREES = ('boot',)


def copy_root(runner, source, target, exclude=(), is_mount=os.path.ismount):
    """rsync -aHAXx: hard links, ACLs, xattrs (file capabilities), one filesystem (/proc, /sys, /run, other
    mounts and the image's own mount point are skipped), numeric ids (the image has the builder's users).
    A SEPARATE_TREES directory that is a mount point on the builder (a /boot partition) is copied too."""
    args = ['-aHAXx', '--numeric-ids', '--delete']
    for pattern in tuple(COPY_EXCLUDE) + tuple(exclude):
        args += ['--exclude', pattern]
    runner.run('rsync', args + [source.rstrip('/') + '/', target.rstrip('/') + '/'], timeout=COPY_TIMEOUT,
               what='copying %s into the image' % source)
    for tree in SEPARATE_TREES:
        tree_source = os.path.join(source, tree)
        if is_mount(tree_source):
            runner.run('rsync', ['-aHAXx', '--numeric-ids', '--delete', tree_source + '/',
                                 os.path.join(target, tree) + '/'], timeout=COPY_TIMEOUT,
                       what='copying %s (a filesystem of its own) into the image' % tree_source)


def install_grub(runner, root, disk):
    """GRUB for BIOS (i386-pc) in the disk's MBR gap, its modules in ROOT/boot/grub."""
    runner.run('grub-install', ['--target=i386-pc', '--boot-directory=%s' % os.path.join(root, 'boot'),
                                '--modules=part_msdos ext2', disk], timeout=GRUB_TIMEOUT,
               what='installing GRUB on %s' % disk)


def make_host_keys(runner, root):
    """New SSH host keys of every default type in ROOT/etc/ssh (ssh-keygen -A -f: only the missing ones)."""
    runner.run('ssh-keygen', ['-A', '-f', root], what='making SSH host keys in the image')


def has_host_keys(root):
    return bool(expand(root, 'etc/ssh/ssh_host_*_key'))
