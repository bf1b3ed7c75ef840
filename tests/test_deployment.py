"""The team deployment: docker-compose.yml is valid (Debian's docker-compose, no engine needed)
and wires every service the README promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    env = tmp_path / ".env"
    env.write_text(
        (ROOT / ".env.example")
        .read_text(encoding="utf-8")
        .replace("AIRFLOW_FERNET_KEY=\n", "AIRFLOW_FERNET_KEY=test-key\n"),
        encoding="utf-8",
    )
    return env


needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose is installed by ./dev test",
)


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "docker-compose",
            "--project-directory",
            str(ROOT),
            "--env-file",
            str(env_file),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "config",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@needs_compose
def test_the_example_env_file_as_is_fails_config_for_want_of_a_fernet_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    shutil.copy(ROOT / ".env.example", env)
    result = compose_config(env)
    assert result.returncode != 0
    assert "set AIRFLOW_FERNET_KEY in .env" in result.stderr


def _env_values(env_file: Path) -> dict[str, str]:
    lines = env_file.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_a_change_me_secret_stops_the_start_up_with_a_clear_message(env_file: Path) -> None:
    check = [shutil.which("sh") or "/bin/sh", str(ROOT / "docker" / "check-env.sh")]
    values = _env_values(env_file)
    result = subprocess.run(check, env=values, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    for name in ("POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD", "AIRFLOW_JWT_SECRET"):
        assert f"{name} in .env is empty or still the example's 'change-me" in result.stderr
    assert "AIRFLOW_FERNET_KEY" not in result.stderr  # set in this file
    secrets = {k: f"s3cret-{k.lower()}" for k in ("POSTGRES_PASSWORD", "WAREHOUSE_PASSWORD")}
    secrets |= {"AIRFLOW_JWT_SECRET": "jwt-s3cret"}
    result = subprocess.run(
        check, env=values | secrets, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@needs_compose
def test_docker_compose_config_is_valid(env_file: Path) -> None:
    result = compose_config(env_file)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {
        "postgres",
        "mailpit",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
    } <= set(services)
    assert {"inbox", "archive", "reports"} <= set(config["volumes"])
    scheduler = services["airflow-scheduler"]["environment"]
    assert scheduler["CYCLE_WAREHOUSE"].startswith("postgresql://warehouse:change-me-too@postgres")
    assert scheduler["AIRFLOW_CONN_SMTP_DEFAULT"].startswith("smtp://mailpit:1025")
    assert scheduler["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert scheduler["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/warehouse/dags"  # both DAGs
    assert scheduler["CYCLE_GRACE_DAYS"] == "60"
    # Nothing starts, PostgreSQL first (its volume would keep a placeholder password), before
    # the secrets are checked.
    assert "check-env" in services["postgres"]["depends_on"]
    assert any("check-env.sh" in v for v in map(str, services["check-env"]["volumes"]))


def test_secrets_are_not_committed() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "change-me" not in compose  # every secret comes from .env
    assert (ROOT / ".env.example").exists()
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
