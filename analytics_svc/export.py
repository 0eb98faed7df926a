"""Parquet export of the warehouse tables, one file per table, written atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analytics_svc.warehouse import EXPORT_TABLES, Warehouse, scalar
from hiremesh.errors import InvalidArgument


@dataclass(frozen=True)
class ExportedFile:
    table: str
    path: Path
    rows: int
    bytes: int


def resolve_folder(root: Path, folder: str) -> Path:
    """The export folder: under `root` (relative names are taken from there); nothing outside it."""
    if not folder.strip():
        return root / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = Path(folder).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root.resolve()):
        raise InvalidArgument("folder", f"must be inside the export root {root} (or a name relative to it)")
    return path


def export_tables(warehouse: Warehouse, folder: Path, progress: Callable[[str, int, int], None]) -> list[ExportedFile]:
    """Write each exported table to `folder/<table>.parquet` (blocking: call it in an executor)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: list[ExportedFile] = []
    cur = warehouse.cursor()
    try:
        # One snapshot for every table, so the files agree with each other.
        cur.execute("BEGIN TRANSACTION")
        for i, table in enumerate(EXPORT_TABLES):
            progress(table, i, len(EXPORT_TABLES))
            path = folder / f"{table}.parquet"
            tmp = folder / f".{table}.parquet.tmp"
            quoted = str(tmp).replace("'", "''")
            cur.execute(f"COPY (SELECT * FROM {table}) TO '{quoted}' (FORMAT parquet, COMPRESSION zstd)")  # noqa: S608
            rows = int(scalar(cur, f"SELECT count(*) FROM {table}"))  # noqa: S608
            os.replace(tmp, path)
            files.append(ExportedFile(table, path, rows, path.stat().st_size))
        cur.execute("COMMIT")
        progress("done", len(EXPORT_TABLES), len(EXPORT_TABLES))
    finally:
        cur.close()
    return files
