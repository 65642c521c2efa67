#!/usr/bin/env python3
"""Boot tests for the guest init (oci2disk-init) under QEMU software emulation (TCG).

Each case builds a small initramfs by hand (newc cpio: /init = the static init, /oci2disk/config,
the virtio modules, /dev/console), boots Debian's cloud kernel with it and a root disk made by
`oci2disk convert` from a busybox image, and checks the console, the exit line
(`oci2disk: exit status N`), the status on the second serial port (ttyS1) and QEMU's own exit
code (isa-debug-exit: (N << 1) | 1).

    Tests/InitTests/boot_init.py [--only NAME ...] [--keep] [--list]

Needs: qemu-system-x86 (apt), the kernel package (downloaded with `apt-get download` into a
cache under /tmp unless --kernel-dir is given), busybox-static, and `.build/release/oci2disk` (or
--oci2disk). The init is built with scripts/build-init unless --init is given. Never uses KVM.
Prints one line per case and ends with `N passed, N failed`; exits 1 if any case failed.
"""

import argparse
import glob
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts", "lib"))
import ocilayout  # noqa: E402  (the repo's own OCI layout builder)

KERNEL_META = "linux-image-cloud-amd64"
DEFAULT_KERNEL_CACHE = "/tmp/oci2disk-init-tests-kernel"
# The cloud kernel builds ext4 in; a virtio root disk and network need these (plus dependencies).
WANTED_MODULES = ["virtio_pci", "virtio_blk", "virtio_net"]
EXIT_LINE = re.compile(r"^oci2disk: exit status (\d+)$", re.M)
BOOT_TIMEOUT = 90


# ----------------------------------------------------------------------------- kernel

def ensure_kernel(cache):
    """vmlinuz path, modules dir and version of Debian's cloud kernel, extracted under `cache`."""
    found = sorted(glob.glob(os.path.join(cache, "root", "boot", "vmlinuz-*")))
    if not found:
        os.makedirs(cache, exist_ok=True)
        debs = glob.glob(os.path.join(cache, "linux-image-*.deb"))
        if not [d for d in debs if "cloud-amd64_" in d and "linux-image-cloud" not in d]:
            subprocess.run(["apt-get", "download", KERNEL_META], cwd=cache, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            meta = glob.glob(os.path.join(cache, f"{KERNEL_META}_*.deb"))[0]
            depends = subprocess.run(["dpkg-deb", "-f", meta, "Depends"], check=True,
                                     capture_output=True, text=True).stdout
            real = re.search(r"(linux-image-[0-9][^\s,(]*-cloud-amd64)", depends).group(1)
            subprocess.run(["apt-get", "download", real], cwd=cache, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        real_deb = [d for d in glob.glob(os.path.join(cache, "linux-image-*.deb"))
                    if "linux-image-cloud-amd64_" not in d][0]
        subprocess.run(["dpkg-deb", "-x", real_deb, os.path.join(cache, "root")], check=True)
        found = sorted(glob.glob(os.path.join(cache, "root", "boot", "vmlinuz-*")))
    vmlinuz = found[-1]
    version = os.path.basename(vmlinuz)[len("vmlinuz-"):]
    return vmlinuz, os.path.join(cache, "root", "lib", "modules", version), version


def module_closure(moddir, names):
    """Module files (paths relative to moddir) for `names` and their dependencies, dependencies
    first; read from each module's .modinfo `depends=` (the .deb ships no modules.dep)."""
    by_name = {}
    for path in glob.glob(os.path.join(moddir, "kernel", "**", "*.ko"), recursive=True):
        by_name[os.path.basename(path)[:-3].replace("-", "_")] = path

    def depends(path):
        with open(path, "rb") as f:
            data = f.read()
        m = re.search(rb"\x00depends=([^\x00]*)\x00", data)
        return [d.replace("-", "_") for d in m.group(1).decode().split(",") if d] if m else []

    order, seen = [], set()

    def visit(name):
        if name in seen or name not in by_name:
            return
        seen.add(name)
        for dep in depends(by_name[name]):
            visit(dep)
        order.append(os.path.relpath(by_name[name], moddir))

    for name in names:
        visit(name)
    return order


# ----------------------------------------------------------------------------- initramfs

class Newc:
    """A newc ("070701") cpio archive, written by hand so /dev/console needs no mknod."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        self.ino += 1
        header = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.out.write(header + name.encode() + b"\0")
        self.out.write(b"\0" * (-(len(header) + len(name) + 1) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def directory(self, name):
        self._entry(name, 0o040755, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, 0o100000 | mode, data)

    def char_device(self, name, major, minor, mode=0o600):
        self._entry(name, 0o020000 | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def encode(value):
    """Percent-encodes all but printable ASCII other than % and , (the config/cmdline format)."""
    return "".join(chr(b) if 0x21 <= b <= 0x7E and b not in (0x25, 0x2C) else "%%%02X" % b
                   for b in value.encode())


def render_config(settings):
    """`settings`: list of (key, value) in order."""
    return "".join(f"{k} {encode(v)}\n" for k, v in settings)


def make_initramfs(path, init_binary, config_text, moddir, version, modules):
    cpio = Newc()
    made = set()

    def directories(rel):
        parts = rel.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in made:
                made.add(d)
                cpio.directory(d)

    for d in ["dev", "proc", "sys", "newroot", "oci2disk"]:
        directories(d)
    cpio.char_device("dev/console", 5, 1)
    for rel in modules:
        target = f"lib/modules/{version}/{rel}"
        directories(os.path.dirname(target))
        with open(os.path.join(moddir, rel), "rb") as f:
            cpio.file(target, f.read())
    cpio.file("oci2disk/config", config_text.encode())
    with open(init_binary, "rb") as f:
        cpio.file("init", f.read(), mode=0o755)
    with open(path, "wb") as f:
        f.write(cpio.finish())


# ----------------------------------------------------------------------------- root disk

def extra_layer(path):
    """A second layer over busybox: an `app` user and group, /etc/resolv.conf, a file that is
    not executable, and a home directory."""
    files = {
        "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n",
        "etc/group": b"root:x:0:\napp:x:1000:\nwheel:x:10:root\naudio:x:29:app\n",
        "etc/resolv.conf": b"nameserver 192.0.2.53\n",
        "data/not-executable": b"#!/bin/sh\necho should not run\n",
    }
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tf:
        for d, mode, uid in [("data", 0o755, 0), ("home", 0o755, 0), ("home/app", 0o755, 1000)]:
            t = tarfile.TarInfo(d)
            t.type, t.mode, t.uid, t.gid = tarfile.DIRTYPE, mode, uid, uid
            tf.addfile(t)
        for name, data in files.items():
            t = tarfile.TarInfo(name)
            t.size, t.mode = len(data), 0o644
            tf.addfile(t, io.BytesIO(data))


def build_disk(work, oci2disk):
    """A raw disk from a busybox image plus `extra_layer`; returns (path, root UUID)."""
    with tempfile.TemporaryDirectory(prefix="layers-", dir=work) as tmp:
        base = os.path.join(tmp, "busybox.tar")
        extra = os.path.join(tmp, "extra.tar")
        ocilayout.busybox_layer_tar(base)
        extra_layer(extra)
        layout = os.path.join(work, "layout")
        shutil.rmtree(layout, ignore_errors=True)
        ocilayout.build_layout(layout, [base, extra], tag="latest", compression="gzip",
                               platform=("linux", "amd64", None), config={"Cmd": ["/bin/sh"]})
    disk = os.path.join(work, "disk.img")
    convert = [oci2disk, "convert", f"oci:{layout}:latest", "-o", disk, "--quiet"]
    # Only the root filesystem is needed: these tests bring their own kernel and initramfs.
    if "--no-kernel" in subprocess.run([oci2disk, "convert", "--help"], capture_output=True, text=True).stdout:
        convert.append("--no-kernel")
    subprocess.run(convert, check=True)
    info = json.loads(subprocess.run([oci2disk, "inspect", disk, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    filesystems = [p["filesystem"] for p in info.get("partitions", []) if p.get("filesystem")]
    if info.get("filesystem"):
        filesystems.append(info["filesystem"])
    roots = [f for f in filesystems if f.get("label") == "root"] or filesystems[-1:]
    if not roots or not roots[0].get("uuid"):
        raise RuntimeError(f"no root filesystem UUID in `oci2disk inspect --json`: {info}")
    return disk, roots[0]["uuid"]


# ----------------------------------------------------------------------------- boot

class Boot:
    """One QEMU run: console lines with their times, QEMU's exit code, ttyS1's content."""

    def __init__(self, kernel, initrd, disk, append, status_file, stdin_script=None):
        self.lines = []  # (seconds since start, text)
        cmd = ["qemu-system-x86_64", "-M", "pc", "-m", "512", "-smp", "1", "-nodefaults",
               "-display", "none", "-no-reboot",
               "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
               "-serial", f"file:{status_file}",
               "-kernel", kernel, "-initrd", initrd, "-append", append,
               "-drive", f"file={disk},if=virtio,format=raw,snapshot=on",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
               "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        pending = list(stdin_script or [])
        try:
            buffer = b""
            deadline = start + BOOT_TIMEOUT
            while True:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    text = raw.decode(errors="replace").rstrip("\r")
                    self.lines.append((time.monotonic() - start, text))
                    if pending and pending[0][0] in text:
                        proc.stdin.write(pending.pop(0)[1])
                        proc.stdin.flush()
                if time.monotonic() > deadline:
                    proc.kill()
                    break
            if buffer:
                self.lines.append((time.monotonic() - start, buffer.decode(errors="replace")))
            self.code = proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.elapsed = time.monotonic() - start
        self.timed_out = self.elapsed >= BOOT_TIMEOUT
        with open(status_file, "rb") as f:
            self.status_port = f.read().decode(errors="replace")

    @property
    def console(self):
        return "\n".join(text for _, text in self.lines)

    def first(self, marker):
        """Seconds until the first console line containing `marker`."""
        return next((t for t, text in self.lines if marker in text), None)

    def exit_statuses(self):
        return [int(m) for m in EXIT_LINE.findall(self.console)]


def qemu_code(status):
    return ((status & 0x7F) << 1) | 1


class PingServer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"PONG-FROM-HOST\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# ----------------------------------------------------------------------------- cases

def sh(script):
    return ["/bin/sh", "-c", script]


def cases(uuid, http_port):
    """name → dict(config=[(k, v)], cmdline=str, status=int, qemu=int|None, expect=[...],
    reject=[...], stdin=[(marker, bytes)], first=marker)."""
    network_script = (
        "ip addr show eth0; ip addr show lo; cat /proc/net/route; echo HOST=$(hostname); "
        "cat /etc/resolv.conf; echo PWD=$(pwd); echo FOO=$FOO; echo TTY=$(tty); "
        f"wget -q -O - http://10.0.2.2:{http_port}/ping; "
        "grep -c . /proc/mounts; cat /proc/mounts; ls -a /dev/shm; exit 0")
    return {
        "hello": dict(
            config=[("arg", a) for a in sh("echo HELLO-FROM-CONTAINER; exit 7")] + [("console-quiet", "1")],
            status=7, expect=["HELLO-FROM-CONTAINER"], first="HELLO-FROM-CONTAINER", port="7\n"),
        "not-found-path": dict(
            config=[("arg", "/no/such/command")], status=127,
            expect=["oci2disk-init: /no/such/command: No such file or directory"]),
        "not-found-name": dict(
            config=[("arg", "no-such-command"), ("arg", "x")], status=127,
            expect=["oci2disk-init: no-such-command: executable file not found in PATH"]),
        "not-executable": dict(
            config=[("arg", "/data/not-executable")], status=126,
            expect=["oci2disk-init: /data/not-executable: Permission denied"]),
        "args-override": dict(
            config=[("arg", a) for a in sh("echo NOT-OVERRIDDEN; exit 1")],
            cmdline="oci2disk.args=" + ",".join(encode(a) for a in sh("echo OVERRIDE-$((6*7)) 'two  spaces'; exit 3")),
            status=3, expect=["OVERRIDE-42 two  spaces"], reject=["NOT-OVERRIDDEN"]),
        "killed-by-signal": dict(
            config=[("arg", a) for a in sh("echo BEFORE-KILL; kill -TERM $$; echo AFTER-KILL")],
            status=143, expect=["BEFORE-KILL"], reject=["AFTER-KILL"]),
        "network-env-hostname": dict(
            config=[("arg", a) for a in sh(network_script)] + [
                ("env", "FOO=bar baz"), ("workdir", "/tmp"), ("hostname", "testhost")],
            status=0,
            expect=["inet 10.0.2.15/24", "inet 127.0.0.1/8", "eth0\t00000000\t0202000A",
                    "HOST=testhost", "nameserver 10.0.2.3", "PWD=/tmp", "FOO=bar baz",
                    "TTY=/dev/console", "PONG-FROM-HOST", "devpts /dev/pts devpts",
                    "shm /dev/shm tmpfs", "/etc/resolv.conf"],
            reject=["192.0.2.53", ".oci2disk-resolv.conf"]),
        "custom-ip": dict(
            config=[("arg", a) for a in sh("ip addr show eth0; cat /proc/net/route; cat /etc/resolv.conf")],
            cmdline="oci2disk.ip=10.0.2.77/24,10.0.2.2 oci2disk.dns=10.0.2.3,192.0.2.1",
            status=0, expect=["inet 10.0.2.77/24", "eth0\t00000000\t0202000A", "nameserver 192.0.2.1"]),
        "user": dict(
            config=[("arg", a) for a in sh("id; echo HOME=$HOME; touch /root/x 2>&1; exit 5")] + [("user", "app")],
            status=5, expect=["uid=1000(app) gid=1000(app) groups=", "1000(app)", "29(audio)", "HOME=/home/app",
                              "Permission denied"]),
        "numeric-user": dict(
            config=[("arg", a) for a in sh("id; echo HOME=$HOME")] + [("user", "4242:29")],
            status=0, expect=["uid=4242 gid=29(audio)", "HOME=/"]),
        "ctrl-c": dict(
            config=[("arg", a) for a in sh('trap "echo GOT-SIGINT; exit 42" INT; echo READY-FOR-CTRL-C; '
                                            'while :; do sleep 1; done')],
            stdin=[("READY-FOR-CTRL-C", b"\x03")], status=42, expect=["GOT-SIGINT"]),
        "sigterm-and-orphans": dict(
            config=[("arg", a) for a in sh(
                'trap "echo GOT-SIGTERM; exit 9" TERM; (sleep 0.2 &); (sleep 0.3 &); sleep 1; '
                'echo ZOMBIES=$(grep -l "^State:.Z" /proc/[0-9]*/status 2>/dev/null | wc -l); '
                "(sleep 0.5; kill -TERM 1) & while :; do sleep 1; done")],
            status=9, expect=["ZOMBIES=0", "GOT-SIGTERM"]),
        "leftover-processes": dict(
            config=[("arg", a) for a in sh("sleep 1000 & sleep 1000 & echo STARTED-BACKGROUND; exit 4")],
            status=4, expect=["STARTED-BACKGROUND"]),
        "no-trailing-newline": dict(
            config=[("arg", a) for a in sh("printf NO-NEWLINE; exit 6")], status=6, expect=["NO-NEWLINE"]),
        "bad-root-uuid": dict(
            root="00000000-1111-2222-3333-444444444444", config=[("arg", "/bin/true")], status=125,
            expect=["oci2disk-init: no block device with an ext4 filesystem UUID=00000000-1111-2222-3333-444444444444"]),
        "crash-handler": dict(
            config=[("arg", "/bin/true")], cmdline="oci2disk.debug=crash", status=125,
            expect=["crash test (oci2disk.debug=crash)", "oci2disk-init: internal error: fatal signal"]),
        "bad-config": dict(
            root="", config=[("arg", "/bin/true")], status=125,
            expect=["oci2disk-init: /oci2disk/config: missing root-uuid"]),
        "system-mode": dict(
            config=[("mode", "system"), ("init", "/bin/sh"), ("hostname", "sysbox")],
            cmdline='-- -c "echo SYSTEM-MODE pid=$$ args=$#; cat /etc/fstab; echo HOSTNAME=$(hostname); env; '
                    'cat /etc/hostname; poweroff -f"',
            status=None, qemu=0,
            expect=["SYSTEM-MODE pid=1", f"UUID={uuid} / ext4 defaults 0 1", "HOSTNAME=sysbox", "busybox"],
            reject=["SWIFT_DETERMINISTIC_HASHING"]),
    }


def run_case(name, case, env):
    work = env["work"]
    root = case.get("root", env["uuid"])
    settings = [("mode", "app")]
    if root:
        settings.append(("root-uuid", root))
    settings += [("root-fstype", "ext4")]
    settings += [("module", f"/lib/modules/{env['version']}/{m}") for m in env["modules"]]
    settings += case["config"]
    initrd = os.path.join(work, f"{name}.initrd")
    make_initramfs(initrd, env["init"], render_config(settings), env["moddir"], env["version"], env["modules"])
    status_file = os.path.join(work, f"{name}.ttyS1")
    open(status_file, "w").close()
    append = f"console=ttyS0 quiet panic=-1 {case.get('cmdline', '')}".strip()
    boot = Boot(env["kernel"], initrd, env["disk"], append, status_file, case.get("stdin"))
    with open(os.path.join(work, f"{name}.console"), "w") as f:
        f.write(boot.console + "\n")

    problems = []
    want_status = case["status"]
    want_qemu = case.get("qemu", qemu_code(want_status) if want_status is not None else None)
    if boot.timed_out:
        problems.append(f"timed out after {BOOT_TIMEOUT} s")
    if want_qemu is not None and boot.code != want_qemu:
        problems.append(f"QEMU exit code {boot.code}, want {want_qemu}")
    if want_status is not None:
        if boot.exit_statuses() != [want_status]:
            problems.append(f"exit lines {boot.exit_statuses()}, want exactly [{want_status}]")
        if boot.status_port != case.get("port", f"{want_status}\n"):
            problems.append(f"ttyS1 got {boot.status_port!r}")
    for text in case.get("expect", []):
        if text not in boot.console:
            problems.append(f"missing {text!r}")
    for text in case.get("reject", []):
        if text in boot.console:
            problems.append(f"unexpected {text!r}")
    if "panic" in boot.console.lower():
        problems.append("kernel panic")
    first = boot.first(case["first"]) if case.get("first") else (boot.lines[0][0] if boot.lines else None)
    timing = f"first line {first:.2f} s, " if first is not None else ""
    return problems, f"{timing}total {boot.elapsed:.2f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", help="the init binary (default: build with scripts/build-init)")
    ap.add_argument("--oci2disk", help="the oci2disk binary (default: .build/release/oci2disk, then debug)")
    ap.add_argument("--kernel-dir", default=DEFAULT_KERNEL_CACHE, help="kernel cache/extraction directory")
    ap.add_argument("--work", help="work directory (default: a new one under /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--only", nargs="*", help="run only these cases")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args()

    if args.list:
        print("\n".join(cases("UUID", 0)))
        return 0
    if not shutil.which("qemu-system-x86_64"):
        print("boot_init: qemu-system-x86_64 missing (apt-get install qemu-system-x86)", file=sys.stderr)
        return 1
    oci2disk = args.oci2disk or next((p for p in (os.path.join(REPO, ".build", c, "oci2disk")
                                                  for c in ("release", "debug")) if os.path.exists(p)), None)
    if not oci2disk:
        print("boot_init: no oci2disk binary (.build/release/oci2disk); pass --oci2disk", file=sys.stderr)
        return 1
    init = args.init or subprocess.run([os.path.join(REPO, "scripts", "build-init")], check=True,
                                       capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(f"init: {init} ({os.path.getsize(init) / 1e6:.2f} MB)")

    work = args.work or tempfile.mkdtemp(prefix="oci2disk-init-boot-")
    os.makedirs(work, exist_ok=True)
    kernel, moddir, version = ensure_kernel(args.kernel_dir)
    modules = module_closure(moddir, WANTED_MODULES)
    print(f"kernel: {os.path.basename(kernel)}; modules: {', '.join(os.path.basename(m)[:-3] for m in modules)}")
    disk, uuid = build_disk(work, oci2disk)
    print(f"disk: {disk} (root UUID {uuid})")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(work=work, kernel=kernel, moddir=moddir, version=version, modules=modules, disk=disk,
               uuid=uuid, init=init)
    passed = failed = 0
    try:
        for name, case in cases(uuid, server.server_address[1]).items():
            if args.only and name not in args.only:
                continue
            problems, timing = run_case(name, case, env)
            if problems:
                failed += 1
                print(f"FAIL {name} ({timing}): " + "; ".join(problems) + f" [console: {work}/{name}.console]")
            else:
                passed += 1
                print(f"PASS {name} ({timing})")
            sys.stdout.flush()
    finally:
        server.shutdown()
        if not args.keep and not failed and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
