"""One user rule under `run` and under `runc` (issue 16): the guest init and the bundle writer
resolve an image's `User` / `--user` with the same code, and that code follows runc's rule
(libcontainer/user GetExecUser, which Docker applies). Checked three ways on one image:
the init's own plan (`oci2disk-init --print-plan`, no boot), the bundle's config.json, and
what the kernel reports for a process runc started from that bundle (/proc/self/status)."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

import e2e
import ocilayout
from tarbuild import Layer
from test_bundle import assert_bundle_fails, bundle, config_of, need_runc, runc_run

PASSWD = (b"root:x:0:0:root:/root:/bin/sh\n"
          b"app:x:1000:1000:App:/home/app:/bin/sh\n"
          b"svc:x:1001:1001::/srv:/bin/sh\n")
GROUP = (b"root:x:0:\n"
         b"app:x:1000:\n"
         b"svc:x:1001:svc\n"
         b"audio:x:29:app,svc\n"
         b"video:x:44:app\n"
         b"staff:x:50:\n")

# spec -> (uid, gid, supplementary gids): what runc/Docker give for this passwd and group.
CASES = {
    "app": (1000, 1000, [29, 44]),
    "1000": (1000, 1000, [29, 44]),        # a uid with an entry: that entry's groups too
    "svc": (1001, 1001, [1001, 29]),       # its own group lists it: in the list, as runc has it
    "app:staff": (1000, 50, []),           # a group given: no supplementary groups
    "1000:44": (1000, 44, []),
    "4242": (4242, 0, []),                 # no entry: gid 0, nothing else
    "": (0, 0, []),
}


def _init_binary() -> Path:
    # What scripts/build-init made (scripts/test boots the same one), else one installed beside oci2disk.
    for candidate in (e2e.REPO_ROOT / ".build-init" / "oci2disk-init", e2e.binary_path().parent / "oci2disk-init"):
        if candidate.exists():
            return candidate
    raise AssertionError("oci2disk-init is not built (scripts/build-init)")


def _init_plan(spec: str) -> tuple:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "root"
        (root / "etc").mkdir(parents=True)
        (root / "etc/passwd").write_bytes(PASSWD)
        (root / "etc/group").write_bytes(GROUP)
        config = Path(d) / "config"
        config.write_text("mode app\nroot-uuid 01234567-89ab-cdef-0123-456789abcdef\narg /bin/true\n"
                          + (f"user {spec}\n" if spec else ""))
        r = subprocess.run([str(_init_binary()), "--print-plan", str(config), "", str(root)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        plan = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
        groups = [int(g) for g in plan["groups"].split(",") if g]
        return int(plan["uid"]), int(plan["gid"]), groups


@pytest.fixture(scope="module")
def accounts_layout(tmp_path_factory, busybox_layout):
    """busybox with the accounts above, as a second layer."""
    d = tmp_path_factory.mktemp("accounts")
    base = d / "busybox.tar"
    ocilayout.busybox_layer_tar(base)
    accounts = Layer().dir("etc").file("etc/passwd", PASSWD).file("etc/group", GROUP).dir("home").dir("home/app").dir("srv")
    layout = d / "layout"
    ocilayout.build_layout(layout, [str(base), accounts.tobytes()], tag="t", config={"Cmd": ["/bin/sh"]})
    return layout


@pytest.mark.parametrize("spec", list(CASES))
def test_init_and_bundle_resolve_a_user_alike(work, accounts_layout, spec):
    uid, gid, extra = CASES[spec]
    assert _init_plan(spec) == (uid, gid, extra), "the init's plan"
    out = work / "bundle"
    bundle(f"oci:{accounts_layout}:t", out, *(["--user", spec] if spec else []))
    user = config_of(out)["process"]["user"]
    assert (user["uid"], user["gid"], user.get("additionalGids", [])) == (uid, gid, extra), "the bundle's config.json"


@pytest.mark.parametrize("spec", ["app", "1000", "svc", "app:staff"])
def test_runc_runs_the_bundle_with_those_ids(work, accounts_layout, spec):
    e2e.need_root()
    need_runc()
    uid, gid, extra = CASES[spec]
    out = work / "bundle"
    bundle(f"oci:{accounts_layout}:t", out, "--user", spec, "--cmd", json.dumps(["/bin/cat", "/proc/self/status"]))
    r = runc_run(out)
    assert r.returncode == 0, e2e._show(r)
    status = dict(line.split(":", 1) for line in r.stdout.decode().splitlines() if ":" in line)
    assert status["Uid"].split()[0] == str(uid)
    assert status["Gid"].split()[0] == str(gid)
    assert sorted(int(g) for g in status["Groups"].split()) == sorted(set(extra)), status["Groups"]


def test_account_files_that_cannot_be_read_stop_both(work):
    """Missing account files mean no entries; ones that cannot be read are errors under both,
    never "no users" (which would run a named user's process with other ids)."""
    # The init: /etc/passwd is a folder (read fails with EISDIR).
    root = work / "root"
    (root / "etc" / "passwd").mkdir(parents=True)
    config = work / "config"
    config.write_text("mode app\nroot-uuid 01234567-89ab-cdef-0123-456789abcdef\narg /bin/true\nuser 1000\n")
    r = subprocess.run([str(_init_binary()), "--print-plan", str(config), "", str(root)], capture_output=True, text=True)
    assert r.returncode == 1 and "/etc/passwd" in r.stderr, (r.returncode, r.stderr)
    # Without the files at all, numeric ids still resolve.
    (root / "etc" / "passwd").rmdir()
    r = subprocess.run([str(_init_binary()), "--print-plan", str(config), "", str(root)], capture_output=True, text=True)
    assert r.returncode == 0 and "uid 1000" in r.stdout, r.stderr
    # The bundle: an account file too large to be one.
    huge = Layer().dir("etc").file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n" + b"#" * (17 << 20))
    layout = work / "layout"
    ocilayout.build_layout(layout, [huge.tobytes()], tag="t", config={"Cmd": ["/bin/sh"], "User": "root"})
    assert_bundle_fails(f"oci:{layout}:t", work, mentions=["/etc/passwd", "too large"])
