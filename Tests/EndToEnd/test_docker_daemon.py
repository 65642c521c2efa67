"""Issue 14: `docker-daemon:NAME` reads an image from a Docker Engine's API on a Unix socket.
Tested against the real thing Debian has: Podman's Docker-compatible service
(`podman system service`) on a private socket, with private storage, serving an image the test
built with `podman build` (RUN steps, so Podman's own layers and whiteouts). The disk must be
the same bytes as from `podman save`'s archive, and the same tree as umoci unpacks; a missing
daemon, a socket the user may not open and a missing image each get one clear line."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import e2e

CONTAINERFILE = """FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /etc /data && echo built-by-podman > /etc/marker && rm /bin/ls && ln -s ../etc/marker /data/link
CMD ["/bin/sh", "-c", "cat /etc/marker; exit 4"]
"""


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    e2e.need_root()
    e2e.need_tool("podman")
    d = tmp_path_factory.mktemp("podman")
    base = ["podman", "--root", str(d / "storage"), "--runroot", str(d / "run"), "--storage-driver", "vfs"]
    context = d / "context"
    context.mkdir()
    shutil.copy2("/bin/busybox", context / "busybox")
    (context / "Containerfile").write_text(CONTAINERFILE)
    r = subprocess.run([*base, "build", "--network=none", "-t", "localhost/app:latest", str(context)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    socket = d / "podman.sock"
    log = open(d / "service.log", "wb")
    service = subprocess.Popen([*base, "system", "service", "--time=0", f"unix://{socket}"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not socket.exists():
        assert service.poll() is None and time.monotonic() < deadline, (d / "service.log").read_text()
        time.sleep(0.1)
    try:
        yield {"socket": socket, "podman": base, "dir": d}
    finally:
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
        log.close()


def test_a_podman_built_image_converts_exactly(podman, tmp_path):
    env = {"DOCKER_HOST": f"unix://{podman['socket']}"}
    disk = tmp_path / "daemon.img"
    r = e2e.run([e2e.binary_path(), "convert", "docker-daemon:localhost/app:latest", "-o", disk, "--no-kernel", "--json"], env=env)
    assert r.returncode == 0, e2e._show(r)
    assert json.loads(r.stdout)["layers"] == 3

    # The same image saved by Podman, through the archive reader: the same bytes.
    archive = tmp_path / "app.tar"
    subprocess.run([*podman["podman"], "save", "--format", "docker-archive", "-o", str(archive), "localhost/app:latest"],
                   check=True, capture_output=True)
    e2e.convert(f"docker-archive:{archive}", tmp_path / "archive.img")
    assert disk.read_bytes() == (tmp_path / "archive.img").read_bytes()

    # And the tree umoci unpacks from the same image (copied to an OCI layout by skopeo).
    layout = tmp_path / "layout"
    subprocess.run(["skopeo", "copy", "--quiet", f"docker-archive:{archive}", f"oci:{layout}:app"], check=True, capture_output=True)
    reference = e2e.snapshot(e2e.umoci_unpack(layout, "app", tmp_path / "umoci"))
    assert b"/bin/ls" not in reference and b"/etc/marker" in reference
    e2e.verify_disk(disk, reference, mtime_dirs={p for p, e in reference.items() if e["type"] == "dir"})


def test_the_daemons_id_names_the_image_too(podman, tmp_path):
    image_id = subprocess.run([*podman["podman"], "image", "inspect", "--format", "{{.Id}}", "localhost/app:latest"],
                              capture_output=True, text=True, check=True).stdout.strip()
    env = {"DOCKER_HOST": f"unix://{podman['socket']}"}
    r = e2e.run([e2e.binary_path(), "convert", f"docker-daemon:{image_id[:12]}", "-o", tmp_path / "id.img", "--no-kernel", "-q"], env=env)
    assert r.returncode == 0, e2e._show(r)


def daemon_fails(tmp_path, source, env, prefix=()):
    out = tmp_path / "out.img"
    r = e2e.run([*prefix, e2e.binary_path(), "convert", source, "-o", out, "--no-kernel"], env=env)
    lines = e2e.stderr_lines(r)
    shown = source.replace("\r", " ").replace("\n", " ")  # line breaks in a name are shown as spaces
    assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith(f"error: {shown}: "), e2e._show(r)
    assert not out.exists()
    return lines[0]


def test_no_daemon_names_the_socket(tmp_path):
    missing = tmp_path / "no-daemon.sock"
    line = daemon_fails(tmp_path, "docker-daemon:app:latest", {"DOCKER_HOST": f"unix://{missing}"})
    assert str(missing) in line and "no daemon answers" in line, line


def test_a_missing_image_is_named(podman, tmp_path):
    line = daemon_fails(tmp_path, "docker-daemon:localhost/nothing-here:1", {"DOCKER_HOST": f"unix://{podman['socket']}"})
    assert "no image localhost/nothing-here:1" in line and str(podman["socket"]) in line, line


def test_a_socket_the_user_may_not_open_is_permission_denied(podman, tmp_path):
    # The socket is root's, 0600: nobody may not connect.
    shared = Path(os.path.dirname(podman["socket"]))
    mode = shared.stat().st_mode
    os.chmod(shared, 0o755)
    try:
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        os.chmod(tmp_path, 0o777)
        line = daemon_fails(tmp_path, "docker-daemon:localhost/app:latest", {"DOCKER_HOST": f"unix://{podman['socket']}"}, prefix)
        assert "permission denied" in line, line
    finally:
        os.chmod(shared, mode)


@pytest.mark.parametrize("name", ["app latest", "../../etc", "a?b=c", "a\r\nX: y"])
def test_names_that_are_no_image_name_are_refused_before_any_request(tmp_path, name):
    line = daemon_fails(tmp_path, f"docker-daemon:{name}", {"DOCKER_HOST": f"unix://{tmp_path}/never-used.sock"})
    assert "not an image name" in line, line


def test_containers_storage_reads_podmans_store_through_podman(podman, tmp_path):
    """The same image from the same store, named by a containers-transports(5) specifier."""
    d = podman["dir"]
    source = f"containers-storage:[vfs@{d / 'storage'}+{d / 'run'}]localhost/app:latest"
    r = e2e.run([e2e.binary_path(), "convert", source, "-o", tmp_path / "store.img", "--no-kernel", "-q"])
    assert r.returncode == 0, e2e._show(r)
    archive = tmp_path / "app.tar"
    subprocess.run([*podman["podman"], "save", "--format", "docker-archive", "-o", str(archive), "localhost/app:latest"],
                   check=True, capture_output=True)
    e2e.convert(f"docker-archive:{archive}", tmp_path / "archive.img")
    assert (tmp_path / "store.img").read_bytes() == (tmp_path / "archive.img").read_bytes()


def test_containers_storage_names_a_missing_image(podman, tmp_path):
    d = podman["dir"]
    source = f"containers-storage:[vfs@{d / 'storage'}+{d / 'run'}]localhost/none:1"
    line = daemon_fails(tmp_path, source, {})
    assert "podman image save failed" in line and "none" in line, line
