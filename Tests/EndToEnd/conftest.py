"""End-to-end tests of the oci2disk binary.

The binary: $OCI2DISK, else <repo>/.build/release/oci2disk (build it first with
`swift build -c release`). Fixtures are built here from Python (scripts/lib/ocilayout.py
and tarbuild.py); the reference for file-by-file comparison is `umoci unpack`.
Mount- and umoci-based checks need root and are skipped otherwise (CI runs as root).
"""

import os

import pytest

import e2e
import ocilayout


@pytest.fixture(scope="session")
def oci2disk():
    p = e2e.binary_path()
    if not (p.is_file() and os.access(p, os.X_OK)):
        # Fail, not skip: a green run without the binary would test nothing.
        pytest.fail(f"oci2disk binary not found at {p}: run `swift build -c release` or set OCI2DISK")
    return p


@pytest.fixture(scope="session")
def busybox_layout(tmp_path_factory):
    """A one-layer busybox OCI layout (tag "latest"), built once per session."""
    d = tmp_path_factory.mktemp("busybox") / "layout"
    info = ocilayout.make_busybox_layout(d)
    return d, info


@pytest.fixture
def work(tmp_path, oci2disk):
    """A per-test directory; depending on it also makes the test need the binary."""
    return tmp_path


@pytest.fixture(scope="session")
def debian_minbase_tar(tmp_path_factory):
    """Debian bookworm minbase from mmdebstrap, built once per session (or kept in
    $OCI2DISK_E2E_CACHE when that is set, for quicker local runs)."""
    import test_debian
    return test_debian.minbase_tar(tmp_path_factory.mktemp("minbase"))


@pytest.fixture(scope="session")
def extracted_kernel(tmp_path_factory):
    """The default kernel package unpacked: a vmlinuz and its /lib/modules/VERSION."""
    from pathlib import Path
    import subprocess
    debs = sorted((Path.home() / ".cache" / "oci2disk" / "kernels").glob("linux-image-*.deb"))
    assert debs, "scripts/setup downloads the default kernel"
    d = tmp_path_factory.mktemp("kernel")
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(d)], check=True)
    vmlinuz = sorted((d / "boot").glob("vmlinuz-*"))[-1]
    modules = d / "lib" / "modules" / vmlinuz.name[len("vmlinuz-"):]
    return vmlinuz, modules
