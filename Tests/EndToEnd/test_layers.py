"""OCI layer rules: each fixture image is converted, fsck'd, mounted and compared file by
file (type, 12 mode bits, owner, size, mtime, symlink target, rdev, xattrs, content,
hard-link groups) with `umoci unpack` of the same layout."""

from decimal import Decimal

import pytest

import e2e
import ocilayout
from layerfixtures import FIXTURES
from tarbuild import mtime_checked_dirs


def build_fixture(name, work):
    fx = FIXTURES[name]()
    layers = [l.write(work / f"layer{i}.tar") for i, l in enumerate(fx.layers)]
    layout = work / "layout"
    ocilayout.build_layout(layout, layers, tag="t1")
    root = e2e.umoci_unpack(layout, "t1", work / "bundle")
    if fx.expect:
        try:
            fx.expect(root)
        except AssertionError as e:
            pytest.fail(f"the reference (umoci) disagrees with the fixture's own expectation, fix the fixture: {e}")
    return fx, layout, e2e.snapshot(root)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_layer_rules(name, work):
    e2e.need_root()
    fx, layout, ref = build_fixture(name, work)
    disk = work / "disk.img"
    e2e.convert(f"oci:{layout}:t1", disk)
    e2e.verify_disk(disk, ref, mtime_dirs=mtime_checked_dirs(fx.layers), no_mtime=fx.no_mtime,
                    expect=fx.expect)
    # qcow2 is written directly (file data into its clusters, the rest folded in from a scratch
    # image), not converted from the raw disk: it must still hold exactly the same disk.
    qcow2 = work / "disk.qcow2"
    e2e.convert(f"oci:{layout}:t1", qcow2)
    for args in (["check", "-q", qcow2], ["compare", "-q", "-f", "raw", "-F", "qcow2", disk, qcow2]):
        r = e2e.run(["qemu-img", *args])
        assert r.returncode == 0, e2e._show(r)


def test_format_ext4_bare_filesystem(work):
    """--format ext4: the file IS the filesystem (no partition table): blkid finds ext4 at
    offset 0, e2fsck passes, it mounts without an offset, and holds the same tree."""
    e2e.need_root()
    fx, layout, ref = build_fixture("basic_types", work)
    img = work / "root.ext4"
    e2e.convert(f"oci:{layout}:t1", img, "--format", "ext4")
    with open(img, "rb") as f:
        head = f.read(1024)
    assert head[510:512] != b"\x55\xaa", "has an MBR signature; expected a bare filesystem"
    info = e2e.blkid(img)
    assert info.get("TYPE") == "ext4" and info.get("LABEL") == "root", info
    e2e.verify_disk(img, ref, fmt="ext4", mtime_dirs=mtime_checked_dirs(fx.layers), expect=fx.expect)


def _plain(p: bytes):
    try:
        s = p.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return s if s.isprintable() else None


def _mtime_ok(text, ns):
    """inspect prints "SEC.NNNNNNNNN". For times before 1970 accept both readings: the
    decimal value (-1.25) and the struct timespec fields (tv_sec=-2, tv_nsec=750000000)."""
    if Decimal(text) * 10**9 == ns:
        return True
    sec, _, frac = text.partition(".")
    return int(sec) * 10**9 + int(frac.ljust(9, "0")[:9]) == ns


@pytest.mark.parametrize("name", ["basic_types", "metadata"])
def test_inspect_files_matches_mounted_tree(name, work):
    e2e.need_root()
    fx, layout, _ = build_fixture(name, work)
    disk = work / "disk.img"
    e2e.convert(f"oci:{layout}:t1", disk)
    info = e2e.inspect_json(disk, "--files")
    assert info["partitionTable"] == "mbr", info
    assert len(info["partitions"]) == 1, info["partitions"]
    fs = info["partitions"][0]["filesystem"]
    entries = fs["entries"]
    by_path = {}
    for e in entries:
        assert e["path"] not in by_path, f"duplicate entry {e['path']!r}"
        by_path[e["path"]] = e
    with e2e.mounted(disk, e2e.PART_OFFSET) as mnt:
        snap = e2e.snapshot(mnt, content=False)
    problems = []
    plain = {_plain(p): (p, s) for p, s in snap.items() if _plain(p) is not None}
    odd_on_disk = [p for p in snap if _plain(p) is None]
    # "/" may or may not be listed; everything else must be, exactly once.
    listed_plain = {k for k in by_path if k in plain}
    missing = sorted(set(plain) - set(by_path) - {"/"})
    if missing:
        problems.append(f"on disk but not in inspect: {missing[:20]}")
    extra = [k for k in by_path if k not in plain]
    if len(extra) != len(odd_on_disk):
        problems.append(f"inspect paths not matching any disk path: {extra[:20]}; "
                        f"disk paths with non-UTF-8/non-printable bytes: {odd_on_disk}")
    for k in sorted(listed_plain):
        e, (_, s) = by_path[k], plain[k]
        want = {"type": s["type"], "mode": s["mode"], "uid": s["uid"], "gid": s["gid"],
                "inode": s["ino"], "nlink": s["nlink"]}
        if s["type"] != "dir":
            want["size"] = s["size"]
        if s["type"] == "symlink" and _plain(s["target"]) is not None:
            want["target"] = s["target"].decode()
        if s["type"] in ("char", "block"):
            want["rdev"] = list(s["rdev"])
        for key, v in want.items():
            if e.get(key) != v:
                problems.append(f"{k}: {key}: inspect {e.get(key)!r}, mounted {v!r}")
        if sorted(e.get("xattrs", [])) != sorted(s["xattrs"]):
            problems.append(f"{k}: xattrs: inspect {e.get('xattrs')!r}, mounted {sorted(s['xattrs'])!r}")
        if "mtime" not in e or not _mtime_ok(e["mtime"], s["mtime_ns"]):
            problems.append(f"{k}: mtime: inspect {e.get('mtime')!r}, mounted {s['mtime_ns']} ns")
    assert not problems, "\n".join(problems[:60])
