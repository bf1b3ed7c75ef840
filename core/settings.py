"""Where a cycle's inputs and outputs live: one set of options for every command and the DAG."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from core.errors import UserError

ENV = {
    "inbox": "CYCLE_INBOX",
    "warehouse": "CYCLE_WAREHOUSE",
    "reports": "CYCLE_REPORTS",
    "archive": "CYCLE_ARCHIVE",
    "contacts": "CYCLE_CONTACTS",
}
# Everything a deployment keeps sits under ./data by default (one folder to back up).
DEFAULTS = {
    "inbox": "data/inbox",
    "warehouse": "data/warehouse/warehouse.duckdb",
    "reports": "data/reports",
    "archive": "data/archive",
    "contacts": "data/contacts.csv",
}


@dataclass(frozen=True)
class Settings:
    """Paths (and the warehouse URL) a cycle runs against.

    `warehouse` is a DuckDB file path (the default) or a `postgresql://` URL for the shared
    multi-user warehouse.
    """

    inbox: Path
    warehouse: str
    reports: Path
    archive: Path
    contacts: Path

    @classmethod
    def from_env(cls, base: Path | None = None, **overrides: str | Path | None) -> Settings:
        """Options given win over `CYCLE_*` environment variables, which win over defaults
        under the working directory."""
        base = base or Path.cwd()
        values: dict[str, str] = {}
        for name, env in ENV.items():
            given = overrides.get(name)
            values[name] = (
                str(given) if given not in (None, "") else os.environ.get(env) or DEFAULTS[name]
            )
        warehouse = values["warehouse"]
        if "://" in warehouse and not is_postgres_url(warehouse):
            # a mistyped URL would otherwise become a DuckDB file in a folder named `mysql:`
            raise UserError(
                f"Địa chỉ kho dữ liệu không hợp lệ / unsupported warehouse URL "
                f"'{warehouse.split('://', 1)[0]}://...': "
                "give a DuckDB file's path or a postgresql://user@host:port/database URL "
                "(--warehouse / CYCLE_WAREHOUSE)"
            )
        if is_postgres_url(warehouse):
            try:
                urlparse(warehouse).port  # noqa: B018 (raises on a malformed host or port)
            except ValueError as exc:
                raise UserError(
                    f"Địa chỉ PostgreSQL không hợp lệ / invalid PostgreSQL URL ({exc}): write it "
                    "as postgresql://user@host:port/database (--warehouse / CYCLE_WAREHOUSE)"
                ) from None
        else:
            warehouse = str((base / warehouse).resolve())
        return cls(
            inbox=(base / values["inbox"]).resolve(),
            warehouse=warehouse,
            reports=(base / values["reports"]).resolve(),
            archive=(base / values["archive"]).resolve(),
            contacts=(base / values["contacts"]).resolve(),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    def as_env(self) -> dict[str, str]:
        """The same settings as `CYCLE_*` variables (for subprocesses and Airflow tasks)."""
        return {ENV[name]: str(getattr(self, name)) for name in ENV}


def is_postgres_url(value: str) -> bool:
    return value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))
