"""`oci2disk bundle`: the image as an OCI runtime bundle (config.json + rootfs/).

- rootfs/ is compared file by file with `umoci unpack` of the same layout (the layer-rule
  fixtures of layerfixtures.py, e2e.snapshot/compare_trees);
- config.json carries the image's settings on top of what `runc spec` writes, and runc runs
  the bundle (as root, and rootless as an unprivileged user);
- hostile images (escaping symlinks, `..`, absolute names, hard links outside) write,
  delete and link nothing on the host;
- failures leave nothing behind: no DIR, no temporary folder beside it, an existing DIR
  untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import e2e
import ocilayout
from layerfixtures import FIXTURES
from tarbuild import Layer, mtime_checked_dirs

NOBODY = 65534
HELLO = ["/bin/sh", "-c", "echo HELLO-FROM-CONTAINER; exit 7"]


# ---------------------------------------------------------------- helpers

def bundle(source, out, *extra, prefix=(), env=None):
    """Run `oci2disk bundle` (optionally under `prefix`, e.g. setpriv) and insist it succeeds."""
    r = e2e.run([*prefix, e2e.binary_path(), "bundle", source, "-o", out, *extra], env=env)
    if r.returncode != 0:
        pytest.fail(f"oci2disk bundle {source} failed:\n{e2e._show(r)}")
    return r


def config_of(out) -> dict:
    with open(Path(out) / "config.json", "rb") as f:
        return json.load(f)


def as_nobody():
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def need_runc():
    e2e.need_tool("runc")


def runc_run(bundle_dir, *, prefix=(), root=None, timeout=120):
    """`runc run` the bundle under a unique container name; returns the CompletedProcess."""
    name = f"oci2disk-test-{uuid.uuid4().hex[:10]}"
    args = [*prefix, "runc"]
    if root:
        args += ["--root", str(root)]
    args += ["run", "-b", str(bundle_dir), name]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    try:
        return subprocess.run(args, capture_output=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        subprocess.run([*prefix, "runc", *(["--root", str(root)] if root else []), "delete", "-f", name],
                       capture_output=True, env=env)


@contextlib.contextmanager
def shared_dir(owner=NOBODY):
    """A scratch folder an unprivileged user can reach and own (pytest's tmp_path is 0700
    root); always removed."""
    d = Path(tempfile.mkdtemp(prefix="oci2disk-bundle-"))
    os.chmod(d, 0o755)
    os.chown(d, owner, owner)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def userns_works_unprivileged() -> str | None:
    """None if an unprivileged user can create a user namespace here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare(1) not installed"
    r = subprocess.run([*as_nobody(), "unshare", "--user", "--map-root-user", "true"], capture_output=True)
    if r.returncode != 0:
        return f"unprivileged user namespaces are unavailable here: {r.stderr.decode(errors='replace').strip()}"
    return None


def leftovers(parent, name):
    """Temporary folders `bundle` may have left beside the output."""
    return [n for n in os.listdir(parent) if n.startswith(f".{name}.oci2disk-")]


def assert_bundle_fails(source, workdir, *extra, names=None, mentions=(), existing=None):
    """`bundle` must fail: exit 1, one stderr line "error: ..." naming the source and each
    of `mentions`, no output folder (or an existing one untouched), nothing else left in
    the output's parent. `existing(out)` prepares a pre-existing output."""
    parent = Path(workdir) / f"out-{uuid.uuid4().hex[:8]}"
    parent.mkdir()
    (parent / "unrelated.txt").write_bytes(b"keep me\n")
    out = parent / "bundle"
    if existing:
        existing(out)
    before = e2e.listing(parent)
    r = e2e.run([e2e.binary_path(), "bundle", source, "-o", out, *extra])
    lines = e2e.stderr_lines(r)
    line = lines[0] if lines else ""
    if names is None:
        names = os.path.basename(source.split(":")[1] if source.startswith("oci:") else source)
    problems = []
    if r.returncode != 1:
        problems.append(f"exit code {r.returncode}, expected 1")
    if len(lines) != 1 or not line.startswith("error:"):
        problems.append(f"stderr is not exactly one 'error:' line: {lines!r}")
    if names not in line:
        problems.append(f"error line does not name the source ({names!r})")
    for m in mentions:
        if m.lower() not in line.lower():
            problems.append(f"error line does not mention {m!r}")
    if e2e.listing(parent) != before:
        problems.append(f"the output's folder changed: {sorted(set(e2e.listing(parent)) ^ set(before))}")
    assert not problems, "; ".join(problems) + "\n" + e2e._show(r)
    return line


def build_fixture(name, work):
    """The fixture's layout and umoci's unpacking of it (the reference)."""
    fx = FIXTURES[name]()
    layers = [l.write(work / f"layer{i}.tar") for i, l in enumerate(fx.layers)]
    layout = work / "layout"
    ocilayout.build_layout(layout, layers, tag="t1")
    root = e2e.umoci_unpack(layout, "t1", work / "umoci")
    return fx, layout, root


# ---------------------------------------------------------------- rootfs vs umoci

@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_rootfs_matches_umoci(name, work):
    e2e.need_root()
    fx, layout, ref_root = build_fixture(name, work)
    out = work / "bundle"
    bundle(f"oci:{layout}:t1", out)
    got = e2e.snapshot(out / "rootfs")
    e2e.assert_same_tree(e2e.snapshot(ref_root), got, mtime_dirs=mtime_checked_dirs(fx.layers), no_mtime=fx.no_mtime)
    if fx.expect:
        fx.expect(out / "rootfs")
    assert sorted(os.listdir(out)) == ["config.json", "rootfs"]
    assert stat.S_IMODE(os.lstat(out).st_mode) == 0o700, "the bundle folder must be private (setuid files, devices)"


def test_sparse_files_stay_sparse(work):
    e2e.need_root()
    fx = FIXTURES["content"]()
    layout = work / "layout"
    ocilayout.build_layout(layout, [l.write(work / f"l{i}.tar") for i, l in enumerate(fx.layers)], tag="t1")
    out = work / "bundle"
    bundle(f"oci:{layout}:t1", out)
    data = out / "rootfs" / "data"
    assert os.path.getsize(data / "zeros-3M") == 3 << 20
    assert e2e.allocated_bytes(data / "zeros-3M") == 0, "an all-zero file should be one hole"
    assert e2e.allocated_bytes(data / "hole-in-middle") <= 64 << 10, "the 2 MiB hole was filled in"
    assert e2e.allocated_bytes(data / "trailing-zeros") <= 64 << 10


# ---------------------------------------------------------------- config.json

def _runc_spec(work, rootless=False) -> dict:
    d = work / ("runc-spec-rootless" if rootless else "runc-spec")
    d.mkdir()
    r = subprocess.run(["runc", "spec", *(["--rootless"] if rootless else [])], cwd=d, capture_output=True)
    assert r.returncode == 0, r.stderr
    return json.loads((d / "config.json").read_text())


@pytest.mark.parametrize("rootless", [False, True], ids=["root", "rootless"])
def test_config_has_runc_spec_defaults(work, busybox_layout, rootless):
    """Mounts, namespaces, capabilities, rlimits, noNewPrivileges, masked and read-only
    paths, device rules and (rootless) id mappings are what `runc spec` writes."""
    need_runc()
    layout, _ = busybox_layout
    out = work / "bundle"
    bundle(f"oci:{layout}:latest", out, *(["--rootless"] if rootless else []))
    got, ref = config_of(out), _runc_spec(work, rootless)
    assert got["ociVersion"].startswith("1.0.")
    assert got["mounts"] == ref["mounts"]
    for key in ("capabilities", "rlimits", "noNewPrivileges"):
        assert got["process"][key] == ref["process"][key], key
    for key in ("namespaces", "maskedPaths", "readonlyPaths", "resources"):
        assert got["linux"].get(key) == ref["linux"].get(key), key
    if rootless:
        me = [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
        assert got["linux"]["uidMappings"] == me and got["linux"]["gidMappings"] == [dict(me[0], hostID=os.getegid())]
    else:
        assert "uidMappings" not in got["linux"]
    assert got["root"] == {"path": "rootfs", "readonly": False}
    assert got["process"]["terminal"] is False
    assert got["process"]["args"] == ["/bin/sh"]
    assert got["process"]["cwd"] == "/"
    assert got["process"]["user"] == {"uid": 0, "gid": 0}
    assert got["process"]["env"][0] == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert "HOME=/root" in got["process"]["env"]


def _settings_image(work, user, name="layout"):
    passwd = (b"root:x:0:0:root:/root:/bin/sh\n"
              b"app:x:1000:1000:App:/home/app:/bin/sh\n"
              b"svc:x:1001:1001::/srv:/bin/false\n")
    group = (b"root:x:0:\n"
             b"app:x:1000:\n"
             b"svc:x:1001:\n"
             b"audio:x:29:app,svc\n"
             b"video:x:44:app\n"
             b"staff:x:50:\n")
    layer = Layer().dir("etc").file("etc/passwd", passwd).file("etc/group", group)
    layout = work / name
    ocilayout.build_layout(layout, [layer.tobytes()], tag="t", config={
        "Entrypoint": ["/bin/app", "--flag"], "Cmd": ["serve", "arg with spaces"],
        "Env": ["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8", "MODE=image"],
        "WorkingDir": "/srv/work", "User": user,
        "Labels": {"org.opencontainers.image.title": "settings", "org.opencontainers.image.os": "label-wins"},
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}}, "StopSignal": "SIGQUIT",
    })
    return layout


@pytest.mark.parametrize("user, uid, gid, extra", [
    ("app", 1000, 1000, [29, 44]),        # by name: primary group and memberships
    ("svc", 1001, 1001, [29]),
    ("1000", 1000, 1000, [29, 44]),       # numeric with an entry: its groups too (runc's rule)
    ("4242", 4242, 0, None),              # a uid without an entry
    ("1000:50", 1000, 50, None),
    ("app:staff", 1000, 50, None),        # a group given: no supplementary groups
    ("4242:staff", 4242, 50, None),
    ("", 0, 0, None),
])
def test_config_from_image_settings(work, user, uid, gid, extra):
    layout = _settings_image(work, user)
    out = work / "bundle"
    bundle(f"oci:{layout}:t", out)
    c = config_of(out)
    p = c["process"]
    assert p["args"] == ["/bin/app", "--flag", "serve", "arg with spaces"]
    assert p["cwd"] == "/srv/work"
    assert p["user"] == {"uid": uid, "gid": gid, **({"additionalGids": extra} if extra else {})}
    home = {"app": "/home/app", "svc": "/srv", "1000": "/home/app", "1000:50": "/home/app", "app:staff": "/home/app"}.get(user, "/")
    if user == "":
        home = "/root"
    assert p["env"] == ["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8", "MODE=image", f"HOME={home}"]
    a = c["annotations"]
    assert a["org.opencontainers.image.title"] == "settings"
    assert a["org.opencontainers.image.os"] == "label-wins"          # labels take precedence
    assert a["org.opencontainers.image.architecture"] == "amd64"
    assert a["org.opencontainers.image.created"] == ocilayout.DEFAULT_CREATED
    assert a["org.opencontainers.image.stopSignal"] == "SIGQUIT"
    assert a["org.opencontainers.image.exposedPorts"] == "53/udp,80/tcp"


def test_config_overrides(work):
    layout = _settings_image(work, "app")
    out = work / "bundle"
    bundle(f"oci:{layout}:t", out, "--cmd", '["run", "x"]', "--env", "MODE=cli", "--env", "NEW=1",
           "--user", "svc", "--workdir", "/tmp", "--hostname", "box")
    c = config_of(out)
    p = c["process"]
    assert p["args"] == ["/bin/app", "--flag", "run", "x"]
    assert p["env"] == ["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8", "MODE=cli", "NEW=1", "HOME=/srv"]
    assert p["user"] == {"uid": 1001, "gid": 1001, "additionalGids": [29]}
    assert p["cwd"] == "/tmp"
    assert c["hostname"] == "box"
    out2 = work / "bundle2"
    bundle(f"oci:{layout}:t", out2, "--entrypoint", "/bin/other -v")
    assert config_of(out2)["process"]["args"] == ["/bin/other", "-v"], "a new entrypoint drops the image's Cmd"


@pytest.mark.parametrize("user, mention", [("nosuchuser", "nosuchuser"), ("app:nosuchgroup", "nosuchgroup")])
def test_unknown_user_fails_cleanly(work, user, mention):
    layout = _settings_image(work, user)
    assert_bundle_fails(f"oci:{layout}:t", work, mentions=[mention])
    layout2 = _settings_image(work, "app", name="layout2")
    assert_bundle_fails(f"oci:{layout2}:t", work, "--user", user, mentions=[mention])


# ---------------------------------------------------------------- running it

def test_busybox_bundle_runs_with_runc(work, busybox_layout):
    e2e.need_root()
    need_runc()
    layout, _ = busybox_layout
    out = work / "bundle"
    bundle(f"oci:{layout}:latest", out, "--cmd", json.dumps(HELLO))
    r = runc_run(out)
    assert r.returncode == 7, e2e._show(r)
    assert b"HELLO-FROM-CONTAINER" in r.stdout, e2e._show(r)


def test_rootless_bundle_runs_with_rootless_runc(busybox_layout):
    """Made and run by an unprivileged user (nobody): files owned by that user, no devices,
    a user namespace mapping nobody to root; rootless runc runs it."""
    e2e.need_root()  # to switch to nobody and to prepare a folder nobody owns
    need_runc()
    why = userns_works_unprivileged()
    if why:
        pytest.skip(f"rootless runc cannot work on this machine: {why}")
    layout, _ = busybox_layout
    with shared_dir() as d:
        shutil.copytree(layout, d / "layout")
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", d / "layout"], check=True)
        out = d / "bundle"
        bundle(f"oci:{d / 'layout'}:latest", out, "--rootless", "--cmd", json.dumps(HELLO), prefix=as_nobody())
        for p, e in e2e.snapshot(out / "rootfs", content=False).items():
            assert (e["uid"], e["gid"]) == (NOBODY, NOBODY), f"{p!r} is owned by {e['uid']}:{e['gid']}"
        c = config_of(out)
        assert c["linux"]["uidMappings"] == [{"containerID": 0, "hostID": NOBODY, "size": 1}]
        assert {"type": "user"} in c["linux"]["namespaces"] and {"type": "network"} not in c["linux"]["namespaces"]
        state = d / "runc-state"
        r = runc_run(out, prefix=as_nobody(), root=state)
        assert r.returncode == 7, e2e._show(r)
        assert b"HELLO-FROM-CONTAINER" in r.stdout, e2e._show(r)


def _device_paths(layers) -> set:
    """"/"-rooted paths of the device entries (and hard links to them) in the layers."""
    devices = set()
    for layer in layers:
        for p, ti in layer.paths():
            target = _strip(ti.linkname.encode("utf-8", "surrogateescape")) if ti.islnk() else None
            if ti.ischr() or ti.isblk() or (target is not None and b"/" + target in devices):
                devices.add(b"/" + p)
    return devices


def _strip(p: bytes) -> bytes:
    while p.startswith(b"./"):
        p = p[2:]
    return p.strip(b"/")


@pytest.mark.parametrize("name", ["basic_types", "metadata", "hardlink_special", "replace_types"])
def test_rootless_rootfs_matches_umoci_rootless(name):
    """`bundle --rootless` by nobody vs `umoci unpack --rootless` by nobody: the same tree,
    except what umoci adds for rootless runtimes (empty placeholder files for devices, the
    `user.rootlesscontainers` owner record); bundle leaves devices out and says so."""
    e2e.need_root()
    e2e.need_tool("umoci")
    with shared_dir() as d:
        fx = FIXTURES[name]()
        layers = [l.write(d / f"layer{i}.tar") for i, l in enumerate(fx.layers)]
        ocilayout.build_layout(d / "layout", layers, tag="t1")
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", d], check=True)
        r = subprocess.run([*as_nobody(), "umoci", "unpack", "--rootless", "--image", f"{d / 'layout'}:t1", d / "umoci"],
                           capture_output=True, env={"PATH": os.environ["PATH"], "HOME": str(d)},
                           preexec_fn=lambda: os.umask(0o022))
        if r.returncode != 0:
            pytest.fail(f"reference umoci unpack --rootless failed: {r.stderr.decode(errors='replace')}")
        r = bundle(f"oci:{d / 'layout'}:t1", d / "bundle", "--rootless", prefix=as_nobody())
        devices = _device_paths(fx.layers)
        ref = {p: e for p, e in e2e.snapshot(d / "umoci" / "rootfs").items() if p not in devices}
        got = e2e.snapshot(d / "bundle" / "rootfs")
        # Neither can set security.* or trusted.* unprivileged; compare the rest.
        for snap in (ref, got):
            for e in snap.values():
                e["xattrs"] = {k: v for k, v in e["xattrs"].items()
                               if k.startswith(("user.", "system.")) and k != "user.rootlesscontainers"}
        e2e.assert_same_tree(ref, got, mtime_dirs=mtime_checked_dirs(fx.layers), no_mtime=fx.no_mtime)
        assert not [p for p, e in got.items() if e["type"] in ("char", "block")]
        if devices:
            assert b"note: rootless:" in r.stderr and b"device" in r.stderr, e2e._show(r)


# ---------------------------------------------------------------- hostile images

def _hostile_layers(tok, host):
    """(layers, whether bundle succeeds). `host` is an existing host folder the image aims at."""
    return {
        # Symlinks aimed at a real host folder, then written through: stays in the image.
        "symlink-abs-to-host-dir": ([Layer().symlink("x", str(host)), Layer().file(f"x/pwned-{tok}", "image")], True),
        "symlink-dotdot-to-host-dir": ([Layer().symlink("x", "../../../../../../../.." + str(host)),
                                         Layer().file(f"x/pwned-{tok}", "image")], True),
        # A hard link whose target path runs through a symlink to the host folder.
        "hardlink-through-symlink": ([Layer().symlink("evil", str(host)).dir("tmp")
                                      .dir(str(host)[1:]).file(str(host)[1:] + "/victim", "image victim"),
                                      Layer().hardlink(f"l-{tok}", "evil/victim")], True),
        # Replace a symlink by a directory and a file by a symlink across layers.
        "symlink-replaced-by-dir": ([Layer().symlink("d", str(host)), Layer().dir("d").file(f"d/f-{tok}", "in image")], True),
        # Names no layer may hold: refused (nothing written anywhere).
        "dotdot-entry": ([Layer().file(f"../escape-{tok}", "x")], False),
        "dotdot-deep": ([Layer().dir("a").file(f"a/../../../../../../../..{host}/pwned-{tok}", "x")], False),
        "absolute-entry": ([Layer().file(f"{host}/abs-{tok}", "x")], False),
        "hardlink-escaping": ([Layer().hardlink(f"l-{tok}", f"../../../../../../..{host}/victim")], False),
        "hardlink-absolute": ([Layer().hardlink(f"l-{tok}", f"{host}/victim")], False),
    }


@pytest.mark.parametrize("case", sorted(_hostile_layers("x", Path("/tmp/x"))))
def test_hostile_image_touches_nothing_on_the_host(work, case):
    e2e.need_root()
    tok = uuid.uuid4().hex[:12]
    with shared_dir(owner=0) as host:
        victim = host / "victim"
        victim.write_bytes(b"host victim\n")
        before = e2e.listing(host)
        victim_stat = os.lstat(victim)
        layers, succeeds = _hostile_layers(tok, host)[case]
        base = Layer().dir("etc").file("etc/passwd", "root:x:0:0::/root:/bin/sh\n").dir("tmp", mode=0o1777)
        layout = work / "layout"
        ocilayout.build_layout(layout, [base.tobytes()] + [l.tobytes() for l in layers], tag="t")
        out = work / "bundle"
        if succeeds:
            bundle(f"oci:{layout}:t", out)
            rootfs = out / "rootfs"
            inside = [p for p in e2e.snapshot(rootfs, content=False) if tok.encode() in p]
            assert inside, "the hostile entry should have landed inside the rootfs"
        else:
            assert_bundle_fails(f"oci:{layout}:t", work)
        assert e2e.listing(host) == before, "the host folder the image aimed at changed"
        after = os.lstat(victim)
        assert (after.st_nlink, after.st_ino, after.st_mtime_ns) == (victim_stat.st_nlink, victim_stat.st_ino, victim_stat.st_mtime_ns), \
            "the host file gained a link or was replaced"
        left = e2e.hostile_leftovers(tok, walk=[work / "layout"], top=[os.getcwd(), str(work), str(work.parent)])
        assert not left, f"hostile entry created files outside the image: {left}"


def test_hardlink_through_symlink_links_inside(work):
    """The link and its target are one inode inside rootfs/, never the host's file."""
    e2e.need_root()
    tok = uuid.uuid4().hex[:12]
    with shared_dir(owner=0) as host:
        (host / "victim").write_bytes(b"host victim\n")
        layers, _ = _hostile_layers(tok, host)["hardlink-through-symlink"]
        layout = work / "layout"
        ocilayout.build_layout(layout, [l.tobytes() for l in layers], tag="t")
        out = work / "bundle"
        bundle(f"oci:{layout}:t", out)
        link = out / "rootfs" / f"l-{tok}"
        target = out / "rootfs" / str(host)[1:] / "victim"
        assert link.read_bytes() == b"image victim"
        assert os.lstat(link).st_ino == os.lstat(target).st_ino and os.lstat(link).st_nlink == 2
        assert os.lstat(host / "victim").st_nlink == 1


# ---------------------------------------------------------------- the output folder

def test_existing_output_refused_unless_force(work, busybox_layout):
    layout, _ = busybox_layout
    src = f"oci:{layout}:latest"

    def non_empty(out):
        out.mkdir()
        (out / "precious.txt").write_bytes(b"precious\n")

    def a_file(out):
        out.write_bytes(b"not a folder\n")

    assert_bundle_fails(src, work, existing=non_empty, names="layout", mentions=["not empty", "--force"])
    assert_bundle_fails(src, work, existing=a_file, names="layout", mentions=["not a directory"])

    # An empty folder is fine; --force replaces a non-empty one (and a file) completely.
    for prepare in (lambda o: o.mkdir(), non_empty, a_file):
        parent = work / f"p-{uuid.uuid4().hex[:8]}"
        parent.mkdir()
        out = parent / "bundle"
        prepare(out)
        bundle(src, out, *([] if not out.exists() or (out.is_dir() and not os.listdir(out)) else ["--force"]))
        assert sorted(os.listdir(out)) == ["config.json", "rootfs"]
        assert sorted(os.listdir(parent)) == ["bundle"], "the old tree or a temporary folder was left beside the bundle"

    # --force over a previous bundle, including read-only folders and a symlink to the host.
    parent = work / "again"
    parent.mkdir()
    out = parent / "bundle"
    bundle(src, out)
    os.symlink("/etc", out / "rootfs" / "host-etc")
    bundle(src, out, "--force")
    assert os.path.exists("/etc/passwd"), "--force followed a symlink while removing the old bundle"
    assert sorted(os.listdir(parent)) == ["bundle"]


def test_broken_sources_leave_nothing(work):
    good = Layer().dir("etc").file("etc/a", b"a" * 10000)
    layout = work / "layout"
    info = ocilayout.build_layout(layout, [good.tobytes(), Layer().dir("var").file("var/c", "c").tobytes()], tag="t")
    assert_bundle_fails(f"oci:{work}/no-such-layout:t", work, names="no-such-layout")
    p = ocilayout.blob_path(layout, info["layer_digests"][1])
    os.truncate(p, os.path.getsize(p) // 2)
    assert_bundle_fails(f"oci:{layout}:t", work)
    # The same checks after a successful run made the parent folder: no temporary leftovers.
    ok_parent = work / "okp"
    ok_parent.mkdir()
    assert_bundle_fails(f"oci:{layout}:t", ok_parent, "--force")


def test_interrupted_bundle_leaves_nothing(work):
    """SIGINT while rootfs/ is being written: exit 130, no DIR, no temporary folder."""
    many = Layer().dir("d")
    for i in range(300):
        many.dir(f"d/{i:03d}")
        for j in range(60):
            many.file(f"d/{i:03d}/{j:02d}", f"{i}-{j}")
    layout = work / "layout"
    ocilayout.build_layout(layout, [many.tobytes()], tag="t")
    parent = work / "out"
    parent.mkdir()
    out = parent / "bundle"
    p = subprocess.Popen([str(e2e.binary_path()), "bundle", f"oci:{layout}:t", "-o", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None and not leftovers(parent, "bundle"):
        time.sleep(0.005)
    if p.poll() is not None:
        pytest.skip("the bundle was written before the test could interrupt it")
    time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    if p.returncode == 0:
        pytest.skip("the bundle was finished before the signal arrived")
    assert p.returncode == 128 + signal.SIGINT, err
    assert os.listdir(parent) == [], f"left behind: {os.listdir(parent)}"
