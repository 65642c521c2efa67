"""Issue 15: the ready-made CI steps run the commands the tests run. The GitHub composite
action's steps are run as a runner would (bash, inputs substituted, GITHUB_OUTPUT); the
Tekton Task's step command is run with its parameters; the Kubernetes Job is validated
against the Kubernetes schemas offline (kubernetes-validate), and so is a broken copy, which
must fail."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import boot
import e2e

CI = e2e.REPO_ROOT / "ci"


def kubernetes_validate():
    r = subprocess.run([sys.executable, "-m", "kubernetes_validate", "--version"], capture_output=True)
    if r.returncode != 0:
        pytest.fail("kubernetes-validate (PyPI) is needed: scripts/test installs it")
    return [sys.executable, "-m", "kubernetes_validate"]


@pytest.fixture
def tool_on_path(tmp_path):
    """A PATH whose oci2disk is the build's binary, as an installed tool would be."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "oci2disk").symlink_to(e2e.binary_path())
    return f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin"


def run_action(inputs: dict, path: str, workdir: Path):
    """Runs action.yml's steps as GitHub's runner does: each `run` in bash -e with its env,
    `${{ inputs.* }}` and `${{ github.action_path }}` substituted, `if:` on inputs honoured."""
    action = yaml.safe_load((e2e.REPO_ROOT / "action.yml").read_text())
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)

    def substitute(text):
        text = text.replace("${{ github.action_path }}", str(e2e.REPO_ROOT))
        return re.sub(r"\$\{\{ inputs\.([a-z-]+) \}\}", lambda m: values[m.group(1)], text)

    output = workdir / "github-output"
    output.write_text("")
    for step in action["runs"]["steps"]:
        condition = step.get("if")
        if condition:
            m = re.fullmatch(r"inputs\.([a-z-]+) == '([^']*)'", condition)
            assert m, f"unsupported condition {condition!r}"
            if values[m.group(1)] != m.group(2):
                continue
        env = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "GITHUB_OUTPUT": str(output)}
        env.update({k: substitute(v) for k, v in step.get("env", {}).items()})
        assert step["shell"] == "bash"
        r = subprocess.run(["bash", "-e", "-c", substitute(step["run"])], cwd=workdir, env=env, capture_output=True, timeout=600)
        if r.returncode != 0:
            return r, step["name"], output.read_text()
    return r, None, output.read_text()


def test_the_action_converts_and_boots_and_fails_the_job_on_the_guests_status(tool_on_path, tmp_path):
    boot.need_boot_tools()
    ok = boot.busybox_image(tmp_path / "ok", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo FROM-THE-ACTION; exit 0"]})
    r, failed, outputs = run_action({"source": ok, "output": "app.qcow2", "run": "true"}, tool_on_path, tmp_path)
    assert failed is None, (failed, e2e._show(r))
    assert b"FROM-THE-ACTION" in r.stdout
    assert "disk=app.qcow2" in outputs.splitlines()
    assert (tmp_path / "app.qcow2").read_bytes()[:4] == b"QFI\xfb"

    bad = boot.busybox_image(tmp_path / "bad", {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["exit 3"]})
    r, failed, _ = run_action({"source": bad, "output": "bad.img", "run": "true"}, tool_on_path, tmp_path)
    assert failed == "Boot" and r.returncode == 3, (failed, e2e._show(r))


def test_the_tekton_tasks_step_runs_with_its_parameters(tool_on_path, tmp_path):
    task = yaml.safe_load((CI / "tekton" / "oci2disk-task.yaml").read_text())
    assert task["apiVersion"] == "tekton.dev/v1" and task["kind"] == "Task"
    spec = task["spec"]
    declared = {"params": {p["name"] for p in spec["params"]}, "workspaces": {w["name"] for w in spec["workspaces"]},
                "results": {r["name"] for r in spec["results"]}}
    text = json.dumps(spec["steps"])
    for kind, name in re.findall(r"\$\((params|workspaces|results)\.([a-z0-9-]+)", text):
        assert name in declared[kind], f"{kind}.{name} is used but not declared"
    for step in spec["steps"]:
        assert step["securityContext"]["runAsNonRoot"] if "securityContext" in step else True

    source = boot.busybox_image(tmp_path / "layout", {"Cmd": ["/bin/true"]})
    workspace = tmp_path / "ws"
    workspace.mkdir()
    params = {"source": source, "output": "disk.qcow2", "convert-args": ["--no-kernel"]}
    step = spec["steps"][0]
    argv = []
    for arg in step["command"] + step["args"]:
        if arg == "$(params.convert-args[*])":
            argv += params["convert-args"]
            continue
        arg = arg.replace("$(workspaces.output.path)", str(workspace))
        argv.append(re.sub(r"\$\(params\.([a-z0-9-]+)\)", lambda m: params[m.group(1)], arg))
    r = subprocess.run(argv, cwd=workspace, env={"PATH": tool_on_path, "HOME": os.environ.get("HOME", "/root")}, capture_output=True)
    assert r.returncode == 0, e2e._show(r)
    assert (workspace / "disk.qcow2").read_bytes()[:4] == b"QFI\xfb"


def test_the_kubernetes_job_passes_the_schemas_and_a_broken_one_does_not(tmp_path):
    tool = kubernetes_validate()
    job = CI / "kubernetes" / "convert-job.yaml"
    r = subprocess.run([*tool, "--strict", str(job)], capture_output=True, text=True)
    assert r.returncode == 0 and "passed" in r.stdout, r.stdout + r.stderr
    broken = yaml.safe_load(job.read_text())
    broken["spec"]["template"]["spec"]["containers"][0]["volumeMount"] = broken["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts")
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    r = subprocess.run([*tool, "--strict", str(tmp_path / "broken.yaml")], capture_output=True, text=True)
    assert r.returncode != 0, r.stdout + r.stderr

    # The VirtualMachine boots what the Job pushes.
    vm = yaml.safe_load((CI / "kubernetes" / "virtualmachine.yaml").read_text())
    env = {e["name"]: e.get("value") for e in yaml.safe_load(job.read_text())["spec"]["template"]["spec"]["containers"][0]["env"]}
    volumes = vm["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["containerDisk"]["image"] == env["CONTAINERDISK_IMAGE"]
