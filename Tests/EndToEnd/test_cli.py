"""The command line itself: every command's help names the options the README documents, and
each invalid combination is refused before any work with one line naming the option, exit 64
(EX_USAGE, what swift-argument-parser gives a validation error), and no output file."""
from __future__ import annotations

import subprocess

import pytest

import e2e

HELP = {
    "convert": ["--output", "--platform", "--size", "--format", "--kernel-package", "--kernel", "--modules", "--no-kernel",
                "--init", "--cmd", "--entrypoint", "--env", "--user", "--grow-root", "--cloud-init", "--ssh-authorized-key",
                "--root-password-hash", "--root-password-file", "--login-user", "--containerdisk", "--quiet", "--json"],
    "run": ["--timeout", "--publish", "--memory", "--cpus", "--network", "--persist", "--bios-boot", "--qemu-arg", "--verbose"],
    "bundle": ["--output", "--rootless", "--force", "--cmd", "--user", "--platform"],
    "inspect": ["--files", "--json"],
}


def _oci2disk(*args):
    return subprocess.run([str(e2e.binary_path()), *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", list(HELP))
def test_help_names_the_documented_options(oci2disk, command):
    r = _oci2disk(command, "--help")
    assert r.returncode == 0, r.stderr
    missing = [option for option in HELP[command] if option not in r.stdout]
    assert not missing, f"{command} --help lacks {missing}"
    top = _oci2disk("--help")
    assert top.returncode == 0 and command in top.stdout


@pytest.mark.parametrize("args, mention", [
    (["convert", "x", "-o", "{out}", "--size", "lots"], "--size"),
    (["convert", "x", "-o", "{out}", "--label", "a-label-longer-than-16"], "--label"),
    (["convert", "x", "-o", "{out}", "--fs-uuid", "nope"], "--fs-uuid"),
    (["convert", "x", "-o", "{out}", "--platform", "linux"], "--platform"),
    (["convert", "x", "-o", "{out}", "--kernel", "/k", "--no-kernel"], "--no-kernel"),
    (["convert", "x", "-o", "{out}", "--modules", "/m"], "--modules"),
    (["convert", "x", "-o", "{out}", "--format", "ext4", "--cmd", "/bin/sh"], "--format ext4"),
    (["convert", "x", "-o", "{out}", "--root-password-hash", "h", "--root-password-file", "f"], "--root-password-file"),
    (["convert", "x", "-o", "{out}", "--env", "NOEQUALS"], "--env"),
    (["convert", "x", "-o", "{out}", "--creds", "nocolon"], "--creds"),
    (["run", "{out}", "-p", "eighty"], "-p"),
    (["run", "{out}", "--timeout", "0"], "--timeout"),
    (["run", "{out}", "--network", "none", "-p", "8080:80"], "--network none"),
    (["bundle", "x", "-o", "{out}", "--platform", "a/b/c/d"], "--platform"),
])
def test_invalid_options_are_refused_up_front(work, args, mention):
    out = work / "out.img"
    r = _oci2disk(*[a.replace("{out}", str(out)) for a in args])
    assert r.returncode == 64, (r.returncode, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines and mention in lines[0], r.stderr
    assert "Traceback" not in r.stderr and "Fatal error" not in r.stderr
    assert not out.exists() and list(work.iterdir()) == []


def test_a_bad_source_date_epoch_is_a_usage_error(work):
    out = work / "out.img"
    env = {"PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "yesterday"}
    r = subprocess.run([str(e2e.binary_path()), "convert", "oci:/nonexistent", "-o", str(out)], capture_output=True, text=True,
                       env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 64, r.stderr
    assert "SOURCE_DATE_EPOCH" in r.stderr.splitlines()[0] and "yesterday" in r.stderr.splitlines()[0]
    assert not out.exists()
