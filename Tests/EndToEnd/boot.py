"""Helpers for tests that boot disks under QEMU (software emulation: this machine's KVM
cannot run guests, and CI's may not either)."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import e2e
import ocilayout

EXIT_LINE = re.compile(rb"^oci2disk: exit status (\d+)\r?$", re.M)


def need_boot_tools():
    for tool in ("qemu-system-x86_64", "syslinux", "mformat"):
        e2e.need_tool(tool)


def busybox_image(out_dir, config, tag="latest"):
    """The busybox layer with a run configuration of our choosing."""
    with tempfile.TemporaryDirectory(prefix="bb-") as tmp:
        layer = Path(tmp) / "busybox.tar"
        ocilayout.busybox_layer_tar(str(layer))
        ocilayout.build_layout(out_dir, [str(layer)], tag=tag, config=config)
    return f"oci:{out_dir}:{tag}"


def qemu_bios_boot(disk, *, timeout=180, until=None, memory=512):
    """Boots the disk alone, as a hypervisor would: SeaBIOS, the MBR, SYSLINUX, kernel. Returns
    (QEMU exit code or None if stopped, console bytes). `until`: stop once this appears."""
    args = ["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-no-reboot", "-display", "none",
            "-machine", "pc,accel=tcg", "-m", str(memory), "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-drive", f"file={disk},if=virtio,format=raw,snapshot=on",
            "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    stopped = []

    def watch(output):
        if until is not None and until in output:
            stopped.append(True)
            return True
        return False

    try:
        output = _follow(process, timeout, watch, lambda: f"boot did not finish within {timeout} s")
        return (None if stopped else process.wait(timeout=30)), output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _follow(process, timeout, on_output, waiting):
    """Reads the process's stdout until it closes or `on_output(all output so far)` returns
    True; fails the test after `timeout` s with `waiting()` and the output's end."""
    import select, time
    output = b""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"{waiting()}; output:\n{output.decode(errors='replace')[-3000:]}")
        ready, _, _ = select.select([process.stdout], [], [], min(remaining, 1.0))
        if ready:
            chunk = process.stdout.read1(65536)
            if not chunk:
                return output
            output += chunk
        if on_output(output):
            return output


def exit_status(console):
    found = EXIT_LINE.findall(console)
    return int(found[-1]) if found else None


def converse(args, steps, *, timeout=600):
    """Runs `args` (e.g. `oci2disk run DISK`) with a pipe on stdin and answers its output:
    for each (expected, reply) in `steps`, waits until `expected` has appeared since the last
    step, then writes `reply`. Returns (exit code, all output) once the process ends."""
    process = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)
    state = {"seen": 0, "pending": list(steps)}

    def answer(output):
        pending = state["pending"]
        while pending and pending[0][0] in output[state["seen"]:]:
            expected, reply = pending.pop(0)
            state["seen"] = output.index(expected, state["seen"]) + len(expected)
            process.stdin.write(reply)
            process.stdin.flush()
        return False

    try:
        output = _follow(process, timeout, answer,
                         lambda: f"waited {timeout} s for {state['pending'][0][0] if state['pending'] else b'the end'!r}")
        return process.wait(timeout=60), output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
