"""Issue 15: output that reads well in CI logs. With standard error not a terminal, each
finished stage is one plain line (no carriage return, no escape) saying what it did and how
long it took; on a terminal the running stage is a live line; --quiet prints nothing and
--json only the result."""

import json
import os
import pty
import re
import subprocess

import boot
import e2e

TIMED = re.compile(r"\(\d+\.\d\d s\)$")


def stage_lines(stderr: bytes):
    text = stderr.decode()
    assert "\r" not in text and "\x1b" not in text, repr(text)
    lines = [l for l in text.splitlines() if l.strip()]
    assert lines and all(e2e.PROGRESS_LINE.match(l) for l in lines), lines
    return lines


def test_a_bootable_qcow2_convert_logs_one_timed_line_per_stage(tmp_path):
    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", tmp_path / "disk.qcow2"])
    assert r.returncode == 0, e2e._show(r)
    lines = stage_lines(r.stderr)
    names = [l.split()[0] for l in lines]
    assert names == ["image", "layer", "boot", "ext4", "disk", "qcow2", "disk"], lines
    # Every stage that did work says how long it took; the last line gives the total.
    assert all(TIMED.search(l) for l in lines[:-1]), lines
    assert re.search(r"in \d+\.\d\d s$", lines[-1]) and "disk.qcow2 (qcow2" in lines[-1], lines
    assert "boot partition" in lines[4] and "kernel" in lines[2], lines


def test_a_data_disk_logs_no_boot_stage(busybox_layout, work):
    r = e2e.convert(f"oci:{busybox_layout[0]}:latest", work / "disk.img")
    lines = stage_lines(r.stderr)
    assert [l.split()[0] for l in lines] == ["image", "layer", "ext4", "disk", "disk"], lines
    assert "boot" not in lines[3] and "partition table" in lines[3], lines


def test_json_prints_no_progress(busybox_layout, work):
    r = e2e.convert(f"oci:{busybox_layout[0]}:latest", work / "disk.img", "--json")
    assert r.stderr == b"", e2e._show(r)
    assert json.loads(r.stdout)["format"] == "raw"


def test_bundle_logs_plain_lines_too(busybox_layout, work):
    r = e2e.run([e2e.binary_path(), "bundle", f"oci:{busybox_layout[0]}:latest", "-o", work / "bundle"])
    assert r.returncode == 0, e2e._show(r)
    assert [l.split()[0] for l in stage_lines(r.stderr)] == ["image", "layer", "rootfs", "bundle"]


def test_on_a_terminal_the_running_stage_is_a_live_line(busybox_layout, work):
    controller, terminal = pty.openpty()
    try:
        r = subprocess.run([str(e2e.binary_path()), "convert", f"oci:{busybox_layout[0]}:latest", "-o", str(work / "disk.img")],
                           stdout=subprocess.PIPE, stderr=terminal, timeout=120)
        os.close(terminal)
        terminal = -1
        output = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert r.returncode == 0
    assert b"\r\x1b[K" in output and b"reading" in output, output
