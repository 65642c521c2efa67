"""Images that exercise OCI layer rules, one small image per fixture.

Each fixture is a list of tarbuild.Layer plus
  expect(root): assertions about the final tree stated directly from the OCI image spec
                (run against the umoci reference first, to show the reference agrees
                with the spec, and then against the disk);
  no_mtime:     paths whose mtime is implementation-defined beyond what
                tarbuild.mtime_checked_dirs can see (directories modified through a
                symlinked parent).
"""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass, field
from typing import Callable

from tarbuild import (ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER, ACL_USER, ACL_USER_OBJ, Layer,
                      posix_acl, vfs_cap_v2)


@dataclass
class Fixture:
    layers: list
    expect: Callable | None = None
    no_mtime: set = field(default_factory=set)


def _rand(seed, n):
    return random.Random(seed).randbytes(n)


def _p(root, rel) -> bytes:
    return os.fsencode(str(root)) + b"/" + (rel if isinstance(rel, bytes) else rel.encode())


def _read(root, rel) -> bytes:
    with open(_p(root, rel), "rb") as f:
        return f.read()


def _exists(root, rel) -> bool:
    return os.path.lexists(_p(root, rel))


# ---------------------------------------------------------------- fixtures

def basic_types():
    """Every entry type, long names, implied parents, non-UTF-8 names, devices."""
    long_component = "n" * 251 + ".txt"  # 255 bytes: the ext4 limit
    long_target = ("t/" * 2047) + "x"    # 4095 bytes: the longest symlink Linux allows
    deep = "/".join(f"level_{i:02d}_with_a_longish_name" for i in range(30))  # > 100-byte path
    l = Layer()
    l.dir("etc").file("etc/hostname", "fixture\n")
    l.dir("bin").file("bin/tool", b"#!/bin/sh\necho hi\n", mode=0o755)
    l.symlink("bin/rel-link", "tool")
    l.symlink("bin/abs-link", "/etc/hostname")
    l.symlink("bin/dangling", "/does/not/exist")
    l.symlink("bin/long-target", long_target)
    l.dir("links")
    l.file("links/a", "shared content\n", mode=0o640, uid=7, gid=8)
    l.hardlink("links/b", "links/a", mode=0o640, uid=7, gid=8)
    l.hardlink("links/c", "links/a", mode=0o640, uid=7, gid=8)
    l.dir("dev")
    l.char("dev/null", 1, 3, mode=0o666)
    l.char("dev/max-dev", 4095, 1048575, mode=0o600)  # 12-bit major, 20-bit minor
    l.block("dev/loop0", 7, 0, mode=0o660, gid=6)
    l.block("dev/sda300", 8, 300, mode=0o660, gid=6)  # minor > 255: new dev_t encoding
    l.fifo("dev/initctl", mode=0o600)
    l.dir("empty-dir", mode=0o700)
    l.file("implied/parents/all/the/way/down.txt", "no dir entries above me\n")
    l.dir("long")
    l.file("long/" + long_component, "255-byte name\n")
    l.dir("long/" + "d" * 255)
    l.symlink("long/" + "s" * 255, long_component)
    l.file(deep + "/deep.txt", "deep\n")
    l.dir(b"caf\xe9-latin1")                       # not UTF-8
    l.file(b"caf\xe9-latin1/\x80\x81\xfe\xff", b"raw bytes name\n")
    l.file("utf8-\u00e9\u4e2d\U0001f600.txt", "utf-8 name\n")
    l.file("name with spaces & 'quotes'", "x")
    l.file("trailing-newline-name\n", "y")

    def expect(root):
        assert os.readlink(_p(root, "bin/long-target")) == long_target.encode()
        assert _read(root, "long/" + long_component) == b"255-byte name\n"
        a, b = os.lstat(_p(root, "links/a")), os.lstat(_p(root, "links/b"))
        assert a.st_ino == b.st_ino and a.st_nlink == 3
        st = os.lstat(_p(root, "dev/max-dev"))
        assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (4095, 1048575)
        assert _read(root, b"caf\xe9-latin1/\x80\x81\xfe\xff") == b"raw bytes name\n"
        assert _exists(root, "implied/parents/all/the/way/down.txt")

    return Fixture([l], expect)


def metadata():
    """Modes (all 12 bits), large ids, timestamps, xattrs."""
    l = Layer()
    l.dir("modes")
    l.file("modes/setuid", "x", mode=0o4755)
    l.file("modes/setgid", "x", mode=0o2755)
    l.file("modes/all-bits", "x", mode=0o7777)
    l.file("modes/none", "x", mode=0o000)
    l.file("modes/readonly", "x", mode=0o400)
    l.dir("modes/sticky", mode=0o1777)
    l.dir("modes/setgid-dir", mode=0o2775, gid=50)
    l.dir("modes/no-exec-dir", mode=0o644)
    l.dir("ids")
    l.file("ids/nobody", "x", uid=65534, gid=65534)
    l.file("ids/big", "x", uid=70000, gid=80000)              # > 16 bits
    l.file("ids/huge", "x", uid=3000000000, gid=4000000000)   # > ustar's 7 octal digits: pax
    l.symlink("ids/link", "big", uid=1234, gid=5678)
    l.dir("ids/dir", uid=100000, gid=100001)
    l.dir("times")
    l.file("times/nanos", "x", mtime="1700000000.123456789")
    l.file("times/epoch", "x", mtime=0)
    l.file("times/before-1970", "x", mtime="-1000000000.25")   # 1938
    l.file("times/after-2038", "x", mtime="4102444800.999999999")  # 2100
    # 2223: past 2^32 s. (Not past 2262: the reference, umoci, overflows int64 nanoseconds
    # there and clamps the time, so such a date cannot be checked against it.)
    l.file("times/far-future", "x", mtime=8000000000)
    l.symlink("times/link", "nanos", mtime="1600000000.5")
    l.dir("times/dir", mtime="1500000000.000000001")
    cap = vfs_cap_v2(permitted=1 << 10)  # cap_net_bind_service+ep
    acl = posix_acl([(ACL_USER_OBJ, 7, None), (ACL_USER, 4, 1000), (ACL_GROUP_OBJ, 5, None),
                     (ACL_MASK, 5, None), (ACL_OTHER, 4, None)])
    dacl = posix_acl([(ACL_USER_OBJ, 7, None), (ACL_GROUP_OBJ, 5, None), (ACL_OTHER, 5, None)])
    l.dir("xattrs", xattrs={"user.on-dir": b"dir value"})
    # No empty-valued xattr: readers disagree (Go's archive/tar, hence umoci, drops
    # "SCHILY.xattr.x=" as POSIX's "delete this keyword"; libarchive sets an empty xattr).
    l.file("xattrs/user", "x", xattrs={"user.comment": b"hello"})
    l.file("xattrs/binary", "x", xattrs={"user.bin": bytes(range(256))})
    l.file("xattrs/large", "x", xattrs={"user.large": _rand(1, 2000)})
    l.file("xattrs/many", "x", xattrs={f"user.k{i:02d}": f"v{i}".encode() for i in range(20)})
    l.file("xattrs/cap", "x", mode=0o755, xattrs={"security.capability": cap})
    # mode group bits == ACL mask, so applying the ACL does not change the mode.
    l.file("xattrs/acl", "x", mode=0o754, xattrs={"system.posix_acl_access": acl})
    # A default ACL only on an empty dir: children created under it while unpacking
    # the reference would otherwise inherit ACLs that the image does not contain.
    l.dir("xattrs/default-acl", mode=0o755, xattrs={"system.posix_acl_default": dacl})
    return Fixture([l])


def content():
    """File sizes around block boundaries, random data, zero runs (holes)."""
    l = Layer()
    l.dir("data")
    for n in (0, 1, 4095, 4096, 4097, 65536, 1048577):
        l.file(f"data/rand-{n}", _rand(n, n))
    l.zeros("data/zeros-3M", 3 * 1048576)
    l.file("data/hole-in-middle", [_rand(2, 5000), ("zeros", 2 * 1048576), _rand(3, 3000)])
    l.file("data/trailing-zeros", [_rand(4, 4096), ("zeros", 1048576)])
    l.file("data/leading-zeros", [("zeros", 1048576 + 17), b"tail"])
    l.file("data/ff", b"\xff" * 65536)

    def expect(root):
        assert _read(root, "data/rand-4097") == _rand(4097, 4097)
        assert os.path.getsize(_p(root, "data/zeros-3M")) == 3 * 1048576

    return Fixture([l], expect)


def whiteouts():
    """.wh. deletes files, directories (recursively), symlinks (not their targets), one
    name of a hard-link pair; a whiteout for a path that never existed is a no-op."""
    l1 = Layer()
    l1.dir("etc").file("etc/keep", "keep").file("etc/gone", "gone")
    l1.dir("tree").dir("tree/sub").file("tree/sub/f", "f").file("tree/g", "g")
    l1.file("target", "target").symlink("link", "target")
    l1.file("pair-a", "pair").hardlink("pair-b", "pair-a")
    l2 = Layer()
    l2.dir("etc", mtime=1700000100)
    l2.whiteout("etc/gone")
    l2.whiteout("tree")
    l2.whiteout("link")
    l2.whiteout("pair-b")
    l2.whiteout("never-existed")
    l2.dir("other").whiteout("other/nothing-here")

    def expect(root):
        assert _read(root, "etc/keep") == b"keep"
        for gone in ("etc/gone", "tree", "link", "pair-b"):
            assert not _exists(root, gone), gone
        assert _read(root, "target") == b"target"
        assert os.lstat(_p(root, "pair-a")).st_nlink == 1
        for dirpath, dirnames, filenames in os.walk(os.fsencode(str(root))):
            for n in dirnames + filenames:
                assert not n.startswith(b".wh."), f"whiteout marker left: {dirpath}/{n}"

    return Fixture([l1, l2], expect)


def whiteout_before_file():
    """A whiteout applies to lower layers only: the same layer may list `.wh.foo` before
    `foo`, and foo must then exist with the new content (same for a directory)."""
    l1 = Layer()
    l1.dir("etc").file("etc/foo", "old foo").file("etc/bar", "bar")
    l1.dir("d").file("d/a", "a").file("d/b", "b")
    l2 = Layer()
    l2.dir("etc", mtime=1700000200)
    l2.whiteout("etc/foo")
    l2.file("etc/foo", "new foo", mode=0o600)
    l2.whiteout("d")
    l2.dir("d", mode=0o750)
    l2.file("d/c", "c")

    def expect(root):
        assert _read(root, "etc/foo") == b"new foo"
        assert _read(root, "etc/bar") == b"bar"
        assert sorted(os.listdir(_p(root, "d"))) == [b"c"]

    return Fixture([l1, l2], expect)


def opaque():
    """.wh..wh..opq hides everything lower layers put in the directory, but nothing the
    same layer puts there (before or after the marker); the directory itself stays."""
    l1 = Layer()
    l1.dir("o", mode=0o755).file("o/a", "a").dir("o/sub").file("o/sub/x", "x")
    l1.dir("untouched").file("untouched/u", "u")
    l2 = Layer()
    l2.dir("o", mode=0o711, mtime=1700000300)
    l2.file("o/before-marker", "same layer, listed before the marker")
    l2.opaque("o")
    l2.file("o/new", "new")
    l3 = Layer()
    l3.dir("o", mode=0o711, mtime=1700000400)
    l3.file("o/from-l3", "l3")

    def expect(root):
        assert sorted(os.listdir(_p(root, "o"))) == [b"before-marker", b"from-l3", b"new"]
        assert _read(root, "untouched/u") == b"u"

    return Fixture([l1, l2, l3], expect)


def replace_types():
    """A later layer's entry replaces whatever type was there: file -> dir -> symlink and
    every other direction; a replaced directory loses its children."""
    l1 = Layer()
    l1.file("x", "x was a file")
    l1.dir("y").file("y/child", "child").dir("y/sub").file("y/sub/deep", "deep")
    l1.dir("target-dir").file("target-dir/t", "t")
    l1.symlink("z", "target-dir")
    l1.file("f2s", "file to symlink")
    l1.symlink("s2f", "target-dir")
    l1.fifo("fifo2file")
    l2 = Layer()
    l2.dir("x", mode=0o750).file("x/inside", "x is a dir now")      # file -> dir
    l2.file("y", "y is a file now")                                  # dir -> file
    l2.dir("z", mode=0o700).file("z/own", "z is a real dir now")     # symlink -> dir
    l2.symlink("f2s", "x")                                           # file -> symlink
    l2.file("s2f", "symlink to file")                                # symlink -> file
    l2.file("fifo2file", "was a fifo")
    l3 = Layer()
    l3.symlink("x", "y")                                             # dir -> symlink
    l3.dir("y", mode=0o755).file("y/again", "y is a dir again")      # file -> dir

    def expect(root):
        assert os.readlink(_p(root, "x")) == b"y"
        assert sorted(os.listdir(_p(root, "y"))) == [b"again"]
        assert not os.path.islink(_p(root, "z"))
        assert sorted(os.listdir(_p(root, "z"))) == [b"own"]
        assert sorted(os.listdir(_p(root, "target-dir"))) == [b"t"]  # not written through z
        assert os.readlink(_p(root, "f2s")) == b"x"
        assert _read(root, "s2f") == b"symlink to file"
        assert _read(root, "fifo2file") == b"was a fifo"

    return Fixture([l1, l2, l3], expect)


def hardlink_target_replaced():
    """Replacing a hard-linked name in a later layer gives it a new inode; the other name
    keeps the old content. A later layer may link to a lower layer's file."""
    l1 = Layer()
    l1.dir("h")
    l1.file("h/a", "original", mode=0o644)
    l1.hardlink("h/b", "h/a")
    l1.file("h/keep", "keep", mode=0o600)
    l2 = Layer()
    l2.dir("h", mtime=1700000500)
    l2.file("h/a", "replaced")
    l2.hardlink("h/keep-link", "h/keep", mode=0o600)  # target is in the lower layer

    def expect(root):
        assert _read(root, "h/a") == b"replaced"
        assert _read(root, "h/b") == b"original"
        a, b = os.lstat(_p(root, "h/a")), os.lstat(_p(root, "h/b"))
        assert a.st_ino != b.st_ino and a.st_nlink == 1 and b.st_nlink == 1
        k, kl = os.lstat(_p(root, "h/keep")), os.lstat(_p(root, "h/keep-link"))
        assert k.st_ino == kl.st_ino and k.st_nlink == 2

    return Fixture([l1, l2], expect)


def hardlink_special():
    """Hard links to non-regular files: a symlink, a fifo, a device."""
    l = Layer()
    l.dir("s")
    l.symlink("s/sym", "somewhere")
    l.hardlink("s/sym-link", "s/sym", mode=0o777)
    l.fifo("s/fifo", mode=0o600)
    l.hardlink("s/fifo-link", "s/fifo", mode=0o600)
    l.char("s/dev", 1, 5, mode=0o666)
    l.hardlink("s/dev-link", "s/dev", mode=0o666)

    def expect(root):
        assert os.lstat(_p(root, "s/sym")).st_ino == os.lstat(_p(root, "s/sym-link")).st_ino
        assert os.readlink(_p(root, "s/sym-link")) == b"somewhere"

    return Fixture([l], expect)


def usrmerge():
    """`bin -> usr/bin` in a lower layer, a later layer writing `bin/foo`: the write goes
    through the symlink into usr/bin, and bin stays a symlink (what Docker, containerd and
    umoci do, and what usrmerged base images rely on)."""
    l1 = Layer()
    l1.dir("usr").dir("usr/bin").file("usr/bin/base", "base")
    l1.symlink("bin", "usr/bin")
    l2 = Layer()
    l2.file("bin/foo", "foo via bin", mode=0o755)

    def expect(root):
        assert os.readlink(_p(root, "bin")) == b"usr/bin"
        assert _read(root, "usr/bin/foo") == b"foo via bin"
        assert _read(root, "usr/bin/base") == b"base"

    # usr/bin got a child through the symlink; its mtime is not the tar's any more.
    return Fixture([l1, l2], expect, no_mtime={b"/usr/bin"})


def symlink_scoped():
    """Symlinks are resolved inside the image root: an absolute symlink to /tmp and a
    relative one climbing past the root both stay in the image. The host is never written.
    (The host path checked is unique per run.)"""
    tag = uuid.uuid4().hex[:12]
    l1 = Layer()
    l1.dir("tmp", mode=0o1777).dir("etc")
    l1.symlink("abs", "/tmp")
    l1.symlink("up", "../../../../../../..")
    l2 = Layer()
    l2.file(f"abs/pwned-{tag}", "inside the image")
    l2.file(f"up/etc/escaped-{tag}", "inside the image too")

    def expect(root):
        assert _read(root, f"tmp/pwned-{tag}") == b"inside the image"
        assert _read(root, f"etc/escaped-{tag}") == b"inside the image too"
        assert not os.path.lexists(f"/tmp/pwned-{tag}"), "wrote to the host's /tmp"
        assert not os.path.lexists(f"/etc/escaped-{tag}"), "wrote to the host's /etc"

    return Fixture([l1, l2], expect, no_mtime={b"/tmp", b"/etc"})


def metadata_update():
    """A later layer re-listing a directory changes its metadata and keeps its children;
    re-listing a file replaces it whole (xattrs of the old one do not survive)."""
    l1 = Layer()
    l1.dir("d", mode=0o755, uid=1, gid=1, xattrs={"user.old": b"old"}).file("d/child", "child")
    l1.file("f", "f1", mode=0o644, uid=1, gid=1, xattrs={"user.old": b"old"})
    l2 = Layer()
    l2.dir("d", mode=0o700, uid=2, gid=3, mtime=1700000600, xattrs={"user.new": b"new"})
    l2.file("f", "f2", mode=0o600, uid=4, gid=5)

    def expect(root):
        assert _read(root, "d/child") == b"child"
        st = os.lstat(_p(root, "d"))
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o700, 2, 3)
        assert os.listxattr(_p(root, "f"), follow_symlinks=False) == []

    return Fixture([l1, l2], expect)


FIXTURES = {f.__name__: f for f in (basic_types, metadata, content, whiteouts, whiteout_before_file,
                                    opaque, replace_types, hardlink_target_replaced, hardlink_special,
                                    usrmerge, symlink_scoped, metadata_update)}
