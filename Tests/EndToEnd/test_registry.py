"""The registry source, docker://HOST[:PORT]/REPO[:TAG|@DIGEST], against a real registry
(Debian's docker-registry on 127.0.0.1, filled with skopeo): the pulled image gives the same
disk bytes as the local layout it was pushed from, by tag and by digest; multi-platform
indexes; Docker media types; the blob cache (nothing downloaded twice, a digest works with the
registry stopped, concurrent runs, corrupt blobs never cached); basic auth (htpasswd) and the
bearer-token flow (a token server written here); one-line errors for each failure."""

import json
import os
import subprocess
import uuid
from types import SimpleNamespace

import pytest

import e2e
import ocilayout
import registry
from registry import Registry, TokenServer
from tarbuild import Layer

USERS = {"alice": "wonder:land"}
REFRESH_TOKENS = {"rt-alice+/=1": "alice"}  # an identity token, with characters a form must escape
PLATFORMS = [("linux", "arm64", None), ("linux", "amd64", None), ("linux", "arm", "v7")]


def _pstr(p):
    return "/".join(x for x in p if x)


@pytest.fixture(scope="module")
def reg(tmp_path_factory, busybox_layout):
    """One storage, filled through an open registry: busybox:latest (as pushed, OCI),
    busybox-docker:v2 (rewritten by skopeo to Docker schema 2), multi:latest (an index of
    three platforms and an attestation)."""
    registry.need_registry_tools()
    d = tmp_path_factory.mktemp("registry")
    layout, info = busybox_layout
    multi = d / "multi"
    images = [{"platform": p, "layers": [Layer().dir("etc").file("etc/platform", _pstr(p)).tobytes()]} for p in PLATFORMS]
    ocilayout.build_multiplatform_layout(multi, images, tag="latest", nesting=1)
    with Registry(d, d / "storage") as open_registry:
        open_registry.push(f"oci:{layout}:latest", "busybox:latest")
        open_registry.push(f"oci:{layout}:latest", "busybox-docker:v2", "--format", "v2s2")
        open_registry.push(f"oci:{multi}:latest", "multi:latest", "--all")
        yield SimpleNamespace(dir=d, storage=d / "storage", open=open_registry, layout=layout, info=info, multi=multi)


@pytest.fixture(autouse=True)
def no_auth_file(tmp_path, monkeypatch):
    """Credentials only from what a test gives: never the host's ~/.docker/config.json."""
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "no-auth-file.json"))


def pull(source, out, *extra, cache, env=None):
    return e2e.convert(source, out, "--tls-verify=false", "--cache-dir", cache, *extra, env=env)


def same_bytes(a, b):
    return e2e.file_sha256(a) == e2e.file_sha256(b)


def local_disk(work, source, *extra):
    out = work / f"local-{uuid.uuid4().hex[:8]}.img"
    e2e.convert(source, out, *extra)
    return out


def blob_requests(reg_log):
    """`GET /v2/…` lines of the registry's access log."""
    return [l for l in reg_log.read_text(errors="replace").splitlines() if '"GET /v2/' in l]


# ---------------------------------------------------------------- pulling

def test_tag_gives_the_same_disk_as_the_layout(reg, work):
    cache = work / "cache"
    pulled = work / "pulled.img"
    pull(f"docker://{reg.open.host}/busybox:latest", pulled, cache=cache)
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.layout}:latest")), "pulled disk differs from the layout's"
    hexes = [d.split(":")[1] for d in [reg.info["manifest_digest"], reg.info["config_digest"], *reg.info["layer_digests"]]]
    assert registry.cache_files(cache) == sorted(f"blobs/sha256/{h}" for h in hexes)


def test_second_pull_downloads_nothing(reg, work):
    """The tag is looked up again (one manifest request); the rest comes from the cache."""
    cache = work / "cache"
    with Registry(work / "r", reg.storage) as r:
        pull(f"docker://{r.host}/busybox:latest", work / "a.img", cache=cache)
        before = blob_requests(r.log)
        assert any("/blobs/" in l for l in before), f"first pull fetched no blob?\n{before}"
        inodes = {p: os.stat(cache / p).st_ino for p in registry.cache_files(cache)}
        pull(f"docker://{r.host}/busybox:latest", work / "b.img", cache=cache)
        after = blob_requests(r.log)[len(before):]
    assert len(after) == 1 and "/v2/busybox/manifests/latest" in after[0], f"second pull asked for more:\n{after}"
    assert {p: os.stat(cache / p).st_ino for p in registry.cache_files(cache)} == inodes
    assert same_bytes(work / "a.img", work / "b.img")


def test_digest_works_from_the_cache_with_the_registry_stopped(reg, work):
    cache = work / "cache"
    with Registry(work / "r", reg.storage) as r:
        digest = r.manifest_digest("busybox", "latest")
        assert digest == reg.info["manifest_digest"], "skopeo rewrote the manifest"
        source = f"docker://{r.host}/busybox@{digest}"
        pull(source, work / "online.img", cache=cache)
    pull(source, work / "offline.img", cache=cache)
    assert same_bytes(work / "online.img", work / "offline.img")
    assert same_bytes(work / "online.img", local_disk(work, f"oci:{reg.layout}:latest"))
    # A tag is always looked up, so it needs the registry.
    tag = f"docker://{r.host}/busybox:latest"
    e2e.assert_convert_fails(tag, work, names=tag, extra=["--tls-verify=false", "--cache-dir", str(cache)],
                             mentions=["connection refused", r.host])


@pytest.mark.parametrize("platform", [_pstr(p) for p in PLATFORMS])
def test_multi_platform_index(reg, work, platform):
    pulled = work / "pulled.img"
    pull(f"docker://{reg.open.host}/multi:latest", pulled, "--platform", platform, cache=work / "cache")
    assert e2e.read_from_disk(pulled, "/etc/platform") == platform.encode()
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.multi}:latest", "--platform", platform))


def test_multi_platform_missing_platform(reg, work):
    source = f"docker://{reg.open.host}/multi:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["s390x", "linux/amd64", "linux/arm64", "linux/arm/v7"],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache"), "--platform", "linux/s390x"])


def test_docker_schema2_media_types(reg, work):
    """skopeo --format v2s2 rewrote the manifest and config media types (so the digest, and
    the disk's UUIDs, differ); every file is the same."""
    pulled = work / "pulled.img"
    pull(f"docker://{reg.open.host}/busybox-docker:v2", pulled, cache=work / "cache")
    local = local_disk(work, f"oci:{reg.layout}:latest")

    def files(disk):
        entries = e2e.inspect_json(disk, "--files")["partitions"][0]["filesystem"]["entries"]
        return [{k: v for k, v in e.items() if k != "inode"} for e in entries]

    assert files(pulled) == files(local)
    assert e2e.read_from_disk(pulled, "/bin/busybox") == e2e.read_from_disk(local, "/bin/busybox")


def test_bundle_from_a_registry(reg, work):
    r = e2e.run([e2e.binary_path(), "bundle", f"docker://{reg.open.host}/busybox:latest", "-o", work / "bundle",
                 "--src-tls-verify=false", "--cache-dir", work / "cache", "--rootless"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert (work / "bundle" / "rootfs" / "bin" / "busybox").stat().st_size == os.path.getsize("/bin/busybox")


def test_concurrent_pulls_share_the_cache(reg, work):
    cache = work / "cache"
    procs = [subprocess.Popen([str(e2e.binary_path()), "convert", f"docker://{reg.open.host}/busybox:latest", "-o",
                               str(work / f"{i}.img"), "--no-kernel", "--tls-verify=false", "--cache-dir", str(cache)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode(errors="replace")
    assert same_bytes(work / "0.img", work / "1.img") and same_bytes(work / "1.img", work / "2.img")
    assert len(registry.cache_files(cache)) == 3, registry.cache_files(cache)  # no partial files left


# ---------------------------------------------------------------- failures

def test_missing_tag_and_repository(reg, work):
    for source in (f"docker://{reg.open.host}/busybox:nope", f"docker://{reg.open.host}/nothing/here:latest"):
        e2e.assert_convert_fails(source, work, names=source, mentions=["no such image"],
                                 extra=["--tls-verify=false", "--cache-dir", str(work / "cache")])


def test_unreachable_registry(work):
    port = registry.free_port()
    source = f"docker://127.0.0.1:{port}/busybox:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["connection refused", f"127.0.0.1:{port}"],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache")])


def test_tls_to_a_plain_http_registry_says_how_to_fix_it(reg, work):
    source = f"docker://{reg.open.host}/busybox:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["TLS", "--tls-verify=false"],
                             extra=["--cache-dir", str(work / "cache")])


def test_corrupt_blob_is_refused_and_never_cached(reg, work):
    """Garbage of the same size written over a layer in the registry's storage after the
    push: the download fails its digest check and leaves nothing in the cache."""
    layout = work / "layout"
    info = ocilayout.build_layout(layout, [Layer().dir("data").file("data/unique", uuid.uuid4().bytes * 4096).tobytes()],
                                  tag="v1")
    reg.open.push(f"oci:{layout}:v1", "corrupt:v1")
    layer = info["layer_digests"][0]
    data = registry.storage_blob(reg.storage, layer)
    data.write_bytes(os.urandom(data.stat().st_size))
    cache = work / "cache"
    source = f"docker://{reg.open.host}/corrupt:v1"
    e2e.assert_convert_fails(source, work, names=source, mentions=["digest", layer],
                             extra=["--tls-verify=false", "--cache-dir", str(cache)])
    files = registry.cache_files(cache)
    assert f"blobs/sha256/{layer.split(':')[1]}" not in files
    assert not [f for f in files if ".partial" in f], files


# ---------------------------------------------------------------- basic auth (htpasswd)

@pytest.fixture(scope="module")
def basic(reg):
    with Registry(reg.dir / "basic", reg.storage, auth=registry.htpasswd_auth(reg.dir, USERS)) as r:
        yield r


def test_basic_auth_required(basic, work):
    source = f"docker://{basic.host}/busybox:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["authentication required", basic.host],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache")])


def test_basic_auth_wrong_credentials(basic, work):
    source = f"docker://{basic.host}/busybox:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["access denied", basic.host],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache"), "--creds", "alice:wrong"])


def test_basic_auth_with_creds(reg, basic, work):
    pulled = work / "pulled.img"
    pull(f"docker://{basic.host}/busybox:latest", pulled, "--creds", "alice:wonder:land", cache=work / "cache")
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.layout}:latest"))


def test_basic_auth_from_an_auth_file(reg, basic, work, monkeypatch):
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(registry.auth_file(work / "auth.json", basic.host, "alice", "wonder:land")))
    pulled = work / "pulled.img"
    pull(f"docker://{basic.host}/busybox:latest", pulled, cache=work / "cache")
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.layout}:latest"))


# ---------------------------------------------------------------- bearer tokens

@pytest.fixture(scope="module")
def token(reg):
    with TokenServer(reg.dir / "token", USERS, refresh_tokens=REFRESH_TOKENS) as server:
        with Registry(reg.dir / "token", reg.storage, auth=server.auth_section()) as r:
            yield SimpleNamespace(server=server, registry=r, host=r.host)


def test_token_auth_required(token, work):
    source = f"docker://{token.host}/busybox:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["authentication required", token.host],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache")])


def test_token_auth_wrong_credentials(token, work):
    source = f"docker://{token.host}/busybox:latest"
    e2e.assert_convert_fails(source, work, names=source, mentions=["access denied", token.host],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache"), "--src-creds", "alice:nope"])


@pytest.mark.parametrize("field", ["token", "access_token"])
def test_token_auth_with_creds(reg, token, work, field, monkeypatch):
    """The challenge's realm, service and scope go to the token server with basic auth; the
    token (either field name) then opens manifests and blobs."""
    monkeypatch.setattr(token.server, "field", field)
    seen = len(token.server.requests)
    pulled = work / "pulled.img"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(registry.auth_file(work / "auth.json", token.host, "alice", "wonder:land")))
    pull(f"docker://{token.host}/busybox:latest", pulled, cache=work / "cache")
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.layout}:latest"))
    requests = token.server.requests[seen:]
    assert requests, "no token was asked for"
    for r in requests:
        assert r["query"].get("service") == [registry.SERVICE]
        assert r["query"].get("scope") == ["repository:busybox:pull"]
        assert r["authorization"] and r["authorization"].startswith("Basic ")


# ---------------------------------------------------------------- credential helpers

def test_basic_auth_from_a_credential_helper(reg, basic, work, monkeypatch):
    """`credHelpers` names a helper for the registry; its answer is what opens it."""
    log = registry.credential_helper(work / "bin", "fake", {basic.host: ("alice", "wonder:land")})
    monkeypatch.setenv("PATH", f"{work / 'bin'}:{os.environ['PATH']}")
    auth = work / "auth.json"
    auth.write_text(json.dumps({"credHelpers": {basic.host: "fake"}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    pulled = work / "pulled.img"
    pull(f"docker://{basic.host}/busybox:latest", pulled, cache=work / "cache")
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.layout}:latest"))
    assert log.read_text().split() == [basic.host]


def test_identity_token_from_a_credential_store(reg, token, work, monkeypatch):
    """`credsStore` answers with an identity token (user `<token>`): it is traded for an access
    token with the OAuth2 refresh-token grant (a form POST), never sent as basic auth."""
    log = registry.credential_helper(work / "bin", "store", {token.host: ("<token>", "rt-alice+/=1")})
    monkeypatch.setenv("PATH", f"{work / 'bin'}:{os.environ['PATH']}")
    auth = work / "config.json"
    auth.write_text(json.dumps({"auths": {token.host: {}}, "credsStore": "store"}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    seen = len(token.server.requests)
    pulled = work / "pulled.img"
    pull(f"docker://{token.host}/busybox:latest", pulled, cache=work / "cache")
    assert same_bytes(pulled, local_disk(work, f"oci:{reg.layout}:latest"))
    assert log.read_text().split() == [token.host]
    requests = token.server.requests[seen:]
    assert requests and all(r.get("method") == "POST" for r in requests), requests
    for r in requests:
        assert r["content_type"] == "application/x-www-form-urlencoded"
        assert r["form"]["grant_type"] == ["refresh_token"] and r["form"]["refresh_token"] == ["rt-alice+/=1"]
        assert r["form"]["scope"] == ["repository:busybox:pull"] and r["form"]["service"] == [registry.SERVICE]


def test_a_missing_credential_helper_is_a_clear_error(basic, work, monkeypatch):
    auth = work / "auth.json"
    auth.write_text(json.dumps({"credHelpers": {basic.host: "not-installed"}}))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth))
    source = f"docker://{basic.host}/busybox:latest"
    e2e.assert_convert_fails(source, work, mentions=["docker-credential-not-installed", str(auth), "not installed"],
                             extra=["--tls-verify=false", "--cache-dir", str(work / "cache")])
