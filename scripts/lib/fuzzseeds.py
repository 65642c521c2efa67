"""Seed inputs for scripts/fuzz, made at fuzz time from the same builders the tests use:
one folder per target under OUT. Small on purpose: libFuzzer's input size follows the seeds."""

import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "Tests" / "EndToEnd"))

import ocilayout  # noqa: E402
from tarbuild import Layer  # noqa: E402


def write(out, target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def layers(out):
    basic = Layer().dir("etc").file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n").symlink("bin", "usr/bin").dir("usr").dir("usr/bin")
    basic.file("usr/bin/tool", b"#!/bin/sh\n", mode=0o755).hardlink("usr/bin/alias", "usr/bin/tool")
    write(out, "layer", "basic.tar", basic.tobytes())
    whiteouts = Layer().dir("etc").file("etc/.wh.passwd", b"").dir("var").file("var/.wh..wh..opq", b"").file("var/new", b"n")
    write(out, "layer", "whiteouts.tar", whiteouts.tobytes())
    links = Layer().symlink("a", "b/c").symlink("b", "a/..").dir("d").file("a/x", b"through links")
    write(out, "layer", "symlinks.tar", links.tobytes())
    xattrs = Layer().file("cap", b"x", mode=0o755, xattrs={"security.capability": b"\x01\x00\x00\x02" + bytes(16), "user.note": b"hi"})
    write(out, "layer", "xattrs.tar", xattrs.tobytes())
    import gzip
    write(out, "layer", "basic.tar.gz", gzip.compress(basic.tobytes(), mtime=0))


def documents(out):
    with tempfile.TemporaryDirectory() as tmp:
        layout = Path(tmp) / "layout"
        ocilayout.build_layout(layout, [Layer().file("f", b"x").tobytes()], tag="t",
                               config={"Cmd": ["/bin/sh"], "Env": ["A=b"], "User": "1:2"})
        index = json.loads((layout / "index.json").read_text())
        write(out, "oci-json", "index.json", (layout / "index.json").read_bytes())
        manifest_digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = (layout / "blobs" / "sha256" / manifest_digest).read_bytes()
        write(out, "oci-json", "manifest.json", manifest)
        config_digest = json.loads(manifest)["config"]["digest"].split(":")[1]
        write(out, "oci-json", "config.json", (layout / "blobs" / "sha256" / config_digest).read_bytes())
    write(out, "oci-json", "docker-manifest.json",
          json.dumps([{"Config": "blobs/sha256/" + "a" * 64, "RepoTags": ["app:1"], "Layers": ["abc/layer.tar"]}]).encode())
    for name, text in [("digest", "sha256:" + "0" * 64), ("platform", "linux/arm64/v8"), ("reference", "127.0.0.1:5000/a/b:tag")]:
        write(out, "oci-json", name, text.encode())


def registry_auth(out):
    for index, header in enumerate([
            'Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"',
            'Basic realm="Registry Realm"',
            'Bearer realm="https://a/t",error="insufficient_scope", Basic realm="x", Negotiate',
            'Bearer realm="quoted \\" value",service=unquoted']):
        write(out, "registry-auth", f"challenge{index}", header.encode())
    write(out, "registry-auth", "token-answer", b'{"token": "abc", "access_token": "def", "expires_in": 300}')


def disks(out):
    mbr = bytearray(512)
    mbr[446:462] = bytes([0x80, 0, 0, 0, 0x0E, 0, 0, 0]) + struct.pack("<II", 2048, 65536)
    mbr[462:478] = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + struct.pack("<II", 67584, 1 << 20)
    mbr[510:512] = b"\x55\xaa"
    write(out, "mbr", "two-partitions", bytes(mbr))
    with tempfile.TemporaryDirectory() as tmp:
        plain, overlay, external = Path(tmp) / "plain.qcow2", Path(tmp) / "overlay.qcow2", Path(tmp) / "external.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(plain), "64M"], check=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "/etc/hostname", "-F", "raw", str(overlay), "64M"], check=True)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", f"data_file={tmp}/data.raw", str(external), "64M"], check=True)
        for path in (plain, overlay, external):
            write(out, "qcow2", path.name, path.read_bytes()[:4096])
        image = Path(tmp) / "small.ext4"
        root = Path(tmp) / "root"
        (root / "dir" / "sub").mkdir(parents=True)
        (root / "dir" / "file").write_bytes(b"data" * 100)
        os.symlink("dir/file", root / "link")
        subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(root), "-F", str(image), "1M"], check=True, capture_output=True)
        write(out, "ext4", "small.ext4", image.read_bytes())
    write(out, "fat-listing", "mdir", b"""Directory for ::/

vmlinuz       14190528 2026-12-04  14:28 
syslinux cfg         4 2026-12-04  14:28 
ALONGN~1 TXT         4 2026-12-04  14:28  a long name with spaces.txt
d            <DIR>     2026-12-04  14:27 
        4 files                  11 bytes
""")


def kernels(out):
    # The Debian kernel's setup header (first 64 KiB) and a crafted ELF; whole kernels are too big for seeds.
    debs = sorted((Path.home() / ".cache" / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    with tempfile.TemporaryDirectory() as tmp:
        if debs:
            subprocess.run(["dpkg-deb", "-x", str(debs[-1]), tmp], check=True)
            vmlinuz = sorted(Path(tmp, "boot").glob("vmlinuz-*"))[-1]
            write(out, "kernel", "bzimage-head", vmlinuz.read_bytes()[:65536])
            modules = sorted(Path(tmp, "lib", "modules").rglob("*.ko"))
            if modules:
                write(out, "kernel", "module.ko", modules[0].read_bytes()[:65536])
        root = Path(tmp) / "deb"
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text("Package: linux-image-fuzz\nVersion: 1\nArchitecture: amd64\nMaintainer: f <f@f>\nDescription: f\n")
        (root / "boot").mkdir()
        (root / "boot" / "vmlinuz-1.0").write_bytes(b"\0" * 600 + b"HdrS")
        (root / "lib" / "modules" / "1.0").mkdir(parents=True)
        (root / "lib" / "modules" / "1.0" / "modules.builtin").write_text("kernel/fs/ext4/ext4.ko\n")
        deb = Path(tmp) / "fuzz.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(root), str(deb)], check=True, capture_output=True)
        write(out, "deb", "tiny.deb", deb.read_bytes())
    elf = bytearray(128)
    elf[0:6] = b"\x7fELF\x02\x01"
    elf[0x12] = 62
    write(out, "kernel", "elf", bytes(elf))


def accounts(out):
    passwd = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
    shadow = b"root:*:19000:0:99999:7:::\n"
    group = b"root:x:0:\napp:x:1000:\n"
    write(out, "accounts", "debian", b"\0".join([passwd, shadow, group, b"ENCRYPT_METHOD YESCRYPT\n"]))
    write(out, "accounts", "busybox", b"root:x:0:0:root:/root:/bin/sh\n")
    write(out, "accounts", "odd", b"# c\nroot::0\napp:x:1000:1000::home:/bin/sh\n\0\0app:x:notanumber:\n")


def main():
    out = Path(sys.argv[1])
    for make in (layers, documents, registry_auth, disks, kernels, accounts):
        make(out)
    regressions = HERE.parent.parent / "Tests" / "FuzzInputs"
    for folder in regressions.glob("*"):
        for path in folder.glob("*"):
            write(out, folder.name, "regression-" + path.name, path.read_bytes())


if __name__ == "__main__":
    main()
