"""deploy/k8s, offline: every overlay renders, every object is valid against the Kubernetes
schemas (CloudNativePG's structurally), and the manifests agree with the code — settings
names, commands, ports, probes, secrets, and what the prod profile refuses to start without."""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from kubernetes_validate import utils as kv

from kit.auth import private_key_pem, public_jwk
from kit.config import DATABASES, SERVICES, Settings
from services.members.pii import Keyring
from tests.deploy.support import (
    CNPG_SCHEMAS,
    EXTERNAL_SECRETS,
    K8S,
    K8S_VERSION,
    OPERATOR_SECRETS,
    OVERLAYS,
    ROOT,
    configmap,
    containers,
    deployment_env,
    one,
    pod_specs,
    render,
)

pytestmark = pytest.mark.unit

PROCESSES = sorted(p.parent.name for p in (ROOT / "services").glob("*/main.py"))
SETTING_NAMES = {f"CHAINCLUB_{name.upper()}" for name in Settings.model_fields} | {
    f"CHAINCLUB_{db.upper()}_DATABASE_URL"
    for db in DATABASES  # kit.config database_url_for
}


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(K8S / "overlays" / request.param)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}


def _chainclub_containers(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (dep["metadata"]["name"], c)
        for dep, pod in pod_specs(objects)
        if dep["kind"] == "Deployment"
        for c in containers(pod)
    ]


def test_the_overlays_are_dev_and_prod_and_the_base_and_components_render() -> None:
    assert OVERLAYS == ["dev", "prod"]
    assert {o["kind"] for o in render(K8S / "base")} >= {"Deployment", "Service", "ConfigMap", "Namespace"}


def test_every_object_is_valid_against_the_kubernetes_schemas(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, objects = overlay
    problems = []
    for obj in objects:
        where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
        if obj["apiVersion"].startswith("postgresql.cnpg.io/"):
            schema = CNPG_SCHEMAS.get(obj["kind"])
            if schema is None:
                problems.append(f"{where}: no structural schema for this CloudNativePG kind")
                continue
            errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)]
        else:
            try:
                kv.validate(obj, K8S_VERSION, strict=True)
                errors = []
            except kv.ValidationError as exc:
                errors = [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
            except kv.SchemaNotFoundError:
                errors = [f"unknown kind or apiVersion {obj['apiVersion']}"]
        problems += [f"{where}: {e}" for e in errors]
    assert not problems, "\n".join(problems)


def test_every_namespaced_object_lives_in_the_chainclub_namespace(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    outside = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in objects
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "chainclub"
    ]
    assert not outside


def test_every_process_in_services_has_a_deployment_running_it_and_its_migrations(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    assert set(PROCESSES) == {*SERVICES, "gateway"} == set(DATABASES)
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    assert set(deployments) == set(PROCESSES)
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        (app,) = pod["containers"]
        (migrate,) = pod["initContainers"]
        assert (app["name"], app["args"]) == ("app", ["serve", name])
        assert (migrate["name"], migrate["args"]) == ("migrate", ["migrate", name])
        assert "command" not in app and "command" not in migrate, "the image's entry point is `chainclub`"


def test_grpc_services_are_headless_so_clients_spread_calls_over_replicas(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    """kit.grpcclient resolves ``<service>:<port>`` through DNS and calls round-robin over
    every address: only a headless Service gives it every replica's address."""
    _, objects = overlay
    grpc_services = [p for p in PROCESSES if p != "gateway"]
    for name in grpc_services:
        svc = one(objects, "Service", name)
        assert svc["spec"].get("clusterIP") == "None", f"Service {name} is not headless"


def test_every_chainclub_setting_in_the_manifests_is_a_settings_field(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    names = set(configmap(objects, "chainclub-config")["data"])
    for _, c in _chainclub_containers(objects):
        names |= {e["name"] for e in c.get("env", []) if e["name"].startswith("CHAINCLUB_")}
    assert all(n.startswith("CHAINCLUB_") for n in configmap(objects, "chainclub-config")["data"])
    assert names - SETTING_NAMES == set()
    assert len(names) > 15


def test_one_image_for_every_chainclub_container_and_a_pinned_tag(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    name, objects = overlay
    images = {c["image"] for _, c in _chainclub_containers(objects)}
    assert len(images) == 1, images
    (image,) = images
    repo, _, tag = image.rpartition(":")
    assert repo.endswith("chainclub") and tag and tag != "latest"
    if name == "prod":
        assert "/" in repo, "production pulls from a registry"
    third_party = {
        c["image"] for obj, pod in pod_specs(objects) if obj["kind"] != "Deployment" for c in containers(pod)
    }
    assert all(re.search(r":[0-9][\w.-]*$", i) for i in third_party), third_party


def test_pods_run_unprivileged_on_a_read_only_root_with_resources(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    for obj, pod in pod_specs(objects):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        for c in containers(pod):
            sc = c["securityContext"]
            where = f"{obj['metadata']['name']}/{c['name']}"
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"], where


def _settings_of(objects: list[dict[str, Any]], container_env: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The plain (non-secret) environment a chainclub container gets: ConfigMap, then env."""
    env = dict(configmap(objects, "chainclub-config")["data"])
    env |= {k: e["value"] for k, e in container_env.items() if "value" in e}
    return env


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("CHAINCLUB_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_service_probes_ports_and_addresses_agree_with_the_settings(
    overlay: tuple[str, list[dict[str, Any]]], clean_env: pytest.MonkeyPatch
) -> None:
    _, objects = overlay
    for name in SERVICES:
        dep = one(objects, "Deployment", name)
        (app,) = dep["spec"]["template"]["spec"]["containers"]
        env = _settings_of(objects, deployment_env(dep, "app"))
        for key, value in env.items():
            clean_env.setenv(key, value)
        own = Settings()  # validates every value the way the process will
        host, port = own.service_addr(name).rsplit(":", 1)
        assert host == own.host == "0.0.0.0"
        ports = {p["name"]: p["containerPort"] for p in app["ports"]}
        assert ports == {"grpc": int(port), "metrics": own.metrics_port}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert app[probe]["grpc"]["port"] == int(port), (name, probe)
        annotations = dep["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(own.metrics_port)
        # the others reach it at the address in the ConfigMap: its Service, its port
        config = configmap(objects, "chainclub-config")["data"]
        client_host, client_port = config[f"CHAINCLUB_{name.upper()}_ADDR"].rsplit(":", 1)
        service = one(objects, "Service", client_host)
        assert service["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
        (grpc_port,) = [p for p in service["spec"]["ports"] if p["name"] == "grpc"]
        assert (grpc_port["port"], grpc_port["targetPort"]) == (int(client_port), "grpc")


def test_gateway_probes_hit_its_real_routes_on_its_real_port(
    overlay: tuple[str, list[dict[str, Any]]], clean_env: pytest.MonkeyPatch
) -> None:
    from services.gateway.routes import health

    _, objects = overlay
    dep = one(objects, "Deployment", "gateway")
    (app,) = dep["spec"]["template"]["spec"]["containers"]
    for key, value in _settings_of(objects, deployment_env(dep, "app")).items():
        clean_env.setenv(key, value)
    settings = Settings()
    assert settings.host == "0.0.0.0"
    assert app["ports"] == [{"name": "http", "containerPort": settings.gateway_port}]
    routes = {r.path for r in health.router.routes}
    probed = {app[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert probed == {"/healthz", "/readyz"} and probed <= routes
    assert all(
        app[p]["httpGet"]["port"] == "http" for p in ("startupProbe", "readinessProbe", "livenessProbe")
    )
    annotations = dep["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] in routes
    assert annotations["prometheus.io/port"] == str(settings.gateway_port)
    ingress = one(objects, "Ingress", "gateway")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = one(objects, "Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_every_reference_resolves(overlay: tuple[str, list[dict[str, Any]]]) -> None:
    """ConfigMaps and Secrets exist (or are the operator's or the installer's); Services, PDBs
    and HPAs select or target a workload that exists."""
    name, objects = overlay
    present = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    secrets = {n for k, n in present if k == "Secret"} | OPERATOR_SECRETS
    if name == "prod":
        secrets |= EXTERNAL_SECRETS
        assert not any(k == "Secret" for k, _ in present), "production secrets never come from the repository"
    for obj, pod in pod_specs(objects):
        for c in containers(pod):
            for src in c.get("envFrom", []):
                assert ("ConfigMap", src["configMapRef"]["name"]) in present
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                assert ref["name"] in secrets, (obj["metadata"]["name"], e["name"], ref)
                generated = present.get(("Secret", ref["name"]))
                if generated is not None and not ref.get("optional"):
                    assert ref["key"] in generated.get("data", {}), ref
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in present
    pod_labels = [pod_obj["spec"]["template"]["metadata"]["labels"] for pod_obj, _ in pod_specs(objects)]

    def selects(selector: dict[str, str]) -> bool:
        return any(selector.items() <= labels.items() for labels in pod_labels)

    for obj in objects:
        if obj["kind"] == "Service":
            assert selects(obj["spec"]["selector"]), obj["metadata"]["name"]
        if obj["kind"] == "PodDisruptionBudget":
            assert selects(obj["spec"]["selector"]["matchLabels"]), obj["metadata"]["name"]
        if obj["kind"] == "HorizontalPodAutoscaler":
            target = obj["spec"]["scaleTargetRef"]
            assert (target["kind"], target["name"]) in present
            assert obj["spec"]["minReplicas"] <= obj["spec"]["maxReplicas"]
            assert "replicas" not in present[(target["kind"], target["name"])]["spec"], (
                "the HPA owns replicas"
            )
    scaled = {o["spec"]["scaleTargetRef"]["name"] for o in objects if o["kind"] == "HorizontalPodAutoscaler"}
    budgeted = {o["metadata"]["name"] for o in objects if o["kind"] == "PodDisruptionBudget"}
    assert scaled == set(PROCESSES) and budgeted == {*PROCESSES, "nats"}


def test_every_process_reads_its_database_from_the_operators_secret(
    overlay: tuple[str, list[dict[str, Any]]],
) -> None:
    _, objects = overlay
    for dep_name, c in _chainclub_containers(objects):
        ref = {e["name"]: e for e in c["env"]}["CHAINCLUB_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "chainclub-pg-app", "key": "uri"}, (dep_name, c["name"])
    cluster = one(objects, "Cluster", "chainclub-pg")
    dbs = {o["spec"]["name"] for o in objects if o["kind"] == "Database"}
    assert dbs == {f"{Settings.model_fields['db_prefix'].default}{db}" for db in DATABASES}
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] in dbs
    assert {o["spec"]["owner"] for o in objects if o["kind"] == "Database"} == {
        cluster["spec"]["bootstrap"]["initdb"]["owner"]
    }


# What each process refuses to start without in the prod profile (kit/config.py
# check_production, services/members/pii.py), each one missing alone; a database in any.
REFUSED_WITHOUT = {
    "gateway": {"CHAINCLUB_DATABASE_URL", "CHAINCLUB_JWT_PRIVATE_KEY", "CHAINCLUB_ADMIN_PASSWORD"},
    "members": {
        "CHAINCLUB_DATABASE_URL",
        "CHAINCLUB_JWT_PUBLIC_JWKS",
        "CHAINCLUB_PII_KEYS",
        "CHAINCLUB_PII_INDEX_KEY",
    },
    **{
        name: {"CHAINCLUB_DATABASE_URL", "CHAINCLUB_JWT_PUBLIC_JWKS"}
        for name in ("wallet", "loyalty", "notify")
    },
}


def _prod_secret_values() -> dict[tuple[str, str], str]:
    key = Ed25519PrivateKey.generate()
    pii = base64.b64encode(os.urandom(32)).decode()
    return {
        ("chainclub-pg-app", "uri"): "postgresql://chainclub:pw@chainclub-pg-rw:5432/chainclub_gateway",
        ("chainclub-secrets", "nats-url"): "nats://nats:4222",
        ("chainclub-secrets", "jwt-private-key"): private_key_pem(key),
        ("chainclub-secrets", "jwt-public-jwks"): json.dumps({"keys": [public_jwk(key.public_key())]}),
        ("chainclub-secrets", "admin-password"): "a long production password",
        ("chainclub-secrets", "pii-keys"): json.dumps({"k1": pii}),
        ("chainclub-secrets", "pii-active-key"): "k1",
        ("chainclub-secrets", "pii-index-key"): base64.b64encode(os.urandom(32)).decode(),
        ("chainclub-secrets", "notify-http-token"): "token",
    }


def _start_checks(name: str) -> None:
    """What a process checks at start before it touches a server (kit.runtime.serve,
    services.gateway.main, services.members.api)."""
    settings = Settings()
    settings.check_production(signs_tokens=name == "gateway")
    if name == "gateway":
        settings.effective_admin_password()
    if name == "members":
        Keyring.from_config(
            settings.pii_keys, settings.pii_active_key, settings.pii_index_key, settings.profile
        )
    assert settings.database_url_for(name).endswith(f"/{settings.db_prefix}{name}")


def test_prod_wires_every_secret_the_prod_profile_demands(
    rendered: dict[str, list[dict[str, Any]]], clean_env: pytest.MonkeyPatch
) -> None:
    """With the installer's secrets in place every prod process passes its start checks; with
    one of them missing it refuses exactly when the code says it must."""
    objects = rendered["prod"]
    values = _prod_secret_values()
    for name in PROCESSES:
        env = deployment_env(one(objects, "Deployment", name), "app")
        plain = _settings_of(objects, env)
        secret = {
            k: values[(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])]
            for k, e in env.items()
            if "valueFrom" in e
        }
        for key, value in {**plain, **secret}.items():
            clean_env.setenv(key, value)
        assert Settings().profile == "prod"
        _start_checks(name)
        refused = set()
        for key, value in secret.items():
            clean_env.delenv(key)
            try:
                _start_checks(name)
            except RuntimeError:
                refused.add(key)
            clean_env.setenv(key, value)
        assert refused == REFUSED_WITHOUT[name], name
        for key in secret:
            clean_env.delenv(key)


def test_prod_runs_r3_streams_with_fsync_on_a_three_node_quorum(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    prod = rendered["prod"]
    config = configmap(prod, "chainclub-config")["data"]
    assert config["CHAINCLUB_PROFILE"] == "prod"
    assert config["CHAINCLUB_NATS_STREAM_REPLICAS"] == "3"
    assert config["CHAINCLUB_NATS_SYNC_ALWAYS"] == "true"
    nats = one(prod, "StatefulSet", "nats")
    assert nats["spec"]["replicas"] == 3
    conf = configmap(prod, "nats-config")["data"]["nats.conf"]
    assert re.search(r"^\s*sync_interval:\s*always\s*$", conf, re.M)
    routes = re.findall(r"nats://(nats-\d)\.nats-headless:6222", conf)
    assert routes == [f"nats-{i}" for i in range(nats["spec"]["replicas"])]
    cluster = one(prod, "Cluster", "chainclub-pg")["spec"]
    assert cluster["instances"] == 3
    assert cluster["postgresql"]["synchronous"]["number"] >= 1
    assert one(prod, "ScheduledBackup", "chainclub-pg-nightly")["spec"]["cluster"]["name"] == "chainclub-pg"
    assert all(o["spec"]["minReplicas"] >= 3 for o in prod if o["kind"] == "HorizontalPodAutoscaler")


def test_prod_exports_traces_to_the_collector_and_dev_does_not(
    rendered: dict[str, list[dict[str, Any]]], clean_env: pytest.MonkeyPatch
) -> None:
    prod = configmap(rendered["prod"], "chainclub-config")["data"]
    assert prod["CHAINCLUB_OTEL_EXPORTER"] == "otlp"
    assert prod["CHAINCLUB_OTEL_ENDPOINT"] == "http://otel-collector:4318"
    for key, value in prod.items():
        clean_env.setenv(key, value)
    settings = Settings()  # what the processes read from it
    assert (settings.otel_exporter, settings.otel_endpoint) == ("otlp", "http://otel-collector:4318")
    dev = configmap(rendered["dev"], "chainclub-config")["data"]
    assert "CHAINCLUB_OTEL_EXPORTER" not in dev and "CHAINCLUB_OTEL_ENDPOINT" not in dev


def test_dev_is_small_and_in_the_dev_profile(rendered: dict[str, list[dict[str, Any]]]) -> None:
    dev = rendered["dev"]
    config = configmap(dev, "chainclub-config")["data"]
    assert (config["CHAINCLUB_PROFILE"], config["CHAINCLUB_NATS_STREAM_REPLICAS"]) == ("dev", "1")
    assert one(dev, "Cluster", "chainclub-pg")["spec"]["instances"] == 1
    assert "backup" not in one(dev, "Cluster", "chainclub-pg")["spec"]
    assert "synchronous" not in one(dev, "Cluster", "chainclub-pg")["spec"]["postgresql"]
    assert not [o for o in dev if o["kind"] == "ScheduledBackup"]
    assert all(o["spec"]["minReplicas"] == 1 for o in dev if o["kind"] == "HorizontalPodAutoscaler")


def test_make_k8s_renders_every_overlay() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nk8s:", 1)[1].split("\n\n", 1)[0]
    assert "kubectl kustomize deploy/k8s/overlays/" in recipe
    assert re.search(r"^OVERLAY \?= \$\(notdir \$\(wildcard deploy/k8s/overlays/\*\)\)$", makefile, re.M)


def test_readme_says_how_to_deploy() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying", 1)[1].split("\n## ", 1)[0]
    for needle in ("deploy/docker/Dockerfile", "make k8s", "chainclub-secrets", "CloudNativePG"):
        assert needle in section
    for _, key in _prod_secret_values():
        if key != "uri":
            assert f"`{key}`" in section, key
