"""The fixture builder itself (scripts/lib/ocilayout.py): what it writes must be valid
for an independent reader (skopeo verifies digests and sizes while copying), diff_ids
must be the uncompressed tars' digests, and output must be deterministic. These tests
do not need the oci2disk binary."""

import hashlib
import io
import subprocess

import pytest

import e2e
import ocilayout
from tarbuild import Layer


def _tars():
    return [Layer().dir("a").file("a/f", bytes(range(256)) * 300).tobytes(),
            Layer().dir("b").file("b/g", "g").whiteout("a/f").tobytes()]


def _skopeo_copy(src, dst):
    e2e.need_tool("skopeo")
    r = subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", src, dst], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("comp", ocilayout.COMPRESSIONS)
def test_layout_is_valid(tmp_path, comp):
    tars = _tars()
    info = ocilayout.build_layout(tmp_path / "l", tars, tag="t", compression=comp)
    assert info["diff_ids"] == ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]
    m = ocilayout.get_manifest(tmp_path / "l", "t")
    for desc, tar in zip(m["layers"], tars):
        buf = io.BytesIO()
        ocilayout.decompress_blob(tmp_path / "l", desc, buf)
        assert buf.getvalue() == tar
    _skopeo_copy(f"oci:{tmp_path / 'l'}:t", f"oci:{tmp_path / 'copy'}:t")


@pytest.mark.parametrize("kind", ["legacy", "v25", "oci-archive"])
def test_archives_are_valid(tmp_path, kind):
    ocilayout.build_layout(tmp_path / "l", _tars(), tag="t")
    arch = tmp_path / "a.tar"
    if kind == "legacy":
        ocilayout.docker_archive_legacy(tmp_path / "l", arch, "app:v1", ref="t")
        src = f"docker-archive:{arch}"
    elif kind == "v25":
        ocilayout.docker_archive_v25(tmp_path / "l", arch, "app:v1", ref="t")
        src = f"docker-archive:{arch}"
    else:
        ocilayout.oci_archive(tmp_path / "l", arch)
        src = f"oci-archive:{arch}:t"
    _skopeo_copy(src, f"oci:{tmp_path / 'copy'}:t")
    assert ocilayout.get_config(tmp_path / "copy", "t")["rootfs"]["diff_ids"] == \
        ocilayout.get_config(tmp_path / "l", "t")["rootfs"]["diff_ids"]


def test_nested_index_is_valid(tmp_path):
    imgs = [{"platform": ("linux", a, None), "layers": [Layer().file("p", a).tobytes()]} for a in ("arm64", "amd64")]
    ocilayout.build_multiplatform_layout(tmp_path / "l", imgs, tag="m", nesting=1)
    _skopeo_copy(f"oci:{tmp_path / 'l'}:m", f"oci:{tmp_path / 'copy'}:x")


def test_deterministic(tmp_path):
    for d in ("x", "y"):
        ocilayout.build_layout(tmp_path / d, _tars(), tag="t", compression="gzip-multi")
        ocilayout.docker_archive_legacy(tmp_path / d, tmp_path / f"{d}.tar", "app:v1", ref="t")
    assert e2e.listing(tmp_path / "x") == e2e.listing(tmp_path / "y")
    assert (tmp_path / "x.tar").read_bytes() == (tmp_path / "y.tar").read_bytes()
