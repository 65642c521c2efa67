"""Deep trees (issue 11): symlinks that each point through the one before unfold a small
layer into a tree tens of thousands of folders deep. Resolving an entry's parents is bounded
as the kernel bounds a lookup (40 symlinks, PATH_MAX), so that layer is refused with one
line naming the entry, in bounded memory; a tree as deep as PATH_MAX allows converts and
bundles (every walk is iterative), and is e2fsck-clean and exact."""

import os
import subprocess

import e2e
import ocilayout
from tarbuild import Layer

from test_bundle import assert_bundle_fails


def _layout(work, layer, name):
    layout = work / name
    ocilayout.build_layout(layout, [layer.tobytes()], tag="t", config={"Cmd": ["/bin/true"]})
    return f"oci:{layout}:t"


def _unfolding_layer():
    # l0 -> d/a/a/…(1000), l1 -> l0/a/…(1000), …: "l39/x" sits 40,000 folders deep.
    layer = Layer().dir("d")
    previous = "d"
    for index in range(40):
        layer.symlink(f"l{index}", previous + "/a" * 1000)
        previous = f"l{index}"
    return layer.file(previous + "/x", b"deep")


def _peak_rss_kib(args):
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, args)], capture_output=True)
    return r, int(r.stderr.decode().strip().splitlines()[-1])


def test_symlinks_unfolding_past_path_max_are_refused_in_bounded_memory(work):
    source = _layout(work, _unfolding_layer(), "unfold")
    line = e2e.assert_convert_fails(source, work, names="unfold", mentions=["l39/x", "4096"])
    assert "symlinks followed" in line, line
    r, peak = _peak_rss_kib([e2e.binary_path(), "convert", source, "-o", work / "d.img", "--no-kernel"])
    assert r.returncode == 1
    assert peak < 256 * 1024, f"peak RSS {peak} KiB"
    assert not (work / "d.img").exists()


def test_symlinks_unfolding_past_path_max_are_refused_by_bundle(work):
    source = _layout(work, _unfolding_layer(), "unfold-bundle")
    assert_bundle_fails(source, work, names="unfold-bundle", mentions=["l39/x", "4096"])


def test_a_tree_as_deep_as_path_max_allows_converts_and_bundles(work):
    # 2,000 folders: "a/a/…/a/leaf", just under PATH_MAX, plus the same depth reached through
    # a symlinked parent (resolved inside the tree), a whiteout deep inside and its opaque parent.
    deep = "/".join(["a"] * 2000)
    lower = Layer().dir("a")
    for depth in range(2, 2001):
        lower.dir("/".join(["a"] * depth))
    lower.file(deep + "/leaf", b"bottom").file(deep + "/gone", b"x").symlink("short", "/".join(["a"] * 1000))
    upper = Layer().file("short/" + "/".join(["a"] * 999) + "/via-link", b"through").file(deep + "/.wh.gone", b"")
    upper.file("/".join(["a"] * 1500) + "/.wh..wh..opq", b"").file("/".join(["a"] * 1500) + "/new", b"n")
    layout = work / "deep"
    ocilayout.build_layout(layout, [lower.tobytes(), upper.tobytes()], tag="t", config={"Cmd": ["/bin/true"]})
    source = f"oci:{layout}:t"
    disk = work / "deep.img"
    e2e.convert(source, disk)
    e2e.e2fsck(disk, offset=1 << 20)
    via = "/".join(["a"] * 1999)  # short -> a*1000, then 999 more
    assert e2e.read_from_disk(disk, "/" + via + "/via-link") == b"through"
    assert e2e.read_from_disk(disk, "/" + "/".join(["a"] * 1500) + "/new") == b"n"
    # The opaque folder hid everything below it from the lower layer (the leaf too), but not
    # the folders the upper layer's via-link sits in.
    def names(path):
        listing = e2e.run(["debugfs", "-R", f"ls -p /{path}", f"{disk}?offset={1 << 20}"])
        return {line.split("/")[5] for line in listing.stdout.decode().splitlines() if line.count("/") >= 6}
    assert names("/".join(["a"] * 1500)) == {".", "..", "new", "a"}
    assert names(via) == {".", "..", "via-link"}
    if e2e.is_root():
        out = work / "bundle"
        try:
            _check_bundle(source, out, via)
        finally:
            # Python's rmtree (pytest's clean-up) recurses per folder; rm does not.
            subprocess.run(["rm", "-rf", str(out)], check=True)


def _check_bundle(source, out, via):
    r = e2e.run([e2e.binary_path(), "bundle", source, "-o", out])
    assert r.returncode == 0, e2e._show(r)
    rootfs = out / "rootfs"
    assert (rootfs / via / "via-link").read_bytes() == b"through"
    assert sorted(os.listdir(rootfs / "/".join(["a"] * 1500))) == ["a", "new"]
    assert os.listdir(rootfs / via) == ["via-link"]
    # And `--force` removes a tree this deep (iteratively) before writing it again.
    r = e2e.run([e2e.binary_path(), "bundle", source, "-o", out, "--force"])
    assert r.returncode == 0, e2e._show(r)
    assert (rootfs / via / "via-link").read_bytes() == b"through"
