"""JSONL records and folders for ImportCandidates: every record is parsed or rejected with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hiremesh.errors import InvalidArgument
from search_svc.candidates import Candidates
from search_svc.importer import record_candidate, sources_from
from search_svc.parse_pool import InlineParser
from tests.search_svc.format_files import REAL_DOC, RESUME, html_bytes, odt_bytes, rtf_bytes
from tests.search_svc.resumes import pdf_bytes

# Loaders only use the store's parser; no database is needed to read files (hence no pool: arg-type ignored).
FILES_ONLY = Candidates(None, None, InlineParser())  # type: ignore[arg-type]


def test_a_record_fills_fields_and_hashes_its_text() -> None:
    c = record_candidate(
        json.dumps(
            {
                "name": "Ana Lima",
                "years_experience": 4,
                "skills": ["py", "k8s"],
                "resume_text": "Ana Lima\nBackend engineer",
            }
        )
    )
    assert c.name == "Ana Lima" and c.years_experience == 4 and c.skills == ["Python", "Kubernetes"]
    assert c.resume_sha256 and len(c.resume_sha256) == 64
    again = record_candidate(json.dumps({"resume_text": "Ana Lima\nBackend engineer", "name": "Ana Lima"}))
    assert again.resume_sha256 == c.resume_sha256  # same text, same key: a re-run is a duplicate


def test_a_record_without_text_is_keyed_by_its_content() -> None:
    a = record_candidate('{"name": "Bo Chen", "email": "bo@example.com"}')
    b = record_candidate('{"email": "bo@example.com", "name": "Bo Chen"}')
    assert a.resume_sha256 == b.resume_sha256


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("not json", "record"),
        ("[1, 2]", "record"),
        ('{"name": 5}', "record.name"),
        ('{"name": "X Y", "years_experience": "ten"}', "record.years_experience"),
        ('{"name": "X Y", "skills": "python"}', "record.skills"),
        ('{"name": "X Y", "years_experience": 500}', "candidate.years_experience"),
        ("{}", "candidate.name"),
    ],
)
def test_bad_records_name_the_problem(line: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        record_candidate(line)
    assert err.value.field == field


@given(st.text(max_size=200))
def test_any_line_is_parsed_or_rejected_with_invalid_argument(line: str) -> None:
    try:
        record_candidate(line)
    except InvalidArgument as exc:
        assert exc.message


async def test_folder_listing_skips_hidden_files_and_reports_unsupported_ones(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(pdf_bytes(["Al Bo", "Python"]))
    (tmp_path / ".DS_Store").write_bytes(b"x")
    (tmp_path / "sheet.xlsx").write_bytes(b"x")
    (tmp_path / "people.jsonl").write_text('{"name": "Cy Do"}\n\n{"name": "Di Ek"}\n')
    sources = sources_from([], str(tmp_path), [], None)
    assert [s.name for s in sources] == ["a.pdf", "people.jsonl line 1", "people.jsonl line 3", "sheet.xlsx"]
    assert (await sources[0].load(FILES_ONLY)).name == "Al Bo"
    with pytest.raises(InvalidArgument, match="unsupported file type"):
        await sources[3].load(FILES_ONLY)


async def test_a_folder_import_reads_every_format_by_content(tmp_path: Path) -> None:
    (tmp_path / "word.doc").write_bytes(REAL_DOC.read_bytes())
    (tmp_path / "cv.rtf").write_bytes(rtf_bytes(["Rita Rtf", *RESUME]))
    (tmp_path / "cv.odt").write_bytes(odt_bytes(["Otto Odt", *RESUME]))
    (tmp_path / "page.htm").write_bytes(html_bytes(["Hana Html", *RESUME]))
    (tmp_path / "really-a-pdf.txt").write_bytes(pdf_bytes(["Pia Pdf", "Python"]))  # the name lies
    (tmp_path / "big.pdf").write_bytes(b"%PDF-1.4" + b" " * 50_000)
    sources = {s.name: s for s in sources_from([], str(tmp_path), [], None, max_bytes=40_000)}
    assert set(sources) == {"word.doc", "cv.rtf", "cv.odt", "page.htm", "really-a-pdf.txt", "big.pdf"}
    loaded = {name: await s.load(FILES_ONLY) for name, s in sources.items() if name != "big.pdf"}
    assert loaded["word.doc"].resume_media_type == "application/msword"
    assert loaded["really-a-pdf.txt"].resume_media_type == "application/pdf"
    assert [loaded[n].resume_text.splitlines()[0] for n in ("cv.rtf", "cv.odt", "page.htm")] == [
        "Rita Rtf",
        "Otto Odt",
        "Hana Html",
    ]
    with pytest.raises(InvalidArgument, match=r"'big\.pdf' is 50008 bytes; the file size limit is 40000 bytes"):
        await sources["big.pdf"].load(FILES_ONLY)


def test_folders_outside_the_import_root_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="outside the import root"):
        sources_from([], str(tmp_path), [], tmp_path / "inbox")
    with pytest.raises(InvalidArgument, match="absolute"):
        sources_from([], "relative/path", [], None)
