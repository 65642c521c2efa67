"""Disks nobody vetted (issue 11): a qcow2 that names a backing file or an external data file
is refused by `run` and `inspect` before QEMU or qemu-img opens it, so no host file reaches
the guest and no URL is fetched; a disk path with a comma still names that disk."""

import http.server
import json
import os
import shutil
import subprocess
import uuid

import pytest

import boot
import e2e


@pytest.fixture(scope="module")
def hello_qcow2(tmp_path_factory):
    boot.need_boot_tools()
    d = tmp_path_factory.mktemp("hostile-run")
    source = boot.busybox_image(d / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo SELF-CONTAINED; exit 3"]})
    e2e.convert(source, d / "disk.qcow2", bootable=True)
    return d / "disk.qcow2"


class _Counting(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Counting.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def web():
    _Counting.requests = []
    server = e2e.serve_http(_Counting)
    yield server.server_address[1], _Counting.requests
    server.shutdown()
    server.server_close()


def _overlay(work, backing, fmt="raw"):
    disk = work / f"overlay-{uuid.uuid4().hex[:6]}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", fmt, str(disk), "64M"], check=True)
    return disk


def _refused(args, disk, name, kind="backing file"):
    r = e2e.run([e2e.binary_path(), *args], timeout=120)
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1, e2e._show(r)
    assert len(lines) == 1 and lines[0].startswith("error:"), e2e._show(r)
    assert kind in lines[0] and name in lines[0] and str(disk) in lines[0], lines[0]
    assert r.stdout == b"" or args[0] == "inspect", e2e._show(r)


def test_a_backing_file_on_the_host_never_reaches_the_guest(work, tmp_path):
    secret = tmp_path / f"id_rsa-{uuid.uuid4().hex[:6]}"
    secret.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + b"x" * 4096)
    disk = _overlay(work, str(secret))
    before = secret.stat().st_atime_ns
    _refused(["run", str(disk)], disk, secret.name)
    _refused(["inspect", str(disk)], disk, secret.name)
    _refused(["inspect", str(disk), "--files"], disk, secret.name)
    # Not even opened (relatime would show a first read after a write).
    assert secret.stat().st_atime_ns == before


def test_a_backing_url_is_never_requested(work, web):
    port, requests = web
    for url in (f"http://127.0.0.1:{port}/disk.raw", f'json:{{"file.driver":"http","file.url":"http://127.0.0.1:{port}/j"}}'):
        disk = _overlay(work, url)
        _refused(["run", str(disk), "--timeout", "30"], disk, "127.0.0.1")
        _refused(["inspect", str(disk)], disk, "127.0.0.1")
    assert requests == [], requests


def test_an_external_data_file_is_refused(work, tmp_path):
    data = tmp_path / "host-data.raw"
    disk = work / "external.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", f"data_file={data}", str(disk), "64M"], check=True)
    _refused(["run", str(disk)], disk, "host-data.raw", kind="external data file")
    _refused(["inspect", str(disk)], disk, "host-data.raw", kind="external data file")


def test_a_qcow2_that_convert_wrote_runs_and_a_comma_in_its_path_is_kept(hello_qcow2, tmp_path):
    # QEMU splits -drive options at commas: "a,file=/etc/shadow" must stay one file name.
    odd = tmp_path / "with,comma,format=raw.qcow2"
    shutil.copyfile(hello_qcow2, odd)
    r = e2e.run([e2e.binary_path(), "run", str(odd)], timeout=240)
    assert b"SELF-CONTAINED" in r.stdout, e2e._show(r)
    assert r.returncode == 3, e2e._show(r)


def _fat_with_shared_clusters(work, copies=200):
    """A disk whose FAT boot partition lists one 6 MiB file under `copies` names, all
    pointing at the same clusters (a crafted directory: fsck.fat would call them cross-linked)."""
    import struct
    part = work / "fat.part"
    subprocess.run(["mkfs.fat", "-C", "-n", "BOOT", str(part), str(7 * 1024)], check=True, capture_output=True)
    payload = work / "big.bin"
    payload.write_bytes(bytes(range(256)) * (6 * 4096))
    subprocess.run(["mcopy", "-i", str(part), str(payload), "::/BIG.BIN"], check=True)
    data = bytearray(part.read_bytes())
    sector, reserved, fats, roots, per_fat = (struct.unpack_from("<H", data, 11)[0], struct.unpack_from("<H", data, 14)[0], data[16],
                                              struct.unpack_from("<H", data, 17)[0], struct.unpack_from("<H", data, 22)[0])
    root = (reserved + fats * per_fat) * sector
    entries = [data[root + 32 * i: root + 32 * i + 32] for i in range(roots)]
    big = next(i for i, e in enumerate(entries) if bytes(e[:11]) == b"BIG     BIN")
    for n in range(copies):
        slot = big + 1 + n
        entry = bytearray(entries[big])
        entry[:11] = f"F{n:03d}    BIN".encode()
        data[root + 32 * slot: root + 32 * slot + 32] = entry
    part.write_bytes(bytes(data))
    disk = work / "shared.img"
    with open(disk, "wb") as f:
        mbr = bytearray(512)
        mbr[446:462] = bytes([0x80, 0, 0, 0, 0x0E, 0, 0, 0]) + struct.pack("<II", 2048, len(data) // 512)
        mbr[510:512] = b"\x55\xaa"
        f.write(mbr)
        f.seek(2048 * 512)
        f.write(bytes(data))
    return disk


def test_inspect_reads_fat_sizes_from_a_listing_without_scratch_space(work):
    disk = _fat_with_shared_clusters(work)
    # No usable $TMPDIR: copying the partition's files out (1.2 GB here) is not an option.
    r = e2e.run([e2e.binary_path(), "inspect", disk, "--files", "--json"], env={"TMPDIR": str(work / "no-such-folder")})
    assert r.returncode == 0, e2e._show(r)
    assert not (work / "no-such-folder").exists(), "inspect made a scratch folder"
    report = json.loads(r.stdout)
    entries = report["partitions"][0]["filesystem"]["entries"]
    assert len(entries) == 201
    assert {e["size"] for e in entries} == {6 * 1024 * 1024}
    assert {e["path"] for e in entries} >= {"/BIG.BIN", "/F000.BIN", "/F199.BIN"}


def test_inspect_of_deeply_nested_long_names_stays_small(work):
    # 1,200 folders, each a 255-byte name inside the last: 150 MB of paths if each were kept.
    image = work / "nested.ext4"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-F", str(image), "64M"], check=True)
    name = "n" * 255
    script = work / "mkdirs"
    script.write_text("".join(f"mkdir {name}\ncd {name}\n" for _ in range(1200)))
    subprocess.run(["debugfs", "-w", "-f", str(script), str(image)], check=True, capture_output=True)
    r = subprocess.run(["/usr/bin/time", "-f", "%M", str(e2e.binary_path()), "inspect", str(image), "--json"], capture_output=True)
    assert r.returncode == 0, r.stderr
    peak = int(r.stderr.decode().strip().splitlines()[-1])
    assert json.loads(r.stdout)["partitions"][0]["filesystem"]["files"] == 1202  # and /lost+found
    assert peak < 64 * 1024, f"peak RSS {peak} KiB"


def test_a_vmdk_descriptor_naming_host_files_is_never_followed(work):
    """A text VMDK lists its data as other files ("extents"): inspect refuses it before
    qemu-img could open one. The extent here is a FIFO, so any open for reading would hang."""
    fifo = work / f"extent-{uuid.uuid4().hex[:6]}"
    os.mkfifo(fifo)
    disk = work / "hostile.vmdk"
    disk.write_text('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n'
                    f'RW 131072 FLAT "{fifo}" 0\n\nddb.virtualHWVersion = "4"\n')
    r = e2e.run([e2e.binary_path(), "inspect", disk], timeout=60)
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1 and len(lines) == 1 and "descriptor" in lines[0] and str(disk) in lines[0], e2e._show(r)
