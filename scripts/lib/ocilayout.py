#!/usr/bin/env python3
"""Build OCI image layouts (and docker/oci archives) from layer tars.

Used by the end-to-end tests (Tests/EndToEnd) and by benchmark scripts. Only the
standard library plus the `zstd` command (for zstd layers) is needed.

Library:
    build_layout(out_dir, layers, tag=..., compression=..., config=..., platform=...)
    build_multiplatform_layout(out_dir, images, tag=..., attestation=..., nesting=...)
    oci_archive(layout_dir, out_file)
    docker_archive_legacy(layout_dir, out_file, repo_tag)
    docker_archive_v25(layout_dir, out_file, repo_tag)
    make_busybox_layout(out_dir)
    + helpers to read and rewrite manifests/configs (for building broken inputs).

CLI:
    python3 scripts/lib/ocilayout.py build --out DIR [--tag T] [--compression gzip|zstd|none]
        [--entrypoint JSON] [--cmd JSON] [--env K=V]... [--platform OS/ARCH[/VARIANT]] LAYER.tar...
    python3 scripts/lib/ocilayout.py busybox --out DIR [--tag T] [--compression C]
    python3 scripts/lib/ocilayout.py oci-archive --layout DIR --out FILE
    python3 scripts/lib/ocilayout.py docker-archive --layout DIR --out FILE --repo-tag REPO:TAG [--ref T] [--v25]

Everything written is deterministic: same inputs give the same bytes (gzip with mtime=0
and no file name, fixed JSON key order, tar members with fixed metadata).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MT_INTOTO = "application/vnd.in-toto+json"
REF_NAME = "org.opencontainers.image.ref.name"

# Compressions accepted by build_layout. The "-multi" variants write the layer as two
# concatenated gzip members / zstd frames (split in the middle of the tar stream), which
# decoders must treat as one stream.
COMPRESSIONS = ("gzip", "zstd", "none", "gzip-multi", "zstd-multi")
_MEDIA_TYPES = {
    "gzip": MT_LAYER_GZIP, "gzip-multi": MT_LAYER_GZIP,
    "zstd": MT_LAYER_ZSTD, "zstd-multi": MT_LAYER_ZSTD,
    "none": MT_LAYER_TAR,
}
_CHUNK = 1 << 20
DEFAULT_CREATED = "2024-01-01T00:00:00Z"
DEFAULT_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


# --------------------------------------------------------------------------- blobs

def _json_bytes(obj) -> bytes:
    # Compact and in insertion order: deterministic without sorting away the natural order.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def blobs_dir(layout_dir) -> str:
    d = os.path.join(os.fspath(layout_dir), "blobs", "sha256")
    os.makedirs(d, exist_ok=True)
    return d


def blob_path(layout_dir, digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    return os.path.join(os.fspath(layout_dir), "blobs", algo, hexpart)


def write_blob(layout_dir, data: bytes) -> dict:
    """Store bytes as a blob; return {"digest", "size"}."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout_dir, digest)
    blobs_dir(layout_dir)
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return {"digest": digest, "size": len(data)}


def write_json_blob(layout_dir, obj) -> dict:
    return write_blob(layout_dir, _json_bytes(obj))


def read_blob(layout_dir, digest: str) -> bytes:
    with open(blob_path(layout_dir, digest), "rb") as f:
        return f.read()


def read_json_blob(layout_dir, digest: str):
    return json.loads(read_blob(layout_dir, digest))


class _HashingWriter:
    """File-like writer that hashes and counts what passes through it."""

    def __init__(self, raw):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        return self.raw.write(b)

    def flush(self):
        self.raw.flush()


def _open_layer(layer):
    """A layer is bytes (an uncompressed tar) or a path to an uncompressed tar file."""
    if isinstance(layer, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(layer)), len(layer)
    path = os.fspath(layer)
    return open(path, "rb"), os.path.getsize(path)


def _read_exact(src, n):
    """Yield chunks of src totalling n bytes (or until EOF)."""
    while n > 0:
        b = src.read(min(_CHUNK, n))
        if not b:
            return
        n -= len(b)
        yield b


def add_layer_blob(layout_dir, layer, compression="gzip") -> dict:
    """Compress one uncompressed layer tar into a blob, streaming (a big tar file is read
    once for compression and hashing; nothing is held in memory whole).

    Returns {"mediaType", "digest", "size", "diff_id"}."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"unknown compression {compression!r}; expected one of {COMPRESSIONS}")
    bdir = blobs_dir(layout_dir)
    src, total = _open_layer(layer)
    diff = hashlib.sha256()
    # Split point for the multi-member/multi-frame variants: the middle of the tar stream,
    # deliberately not aligned to a tar block, so a decoder that stops after the first
    # member/frame yields a truncated tar.
    split = total // 2 + 7 if total > 16 else total
    fd, tmp = tempfile.mkstemp(dir=bdir, prefix=".tmp-layer-")
    try:
        with src, os.fdopen(fd, "wb") as raw:
            out = _HashingWriter(raw)
            if compression == "none":
                for b in _read_exact(src, total):
                    diff.update(b)
                    out.write(b)
            elif compression in ("gzip", "gzip-multi"):
                parts = [total] if compression == "gzip" else [split, total - split]
                for part in parts:
                    # filename="" and mtime=0: no host-dependent bytes in the gzip header.
                    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as gz:
                        for b in _read_exact(src, part):
                            diff.update(b)
                            gz.write(b)
            else:  # zstd, zstd-multi: one `zstd` process per frame, output appended
                parts = [total] if compression == "zstd" else [split, total - split]
                for part in parts:
                    raw.flush()
                    # zstd writes to a pipe we read, so the compressed bytes are hashed here.
                    p = subprocess.Popen(["zstd", "-q", "-c", "-3", "--no-progress"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                    err = []

                    def feed(part=part, p=p):
                        try:
                            for b in _read_exact(src, part):
                                diff.update(b)
                                p.stdin.write(b)
                        except Exception as e:  # pragma: no cover - reported below
                            err.append(e)
                        finally:
                            p.stdin.close()

                    t = threading.Thread(target=feed)
                    t.start()
                    while True:
                        b = p.stdout.read(_CHUNK)
                        if not b:
                            break
                        out.write(b)
                    t.join()
                    if p.wait() != 0 or err:
                        raise RuntimeError(f"zstd failed: {err or p.returncode}")
        digest = "sha256:" + out.sha.hexdigest()
        final = blob_path(layout_dir, digest)
        os.replace(tmp, final)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return {"mediaType": _MEDIA_TYPES[compression], "digest": digest, "size": out.size,
            "diff_id": "sha256:" + diff.hexdigest()}


# --------------------------------------------------------------------------- index

def write_oci_layout_file(layout_dir):
    os.makedirs(layout_dir, exist_ok=True)
    with open(os.path.join(layout_dir, "oci-layout"), "wb") as f:
        f.write(_json_bytes({"imageLayoutVersion": "1.0.0"}))


def load_index(layout_dir) -> dict:
    path = os.path.join(os.fspath(layout_dir), "index.json")
    if not os.path.exists(path):
        return {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": []}
    with open(path, "rb") as f:
        return json.load(f)


def save_index(layout_dir, index: dict):
    write_oci_layout_file(layout_dir)
    with open(os.path.join(os.fspath(layout_dir), "index.json"), "wb") as f:
        f.write(_json_bytes(index))


def add_to_index(layout_dir, descriptor: dict, tag=None, replace_tag=True):
    """Append a descriptor to index.json (created if needed). With a tag, the descriptor
    gets the ref.name annotation and an older entry with the same tag is dropped."""
    index = load_index(layout_dir)
    desc = dict(descriptor)
    if tag is not None:
        ann = dict(desc.get("annotations", {}))
        ann[REF_NAME] = tag
        desc["annotations"] = ann
        if replace_tag:
            index["manifests"] = [m for m in index["manifests"]
                                  if m.get("annotations", {}).get(REF_NAME) != tag]
    index["manifests"].append(desc)
    save_index(layout_dir, index)
    return desc


def find_descriptor(layout_dir, tag=None) -> dict:
    """The index.json entry for tag (or the only entry)."""
    ms = load_index(layout_dir)["manifests"]
    if tag is None:
        if len(ms) != 1:
            raise ValueError(f"{layout_dir}: {len(ms)} entries in index.json, give a tag")
        return ms[0]
    for m in ms:
        if m.get("annotations", {}).get(REF_NAME) == tag:
            return m
    raise KeyError(f"{layout_dir}: no ref {tag!r}")


def get_manifest(layout_dir, tag=None) -> dict:
    return read_json_blob(layout_dir, find_descriptor(layout_dir, tag)["digest"])


def get_config(layout_dir, tag=None) -> dict:
    return read_json_blob(layout_dir, get_manifest(layout_dir, tag)["config"]["digest"])


def replace_manifest(layout_dir, tag, manifest, raw: bytes | None = None) -> dict:
    """Write a (possibly altered) manifest and point index.json's entry for tag at it.
    raw: exact bytes to store instead of the JSON encoding of manifest (for broken JSON)."""
    data = raw if raw is not None else _json_bytes(manifest)
    d = write_blob(layout_dir, data)
    index = load_index(layout_dir)
    for m in index["manifests"]:
        if tag is None or m.get("annotations", {}).get(REF_NAME) == tag:
            m["digest"], m["size"] = d["digest"], d["size"]
            break
    else:
        raise KeyError(tag)
    save_index(layout_dir, index)
    return d


def replace_config(layout_dir, tag, config, raw: bytes | None = None) -> dict:
    """Write a (possibly altered) config and update the manifest (and index) to it."""
    data = raw if raw is not None else _json_bytes(config)
    d = write_blob(layout_dir, data)
    manifest = get_manifest(layout_dir, tag)
    manifest["config"]["digest"], manifest["config"]["size"] = d["digest"], d["size"]
    replace_manifest(layout_dir, tag, manifest)
    return d


# --------------------------------------------------------------------------- images

def _platform_dict(platform):
    os_, arch = platform[0], platform[1]
    variant = platform[2] if len(platform) > 2 else None
    p = {"architecture": arch, "os": os_}
    if variant:
        p["variant"] = variant
    return p


def build_image(layout_dir, layers, *, compression="gzip", config=None,
                platform=("linux", "amd64", None), created=DEFAULT_CREATED,
                manifest_annotations=None) -> dict:
    """Write layer, config and manifest blobs (index.json untouched).

    compression: one of COMPRESSIONS, or a list with one per layer."""
    layers = list(layers)
    comps = compression if isinstance(compression, (list, tuple)) else [compression] * len(layers)
    if len(comps) != len(layers):
        raise ValueError("one compression per layer")
    blobs_dir(layout_dir)
    descs, diff_ids = [], []
    for layer, comp in zip(layers, comps):
        d = add_layer_blob(layout_dir, layer, comp)
        diff_ids.append(d.pop("diff_id"))
        descs.append(d)
    pdict = _platform_dict(platform)
    cfg_config = {"Env": list(DEFAULT_ENV)}
    cfg_config.update(config or {})
    cfg = {"created": created}
    cfg.update(pdict)
    cfg["config"] = cfg_config
    cfg["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    cfg["history"] = [{"created": created, "created_by": f"ocilayout.py layer {i}"}
                      for i in range(len(layers))]
    cd = write_json_blob(layout_dir, cfg)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": cd["digest"], "size": cd["size"]},
        "layers": descs,
    }
    if manifest_annotations:
        manifest["annotations"] = dict(manifest_annotations)
    md = write_json_blob(layout_dir, manifest)
    return {
        "manifest_digest": md["digest"],
        "manifest_size": md["size"],
        "config_digest": cd["digest"],
        "layer_digests": [d["digest"] for d in descs],
        "diff_ids": diff_ids,
        "descriptor": {"mediaType": MT_MANIFEST, "digest": md["digest"], "size": md["size"]},
        "platform": pdict,
    }


def build_layout(out_dir, layers, *, tag="latest", compression="gzip", config=None,
                 platform=("linux", "amd64", None), created=DEFAULT_CREATED,
                 manifest_annotations=None) -> dict:
    """Build (or add an image to) an OCI image layout.

    layers: uncompressed tars, each bytes or a path. compression: gzip | zstd | none (or
    gzip-multi / zstd-multi, or one per layer). config: merged into the image config's
    "config" (Entrypoint, Cmd, Env, ...). tag: ref.name annotation in index.json (None: no
    annotation). An existing layout in out_dir is extended; an entry with the same tag is
    replaced.

    Returns {"manifest_digest", "config_digest", "layer_digests", "diff_ids", ...}."""
    out_dir = os.fspath(out_dir)
    write_oci_layout_file(out_dir)
    res = build_image(out_dir, layers, compression=compression, config=config,
                      platform=platform, created=created, manifest_annotations=manifest_annotations)
    add_to_index(out_dir, res["descriptor"], tag)
    return res


def _attestation_manifest(layout_dir, subject_digest) -> dict:
    """A buildx-style attestation manifest: platform unknown/unknown, in-toto layer. If a
    converter ever picked it, it would find a layer media type it cannot unpack."""
    statement = {"_type": "https://in-toto.io/Statement/v0.1",
                 "predicateType": "https://spdx.dev/Document",
                 "subject": [{"name": "ocilayout", "digest": {"sha256": subject_digest.split(":")[1]}}],
                 "predicate": {"spdxVersion": "SPDX-2.3"}}
    ld = write_json_blob(layout_dir, statement)
    cfg = {"architecture": "unknown", "os": "unknown", "config": {},
           "rootfs": {"type": "layers", "diff_ids": [ld["digest"]]}}
    cd = write_json_blob(layout_dir, cfg)
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": cd["digest"], "size": cd["size"]},
                "layers": [{"mediaType": MT_INTOTO, "digest": ld["digest"], "size": ld["size"],
                            "annotations": {"in-toto.io/predicate-type": "https://spdx.dev/Document"}}]}
    md = write_json_blob(layout_dir, manifest)
    return {"mediaType": MT_MANIFEST, "digest": md["digest"], "size": md["size"],
            "annotations": {"vnd.docker.reference.digest": subject_digest,
                            "vnd.docker.reference.type": "attestation-manifest"},
            "platform": {"architecture": "unknown", "os": "unknown"}}


def build_multiplatform_layout(out_dir, images, *, tag="latest", attestation=True,
                               nesting=0, created=DEFAULT_CREATED) -> dict:
    """A multi-platform image.

    images: list of dicts {"platform": (os, arch, variant), "layers": [...],
            optional "config", "compression"}.
    attestation: add a buildx-style attestation manifest (platform unknown/unknown,
            annotation vnd.docker.reference.type=attestation-manifest). It is put FIRST so
            that "take the first entry" is visibly wrong.
    nesting: 0 = the platform manifests are listed in index.json itself (each with
            platform and the ref.name annotation); 1 = index.json → image index blob →
            manifests (what `docker buildx --output type=oci` writes); 2 = one more level.

    Returns {"images": [build_image results], "attestation_digest", "index_digests"}."""
    out_dir = os.fspath(out_dir)
    write_oci_layout_file(out_dir)
    results, entries = [], []
    for img in images:
        r = build_image(out_dir, img["layers"], compression=img.get("compression", "gzip"),
                        config=img.get("config"), platform=img["platform"], created=created)
        results.append(r)
        e = dict(r["descriptor"])
        e["platform"] = r["platform"]
        entries.append(e)
    att = None
    if attestation:
        att = _attestation_manifest(out_dir, results[0]["manifest_digest"])
        entries.insert(0, att)
    index_digests = []
    if nesting == 0:
        for e in entries:
            add_to_index(out_dir, e, tag, replace_tag=False)
    else:
        inner = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": entries}
        d = write_json_blob(out_dir, inner)
        index_digests.append(d["digest"])
        for _ in range(nesting - 1):
            outer = {"schemaVersion": 2, "mediaType": MT_INDEX,
                     "manifests": [{"mediaType": MT_INDEX, "digest": d["digest"], "size": d["size"]}]}
            d = write_json_blob(out_dir, outer)
            index_digests.append(d["digest"])
        add_to_index(out_dir, {"mediaType": MT_INDEX, "digest": d["digest"], "size": d["size"]}, tag)
    return {"images": results, "attestation_digest": att["digest"] if att else None,
            "index_digests": index_digests}


# --------------------------------------------------------------------------- archives

def _tar_add_bytes(tf, name, data: bytes, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = len(data), mode, 0, 0, 0, "", ""
    tf.addfile(ti, io.BytesIO(data))


def _tar_add_file(tf, name, path, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = os.path.getsize(path), mode, 0, 0, 0, "", ""
    with open(path, "rb") as f:
        tf.addfile(ti, f)


def _tar_add_dir(tf, name):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = tarfile.DIRTYPE, 0o755, 0, 0, 0, "", ""
    tf.addfile(ti)


def oci_archive(layout_dir, out_file):
    """Tar an OCI layout (members at the archive root, sorted, fixed metadata)."""
    layout_dir = os.fspath(layout_dir)
    with tarfile.open(out_file, "w", format=tarfile.PAX_FORMAT) as tf:
        for dirpath, dirnames, filenames in os.walk(layout_dir):
            dirnames.sort()
            rel = os.path.relpath(dirpath, layout_dir)
            if rel != ".":
                _tar_add_dir(tf, rel)
            for fn in sorted(filenames):
                if fn.startswith(".tmp"):
                    continue
                name = fn if rel == "." else f"{rel}/{fn}"
                _tar_add_file(tf, name, os.path.join(dirpath, fn))


def decompress_blob(layout_dir, desc: dict, out_fileobj):
    """Stream a layer blob's uncompressed tar into out_fileobj."""
    path = blob_path(layout_dir, desc["digest"])
    mt = desc["mediaType"]
    if mt.endswith("+gzip"):
        with gzip.open(path, "rb") as f:  # gzip.open reads concatenated members
            shutil.copyfileobj(f, out_fileobj, _CHUNK)
    elif mt.endswith("+zstd"):
        out_fileobj.flush()
        with open(path, "rb") as f:
            p = subprocess.Popen(["zstd", "-q", "-d", "-c"], stdin=f, stdout=subprocess.PIPE)
            shutil.copyfileobj(p.stdout, out_fileobj, _CHUNK)
            if p.wait() != 0:
                raise RuntimeError(f"zstd -d failed on {path}")
    elif mt.endswith(".tar") or mt == "application/vnd.docker.image.rootfs.diff.tar":
        with open(path, "rb") as f:
            shutil.copyfileobj(f, out_fileobj, _CHUNK)
    else:
        raise ValueError(f"cannot decompress {mt}")


def _split_repo_tag(repo_tag):
    slash = repo_tag.rfind("/")
    colon = repo_tag.rfind(":")
    if colon > slash:
        return repo_tag[:colon], repo_tag[colon + 1:]
    return repo_tag, "latest"


def docker_archive_legacy_images(out_file, images):
    """A `docker save` archive in the pre-25 layout: <id>/layer.tar (uncompressed),
    <id>/VERSION, <id>/json, <config-hex>.json, manifest.json, repositories.

    images: list of (layout_dir, ref_or_None, repo_tag)."""
    manifest_json, repositories, written = [], {}, set()
    with tempfile.TemporaryDirectory(prefix="ocilayout-docker-") as tmp, \
            tarfile.open(out_file, "w", format=tarfile.PAX_FORMAT) as tf:
        for layout_dir, ref, repo_tag in images:
            manifest = get_manifest(layout_dir, ref)
            cfg_digest = manifest["config"]["digest"]
            cfg_bytes = read_blob(layout_dir, cfg_digest)
            diff_ids = json.loads(cfg_bytes)["rootfs"]["diff_ids"]
            cfg_name = cfg_digest.split(":")[1] + ".json"
            layer_names, parent = [], ""
            for desc, diff_id in zip(manifest["layers"], diff_ids):
                # v1 layer ids: a chain over diff_ids, like docker's, so that equal
                # prefixes of two images share directories.
                layer_id = hashlib.sha256(f"{parent} {diff_id}".encode()).hexdigest()
                if layer_id not in written:
                    written.add(layer_id)
                    tarpath = os.path.join(tmp, layer_id + ".tar")
                    with open(tarpath, "wb") as f:
                        decompress_blob(layout_dir, desc, f)
                    _tar_add_dir(tf, layer_id)
                    _tar_add_bytes(tf, f"{layer_id}/VERSION", b"1.0")
                    v1 = {"id": layer_id}
                    if parent:
                        v1["parent"] = parent
                    v1["created"] = "1970-01-01T00:00:00Z"
                    _tar_add_bytes(tf, f"{layer_id}/json", _json_bytes(v1))
                    _tar_add_file(tf, f"{layer_id}/layer.tar", tarpath)
                    os.unlink(tarpath)
                layer_names.append(f"{layer_id}/layer.tar")
                parent = layer_id
            if cfg_name not in written:
                written.add(cfg_name)
                _tar_add_bytes(tf, cfg_name, cfg_bytes)
            manifest_json.append({"Config": cfg_name, "RepoTags": [repo_tag], "Layers": layer_names})
            repo, tag = _split_repo_tag(repo_tag)
            repositories.setdefault(repo, {})[tag] = parent
        _tar_add_bytes(tf, "manifest.json", _json_bytes(manifest_json))
        _tar_add_bytes(tf, "repositories", _json_bytes(repositories))


def docker_archive_legacy(layout_dir, out_file, repo_tag, *, ref=None):
    docker_archive_legacy_images(out_file, [(layout_dir, ref, repo_tag)])


def docker_archive_v25(layout_dir, out_file, repo_tag, *, ref=None):
    """A `docker save` archive as Docker >= 25 writes it: an OCI layout whose layers are
    uncompressed tars (so blob digest == diff_id), plus manifest.json pointing into blobs/
    and the legacy `repositories` file."""
    manifest = get_manifest(layout_dir, ref)
    cfg_digest = manifest["config"]["digest"]
    cfg_bytes = read_blob(layout_dir, cfg_digest)
    repo, tag = _split_repo_tag(repo_tag)
    with tempfile.TemporaryDirectory(prefix="ocilayout-v25-") as tmp:
        lay = os.path.join(tmp, "layout")
        write_oci_layout_file(lay)
        cd = write_blob(lay, cfg_bytes)
        layer_descs = []
        for desc in manifest["layers"]:
            tarpath = os.path.join(tmp, "layer.tar")
            with open(tarpath, "wb") as f:
                decompress_blob(layout_dir, desc, f)
            d = add_layer_blob(lay, tarpath, "none")
            os.unlink(tarpath)
            layer_descs.append({"mediaType": MT_LAYER_TAR, "digest": d["digest"], "size": d["size"]})
        m = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
             "config": {"mediaType": MT_CONFIG, "digest": cd["digest"], "size": cd["size"]},
             "layers": layer_descs}
        md = write_json_blob(lay, m)
        full = repo if "/" in repo else f"docker.io/library/{repo}"
        save_index(lay, {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
            {"mediaType": MT_MANIFEST, "digest": md["digest"], "size": md["size"],
             "annotations": {"io.containerd.image.name": f"{full}:{tag}", REF_NAME: tag}}]})
        with open(os.path.join(lay, "manifest.json"), "wb") as f:
            f.write(_json_bytes([{"Config": "blobs/sha256/" + cd["digest"].split(":")[1],
                                  "RepoTags": [repo_tag],
                                  "Layers": ["blobs/sha256/" + d["digest"].split(":")[1] for d in layer_descs]}]))
        top = hashlib.sha256(layer_descs[-1]["digest"].encode()).hexdigest() if layer_descs else ""
        with open(os.path.join(lay, "repositories"), "wb") as f:
            f.write(_json_bytes({repo: {tag: top}}))
        oci_archive(lay, out_file)
    return {"manifest_digest": md["digest"], "config_digest": cd["digest"]}


# --------------------------------------------------------------------------- busybox

BUSYBOX = "/bin/busybox"
BUSYBOX_APPLETS = ["sh", "ls", "cat", "echo", "mkdir", "rm", "cp", "mv", "ln", "uname", "mount",
                   "umount", "true", "false", "sleep", "ps", "grep", "wc", "stat", "id", "env",
                   "poweroff", "reboot", "ip", "ifconfig", "udhcpc", "hostname", "dmesg"]
FIXED_MTIME = 1704067200  # 2024-01-01T00:00:00Z


def busybox_layer_tar(out_path, busybox=BUSYBOX):
    """A one-layer busybox root: /bin/busybox (Debian's busybox-static) + applet symlinks,
    /sbin/init, /etc/passwd|group|hostname, /tmp (1777), /root (0700), /dev /proc /sys.
    Deterministic (fixed owners and mtimes)."""
    if not os.path.exists(busybox):
        raise FileNotFoundError(f"{busybox} not found (apt-get install busybox-static)")

    def ti(name, type_, mode, size=0, linkname=""):
        t = tarfile.TarInfo(name)
        t.type, t.mode, t.size, t.linkname = type_, mode, size, linkname
        t.mtime, t.uid, t.gid, t.uname, t.gname = FIXED_MTIME, 0, 0, "root", "root"
        return t

    with tarfile.open(out_path, "w", format=tarfile.PAX_FORMAT) as tf:
        for d, mode in [("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555),
                        ("root", 0o700), ("sbin", 0o755), ("sys", 0o555), ("tmp", 0o1777),
                        ("usr", 0o755), ("usr/bin", 0o755), ("var", 0o755)]:
            tf.addfile(ti(d, tarfile.DIRTYPE, mode))
        with open(busybox, "rb") as f:
            tf.addfile(ti("bin/busybox", tarfile.REGTYPE, 0o755, os.path.getsize(busybox)), f)
        for a in BUSYBOX_APPLETS:
            tf.addfile(ti(f"bin/{a}", tarfile.SYMTYPE, 0o777, linkname="busybox"))
        tf.addfile(ti("sbin/init", tarfile.SYMTYPE, 0o777, linkname="../bin/busybox"))
        for name, data in [("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", b"root:x:0:\n"),
                           ("etc/hostname", b"busybox\n")]:
            tf.addfile(ti(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))


def make_busybox_layout(out_dir, *, tag="latest", compression="gzip",
                        platform=("linux", "amd64", None)) -> dict:
    """An OCI layout of a busybox image (one layer, Cmd ["/bin/sh"])."""
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ocilayout-bb-") as tmp:
        t = os.path.join(tmp, "busybox.tar")
        busybox_layer_tar(t)
        return build_layout(out_dir, [t], tag=tag, compression=compression, platform=platform,
                            config={"Cmd": ["/bin/sh"]})


# --------------------------------------------------------------------------- CLI

def _parse_platform(s):
    parts = s.split("/")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError(f"platform must be OS/ARCH[/VARIANT], got {s!r}")
    return (parts[0], parts[1], parts[2] if len(parts) == 3 else None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build an OCI layout from uncompressed layer tars")
    b.add_argument("--out", required=True)
    b.add_argument("--tag", default="latest")
    b.add_argument("--compression", default="gzip", choices=COMPRESSIONS)
    b.add_argument("--entrypoint", type=json.loads)
    b.add_argument("--cmd", dest="cmd_", type=json.loads)
    b.add_argument("--env", action="append", default=[])
    b.add_argument("--user")
    b.add_argument("--workdir")
    b.add_argument("--created", default=DEFAULT_CREATED, help="the config's created time (RFC 3339)")
    b.add_argument("--platform", type=_parse_platform, default=("linux", "amd64", None))
    b.add_argument("layers", nargs="+")

    bb = sub.add_parser("busybox", help="build a busybox OCI layout from /bin/busybox")
    bb.add_argument("--out", required=True)
    bb.add_argument("--tag", default="latest")
    bb.add_argument("--compression", default="gzip", choices=COMPRESSIONS)

    oa = sub.add_parser("oci-archive", help="tar an OCI layout")
    oa.add_argument("--layout", required=True)
    oa.add_argument("--out", required=True)

    da = sub.add_parser("docker-archive", help="write a docker save archive from an OCI layout")
    da.add_argument("--layout", required=True)
    da.add_argument("--out", required=True)
    da.add_argument("--repo-tag", required=True)
    da.add_argument("--ref")
    da.add_argument("--v25", action="store_true", help="Docker >= 25 layout (OCI layout + manifest.json)")

    a = ap.parse_args(argv)
    if a.command == "build":
        config = {}
        if a.entrypoint is not None:
            config["Entrypoint"] = a.entrypoint
        if a.cmd_ is not None:
            config["Cmd"] = a.cmd_
        if a.env:
            config["Env"] = a.env
        if a.user:
            config["User"] = a.user
        if a.workdir:
            config["WorkingDir"] = a.workdir
        res = build_layout(a.out, a.layers, tag=a.tag, compression=a.compression,
                           config=config, platform=a.platform, created=a.created)
        res = {k: v for k, v in res.items() if k in ("manifest_digest", "config_digest", "layer_digests", "diff_ids")}
    elif a.command == "busybox":
        res = make_busybox_layout(a.out, tag=a.tag, compression=a.compression)
        res = {k: v for k, v in res.items() if k in ("manifest_digest", "config_digest", "layer_digests", "diff_ids")}
    elif a.command == "oci-archive":
        oci_archive(a.layout, a.out)
        res = {"out": a.out}
    else:
        if a.v25:
            res = docker_archive_v25(a.layout, a.out, a.repo_tag, ref=a.ref)
        else:
            docker_archive_legacy(a.layout, a.out, a.repo_tag, ref=a.ref)
            res = {"out": a.out}
    json.dump(res, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
