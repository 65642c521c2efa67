"""Issue 15: the OCI image of the tool (scripts/package-image). Run where CI jobs run: by an
unprivileged user, in rootless runc, with no extra privileges, no devices and no network of
its own; a host folder is bind-mounted and an image in it converted to a bootable disk, which
the test then checks with e2fsck and boots."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import boot
import e2e
from test_bundle import NOBODY, as_nobody, bundle, runc_run, shared_dir, userns_works_unprivileged


@pytest.fixture(scope="module")
def tool_image(tmp_path_factory):
    e2e.need_root()
    e2e.need_tool("mmdebstrap")
    out = tmp_path_factory.mktemp("tool-image") / "layout"
    r = subprocess.run([str(e2e.REPO_ROOT / "scripts" / "package-image"), str(out)], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def test_the_image_runs_as_a_user_with_oci2disk_as_its_entrypoint(tool_image):
    r = subprocess.run(["skopeo", "inspect", "--config", f"oci:{tool_image}:latest"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    config = json.loads(r.stdout)["config"]
    assert config["Entrypoint"] == ["oci2disk"] and config["User"] == "1000:1000", config


def test_in_rootless_runc_it_converts_a_mounted_image_to_a_disk_that_boots(tool_image, tmp_path):
    e2e.need_tool("runc")
    why = userns_works_unprivileged()
    if why:
        pytest.fail(f"rootless runc cannot work on this machine: {why}")
    with shared_dir() as d:
        shutil.copytree(tool_image, d / "tool")
        work = d / "work"
        work.mkdir()
        boot.busybox_image(work / "layout", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo CONVERTED-IN-A-CONTAINER; exit 6"]})
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", d], check=True)
        # One id is mapped (the unprivileged user, as root inside): the image's user 1000 has
        # no id outside, so the bundle runs as root of its namespace, which is nobody here.
        out = d / "bundle"
        bundle(f"oci:{d / 'tool'}:latest", out, "--rootless", "--user", "0:0", prefix=as_nobody())
        spec = json.loads((out / "config.json").read_text())
        spec["process"]["args"] = ["oci2disk", "convert", "oci:/work/layout:latest", "-o", "/work/disk.img"]
        spec["process"]["terminal"] = False
        spec["mounts"].append({"destination": "/work", "type": "bind", "source": str(work), "options": ["rbind", "rw"]})
        assert spec["process"]["capabilities"]["bounding"] == spec["process"]["capabilities"]["effective"]
        assert not spec["linux"].get("devices"), "no device is given to the container"
        (out / "config.json").write_text(json.dumps(spec))
        r = runc_run(out, prefix=as_nobody(), root=d / "runc-state", timeout=600)
        assert r.returncode == 0, e2e._show(r)
        disk = work / "disk.img"
        assert disk.stat().st_uid == NOBODY
        report = json.loads(e2e.run([e2e.binary_path(), "inspect", disk, "--json"]).stdout)
        root = report["partitions"][-1]
        e2e.e2fsck(disk, root["start"])
        boot.need_boot_tools()
        r = e2e.run([e2e.binary_path(), "run", disk], timeout=240)
        assert b"CONVERTED-IN-A-CONTAINER" in r.stdout and r.returncode == 6, e2e._show(r)


def test_the_image_is_built_reproducibly(tool_image, tmp_path):
    """Built again from the same commit (and the same Debian archive state), the same image:
    the same manifest digest, so the same layer bytes."""
    again = tmp_path / "again"
    r = subprocess.run([str(e2e.REPO_ROOT / "scripts" / "package-image"), str(again)], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    first = json.loads((tool_image / "index.json").read_text())["manifests"][0]["digest"]
    second = json.loads((again / "index.json").read_text())["manifests"][0]["digest"]
    assert first == second
