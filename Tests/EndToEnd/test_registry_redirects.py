"""Registry credentials stay with the registry (issue 11). Real registries redirect blob
downloads to another origin (a CDN, object storage). Here a front on 127.0.0.1 passes every
request to a real docker-registry with htpasswd auth and turns each blob answer into a 307
to a second loopback server, the "CDN", which records what reaches it. A pull with
credentials must work without the CDN ever seeing them, and a CDN that answers with its own
challenge must fail cleanly, never handed the user's credentials or a token."""

import http.client
import urllib.parse
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace

import pytest

import e2e
import registry
from registry import Registry

USERS = {"carol": "s3cret-pass"}


class _CDN(BaseHTTPRequestHandler):
    """Serves blobs from the registry's storage by digest, or challenges (mode "challenge")."""
    storage = None
    mode = "serve"
    seen = []

    def do_GET(self):  # noqa: N802
        _CDN.seen.append((self.path, self.headers.get("Authorization")))
        if _CDN.mode == "challenge" or self.path.startswith("/token"):
            self.send_response(401)
            realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="cdn",scope="blob"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        digest = urllib.parse.urlparse(self.path).path.rsplit("/", 1)[-1]
        data = registry.storage_blob(_CDN.storage, digest).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class _Front(BaseHTTPRequestHandler):
    """The registry as users reach it: everything relayed, blob answers turned into redirects."""
    upstream = None
    cdn_port = None

    def do_GET(self):  # noqa: N802
        connection = http.client.HTTPConnection(_Front.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
        connection.request("GET", self.path, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
        if "/blobs/" in self.path and answer.status == 200:
            digest = self.path.rsplit("/", 1)[-1]
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{_Front.cdn_port}/signed/{digest}?expires=1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def cdn_registry(tmp_path_factory, busybox_layout):
    registry.need_registry_tools()
    d = tmp_path_factory.mktemp("cdn")
    layout, _ = busybox_layout
    with Registry(d, d / "storage") as open_registry:
        open_registry.push(f"oci:{layout}:latest", "busybox:latest")
    with Registry(d / "auth", d / "storage", auth=registry.htpasswd_auth(d, USERS)) as locked:
        _CDN.storage = d / "storage"
        cdn = e2e.serve_http(_CDN)
        _Front.upstream, _Front.cdn_port = locked.host, cdn.server_address[1]
        front = e2e.serve_http(_Front)
        try:
            yield SimpleNamespace(host=f"127.0.0.1:{front.server_address[1]}", layout=layout)
        finally:
            front.shutdown()
            cdn.shutdown()


@pytest.fixture(autouse=True)
def reset(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "no-auth-file.json"))
    _CDN.seen, _CDN.mode = [], "serve"


def _pull(host, out, cache, *extra):
    return e2e.run([e2e.binary_path(), "convert", f"docker://{host}/busybox:latest", "-o", out, "--no-kernel",
                    "--tls-verify=false", "--cache-dir", cache, *extra], timeout=300)


def test_a_redirected_pull_with_credentials_never_shows_them_to_the_cdn(cdn_registry, work):
    r = _pull(cdn_registry.host, work / "pulled.img", work / "cache", "--creds", "carol:s3cret-pass")
    assert r.returncode == 0, e2e._show(r)
    assert _CDN.seen, "the blobs came through the CDN"
    assert all(path.startswith("/signed/") for path, _ in _CDN.seen), _CDN.seen
    assert all(auth is None for _, auth in _CDN.seen), f"the CDN was sent an Authorization header: {_CDN.seen}"
    local = work / "local.img"
    e2e.convert(f"oci:{cdn_registry.layout}:latest", local)
    assert e2e.file_sha256(local) == e2e.file_sha256(work / "pulled.img")


def test_a_cdn_asking_for_credentials_gets_none(cdn_registry, work):
    _CDN.mode = "challenge"
    out = work / "pulled.img"
    r = _pull(cdn_registry.host, out, work / "cache", "--creds", "carol:s3cret-pass")
    lines = e2e.stderr_lines(r)
    assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:"), e2e._show(r)
    assert "only ever sent to the registry" in lines[0], lines[0]
    assert not out.exists()
    assert [path for path, _ in _CDN.seen if path.startswith("/token")] == [], "the CDN's token realm was asked"
    assert all(auth is None for _, auth in _CDN.seen), f"the CDN was sent credentials: {_CDN.seen}"
