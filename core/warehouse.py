"""One connection interface over the two warehouses: a DuckDB file (default) or PostgreSQL.

SQL written for it uses `?` placeholders and portable syntax; the PostgreSQL side rewrites the
placeholders. Bulk writes go through DuckDB's DataFrame scan or PostgreSQL's COPY, never row by
row. pandas is imported only by the methods that take or give a DataFrame: importing it costs
more than a whole re-run of ingest, which writes plain rows (`insert_rows`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import socket
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

from core.errors import UserError
from core.settings import is_postgres_url

if TYPE_CHECKING:
    import pandas as pd

WarehouseKind = Literal["duckdb", "postgres"]

LIST_INSERT_MAX_CELLS = 200_000
"""`insert_rows` on DuckDB passes up to this many values as list parameters (~1 µs each);
beyond, DataFrame scans (of this many values each) are cheaper even counting the pandas
import."""


_ROW_HASH = {
    # DuckDB's own 64-bit hash of the values, vectorised: twenty times faster than md5 of the
    # row's text. A DuckDB upgrade may change it: what is digested with it is then redone once.
    "duckdb": "hash({columns})",
    # PostgreSQL has none: the first 64 bits of the md5 of the row's text.
    "postgres": "('x' || left(md5(cast(row({columns}) as text)), 16))::bit(64)::bigint",
}


class WarehouseUnavailable(UserError):
    """The warehouse named by the settings cannot be opened (the message says why)."""


class WarehouseInUse(WarehouseUnavailable):
    """Another process has the DuckDB file open (DuckDB allows one writer, or many readers)."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file of that name is in the way"
    return (exc.strerror or str(exc)).lower()


def _postgres_reason(text: str) -> str:
    """psycopg's message without its prefixes: 'connection failed: connection to server at
    "h", port p failed: FATAL:  role "x" does not exist' -> 'role "x" does not exist'."""
    line = _first_line(text)
    for marker in ("FATAL:", "failed:", "connection is bad:"):
        if marker in line:
            line = line.rsplit(marker, 1)[1]
    return " ".join(line.split())


LOCK_WAIT_ENV = "CYCLE_LOCK_WAIT"
LOCK_WAIT_DEFAULT = 120.0
"""Seconds a step waits for another run's lock on the warehouse before giving up: a late
return's re-run takes ~10 s, a national cycle about a minute (benchmarks/README.md)."""
LOCK_HOLDER_ENV = "CYCLE_WAREHOUSE_LOCK_HOLDER"
"""Set by a lock holder for the processes it starts (`cycle run` transforms and validates in
worker processes): `<pid> <warehouse>`; its children run under its lock."""
ADVISORY_LOCK_KEY = 0x6379636C65
"""The PostgreSQL advisory lock of a warehouse (advisory locks are per database): "cycle"."""
_held: dict[str, int] = {}
"""Locks this process holds, by warehouse, with how many steps took each (steps nest)."""


class WarehouseBusy(UserError):
    """Another run (or an analyst's session on a DuckDB file) holds the warehouse."""


def _lock_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, LOCK_WAIT_DEFAULT)))
    except ValueError:
        return LOCK_WAIT_DEFAULT


def _holder_text(command: str) -> str:
    """Who takes a lock: host, pid, command and start time, for the message another run shows."""
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{command} (pid {os.getpid()} on {socket.gethostname()}, since {started})"


def _busy(warehouse: str, holder: str, waited: float, advice: str) -> WarehouseBusy:
    return WarehouseBusy(
        f"Kho dữ liệu đang bận / the warehouse is busy: {warehouse} is in use by {holder}\n"
        f"  waited {waited:.0f} s (set {LOCK_WAIT_ENV} to wait longer). {advice}"
    )


_RUN_AGAIN = (
    "Chạy lại khi lượt kia xong / run again when that run has finished (every step is idempotent)."
)
_CLOSE_DUCKDB = (
    "Đóng phiên DuckDB đang mở tệp này rồi chạy lại / close the session that has this file "
    "open (an analyst's read-only DuckDB session blocks the writer), then run again."
)


class WarehouseConnection:
    """A thin, typed wrapper over a DuckDB or psycopg connection."""

    def __init__(self, kind: WarehouseKind, raw: Any) -> None:
        self.kind = kind
        self.raw = raw

    def row_hash(self, columns: Sequence[str]) -> str:
        """SQL for a 64-bit hash of a row's values in `columns`: summed over a group, it digests
        the group's rows whatever their order, without reading them out."""
        return _ROW_HASH[self.kind].format(columns=", ".join(columns))

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.kind == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.kind == "duckdb":
            self.raw.execute(sql, list(params))
        else:
            with self.raw.cursor() as cur:
                cur.execute(self._sql(sql), list(params) or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.kind == "duckdb":
            return list(self.raw.execute(sql, list(params)).fetchall())
        with self.raw.cursor() as cur:
            cur.execute(self._sql(sql), list(params) or None)
            return list(cur.fetchall())

    def query_df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        import pandas as pd

        if self.kind == "duckdb":
            frame: pd.DataFrame = self.raw.execute(sql, list(params)).df()
            return frame
        with self.raw.cursor() as cur:
            cur.execute(self._sql(sql), list(params) or None)
            columns = [d.name for d in cur.description or []]
            return pd.DataFrame(cur.fetchall(), columns=columns)

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [schema, table],
        )
        return bool(rows[0][0])

    def insert_df(self, table: str, frame: pd.DataFrame) -> None:
        """Append a DataFrame's rows to an existing table (columns matched by name)."""
        if frame.empty:
            return
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        if self.kind == "duckdb":
            self.raw.register("_insert_frame", frame)
            try:
                self.raw.execute(
                    f"insert into {table} ({columns}) select {columns} from _insert_frame"
                )
            finally:
                self.raw.unregister("_insert_frame")
            return
        import pandas as pd

        with self.raw.cursor() as cur, cur.copy(f"copy {table} ({columns}) from stdin") as copy:
            for row in frame.itertuples(index=False, name=None):
                copy.write_row([_plain(v, pd.NaT, pd.NA) for v in row])

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Append rows of plain Python values (str, int, float, bool, date, datetime, None) to an
        existing table. Rows are consumed as they come (a generator keeps a national load from
        being held twice), and a few rows need no pandas: a late return adds a few dozen."""
        names = ", ".join(f'"{c}"' for c in columns)
        if self.kind == "postgres":
            with self.raw.cursor() as cur, cur.copy(f"copy {table} ({names}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        step = max(1, LIST_INSERT_MAX_CELLS // len(columns))
        rows = iter(rows)
        batch = list(itertools.islice(rows, step + 1))
        if len(batch) <= step:
            if batch:
                # One list per column, unnested side by side: one statement whatever the row
                # count (executemany and VALUES lists cost 15-2000 µs per value on DuckDB).
                unnest = ", ".join("unnest(?)" for _ in columns)
                by_column = [list(c) for c in zip(*batch, strict=True)]
                self.raw.execute(f"insert into {table} ({names}) select {unnest}", by_column)
            return
        import pandas as pd

        while batch:
            self.insert_df(table, pd.DataFrame(batch, columns=list(columns)))
            batch = list(itertools.islice(rows, step))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: on any error the warehouse is left as it was."""
        if self.kind == "duckdb":
            self.raw.execute("begin transaction")
            try:
                yield
            except BaseException:
                self.raw.execute("rollback")
                raise
            self.raw.execute("commit")
        else:
            with self.raw.transaction():
                yield


def _read_holder(lock_path: Path) -> str:
    try:
        return str(json.loads(lock_path.read_text(encoding="utf-8"))["holder"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"another run (see {lock_path})"


def _plain(value: Any, nat: Any, na: Any) -> Any:
    """pandas' missing values (`nat`, `na`, NaN) as SQL NULL for COPY."""
    if value is None or value is nat or value is na:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


class Warehouse:
    """The warehouse a cycle writes to, by URL: a DuckDB path or `postgresql://...`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.kind: WarehouseKind = "postgres" if is_postgres_url(url) else "duckdb"

    @property
    def path(self) -> Path:
        if self.kind != "duckdb":
            raise ValueError("a PostgreSQL warehouse has no file path")
        return Path(self.url)

    @contextlib.contextmanager
    def connect(self, read_only: bool = False) -> Iterator[WarehouseConnection]:
        """Open the warehouse; raise WarehouseUnavailable (a UserError) if it cannot be opened."""
        if self.kind == "duckdb":
            con = self._open_duckdb(read_only)
            try:
                yield WarehouseConnection("duckdb", con)
            finally:
                con.close()
        else:
            pg = self._open_postgres()
            try:
                yield WarehouseConnection("postgres", pg)
            finally:
                pg.close()

    def _open_duckdb(self, read_only: bool) -> Any:
        import duckdb

        path = self.path
        fix = "check --warehouse / CYCLE_WAREHOUSE"
        if path.is_dir():
            raise WarehouseUnavailable(
                f"Kho dữ liệu {path} là một thư mục, không phải tệp DuckDB / the warehouse {path} "
                f"is a folder, not a DuckDB file: give a file's path, e.g. "
                f"{path / 'warehouse.duckdb'} ({fix})"
            )
        if read_only and not path.exists():
            raise WarehouseUnavailable(
                f"Chưa có kho dữ liệu {path} / there is no warehouse at {path} yet: run "
                f"`cycle run CYCLE` first, or {fix}"
            )
        if not read_only:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseUnavailable(
                    f"Không tạo được thư mục kho dữ liệu {path.parent} / cannot create the "
                    f"warehouse's folder {path.parent} ({_reason(exc)}): {fix}"
                ) from None
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "not a valid DuckDB database file" in text:
                raise WarehouseUnavailable(
                    f"{path} không phải tệp DuckDB / {path} is not a DuckDB database file: {fix}"
                ) from None
            if "Permission denied" in text or "Read-only file system" in text:
                raise WarehouseUnavailable(
                    f"Không ghi được kho dữ liệu {path} / cannot write the warehouse {path} "
                    f"(permission denied or read-only folder): choose a writable place, {fix}"
                ) from None
            if "Could not set lock" in text:
                pid = re.search(r"PID (\d+)", text)
                holder = f"another process{f' (PID {pid[1]})' if pid else ''}"
                raise WarehouseInUse(
                    f"Kho dữ liệu {path} đang được tiến trình khác dùng / the warehouse {path} "
                    f"is in use by {holder}: wait for it to finish, then run the command again",
                    holder,
                ) from None
            raise WarehouseUnavailable(
                f"Không mở được kho dữ liệu {path} / cannot open the warehouse {path} "
                f"({_first_line(text.removeprefix('IO Error: '))}): {fix}"
            ) from None

    def _open_postgres(self, application_name: str | None = None) -> Any:
        import psycopg

        where = self.describe()
        try:
            if application_name:
                return psycopg.connect(
                    self.libpq_url, autocommit=True, application_name=application_name
                )
            return psycopg.connect(self.libpq_url, autocommit=True)
        except psycopg.Error as exc:
            text = str(exc)
            database = urlparse(self.libpq_url).path.lstrip("/") or "postgres"
            if f'database "{database}" does not exist' in text:
                raise WarehouseUnavailable(
                    f"Không có cơ sở dữ liệu {database} / database {database} does not exist on "
                    f"the PostgreSQL server of {where}: create it (createdb {database}) or "
                    f"check --warehouse / CYCLE_WAREHOUSE"
                ) from None
            reason = "connection refused" if "Connection refused" in text else None
            raise WarehouseUnavailable(
                f"Không kết nối được PostgreSQL / cannot reach PostgreSQL at {where} "
                f"({reason or _postgres_reason(text)}): check --warehouse / CYCLE_WAREHOUSE"
            ) from None

    @contextlib.contextmanager
    def lock(self, command: str, wait: float | None = None) -> Iterator[None]:
        """Hold the warehouse for one run or step (`command` names it for whoever waits): a
        second run waits up to `wait` seconds (default CYCLE_LOCK_WAIT, 120), then raises
        WarehouseBusy naming the holder. PostgreSQL: an advisory lock on a connection of its
        own; DuckDB: an flock on `<file>.lock` beside the file (holder written in it), and the
        file itself must be free (an analyst's session holds it). The operating system or the
        server releases both when the holder dies, even by kill -9. Re-entrant: steps inside
        `cycle run`, and the worker processes it starts, run under its lock."""
        key = self.describe()
        inherited = os.environ.get(LOCK_HOLDER_ENV) == f"{os.getppid()} {key}"
        if _held.get(key) or inherited:
            _held[key] = _held.get(key, 0) + 1
            try:
                yield
            finally:
                _held[key] -= 1
            return
        wait = _lock_wait() if wait is None else wait
        holder = _holder_text(command)
        taken = self._lock_postgres if self.kind == "postgres" else self._lock_duckdb
        with taken(holder, wait):
            _held[key] = 1
            saved = os.environ.get(LOCK_HOLDER_ENV)
            os.environ[LOCK_HOLDER_ENV] = f"{os.getpid()} {key}"
            try:
                yield
            finally:
                del _held[key]
                if saved is None:
                    os.environ.pop(LOCK_HOLDER_ENV, None)
                else:
                    os.environ[LOCK_HOLDER_ENV] = saved

    @contextlib.contextmanager
    def _lock_postgres(self, holder: str, wait: float) -> Iterator[None]:
        import psycopg

        # the holder's name is its session's application_name, which others read back
        pg = self._open_postgres(application_name=holder[:63])
        try:
            pg.execute(f"set lock_timeout = {max(1, int(wait * 1000))}")
            try:
                pg.execute(f"select pg_advisory_lock({ADVISORY_LOCK_KEY})")
            except psycopg.errors.LockNotAvailable:
                raise _busy(self.describe(), self._pg_holder(pg), wait, _RUN_AGAIN) from None
            yield
        finally:
            pg.close()  # ends the session, which releases the lock

    @staticmethod
    def _pg_holder(pg: Any) -> str:
        row = pg.execute(
            "select a.application_name, a.pid, a.client_addr::text, a.backend_start "
            "from pg_locks l join pg_stat_activity a on a.pid = l.pid "
            "where l.locktype = 'advisory' and l.granted and l.database = "
            "(select oid from pg_database where datname = current_database()) "
            "and (l.classid::bigint << 32 | l.objid::bigint) = %s",
            [ADVISORY_LOCK_KEY],
        ).fetchone()
        if row is None:
            return "another run (it has just finished: run again)"
        name, pid, addr, since = row
        return f"{name} (server pid {pid}, from {addr or 'local socket'}, connected {since})"

    @contextlib.contextmanager
    def _lock_duckdb(self, holder: str, wait: float) -> Iterator[None]:
        import fcntl

        lock_path = self.path.with_name(self.path.name + ".lock")
        deadline = time.monotonic() + wait
        if not self.path.parent.exists():
            # No warehouse, so no run to wait for: a reading step then says so and creates
            # nothing; a writing step creates the folder and DuckDB's own file lock keeps a
            # second first-ever run out.
            yield
            return
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o664)
        except OSError:
            self._open_duckdb(read_only=False).close()  # raises WarehouseUnavailable: why
            raise
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        other = _read_holder(lock_path)
                        raise _busy(self.describe(), other, wait, _RUN_AGAIN) from None
                    time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"holder": holder, "argv": sys.argv}).encode(), 0)
            # the file itself: an analyst's open session holds DuckDB's own lock on it (a file
            # not there yet is created by the step that writes it, never by the lock)
            while self.path.exists():
                try:
                    self._open_duckdb(read_only=False).close()
                    break
                except WarehouseInUse as exc:
                    if time.monotonic() >= deadline:
                        raise _busy(self.describe(), exc.holder, wait, _CLOSE_DUCKDB) from None
                    time.sleep(0.2)
            yield
        finally:
            os.close(fd)  # releases the flock

    @property
    def libpq_url(self) -> str:
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def dbt_env(self) -> dict[str, str]:
        """Environment variables `dbt_project/profiles.yml` reads for this warehouse."""
        if self.kind == "duckdb":
            return {"CYCLE_DBT_TARGET": "prod", "CYCLE_DUCKDB_PATH": str(self.path)}
        parts = urlparse(self.libpq_url)
        return {
            "CYCLE_DBT_TARGET": "prod_postgres",
            "CYCLE_PG_HOST": parts.hostname or "127.0.0.1",
            "CYCLE_PG_PORT": str(parts.port or 5432),
            "CYCLE_PG_USER": unquote(parts.username or "postgres"),
            "CYCLE_PG_PASSWORD": unquote(parts.password or ""),
            "CYCLE_PG_DATABASE": parts.path.lstrip("/") or "postgres",
        }

    def describe(self) -> str:
        if self.kind == "duckdb":
            return str(self.path)
        parts = urlparse(self.libpq_url)
        # the netloc without user and password; not `.port`, which raises on a bad port
        host = parts.netloc.rsplit("@", 1)[-1] or "localhost"
        if ":" not in host.rsplit("]", 1)[-1]:
            host += ":5432"
        return f"postgresql://{host}/{parts.path.lstrip('/')}"
