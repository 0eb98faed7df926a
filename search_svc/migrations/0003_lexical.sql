-- IDF-aware lexical scoring inside PostgreSQL (docs/ARCHITECTURE.md "Ranking").
--
-- Every row keeps a term vector `lex` (pgvector sparsevec) of its terms (its words and pairs of adjacent
-- words): for each term, weight 1 + ln(term frequency), the whole vector L2-normalised. It depends on the row alone, so it never goes
-- stale as the corpus grows. Term rarity lives on the query side: search multiplies each query term by its
-- IDF, computed from `term_stats` (documents per term), which statement-level triggers keep current
-- through `term_stats_pending` (append-only, so concurrent writers never wait on each other's counters;
-- search_svc folds it into `term_stats` in the background and queries read both).
-- A term's dimension is a 30-bit hash of it (1..999,999,999): no vocabulary table, collisions ~1e-3 at a
-- million distinct terms.
--
-- Words for `lex` are not stemmed (`catalog.lexical`: PostgreSQL's simple parser and English stop words,
-- numbers and one-letter words dropped): on real resumes stemming cost TF-IDF ranking a tenth of its
-- precision ("engineering" and "engineer", "operations" and "operate" are different jobs). The stemmed
-- `tsv` stays for web-search syntax and for finding the rows worth scoring. Both read the text through
-- `catalog.tech_terms`, which keeps C++, C#, F# and .NET apart from C, F and "net".

CREATE FUNCTION catalog.tech_terms(body text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace(regexp_replace(regexp_replace(body,
        '(^|[^[:alnum:]_])[cC]\+\+', '\1 cplusplus ', 'g'),
        '(^|[^[:alnum:]_])([cCfF])#', '\1 \2sharp ', 'g'),
        '\.[nN][eE][tT]\M', ' dotnet', 'g');

CREATE TEXT SEARCH DICTIONARY catalog.lexical_words (TEMPLATE = pg_catalog.simple, STOPWORDS = english);
CREATE TEXT SEARCH CONFIGURATION catalog.lexical (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION catalog.lexical
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part,
                      hword_numpart, email, url, host, file, url_path
    WITH catalog.lexical_words;
ALTER TEXT SEARCH CONFIGURATION catalog.lexical DROP MAPPING FOR sfloat, float, int, uint, version;

CREATE FUNCTION catalog.lexical_words(body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_tsvector('catalog.lexical', catalog.tech_terms(body));

-- What a row's words are: a candidate's name and resume (its headline and skills only when there is no
-- resume: they are read out of it, and counting them twice cost hybrid search 0.02 of its precision@5 on real
-- resumes; the name so a recruiter's keyword search for a person finds them, and a job never shares it);
-- a job's title, skills and description. (Companies and places are filters or facts, not what a job and a
-- resume have in common.)
CREATE FUNCTION catalog.lexical_doc(r catalog.candidates) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN catalog.lexical_words(concat_ws(E'\n', r.name,
        CASE WHEN btrim(r.resume_text) <> '' THEN left(r.resume_text, 200000)
             ELSE concat_ws(E'\n', r.headline, array_to_string(r.skills, ', ')) END));
CREATE FUNCTION catalog.lexical_doc(r catalog.jobs) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN catalog.lexical_words(concat_ws(E'\n', r.title, array_to_string(r.required_skills, ', '),
                                           left(r.description, 200000)));

CREATE FUNCTION catalog.term_dim(lexeme text) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((('x' || left(md5(lexeme), 8))::bit(32)::bigint % 999999999) + 1)::integer;

-- The terms of a text's words: each word of two letters or more, and each pair of adjacent words (no stop
-- word between them), with its count. Pairs carry phrase evidence ("employee engagement", "spring boot") that
-- single words lack: on real resumes they raised keyword precision@5 from 0.82 to 0.86 (docs/BENCHMARKS.md).
CREATE FUNCTION catalog.lexical_terms(doc tsvector) RETURNS TABLE (term text, tf bigint)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH w AS (SELECT lexeme, unnest(positions) AS pos FROM unnest(doc) WHERE length(lexeme) > 1)
    SELECT lexeme, count(*) FROM w GROUP BY lexeme
    UNION ALL
    SELECT a.lexeme || ' ' || b.lexeme, count(*) FROM w a JOIN w b ON b.pos = a.pos + 1 GROUP BY 1
$$;

-- A row's term vector and its dimensions (the GIN-indexed `lex_dims` finds the rows holding a query's terms,
-- and the term counts are kept from it). At most 8,000 terms a row (sparsevec allows 16,000): the heaviest,
-- ties by dimension.
CREATE FUNCTION catalog.term_vector(doc tsvector, OUT lex sparsevec, OUT dims integer[])
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH w AS (
        SELECT catalog.term_dim(term) AS dim, sum(1 + ln(tf)) AS weight
        FROM catalog.lexical_terms(doc) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 8000),
    n AS (SELECT sqrt(sum(weight * weight)) AS norm FROM w)
    SELECT ('{' || string_agg(w.dim || ':' || (w.weight / n.norm)::real, ',' ORDER BY w.dim)
            || '}/999999999')::sparsevec,
           array_agg(w.dim ORDER BY w.dim)
    FROM w, n WHERE n.norm > 0
$$;

ALTER TABLE catalog.candidates ADD COLUMN lex sparsevec(999999999), ADD COLUMN lex_dims integer[];
ALTER TABLE catalog.jobs ADD COLUMN lex sparsevec(999999999), ADD COLUMN lex_dims integer[];
-- Kept inside the row (pgvector's default storage puts a sparsevec out of line, uncompressed): the keyword
-- leg scores every row it scans, and a term vector in the TOAST table cost three more page reads per row
-- (100,000 resumes: the keyword leg 2.5x faster inline, bench/search_text.py).
ALTER TABLE catalog.candidates ALTER COLUMN lex SET STORAGE MAIN;
ALTER TABLE catalog.jobs ALTER COLUMN lex SET STORAGE MAIN;
CREATE INDEX candidates_lex_dims_gin ON catalog.candidates USING gin (lex_dims);
CREATE INDEX jobs_lex_dims_gin ON catalog.jobs USING gin (lex_dims);

CREATE OR REPLACE FUNCTION catalog.candidates_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv :=
        setweight(to_tsvector('english', coalesce(NEW.name, '') || ' ' || catalog.tech_terms(coalesce(NEW.headline, ''))),
                  'A') ||
        setweight(to_tsvector('english', catalog.tech_terms(array_to_string(NEW.skills, ' '))), 'A') ||
        setweight(to_tsvector('english', catalog.tech_terms(left(coalesce(NEW.resume_text, ''), 200000))), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.location, '')), 'C');
    SELECT t.lex, t.dims INTO NEW.lex, NEW.lex_dims FROM catalog.term_vector(catalog.lexical_doc(NEW)) t;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION catalog.jobs_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv :=
        setweight(to_tsvector('english', catalog.tech_terms(coalesce(NEW.title, ''))), 'A') ||
        setweight(to_tsvector('english', catalog.tech_terms(array_to_string(NEW.required_skills, ' '))), 'A') ||
        setweight(to_tsvector('english', catalog.tech_terms(left(coalesce(NEW.description, ''), 200000))), 'B') ||
        setweight(to_tsvector('english',
            coalesce(NEW.company, '') || ' ' || coalesce(NEW.department, '') || ' ' || coalesce(NEW.location, '')), 'C');
    SELECT t.lex, t.dims INTO NEW.lex, NEW.lex_dims FROM catalog.term_vector(catalog.lexical_doc(NEW)) t;
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

-- +1 for each dimension of each new row, -1 for each old one; rows whose set of words did not change (a
-- re-embedding, a status change, a word said once more) cost a comparison only. Dimension 0 counts the documents.
CREATE FUNCTION catalog.record_term_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    corpus text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
        SELECT corpus, d.dim, count(*) FROM new_rows r, unnest(r.lex_dims) AS d(dim) GROUP BY d.dim
        UNION ALL SELECT corpus, 0, count(*) FROM new_rows HAVING count(*) > 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
        SELECT corpus, d.dim, -count(*) FROM old_rows r, unnest(r.lex_dims) AS d(dim) GROUP BY d.dim
        UNION ALL SELECT corpus, 0, -count(*) FROM old_rows HAVING count(*) > 0;
    ELSE
        INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
        SELECT corpus, d.dim, sum(d.delta) FROM (
            SELECT o.lex_dims AS old_dims, n.lex_dims AS new_dims FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE o.lex_dims IS DISTINCT FROM n.lex_dims) c,
            LATERAL (SELECT dim, 1 AS delta FROM unnest(c.new_dims) AS t(dim)
                     UNION ALL
                     SELECT dim, -1 FROM unnest(c.old_dims) AS t(dim)) d
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

-- Rows written before this migration: new tsvectors (tech_terms), term vectors and counts (the triggers
-- above do all three); their vectors are re-embedded by the catch-up loop, because a candidate's vector
-- now encodes the resume itself (search_svc/records.py candidate_text).
UPDATE catalog.candidates SET name = name, embedded_at = NULL;
UPDATE catalog.jobs SET title = title;
INSERT INTO catalog.term_stats_pending (corpus, dim, delta)
SELECT 'candidates', 0, count(*) FROM catalog.candidates HAVING count(*) > 0
UNION ALL SELECT 'jobs', 0, count(*) FROM catalog.jobs HAVING count(*) > 0;
