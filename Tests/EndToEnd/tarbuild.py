"""Build OCI layer tars in code, entry by entry, in PAX format.

Everything a layer can carry is expressible here, including what tar(1) makes awkward:
xattrs (pax SCHILY.xattr.*; binary values ok), nanosecond / negative / post-2038 mtimes
(pax "mtime" written verbatim), non-UTF-8 names (pass bytes), uid/gid beyond ustar's
octal fields, devices, fifos, hard links, whiteouts, and hostile entries (raw()).

Paths are given without a leading "./"; bytes paths are kept byte-exact (tarfile is
used with utf-8 + surrogateescape, which round-trips arbitrary bytes and makes tarfile
emit hdrcharset=BINARY when needed).
"""

from __future__ import annotations

import io
import posixpath
import struct
import tarfile

DEFAULT_MTIME = 1700000000  # 2023-11-14T22:13:20Z
ENC = "utf-8"


def _s(p) -> str:
    """bytes/str path -> str for tarfile (surrogateescape keeps raw bytes)."""
    if isinstance(p, bytes):
        return p.decode(ENC, "surrogateescape")
    return p


def _b(p) -> bytes:
    if isinstance(p, str):
        return p.encode(ENC, "surrogateescape")
    return p


class ZeroReader:
    """A file-like object producing n zero bytes (a 256 MiB file without 256 MiB of RAM)."""

    def __init__(self, n):
        self.left = n

    def read(self, size=-1):
        if size < 0 or size > self.left:
            size = self.left
        size = min(size, 1 << 20)
        self.left -= size
        return bytes(size)


class ChunksReader:
    """File-like concatenation of (bytes | ('zeros', n)) pieces, streamed."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.cur = None

    def read(self, size=-1):
        out = bytearray()
        want = size if size >= 0 else 1 << 62
        while len(out) < want:
            if self.cur is None:
                if not self.pieces:
                    break
                p = self.pieces.pop(0)
                self.cur = ZeroReader(p[1]) if isinstance(p, tuple) else io.BytesIO(p)
            b = self.cur.read(min(want - len(out), 1 << 20))
            if not b:
                self.cur = None
                continue
            out += b
        return bytes(out)


def pieces_size(pieces):
    return sum(p[1] if isinstance(p, tuple) else len(p) for p in pieces)


# ---------------------------------------------------------------- xattr value encodings

def vfs_cap_v2(permitted: int, inheritable: int = 0, effective: bool = True) -> bytes:
    """security.capability value (struct vfs_cap_data, revision 2, little endian)."""
    magic = 0x02000000 | (1 if effective else 0)
    return struct.pack("<IIIII", magic, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF,
                       permitted >> 32, inheritable >> 32)


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ACL_UNDEFINED_ID = 0xFFFFFFFF


def posix_acl(entries) -> bytes:
    """system.posix_acl_* value in the Linux xattr form: version 2 header, then
    (tag u16, perm u16, id u32) entries. Give entries in canonical order (tag, id) so the
    kernel hands back the same bytes."""
    out = struct.pack("<I", 2)
    for tag, perm, id_ in entries:
        out += struct.pack("<HHI", tag, perm, ACL_UNDEFINED_ID if id_ is None else id_)
    return out


# ---------------------------------------------------------------- layers

class Layer:
    def __init__(self):
        self.entries = []  # (TarInfo, fileobj or None)

    # -- generic
    def _ti(self, path, type_, mode, uid, gid, mtime, xattrs, size=0, linkname=""):
        ti = tarfile.TarInfo(_s(path))
        ti.type = type_
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.uname = ti.gname = ""  # numeric ids only: nothing may map names via a passwd file
        ti.size = size
        ti.linkname = _s(linkname)
        if isinstance(mtime, str):
            # "sec.nsec" verbatim in the pax header (a float would lose the nanoseconds).
            ti.pax_headers["mtime"] = mtime
            ti.mtime = max(0, int(mtime.split(".")[0]))
        else:
            ti.mtime = mtime
        for name, value in (xattrs or {}).items():
            ti.pax_headers["SCHILY.xattr." + name] = _s(value if isinstance(value, bytes) else value.encode())
        return ti

    def raw(self, ti: tarfile.TarInfo, data: bytes | None = None):
        """Append an arbitrary TarInfo (for hostile or malformed entries)."""
        if data is not None:
            ti.size = len(data)
        self.entries.append((ti, io.BytesIO(data) if data is not None else None))
        return self

    def dir(self, path, mode=0o755, uid=0, gid=0, mtime=DEFAULT_MTIME, xattrs=None):
        self.entries.append((self._ti(path, tarfile.DIRTYPE, mode, uid, gid, mtime, xattrs), None))
        return self

    def file(self, path, data=b"", mode=0o644, uid=0, gid=0, mtime=DEFAULT_MTIME, xattrs=None):
        if isinstance(data, str):
            data = data.encode()
        if isinstance(data, list):  # pieces: bytes or ("zeros", n)
            ti = self._ti(path, tarfile.REGTYPE, mode, uid, gid, mtime, xattrs, size=pieces_size(data))
            self.entries.append((ti, ChunksReader(data)))
        else:
            ti = self._ti(path, tarfile.REGTYPE, mode, uid, gid, mtime, xattrs, size=len(data))
            self.entries.append((ti, io.BytesIO(data)))
        return self

    def zeros(self, path, size, mode=0o644, uid=0, gid=0, mtime=DEFAULT_MTIME):
        ti = self._ti(path, tarfile.REGTYPE, mode, uid, gid, mtime, None, size=size)
        self.entries.append((ti, ZeroReader(size)))
        return self

    def symlink(self, path, target, uid=0, gid=0, mtime=DEFAULT_MTIME):
        self.entries.append((self._ti(path, tarfile.SYMTYPE, 0o777, uid, gid, mtime, None, linkname=target), None))
        return self

    def hardlink(self, path, target, mode=0o644, uid=0, gid=0, mtime=DEFAULT_MTIME):
        # Give the same mode/owner/mtime as the target: a hard link shares the inode, and
        # which header "wins" is not something the tests want to depend on.
        self.entries.append((self._ti(path, tarfile.LNKTYPE, mode, uid, gid, mtime, None, linkname=target), None))
        return self

    def char(self, path, major, minor, mode=0o666, uid=0, gid=0, mtime=DEFAULT_MTIME):
        ti = self._ti(path, tarfile.CHRTYPE, mode, uid, gid, mtime, None)
        ti.devmajor, ti.devminor = major, minor
        self.entries.append((ti, None))
        return self

    def block(self, path, major, minor, mode=0o660, uid=0, gid=0, mtime=DEFAULT_MTIME):
        ti = self._ti(path, tarfile.BLKTYPE, mode, uid, gid, mtime, None)
        ti.devmajor, ti.devminor = major, minor
        self.entries.append((ti, None))
        return self

    def fifo(self, path, mode=0o644, uid=0, gid=0, mtime=DEFAULT_MTIME):
        self.entries.append((self._ti(path, tarfile.FIFOTYPE, mode, uid, gid, mtime, None), None))
        return self

    def whiteout(self, path, mtime=DEFAULT_MTIME):
        """Delete path (from lower layers): an empty file named dir/.wh.base."""
        d, base = posixpath.split(_b(path))
        name = posixpath.join(d, b".wh." + base)
        return self.file(name, b"", mode=0o644, mtime=mtime)

    def opaque(self, dirpath, mtime=DEFAULT_MTIME):
        """Hide everything lower layers put in dirpath."""
        return self.file(posixpath.join(_b(dirpath), b".wh..wh..opq"), b"", mtime=mtime)

    # -- output
    def write(self, path):
        with open(path, "wb") as f:
            self.write_to(f)
        return path

    def write_to(self, fileobj):
        with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT,
                          encoding=ENC, errors="surrogateescape") as tf:
            for ti, data in self.entries:
                if isinstance(data, io.BytesIO):
                    data.seek(0)
                tf.addfile(ti, data)

    def tobytes(self) -> bytes:
        if any(not isinstance(d, (io.BytesIO, type(None))) for _, d in self.entries):
            raise ValueError("streamed entries: use write(path)")
        buf = io.BytesIO()
        self.write_to(buf)
        return buf.getvalue()

    # -- bookkeeping for comparisons
    def paths(self):
        """(normalized bytes path without leading ./ or /, TarInfo) in tar order."""
        for ti, _ in self.entries:
            p = _b(ti.name)
            while p.startswith(b"./"):
                p = p[2:]
            yield p.strip(b"/"), ti


def _descendant(p: bytes, of: bytes) -> bool:
    return p == of or p.startswith(of + b"/")


def mtime_checked_dirs(layers) -> set:
    """Directories whose mtime must equal the value in the tar: listed explicitly in a
    layer, and not modified by a later layer that does not list them again (a later
    layer creating/deleting a child without re-listing the directory makes its mtime
    implementation-defined). Returned as "/"-rooted bytes paths."""
    explicit = set()
    for layer in layers:
        entries = list(layer.paths())
        listed = {p for p, ti in entries if ti.isdir()}
        touched, removed = set(), set()
        for p, ti in entries:
            parent, base = posixpath.split(p)
            if base == b".wh..wh..opq":
                removed |= {e for e in explicit if e.startswith(parent + b"/")}
            elif base.startswith(b".wh."):
                removed |= {e for e in explicit if _descendant(e, posixpath.join(parent, base[4:]))}
            elif not ti.isdir():
                removed |= {e for e in explicit if _descendant(e, p)}
            a = parent
            while a:
                if a not in listed:
                    touched.add(a)
                a = posixpath.dirname(a)
        explicit = ((explicit - removed) - touched) | listed
    return {b"/" + p for p in explicit}
