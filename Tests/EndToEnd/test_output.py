"""The output file: MBR layout, bare ext4, sizes, sparseness, labels, --json/--quiet,
determinism, `inspect`, and a busybox root that actually runs from the disk."""

import filecmp
import hashlib
import json
import os
import re
import subprocess

import pytest

import e2e
import ocilayout
from layerfixtures import FIXTURES
from tarbuild import Layer

MiB = e2e.MiB


def bb_source(busybox_layout):
    return f"oci:{busybox_layout[0]}:latest"


def dumpe2fs(image, offset=None):
    spec = f"{image}?offset={offset}" if offset else str(image)
    r = subprocess.run(["dumpe2fs", "-h", spec], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return dict((k.strip(), v.strip()) for k, v in
                (line.split(":", 1) for line in r.stdout.splitlines() if ":" in line))


def test_raw_disk_layout(busybox_layout, work):
    """One MBR partition: bootable, type 0x83, from LBA 2048 to within the file, holding
    an ext4 labelled root that fits in it; the file is sparse; the tree is the image's."""
    disk = work / "disk.img"
    e2e.convert(bb_source(busybox_layout), disk)
    size = os.path.getsize(disk)
    assert size % 512 == 0
    parts = e2e.parse_mbr(disk)
    assert len(parts) == 1, parts
    p = parts[0]
    assert (p["index"], p["boot"], p["type"], p["start"]) == (1, 0x80, 0x83, e2e.PART_OFFSET), p
    assert p["size"] > 0 and p["start"] + p["size"] <= size, (p, size)
    info = e2e.blkid(disk, e2e.PART_OFFSET)
    assert info.get("TYPE") == "ext4" and info.get("LABEL") == "root", info
    sb = dumpe2fs(disk, e2e.PART_OFFSET)
    assert int(sb["Block count"]) * int(sb["Block size"]) <= p["size"], "filesystem larger than its partition"
    e2e.e2fsck(disk, e2e.PART_OFFSET)
    assert e2e.allocated_bytes(disk) < size, "output is not sparse"
    if e2e.is_root():
        root = e2e.umoci_unpack(busybox_layout[0], "latest", work / "bundle")
        e2e.verify_disk(disk, e2e.snapshot(root), mtime_dirs={b"/" + d for d in (
            b"bin", b"dev", b"etc", b"proc", b"root", b"sbin", b"sys", b"tmp", b"usr", b"usr/bin", b"var")})


def test_busybox_runs_from_disk(busybox_layout, work):
    """The converted root is usable: busybox's shell runs from it (chroot into the
    read-only mount)."""
    e2e.need_root()
    disk = work / "disk.img"
    e2e.convert(bb_source(busybox_layout), disk)
    with e2e.mounted(disk, e2e.PART_OFFSET) as mnt:
        r = subprocess.run(["chroot", str(mnt), "/bin/sh", "-c", "echo hello from $(cat /etc/hostname); ls /bin | wc -l"],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert r.stdout.startswith("hello from busybox"), r.stdout
    assert int(lines[-1]) == len(ocilayout.BUSYBOX_APPLETS) + 1, r.stdout


def test_json_output(busybox_layout, work):
    disk = work / "disk.img"
    r = e2e.convert(bb_source(busybox_layout), disk, "--json")
    obj = json.loads(r.stdout)  # the whole stdout is one JSON object
    assert isinstance(obj, dict), obj
    for k in ("output", "format", "size", "manifest", "layers", "files"):
        assert k in obj, f"--json lacks {k!r}: {obj}"
    assert os.path.realpath(obj["output"]) == os.path.realpath(disk), obj["output"]
    assert obj["format"] == "raw"
    assert obj["size"] == os.path.getsize(disk)
    assert busybox_layout[1]["manifest_digest"] in json.dumps(obj["manifest"]), obj["manifest"]
    layers = obj["layers"]
    assert (layers if isinstance(layers, int) else len(layers)) == 1, layers
    # "files": the number of entries written (11 dirs, busybox, the applet links,
    # sbin/init, 3 files; "/" may count) or, read narrowly, of regular files (4).
    n = 11 + 1 + len(ocilayout.BUSYBOX_APPLETS) + 1 + 3
    assert obj["files"] in (n, n + 1, 4), (obj["files"], n)


def test_quiet_prints_nothing(busybox_layout, work):
    r = e2e.convert(bb_source(busybox_layout), work / "disk.img", "--quiet")
    assert r.stdout == b"" and r.stderr == b"", e2e._show(r)


def test_label(busybox_layout, work):
    disk = work / "disk.img"
    e2e.convert(bb_source(busybox_layout), disk, "--label", "myroot")
    assert e2e.blkid(disk, e2e.PART_OFFSET).get("LABEL") == "myroot"
    assert e2e.inspect_json(disk)["partitions"][0]["filesystem"]["label"] == "myroot"


def test_inspect_raw(busybox_layout, work):
    disk = work / "disk.img"
    e2e.convert(bb_source(busybox_layout), disk)
    info = e2e.inspect_json(disk)
    assert info["partitionTable"] == "mbr", info
    [p] = info["partitions"]
    [m] = e2e.parse_mbr(disk)
    assert (p["index"], p["start"], p["size"], p["type"], p["bootable"]) == (1, m["start"], m["size"], "0x83", True), p
    fs = p["filesystem"]
    bl = e2e.blkid(disk, e2e.PART_OFFSET)
    assert fs["type"] == "ext4" and fs["label"] == "root", fs
    assert fs["uuid"].lower() == bl["UUID"].lower(), (fs, bl)
    assert isinstance(fs["files"], int) and fs["files"] > 0, fs


def test_inspect_bare_ext4(busybox_layout, work):
    img = work / "root.ext4"
    e2e.convert(bb_source(busybox_layout), img, "--format", "ext4")
    info = e2e.inspect_json(img)
    assert info["partitionTable"] == "none", info
    [p] = info["partitions"]
    assert p["start"] == 0, p
    assert p["filesystem"]["type"] == "ext4" and p["filesystem"]["label"] == "root", p
    assert p["filesystem"]["uuid"].lower() == e2e.blkid(img)["UUID"].lower()
    e2e.e2fsck(img)


# ---------------------------------------------------------------- determinism

@pytest.fixture
def rich_layout(work):
    """Several fixtures' layers stacked: hard links, xattrs, devices, whiteouts, odd names
    — the content where hash-map order or uninitialised bytes would show."""
    layers = FIXTURES["basic_types"]().layers + FIXTURES["metadata"]().layers + FIXTURES["whiteouts"]().layers
    layout = work / "rich"
    ocilayout.build_layout(layout, [l.tobytes() for l in layers], tag="t")
    return layout


@pytest.mark.parametrize("fmt", ["raw", "ext4"])
def test_deterministic(rich_layout, work, fmt):
    """Same input and options, different output names and working directories: the same
    bytes."""
    a, b = work / "a.img", work / "sub" / "other-name.img"
    b.parent.mkdir()
    e2e.convert(f"oci:{rich_layout}:t", a, "--format", fmt)
    e2e.convert(f"oci:{rich_layout}:t", b, "--format", fmt, cwd=b.parent)
    assert filecmp.cmp(a, b, shallow=False), f"two conversions differ ({fmt})"


def test_deterministic_with_source_date_epoch(rich_layout, work):
    a, b = work / "a.img", work / "b.img"
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    e2e.convert(f"oci:{rich_layout}:t", a, env=env)
    e2e.convert(f"oci:{rich_layout}:t", b, env=env)
    assert filecmp.cmp(a, b, shallow=False)


# ---------------------------------------------------------------- sizes

@pytest.mark.parametrize("fmt,size,expected", [("raw", "64M", 64 * MiB), ("ext4", "32M", 32 * MiB),
                                               ("raw", "1G", 1024 * MiB)])
def test_explicit_size(busybox_layout, work, fmt, size, expected):
    disk = work / "disk.img"
    e2e.convert(bb_source(busybox_layout), disk, "--size", size, "--format", fmt)
    assert os.path.getsize(disk) == expected
    if fmt == "raw":
        [p] = e2e.parse_mbr(disk)
        assert p["start"] + p["size"] <= expected
        e2e.e2fsck(disk, e2e.PART_OFFSET)
    else:
        e2e.e2fsck(disk)
    assert e2e.allocated_bytes(disk) < expected // 2, "an explicit size must still give a sparse file"


_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(bytes|byte|B|KiB|KB|K|MiB|MB|M|GiB|GB|G)(?![A-Za-z])")
_UNITS = {"bytes": 1, "byte": 1, "B": 1, "K": 1024, "KiB": 1024, "KB": 1000, "M": MiB, "MiB": MiB,
          "MB": 10**6, "G": 1 << 30, "GiB": 1 << 30, "GB": 10**9}


def test_size_too_small_names_needed_size(busybox_layout, work):
    """--size 1M cannot hold a partition starting at 1 MiB plus a filesystem: an error
    that names the size needed — and that size must then actually work."""
    line = e2e.assert_convert_fails(bb_source(busybox_layout), work, names="", extra=["--size", "1M"])
    sizes = [float(n) * _UNITS[u] for n, u in _SIZE_RE.findall(line)]
    sizes = [s for s in sizes if s > 1 * MiB]
    assert sizes, f"the error does not name a size larger than 1M: {line}"
    needed_mib = -(-int(max(sizes)) // MiB)
    e2e.convert(bb_source(busybox_layout), work / "fits.img", "--size", f"{needed_mib}M")


def test_auto_size_is_sparse_for_zero_file(work):
    """A 256 MiB file of zeros: the disk must be at least that big, but sparse (zeros are
    holes, not written blocks), and the file reads back as 256 MiB of zeros."""
    size = 256 * MiB
    tar = work / "zeros.tar"
    Layer().dir("big").zeros("big/zeros", size).write(tar)
    layout = work / "layout"
    ocilayout.build_layout(layout, [tar], tag="t")
    tar.unlink()
    disk = work / "disk.img"
    e2e.convert(f"oci:{layout}:t", disk)
    apparent, allocated = os.path.getsize(disk), e2e.allocated_bytes(disk)
    assert apparent >= size + e2e.PART_OFFSET, apparent
    assert apparent < 1024 * MiB, f"auto size {apparent} is far more than the content needs"
    assert allocated < 32 * MiB, f"disk not sparse: {allocated} bytes allocated of {apparent}"
    e2e.e2fsck(disk, e2e.PART_OFFSET)
    if e2e.is_root():
        zeros_sha = hashlib.sha256()
        chunk = bytes(MiB)
        for _ in range(256):
            zeros_sha.update(chunk)
        with e2e.mounted(disk, e2e.PART_OFFSET) as mnt:
            st = os.stat(mnt / "big" / "zeros")
            assert st.st_size == size
            assert e2e.file_sha256(mnt / "big" / "zeros") == zeros_sha.hexdigest()


def test_extra_space(busybox_layout, work):
    """--extra-space sets the headroom of an auto size: 96M of it gives a disk 64M larger
    than 32M does, and the 32M disk really has ~32M free."""
    small, big = work / "small.img", work / "big.img"
    e2e.convert(bb_source(busybox_layout), small, "--extra-space", "32M")
    e2e.convert(bb_source(busybox_layout), big, "--extra-space", "96M")
    grown = os.path.getsize(big) - os.path.getsize(small)
    assert 63 * MiB <= grown <= 65 * MiB, f"--extra-space 96M vs 32M: disks differ by {grown} bytes"
    e2e.e2fsck(small, e2e.PART_OFFSET)
    if e2e.is_root():
        with e2e.mounted(small, e2e.PART_OFFSET) as mnt:
            st = os.statvfs(mnt)
            free = st.f_bavail * st.f_frsize
        assert free >= 30 * MiB, f"only {free} bytes free with --extra-space 32M"


def test_fs_uuid_is_used_and_a_malformed_one_refused(work, busybox_layout):
    layout, _ = busybox_layout
    disk = work / "disk.img"
    wanted = "01234567-89ab-4def-8123-456789abcdef"
    e2e.convert(f"oci:{layout}:latest", disk, "--fs-uuid", wanted)
    assert e2e.inspect_json(disk)["partitions"][0]["filesystem"]["uuid"] == wanted
    r = e2e.run([e2e.binary_path(), "convert", f"oci:{layout}:latest", "-o", work / "bad.img", "--no-kernel", "--fs-uuid", "not-a-uuid"])
    assert r.returncode != 0 and not (work / "bad.img").exists()
