"""Issue 6, second half: disk formats hypervisors take. qcow2 is written natively and must
satisfy `qemu-img check` and equal the raw disk (`qemu-img compare`); the others come from
`qemu-img convert`."""

import json

import pytest

import boot
import e2e


@pytest.fixture(scope="module")
def image(tmp_path_factory, oci2disk):
    d = tmp_path_factory.mktemp("formats")
    source = boot.busybox_image(d / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo HELLO-FROM-CONTAINER; exit 7"]})
    raw = d / "disk.img"
    e2e.convert(source, raw, bootable=True)
    return source, raw


def qemu_img(*args):
    r = e2e.run(["qemu-img", *args])
    assert r.returncode == 0, e2e._show(r)
    return r.stdout.decode()


@pytest.mark.parametrize("fmt", ["qcow2", "vmdk", "vhdx", "vdi"])
def test_format_from_the_extension_holds_the_same_disk(image, work, fmt):
    source, raw = image
    out = work / f"disk.{fmt}"
    r = e2e.convert(source, out, "--json", bootable=True)
    summary = json.loads(r.stdout)
    assert summary["format"] == fmt
    info = json.loads(qemu_img("info", "--output=json", "-f", fmt, out))
    assert info["format"] == fmt
    assert info["virtual-size"] == raw.stat().st_size
    if fmt in ("qcow2", "vdi", "vhdx"):
        qemu_img("check", "-f", fmt, out)
    qemu_img("compare", "-f", "raw", "-F", fmt, raw, out)
    # inspect reads the disk through its format: the same partitions and files as the raw disk's.
    got, want = e2e.inspect_json(out, "--files"), e2e.inspect_json(raw, "--files")
    assert (got["format"], got["size"], got["fileSize"]) == (fmt, want["size"], out.stat().st_size), got
    assert got["partitions"] == want["partitions"] and got["diskIdentifier"] == want["diskIdentifier"]
    assert want["format"] == "raw" and len(want["partitions"]) == 2


def test_qcow2_stores_only_allocated_clusters_and_is_reproducible(image, work):
    source, raw = image
    a, b = work / "a.qcow2", work / "b.qcow2"
    e2e.convert(source, a, bootable=True)
    e2e.convert(source, b, "--format", "qcow2", bootable=True)
    assert a.read_bytes() == b.read_bytes()
    check = json.loads(qemu_img("check", "--output=json", a))
    assert check["check-errors"] == 0 and check.get("leaks", 0) == 0 and check.get("corruptions", 0) == 0
    # The busybox disk is mostly empty: the file holds only what the raw disk allocates.
    assert a.stat().st_size < raw.stat().st_size / 5
    assert a.stat().st_size <= e2e.allocated_bytes(raw) + (4 << 20)


def test_qcow2_of_a_data_disk(image, work):
    source, _ = image
    e2e.convert(source, work / "data.qcow2")  # --no-kernel: the root partition only
    qemu_img("check", work / "data.qcow2")
    qemu_img("convert", "-O", "raw", work / "data.qcow2", work / "back.img")
    e2e.e2fsck(work / "back.img", e2e.PART_OFFSET)


def test_run_boots_a_qcow2_disk(image, work):
    source, _ = image
    disk = work / "disk.qcow2"
    e2e.convert(source, disk, bootable=True)
    r = e2e.run([e2e.binary_path(), "run", disk], timeout=300)
    assert b"HELLO-FROM-CONTAINER" in r.stdout, e2e._show(r)
    assert r.returncode == 7


def test_containerdisk_is_an_oci_image_holding_the_qcow2_owned_by_qemu(image, work):
    e2e.need_root()
    source, raw = image
    e2e.convert(source, work / "disk.img", "--containerdisk", f"oci:{work / 'cd'}:v1", bootable=True)
    r = e2e.run(["skopeo", "inspect", f"oci:{work / 'cd'}:v1"])
    assert r.returncode == 0, e2e._show(r)
    assert json.loads(r.stdout)["Architecture"] == "amd64"
    root = e2e.umoci_unpack(work / "cd", "v1", work / "bundle")
    disk = root / "disk" / "disk.qcow2"
    st = disk.stat()
    assert (st.st_uid, st.st_gid) == (107, 107)
    qemu_img("check", disk)
    qemu_img("compare", "-f", "raw", "-F", "qcow2", work / "disk.img", disk)
    # Adding a second tag keeps the first; a qcow2 output (written directly) is what goes in.
    e2e.convert(source, work / "disk2.qcow2", "--containerdisk", f"oci:{work / 'cd'}:v2", bootable=True)
    index = json.loads((work / "cd" / "index.json").read_text())
    assert sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]) == ["v1", "v2"]
    root2 = e2e.umoci_unpack(work / "cd", "v2", work / "bundle2")
    assert (root2 / "disk" / "disk.qcow2").read_bytes() == (work / "disk2.qcow2").read_bytes()
    qemu_img("compare", "-f", "raw", "-F", "qcow2", work / "disk.img", root2 / "disk" / "disk.qcow2")
