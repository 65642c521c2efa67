"""Image sources: transports (oci:, oci-archive:, docker-archive: legacy and Docker 25
layouts, bare paths), reference and platform selection, layer compressions. The same
two-layer image arrives by every route and must give the same tree as umoci's unpack."""

import subprocess
import zlib
from types import SimpleNamespace

import pytest

import e2e
import ocilayout
from tarbuild import Layer, mtime_checked_dirs


def src_layers():
    l1 = Layer()
    l1.dir("bin").file("bin/app", b"\x7fELF-not-really" + bytes(range(256)) * 64, mode=0o755)
    l1.symlink("bin/sh", "app")
    l1.dir("etc").file("etc/os-release", "ID=fixture\n").file("etc/old", "to be deleted")
    l1.hardlink("etc/old-link", "etc/old")
    # Big enough that the multi-member/multi-frame split lands inside file data.
    l1.dir("data").file("data/blob", bytes((i * 7919) % 251 for i in range(300_000)))
    l1.file("data/x", "x", xattrs={"user.k": b"v"})
    l2 = Layer()
    l2.dir("etc", mtime=1700001000)
    l2.whiteout("etc/old")
    l2.file("etc/os-release", "ID=fixture\nVERSION=2\n")
    l2.dir("var").dir("var/lib").file("var/lib/state", "state")
    return [l1, l2]


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    e2e.need_root()
    d = tmp_path_factory.mktemp("src")
    layers = src_layers()
    tars = [l.tobytes() for l in layers]
    layout = d / "layout"
    info = ocilayout.build_layout(layout, tars, tag="v1", config={"Cmd": ["/bin/sh"]})
    root = e2e.umoci_unpack(layout, "v1", d / "bundle")
    return SimpleNamespace(dir=d, tars=tars, layout=layout, info=info, ref=e2e.snapshot(root),
                           mtime_dirs=mtime_checked_dirs(layers))


@pytest.fixture(scope="module")
def archives(src):
    """The source image as every archive kind, built once."""
    a = SimpleNamespace()
    a.oci = src.dir / "image.oci.tar"
    ocilayout.oci_archive(src.layout, a.oci)
    a.legacy = src.dir / "image.docker-legacy.tar"
    ocilayout.docker_archive_legacy(src.layout, a.legacy, "app:v1", ref="v1")
    a.legacy_port = src.dir / "image.docker-legacy-port.tar"
    ocilayout.docker_archive_legacy(src.layout, a.legacy_port, "registry.example:5000/team/app:v1", ref="v1")
    a.v25 = src.dir / "image.docker-v25.tar"
    ocilayout.docker_archive_v25(src.layout, a.v25, "app:v1", ref="v1")
    return a


def check(src, disk, fmt="raw"):
    e2e.verify_disk(disk, src.ref, fmt=fmt, mtime_dirs=src.mtime_dirs)


# ---------------------------------------------------------------- transports

@pytest.mark.parametrize("ref", [":v1", ""], ids=["with-ref", "only-image-no-ref"])
def test_oci_layout(src, work, ref):
    disk = work / "disk.img"
    e2e.convert(f"oci:{src.layout}{ref}", disk)
    check(src, disk)


@pytest.mark.parametrize("ref", [":v1", ""], ids=["with-ref", "no-ref"])
def test_oci_archive(src, archives, work, ref):
    disk = work / "disk.img"
    e2e.convert(f"oci-archive:{archives.oci}{ref}", disk)
    check(src, disk)


@pytest.mark.parametrize("kind,ref", [("legacy", ":app:v1"), ("legacy", ""),
                                      ("legacy_port", ":registry.example:5000/team/app:v1"),
                                      ("v25", ":app:v1"), ("v25", "")])
def test_docker_archive(src, archives, work, kind, ref):
    disk = work / "disk.img"
    e2e.convert(f"docker-archive:{getattr(archives, kind)}{ref}", disk)
    check(src, disk)


def test_docker_archive_two_images_select_by_tag(src, work):
    """A docker archive holding two images: REPO:TAG picks one; no tag is an error
    that lists both."""
    other = work / "other"
    ocilayout.build_layout(other, [Layer().dir("etc").file("etc/which", "other").tobytes()], tag="x")
    arch = work / "two.tar"
    ocilayout.docker_archive_legacy_images(arch, [(src.layout, "v1", "app:v1"), (other, "x", "other:x")])
    disk = work / "disk.img"
    e2e.convert(f"docker-archive:{arch}:other:x", disk)
    assert e2e.read_from_disk(disk, "/etc/which") == b"other"
    e2e.convert(f"docker-archive:{arch}:app:v1", work / "disk2.img")
    check(src, work / "disk2.img")
    e2e.assert_convert_fails(f"docker-archive:{arch}", work, mentions=["app:v1", "other:x"])


@pytest.mark.parametrize("producer", ["docker-archive", "oci-archive"])
def test_archives_written_by_skopeo(src, work, producer):
    """Archives from an independent writer (skopeo), not just from our own helper."""
    e2e.need_tool("skopeo")
    arch = work / "skopeo.tar"
    dest = f"{producer}:{arch}:" + ("app:v1" if producer == "docker-archive" else "v1")
    r = subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", f"oci:{src.layout}:v1", dest],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    disk = work / "disk.img"
    e2e.convert(f"{producer}:{arch}", disk)
    check(src, disk)


@pytest.mark.parametrize("kind", ["layout", "oci", "legacy", "v25"])
def test_bare_path_is_detected(src, archives, work, kind):
    path = src.layout if kind == "layout" else getattr(archives, kind)
    disk = work / "disk.img"
    e2e.convert(str(path), disk)
    check(src, disk)


def test_relative_paths(src, work):
    """Relative SOURCE and -o resolve against the working directory."""
    disk = src.dir / "relative-out.img"
    try:
        e2e.convert("oci:layout:v1", "relative-out.img", cwd=src.dir)
        check(src, disk)
    finally:
        disk.unlink(missing_ok=True)


# ---------------------------------------------------------------- references

@pytest.fixture
def two_refs(work):
    layout = work / "two-refs"
    for tag in ("one", "two"):
        ocilayout.build_layout(layout, [Layer().dir("etc").file("etc/which", tag).tobytes()], tag=tag)
    return layout


@pytest.mark.parametrize("tag", ["one", "two"])
def test_ref_selects_image(two_refs, work, tag):
    disk = work / "disk.img"
    e2e.convert(f"oci:{two_refs}:{tag}", disk)
    assert e2e.read_from_disk(disk, "/etc/which") == tag.encode()


def test_no_ref_with_two_images_lists_refs(two_refs, work):
    e2e.assert_convert_fails(f"oci:{two_refs}", work, mentions=["one", "two"])


def test_unknown_ref_is_named(two_refs, work):
    e2e.assert_convert_fails(f"oci:{two_refs}:three", work, mentions=["three"])


# ---------------------------------------------------------------- platforms

PLATFORMS = [("linux", "arm64", None), ("linux", "amd64", None), ("linux", "arm", "v7"), ("linux", "arm", "v6")]


def _pstr(p):
    return "/".join(x for x in p if x)


def multiplatform(d, nesting, platforms=PLATFORMS, attestation=True):
    images = [{"platform": p, "layers": [Layer().dir("etc").file("etc/platform", _pstr(p)).tobytes()]}
              for p in platforms]
    ocilayout.build_multiplatform_layout(d, images, tag="multi", attestation=attestation, nesting=nesting)
    return d


@pytest.mark.parametrize("nesting", [0, 1, 2], ids=["flat-index", "nested-index", "doubly-nested"])
@pytest.mark.parametrize("platform", [None, "linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6"])
def test_platform_selection(work, nesting, platform):
    """Default linux/amd64. The attestation manifest comes first in the index and must
    not be taken; arm64 comes before amd64."""
    layout = multiplatform(work / "mp", nesting)
    disk = work / "disk.img"
    e2e.convert(f"oci:{layout}:multi", disk, *(["--platform", platform] if platform else []))
    assert e2e.read_from_disk(disk, "/etc/platform") == (platform or "linux/amd64").encode()


@pytest.mark.parametrize("nesting", [0, 1])
def test_unknown_platform_lists_available(work, nesting):
    layout = multiplatform(work / "mp", nesting)
    e2e.assert_convert_fails(f"oci:{layout}:multi", work, extra=["--platform", "linux/s390x"],
                             mentions=["s390x", "linux/amd64", "linux/arm64", "linux/arm/v7"])


@pytest.mark.parametrize("nesting", [0, 1])
def test_attestation_manifest_never_picked(work, nesting):
    """unknown/unknown is the attestation's platform; it is not an image to convert."""
    layout = multiplatform(work / "mp", nesting)
    e2e.assert_convert_fails(f"oci:{layout}:multi", work, extra=["--platform", "unknown/unknown"])


def test_default_platform_missing(work):
    """Only arm64 (+ attestation): the default linux/amd64 is not there, and neither
    the attestation nor the sole real image may be taken instead."""
    layout = multiplatform(work / "mp", 1, platforms=[("linux", "arm64", None)])
    e2e.assert_convert_fails(f"oci:{layout}:multi", work, mentions=["linux/arm64"])


# ---------------------------------------------------------------- compression

def _gzip_members(path):
    data, n = open(path, "rb").read(), 0
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        data, n = d.unused_data, n + 1
    return n


def _zstd_frames(path):
    r = subprocess.run(["zstd", "-l", "-v", str(path)], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.strip().startswith("# Zstandard Frames:"):
            return int(line.split(":")[1])
    raise AssertionError(f"cannot count zstd frames: {r.stdout}{r.stderr}")


@pytest.mark.parametrize("comp", ["gzip", "zstd", "none", "gzip-multi", "zstd-multi", "mixed"])
def test_layer_compression(src, work, comp):
    """Same uncompressed layers (so the same diff_ids and tree as the reference), stored
    with each compression. -multi: two concatenated gzip members / zstd frames, split
    mid-stream; a decoder stopping after the first would lose the rest of the tar."""
    e2e.need_tool("zstd")
    c = ["zstd-multi", "gzip-multi"] if comp == "mixed" else comp
    layout = work / "layout"
    info = ocilayout.build_layout(layout, src.tars, tag="v1", compression=c, config={"Cmd": ["/bin/sh"]})
    assert info["diff_ids"] == src.info["diff_ids"]
    for digest, cc in zip(info["layer_digests"], c if isinstance(c, list) else [c] * 2):
        blob = ocilayout.blob_path(layout, digest)
        if cc == "gzip-multi":
            assert _gzip_members(blob) == 2
        if cc == "zstd-multi":
            assert _zstd_frames(blob) == 2
    disk = work / "disk.img"
    e2e.convert(f"oci:{layout}:v1", disk)
    check(src, disk)
