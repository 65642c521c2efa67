"""Issue 3: disks that boot on a plain BIOS machine (SeaBIOS in QEMU) from the disk alone,
with the kernel Debian ships, the initramfs and init oci2disk writes, and SYSLINUX on the MBR."""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import boot
import e2e
import ocilayout


@pytest.fixture(autouse=True)
def _tools():
    boot.need_boot_tools()


def test_busybox_boots_from_the_disk_alone_and_reports_its_exit_status(work):
    source = boot.busybox_image(work / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo HELLO-FROM-CONTAINER; exit 7"]})
    disk = work / "disk.img"
    e2e.convert(source, disk, bootable=True)
    code, console = boot.qemu_bios_boot(disk)
    assert b"HELLO-FROM-CONTAINER" in console, console[-3000:]
    assert boot.exit_status(console) == 7, console[-3000:]
    assert code == (7 << 1) | 1, f"isa-debug-exit should make QEMU exit {(7 << 1) | 1}, got {code}"

    # Layout: a FAT boot partition (kernel, initramfs, SYSLINUX and its config) then the root
    # partition, which still holds exactly the image's files.
    report = e2e.inspect_json(disk, "--files")
    labels = [p["filesystem"]["label"] for p in report["partitions"]]
    assert labels == ["boot", "root"]
    assert report["partitions"][0]["filesystem"]["type"] == "vfat"
    assert report["partitions"][0]["type"] in ("0x0e", "0x0c")
    boot_files = {e["path"] for e in report["partitions"][0]["filesystem"]["entries"]}
    assert boot_files == {"/vmlinuz", "/initrd.img", "/syslinux.cfg", "/ldlinux.sys", "/ldlinux.c32"}
    # Checked by an independent reader: dosfstools' fsck.fat (read-only) and mtools.
    start = report["partitions"][0]["start"]
    config = subprocess.run(["mtype", "-i", f"{disk}@@{start}", "::/syslinux.cfg"], capture_output=True, text=True, check=True).stdout
    assert "KERNEL /vmlinuz" in config and "INITRD /initrd.img" in config
    sizes = {e["path"]: e["size"] for e in report["partitions"][0]["filesystem"]["entries"]}
    assert sizes["/syslinux.cfg"] == len(config.encode()), "inspect reports each boot file's real size"
    assert sizes["/vmlinuz"] > 1 << 20
    with open(disk, "rb") as f:
        mbr = f.read(512)
    syslinux_mbr = next(p for p in (Path("/usr/lib/syslinux/mbr/mbr.bin"), Path("/usr/lib/SYSLINUX/mbr.bin")) if p.exists()).read_bytes()
    assert mbr[:440] == syslinux_mbr[:440], "SYSLINUX's MBR code"
    assert mbr[446] == 0x80, "the boot partition is the active one"
    boot_part = Path(tempfile.mkdtemp()) / "boot.fat"
    with open(disk, "rb") as src, open(boot_part, "wb") as dst:
        src.seek(start)
        dst.write(src.read(report["partitions"][0]["size"]))
    r = subprocess.run(["fsck.fat", "-n", str(boot_part)], capture_output=True, text=True)
    shutil.rmtree(boot_part.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    root_files = {e["path"] for e in report["partitions"][1]["filesystem"]["entries"]}
    assert not any(p.startswith("/oci2disk") or p == "/init" for p in root_files)
    assert report["partitions"][0]["bootable"] is True
    e2e.e2fsck(disk, report["partitions"][1]["start"])


def test_the_same_image_gives_the_same_bootable_disk(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    e2e.convert(source, work / "a.img", bootable=True)
    e2e.convert(source, work / "b.img", bootable=True)
    assert (work / "a.img").read_bytes() == (work / "b.img").read_bytes()


def test_scratch_image_with_one_static_binary(work):
    # FROM scratch: no shell, no libc, no /etc: just a static binary.
    import tarfile
    busybox = shutil.which("busybox") or "/bin/busybox"
    layer = work / "static.tar"
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tar.gettarinfo(busybox, arcname="busybox")
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        with open(busybox, "rb") as f:
            tar.addfile(info, f)
    ocilayout.build_layout(work / "layout", [str(layer)], tag="s", config={"Entrypoint": ["/busybox", "echo"], "Cmd": ["STATIC-BINARY-RAN"]})
    disk = work / "disk.img"
    e2e.convert(f"oci:{work / 'layout'}:s", disk, bootable=True)
    code, console = boot.qemu_bios_boot(disk)
    assert b"STATIC-BINARY-RAN" in console, console[-3000:]
    assert boot.exit_status(console) == 0


def test_missing_command_reports_127(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/no/such/program"]})
    disk = work / "disk.img"
    e2e.convert(source, disk, bootable=True)
    _, console = boot.qemu_bios_boot(disk)
    assert boot.exit_status(console) == 127, console[-3000:]
    assert b"/no/such/program" in console


def test_missing_kernel_package_is_a_clear_error(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    e2e.assert_convert_fails(source, work, mentions=["no-such.deb"], extra=("--kernel-package", str(work / "no-such.deb")))


def test_kernel_package_without_vmlinuz_is_a_clear_error(work):
    import subprocess
    pkg = work / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text("Package: not-a-kernel\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n")
    (pkg / "usr" / "share").mkdir(parents=True)
    (pkg / "usr" / "share" / "x").write_text("x")
    subprocess.run(["dpkg-deb", "-b", str(pkg), str(work / "fake.deb")], check=True, capture_output=True)
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    e2e.assert_convert_fails(source, work, mentions=["vmlinuz"], extra=("--kernel-package", str(work / "fake.deb")))


@pytest.mark.slow
def test_debian_minbase_in_app_mode(work, debian_minbase_tar):
    ocilayout.build_layout(work / "layout", [debian_minbase_tar], tag="b",
                           config={"Cmd": ["/bin/sh", "-c", "echo DEBIAN-$(cat /etc/debian_version); id -u; exit 3"]})
    disk = work / "disk.img"
    e2e.convert(f"oci:{work / 'layout'}:b", disk, bootable=True)
    code, console = boot.qemu_bios_boot(disk)
    assert b"DEBIAN-12" in console, console[-3000:]
    assert boot.exit_status(console) == 3


@pytest.mark.slow
def test_debian_with_systemd_and_kernel_boots_its_own_init_and_root_logs_in_with_the_password(work):
    """System mode: the image's kernel and systemd, the image's own init as PID 1, and (issue
    17) root's password from --root-password-file: `oci2disk run` carries the serial console
    both ways, so the test logs in on it and runs a command."""
    e2e.need_root()
    e2e.need_tool("mmdebstrap")
    rootfs = work / "rootfs.tar"
    r = e2e.run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root",
                 "--include=systemd-sysv,linux-image-cloud-amd64", "bookworm", rootfs], timeout=900)
    assert r.returncode == 0, e2e._show(r)
    ocilayout.build_layout(work / "layout", [str(rootfs)], tag="sys", config={"Cmd": ["/bin/bash"]})
    (work / "password").write_text("Tr0ub4dor&3\n")
    (work / "key.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMvS4d+HHfdpLqEUJPGyaEl1Q/3m7oO1PXmODyIOq8Ux ci@host\n")
    disk = work / "disk.img"
    result = e2e.convert(f"oci:{work / 'layout'}:sys", disk, "--json", "--root-password-file", work / "password",
                         "--ssh-authorized-key", work / "key.pub", "--grow-root", bootable=True)
    # --grow-root in system mode: the init grows the root before handing over to systemd.
    r = subprocess.run(["qemu-img", "resize", "-f", "raw", disk, "4G"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    import json
    summary = json.loads(result.stdout)
    assert summary["boot"]["mode"] == "system", summary
    code, console = boot.converse([e2e.binary_path(), "run", disk, "--memory", "1024", "--timeout", "540"], [
        (b"login: ", b"root\n"),
        (b"Password: ", b"Tr0ub4dor&3\n"),
        (b"# ", b"echo LOGGED-IN-AS-$(id -u)-$((6*7)); stat -c KEYS-%a-%u /root/.ssh/authorized_keys; "
                b"echo ROOT-KB-$(df -k --output=size / | tail -1 | tr -d ' '); systemctl poweroff\n"),
    ], timeout=570)
    text = console.decode(errors="replace")
    assert "LOGGED-IN-AS-0-42" in text and "KEYS-600-0" in text, text[-3000:]
    assert "Login incorrect" not in text
    import re
    size = int(re.search(r"ROOT-KB-(\d+)", text).group(1))
    assert size > 3_500_000, f"the root has {size} KiB on a 4 GiB disk"


def test_kernel_and_modules_from_files(work, extracted_kernel):
    vmlinuz, modules = extracted_kernel
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/echo", "LOOSE-KERNEL-OK"]})
    disk = work / "disk.img"
    e2e.convert(source, disk, "--kernel", vmlinuz, "--modules", modules)
    _, console = boot.qemu_bios_boot(disk)
    assert b"LOOSE-KERNEL-OK" in console, console[-3000:]
    assert boot.exit_status(console) == 0


def test_a_module_missing_from_the_closure_is_a_clear_error(work, extracted_kernel):
    vmlinuz, modules = extracted_kernel
    # Named after the kernel's release, so it is that kernel's (empty) module folder.
    empty = work / "empty" / modules.name
    empty.mkdir(parents=True)
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    e2e.assert_convert_fails(source, work, mentions=["virtio_pci"], extra=("--kernel", str(vmlinuz), "--modules", str(empty)))


def test_run_settings_given_to_convert_are_baked_into_the_disk(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"], "Env": ["GREETING=image"]})
    disk = work / "disk.img"
    e2e.convert(source, disk, "--entrypoint", '["/bin/sh", "-c"]', "--cmd", '["echo $GREETING in $(pwd) as $(id -u):$(id -g) on $(hostname); exit 4"]',
                "--env", "GREETING=hello", "--workdir", "/tmp", "--user", "1000:1000", "--hostname", "baked")
    code, console = boot.qemu_bios_boot(disk)
    assert b"hello in /tmp as 1000:1000 on baked" in console, console[-3000:]
    assert boot.exit_status(console) == 4


def test_vga_shows_the_bootloader_and_the_kernel(work):
    # A hypervisor with only a screen: SYSLINUX prints there (CONSOLE 1) and the kernel's
    # console=tty0 is VGA text mode. The text buffer at 0xB8000 is read through QEMU's monitor
    # once the guest has stopped (-no-shutdown keeps QEMU, and the screen, after power-off).
    import re
    import socket
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    disk = work / "vga.img"
    e2e.convert(source, disk, "--append", "loglevel=6", bootable=True)
    serial, monitor = work / "serial.txt", work / "monitor.sock"
    qemu = subprocess.Popen(["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-no-reboot", "-no-shutdown", "-display", "none",
                             "-machine", "pc,accel=tcg", "-m", "512", "-vga", "std", "-serial", f"file:{serial}",
                             "-monitor", f"unix:{monitor},server=on,wait=off",
                             "-drive", f"file={disk},if=virtio,format=raw,snapshot=on"], stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not (serial.exists() and b"oci2disk: exit status 0" in serial.read_bytes()):
            assert time.monotonic() < deadline and qemu.poll() is None, "the guest did not finish"
            time.sleep(1)
        time.sleep(1)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(monitor))
            s.sendall(b"xp /16384xh 0xb8000\n")
            out, end = b"", time.monotonic() + 30
            while out.count(b"\n") < 16384 // 8 and time.monotonic() < end:
                out += s.recv(1 << 20)
        cells = [int(x, 16) for x in re.findall(rb"0x([0-9a-f]{4})", out)[1:]]
        screen = "".join(chr(c & 0xFF) if 32 <= (c & 0xFF) < 127 else " " for c in cells)
    finally:
        qemu.kill()
        qemu.wait()
    assert "SYSLINUX" in screen and "oci2disk: loading kernel" in screen, screen[:2000]
    assert "Linux version" in screen, screen[:4000]
