# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The san.iscsi lab: a SAN guest and two initiator hosts under QEMU (TCG), and the integration runner.

  labctl.py image              build the guest images once (cached by a hash of lab/image/)
  labctl.py up | down | status keep a dev lab running in .lab/ between runs
  labctl.py run [TARGET ...]   run integration targets against the running dev lab (or the controller)
  labctl.py test [TARGET ...]  boot a fresh lab, run the targets, always tear it down
  labctl.py demo               the main job end to end on a fresh lab

Targets run under Mitogen's mitogen_linear strategy (one Python interpreter per guest, a small fraction of the time
per task under TCG) or under stock Ansible: --strategy, or $SAN_ISCSI_LAB_STRATEGY. A target whose aliases
say `stock` always runs under stock Ansible (its aliases file says why). `test` with no target names runs the
whole suite under Mitogen and then, under stock Ansible, the targets users' runs depend on most (STOCK_SUBSET).
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE_RECIPE = REPO / "lab" / "image"
TARGETS_DIR = REPO / "tests" / "integration" / "targets"
DEV_STATE = REPO / ".lab"
LOG_DIR = REPO / "tests" / "output" / "integration"
JOBS = int(os.environ.get("SAN_ISCSI_LAB_JOBS", "2"))
CACHE = Path(os.environ.get("SAN_ISCSI_LAB_CACHE", "/var/cache/san-iscsi/lab"))
IMAGE_MIN_FREE = 6 << 30
# Another recipe's images are removed after a build only when nothing touched them for this long (a lab
# started from an image touches it) and no running process names them: a lab of another worktree or of an
# older checkout may still run from them.
IMAGE_KEEP_SECONDS = 86400
RUN_MIN_FREE = 2 << 30
SSH_TIMEOUT = int(os.environ.get("SAN_ISCSI_LAB_BOOT_TIMEOUT", "420"))
READY_TIMEOUT = 180
# A guest kernel that panics reboots itself after this many seconds (`panic=`). CI once lost a run to a guest
# that panicked 2 s into its boot under TCG and then sat there until SSH_TIMEOUT; one reboot is allowed for that.
PANIC_REBOOT_SECONDS = 5
PANIC_RE = re.compile(r"(?<!end )Kernel panic - not syncing")   # not the "---[ end Kernel panic" trailer
IQN_PREFIX = "iqn.2026-11.lab.san-iscsi"
PORTALS = ["10.10.1.1", "10.10.2.1"]
PORTAL_IPV6 = "fd5a:1::1"
STRATEGIES = ("mitogen", "stock")
# run again under stock Ansible in a full `test`: the main job end to end (the demo: restore.yml, with the role,
# session, lun_mount, the SAN modules and the direct transfer under stock Ansible); lio_reboot, which runs under
# stock Ansible only, covers the LIO SAN modules there (LUN, snapshot, clone, igroup, map, unmap, delete)
STOCK_SUBSET = ("demo",)
# A full run starts the longest targets first (after smoke and the serial ones, which run from the shortest up), so
# that it does not end with one long target beside an idle core. Seconds on a normal day (CI of c9dfdb3, the dev lab for the newer ones);
# only the order depends on them, and a target not listed counts as DEFAULT_SECONDS.
TYPICAL_SECONDS = {
    "lvm_migrate": 560, "snapshot_browse_concurrent": 450, "snapshot_browse_versions": 420,
    "snapshot_automount": 300, "snapshot_browse_failures": 245, "snapshot_browse": 207,
    "snapshot_browse_target_lost": 175,
    "demo [stock]": 168, "snapshot_browse_fs": 157, "awx_jobs": 150, "snapshot_automount_ontap": 130,
    "snapshot_browse_safety": 129, "lun_mount": 111, "lun_mount_lvm": 102,
    "session": 56, "autofs_map": 47, "discovery": 44, "lio_snapshot": 35, "lun_device": 30,
    # serial (run from the shortest up)
    "iscsi_root_golden": 900, "lvm_migrate_rollback": 257, "lio_reboot [stock]": 253, "volume_group": 94,
    "readme_examples": 70, "awx_initiator": 24, "role_initiator": 18,
}
DEFAULT_SECONDS = 20
DEMO_PLAYBOOK = REPO / "lab" / "demo" / "restore_demo.yml"
SLOWEST_SHOWN = 10


class LabError(Exception):
    pass


class Guest:
    def __init__(self, name, role, index, memory, smp, suite, data_disk=None):
        self.name, self.role, self.index, self.suite = name, role, index, suite
        self.memory, self.smp, self.data_disk = memory, smp, data_disk
        self.ip_a = "10.10.1.%d" % index
        self.ip_b = "10.10.2.%d" % index
        self.ip6 = "fd5a:1::%d" % index
        self.iqn = None if role == "san" else "%s:%s" % (IQN_PREFIX, name)


# The hosts cover both Debian stables (bookworm = 12, trixie = 13): every two-host test runs on both. Two vCPUs
# each: with one, a busy host (udev, iscsid, multipathd and the module at once) was the bottleneck while the
# machine's second core idled (docs/development.md).
GUESTS = [
    Guest("san", "san", 1, memory=1536, smp=2, suite="bookworm", data_disk="20G"),
    Guest("host1", "host", 11, memory=1024, smp=2, suite="bookworm"),
    Guest("host2", "host", 12, memory=1024, smp=2, suite="trixie"),
]
SUITES = tuple(sorted({g.suite for g in GUESTS}))


def log(msg):
    print("[lab] %s %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def run(cmd, check=True, **kwargs):
    proc = subprocess.run(cmd, text=True, capture_output=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise LabError("command failed (rc=%d): %s\n%s%s" % (
            proc.returncode, " ".join(map(str, cmd)), proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def unpin():
    """Let this process (and what it starts) run on every CPU of the machine."""
    os.sched_setaffinity(0, range(os.cpu_count() or 1))


UNIX_DGRAM_QLEN = Path("/proc/sys/net/unix/max_dgram_qlen")
# systemd's default (sysctl.d/50-default.conf); the kernel's own is 10
UNIX_DGRAM_QLEN_WANTED = 512


def raise_unix_dgram_queue(path=UNIX_DGRAM_QLEN, wanted=UNIX_DGRAM_QLEN_WANTED):
    """vde_switch and QEMU's vde backend pass every frame of the fabrics through AF_UNIX datagram sockets, whose
    queue holds net.unix.max_dgram_qlen datagrams: with the kernel's 10 (a machine without systemd, like CI's), the
    SAN guest counted resent segments during bulk iSCSI writes, and raw 1 MiB reads on host1 ran at 15.3 to 16.0
    MB/s against 17.1 to 18.5 MB/s with 512 (docs/development.md). Raised for the sockets made after it; never lowered. Returns the
    value in force."""
    try:
        current = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if current >= wanted:
        return current
    try:
        path.write_text("%d\n" % wanted)
    except OSError as exc:
        log("net.unix.max_dgram_qlen is %d and cannot be raised (%s): the fabrics may drop bursts" % (current, exc))
        return current
    log("net.unix.max_dgram_qlen raised from %d to %d for the fabrics' datagram sockets" % (current, wanted))
    return wanted


def require_tools(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise LabError("missing tools: %s (run `make host-deps` as root: it installs qemu-system-x86, "
                       "qemu-utils, vde2, debootstrap, openssh-client)" % ", ".join(missing))


def require_free(path, needed, what):
    path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path).free
    if free < needed:
        raise LabError("only %.1f GiB free in %s; %s needs %.1f GiB" % (free / 2**30, path, what, needed / 2**30))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---------------------------------------------------------------- image

def recipe_hash():
    digest = hashlib.sha256()
    for path in sorted(p for p in IMAGE_RECIPE.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(IMAGE_RECIPE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def image_root():
    """The recipe's images: ROOT/SUITE/ for each suite, and the SSH key all of them accept (ROOT/id_ed25519)."""
    return CACHE / "images" / recipe_hash()


def ensure_images():
    """{suite: image directory} for every suite the guests need; builds the missing ones, one after the other."""
    root = image_root()
    images = {suite: root / suite for suite in SUITES}
    if all((image / "base.img").is_file() for image in images.values()):
        return images
    require_tools("debootstrap", "mkfs.ext4", "chroot", "ssh-keygen")
    if os.geteuid() != 0:
        raise LabError("building the lab image needs root (debootstrap, chroot)")
    require_free(root.parent, IMAGE_MIN_FREE * len(SUITES), "the guest image build")
    with open(root.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        root.mkdir(exist_ok=True)
        if not (root / "id_ed25519").is_file():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "san-iscsi-lab", "-f", str(root / ".key")])
            (root / ".key.pub").rename(root / "id_ed25519.pub")
            (root / ".key").rename(root / "id_ed25519")
        built = False
        for suite, image in images.items():
            if (image / "base.img").is_file():
                continue
            log("building the %s guest image %s (cold build, a few minutes)" % (suite, image))
            start = time.monotonic()
            proc = subprocess.run(["bash", str(IMAGE_RECIPE / "build.sh"), str(image), suite, str(root / "id_ed25519")],
                                  check=False)
            if proc.returncode != 0:
                raise LabError("%s guest image build failed (see the output above)" % suite)
            log("%s image built in %.0f s" % (suite, time.monotonic() - start))
            built = True
        if built:
            prune_images(root)
    return images


def panic_count(console):
    """How many kernel panics a guest's serial console file shows."""
    return len(PANIC_RE.findall(console.read_text(errors="replace"))) if console.exists() else 0


def keep_console(console, why="panic"):
    """Copy a lab's console file to LOG_DIR (the lab's directory goes at teardown); returns the copy's path."""
    if not console.exists():
        return None
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    kept = LOG_DIR / ("%s-%s.console" % (why, console.stem))
    shutil.copyfile(console, kept)
    return kept


def prune_images(keep):
    """Remove other recipes' images that no lab can be using (see IMAGE_KEEP_SECONDS)."""
    in_use = running_command_lines()
    for old in keep.parent.iterdir():
        if not old.is_dir() or old == keep or old.name.startswith("."):
            continue
        if time.time() - last_touched(old) < IMAGE_KEEP_SECONDS or str(old) in in_use:
            continue
        log("removing the unused image %s" % old)
        shutil.rmtree(old, ignore_errors=True)


def last_touched(path):
    """The newest mtime of PATH and what it holds (two levels: an image root holds suite directories)."""
    stamps = [path.stat().st_mtime]
    for child in path.iterdir():
        stamps.append(child.stat().st_mtime)
        if child.is_dir():
            stamps += [grandchild.stat().st_mtime for grandchild in child.iterdir()]
    return max(stamps)


def running_command_lines():
    """Every running process's command line, joined (a lab's qemu names its image's kernel)."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return "\n".join(lines)


# ---------------------------------------------------------------- lab state

class Lab:
    """One running lab: processes, sockets and overlays under a short directory in /tmp."""

    def __init__(self, workdir, mode):
        self.dir = Path(workdir)
        self.mode = mode
        self.state = {"mode": mode, "owner": os.getpid(), "dir": str(self.dir), "pids": {}, "ports": {}}

    @classmethod
    def create(cls, mode):
        require_free(Path(tempfile.gettempdir()), RUN_MIN_FREE, "the guests' overlays")
        return cls(tempfile.mkdtemp(prefix="sil-"), mode)

    @classmethod
    def load(cls, workdir):
        lab = cls(workdir, None)
        lab.state = json.loads((lab.dir / "state.json").read_text())
        lab.mode = lab.state["mode"]
        return lab

    def save(self):
        tmp = self.dir / "state.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.dir / "state.json")

    @property
    def inventory(self):
        return self.dir / "inventory.yml"

    def console(self, name):
        return self.dir / ("%s.console" % name)

    # -- start

    @property
    def key(self):
        return self.dir / "id_ed25519"

    def start(self, images):
        start = time.monotonic()
        root = next(iter(images.values())).parent
        os.utime(root)  # in use: prune_images() leaves it alone
        shutil.copy(root / "id_ed25519", self.key)
        self.key.chmod(0o600)
        raise_unix_dgram_queue()
        for fabric in ("a", "b"):
            self._start_switch(fabric)
        for guest in GUESTS:
            self._start_guest(guest, images[guest.suite])
        self.save()
        log("guests started; waiting for SSH (at most %d s)" % SSH_TIMEOUT)
        self._write_inventory()
        boot = self._wait_for_ssh(images)
        for name, secs in boot.items():
            log("%s: SSH after %.0f s" % (name, secs))
        self._wait_ready()
        self.state["boot_seconds"] = round(time.monotonic() - start, 1)
        self.save()
        log("lab ready in %.0f s; inventory %s" % (self.state["boot_seconds"], self.inventory))

    def _start_switch(self, fabric):
        sock = self.dir / ("fab-%s" % fabric)
        pidfile = self.dir / ("fab-%s.pid" % fabric)
        run(["vde_switch", "--sock", str(sock), "--daemon", "--pidfile", str(pidfile), "--numports", "8"])
        self.state["pids"]["vde-%s" % fabric] = self._read_pid(pidfile)
        self.save()

    def _start_guest(self, guest, image):
        overlay = self.dir / ("%s.qcow2" % guest.name)
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image / "base.img"), "-F", "raw", str(overlay)])
        port = free_port()
        self.state["ports"][guest.name] = port
        hosts = ",".join("%s:%s" % (g.name, g.ip_a) for g in GUESTS)
        append = ["console=ttyS0", "root=/dev/vda", "rw", "net.ifnames=0", "modprobe.blacklist=floppy", "systemd.show_status=error",
                  "panic=%d" % PANIC_REBOOT_SECONDS,
                  "lab.name=" + guest.name, "lab.role=" + guest.role, "lab.a=" + guest.ip_a,
                  "lab.b=" + guest.ip_b, "lab.a6=" + guest.ip6, "lab.hosts=" + hosts]
        if guest.iqn:
            append.append("lab.iqn=" + guest.iqn)
        pidfile = self.dir / ("%s.pid" % guest.name)
        cmd = [
            "qemu-system-x86_64", "-name", "sil-" + guest.name, "-accel", "tcg", "-smp", str(guest.smp),
            "-m", str(guest.memory), "-display", "none", "-monitor", "none",
            "-serial", "file:%s" % self.console(guest.name), "-daemonize", "-pidfile", str(pidfile),
            "-kernel", str(image / "vmlinuz"), "-initrd", str(image / "initrd.img"), "-append", " ".join(append),
            "-drive", "file=%s,format=qcow2,if=virtio,cache=unsafe,discard=unmap" % overlay,
            "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0",
            "-netdev", "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22" % port,
            "-device", "virtio-net-pci,netdev=mgmt,mac=52:54:00:00:00:%02x" % guest.index,
        ]
        for nic, fabric in ((1, "a"), (2, "b")):
            cmd += ["-netdev", "vde,id=fab%s,sock=%s" % (fabric, self.dir / ("fab-%s" % fabric)),
                    "-device", "virtio-net-pci,netdev=fab%s,mac=52:54:00:0a:%02x:%02x" % (fabric, nic, guest.index)]
        if guest.data_disk:
            data = self.dir / ("%s-data.qcow2" % guest.name)
            run(["qemu-img", "create", "-q", "-f", "qcow2", str(data), guest.data_disk])
            cmd += ["-drive", "file=%s,format=qcow2,if=virtio,cache=unsafe,discard=unmap" % data]
        proc = run(cmd, check=False)
        if proc.returncode != 0:
            raise LabError("qemu failed to start %s: %s" % (guest.name, proc.stderr.strip()))
        self.state["pids"][guest.name] = self._read_pid(pidfile)
        self.save()

    # -- diskless guests (started by a test, not at lab-up)

    def diskless_start(self, name, index, memory=768):
        """A guest with no disk that boots from the network. Its NICs are in the order of the other guests':
        the management NIC (eth0, SSH forwarded from the controller, no option ROM), then fabric A (eth1) with
        QEMU's iPXE ROM as boot device 1; an iPXE ROM boots from its own NIC only.
        The firmware's console (SeaBIOS, iPXE) and then the kernel's go to the serial file. Returns its port."""
        if not re.match(r"^[a-z][a-z0-9-]{0,30}$", name) or not 2 <= index <= 250:
            raise LabError("diskless guest: a short lower-case name and an index from 2 to 250")
        if index in {guest.index for guest in GUESTS}:
            raise LabError("diskless guest: index %d is a lab guest's (its MACs and addresses)" % index)
        pidfile = self.dir / ("diskless-%s.pid" % name)
        if pidfile.exists() and pid_alive(int(pidfile.read_text().strip() or 0)):
            raise LabError("diskless guest %s is already running" % name)
        port = free_port()
        cmd = [
            "qemu-system-x86_64", "-name", "sil-diskless-" + name, "-accel", "tcg", "-smp", "2", "-m", str(memory),
            "-machine", "graphics=off", "-display", "none", "-monitor", "none",
            "-serial", "file:%s" % self.console(name), "-daemonize", "-pidfile", str(pidfile),
            "-object", "rng-random,filename=/dev/urandom,id=rng0", "-device", "virtio-rng-pci,rng=rng0",
            "-netdev", "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22" % port,
            "-device", "virtio-net-pci,netdev=mgmt,mac=52:54:00:00:00:%02x,romfile=" % index,
            "-netdev", "vde,id=faba,sock=%s" % (self.dir / "fab-a"),
            "-device", "virtio-net-pci,netdev=faba,mac=52:54:00:0a:01:%02x,bootindex=1" % index,
        ]
        self.console(name).unlink(missing_ok=True)
        # on every CPU, as the lab's guests are, whatever pinning the caller inherited (a task under Mitogen)
        proc = run(cmd, check=False, preexec_fn=unpin)
        if proc.returncode != 0:
            raise LabError("qemu failed to start diskless guest %s: %s" % (name, proc.stderr.strip()))
        self._read_pid(pidfile)
        return port

    def diskless_stop(self, name):
        """Power the guest off (no shutdown inside it: as a pulled plug)."""
        pidfile = self.dir / ("diskless-%s.pid" % name)
        if not pidfile.exists():
            return False
        pid = int(pidfile.read_text().strip() or 0)
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)
        return True

    @staticmethod
    def _read_pid(pidfile):
        for _attempt in range(50):
            if pidfile.exists() and pidfile.read_text().strip():
                return int(pidfile.read_text().strip())
            time.sleep(0.1)
        raise LabError("no pid file %s" % pidfile)

    def ssh_cmd(self, name, *remote):
        return ["ssh", "-q", "-p", str(self.state["ports"][name]), "-i", str(self.key),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", "root@127.0.0.1"] + list(remote)

    def _wait_for_ssh(self, images):
        start = time.monotonic()
        pending = {g.name for g in GUESTS}
        boot = {}
        panics = {}
        restarted = set()
        while pending:
            for name in sorted(pending):
                if not pid_alive(self.state["pids"][name]):
                    if name in restarted:
                        raise LabError("guest %s died during boot twice.\n%s" % (name, self.console_tail(name)))
                    self._restart_dead_guest(name, images)
                    restarted.add(name)
                    panics.pop(name, None)  # a new console: its panics are counted from zero
                    continue
                if self._note_panics(name, panics) > 1:
                    raise LabError("guest %s: a kernel panic on two boots in a row.\n%s" % (name, self.console_tail(name)))
                if run(self.ssh_cmd(name, "true"), check=False, timeout=30).returncode == 0:
                    boot[name] = time.monotonic() - start
                    pending.discard(name)
            if pending and time.monotonic() - start > SSH_TIMEOUT:
                name = sorted(pending)[0]
                raise LabError("guest %s: no SSH after %d s.\n%s" % (name, SSH_TIMEOUT, self.console_tail(name)))
            if pending:
                time.sleep(2)
        return boot

    def _wait_ready(self):
        """Boot finished and the storage fabrics work: every host reaches both SAN portals."""
        for guest in GUESTS:
            proc = run(self.ssh_cmd(guest.name, "timeout %d systemctl is-system-running --wait; "
                                    "systemctl --failed --no-legend --plain" % READY_TIMEOUT), check=False)
            state = proc.stdout.split()[0] if proc.stdout.split() else "unknown"
            if state not in ("running", "degraded"):
                raise LabError("guest %s not ready (%s).\n%s" % (guest.name, proc.stdout, self.console_tail(guest.name)))
            if state == "degraded":
                log("%s is degraded; failed units: %s" % (guest.name, " ".join(proc.stdout.split()[1:])))
        checks = {"san": "vgs --noheadings -o vg_name,lv_count labvg && ip -br addr"}
        for guest in GUESTS:
            if guest.role == "host":
                checks[guest.name] = " && ".join("ping -c1 -W5 %s >/dev/null" % ip for ip in PORTALS + [PORTAL_IPV6])
        for name, check in checks.items():
            proc = run(self.ssh_cmd(name, check), check=False, timeout=120)
            if proc.returncode != 0:
                raise LabError("guest %s failed its readiness check `%s`:\n%s%s\n%s" % (
                    name, check, proc.stdout, proc.stderr, self.console_tail(name)))

    def _restart_dead_guest(self, name, images):
        """Start again, once, a guest whose QEMU died during boot: QEMU 7.2's TCG once crashed with a general
        protection fault 1.7 s into a guest's boot (2026-12-06). Its console is kept first."""
        kept = keep_console(self.console(name), "died")
        log("guest %s: QEMU died during boot; starting it again (console kept in %s)" % (name, kept))
        guest = next(g for g in GUESTS if g.name == name)
        self._start_guest(guest, images[guest.suite])
        self._write_inventory()

    def _note_panics(self, name, seen):
        """The number of kernel panics on NAME's console so far; a new one is logged and its console kept."""
        count = panic_count(self.console(name))
        if count > seen.get(name, 0):
            log("guest %s: kernel panic during boot; it reboots itself in %d s (console kept in %s)"
                % (name, PANIC_REBOOT_SECONDS, keep_console(self.console(name))))
            seen[name] = count
        return count

    def console_tail(self, name, lines=30):
        path = self.console(name)
        if not path.exists():
            return "(no console log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return "--- last %d console lines of %s ---\n%s" % (lines, name, "\n".join(text))

    def _write_inventory(self):
        common = {
            "ansible_user": "root",
            "ansible_host": "127.0.0.1",
            "ansible_ssh_private_key_file": str(self.key),
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR",
            "ansible_python_interpreter": "/usr/bin/python3",
        }

        def hostvars(guest):
            hv = {"ansible_port": self.state["ports"][guest.name], "lab_ip_a": guest.ip_a, "lab_ip_b": guest.ip_b,
                  "lab_ip6": guest.ip6, "lab_suite": guest.suite,
                  # how the other guests reach its sshd (ansible_host is the controller's port forward)
                  "snapshot_browse_ssh_address": guest.ip_a}
            if guest.iqn:
                hv["lab_initiator_name"] = guest.iqn
            return hv

        inventory = {"all": {
            "vars": {"repo_root": str(REPO), "lab_portals": PORTALS, "lab_portal_ipv6": PORTAL_IPV6,
                     "lab_dir": str(self.dir), "lab_iqn_prefix": IQN_PREFIX},
            "children": {
                "controller": {"hosts": {"localhost": {"ansible_connection": "local",
                                                       "ansible_python_interpreter": sys.executable}}},
                "lab": {"vars": common, "children": {
                    "storage": {"hosts": {g.name: hostvars(g) for g in GUESTS if g.role == "san"}},
                    "initiators": {"hosts": {g.name: hostvars(g) for g in GUESTS if g.role == "host"}},
                }},
            }}}
        self.inventory.write_text(json.dumps(inventory, indent=1))

    # -- stop

    def stop(self):
        """Stop every process of this lab and remove its directory. Safe to call twice."""
        pids = dict(self.state.get("pids", {}))
        for pidfile in self.dir.glob("diskless-*.pid"):
            try:
                pids[pidfile.stem] = int(pidfile.read_text().strip())
            except (ValueError, OSError):
                continue
        for name, pid in pids.items():
            if pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, pid in pids.items():
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        left = [name for name, pid in pids.items() if pid_alive(pid) and not _reap(pid)]
        for console in sorted(self.dir.glob("*.console")):
            if panic_count(console):
                log("guest %s had a kernel panic (console kept in %s)" % (console.stem, keep_console(console)))
        shutil.rmtree(self.dir, ignore_errors=True)
        if left:
            raise LabError("processes still running after teardown: %s" % ", ".join(left))


def _reap(pid):
    time.sleep(0.5)
    return not pid_alive(pid)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reap_stale_runs():
    """Tear down labs left by a runner that was killed without a chance to clean up."""
    for state in Path(tempfile.gettempdir()).glob("sil-*/state.json"):
        try:
            lab = Lab.load(state.parent)
        except (ValueError, OSError):
            continue
        if lab.mode == "test" and not pid_alive(lab.state.get("owner", 0)):
            log("removing a stale lab left by a killed run: %s" % lab.dir)
            lab.stop()


# ---------------------------------------------------------------- dev lab

def dev_lab():
    pointer = DEV_STATE / "lab"
    if pointer.is_symlink() and (pointer / "state.json").exists():
        return Lab.load(pointer.resolve())
    return None


def cmd_up(_args):
    require_tools("qemu-system-x86_64", "qemu-img", "vde_switch", "ssh")
    if dev_lab():
        raise LabError("the dev lab is already up (make lab-status; make lab-down first)")
    images = ensure_images()
    reap_stale_runs()
    lab = Lab.create("dev")
    DEV_STATE.mkdir(exist_ok=True)
    (DEV_STATE / "lab").unlink(missing_ok=True)
    (DEV_STATE / "lab").symlink_to(lab.dir)
    try:
        lab.start(images)
    except BaseException:
        lab.stop()
        shutil.rmtree(DEV_STATE, ignore_errors=True)
        raise
    shutil.copy(lab.inventory, DEV_STATE / "inventory.yml")
    log("dev lab up; `make lab-target T=...` runs targets, `make lab-down` stops it")


def cmd_down(_args):
    lab = dev_lab()
    if lab:
        lab.stop()
        log("dev lab stopped")
    shutil.rmtree(DEV_STATE, ignore_errors=True)


def cmd_status(_args):
    lab = dev_lab()
    if not lab:
        print("dev lab: down")
        return 1
    for name, pid in lab.state["pids"].items():
        port = lab.state["ports"].get(name)
        where = "  ssh 127.0.0.1:%d" % port if port else ""
        print("%-6s pid %-7d %s%s" % (name, pid, "up" if pid_alive(pid) else "DEAD", where))
    print("inventory: %s" % (DEV_STATE / "inventory.yml"))
    return 0


def cmd_image(_args):
    start = time.monotonic()
    images = ensure_images()
    log("images %s ready (%.1f s)" % (", ".join(map(str, images.values())), time.monotonic() - start))


# ---------------------------------------------------------------- targets

def target_aliases(name):
    """The words of a target's aliases file; '#' starts a comment (the reason for an alias)."""
    path = TARGETS_DIR / name / "aliases"
    if not path.exists():
        return set()
    return set(word for line in path.read_text().splitlines() for word in line.split("#", 1)[0].split())


def select_targets(names):
    available = sorted(p.name for p in TARGETS_DIR.iterdir() if (p / "tasks" / "main.yml").exists())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise LabError("unknown target(s): %s (available: %s)" % (", ".join(unknown), ", ".join(available)))
    chosen = names or [n for n in available if "disabled" not in target_aliases(n)]
    # smoke first (a broken lab shows at once), then the `serial` targets back to back while nothing else has
    # started: a serial target met later waits for the running one to end, and a core idles meanwhile
    return sorted(chosen, key=lambda n: (n != "smoke", "serial" not in target_aliases(n), n))


def mitogen_strategy_dir():
    """lab/strategy_plugins: Mitogen's mitogen_linear without its CPU pinning (see the plugin's docstring)."""
    try:
        import ansible_mitogen  # pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        raise LabError("mitogen is not installed in %s (make venv installs tests/requirements.txt)" % sys.prefix)
    return str(REPO / "lab" / "strategy_plugins")


def target_strategy(name, wanted):
    """The strategy NAME runs under: stock when its aliases say `stock`, otherwise WANTED."""
    return "stock" if name != "demo" and "stock" in target_aliases(name) else wanted


def ansible_env(workdir, strategy="stock"):
    env = dict(os.environ)
    for name in ("ANSIBLE_STRATEGY", "ANSIBLE_STRATEGY_PLUGINS"):
        env.pop(name, None)
    if strategy == "mitogen":
        env.update({"ANSIBLE_STRATEGY_PLUGINS": mitogen_strategy_dir(), "ANSIBLE_STRATEGY": "mitogen_linear"})
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "live"),
        "ANSIBLE_ROLES_PATH": str(TARGETS_DIR),
        "ANSIBLE_PIPELINING": "1",
        # connection set-up: Mitogen starts a Python interpreter on the guest, seconds under TCG when busy
        "ANSIBLE_TIMEOUT": "60",
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=600s",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(workdir / "cp"),
        "ANSIBLE_HOST_KEY_CHECKING": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_DEPRECATION_WARNINGS": "1",
        "PYTHONUNBUFFERED": "1",
        # the slowest tasks at the end of each target's log (lab/callback_plugins/task_times.py)
        "ANSIBLE_CALLBACK_PLUGINS": str(REPO / "lab" / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "task_times",
        "SAN_ISCSI_LAB_RUNNER_PID": str(os.getpid()),
    })
    return env


def playbook_bin():
    return str(Path(sys.executable).parent / "ansible-playbook")


def controller_inventory(workdir):
    path = workdir / "controller-inventory.yml"
    path.write_text(json.dumps({"all": {
        "vars": {"repo_root": str(REPO)},
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    return path


class TargetRun:
    """One ansible-playbook run of an integration target (or of the demo playbook) under one strategy.

    Its output goes to its own log file, tests/output/integration/NAME[.stock].log.
    """

    def __init__(self, job, inventory, workdir, extra_args, stream):
        self.name, self.strategy = job
        self.label = job_label(job)
        self.log = None if stream else LOG_DIR / ("%s.log" % self.label.replace(" [stock]", ".stock"))
        if self.name == "demo":
            play = DEMO_PLAYBOOK
        else:
            play = workdir / ("target-%s.yml" % self.name)
            play.write_text(json.dumps([{"name": "Integration target %s" % self.name, "hosts": "localhost",
                                         "gather_facts": False, "roles": [{"role": self.name}]}]))
        cmd = [playbook_bin(), "-i", str(inventory), str(play)] + list(extra_args)
        out = None if stream else open(self.log, "w")
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=ansible_env(workdir, self.strategy), cwd=REPO, stdout=out,
                                     stderr=subprocess.STDOUT)
        if out:
            out.close()
        log("target %s: start (%s)" % (self.label, self.strategy))

    def report(self):
        secs = time.monotonic() - self.start
        ok = self.proc.returncode == 0
        log("target %s: %s in %.0f s" % (self.label, "passed" if ok else "FAILED", secs))
        reason = "" if ok else "its output is above"
        if self.log:
            lines = self.log.read_text(errors="replace").splitlines()
            shown = lines if not ok else [line for line in lines if line.startswith("localhost ")]
            print("\n".join("    | " + line for line in shown), flush=True)
            reason = "" if ok else failure_reason(lines)
        return self.label, ok, secs, reason


def failure_reason(lines, width=400):
    """The first failed task of a target's log and what Ansible printed for it, cut to WIDTH characters each:
    the summary's last lines then say what failed, even where only the end of the output is kept."""
    task = ""
    for line in lines:
        if line.startswith("TASK ["):
            task = line.rstrip("* ")
        elif line.startswith(("fatal: [", "failed: [")) and "...ignoring" not in line:
            return "%s\n      %s" % (task[:width], line.strip()[:width])
    return "no failed task in the log (exit code without one: see the log)"


def job_label(job):
    name, strategy = job
    return name if strategy == "mitogen" else "%s [stock]" % name


def is_serial(job):
    return job[0] != "demo" and "serial" in target_aliases(job[0])


def exclusive_groups(job):
    """The `exclusive/NAME` aliases of a job's target: two targets that share one never run at the same time
    (each writes a host-wide file the other writes too, such as /etc/multipath/wwids). A target under one
    strategy never runs beside itself under the other (the same LUNs, labels and paths): `target/NAME`."""
    if job[0] == "demo":
        return {"target/demo"}
    return {"target/" + job[0]} | set(alias for alias in target_aliases(job[0]) if alias.startswith("exclusive/"))


def is_controller_only(job):
    """A target that touches no guest (the ONTAP emulator's, on the controller): it may run beside anything."""
    return "controller" in target_aliases(job[0])


def is_san_only(job):
    """A target that touches only the SAN guest, and only LIO objects of its own (no host): it may run beside a
    serial target, as a controller-only one does. The serial target that restarts the SAN guest (`lio_reboot`)
    keeps them out through their shared `exclusive/san_guest` alias."""
    return job[0] != "demo" and "san_only" in target_aliases(job[0])


def fills_serial_gap(job):
    """A job that may run beside a serial job and never holds one back (docs/testing.md, the time budget)."""
    return is_controller_only(job) or is_san_only(job)


def next_startable(pending, running):
    """Index in PENDING of the job that may start beside RUNNING (jobs), or None.

    A serial job runs beside nothing but controller-only and SAN-only jobs, and no other lab job overtakes a
    pending serial one; those two kinds fill a core a serial job leaves idle. Otherwise the first pending job that
    shares no `exclusive/` group with a running one starts; a job kept back by its group keeps its place.
    """
    busy = set().union(*[exclusive_groups(job) for job in running])
    lab_running = [job for job in running if not fills_serial_gap(job)]
    serial_running = any(is_serial(job) for job in running)
    serial_waiting = False
    for index, job in enumerate(pending):
        if exclusive_groups(job) & busy:
            # a serial job kept back by its group still holds the other lab jobs back
            serial_waiting = serial_waiting or is_serial(job)
            continue
        if fills_serial_gap(job):
            return index
        if serial_running or serial_waiting:
            continue
        if is_serial(job) and lab_running:
            serial_waiting = True
            continue
        return index
    return None


def run_targets(jobs_to_run, inventory, workdir, extra_args=(), jobs=1):
    """Run (target, strategy) jobs, up to `jobs` at a time; a target with the alias `serial` runs alone, and
    targets that share an `exclusive/NAME` alias never run together (next_startable)."""
    workdir.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    pending, running, results = list(jobs_to_run), [], []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index = next_startable(pending, [(r.name, r.strategy) for r in running])
                if index is None:
                    break
                running.append(TargetRun(pending.pop(index), inventory, workdir, extra_args, stream=jobs == 1))
            time.sleep(0.5)
            for done in [r for r in running if r.proc.poll() is not None]:
                running.remove(done)
                results.append(done.report())
    finally:
        for interrupted in running:
            interrupted.proc.terminate()
            interrupted.proc.wait(timeout=30)
    print_summary(results, time.monotonic() - started, jobs)
    return all(result[1] for result in results)


def print_summary(results, wall, jobs):
    """Every target's result, then the slowest ones and the totals (the budget in docs/testing.md)."""
    width = max((len(result[0]) for result in results), default=0)
    for label, ok, secs, _reason in results:
        print("  {0:<{1}} {2:<6} {3:6.0f} s".format(label, width, "ok" if ok else "FAILED", secs))
    if len(results) > 1:
        print("slowest %d targets:" % min(SLOWEST_SHOWN, len(results)))
        for label, _ok, secs, _reason in sorted(results, key=lambda result: -result[2])[:SLOWEST_SHOWN]:
            print("  {0:<{1}} {2:6.0f} s".format(label, width, secs))
        print("targets' time added up: %.0f s; wall time with %d at a time: %.0f s"
              % (sum(result[2] for result in results), jobs, wall))
    passed = sum(1 for result in results if result[1])
    if jobs > 1:
        print("target logs: %s" % LOG_DIR)
    for label, ok, _secs, reason in results:
        if not ok:
            print("  failed: %s: %s" % (label, reason))
    print("integration: %d passed, %d failed" % (passed, len(results) - passed), flush=True)


def cmd_run(args):
    names = select_targets(args.targets)
    need_lab = any("lab" in target_aliases(n) for n in names)
    lab = dev_lab()
    if need_lab and not lab:
        raise LabError("these targets need the lab and the dev lab is down: `make lab-up` first "
                       "(or `make integration T=...` for a throw-away lab)")
    workdir = DEV_STATE / "runs" / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = DEV_STATE / "inventory.yml" if lab else controller_inventory(workdir)
    return 0 if run_targets(plan_jobs(names, args), inventory, workdir, args.ansible_args, args.jobs) else 1


def plan_jobs(names, args):
    """[(target, strategy)]: the targets under --strategy, then (full `test` runs) STOCK_SUBSET under stock."""
    strategy = args.strategy or os.environ.get("SAN_ISCSI_LAB_STRATEGY") or "mitogen"
    if strategy not in STRATEGIES:
        raise LabError("unknown strategy %r (one of: %s)" % (strategy, ", ".join(STRATEGIES)))
    jobs = [(name, target_strategy(name, strategy)) for name in names]
    if args.command == "test" and not args.targets and strategy == "mitogen" and not args.no_stock_pass:
        jobs += [(name, "stock") for name in STOCK_SUBSET if name == "demo" or name in names]
        jobs = longest_first(jobs)
    return jobs


def longest_first(jobs):
    """A full run's order: smoke (a broken lab shows at once), the serial jobs from the shortest up (a serial job
    met mid-run waits for the running ones with a core idle), then the others from the longest down
    (TYPICAL_SECONDS). `make test` runs its static layers beside the first minutes of the lab (hack/test.sh):
    they meet the short serial targets, not the two diskless guests booting in the longest one."""
    def key(job):
        seconds = TYPICAL_SECONDS.get(job_label(job), DEFAULT_SECONDS)
        serial = is_serial(job)
        return (job[0] != "smoke", not serial, seconds if serial else -seconds, job_label(job))
    return sorted(jobs, key=key)


def with_fresh_lab(func, need_lab=True):
    """Run func(inventory, workdir) on a fresh lab that is torn down however func ends."""
    def terminate(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    # Explicit for SIGINT too: a runner started in the background inherits SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, terminate)
    require_tools("qemu-system-x86_64", "qemu-img", "vde_switch", "ssh")
    if not Path(playbook_bin()).exists():
        raise LabError("%s is missing (run `make venv`)" % playbook_bin())
    images = ensure_images() if need_lab else None
    reap_stale_runs()
    lab = Lab.create("test")
    try:
        if need_lab:
            lab.start(images)
            inventory = lab.inventory
        else:
            inventory = controller_inventory(lab.dir)
        return func(inventory, lab.dir)
    finally:
        log("tearing the lab down")
        lab.stop()
        leftovers = run(["pgrep", "-f", str(lab.dir)], check=False).stdout.split()
        if leftovers:
            raise LabError("processes left behind: %s" % " ".join(leftovers))
        log("nothing left behind (no qemu, no vde_switch, no overlay)")


def cmd_test(args):
    names = select_targets(args.targets)
    need_lab = any("lab" in target_aliases(n) for n in names)

    jobs = plan_jobs(names, args)

    def run_all(inventory, workdir):
        return run_targets(jobs, inventory, workdir / "runs", args.ansible_args, args.jobs)
    ok = with_fresh_lab(run_all, need_lab)
    return 0 if ok else 1


def cmd_demo(args):
    restore = REPO / "lab" / "demo" / "restore_demo.yml"

    def demo(inventory, workdir):
        if restore.exists():
            env = ansible_env(workdir, args.strategy or os.environ.get("SAN_ISCSI_LAB_STRATEGY") or "mitogen")
            proc = subprocess.run([playbook_bin(), "-i", str(inventory), str(restore)], env=env, cwd=REPO, check=False)
            return proc.returncode == 0
        return run_targets([("smoke", "mitogen")], inventory, workdir / "runs", args.ansible_args)
    return 0 if with_fresh_lab(demo) else 1


def cmd_diskless(args):
    """Start or stop a diskless guest in a running lab (LAB: its directory, the inventory's lab_dir)."""
    if not (Path(args.lab) / "state.json").is_file():
        raise LabError("no lab in %s (the inventory's lab_dir)" % args.lab)
    lab = Lab.load(args.lab)
    if args.action == "start":
        port = lab.diskless_start(args.name, args.index)
        print(json.dumps({"name": args.name, "ssh_port": port, "console": str(lab.console(args.name)),
                          "fabric_a_mac": "52:54:00:0a:01:%02x" % args.index}))
    else:
        print(json.dumps({"name": args.name, "stopped": lab.diskless_stop(args.name)}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("image", cmd_image), ("up", cmd_up), ("down", cmd_down), ("status", cmd_status)):
        sub.add_parser(name).set_defaults(func=func)
    for name, func in (("run", cmd_run), ("test", cmd_test), ("demo", cmd_demo)):
        p = sub.add_parser(name)
        p.add_argument("targets", nargs="*")
        p.add_argument("--jobs", type=int, default=JOBS if name == "test" else 1,
                       help="targets run at a time (test: $SAN_ISCSI_LAB_JOBS or 2; a target aliased `serial` runs alone)")
        p.add_argument("--strategy", choices=STRATEGIES, default=None,
                       help="mitogen (mitogen_linear) or stock Ansible; default $SAN_ISCSI_LAB_STRATEGY or mitogen")
        p.add_argument("--no-stock-pass", action="store_true",
                       help="test: skip the second pass of %s under stock Ansible" % ", ".join(STOCK_SUBSET))
        p.add_argument("--ansible-args", nargs=argparse.REMAINDER, default=[],
                       help="passed to ansible-playbook (e.g. -vvv)")
        p.set_defaults(func=func)
    p = sub.add_parser("diskless", help="start or stop a diskless guest that boots from fabric A (iSCSI-root tests)")
    p.add_argument("action", choices=("start", "stop"))
    p.add_argument("name")
    p.add_argument("--lab", required=True, help="the lab's directory (inventory variable lab_dir)")
    p.add_argument("--index", type=int, default=0, help="start: its number, which gives its MACs (2-250)")
    p.set_defaults(func=cmd_diskless)
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except LabError as exc:
        print("lab error: %s" % exc, file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
