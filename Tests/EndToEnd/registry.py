"""A real registry for the tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1,
with no auth, htpasswd (basic) auth, or token auth from a small token server written here
(JWTs signed with a key whose certificate the registry trusts). Images are pushed with
skopeo. Nothing listens anywhere but 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

SERVICE = "oci2disk-test-registry"
ISSUER = "oci2disk-test-token-issuer"


def need_registry_tools():
    for tool in ("docker-registry", "skopeo", "htpasswd", "openssl"):
        if shutil.which(tool) is None:
            pytest.fail(f"required tool {tool!r} not on PATH (scripts/setup installs docker-registry, skopeo, "
                        f"apache2-utils, openssl)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def storage_blob(storage: Path, digest: str) -> Path:
    """Where distribution's filesystem driver keeps a blob's bytes."""
    alg, hex_ = digest.split(":")
    return storage / "docker" / "registry" / "v2" / "blobs" / alg / hex_[:2] / hex_ / "data"


class Registry:
    """One docker-registry process serving `storage`; `auth` is the YAML `auth:` section
    (None: anyone may push and pull)."""

    def __init__(self, workdir: Path, storage: Path, auth: dict | None = None):
        self.workdir = Path(workdir)
        self.storage = Path(storage)
        self.auth = auth
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.proc = None
        self.log = self.workdir / f"registry-{self.port}.log"

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "version": 0.1,
            "log": {"level": "warn"},  # the access log (on) lets tests count requests
            "storage": {"filesystem": {"rootdirectory": str(self.storage)},
                        "maintenance": {"uploadpurging": {"enabled": False}}},
            "http": {"addr": self.host},
        }
        if self.auth:
            config["auth"] = self.auth
        path = self.workdir / f"registry-{self.port}.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        # REGISTRY_* variables override the config file (REGISTRY_AUTH_FILE would be read as auth.file).
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["docker-registry", "serve", str(path)], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"docker-registry exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self  # 401: up, and asking for auth
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"docker-registry did not answer on {self.host}:\n{self.log.read_text()[-3000:]}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def push(self, source: str, name: str, *extra):
        """skopeo copy SOURCE docker://HOST/NAME (plain HTTP)."""
        r = subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *extra, source,
                            f"docker://{self.host}/{name}"], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            pytest.fail(f"skopeo copy {source} → {name} failed:\n{r.stderr}")

    def manifest_digest(self, name: str, tag: str) -> str:
        req = urllib.request.Request(f"http://{self.host}/v2/{name}/manifests/{tag}", method="HEAD", headers={
            "Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
                      "application/vnd.docker.distribution.manifest.v2+json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.headers["Docker-Content-Digest"]


def htpasswd_auth(workdir: Path, users: dict) -> dict:
    """An htpasswd file (bcrypt, which distribution requires) and the auth section using it."""
    path = Path(workdir) / "htpasswd"
    lines = []
    for user, password in users.items():
        r = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True)
        lines.append(r.stdout.strip())
    path.write_text("\n".join(lines) + "\n")
    return {"htpasswd": {"realm": "oci2disk-test", "path": str(path)}}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """The token service of distribution's token auth (docs/spec/auth/token.md): GET
    /token?service=…&scope=repository:NAME:pull, basic auth checked against `users`,
    answers {"token": JWT}. The JWT is RS256, signed with openssl, and carries its
    certificate in `x5c`; the registry trusts that certificate (rootcertbundle).
    Anonymous requests get 401 unless `anonymous` is set. Every request is recorded."""

    def __init__(self, workdir: Path, users: dict, *, anonymous=False, field="token", refresh_tokens=None):
        self.workdir = Path(workdir)
        self.users = users
        # OAuth2 refresh tokens (Docker's "identity tokens") → user, for the POST grant of
        # distribution's docs/spec/auth/oauth.md.
        self.refresh_tokens = refresh_tokens or {}
        self.anonymous = anonymous
        self.field = field
        self.requests = []
        self.key = self.workdir / "token.key"
        self.cert = self.workdir / "token.crt"
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "2", "-subj", "/CN=oci2disk test token issuer"],
                       capture_output=True, check=True)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"], capture_output=True,
                             check=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.realm = f"http://127.0.0.1:{self.port}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def auth_section(self) -> dict:
        return {"token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER,
                          "rootcertbundle": str(self.cert)}}

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def sign(self, subject: str, access: list) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 600, "nbf": now - 60,
                  "iat": now - 60, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signing_input.encode(),
                                   capture_output=True, check=True).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlparse(self.path)
                query = parse_qs(url.query)
                authorization = self.headers.get("Authorization")
                server.requests.append({"path": url.path, "query": query, "authorization": authorization})
                user = None
                if authorization and authorization.startswith("Basic "):
                    name, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
                    if server.users.get(name) != password:
                        return self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                    user = name
                elif not server.anonymous:
                    return self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "log in first"}]})
                self._grant(query, user, server.field)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                server.requests.append({"path": urlparse(self.path).path, "method": "POST", "form": form,
                                        "content_type": self.headers.get("Content-Type")})
                if form.get("grant_type") != ["refresh_token"] or not form.get("client_id"):
                    return self._answer(400, {"error": "unsupported_grant_type"})
                user = server.refresh_tokens.get((form.get("refresh_token") or [""])[0])
                if user is None:
                    return self._answer(401, {"error": "invalid_grant"})
                self._grant(form, user, "access_token")

            def _grant(self, query, user, field):
                access = []
                for scope in query.get("scope", []):
                    kind, _, rest = scope.partition(":")
                    name, _, actions = rest.rpartition(":")
                    allowed = [a for a in actions.split(",") if a == "pull" or (a == "push" and user)]
                    access.append({"type": kind, "name": name, "actions": allowed})
                if query.get("service") != [SERVICE]:
                    return self._answer(400, {"errors": [{"code": "DENIED", "message": "wrong service"}]})
                self._answer(200, {field: server.sign(user or "", access), "expires_in": 600})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def auth_file(path: Path, host: str, user: str, password: str) -> Path:
    """A containers-auth.json / docker config.json with one entry."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    Path(path).write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return Path(path)


def credential_helper(directory: Path, name: str, answers: dict) -> Path:
    """A `docker-credential-NAME` executable in `directory` that answers `get` for the hosts
    in `answers` ({host: (user, secret)}) as the real helpers do, and logs each server asked."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"{name}.log"
    cases = "".join(f"  {shlex.quote(host)}) echo {shlex.quote(json.dumps({'ServerURL': host, 'Username': u, 'Secret': p}))} ;;\n"
                    for host, (u, p) in answers.items())
    script = directory / f"docker-credential-{name}"
    script.write_text(f"""#!/bin/sh
[ "$1" = get ] || exit 3
read server
echo "$server" >> {shlex.quote(str(log))}
case "$server" in
{cases}  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
""")
    script.chmod(0o755)
    return log


def cache_files(cache: Path) -> list:
    """Every file under the blob cache, relative, sorted."""
    if not cache.exists():
        return []
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())
