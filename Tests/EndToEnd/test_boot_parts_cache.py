"""Issue 12 §1: a kernel package's boot parts (its kernel, and the initramfs segment with the
module closure and the init) are kept in ~/.cache/oci2disk/boot-parts between converts. The
disk must not depend on whether they came from there: cold and warm converts give the same
bytes, a damaged entry is rebuilt and never used, and concurrent converts share the cache."""

import json
import subprocess
from pathlib import Path

import pytest

import boot
import e2e


@pytest.fixture(scope="module")
def package():
    debs = sorted((Path.home() / ".cache" / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    assert debs, "scripts/setup downloads the default kernel"
    return debs[-1]


def convert(source, out, cache, package):
    # A cache folder of the test's own (XDG_CACHE_HOME), so cold means cold.
    return e2e.convert(source, out, "--kernel-package", package, env={"XDG_CACHE_HOME": str(cache)}, bootable=True)


def entries(cache):
    """The kernel packages' entries (folders; beside them the SYSLINUX templates, files)."""
    folder = cache / "oci2disk" / "boot-parts"
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.exists() else []


def templates(cache):
    return sorted((cache / "oci2disk" / "boot-parts").glob("syslinux-*.sectors"))


def test_cold_and_warm_converts_give_the_same_disk_and_a_damaged_entry_is_rebuilt(work, package):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/sh", "-c", "echo FROM-THE-CACHE; exit 5"]})
    cache = work / "cache"
    convert(source, work / "cold.img", cache, package)
    [entry] = entries(cache)
    assert sorted(p.name for p in entry.iterdir()) == ["initramfs-base", "manifest.json", "vmlinuz"]
    manifest = json.loads((entry / "manifest.json").read_text())
    assert manifest["architecture"] == "amd64" and manifest["modulePaths"], manifest
    [template] = templates(cache)
    convert(source, work / "warm.img", cache, package)
    assert e2e.file_sha256(work / "warm.img") == e2e.file_sha256(work / "cold.img")

    # A damaged SYSLINUX template (its digest fails): made again, the disk the same.
    good_template = template.read_bytes()
    template.write_bytes(good_template[:-1] + bytes([good_template[-1] ^ 0xFF]))
    convert(source, work / "retemplated.img", cache, package)
    assert e2e.file_sha256(work / "retemplated.img") == e2e.file_sha256(work / "cold.img")
    assert template.read_bytes() == good_template, "the damaged template was not made again"

    # A damaged file: detected by its digest, the entry rebuilt, the disk the same.
    base = entry / "initramfs-base"
    good = base.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    base.write_bytes(bytes(damaged))
    convert(source, work / "repaired.img", cache, package)
    assert e2e.file_sha256(work / "repaired.img") == e2e.file_sha256(work / "cold.img")
    assert (entry / "initramfs-base").read_bytes() == good, "the damaged entry was not rebuilt"

    # A manifest that is not JSON, and a missing file: the same.
    (entry / "manifest.json").write_text("{not json")
    convert(source, work / "again.img", cache, package)
    assert e2e.file_sha256(work / "again.img") == e2e.file_sha256(work / "cold.img")
    (entry / "vmlinuz").unlink()
    convert(source, work / "again.img", cache, package)
    assert e2e.file_sha256(work / "again.img") == e2e.file_sha256(work / "cold.img")
    assert [p.name for p in entries(cache)] == [entry.name] and len(templates(cache)) == 1, "leftovers beside the entry"
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")], "a temporary file was left"

    # And what the cache gave boots (the two cpio segments one after the other).
    _, console = boot.qemu_bios_boot(work / "warm.img")
    assert b"FROM-THE-CACHE" in console and boot.exit_status(console) == 5, console[-3000:]


def test_two_concurrent_converts_share_the_cache(work, package):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    cache = work / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    runs = [subprocess.Popen([str(e2e.binary_path()), "convert", source, "-o", str(work / f"disk{i}.img"), "--kernel-package", str(package)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**__import__("os").environ, **env}) for i in (1, 2)]
    for r in runs:
        out, err = r.communicate(timeout=300)
        assert r.returncode == 0, err.decode(errors="replace")
    assert e2e.file_sha256(work / "disk1.img") == e2e.file_sha256(work / "disk2.img")
    [entry] = entries(cache)
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".")], "a temporary folder was left"
    convert(source, work / "disk3.img", cache, package)
    assert e2e.file_sha256(work / "disk3.img") == e2e.file_sha256(work / "disk1.img")
