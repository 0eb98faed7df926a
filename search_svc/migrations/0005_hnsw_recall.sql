-- HNSW graphs built with ef_construction = 200 (was 64): at 1M candidates recall@10 0.987 at ef_search 150,
-- where the old graph gave 0.954 at ef_search 400 for 1.6x the work (docs/BENCHMARKS.md, "Search latency and
-- 1M recall"); same m, same size on disk, ~2x the build time. ranking.EF_FLOORS are measured on these graphs.
--
-- The new index is built under a second name while searches keep using the old one (CREATE INDEX blocks writes
-- to the table, not reads), then swapped in. A large catalogue can be upgraded without blocking writes: build
-- the index beforehand with CREATE INDEX CONCURRENTLY under the *_v2 name (docs/OPERATIONS.md); this file then
-- only swaps the names. An invalid leftover of a failed concurrent build is rebuilt.
DO $$
DECLARE
    ready boolean;
BEGIN
    SELECT i.indisvalid INTO ready FROM pg_index i WHERE i.indexrelid = to_regclass('catalog.candidates_embedding_hnsw_v2');
    IF ready IS DISTINCT FROM true THEN
        DROP INDEX IF EXISTS catalog.candidates_embedding_hnsw_v2;
        CREATE INDEX candidates_embedding_hnsw_v2 ON catalog.candidates
            USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200);
    END IF;
    SELECT i.indisvalid INTO ready FROM pg_index i WHERE i.indexrelid = to_regclass('catalog.jobs_embedding_hnsw_v2');
    IF ready IS DISTINCT FROM true THEN
        DROP INDEX IF EXISTS catalog.jobs_embedding_hnsw_v2;
        CREATE INDEX jobs_embedding_hnsw_v2 ON catalog.jobs
            USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200);
    END IF;
END $$;
DROP INDEX catalog.candidates_embedding_hnsw;
ALTER INDEX catalog.candidates_embedding_hnsw_v2 RENAME TO candidates_embedding_hnsw;
DROP INDEX catalog.jobs_embedding_hnsw;
ALTER INDEX catalog.jobs_embedding_hnsw_v2 RENAME TO jobs_embedding_hnsw;
