"""Migration 0005 (higher-recall HNSW graphs) on a real PostgreSQL: a plain upgrade, and one prepared beforehand."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from hiremesh.db import migrate

MIGRATIONS = Path(__file__).resolve().parents[2] / "search_svc" / "migrations"


def _before_0005(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in MIGRATIONS.glob("*.sql"):
        if path.name < "0005":
            shutil.copy2(path, folder / path.name)
    return folder


async def _indexes(url: str) -> dict[str, str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        rows = await (
            await conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'catalog' "
                "AND indexdef LIKE '%USING hnsw%'"
            )
        ).fetchall()
    return dict(rows)


async def test_an_upgrade_rebuilds_both_graphs_with_ef_construction_200(fresh_db_url: str, tmp_path: Path) -> None:
    await migrate(fresh_db_url, "catalog", _before_0005(tmp_path))
    async with await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO catalog.candidates (name, embedding, embedded_at) "
            "SELECT 'c' || i, array_fill(i::real, ARRAY[384])::vector, now() "
            "FROM generate_series(1, 50) i"
        )
    assert "ef_construction='64'" in (await _indexes(fresh_db_url))["candidates_embedding_hnsw"]
    assert "0005_hnsw_recall.sql" in await migrate(fresh_db_url, "catalog", MIGRATIONS)
    indexes = await _indexes(fresh_db_url)
    assert set(indexes) == {"candidates_embedding_hnsw", "jobs_embedding_hnsw"}
    assert all("m='16'" in d and "ef_construction='200'" in d for d in indexes.values())


async def test_an_index_built_concurrently_beforehand_is_only_swapped_in(fresh_db_url: str, tmp_path: Path) -> None:
    await migrate(fresh_db_url, "catalog", _before_0005(tmp_path))
    async with await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True) as conn:
        # What docs/OPERATIONS.md tells an operator of a big catalogue to run first (m = 8 marks it as this one).
        await conn.execute(
            "CREATE INDEX CONCURRENTLY candidates_embedding_hnsw_v2 ON catalog.candidates USING hnsw "
            "(embedding vector_cosine_ops) WITH (m = 8, ef_construction = 200)"
        )
    await migrate(fresh_db_url, "catalog", MIGRATIONS)
    indexes = await _indexes(fresh_db_url)
    assert set(indexes) == {"candidates_embedding_hnsw", "jobs_embedding_hnsw"}
    assert "m='8'" in indexes["candidates_embedding_hnsw"]  # kept, not rebuilt
    assert "ef_construction='200'" in indexes["jobs_embedding_hnsw"]
