"""A real distribution root: Debian bookworm minbase from mmdebstrap (built fresh in each
run unless OCI2DISK_E2E_CACHE names a folder to keep it in), one conversion compared file by file with umoci's unpack, then dpkg run from it.
Marked slow: it needs the Debian archive the first time (~30 s) and converts ~170 MB."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import e2e
import ocilayout

CACHE = Path(os.environ["OCI2DISK_E2E_CACHE"]) if os.environ.get("OCI2DISK_E2E_CACHE") else None
MIRROR = os.environ.get("OCI2DISK_E2E_MIRROR", "http://deb.debian.org/debian")


def minbase_tar(scratch):
    cache = CACHE or scratch
    tar = cache / "bookworm-minbase.tar"
    if tar.exists():
        return tar
    e2e.need_tool("mmdebstrap")
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".tmp-{os.getpid()}.tar"
    r = subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root", "bookworm", str(tmp), MIRROR],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        tmp.unlink(missing_ok=True)
        # The archive being unreachable says nothing about oci2disk.
        pytest.skip(f"mmdebstrap could not build bookworm minbase: {r.stderr[-500:]}")
    os.replace(tmp, tar)
    return tar


@pytest.mark.slow
def test_debian_minbase(work, debian_minbase_tar):
    e2e.need_root()
    layout = work / "layout"
    ocilayout.build_layout(layout, [debian_minbase_tar], tag="bookworm", config={"Cmd": ["/bin/bash"]})
    root = e2e.umoci_unpack(layout, "bookworm", work / "bundle")
    ref = e2e.snapshot(root)
    shutil.rmtree(work / "bundle")
    disk = work / "disk.img"
    e2e.convert(f"oci:{layout}:bookworm", disk)
    # One layer: directories listed in the tar keep their tar mtimes unless a child was
    # implied; mmdebstrap lists every directory, so check them all except "/".
    dirs = {p for p, e in ref.items() if e["type"] == "dir"}
    e2e.verify_disk(disk, ref, mtime_dirs=dirs)
    with e2e.mounted(disk, e2e.PART_OFFSET) as mnt:
        r = subprocess.run(["chroot", str(mnt), "/usr/bin/dpkg-query", "-W", "-f", "${Package}\\n"],
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    pkgs = r.stdout.split()
    assert "base-files" in pkgs and "dpkg" in pkgs and len(pkgs) > 50, pkgs[:20]
