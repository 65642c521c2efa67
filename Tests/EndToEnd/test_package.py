"""Issue 15: the Debian package. scripts/package-deb builds it; a fresh Debian 12 root made
by mmdebstrap installs it with apt (which must find every dependency from its Depends), and
there, with nothing of the build tree present, oci2disk converts (a bootable disk, the same
bytes as the build tree's binary makes), inspects and bundles an image."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import boot
import e2e

MIRROR = os.environ.get("OCI2DISK_E2E_MIRROR", "http://deb.debian.org/debian")


@pytest.fixture(scope="module")
def installed_root(tmp_path_factory):
    e2e.need_root()
    e2e.need_tool("mmdebstrap")
    work = tmp_path_factory.mktemp("package")
    r = subprocess.run([str(e2e.REPO_ROOT / "scripts" / "package-deb"), str(work / "out")], capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    deb = Path(r.stdout.strip().splitlines()[-1])
    assert deb.name.startswith("oci2disk_") and deb.name.endswith("_amd64.deb"), deb
    root = work / "root"
    # --include with the package's path: apt installs it and resolves its Depends from the archive.
    # The hook bind-mounts the .deb into the new root, where apt reads it.
    r = subprocess.run(["mmdebstrap", "--quiet", "--variant=apt", "--mode=root",
                        "--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount", f"--include={deb}", "bookworm", str(root), MIRROR],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return root, deb


def in_root(root, *command, timeout=300):
    """Runs a command chrooted in `root`, with its own /proc and nothing else of the host's."""
    script = f'mount -t proc proc "{root}/proc" && exec chroot "{root}" "$@"'
    return subprocess.run(["unshare", "--mount", "--pid", "--fork", "sh", "-c", script, "sh", *map(str, command)],
                          capture_output=True, timeout=timeout, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"})


def test_the_package_installs_with_its_dependencies_and_carries_its_init(installed_root):
    root, deb = installed_root
    r = in_root(root, "dpkg-query", "-W", "-f", "${Status} ${Version}", "oci2disk")
    assert r.stdout.decode().startswith("install ok installed "), e2e._show(r)
    assert r.stdout.decode().split()[-1] in deb.name
    r = in_root(root, "ldd", "/usr/bin/oci2disk")
    assert r.returncode == 0 and b"not found" not in r.stdout, e2e._show(r)
    r = in_root(root, "oci2disk", "--version")
    assert b"init: embedded" in r.stdout and b"templates: embedded" in r.stdout, e2e._show(r)
    assert (root / "usr/share/man/man1/oci2disk.1.gz").exists()
    assert not (root / str(e2e.REPO_ROOT).lstrip("/")).exists()


def test_the_runtime_package_list_covers_what_the_package_depends_on(installed_root):
    """scripts/setup --runtime installs what the binary links: the .deb's Depends (from
    dpkg-shlibdeps) are all in its RUNTIME_PACKAGES, but for what every Debian root has."""
    _, deb = installed_root
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True).stdout
    names = {d.strip().split(" ")[0] for d in depends.split(",")}
    setup = (e2e.REPO_ROOT / "scripts" / "setup").read_text()
    block = setup.split("RUNTIME_PACKAGES=(", 1)[1].split("\n)\n", 1)[0]
    runtime = {word for line in block.splitlines() for word in line.split("#", 1)[0].split()}
    assert names - runtime <= {"libc6", "libgcc-s1", "libstdc++6"}, (names, runtime)
    assert {"mtools", "syslinux", "syslinux-common"} <= names


def test_inside_the_root_it_converts_inspects_and_bundles(installed_root, tmp_path):
    root, _ = installed_root
    work = root / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    config = {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo HELLO; exit 3"]}
    boot.busybox_image(work / "layout", config)
    kernels = sorted((Path.home() / ".cache" / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    assert kernels, "scripts/setup downloads the default kernel"
    cache = root / "root" / ".cache" / "oci2disk" / "kernels"
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy2(kernels[-1], cache)

    r = in_root(root, "oci2disk", "convert", "oci:/work/layout:latest", "-o", "/work/disk.img", "--json")
    assert r.returncode == 0, e2e._show(r)
    assert json.loads(r.stdout)["boot"]["mode"] == "app"
    # The same input through the build tree's binary: the same bytes.
    reference = tmp_path / "disk.img"
    e2e.convert(f"oci:{work / 'layout'}:latest", reference, bootable=True, env={"OCI2DISK_KERNEL_PACKAGE": str(kernels[-1])})
    assert (work / "disk.img").read_bytes() == reference.read_bytes()

    r = in_root(root, "oci2disk", "inspect", "/work/disk.img", "--json")
    assert r.returncode == 0, e2e._show(r)
    report = json.loads(r.stdout)
    assert [p["filesystem"]["type"] for p in report["partitions"]] == ["vfat", "ext4"], report

    r = in_root(root, "oci2disk", "bundle", "oci:/work/layout:latest", "-o", "/work/bundle")
    assert r.returncode == 0, e2e._show(r)
    spec = json.loads((work / "bundle" / "config.json").read_text())
    assert spec["process"]["args"] == ["/bin/sh", "-c", "echo HELLO; exit 3"]
    assert (work / "bundle" / "rootfs" / "bin" / "busybox").is_file()
