"""Broken and hostile inputs. Each must fail cleanly: exit 1, exactly one stderr line
"error: ..." naming the source (and the problem where it has a name), no output file, a
pre-existing output untouched, no temp files left next to the output, nothing written
outside (checked with unique names in hostile entries)."""

import hashlib
import io
import json
import os
import shutil
import tarfile
import uuid

import pytest

import e2e
import ocilayout
from tarbuild import Layer


def good_layout(work):
    l1 = Layer().dir("etc").file("etc/a", b"a" * 10000).file("etc/b", bytes(range(256)) * 100)
    l2 = Layer().dir("var").file("var/c", "c")
    layout = work / "layout"
    info = ocilayout.build_layout(layout, [l1.tobytes(), l2.tobytes()], tag="t")
    return layout, info


def _flip(path, at=None):
    data = bytearray(open(path, "rb").read())
    i = len(data) // 2 if at is None else at
    data[i] ^= 0x40
    open(path, "wb").write(bytes(data))


def _edit_manifest(fn):
    def mut(layout, info):
        m = ocilayout.get_manifest(layout, "t")
        fn(m, layout, info)
        ocilayout.replace_manifest(layout, "t", m)
    return mut


def _edit_config(fn):
    def mut(layout, info):
        c = ocilayout.get_config(layout, "t")
        fn(c)
        ocilayout.replace_config(layout, "t", c)
    return mut


def _edit_index(fn):
    def mut(layout, info):
        idx = ocilayout.load_index(layout)
        fn(idx["manifests"][0], layout, info)
        ocilayout.save_index(layout, idx)
    return mut


def _truncate_layer(layout, info):
    p = ocilayout.blob_path(layout, info["layer_digests"][0])
    os.truncate(p, os.path.getsize(p) // 2)


def _layer_not_gzip(layout, info):
    # An uncompressed tar stored under a gzip media type (digest and size consistent).
    m = ocilayout.get_manifest(layout, "t")
    tar = Layer().dir("x").file("x/y", "y").tobytes()
    d = ocilayout.write_blob(layout, tar)
    m["layers"][0].update(d)
    ocilayout.replace_manifest(layout, "t", m)
    c = ocilayout.get_config(layout, "t")
    c["rootfs"]["diff_ids"][0] = d["digest"]
    ocilayout.replace_config(layout, "t", c)


def _decoy_traversal(layout, info):
    # A naive `blobs/<algo>/<hex>` join would land on layout/etc; put a real layer there
    # so that only a digest check (or rejecting the digest) stops it.
    shutil.copy(ocilayout.blob_path(layout, info["layer_digests"][0]), layout / "etc")
    m = ocilayout.get_manifest(layout, "t")
    m["layers"][0]["digest"] = "sha256:../../etc"
    ocilayout.replace_manifest(layout, "t", m)


def _corrupt_uncompressed_data(layout, info):
    # Uncompressed layer, one byte of file data changed: the tar still parses, only the
    # digest check can notice.
    shutil.rmtree(layout)
    l1 = Layer().dir("etc").file("etc/a", b"a" * 10000).file("etc/b", bytes(range(256)) * 100)
    info = ocilayout.build_layout(layout, [l1.tobytes()], tag="t", compression="none")
    p = ocilayout.blob_path(layout, info["layer_digests"][0])
    data = open(p, "rb").read()
    _flip(p, at=data.index(b"a" * 1000) + 500)


def _other_digest(_):
    return "sha256:" + hashlib.sha256(b"something else").hexdigest()


LAYOUT_CASES = {
    "truncated-layer-blob": (_truncate_layer, []),
    "corrupt-layer-blob": (lambda L, i: _flip(ocilayout.blob_path(L, i["layer_digests"][0])), []),
    "corrupt-uncompressed-layer-data": (_corrupt_uncompressed_data, []),
    "corrupt-gzip-crc": (lambda L, i: _flip(ocilayout.blob_path(L, i["layer_digests"][0]),
                                            at=os.path.getsize(ocilayout.blob_path(L, i["layer_digests"][0])) - 6), []),
    # gzip header MTIME byte: decompresses to the very same tar; only the blob digest differs.
    "corrupt-gzip-header-mtime": (lambda L, i: _flip(ocilayout.blob_path(L, i["layer_digests"][0]), at=5), []),
    "corrupt-config-blob": (lambda L, i: _flip(ocilayout.blob_path(L, i["config_digest"]), at=5), []),
    "corrupt-manifest-blob": (lambda L, i: _flip(ocilayout.blob_path(L, i["manifest_digest"]), at=5), []),
    "layer-size-larger-in-manifest": (_edit_manifest(lambda m, L, i: m["layers"][0].update(size=m["layers"][0]["size"] + 1)), []),
    "layer-size-smaller-in-manifest": (_edit_manifest(lambda m, L, i: m["layers"][0].update(size=m["layers"][0]["size"] - 10)), []),
    "config-size-mismatch": (_edit_manifest(lambda m, L, i: m["config"].update(size=m["config"]["size"] + 3)), []),
    "manifest-size-mismatch-in-index": (_edit_index(lambda e, L, i: e.update(size=e["size"] - 1)), []),
    "diff-id-mismatch": (_edit_config(lambda c: c["rootfs"]["diff_ids"].__setitem__(0, _other_digest(c))), []),
    "diff-id-count-mismatch": (_edit_config(lambda c: c["rootfs"]["diff_ids"].pop()), []),
    "missing-layer-blob": (lambda L, i: os.unlink(ocilayout.blob_path(L, i["layer_digests"][1])), []),
    "missing-config-blob": (lambda L, i: os.unlink(ocilayout.blob_path(L, i["config_digest"])), []),
    "missing-manifest-blob": (lambda L, i: os.unlink(ocilayout.blob_path(L, i["manifest_digest"])), []),
    "missing-index": (lambda L, i: os.unlink(L / "index.json"), []),
    "index-bad-json": (lambda L, i: (L / "index.json").write_bytes(b'{"schemaVersion": 2, "manifests": ['), []),
    "index-not-an-object": (lambda L, i: (L / "index.json").write_bytes(b'[1, 2, 3]'), []),
    "manifest-bad-json": (lambda L, i: ocilayout.replace_manifest(L, "t", None, raw=b'{"schemaVersion": 2, "layers": ['), []),
    "config-bad-json": (lambda L, i: ocilayout.replace_config(L, "t", None, raw=b'{"rootfs": {"diff_ids": '), []),
    "layer-media-type-bzip2": (_edit_manifest(lambda m, L, i: m["layers"][0].update(
        mediaType="application/vnd.oci.image.layer.v1.tar+bzip2")), ["bzip2"]),
    "layer-not-gzip": (_layer_not_gzip, []),
    "layer-digest-traversal": (_decoy_traversal, []),
    "config-digest-traversal": (_edit_manifest(lambda m, L, i: m["config"].update(
        digest="sha256:../../../../../../../../etc/passwd")), []),
    "index-digest-traversal": (_edit_index(lambda e, L, i: e.update(digest="sha256:../../index.json")), []),
    "digest-malformed": (_edit_manifest(lambda m, L, i: m["layers"][0].update(digest="sha256:ABC")), []),
    "digest-unknown-algorithm": (_edit_manifest(lambda m, L, i: m["layers"][0].update(
        digest="md5:" + "0" * 32)), []),
}


@pytest.mark.parametrize("case", sorted(LAYOUT_CASES))
def test_broken_layout(work, case):
    layout, info = good_layout(work)
    mutate, mentions = LAYOUT_CASES[case]
    mutate(layout, info)
    before = e2e.listing(layout)
    e2e.assert_convert_fails(f"oci:{layout}:t", work, mentions=mentions)
    assert e2e.listing(layout) == before, "the source layout was modified"


def test_truncated_tar_inside_valid_gzip(work):
    """Blob digest, size and diff_id all consistent, but the tar stream itself ends
    mid-entry."""
    tar = Layer().dir("d").file("d/big", bytes(range(256)) * 400).file("d/after", "a").tobytes()
    layout = work / "layout"
    ocilayout.build_layout(layout, [tar[: len(tar) // 2 + 100]], tag="t")
    e2e.assert_convert_fails(f"oci:{layout}:t", work)


def test_missing_source(work):
    e2e.assert_convert_fails(f"oci:{work}/no-such-layout:t", work, names="no-such-layout")
    e2e.assert_convert_fails(f"oci-archive:{work}/no-such.tar", work, names="no-such.tar")
    e2e.assert_convert_fails(f"docker-archive:{work}/no-such-docker.tar", work, names="no-such-docker.tar")
    e2e.assert_convert_fails(f"{work}/no-such-path", work, names="no-such-path")


def test_truncated_oci_archive(work):
    layout, _ = good_layout(work)
    arch = work / "img.tar"
    ocilayout.oci_archive(layout, arch)
    os.truncate(arch, os.path.getsize(arch) * 2 // 3)
    e2e.assert_convert_fails(f"oci-archive:{arch}:t", work)


def _rewrite_tar(src, dst, drop=(), replace=None):
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for m in tin.getmembers():
            if m.name in drop:
                continue
            if replace and m.name in replace:
                data = replace[m.name]
                m.size = len(data)
                tout.addfile(m, io.BytesIO(data))
            else:
                tout.addfile(m, tin.extractfile(m) if m.isfile() else None)


def test_docker_archive_missing_layer(work):
    layout, _ = good_layout(work)
    good = work / "good.tar"
    ocilayout.docker_archive_legacy(layout, good, "app:v1", ref="t")
    manifest = json.loads(tarfile.open(good).extractfile("manifest.json").read())
    bad = work / "bad.tar"
    _rewrite_tar(good, bad, drop={manifest[0]["Layers"][-1]})
    e2e.assert_convert_fails(f"docker-archive:{bad}", work)


def test_docker_archive_layer_path_traversal(work):
    layout, _ = good_layout(work)
    good = work / "good.tar"
    ocilayout.docker_archive_legacy(layout, good, "app:v1", ref="t")
    manifest = json.loads(tarfile.open(good).extractfile("manifest.json").read())
    manifest[0]["Layers"][0] = "../../../../../../../../etc/passwd"
    bad = work / "bad.tar"
    _rewrite_tar(good, bad, replace={"manifest.json": json.dumps(manifest).encode()})
    e2e.assert_convert_fails(f"docker-archive:{bad}", work)


# ---------------------------------------------------------------- hostile tar entries

def _hostile_cases(tok):
    long_name = "a" * 256
    return {
        "dotdot-entry": (Layer().file(f"../escape-{tok}", "x"), [f"escape-{tok}"]),
        "dotdot-deep": (Layer().dir("a").file(f"a/../../../../../../../../tmp/pwned-{tok}", "x"), [f"pwned-{tok}"]),
        "absolute-entry": (Layer().file(f"/abs-{tok}", "x"), [f"abs-{tok}"]),
        "absolute-tmp": (Layer().file(f"/tmp/pwned-{tok}", "x"), [f"pwned-{tok}"]),
        "hardlink-to-missing": (Layer().file("a", "a").hardlink(f"b-{tok}", f"missing-{tok}"), [f"missing-{tok}"]),
        "hardlink-to-directory": (Layer().dir(f"d-{tok}").hardlink("l", f"d-{tok}"), [f"d-{tok}"]),
        "hardlink-escaping": (Layer().hardlink(f"l-{tok}", "../../../../../../etc/passwd"), []),
        "component-over-255": (Layer().file(long_name, "x"), []),
        "dir-component-over-255": (Layer().dir("ok").file("ok/" + "b" * 300 + "/f", "x"), []),
    }


@pytest.mark.parametrize("case", sorted(_hostile_cases("x")))
def test_hostile_tar_entry(work, case):
    tok = uuid.uuid4().hex[:12]
    layer, mentions = _hostile_cases(tok)[case]
    # A good first layer, so the hostile one is applied on top of a real tree.
    base = Layer().dir("etc").file("etc/passwd", "root:x:0:0::/root:/bin/sh\n").dir("tmp", mode=0o1777)
    layout = work / "layout"
    ocilayout.build_layout(layout, [base.tobytes(), layer.tobytes()], tag="t")
    e2e.assert_convert_fails(f"oci:{layout}:t", work, mentions=mentions)
    left = e2e.hostile_leftovers(tok, walk=[work], top=[os.getcwd(), os.path.dirname(os.getcwd()), work.parent])
    assert not left, f"hostile entry created files outside the image: {left}"
