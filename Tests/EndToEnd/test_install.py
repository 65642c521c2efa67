"""Issue 15: the binary is self-contained. Copied out of the build tree, with the source tree
hidden, it still makes a bootable disk and boots it: the guest init and the templates are in
the binary (`--version` says what it carries), not read from the checkout."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import boot
import e2e


def version_lines(binary):
    r = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_version_names_the_embedded_init_and_templates():
    lines = version_lines(e2e.binary_path())
    assert lines[0].startswith("oci2disk ") and lines[0] != "oci2disk unknown", lines
    init = e2e.REPO_ROOT / ".build-init" / "oci2disk-init"
    digest = hashlib.sha256(init.read_bytes()).hexdigest()
    assert f"init: embedded, {init.stat().st_size} bytes, sha256:{digest}" in lines, lines
    assert "templates: embedded" in lines, lines


def test_a_copied_binary_converts_and_boots_with_the_source_tree_hidden(tmp_path):
    boot.need_boot_tools()
    e2e.need_root()
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to hide the source tree")
    installed = tmp_path / "bin" / "oci2disk"
    installed.parent.mkdir()
    shutil.copy2(e2e.binary_path(), installed)
    source = boot.busybox_image(tmp_path / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo FROM-AN-INSTALLED-BINARY; exit 5"]})
    kernels = sorted((Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    assert kernels, "scripts/setup downloads the default kernel package"
    cache = tmp_path / "cache" / "oci2disk" / "kernels"
    cache.mkdir(parents=True)
    shutil.copy2(kernels[-1], cache)
    disk = tmp_path / "disk.img"
    # A private mount namespace with an empty folder over the checkout: the build folders
    # (.build, .build-init) and templates/ are gone for the copied binary.
    script = (f'mount -t tmpfs none "{e2e.REPO_ROOT}" && test ! -e "{e2e.REPO_ROOT}/templates" && '
              f'"{installed}" convert "{source}" -o "{disk}" -q && "{installed}" run "{disk}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCI2DISK")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, env=env, timeout=300)
    assert b"FROM-AN-INSTALLED-BINARY" in r.stdout, e2e._show(r)
    assert r.returncode == 5, e2e._show(r)


def test_a_binary_without_an_init_names_what_to_do_on_a_bootable_convert_only(tmp_path):
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    env = {"OCI2DISK_INIT": str(tmp_path / "no-such-init")}
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", tmp_path / "boot.img"], env=env)
    assert r.returncode == 1, e2e._show(r)
    lines = e2e.stderr_lines(r)
    assert len(lines) == 1 and lines[0].startswith("error:") and "no-such-init" in lines[0], e2e._show(r)
    assert not (tmp_path / "boot.img").exists()
    # A data disk needs no init.
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", tmp_path / "data.img", "--no-kernel"], env=env)
    assert r.returncode == 0, e2e._show(r)


def test_fetch_kernel_downloads_debians_cloud_kernel_into_the_cache_once(tmp_path):
    """An installed tool has no scripts/setup: `fetch-kernel` gets the default kernel through
    the host's apt (Debian's archive), and a bootable convert then finds it."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", tmp_path / "before.img"], env=env)
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1 and len(lines) == 1 and "oci2disk fetch-kernel" in lines[0], e2e._show(r)

    r = e2e.run([e2e.binary_path(), "fetch-kernel", "--json"], env=env, timeout=600)
    assert r.returncode == 0, e2e._show(r)
    report = json.loads(r.stdout)
    path = Path(report["path"])
    assert report["downloaded"] is True and path.parent == tmp_path / "cache" / "oci2disk" / "kernels", report
    depends = subprocess.run(["apt-cache", "depends", "--important", "linux-image-cloud-amd64"], capture_output=True, text=True).stdout
    assert path.name.split("_")[0] in depends and path.name.endswith("_amd64.deb"), (path, depends)
    assert path.read_bytes()[:8] == b"!<arch>\n"
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no download folder left behind"

    again = e2e.run([e2e.binary_path(), "fetch-kernel", "--json"], env=env)
    assert json.loads(again.stdout) == {"path": str(path), "downloaded": False}
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", tmp_path / "after.img", "--json"], env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["boot"]["kernel"] in path.name, e2e._show(r)


@pytest.mark.parametrize("package", ["no-such-kernel-package", "-oDir::Cache=/tmp", "../../etc/passwd"])
def test_fetch_kernel_refuses_a_bad_package_with_one_line(tmp_path, package):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    r = e2e.run([e2e.binary_path(), "fetch-kernel", f"--package={package}"], env=env)
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"error: {package}: fetch-kernel:"), e2e._show(r)
    kernels = tmp_path / "cache" / "oci2disk" / "kernels"
    assert not kernels.exists() or list(kernels.iterdir()) == []


def test_the_development_overrides_still_win_over_what_is_embedded(tmp_path):
    """OCI2DISK_TEMPLATES (a folder) and OCI2DISK_INIT (a file) replace the embedded copies,
    for working on them without a rebuild."""
    templates = tmp_path / "templates"
    shutil.copytree(e2e.REPO_ROOT / "templates", templates)
    cmdline = templates / "cmdline.txt"
    cmdline.write_text(cmdline.read_text().rstrip("\n") + " oci2disk.test-override=1\n")
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    disk = tmp_path / "disk.img"
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", disk], env={"OCI2DISK_TEMPLATES": str(templates)})
    assert r.returncode == 0, e2e._show(r)
    config = subprocess.run(["mtype", "-i", f"{disk}@@{e2e.PART_OFFSET}", "::/syslinux.cfg"], capture_output=True, text=True)
    assert "oci2disk.test-override=1" in config.stdout, config.stdout + config.stderr
