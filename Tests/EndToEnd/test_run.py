"""Issue 4: `oci2disk run` boots a disk or an image in QEMU and exits with the program's
exit status; documented codes for timeouts, init failures and panics."""

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import boot
import e2e


@pytest.fixture(scope="module")
def hello_disk(tmp_path_factory):
    boot.need_boot_tools()
    d = tmp_path_factory.mktemp("run")
    source = boot.busybox_image(d / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo HELLO-FROM-CONTAINER; exit 7"]})
    e2e.convert(source, d / "disk.img", bootable=True)
    return d / "disk.img", source


def run(*args, timeout=240):
    return e2e.run([e2e.binary_path(), "run", *args], timeout=timeout)


def test_run_prints_the_output_and_exits_with_the_programs_status(hello_disk):
    disk, _ = hello_disk
    r = run(disk)
    assert b"HELLO-FROM-CONTAINER" in r.stdout, e2e._show(r)
    assert r.returncode == 7, e2e._show(r)
    # The status line is the tool's business, not the user's output; so is firmware chatter.
    assert b"oci2disk: exit status" not in r.stdout
    assert b"SeaBIOS" not in r.stdout


def test_arguments_replace_the_cmd_for_this_run_only(hello_disk):
    disk, _ = hello_disk
    r = run(disk, "--", "exit 0")
    assert r.returncode == 0, e2e._show(r)
    before = disk.read_bytes()[:1 << 20]
    r = run(disk, "--", "echo 'with spaces, commas and %'; exit 5")
    assert b"with spaces, commas and %" in r.stdout, e2e._show(r)
    assert r.returncode == 5
    assert disk.read_bytes()[:1 << 20] == before, "the disk must not change (snapshot by default)"


def test_a_missing_command_exits_127_with_a_clear_message(tmp_path):
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/no-such-command"]})
    r = run(source)
    assert r.returncode == 127, e2e._show(r)
    assert b"/bin/no-such-command" in r.stdout + r.stderr


def test_bios_boot_gives_the_same_result(hello_disk):
    disk, _ = hello_disk
    r = run(disk, "--bios-boot")
    assert b"HELLO-FROM-CONTAINER" in r.stdout, e2e._show(r)
    assert r.returncode == 7


def test_run_source_converts_once_and_reuses_the_disk(hello_disk, tmp_path):
    _, source = hello_disk
    # A cache of its own; the kernel stays the one scripts/setup downloaded.
    kernels = sorted((Path.home() / ".cache" / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    assert kernels, "scripts/setup downloads the default kernel"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "OCI2DISK_KERNEL_PACKAGE": str(kernels[-1])}
    r1 = e2e.run([e2e.binary_path(), "run", source], env=env, timeout=300)
    assert r1.returncode == 7, e2e._show(r1)
    disks = list((tmp_path / "cache" / "oci2disk" / "disks").glob("*.img"))
    assert len(disks) == 1
    stamp = disks[0].stat().st_mtime_ns
    r2 = e2e.run([e2e.binary_path(), "run", source], env=env, timeout=300)
    assert r2.returncode == 7
    assert disks[0].stat().st_mtime_ns == stamp, "the cached disk was converted again"


def test_port_forward_reaches_a_server_in_the_guest(tmp_path):
    source = boot.busybox_image(tmp_path / "layout", {
        "Cmd": ["/bin/sh", "-c", "mkdir -p /www && echo SERVED-FROM-GUEST > /www/index.html && exec httpd -f -p 80 -h /www"]})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([str(e2e.binary_path()), "run", source, "-p", f"{port}:80", "--timeout", "240"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = None
        deadline = time.monotonic() + 200
        while time.monotonic() < deadline and process.poll() is None:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=3).read()
                break
            except OSError:
                time.sleep(1)
        assert body == b"SERVED-FROM-GUEST\n", body
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    # SIGTERM stops the VM and reports it: 143, and no QEMU left behind.
    assert process.returncode == 143, (out[-2000:], err[-2000:])
    assert subprocess.run(["pgrep", "-f", f"hostfwd=tcp:127.0.0.1:{port}-"], capture_output=True).returncode == 1


def test_timeout_stops_the_vm_and_exits_124(tmp_path):
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/sleep", "600"]})
    started = time.monotonic()
    r = run(source, "--timeout", "25")
    assert r.returncode == 124, e2e._show(r)
    assert b"timed out" in r.stderr
    assert time.monotonic() - started < 200


def test_a_kernel_panic_exits_123(tmp_path):
    # Crashing the kernel on purpose: the guest never reports a status.
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/sh", "-c", "echo c > /proc/sysrq-trigger; sleep 60"]})
    r = run(source, "--timeout", "200")
    assert r.returncode == 123, e2e._show(r)
    assert b"without an exit status" in r.stderr


def test_ctrl_c_stops_the_vm_and_exits_130(tmp_path):
    import signal
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/sh", "-c", "echo READY; sleep 600"]})
    process = subprocess.Popen([str(e2e.binary_path()), "run", source], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = b""
        deadline = time.monotonic() + 240
        while b"READY" not in seen and time.monotonic() < deadline and process.poll() is None:
            seen += process.stdout.read1(4096)
        assert b"READY" in seen
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err[-2000:]
    time.sleep(1)
    # Nothing else in the suite runs a VM at the same time: any QEMU now is a leftover.
    assert subprocess.run(["pgrep", "-f", "^qemu-system-x86_64 "], capture_output=True).returncode == 1, "QEMU left behind"


def test_persist_keeps_the_guests_changes(hello_disk, tmp_path):
    import shutil
    disk = tmp_path / "copy.img"
    shutil.copyfile(hello_disk[0], disk)
    r = run(disk, "--persist", "--", "echo kept > /kept.txt; sync; exit 0")
    assert r.returncode == 0, e2e._show(r)
    r = run(disk, "--", "cat /kept.txt")
    assert b"kept" in r.stdout, e2e._show(r)
    r = run(hello_disk[0], "--", "cat /kept.txt || exit 9")
    assert r.returncode == 9, "the original disk must not have changed"


def test_the_fast_direct_boot_keeps_every_cpu_and_caches_the_uncompressed_kernel(hello_disk, tmp_path):
    disk, _ = hello_disk
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "OCI2DISK_ACCEL": "tcg"}
    # One CPU: acpi=noirq is among the speed-up arguments (templates/run-cmdline.txt).
    r = e2e.run([e2e.binary_path(), "run", disk, "--",
                 "cat /proc/cmdline; cat /proc/sys/kernel/tainted; grep -c ^processor /proc/cpuinfo; exit 0"], env=env, timeout=240)
    assert r.returncode == 0, e2e._show(r)
    lines = r.stdout.decode().split()
    assert {"acpi=noirq", "pci=nomsi", "cryptomgr.notests", "noreplace-smp"} <= set(lines), e2e._show(r)
    # Not tainted: no kernel warning (acpi=noirq without pci=nomsi makes MSI-X set-up warn).
    assert r.stdout.decode().strip().splitlines()[-2:] == ["0", "1"], e2e._show(r)
    cached = list((tmp_path / "cache" / "oci2disk" / "kernels").glob("vmlinux-pvh-*"))
    assert len(cached) == 1 and cached[0].read_bytes()[:4] == b"\x7fELF", "the PVH kernel is cached for the next run"
    entries = list((tmp_path / "cache" / "oci2disk" / "boot-files").iterdir())
    assert len(entries) == 1, "the disk's boot files are kept for its next run"
    # Two CPUs: the guest sees both (acpi=noirq would hide the second), from the cached kernel.
    r = e2e.run([e2e.binary_path(), "run", disk, "--cpus", "2", "--", "cat /proc/cmdline; grep -c ^processor /proc/cpuinfo; exit 0"], env=env, timeout=240)
    assert r.returncode == 0, e2e._show(r)
    assert "acpi=noirq" not in r.stdout.decode().split()
    assert r.stdout.decode().strip().splitlines()[-1] == "2", e2e._show(r)
    assert list((tmp_path / "cache" / "oci2disk" / "boot-files").iterdir()) == entries, "the same disk: the same entry"


def test_a_disk_rewritten_in_place_never_boots_stale_boot_files(hello_disk, tmp_path):
    """run keeps each disk's boot files for its next run. Overwrite a disk in place with
    another one (same inode, same size, modification time put back): the new kernel command
    line, and so the new program, must be what boots."""
    import os
    import shutil
    disk_a, _ = hello_disk
    source_b = boot.busybox_image(tmp_path / "layout-b", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo OTHER-DISK; exit 3"]})
    disk_b = tmp_path / "b.img"
    e2e.convert(source_b, disk_b, "--size", str(disk_a.stat().st_size), bootable=True)
    assert disk_b.stat().st_size == disk_a.stat().st_size
    disk = tmp_path / "disk.img"
    shutil.copyfile(disk_a, disk)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "OCI2DISK_ACCEL": "tcg"}
    r = e2e.run([e2e.binary_path(), "run", disk], env=env, timeout=240)
    assert r.returncode == 7 and b"HELLO-FROM-CONTAINER" in r.stdout, e2e._show(r)
    before = disk.stat()
    with open(disk, "r+b") as out, open(disk_b, "rb") as src:
        shutil.copyfileobj(src, out)
    os.utime(disk, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = disk.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    r = e2e.run([e2e.binary_path(), "run", disk], env=env, timeout=240)
    assert r.returncode == 3 and b"OTHER-DISK" in r.stdout, e2e._show(r)


def test_a_qcow2_disk_boots_directly_too(hello_disk, tmp_path):
    # The kernel comes out of the qcow2 through qemu-img; -- ARGS need that direct boot.
    _, source = hello_disk
    disk = tmp_path / "disk.qcow2"
    e2e.convert(source, disk, bootable=True)
    r = run(disk, "--", "echo FROM-QCOW2; exit 4")
    assert b"FROM-QCOW2" in r.stdout, e2e._show(r)
    assert r.returncode == 4


def test_on_a_terminal_keys_reach_the_guest_and_the_terminal_is_restored(tmp_path):
    """Issue 17: `run` on a terminal passes keys through (no local line editing or echo: the
    guest's tty does that) and puts the terminal back as it found it."""
    import os
    import pty
    import select
    import termios
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/sh", "-c", "echo READY; read line; echo GOT-$line; exit 3"]})
    disk = tmp_path / "tty.img"
    e2e.convert(source, disk, bootable=True)
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    process = subprocess.Popen([str(e2e.binary_path()), "run", disk, "--timeout", "200"], stdin=slave, stdout=slave, stderr=slave,
                               start_new_session=True)
    output = b""
    try:
        deadline = time.monotonic() + 240
        sent = False
        while process.poll() is None and time.monotonic() < deadline:
            if not sent and b"READY" in output:
                # While oci2disk runs, the terminal is out of canonical mode and does not echo.
                during = termios.tcgetattr(slave)
                assert not during[3] & (termios.ICANON | termios.ECHO) and during[3] & termios.ISIG, during
                os.write(master, b"typed\n")
                sent = True
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    output += os.read(master, 65536)
                except OSError:
                    break
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while select.select([master], [], [], 0.2)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.returncode == 3, output[-2000:]
    assert b"GOT-typed" in output, output[-2000:]
    assert termios.tcgetattr(slave) == before, "the terminal was not restored"
    os.close(master)
    os.close(slave)


def test_an_image_without_a_command_converts_and_takes_one_at_run_time(tmp_path):
    """Issue 12 §5: base and data images have no Entrypoint or Cmd. The disk is made (with one
    warning line saying how to give a command); booted without one it says so and exits 127;
    `run DISK -- COMMAND` runs the command."""
    source = boot.busybox_image(tmp_path / "layout", {})
    disk = tmp_path / "nocmd.img"
    r = e2e.convert(source, disk, bootable=True)
    warnings = [l for l in r.stderr.decode().splitlines() if l.startswith("warning:")]
    assert len(warnings) == 1 and "no Entrypoint or Cmd" in warnings[0] and "--cmd" in warnings[0] and "run DISK --" in warnings[0], r.stderr
    r = run(disk, "--timeout", "200")
    assert r.returncode == 127, e2e._show(r)
    assert b"no command to run" in r.stdout + r.stderr, e2e._show(r)
    r = run(disk, "--timeout", "200", "--", "/bin/sh", "-c", "echo GIVEN-AT-RUN-TIME; exit 6")
    assert r.returncode == 6 and b"GIVEN-AT-RUN-TIME" in r.stdout, e2e._show(r)
