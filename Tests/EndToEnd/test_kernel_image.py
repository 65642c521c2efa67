"""Issue 15: a kernel from a container image (`convert --kernel-image SOURCE`, any transport),
for an installed tool with no kernel package around. The test builds kernel images from the
default kernel package (the Debian layout and LinuxKit's /kernel), pushes one to a loopback
registry, converts with it through docker://, and boots the disk."""

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

import boot
import e2e
import ocilayout
from registry import Registry, need_registry_tools

# Only the modules a virtio disk and network need (and what they depend on): the image stays small.
WANTED = ("virtio", "failover")


def kernel_layer(extracted_kernel, out: Path, layout: str) -> Path:
    vmlinuz, modules = extracted_kernel
    release = modules.name
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        kernel_name = f"boot/vmlinuz-{release}" if layout == "debian" else "kernel"
        for d in (["boot"] if layout == "debian" else []) + ["lib", "lib/modules", f"lib/modules/{release}"]:
            add_dir(d)
        tar.add(vmlinuz, kernel_name)
        for f in sorted(modules.rglob("*")):
            rel = f.relative_to(modules)
            if f.is_file() and (f.name in ("modules.builtin", "modules.order") or (f.suffix == ".ko" and any(w in f.name for w in WANTED))):
                parents = rel.parents
                for p in reversed(list(parents)[:-1]):
                    name = f"lib/modules/{release}/{p}"
                    if name not in tar.getnames():
                        add_dir(name)
                tar.add(f, f"lib/modules/{release}/{rel}")
    return out


def kernel_image(extracted_kernel, work: Path, layout: str) -> str:
    layer = kernel_layer(extracted_kernel, work / f"kernel-{layout}.tar", layout)
    ocilayout.build_layout(work / f"kernel-{layout}", [str(layer)], tag="latest")
    return f"oci:{work / f'kernel-{layout}'}:latest"


def test_a_kernel_image_from_a_registry_boots(extracted_kernel, tmp_path):
    boot.need_boot_tools()
    need_registry_tools()
    kernel = kernel_image(extracted_kernel, tmp_path, "debian")
    source = boot.busybox_image(tmp_path / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo KERNEL-FROM-AN-IMAGE; uname -r; exit 9"]})
    with Registry(tmp_path / "r", tmp_path / "storage") as registry:
        registry.push(kernel, "kernels/cloud:latest")
        disk = tmp_path / "disk.img"
        # No kernel in the cache: the one in the image is all there is.
        env = {"XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
        r = e2e.run([e2e.binary_path(), "convert", source, "-o", disk, "--json", "--tls-verify=false",
                     "--kernel-image", f"docker://{registry.host}/kernels/cloud:latest"], env=env)
        assert r.returncode == 0, e2e._show(r)
    r = e2e.run([e2e.binary_path(), "run", disk], env=env, timeout=240)
    assert b"KERNEL-FROM-AN-IMAGE" in r.stdout and extracted_kernel[1].name.encode() in r.stdout, e2e._show(r)
    assert r.returncode == 9, e2e._show(r)


def test_a_linuxkit_layout_kernel_image_gives_the_same_boot_files(extracted_kernel, tmp_path):
    """/kernel with /lib/modules/RELEASE is the same kernel: the disk is the same as with
    --kernel and --modules, byte for byte."""
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    kernel = kernel_image(extracted_kernel, tmp_path, "linuxkit")
    e2e.convert(source, tmp_path / "a.img", "--kernel-image", kernel)
    vmlinuz, modules = extracted_kernel
    e2e.convert(source, tmp_path / "b.img", "--kernel", vmlinuz, "--modules", modules)
    assert (tmp_path / "a.img").read_bytes() == (tmp_path / "b.img").read_bytes()


@pytest.mark.parametrize("what", ["no-kernel", "not-a-kernel"])
def test_a_kernel_image_without_a_kernel_is_refused(tmp_path, what):
    layer = tmp_path / "layer.tar"
    with tarfile.open(layer, "w") as tar:
        data = b"#!/bin/sh\necho not a kernel\n"
        info = tarfile.TarInfo("kernel" if what == "not-a-kernel" else "boot/readme")
        info.size = len(data)
        import io
        tar.addfile(info, io.BytesIO(data))
    ocilayout.build_layout(tmp_path / "kimg", [str(layer)], tag="latest")
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    line = e2e.assert_convert_fails(source, tmp_path, names="kimg", mentions=("kernel",),
                                    extra=("--kernel-image", f"oci:{tmp_path / 'kimg'}:latest"))
    assert ("/kernel" in line) and ("not a Linux kernel" in line if what == "not-a-kernel" else "no kernel in the image" in line), line
