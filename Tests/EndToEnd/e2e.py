"""Helpers for the end-to-end tests: running oci2disk, reading disks back, and the
independent reference (umoci unpack) to compare against."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import traceback
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(REPO_ROOT / "scripts" / "lib"))

import ocilayout  # noqa: E402  (scripts/lib, shared with the benchmark scripts)

PART_OFFSET = 1048576  # partition 1 starts at LBA 2048
MiB = 1 << 20


def binary_path() -> Path:
    return Path(os.environ.get("OCI2DISK") or REPO_ROOT / ".build" / "release" / "oci2disk")


def is_root() -> bool:
    return os.geteuid() == 0


def need_root():
    # Loop mounts, umoci unpack with real owners/devices/xattrs: only root can do these.
    if not is_root():
        pytest.skip("needs root (loop mount / umoci unpack with owners, devices, xattrs); CI runs as root")


def need_tool(name):
    if shutil.which(name) is None:
        pytest.fail(f"required tool {name!r} not on PATH (apt-get install it; see .ci)")


# ---------------------------------------------------------------- running

def run(args, *, env=None, cwd=None, timeout=600, input=None):
    full_env = dict(os.environ)
    full_env.pop("SOURCE_DATE_EPOCH", None)
    if env:
        full_env.update(env)
    return subprocess.run([str(a) for a in args], capture_output=True, env=full_env, cwd=cwd,
                          timeout=timeout, input=input)


# A progress line: a stage name padded to nine columns, then what it did (`layer    1/2 …`).
# Printed on standard error when it is not a terminal (CI logs), unless --quiet or --json.
PROGRESS_LINE = re.compile(r"^(?=[a-z0-9 ]{9})[a-z0-9]{1,8} +\S")


def stderr_lines(r) -> list[str]:
    """The non-empty standard-error lines that are not progress lines: the errors, warnings
    and notes a test is about."""
    text = r.stderr.decode(errors="replace") if isinstance(r.stderr, bytes) else r.stderr
    return [l for l in text.splitlines() if l.strip() and not PROGRESS_LINE.match(l)]


def _show(r) -> str:
    return (f"exit {r.returncode}\n--- stdout\n{r.stdout.decode(errors='replace')[-4000:]}"
            f"\n--- stderr\n{r.stderr.decode(errors='replace')[-4000:]}")


BOOT_FLAGS = ("--kernel-package", "--kernel", "--kernel-image", "--init", "--cmd", "--entrypoint", "--env", "--workdir", "--user",
              "--hostname", "--append")


def data_disk(extra, bootable=False):
    """These tests check the root filesystem as issue 2 defines it (partition 1 at 1 MiB):
    unless a test asks for booting, it converts with --no-kernel (a data disk)."""
    if bootable or any(str(a).split("=")[0] in BOOT_FLAGS for a in extra) or "--no-kernel" in extra:
        return list(extra)
    return [*extra, "--no-kernel"]


def convert(source, out, *extra, env=None, cwd=None, bootable=False):
    """Run `oci2disk convert` and insist it succeeds."""
    r = run([binary_path(), "convert", source, "-o", out, *data_disk(extra, bootable)], env=env, cwd=cwd)
    if r.returncode != 0:
        pytest.fail(f"oci2disk convert {source} failed:\n{_show(r)}")
    return r


def inspect_json(disk, *extra):
    r = run([binary_path(), "inspect", disk, "--json", *extra])
    if r.returncode != 0:
        pytest.fail(f"oci2disk inspect {disk} failed:\n{_show(r)}")
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        pytest.fail(f"inspect --json output is not JSON ({e}):\n{_show(r)}")


# ---------------------------------------------------------------- reading disks

def e2fsck(image, offset=None):
    """e2fsck -fn must find nothing to fix (exit 0). `IMAGE?offset=N` is e2fsprogs' own
    syntax for a filesystem inside a file, so no loop device is needed."""
    spec = f"{image}?offset={offset}" if offset else str(image)
    r = subprocess.run(["e2fsck", "-fn", spec], capture_output=True)
    assert r.returncode == 0, f"e2fsck -fn {spec} exit {r.returncode}:\n{r.stdout.decode(errors='replace')}{r.stderr.decode(errors='replace')}"


def debugfs_cat(image, path, offset=None) -> bytes:
    spec = f"{image}?offset={offset}" if offset else str(image)
    r = subprocess.run(["debugfs", "-R", f"cat {path}", spec], capture_output=True)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout


@contextlib.contextmanager
def mounted(image, offset=None):
    """Loop-mount an ext4 image read-only; always unmounted again."""
    need_root()
    mnt = tempfile.mkdtemp(prefix="oci2disk-mnt-")
    opts = "ro,loop" + (f",offset={offset}" if offset else "")
    r = subprocess.run(["mount", "-t", "ext4", "-o", opts, str(image), mnt], capture_output=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        pytest.fail(f"mount -o {opts} {image} failed: {r.stderr.decode(errors='replace')}")
    try:
        yield Path(mnt)
    finally:
        r = subprocess.run(["umount", mnt], capture_output=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        with contextlib.suppress(OSError):
            os.rmdir(mnt)


def parse_mbr(path):
    with open(path, "rb") as f:
        mbr = f.read(512)
    assert len(mbr) == 512, "disk shorter than one sector"
    assert mbr[510:512] == b"\x55\xaa", f"no MBR signature: {mbr[510:512].hex()}"
    parts = []
    for i in range(4):
        e = mbr[446 + 16 * i: 446 + 16 * (i + 1)]
        boot, ptype = e[0], e[4]
        start, count = struct.unpack("<II", e[8:16])
        if ptype:
            parts.append({"index": i + 1, "boot": boot, "type": ptype, "start": start * 512, "size": count * 512})
    return parts


def blkid(path, offset=None) -> dict:
    args = ["blkid", "-p", "-o", "export"]
    if offset:
        args += ["-O", str(offset)]
    r = subprocess.run(args + [str(path)], capture_output=True, text=True)
    assert r.returncode == 0, f"blkid found nothing in {path}: {r.stderr}"
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def allocated_bytes(path) -> int:
    return os.stat(path).st_blocks * 512


# ---------------------------------------------------------------- reference

def umoci_unpack(layout, ref, dest) -> Path:
    """The reference tree: umoci (Go archive/tar + its own OCI layer applier, independent
    of oci2disk) unpacks the same layout as root, so owners, devices, modes and xattrs are
    applied for real."""
    need_root()
    need_tool("umoci")
    bundle = Path(dest)
    r = subprocess.run(["umoci", "unpack", "--image", f"{layout}:{ref}", str(bundle)],
                       capture_output=True, preexec_fn=lambda: os.umask(0o022))
    if r.returncode != 0:
        pytest.fail(f"reference umoci unpack failed (fixture bug?): {r.stderr.decode(errors='replace')}")
    return bundle / "rootfs"


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


_TYPES = [(stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"), (stat.S_ISCHR, "char"),
          (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket")]


def ftype(mode) -> str:
    for pred, name in _TYPES:
        if pred(mode):
            return name
    return "unknown"


def snapshot(root, *, content=True) -> dict:
    """lstat-walk a tree: {b"/path": {type, mode (12 bits), uid, gid, size, mtime_ns,
    target, rdev, xattrs {name: value}, sha256, ino, nlink}}."""
    root = os.fsencode(str(root))
    out = {}

    def walk(rel):
        full = root + rel
        st = os.lstat(full)
        t = ftype(st.st_mode)
        e = {"type": t, "mode": stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
             "mtime_ns": st.st_mtime_ns, "ino": st.st_ino, "nlink": st.st_nlink}
        if t != "dir":
            e["size"] = st.st_size
        if t == "file" and content:
            e["sha256"] = file_sha256(full)
        if t == "symlink":
            e["target"] = os.readlink(full)
        if t in ("char", "block"):
            e["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
        xa = {}
        for name in os.listxattr(full, follow_symlinks=False):
            xa[name] = os.getxattr(full, name, follow_symlinks=False)
        e["xattrs"] = xa
        out[rel or b"/"] = e
        if t == "dir":
            for name in sorted(os.listdir(full)):
                walk(rel + b"/" + name)

    walk(b"")
    return out


def _link_groups(snap):
    by_ino = {}
    for p, e in snap.items():
        if e["type"] != "dir":
            by_ino.setdefault(e["ino"], []).append(p)
    return {frozenset(v) for v in by_ino.values() if len(v) > 1}


def _fmt(v):
    if isinstance(v, dict):  # xattrs
        return {k: (v2[:40].hex() + ("..." if len(v2) > 40 else ""), len(v2)) for k, v2 in v.items()}
    return v


def compare_trees(ref, got, *, mtime_dirs=(), no_mtime=(), ignore_extra=(b"/lost+found",)):
    """Differences between the reference tree and the disk's tree, as readable lines.
    Directory mtimes are compared only for mtime_dirs (directories listed in the tar and
    not modified afterwards); the root's never."""
    diffs = []
    for p in sorted(set(ref) | set(got)):
        if p not in got:
            diffs.append(f"{p!r}: missing on disk (reference: {ref[p]['type']})")
            continue
        if p not in ref:
            if any(p == i or p.startswith(i + b"/") for i in ignore_extra):
                continue
            diffs.append(f"{p!r}: on disk but not in the image ({got[p]['type']})")
            continue
        r, g = ref[p], got[p]
        for k in ("type", "mode", "uid", "gid", "size", "target", "rdev", "sha256", "xattrs"):
            if r.get(k) != g.get(k):
                diffs.append(f"{p!r}: {k}: reference {_fmt(r.get(k))!r} disk {_fmt(g.get(k))!r}")
        if r["type"] != "dir" and r["nlink"] != g["nlink"]:
            diffs.append(f"{p!r}: nlink: reference {r['nlink']} disk {g['nlink']}")
        check_mtime = (p not in no_mtime) and (r["type"] != "dir" or (p in mtime_dirs and p != b"/"))
        if check_mtime and r["mtime_ns"] != g["mtime_ns"]:
            diffs.append(f"{p!r}: mtime_ns: reference {r['mtime_ns']} disk {g['mtime_ns']}")
    rg, gg = _link_groups(ref), _link_groups(got)
    for grp in sorted(rg - gg, key=sorted):
        diffs.append(f"hard-link group {sorted(grp)!r} in the reference is not one group on disk")
    for grp in sorted(gg - rg, key=sorted):
        diffs.append(f"hard-link group {sorted(grp)!r} on disk is not a group in the reference")
    return diffs


def assert_same_tree(ref, got, **kw):
    diffs = compare_trees(ref, got, **kw)
    assert not diffs, f"{len(diffs)} difference(s) between reference and disk:\n" + "\n".join(diffs[:80])


# ---------------------------------------------------------------- failures

def listing(d) -> dict:
    """Every file under d with size and sha256, to prove a failed run changed nothing."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(d):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, d)] = (stat.S_IFMT(st.st_mode), st.st_size,
                                          file_sha256(p) if stat.S_ISREG(st.st_mode) else None)
    return out


def assert_convert_fails(source, workdir, *, names=None, mentions=(), extra=(), cwd=None, bootable=False):
    """A conversion that must fail: exit 1, exactly one stderr line, starting with
    "error:", naming the source (`names`: default the source path's basename) and each
    of `mentions` (case-insensitive); no output file; a pre-existing output left
    byte-identical; nothing else created in the output directory. Run twice: without
    and with a pre-existing output. Returns the error line."""
    workdir = Path(workdir)
    outdir = workdir / f"out-{uuid.uuid4().hex[:8]}"
    outdir.mkdir()
    (outdir / "unrelated.txt").write_bytes(b"keep me\n")
    if names is None:
        path_part = source.split(":", 1)[1] if re.match(r"^(oci|oci-archive|docker-archive):", source) else source
        path_part = path_part.split(":", 1)[0]
        names = os.path.basename(path_part.rstrip("/"))
    line = None
    for existing in (False, True):
        out = outdir / "disk.img"
        if existing:
            out.write_bytes(b"PRE-EXISTING OUTPUT " * 1000)
        before = listing(outdir)
        r = run([binary_path(), "convert", source, "-o", out, *data_disk(extra, bootable)], cwd=cwd)
        lines = stderr_lines(r)
        errors = [l for l in lines if l.startswith("error:")]
        line = errors[0] if errors else (lines[0] if lines else "")
        # Collect every broken promise, so one run shows all of them.
        problems = []
        if r.returncode != 1:
            problems.append(f"exit code {r.returncode}, expected 1")
        if len(lines) != 1:
            problems.append(f"{len(lines)} non-empty stderr lines besides progress, expected exactly one")
        if not errors:
            problems.append("no stderr line starts with 'error:'")
        if names not in line:
            problems.append(f"error line does not name the source ({names!r})")
        for m in mentions:
            if m.lower() not in line.lower():
                problems.append(f"error line does not mention {m!r}")
        after = listing(outdir)
        if existing and after != before:
            problems.append(f"the output directory changed (existing output not left byte-identical?): "
                            f"{sorted(set(after.items()) ^ set(before.items()))}")
        if not existing and out.exists():
            problems.append("the output file was created")
        if not existing and after != before:
            problems.append(f"files left in the output directory: {sorted(set(after) - set(before))}")
        assert not problems, (f"source {source} (pre-existing output: {existing}): " + "; ".join(problems)
                              + "\n" + _show(r))
    return line


def verify_disk(disk, ref_snapshot, *, fmt="raw", mtime_dirs=(), no_mtime=(), expect=None):
    """e2fsck the filesystem, mount it, compare with the reference tree (and run the
    fixture's own expectations on the mounted tree)."""
    offset = PART_OFFSET if fmt == "raw" else None
    if fmt == "raw":
        parts = parse_mbr(disk)
        assert [p["start"] for p in parts] == [PART_OFFSET], f"partitions: {parts}"
    e2fsck(disk, offset)
    with mounted(disk, offset) as mnt:
        got = snapshot(mnt)
        expect_error = None
        if expect is not None:
            try:
                expect(mnt)
            except AssertionError as e:
                where = traceback.extract_tb(e.__traceback__)[-1]
                expect_error = f"expectation failed on the disk: {where.line} {e}"
    diffs = compare_trees(ref_snapshot, got, mtime_dirs=mtime_dirs, no_mtime=no_mtime)
    msgs = ([expect_error] if expect_error else []) + diffs[:80]
    assert not msgs, f"{len(diffs)} difference(s) between reference and disk:\n" + "\n".join(msgs)
    return got


def read_from_disk(disk, path, fmt="raw") -> bytes:
    """A file's bytes via debugfs (no mount, no root)."""
    return debugfs_cat(disk, path, PART_OFFSET if fmt == "raw" else None)


def hostile_leftovers(token, walk=(), top=()):
    """Paths whose name contains token: anywhere under `walk`, and directly in /, /tmp
    and each of `top` (not walked: the repo's .build is large)."""
    found = []
    for d in ("/", "/tmp", *top):
        with contextlib.suppress(OSError):
            found += [os.path.join(d, n) for n in os.listdir(d) if token in n]
    for d in walk:
        for dirpath, dirnames, filenames in os.walk(d):
            found += [os.path.join(dirpath, n) for n in dirnames + filenames if token in n]
    return found


def serve_http(handler, address="127.0.0.1"):
    """A threaded HTTP server for `handler` on a free port of `address`, serving in the
    background until the caller's `shutdown()`; `server_address[1]` is its port."""
    import threading
    from http.server import ThreadingHTTPServer
    server = ThreadingHTTPServer((address, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
