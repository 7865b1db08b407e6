"""docker-compose.yml stays valid and true to the code (no compose tool runs here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from flint_chassis.config import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "schemas" / "compose-spec.json"
STACK = ROOT / "deploy" / "stack.py"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


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


def test_every_setting_the_compose_file_passes_is_one_the_services_read(compose):
    known = {field.alias or name.upper() for name, field in ServiceSettings.model_fields.items()}
    anchors = compose.get("x-flint-env", {})
    assert set(anchors) <= known
    for name, service in compose["services"].items():
        if name in ("kafka", "postgres"):
            continue
        env = service.get("environment", {})
        unknown = {k for k in env if not k.startswith("FLINT_") and k not in known}
        assert not unknown, f"{name} passes settings no code reads: {unknown}"
