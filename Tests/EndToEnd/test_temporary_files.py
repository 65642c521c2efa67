"""Temporary files are private and always cleaned (issue 11): a containerDisk layout's existing
index.json is never silently replaced, and its tag appears only with a committed disk; the
scratch files beside an output are gone after success, failure and Ctrl-C, including the
conversion `run SOURCE` does itself."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import boot
import e2e
import ocilayout
from tarbuild import Layer


def test_a_corrupt_containerdisk_index_is_an_error_and_stays(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    layout = work / "cd"
    layout.mkdir()
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    corrupt = b'{"schemaVersion": 2, "manifests": [ {"truncated'
    (layout / "index.json").write_bytes(corrupt)
    line = e2e.assert_convert_fails(source, work, names="layout", mentions=["index.json", "refusing to replace"],
                                    extra=("--containerdisk", f"oci:{layout}:v1"), bootable=True)
    assert (layout / "index.json").read_bytes() == corrupt, line
    assert sorted(os.listdir(layout)) == ["index.json", "oci-layout"], "refused before anything was written into it"


def test_a_containerdisk_leaves_only_content_addressed_blobs(work):
    source = boot.busybox_image(work / "layout", {"Cmd": ["/bin/true"]})
    layout = work / "cd"
    out = work / "out"
    out.mkdir()
    e2e.convert(source, out / "disk.img", "--containerdisk", f"oci:{layout}:v1", bootable=True)
    blobs = os.listdir(layout / "blobs" / "sha256")
    assert all(len(name) == 64 for name in blobs), blobs
    assert sorted(os.listdir(out)) == ["disk.img"], os.listdir(out)


def _big_image(work):
    # Enough incompressible data that converting it takes a moment to interrupt.
    layer = Layer().dir("bin").file("bin/true", b"#!", mode=0o755)
    for index in range(6):
        layer.file(f"data{index}", os.urandom(48 << 20))
    layout = work / "big"
    ocilayout.build_layout(layout, [layer.tobytes()], tag="t", compression="none", config={"Cmd": ["/bin/true"]})
    return f"oci:{layout}:t"


def test_ctrl_c_during_runs_own_conversion_leaves_no_temporary_files(work):
    cache = work / "cache"
    kernels = sorted((Path.home() / ".cache" / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    assert kernels, "scripts/setup downloads the default kernel"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), OCI2DISK_KERNEL_PACKAGE=str(kernels[-1]))
    source = _big_image(work)
    p = subprocess.Popen([str(e2e.binary_path()), "run", source], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    disks = cache / "oci2disk" / "disks"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None and not (disks.exists() and os.listdir(disks)):
        time.sleep(0.005)
    if p.poll() is not None:
        pytest.fail(f"run ended before its conversion could be interrupted: {p.communicate()}")
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 128 + signal.SIGINT, err
    assert os.listdir(disks) == [], f"left behind: {os.listdir(disks)}"
