"""deploy/docker-compose.yml starts the whole system; checked structurally (Docker cannot run here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def test_it_starts_kafka_elasticsearch_kibana_and_the_three_newswatch_roles():
    assert set(SERVICES) == {"kafka", "elasticsearch", "kibana", "ingestion", "stream", "notifier"}
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert SERVICES["elasticsearch"]["image"].startswith("docker.elastic.co/elasticsearch/elasticsearch:9.")
    assert SERVICES["kibana"]["image"].startswith("docker.elastic.co/kibana/kibana:9.")
    assert {name: SERVICES[name]["command"][0] for name in ("ingestion", "stream", "notifier")} == {
        "ingestion": "run", "stream": "stream", "notifier": "notify"}


def test_kibana_and_elasticsearch_run_the_same_version():
    version = SERVICES["elasticsearch"]["image"].rsplit(":", 1)[1]
    assert SERVICES["kibana"]["image"].endswith(":" + version)


def test_newswatch_services_build_one_image_from_the_dockerfile_and_wait_for_healthy_servers():
    for name in ("ingestion", "stream", "notifier"):
        s = SERVICES[name]
        assert (DEPLOY / s["build"]["context"] / s["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        assert s["depends_on"] == {"kafka": {"condition": "service_healthy"},
                                   "elasticsearch": {"condition": "service_healthy"}}
        assert s["environment"]["NEWSWATCH_ES_URLS"] == "http://elasticsearch:9200"
        assert s["environment"]["NEWSWATCH_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
    for server in ("kafka", "elasticsearch", "kibana"):
        assert SERVICES[server]["healthcheck"]["test"][0] == "CMD-SHELL"


def test_mounted_files_exist_and_named_volumes_are_declared():
    declared = set(COMPOSE["volumes"])
    for name, s in SERVICES.items():
        for volume in s.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: {source}"


def test_published_ports_listen_on_loopback_only():
    ports = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)


def test_kafka_advertises_the_name_other_containers_reach_it_by():
    env = SERVICES["kafka"]["environment"]
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"   # newswatch creates its topics


def test_the_dockerfile_installs_the_package_and_runs_the_cli_as_a_non_root_user():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^USER newswatch$", dockerfile, re.M)
    assert 'ENTRYPOINT ["newswatch"]' in dockerfile
    for copied in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.M):
        assert (DEPLOY.parent / copied).exists(), copied


def test_the_image_runs_the_stream_job_on_prism_built_with_the_local_patches():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    [version] = re.findall(r"prism\.sh (\S+)", dockerfile)
    pinned = re.search(r'"apache-beam>=([\d.]+),<', (DEPLOY.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert pinned and version.startswith(pinned.group(1)), "Prism is built for the Beam version pyproject pins"
    assert "NEWSWATCH_PRISM=/usr/local/bin/prism" in dockerfile
    assert "COPY --from=prism /usr/local/bin/prism /usr/local/bin/prism" in dockerfile
    assert list((DEPLOY / "local" / "prism-patches").glob("*.patch")), "the patches the build applies"
