-- Profile fields read from resumes (issue 16): education entries and where the name came from, so a resume
-- without a name is explicitly unnamed (the UI shows "Unnamed") rather than named after a section heading.
ALTER TABLE catalog.candidates
    ADD COLUMN education jsonb NOT NULL DEFAULT '[]'::jsonb
        CHECK (jsonb_typeof(education) = 'array'),
    ADD COLUMN name_source text NOT NULL DEFAULT 'given'
        CHECK (name_source IN ('given', 'resume', 'file_name', 'unnamed'));

UPDATE catalog.candidates SET name_source = 'unnamed' WHERE name = '';
