"""deploy/compose.yaml is well-formed and wires the stores the way the README and tests say.

Docker does not run here: this checks the file's structure, not the containers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
README = COMPOSE.parents[1] / "README.md"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def ports(service):
    return {int(p.split(":")[0]) for p in service.get("ports", [])}


def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            continue  # built from this repository's Dockerfile
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned"


def test_the_stores_and_their_dependencies_are_there(compose):
    services = compose["services"]
    assert {"qdrant", "milvus", "etcd", "minio", "weaviate", "multi2vec-clip"} <= set(services)
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/", "$")):
                assert source in compose["volumes"], f"{name}: undeclared volume {source}"


def test_ports_are_the_ones_the_settings_and_tests_use(compose):
    services = compose["services"]
    assert ports(services["qdrant"]) == {6333, 6334}
    assert 19530 in ports(services["milvus"])
    assert ports(services["weaviate"]) == {8080, 50051}
    readme = README.read_text(encoding="utf-8")
    for url in (
        "MMINGEST_TEST_QDRANT_URL=http://localhost:6333",
        "MMINGEST_TEST_MILVUS_URL=http://localhost:19530",
        "MMINGEST_TEST_WEAVIATE_URL=http://localhost:8080",
    ):
        assert url in readme


def test_milvus_reaches_etcd_and_minio_by_service_name(compose):
    milvus = compose["services"]["milvus"]
    assert milvus["command"] == ["milvus", "run", "standalone"]
    assert milvus["environment"]["ETCD_ENDPOINTS"] == "etcd:2379"
    assert milvus["environment"]["MINIO_ADDRESS"] == "minio:9000"
    assert set(milvus["depends_on"]) == {"etcd", "minio"}


def test_weaviate_runs_the_clip_module_through_its_container(compose):
    weaviate = compose["services"]["weaviate"]["environment"]
    assert "multi2vec-clip" in weaviate["ENABLE_MODULES"].split(",")
    assert weaviate["CLIP_INFERENCE_API"] == "http://multi2vec-clip:8080"
    assert weaviate["DEFAULT_VECTORIZER_MODULE"] == "none"  # mmingest configures each collection
    version = compose["services"]["weaviate"]["image"].rpartition(":")[2]
    assert tuple(int(x) for x in version.split(".")[:2]) >= (1, 32)  # aliases
    qdrant = compose["services"]["qdrant"]["image"].rpartition(":v")[2]
    assert tuple(int(x) for x in qdrant.split(".")[:2]) >= (1, 16)  # metadata, RRF k
