"""docker-compose.yml stays valid and true to the code: checked against the compose
specification and loaded by Docker Compose's own loader (composecheck, no Docker needed)."""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from flint_chassis.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
# The team's shared folder sits beside the checkout (CI lays it there); a git worktree
# elsewhere points at it with FLINT_SHARED_DIR.
SHARED = Path(os.environ.get("FLINT_SHARED_DIR") or ROOT.parent / "shared")
SCHEMA = SHARED / "schemas" / "compose-spec.json"
STACK = ROOT / "deploy" / "stack.py"
COMPOSECHECK = SHARED / "tools" / "composecheck" / "run"
LOCAL_BROKER = ROOT / "deploy" / "kafka" / "server.properties.in"
# What keeps plugins to their own topic: the same on the local broker and in compose.
PLUGIN_SECURITY = (
    "authorizer.class.name",
    "allow.everyone.if.no.acl.found",
    "super.users",
    "listener.name.plugins.sasl.enabled.mechanisms",
    "listener.name.plugins.scram-sha-512.sasl.jaas.config",
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def normalized() -> dict:
    """The project as `docker compose config` would load it (interpolated, normalized)."""
    assert COMPOSECHECK.exists(), f"composecheck missing at {COMPOSECHECK} (CI provides ../shared/)"
    # Every variable the file insists on (`${NAME:?why}`): a secret per service, the admin key...
    names = re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text())
    required = {name: f"{name.lower()}-{'x' * 32}" for name in names}
    result = subprocess.run([str(COMPOSECHECK), str(ROOT / "docker-compose.yml")], capture_output=True, text=True,
                            timeout=600, env={**os.environ, **required})
    assert result.returncode == 0, result.stdout + result.stderr
    return yaml.safe_load(result.stdout)


def image_properties(environment: dict[str, str]) -> dict[str, str]:
    """Broker properties from KAFKA_* variables, by the apache/kafka image's rule: _ is a dot,
    __ an underscore, ___ a dash, all lower-case."""
    skip = {"KAFKA_HEAP_OPTS", "KAFKA_OPTS", "KAFKA_JMX_OPTS", "KAFKA_LOG4J_OPTS"}
    properties = {}
    for name, value in environment.items():
        if name.startswith("KAFKA_") and name not in skip:
            key = re.sub(r"(?<=[^_])_(?=[^_])", ".", name[len("KAFKA_"):]).replace("___", "-").replace("__", "_")
            properties[key.lower()] = str(value)
    return properties


def local_properties() -> dict[str, str]:
    lines = (line.split("=", 1) for line in LOCAL_BROKER.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in lines}


def listeners(value: str) -> dict[str, str]:
    return dict(entry.split("://", 1) for entry in value.split(","))


def test_compose_file_matches_the_compose_specification(compose):
    assert SCHEMA.exists(), f"compose schema missing at {SCHEMA} (CI provides ../shared/)"
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(compose)


def test_kafka_is_the_pinned_4x_kraft_image_the_local_stack_also_runs(compose):
    kafka = compose["services"]["kafka"]
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    local_version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom).group(1)
    assert kafka["image"] == f"apache/kafka:{local_version}"
    assert local_version.startswith("4.")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_postgres_creates_one_database_per_service_like_the_local_stack(compose):
    init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+);", init))
    local = set(re.search(r"SERVICE_DATABASES = \(([^)]*)\)", STACK.read_text()).group(1).replace('"', "").replace(" ", "").split(","))
    assert created == local - {""}
    mounted = compose["services"]["postgres"]["volumes"]
    assert any("postgres-init.sql:/docker-entrypoint-initdb.d/" in v for v in mounted)


def settings_of(service: str) -> type[ServiceSettings]:
    """The settings class of a Flint service (``flint_<service>.config``)."""
    module = importlib.import_module(f"flint_{service}.config")
    found = [value for value in vars(module).values() if isinstance(value, type)
             and issubclass(value, ServiceSettings) and value.service_name == service]
    assert len(found) == 1, f"flint_{service}.config should define one settings class, found {found}"
    return found[0]


def flint_services(compose: dict) -> dict[str, dict]:
    """Compose services built from the Flint image, by the Flint service they run (a helper run
    from a service's image with a command of its own, like the mail sink, is not that service)."""
    return {service["build"]["args"]["SERVICE"]: service for service in compose["services"].values()
            if "build" in service and "SERVICE" in service["build"].get("args", {}) and "command" not in service}


def test_every_setting_the_compose_file_passes_is_one_the_service_reads(compose):
    services = flint_services(compose)
    assert {"installs", "orders", "invoicing"} <= set(services)
    for name, service in services.items():
        reads = settings_of(name).environment_names()
        passed = set(service.get("environment", {}))
        misspelt = sorted(key for key in passed if key not in reads)
        assert not misspelt, f"compose passes {name} settings it never reads (misspelt?): {misspelt}"


def test_the_check_catches_a_misspelt_setting(compose):
    # given the file with one setting misspelt, as a typo in a review would slip by
    broken = copy.deepcopy(compose)
    orders = next(s for s in broken["services"].values() if s.get("build", {}).get("args", {}).get("SERVICE") == "orders")
    orders["environment"]["FLINT_ORDRES_PORT"] = orders["environment"].pop("FLINT_ORDERS_PORT")
    # then the check refuses it, naming the setting
    with pytest.raises(AssertionError, match="FLINT_ORDRES_PORT"):
        test_every_setting_the_compose_file_passes_is_one_the_service_reads(broken)


def test_docker_composes_own_loader_accepts_the_file(normalized):
    assert {"kafka", "postgres", "installs", "orders", "invoicing", "mailsink"} <= set(normalized["services"])


def test_kafka_has_the_plugin_listener_and_authorizer_of_the_local_stack(normalized):
    kafka = normalized["services"]["kafka"]
    broker, local = image_properties(kafka["environment"]), local_properties()
    # the same authorizer, super user and SCRAM-only plugin listener as deploy/kafka
    assert {k: broker.get(k) for k in PLUGIN_SECURITY} == {k: local[k] for k in PLUGIN_SECURITY}
    assert broker["allow.everyone.if.no.acl.found"] == "false"
    assert "listener.name.plugins.scram-sha-512.connections.max.reauth.ms" in broker
    protocols = dict(pair.split(":") for pair in broker["listener.security.protocol.map"].split(","))
    assert protocols.pop("PLUGINS") == "SASL_PLAINTEXT"
    assert set(protocols.values()) == {"PLAINTEXT"}  # every other listener is internal
    # plugins reach it on the host at the same port as the local stack's default
    local_port = re.search(r'FLINT_KAFKA_PLUGIN_PORT", "(\d+)"', STACK.read_text()).group(1)
    assert listeners(broker["listeners"])["PLUGINS"] == f":{local_port}"
    assert listeners(broker["advertised.listeners"])["PLUGINS"] == f"127.0.0.1:{local_port}"
    assert normalized["services"]["installs"]["environment"]["FLINT_KAFKA_PLUGIN_BOOTSTRAP"] == f"127.0.0.1:{local_port}"
    published = {str(p["target"]): p for p in kafka["ports"]}
    assert published[local_port]["published"] == local_port
    # the unauthenticated (super user) listeners are never published beyond loopback
    assert all(p.get("host_ip") == "127.0.0.1" for p in kafka["ports"])


# --- operations: data kept, restarts, start order, the image, the observability profile ---------

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "flint-golden-signals.json"


@pytest.fixture(scope="module")
def normalized_observability() -> dict:
    """The project with the observability profile on, as Docker Compose loads it."""
    names = re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text())
    required = {name: f"{name.lower()}-{'x' * 32}" for name in names}
    result = subprocess.run([str(COMPOSECHECK), "--profile", "observability", str(ROOT / "docker-compose.yml")],
                            capture_output=True, text=True, timeout=600, env={**os.environ, **required})
    assert result.returncode == 0, result.stdout + result.stderr
    return yaml.safe_load(result.stdout)


def test_kafka_writes_its_logs_to_its_volume(normalized):
    kafka = normalized["services"]["kafka"]
    log_dirs = kafka["environment"]["KAFKA_LOG_DIRS"]
    volumes = [v for v in kafka["volumes"] if v["type"] == "volume"]
    assert any(log_dirs == v["target"] or log_dirs.startswith(v["target"].rstrip("/") + "/") for v in volumes), \
        f"KAFKA_LOG_DIRS={log_dirs} is not on a volume: {volumes}"


def test_every_container_restarts_unless_stopped(normalized_observability):
    for name, service in normalized_observability["services"].items():
        assert service.get("restart") == "unless-stopped", f"{name} has no restart policy"


def test_services_that_verify_tokens_wait_for_the_issuers_keys(normalized):
    services = flint_services(normalized)
    installs_check = " ".join(services["installs"]["healthcheck"]["test"])
    assert "/.well-known/jwks.json" in installs_check and "/readyz" in installs_check
    for name, service in services.items():
        if name != "installs":
            assert service["depends_on"]["installs"]["condition"] == "service_healthy", name


def test_each_service_image_is_built_for_its_port(normalized):
    for name, service in flint_services(normalized).items():
        port = service["build"]["args"]["PORT"]
        assert service["environment"][f"FLINT_{name.upper()}_PORT"] == port
        assert any(str(p["target"]) == port for p in service["ports"]), f"{name} does not publish {port}"


def test_the_image_installs_dependencies_before_the_source_and_says_how_it_is_healthy():
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines() if not line.startswith("#")))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first_install = next(i for i, line in enumerate(lines) if line.startswith("RUN") and "pip install" in line)
    copied_before = [line for line in lines[:first_install] if line.startswith("COPY")]
    # only manifests before the dependency layer: a change of source never invalidates it
    assert copied_before and all(line.split()[1].endswith(("pyproject.toml", "constraints.txt")) for line in copied_before)
    copied_after = [line.split()[1] for line in lines[first_install:] if line.startswith("COPY")]
    assert {"contracts", "services/chassis", "services/${SERVICE}"} <= set(copied_after)
    assert any(line.startswith("EXPOSE ${PORT}") for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("flint_chassis.healthcheck" in line for line in lines)
    assert any(line.startswith("USER nobody") for line in lines)


def test_the_observability_profile_is_off_by_default_and_complete_when_on(normalized, normalized_observability):
    tools = {"prometheus", "grafana", "jaeger"}
    assert not tools & set(normalized["services"])
    assert tools <= set(normalized_observability["services"])
    for name in tools:  # their consoles only on this machine
        assert all(p.get("host_ip") == "127.0.0.1" for p in normalized_observability["services"][name]["ports"])


def test_prometheus_scrapes_every_flint_service_at_its_port(normalized_observability):
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for group in job["static_configs"] for t in group["targets"]}
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in config["scrape_configs"])
    for name, service in flint_services(normalized_observability).items():
        assert f"{name}:{service['build']['args']['PORT']}" in targets, f"Prometheus does not scrape {name}"
    mounted = [v["source"] for v in normalized_observability["services"]["prometheus"]["volumes"] if v["type"] == "bind"]
    assert str(OBSERVABILITY / "prometheus.yml") in mounted


def test_traces_reach_jaeger_when_the_endpoint_is_set(normalized_observability):
    for name, service in flint_services(normalized_observability).items():
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in service["environment"], name
    jaeger = normalized_observability["services"]["jaeger"]
    assert jaeger["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_grafana_provisions_prometheus_and_the_checked_in_dashboard(normalized_observability):
    grafana = normalized_observability["services"]["grafana"]
    mounts = {v["source"]: v["target"] for v in grafana["volumes"] if v["type"] == "bind"}
    provisioning = OBSERVABILITY / "grafana" / "provisioning"
    assert mounts[str(provisioning)] == "/etc/grafana/provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert {"uid": "prometheus", "url": "http://prometheus:9090"}.items() <= datasources[0].items()
    provider = yaml.safe_load((provisioning / "dashboards" / "flint.yml").read_text())["providers"][0]
    assert mounts[str(DASHBOARD.parent)] == provider["options"]["path"]


def test_the_dashboard_shows_the_golden_signals_from_metrics_the_chassis_exports():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {re.sub(r"_(bucket|count|sum|total)$", "", name) for e in exprs for name in re.findall(r"\bflint_\w+", e)}
    assert used <= exported_metric_names(), used - exported_metric_names()
    # traffic, errors, latency, saturation
    assert {"flint_http_requests", "flint_http_request_duration_seconds", "flint_db_pool_connections",
            "flint_consumer_lag", "flint_outbox_backlog", "flint_consumer_dead_letters"} <= used
    assert any('status=~"5.."' in e for e in exprs)
    assert all(p["datasource"]["uid"] == "prometheus" for p in dashboard["panels"] if p["type"] != "row")


def exported_metric_names() -> set[str]:
    """What a Flint service's /metrics can hold: the chassis' metrics and its runtime's."""
    from types import SimpleNamespace

    from flint_chassis import metrics
    from flint_chassis.runtime_metrics import RuntimeMetrics

    names = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and str(m._name).startswith("flint_")}
    runtime = RuntimeMetrics(SimpleNamespace(service="any", pool=None, consumers=[]), "1")
    runtime._snapshot.outbox = (0, 0.0)
    return names | {family.name for family in runtime.collect()}
