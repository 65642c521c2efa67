"""The guest's network (issue 11): by default (passt, its gateway not mapped to the host) the
guest reaches outward and `-p` forwards work, but services bound only to the host's loopback
are out of reach, as with `docker run`; `--network host-loopback` is the explicit opt-in to
QEMU's user networking (10.0.2.2 is the host's 127.0.0.1); `--network none` has no card.
Every server here is on this machine: one on 127.0.0.1 only, one on all of the host's
addresses, reached through the host's own address (asked of the kernel, `ip route get`, which
sends nothing)."""

import re
import subprocess
from http.server import BaseHTTPRequestHandler

import pytest

import boot
import e2e


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = f"HELLO-FROM-{self.server.name}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(address, name):
    server = e2e.serve_http(_Hello, address)
    server.name = name
    return server


def _host_address():
    r = subprocess.run(["ip", "-4", "route", "get", "1.1.1.1"], capture_output=True, text=True)
    match = re.search(r"\bsrc (\d+\.\d+\.\d+\.\d+)", r.stdout)
    return match.group(1) if match else None


@pytest.fixture(scope="module")
def servers():
    loopback = _serve("127.0.0.1", "LOOPBACK")
    everywhere = _serve("0.0.0.0", "EVERYWHERE")
    yield loopback.server_address[1], everywhere.server_address[1], _host_address()
    loopback.shutdown()
    everywhere.shutdown()


@pytest.fixture(scope="module")
def probe_disk(tmp_path_factory, servers):
    """A guest that tries each target once (nc bounded by timeout) and prints what answered."""
    boot.need_boot_tools()
    loopback_port, everywhere_port, host = servers
    targets = [("10.0.2.2", loopback_port, "GATEWAY-LOOPBACK")]
    if host:
        targets += [(host, everywhere_port, "HOST-EVERYWHERE"), (host, loopback_port, "HOST-LOOPBACK-ONLY")]
    script = "; ".join(
        f"if printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox timeout 10 busybox nc {a} {p} | grep -q HELLO; then echo REACHED-{n}; else echo NOT-{n}; fi"
        for a, p, n in targets) + "; ls /sys/class/net; exit 0"
    d = tmp_path_factory.mktemp("network")
    source = boot.busybox_image(d / "layout", {"Entrypoint": ["/bin/busybox", "sh", "-c"], "Cmd": [script]})
    e2e.convert(source, d / "probe.img", bootable=True)
    return d / "probe.img", host


def _run(disk, *extra):
    r = e2e.run([e2e.binary_path(), "run", disk, "--timeout", "180", *extra], timeout=240)
    assert r.returncode == 0, e2e._show(r)
    return r.stdout.decode(errors="replace")


def test_by_default_the_hosts_loopback_is_out_of_reach_and_outbound_works(probe_disk):
    disk, host = probe_disk
    out = _run(disk)
    assert "NOT-GATEWAY-LOOPBACK" in out, out
    if host:
        assert "REACHED-HOST-EVERYWHERE" in out, out
        assert "NOT-HOST-LOOPBACK-ONLY" in out, out
    assert "eth0" in out, out


def test_host_loopback_is_an_explicit_opt_in(probe_disk):
    disk, _ = probe_disk
    out = _run(disk, "--network", "host-loopback")
    assert "REACHED-GATEWAY-LOOPBACK" in out, out


def test_network_none_has_no_card(probe_disk):
    disk, _ = probe_disk
    out = _run(disk, "--network", "none")
    assert "eth0" not in out, out
    assert "NOT-GATEWAY-LOOPBACK" in out, out
    r = e2e.run([e2e.binary_path(), "run", disk, "--network", "none", "-p", "8080:80"])
    assert r.returncode != 0 and b"-p needs a network" in r.stderr, e2e._show(r)


def test_the_default_network_works_with_a_private_tmpdir(probe_disk, tmp_path):
    """Found by scripts/bench: as root, passt runs as `nobody`, who could not reach a socket
    under a 0700 $TMPDIR, and `run` failed with "passt did not start"."""
    disk, host = probe_disk
    private = tmp_path / "private-tmp"
    private.mkdir(mode=0o700)
    r = e2e.run([e2e.binary_path(), "run", disk, "--timeout", "180"], env={"TMPDIR": str(private)}, timeout=240)
    assert r.returncode == 0, e2e._show(r)
    out = r.stdout.decode(errors="replace")
    assert "eth0" in out and "NOT-GATEWAY-LOOPBACK" in out, out
    assert list(private.iterdir()) == [], "run left files in TMPDIR"


def test_forwarded_ports_leave_the_hosts_loopback_out_of_reach(probe_disk):
    """With -p the gateway's address stays routable in the guest (passt presents forwarded
    connections as coming from it), but it still leads nowhere on the host: a service bound
    only to the host's loopback is not reached through it."""
    disk, _ = probe_disk
    out = _run(disk, "-p", "18999:80")
    assert "NOT-GATEWAY-LOOPBACK" in out and "eth0" in out, out
