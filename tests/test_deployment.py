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


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose is installed by ./dev test",
)
def test_docker_compose_config_is_valid(env_file: Path) -> None:
    result = subprocess.run(
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


def test_secrets_are_not_committed() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "change-me" not in compose  # every secret comes from .env
    assert (ROOT / ".env.example").exists()
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
