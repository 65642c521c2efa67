"""Issue 14: an image piped in on standard input (`docker save app | oci2disk convert - -o
app.img`): `-` (the kind found by looking), `docker-archive:-` and `oci-archive:-`, read once,
compressed or not; the same disk as from the archive file, bit for bit. A terminal, an empty
stream and a stream that is no image are refused with one line naming standard input."""

import gzip
import os
import pty
import subprocess

import pytest

import e2e
import ocilayout


@pytest.fixture(scope="module")
def archives(busybox_layout, tmp_path_factory):
    d = tmp_path_factory.mktemp("stdin")
    layout = busybox_layout[0]
    docker = d / "app-docker.tar"
    ocilayout.docker_archive_legacy(str(layout), str(docker), "app:latest")
    oci = d / "app-oci.tar"
    ocilayout.oci_archive(str(layout), str(oci))
    zipped = d / "app-docker.tar.gz"
    zipped.write_bytes(gzip.compress(docker.read_bytes(), mtime=0))
    return {"docker": docker, "oci": oci, "gzip": zipped}


def convert_from_stdin(source, stdin_path, out, *extra):
    with open(stdin_path, "rb") as stdin:
        return subprocess.run([str(e2e.binary_path()), "convert", source, "-o", str(out), "--no-kernel", *extra],
                              stdin=stdin, capture_output=True, timeout=300)


@pytest.mark.parametrize("source,kind,reference", [
    ("-", "docker", "docker-archive:{}"),
    ("-", "oci", "oci-archive:{}"),
    ("docker-archive:-", "docker", "docker-archive:{}"),
    ("oci-archive:-", "oci", "oci-archive:{}"),
    ("docker-archive:-", "gzip", "docker-archive:{}"),
])
def test_a_piped_archive_gives_the_same_disk_as_the_file(archives, tmp_path, source, kind, reference):
    r = convert_from_stdin(source, archives[kind], tmp_path / "piped.img")
    assert r.returncode == 0, e2e._show(r)
    e2e.convert(reference.format(archives[kind]), tmp_path / "file.img")
    assert (tmp_path / "piped.img").read_bytes() == (tmp_path / "file.img").read_bytes()
    leftovers = [n for n in os.listdir(tmp_path) if n not in ("piped.img", "file.img")]
    assert leftovers == [], leftovers


def test_bundle_reads_standard_input_too(archives, tmp_path):
    with open(archives["docker"], "rb") as stdin:
        r = subprocess.run([str(e2e.binary_path()), "bundle", "-", "-o", str(tmp_path / "bundle")], stdin=stdin, capture_output=True)
    assert r.returncode == 0, e2e._show(r)
    assert (tmp_path / "bundle" / "rootfs" / "bin" / "busybox").is_file()


@pytest.mark.parametrize("content,mention", [(b"", "empty"), (b"not a tar at all\n" * 100, "standard input")])
def test_an_empty_or_foreign_stream_is_refused(tmp_path, content, mention):
    stream = tmp_path / "stream"
    stream.write_bytes(content)
    r = convert_from_stdin("-", stream, tmp_path / "out.img")
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:"), e2e._show(r)
    assert "standard input" in lines[0] and mention in lines[0], lines
    assert not (tmp_path / "out.img").exists()


def test_a_terminal_on_standard_input_is_refused(tmp_path):
    controller, terminal = pty.openpty()
    try:
        r = subprocess.run([str(e2e.binary_path()), "convert", "-", "-o", str(tmp_path / "out.img"), "--no-kernel"],
                           stdin=terminal, capture_output=True, timeout=60)
    finally:
        os.close(terminal)
        os.close(controller)
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1 and len(lines) == 1 and "is a terminal" in lines[0], e2e._show(r)
    assert not (tmp_path / "out.img").exists()
