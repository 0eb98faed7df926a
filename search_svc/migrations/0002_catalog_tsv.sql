-- Full-text vectors maintained by the database, so every writer (the service, analytics' synthetic loader,
-- a DBA's UPDATE) keeps tsv in step with the text. Weights: names/titles and skills A, body B, the rest C.
-- The body is cut at 200k characters because a tsvector may not exceed 1 MB.
CREATE FUNCTION catalog.candidates_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv :=
        setweight(to_tsvector('english', coalesce(NEW.name, '') || ' ' || coalesce(NEW.headline, '')), 'A') ||
        setweight(to_tsvector('english', array_to_string(NEW.skills, ' ')), 'A') ||
        setweight(to_tsvector('english', left(coalesce(NEW.resume_text, ''), 200000)), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.location, '')), 'C');
    RETURN NEW;
END $$;

CREATE TRIGGER candidates_tsv_trg
    BEFORE INSERT OR UPDATE OF name, headline, skills, resume_text, location ON catalog.candidates
    FOR EACH ROW EXECUTE FUNCTION catalog.candidates_tsv();

CREATE FUNCTION catalog.jobs_tsv() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.tsv :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
        setweight(to_tsvector('english', array_to_string(NEW.required_skills, ' ')), 'A') ||
        setweight(to_tsvector('english', left(coalesce(NEW.description, ''), 200000)), 'B') ||
        setweight(to_tsvector('english',
            coalesce(NEW.company, '') || ' ' || coalesce(NEW.department, '') || ' ' || coalesce(NEW.location, '')), 'C');
    RETURN NEW;
END $$;

CREATE TRIGGER jobs_tsv_trg
    BEFORE INSERT OR UPDATE OF title, description, required_skills, company, department, location ON catalog.jobs
    FOR EACH ROW EXECUTE FUNCTION catalog.jobs_tsv();

-- Rows written before this migration (none in a fresh catalog, but cheap to be sure).
UPDATE catalog.candidates SET name = name;
UPDATE catalog.jobs SET title = title;

-- The catch-up loop looks for rows whose vector is missing or older than their text.
CREATE INDEX candidates_stale_idx ON catalog.candidates (updated_at) WHERE embedded_at IS NULL OR embedded_at < updated_at;
CREATE INDEX jobs_stale_idx ON catalog.jobs (updated_at) WHERE embedded_at IS NULL OR embedded_at < updated_at;
CREATE INDEX applications_candidate_idx ON catalog.applications (candidate_id);
