-- IDF-aware lexical scoring inside PostgreSQL (docs/ARCHITECTURE.md "Ranking").
--
-- Every row keeps a term vector `lex` (pgvector sparsevec): for each lexeme of its tsvector, weight
-- 1 + ln(term frequency), the whole vector L2-normalised. It depends on the row alone, so it never goes
-- stale as the corpus grows. Term rarity lives on the query side: search multiplies each query term by its
-- IDF, computed from `term_stats` (documents per term), which statement-level triggers keep current
-- through `term_stats_pending` (append-only, so concurrent writers never wait on each other's counters;
-- search_svc folds it into `term_stats` in the background and queries read both).
-- A lexeme's dimension is a 30-bit hash of it (1..999,999,999): no vocabulary table, collisions ~1e-3 at
-- a million distinct terms.

CREATE FUNCTION catalog.term_dim(lexeme text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((('x' || left(md5(lexeme), 8))::bit(32)::bigint % 999999999) + 1)::integer;

-- At most 8,000 terms a row (sparsevec allows 16,000): the heaviest, ties by dimension.
CREATE FUNCTION catalog.term_vector(doc tsvector) RETURNS sparsevec
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (
        WITH w AS (
            SELECT catalog.term_dim(lexeme) AS dim,
                   sum(1 + ln(coalesce(array_length(positions, 1), 1))) AS weight
            FROM unnest(doc) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 8000),
        n AS (SELECT sqrt(sum(weight * weight)) AS norm FROM w)
        SELECT ('{' || string_agg(w.dim || ':' || (w.weight / n.norm)::real, ',' ORDER BY w.dim)
                || '}/999999999')::sparsevec
        FROM w, n WHERE n.norm > 0);

ALTER TABLE catalog.candidates ADD COLUMN lex sparsevec(999999999);
ALTER TABLE catalog.jobs ADD COLUMN lex sparsevec(999999999);

CREATE OR REPLACE FUNCTION catalog.candidates_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv :=
        setweight(to_tsvector('english', coalesce(NEW.name, '') || ' ' || coalesce(NEW.headline, '')), 'A') ||
        setweight(to_tsvector('english', array_to_string(NEW.skills, ' ')), 'A') ||
        setweight(to_tsvector('english', left(coalesce(NEW.resume_text, ''), 200000)), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.location, '')), 'C');
    NEW.lex := catalog.term_vector(NEW.tsv);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION catalog.jobs_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', array_to_string(NEW.required_skills, ' ')), 'A') ||
        setweight(to_tsvector('english', left(coalesce(NEW.description, ''), 200000)), 'B') ||
        setweight(to_tsvector('english',
            coalesce(NEW.company, '') || ' ' || coalesce(NEW.department, '') || ' ' || coalesce(NEW.location, '')), 'C');
    NEW.lex := catalog.term_vector(NEW.tsv);
    RETURN NEW;
END $$;

-- Documents per term; dim 0 counts the documents themselves.
CREATE TABLE catalog.term_stats (
    corpus text    NOT NULL CHECK (corpus IN ('candidates', 'jobs')),
    dim    integer NOT NULL,
    docs   bigint  NOT NULL,
    PRIMARY KEY (corpus, dim)
);

CREATE TABLE catalog.term_stats_pending (
    corpus text    NOT NULL,
    dim    integer NOT NULL,
    delta  bigint  NOT NULL
);
CREATE INDEX term_stats_pending_dim_idx ON catalog.term_stats_pending (corpus, dim);

-- +1 for each distinct dimension of each new tsvector, -1 for each old one; rows whose tsvector did not
-- change (a re-embedding, a status change) cost a comparison only.
CREATE FUNCTION catalog.record_term_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    corpus text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
        SELECT corpus, d.dim, count(*) FROM new_rows r,
               LATERAL (SELECT DISTINCT catalog.term_dim(lexeme) AS dim FROM unnest(r.tsv)) d
        GROUP BY d.dim
        UNION ALL SELECT corpus, 0, count(*) FROM new_rows HAVING count(*) > 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
        SELECT corpus, d.dim, -count(*) FROM old_rows r,
               LATERAL (SELECT DISTINCT catalog.term_dim(lexeme) AS dim FROM unnest(r.tsv)) d
        GROUP BY d.dim
        UNION ALL SELECT corpus, 0, -count(*) FROM old_rows HAVING count(*) > 0;
    ELSE
        INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
        SELECT corpus, d.dim, sum(d.delta) FROM (
            SELECT o.tsv AS old_tsv, n.tsv AS new_tsv FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.tsv IS DISTINCT FROM n.tsv) c,
            LATERAL (SELECT DISTINCT catalog.term_dim(lexeme) AS dim, 1 AS delta FROM unnest(c.new_tsv)
                     UNION ALL
                     SELECT DISTINCT catalog.term_dim(lexeme), -1 FROM unnest(c.old_tsv)) d
        GROUP BY d.dim HAVING sum(d.delta) <> 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER candidates_term_stats_ins AFTER INSERT ON catalog.candidates
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.record_term_stats('candidates');
CREATE TRIGGER candidates_term_stats_upd AFTER UPDATE ON catalog.candidates
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.record_term_stats('candidates');
CREATE TRIGGER candidates_term_stats_del AFTER DELETE ON catalog.candidates
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.record_term_stats('candidates');
CREATE TRIGGER jobs_term_stats_ins AFTER INSERT ON catalog.jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.record_term_stats('jobs');
CREATE TRIGGER jobs_term_stats_upd AFTER UPDATE ON catalog.jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.record_term_stats('jobs');
CREATE TRIGGER jobs_term_stats_del AFTER DELETE ON catalog.jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog.record_term_stats('jobs');

-- Rows written before this migration: their vectors and counts (the triggers above see these updates).
UPDATE catalog.candidates SET lex = catalog.term_vector(tsv) WHERE tsv IS NOT NULL;
UPDATE catalog.jobs SET lex = catalog.term_vector(tsv) WHERE tsv IS NOT NULL;
INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
SELECT 'candidates', d.dim, count(*) FROM catalog.candidates r,
       LATERAL (SELECT DISTINCT catalog.term_dim(lexeme) AS dim FROM unnest(r.tsv)) d GROUP BY d.dim
UNION ALL SELECT 'candidates', 0, count(*) FROM catalog.candidates HAVING count(*) > 0;
INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
SELECT 'jobs', d.dim, count(*) FROM catalog.jobs r,
       LATERAL (SELECT DISTINCT catalog.term_dim(lexeme) AS dim FROM unnest(r.tsv)) d GROUP BY d.dim
UNION ALL SELECT 'jobs', 0, count(*) FROM catalog.jobs HAVING count(*) > 0;
