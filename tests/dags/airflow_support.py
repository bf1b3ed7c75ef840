"""A real Airflow API server for a test: its own AIRFLOW_HOME (SQLite metadata), users of
Airflow's simple auth manager with known passwords, and the REST calls a person's client makes
(a token per user, the Required actions waiting, an answer)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import ROOT

AIRFLOW = str(Path(sys.executable).parent / "airflow")
PASSWORD = "pw-{user}"

_T = TypeVar("_T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], _T], bound: float, every: float = 1.0) -> _T | None:
    """Poll until `condition()` is truthy; None after `bound` seconds (the caller's assertion
    then fails on what it finds, never on the time taken)."""
    end = time.monotonic() + bound
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


def airflow_env(home: Path, users: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of every Airflow process of the test: `users` maps user name to role
    (viewer, user, op, admin)."""
    port = free_port()
    passwords = home / "passwords.json"
    home.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps({u: PASSWORD.format(user=u) for u in users}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTEST"))}
    return (
        env
        | {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{u}:{r}" for u, r in users.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
        }
        | dict(extra)
    )


def airflow(env: Mapping[str, str], *args: str) -> str:
    result = subprocess.run(
        [AIRFLOW, *args], capture_output=True, text=True, check=False, env=dict(env)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@dataclass
class ApiServer:
    """`airflow api-server` answering on `url`; `log` is its output."""

    url: str
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, user: str, method: str, path: str, body: Any = None) -> Any:
        """A REST call as `user` (a JWT from /auth/token, as any client gets one)."""
        if user not in self.tokens:
            self.tokens[user] = self._request(
                "POST", "/auth/token", {"username": user, "password": PASSWORD.format(user=user)}
            )["access_token"]
        return self._request(method, path, body, {"Authorization": f"Bearer {self.tokens[user]}"})

    def _request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: {exc.code} {exc.read().decode()}") from exc

    def required_actions(self, user: str, dag_id: str) -> list[dict[str, Any]]:
        """The questions of `dag_id` waiting for an answer, as the UI's Required actions page
        lists them."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails?response_received=false"
        found = self.call(user, "GET", path)
        return [d for d in found["hitl_details"] if d["task_instance"]["state"] == "awaiting_input"]

    def answer(
        self, user: str, action: dict[str, Any], option: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """Answer one Required action as `user`, through the REST API."""
        ti = action["task_instance"]
        path = (
            f"/api/v2/dags/{ti['dag_id']}/dagRuns/{urllib.parse.quote(ti['dag_run_id'])}"
            f"/taskInstances/{ti['task_id']}/{ti['map_index']}/hitlDetails"
        )
        answered: dict[str, Any] = self.call(
            user, "PATCH", path, {"chosen_options": [option], "params_input": params}
        )
        return answered


def processes_of(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (a test's AIRFLOW_HOME=...)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@contextlib.contextmanager
def api_server(env: Mapping[str, str], log: Path) -> Iterator[ApiServer]:
    """`airflow api-server` on the environment's port, until the block ends; then it and
    every process of this AIRFLOW_HOME are stopped."""
    url = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [AIRFLOW, "api-server"],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        up = wait_for(lambda: _answers(f"{url}/api/v2/monitor/health"), 120)
        assert up, log.read_text(errors="replace")[-3000:]
        yield ApiServer(url, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=60)
        for pid in processes_of(f"AIRFLOW_HOME={env['AIRFLOW_HOME']}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # this test's own processes (its AIRFLOW_HOME)
        server.poll()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False
