"""The warehouse's raw layer: what ingest writes and dbt reads as sources.

Portable DDL for DuckDB and PostgreSQL. Rows are only ever added; a file's status is the one
thing that changes when a later return supersedes it.
"""

from __future__ import annotations

from core.warehouse import WarehouseConnection

RECEIVED_FILES_COLUMNS = (
    "cycle",
    "file_name",
    "file_sha256",
    "file_format",
    "file_size",
    "reporter_code",
    "reporter_name",
    "submitted_on",
    "received_at",
    "archive_path",
    "status",
    "reason_code",
    "reason_vi",
    "reason_en",
    "superseded_by_file",
    "superseded_by_sha256",
    "duplicate_of",
    "rows_total",
    "rows_loaded",
    "rows_rejected",
    "rows_blank",
    "form_version",
)
RETURN_VALUES_COLUMNS = (
    "file_sha256",
    "cycle",
    "reporter_code",
    "unit_code",
    "element_code",
    "value",
    "sheet",
    "source_row",
    "note",
)
REJECTED_ROWS_COLUMNS = (
    "file_sha256",
    "cycle",
    "file_name",
    "reporter_code",
    "sheet",
    "source_row",
    "unit_code",
    "element_code",
    "value_text",
    "reason_code",
    "reason_vi",
    "reason_en",
)

DDL = (
    "create schema if not exists raw",
    """
    create table if not exists raw.received_files (
        cycle varchar not null,
        file_name varchar not null,
        file_sha256 varchar not null,
        file_format varchar,
        file_size bigint not null,
        reporter_code varchar,
        reporter_name varchar,
        submitted_on date,
        received_at timestamp not null,
        archive_path varchar not null,
        status varchar not null,
        reason_code varchar,
        reason_vi varchar,
        reason_en varchar,
        superseded_by_file varchar,
        superseded_by_sha256 varchar,
        duplicate_of varchar,
        rows_total integer not null,
        rows_loaded integer not null,
        rows_rejected integer not null,
        rows_blank integer not null,
        form_version varchar,
        primary key (cycle, file_name, file_sha256)
    )
    """,
    """
    create table if not exists raw.return_values (
        file_sha256 varchar not null,
        cycle varchar not null,
        reporter_code varchar not null,
        unit_code varchar not null,
        element_code varchar not null,
        value bigint not null,
        sheet varchar,
        source_row integer not null,
        note varchar,
        primary key (file_sha256, unit_code, element_code)
    )
    """,
    """
    create table if not exists raw.rejected_rows (
        file_sha256 varchar not null,
        cycle varchar not null,
        file_name varchar not null,
        reporter_code varchar,
        sheet varchar,
        source_row integer not null,
        unit_code varchar,
        element_code varchar,
        value_text varchar,
        reason_code varchar not null,
        reason_vi varchar not null,
        reason_en varchar not null
    )
    """,
    """
    create table if not exists raw.reporting_scope (
        hierarchy varchar not null,
        unit_code varchar not null,
        primary key (hierarchy, unit_code)
    )
    """,
)


def ensure_raw_layer(con: WarehouseConnection) -> None:
    for statement in DDL:
        con.execute(statement)
