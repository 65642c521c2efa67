"""A disk that cannot boot is an error at convert time (issue 18): a file that is no kernel, a
kernel or package for another CPU, an image platform no kernel of this version boots, modules
of another kernel, drivers neither built in nor given, a system init that is not there. Each
fails with one line, exit 1, and no output; a command missing from the image is a warning."""

import subprocess
from pathlib import Path

import pytest

import boot
import e2e
import ocilayout
from tarbuild import Layer


@pytest.fixture
def busybox(work):
    return boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})


def test_a_file_that_is_no_kernel_is_refused(work, busybox):
    e2e.assert_convert_fails(busybox, work, mentions=["/etc/passwd", "not a Linux kernel image", "text file"],
                             extra=("--kernel", "/etc/passwd"))


def test_an_arm64_kernel_for_an_amd64_image_is_refused(work, busybox):
    # arm64's Image header (Documentation/arch/arm64/booting.rst): magic "ARM\x64" at 0x38.
    image = bytearray(4096)
    image[0x38:0x3C] = b"ARM\x64"
    kernel = work / "Image-arm64"
    kernel.write_bytes(bytes(image))
    e2e.assert_convert_fails(busybox, work, mentions=["Image-arm64", "an arm64 kernel", "linux/amd64", "--no-kernel"],
                             extra=("--kernel", str(kernel)))


def test_an_elf_kernel_is_named_as_such(work, busybox):
    # Any x86-64 ELF stands in for an uncompressed vmlinux: the header is what is read.
    vmlinux = work / "vmlinux"
    vmlinux.write_bytes(Path("/bin/true").read_bytes())
    e2e.assert_convert_fails(busybox, work, mentions=["vmlinux", "amd64 ELF kernel", "not a bzImage"], extra=("--kernel", str(vmlinux)))


def test_a_platform_this_version_cannot_boot_is_refused_unless_it_is_a_data_disk(work):
    layer = Layer().dir("etc").file("etc/os-release", b"ID=test\n").tobytes()
    layout = work / "multi"
    ocilayout.build_multiplatform_layout(layout, [
        {"platform": ("linux", "amd64", None), "layers": [layer], "config": {"Cmd": ["/bin/true"]}},
        {"platform": ("linux", "arm64", "v8"), "layers": [layer], "config": {"Cmd": ["/bin/true"]}},
    ], tag="m")
    source = f"oci:{layout}:m"
    line = e2e.assert_convert_fails(source, work, mentions=["linux/arm64", "linux/amd64", "--no-kernel"],
                                    extra=("--platform", "linux/arm64"), bootable=True)
    assert "boots only linux/amd64" in line, line
    # The same image as a data disk is fine: nothing has to boot it.
    e2e.convert(source, work / "data.img", "--platform", "linux/arm64", "--no-kernel")
    assert e2e.inspect_json(work / "data.img")


def _deb(work, architecture, vmlinuz):
    """A kernel-shaped .deb whose control file says `architecture`."""
    root = work / f"deb-{architecture}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: linux-image-test\nVersion: 1\nArchitecture: {architecture}\nMaintainer: t <t@t>\nDescription: test\n")
    (root / "boot").mkdir()
    (root / "boot" / "vmlinuz-6.1.0-test").write_bytes(vmlinuz.read_bytes())
    out = work / f"linux-image-test_{architecture}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(root), str(out)], check=True, capture_output=True)
    return out


def test_a_kernel_package_for_another_architecture_is_refused(work, busybox, extracted_kernel):
    vmlinuz, _ = extracted_kernel
    package = _deb(work, "arm64", vmlinuz)
    e2e.assert_convert_fails(busybox, work, mentions=[package.name, "a package for arm64", "linux/amd64"],
                             extra=("--kernel-package", str(package)))


def test_a_kernel_package_whose_vmlinuz_is_no_kernel_is_refused(work, busybox):
    text = work / "not-a-kernel"
    text.write_text("hello\n")
    package = _deb(work, "amd64", text)
    e2e.assert_convert_fails(busybox, work, mentions=[package.name, "vmlinuz-6.1.0-test", "not a Linux kernel image"],
                             extra=("--kernel-package", str(package)))


def _fake_module(directory, name, vermagic):
    directory.mkdir(parents=True, exist_ok=True)
    modinfo = f"\0name={name}\0depends=\0vermagic={vermagic} SMP mod_unload modversions \0".encode()
    (directory / f"{name}.ko").write_bytes(b"\x7fELF" + bytes(60) + modinfo)


def test_modules_of_another_kernel_are_refused(work, busybox, extracted_kernel):
    vmlinuz, modules = extracted_kernel
    release = modules.name
    # Modules built for another release, in a folder named after it.
    other = work / "other" / "5.10.0-30-amd64"
    _fake_module(other / "kernel", "virtio_pci", "5.10.0-30-amd64")
    e2e.assert_convert_fails(busybox, work, mentions=["5.10.0-30-amd64", release], extra=("--kernel", str(vmlinuz), "--modules", str(other)))
    # The folder's name does not make them the kernel's: their vermagic decides.
    renamed = work / "renamed" / release
    _fake_module(renamed / "kernel", "virtio_pci", "5.10.0-30-amd64")
    e2e.assert_convert_fails(busybox, work, mentions=["5.10.0-30-amd64", release], extra=("--kernel", str(vmlinuz), "--modules", str(renamed)))
    # An empty folder has only its name to go by.
    empty = work / "empty" / "5.10.0-30-amd64"
    empty.mkdir(parents=True)
    e2e.assert_convert_fails(busybox, work, mentions=[release], extra=("--kernel", str(vmlinuz), "--modules", str(empty)))


def test_a_loose_kernel_without_its_drivers_built_in_needs_its_modules(work, busybox, extracted_kernel):
    # Debian builds virtio_blk and virtio_pci as modules: its vmlinuz alone never finds the disk.
    vmlinuz, _ = extracted_kernel
    e2e.assert_convert_fails(busybox, work, mentions=[vmlinuz.name, "virtio_blk", "--modules"], extra=("--kernel", str(vmlinuz)))


def _image(work, layer, config, name="img"):
    layout = work / name
    ocilayout.build_layout(layout, [layer.tobytes()], tag="t", config=config)
    return f"oci:{layout}:t"


def test_system_mode_needs_an_executable_init(work):
    cases = {
        "missing": Layer().dir("sbin").dir("bin").file("bin/sh", b"#!x", mode=0o755),
        "dangling": Layer().dir("sbin").symlink("sbin/init", "/lib/systemd/systemd"),
        "not-executable": Layer().dir("sbin").file("sbin/init", b"\x7fELF", mode=0o644),
        "directory": Layer().dir("sbin").dir("sbin/init"),
    }
    expected = {"missing": "is missing", "dangling": "is missing", "not-executable": "not executable", "directory": "not a regular file"}
    for name, layer in cases.items():
        source = _image(work, layer, {"Cmd": ["/bin/sh"]}, name=name)
        e2e.assert_convert_fails(source, work, names=name, mentions=["--init system", "/sbin/init", expected[name]],
                                 extra=("--init", "system"))


def test_a_command_missing_from_the_image_is_a_warning(work):
    layer = (Layer().dir("bin").file("bin/tool", b"#!/bin/tool\n", mode=0o755).file("bin/data", b"x", mode=0o644)
             .dir("opt").dir("opt/app").file("opt/app/run", b"#!/bin/tool\n", mode=0o755).symlink("bin/link", "/opt/app/run"))
    found = [
        {"Cmd": ["tool"], "Env": ["PATH=/usr/bin:/bin"]},
        {"Cmd": ["link"], "Env": ["PATH=/bin"]},              # a symlink, resolved inside the image
        {"Cmd": ["./run"], "WorkingDir": "/opt/app"},          # relative to the working folder
        {"Cmd": ["run"], "Env": ["PATH=:/nowhere"], "WorkingDir": "/opt/app"},  # an empty PATH entry is the working folder
        {"Entrypoint": ["/opt/app/run"], "Cmd": ["--flag"]},
    ]
    for index, config in enumerate(found):
        r = e2e.convert(_image(work, layer, config, name=f"found{index}"), work / f"found{index}.img", bootable=True)
        assert b"warning" not in r.stderr, (config, r.stderr)
    missing = [
        ({"Cmd": ["nosuch"]}, "nosuch"),
        ({"Cmd": ["tool"], "Env": ["PATH=/usr/bin"]}, "tool"),   # not in the image's PATH
        ({"Cmd": ["/bin/data"]}, "/bin/data"),                    # there, but not executable
        ({"Cmd": ["run"], "WorkingDir": "/opt/app"}, "run"),      # PATH has no working-folder entry
    ]
    for index, (config, command) in enumerate(missing):
        disk = work / f"missing{index}.img"
        r = e2e.convert(_image(work, layer, config, name=f"missing{index}"), disk, bootable=True)
        lines = e2e.stderr_lines(r)
        assert len(lines) == 1 and lines[0].startswith("warning:") and f'"{command}"' in lines[0], (config, r.stderr)
        assert disk.exists(), "a warning, not an error: the disk is written"
        quiet = e2e.run([e2e.binary_path(), "convert", _image(work, layer, config, name=f"missing{index}"), "-o", work / "q.img", "--quiet"])
        assert quiet.returncode == 0 and quiet.stderr == b"", quiet.stderr


def test_a_kernel_package_with_a_huge_sparse_member_is_refused_without_allocating_it(work, busybox):
    # data.tar's boot/vmlinuz-* is a GNU sparse file claiming 8 GiB (one small run at its end):
    # reading it must stop at the package limit, not reserve 8 GiB of zeros.
    import shutil
    root = work / "sparse-root"
    (root / "boot").mkdir(parents=True)
    big = root / "boot" / "vmlinuz-6.1.0-sparse"
    with open(big, "wb") as f:
        f.truncate(8 << 30)
        f.seek(0, 2)
        f.write(b"tail")
    build = work / "sparse-deb"
    build.mkdir()
    subprocess.run(["tar", "--sparse", "-C", str(root), "-cf", str(build / "data.tar"), "./boot"], check=True)
    big.unlink()
    (build / "control").write_text("Package: linux-image-sparse\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n")
    subprocess.run(["tar", "-C", str(build), "-cf", str(build / "control.tar"), "./control"], check=True)
    (build / "debian-binary").write_text("2.0\n")
    package = work / "linux-image-sparse.deb"
    subprocess.run(["ar", "rc", str(package), "debian-binary", "control.tar", "data.tar"], cwd=build, check=True)
    assert package.stat().st_size < 1 << 20
    line = e2e.assert_convert_fails(busybox, work, mentions=[package.name, "256 MiB"], extra=("--kernel-package", str(package)))
    r = subprocess.run(["/usr/bin/time", "-f", "%M", str(e2e.binary_path()), "convert", busybox, "-o", str(work / "x.img"),
                        "--kernel-package", str(package)], capture_output=True)
    peak = int(r.stderr.decode().strip().splitlines()[-1])
    assert r.returncode == 1 and peak < 512 * 1024, (line, peak)
    shutil.rmtree(root)
