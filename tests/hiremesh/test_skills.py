"""hiremesh.skills: spellings, ambiguous words, professions beyond software, round trips, linear time."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from hiremesh import esco, skills

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("JS", "JavaScript"),
        ("javascript", "JavaScript"),
        ("Java Script", "JavaScript"),
        ("ES6", "JavaScript"),
        ("k8s", "Kubernetes"),
        ("K8S", "Kubernetes"),
        ("kubernetes", "Kubernetes"),
        (".NET", ".NET"),
        ("dotnet", ".NET"),
        ("ASP.NET", ".NET"),
        ("dot net", ".NET"),
        ("ReactJS", "React"),
        ("react.js", "React"),
        ("React JS", "React"),
        ("node js", "Node.js"),
        ("NodeJS", "Node.js"),
        ("golang", "Go"),
        ("Postgres", "PostgreSQL"),
        ("PL/SQL", "PL/SQL"),
        ("T-SQL", "T-SQL"),
        ("CI/CD", "CI/CD"),
        ("scikit learn", "scikit-learn"),
        ("Power-BI", "Power BI"),
        ("My SQL", "MySQL"),
        ("Angular Js", "Angular"),
        ("Informatica PowerCenter", "Informatica"),
    ],
)
def test_spellings_find_the_canonical_skill(spelling: str, canonical: str) -> None:
    assert skills.extract_skills(f"Experience: {spelling}, and more.") == [canonical]
    assert skills.canonical_skill(spelling) == canonical


def test_c_family_names_keep_their_boundaries() -> None:
    assert skills.extract_skills("Languages: C#, C++, C, Objective-C") == ["C#", "C++", "C", "Objective-C"]
    assert skills.extract_skills("C++ only") == ["C++"]
    assert skills.extract_skills("Wrote C# services") == ["C#"]
    assert "C" not in skills.extract_skills("Scored grade C in the exam. Vitamin C helps.")
    assert "C" not in skills.extract_skills("Kumar C. Ramesh, H.S.C, C.V. attached")


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Let's go to the office and Go live next week.", "Go"),
        ("Did R&D on new products", "R"),
        ("R. Kumar, Chennai", "R"),
        ("We ensure swift delivery to customers.", "Swift"),
        ("Students who excel at maths", "Excel"),
        ("Joined in spring 2019 as a trainee", "Spring"),
        ("I worked with the rest of the team", "REST APIs"),
        ("I cooked as a chef in a hotel kitchen", "Chef"),
    ],
)
def test_ambiguous_words_are_not_skills_in_prose(text: str, absent: str) -> None:
    assert absent not in skills.extract_skills(text)


@pytest.mark.parametrize(
    ("text", "present"),
    [
        ("Languages: Go, Rust, Python", "Go"),
        ("Python, R, SQL and Tableau", "R"),
        ("R programming for statistics", "R"),
        ("iOS apps in Swift and Objective-C", "Swift"),
        ("Advanced MS Excel and Power BI", "Excel"),
        ("java, spring, hibernate, maven", "Spring"),
        ("Designed REST APIs for mobile apps", "REST APIs"),
        ("Configuration management: Chef, Puppet, Ansible", "Chef"),
    ],
)
def test_ambiguous_words_are_skills_in_skill_lists(text: str, present: str) -> None:
    assert present in skills.extract_skills(text)


def test_backend_java_job_yields_its_tools() -> None:
    jd = (
        "Backend Java developer: Spring Boot, Hibernate, J2EE, Maven builds and JUnit tests; deploy on Tomcat; "
        "Oracle databases."
    )
    found = skills.extract_skills(jd)
    for name in ("Java", "Spring", "Hibernate", "J2EE", "Maven", "JUnit", "Tomcat", "Oracle"):
        assert name in found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Advocate to represent clients before district courts, draft plaints, written statements and "
            "legal notices, "
            "do legal research and handle civil litigation and arbitration.",
            {"Court Representation", "Legal Drafting", "Legal Research", "Litigation", "Arbitration"},
        ),
        (
            "HR generalist: end-to-end recruitment, onboarding and induction, payroll processing, "
            "performance appraisals, "
            "PF and ESI statutory compliance, employee engagement.",
            {
                "Recruiting",
                "Onboarding",
                "Payroll",
                "Performance Management",
                "Statutory Compliance",
                "Employee Engagement",
            },
        ),
        (
            "Gym instructor: personal training, strength training and HIIT classes, diet plans, CPR certified.",
            {"Personal Training", "Strength and Conditioning", "Nutrition", "First Aid"},
        ),
        (
            "Design engineer: SolidWorks and AutoCAD drawings, GD&T, FMEA, kaizen on the shop floor, CNC machining.",
            {"SolidWorks", "AutoCAD", "GD&T", "Root Cause Analysis", "Lean Manufacturing", "Manufacturing", "CNC"},
        ),
        (
            "Accounts executive: Tally ERP 9, GST returns, TDS, bank reconciliation, accounts payable, SAP FICO.",
            {"Tally", "GST", "Taxation", "Bank Reconciliation", "Accounts Payable", "SAP FICO"},
        ),
        (
            "Area sales manager: channel sales through distributors, key account management, lead generation.",
            {"Channel Sales", "Account Management", "Lead Generation"},
        ),
        (
            "Operations lead: vendor management, inventory control, SLA management and supply chain planning.",
            {"Vendor Management", "Inventory Management", "Service Level Management", "Supply Chain Management"},
        ),
    ],
)
def test_professions_beyond_software(text: str, expected: set[str]) -> None:
    assert expected <= set(skills.extract_skills(text))


def test_esco_adds_knowledge_the_curated_table_lacks() -> None:
    found = skills.find_skills("Lab analyst: gas chromatography and sample preparation.")
    by_name = {m.name: m for m in found}
    assert "gas chromatography" in by_name
    info = skills.skill_info("gas chromatography")
    assert info is not None and info.source == "esco" and info.uri.startswith("http://data.europa.eu/esco/skill/")


def test_an_esco_concept_that_is_a_curated_skill_yields_one_name() -> None:
    assert skills.extract_skills("Builds with Apache Maven (Maven 3)") == ["Maven"]
    info = skills.skill_info("Maven")
    assert info is not None and info.source == "curated" and info.uri  # linked to ESCO's "Apache Maven"


def test_find_skills_offsets_point_at_the_mention() -> None:
    text = "Skills:\n• Core Java, k8s\n• MS-Excel; PL/SQL"
    mentions = skills.find_skills(text)
    assert [m.name for m in mentions] == ["Java", "Kubernetes", "Excel", "PL/SQL"]
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_normalise_skills_round_trips() -> None:
    text = "Python, JS, k8s, ReactJS, dotnet, criminal law, payroll, AutoCAD, gas chromatography"
    found = skills.extract_skills(text)
    assert skills.normalise_skills(found) == found
    assert skills.normalise_skills(["js", " JavaScript ", "Kubernetes", "k8s", "Basket weaving", ""]) == [
        "JavaScript",
        "Kubernetes",
        "Basket weaving",
    ]
    for name in skills.ALL_SKILLS[:500]:
        assert skills.canonical_skill(name) == name
        assert skills.normalise_skills([name.upper()]) == [name]


def _first_version() -> ModuleType:
    spec = importlib.util.spec_from_file_location("skills_v1", REPO / "bench" / "skills_v1.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_canonical_names_of_the_first_version_are_kept() -> None:
    # Stored candidate and job skill lists hold these names.
    old = _first_version()
    for name in old.ALL_SKILLS:
        assert skills.canonical_skill(name) == name


def test_is_skill_term_and_weights() -> None:
    assert skills.is_skill_term("Kubernetes") and skills.is_skill_term("k8s") and skills.is_skill_term("Hibernate")
    assert not skills.is_skill_term("John") and not skills.is_skill_term("Tamil") and not skills.is_skill_term("")
    assert skills.skill_weight("Hibernate") > skills.skill_weight("Sales") > skills.skill_weight("Communication")
    assert skills.skill_category("Litigation") == "legal" and skills.skill_category("nonsense-xyz") is None
    assert "Payroll" in skills.skills_in_category("hr")


def _seconds(text: str, loops: int) -> float:
    """Best of five timings of `loops` calls, per call (small inputs run in loops so a timer tick is noise)."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(loops):
            skills.extract_skills(text)
        best = min(best, (time.perf_counter() - started) / loops)
    return best


@pytest.mark.parametrize(
    "unit",
    [
        "Java, Spring Boot, Hibernate, Maven, JUnit, C, C++, C#, R, Go, k8s, .NET, ",
        "machine machine learning learning spring spring boot sql sql server ",
        "a",
        ".,;:/&+#-",
        "java script power bi ",
    ],
)
def test_extraction_time_grows_linearly(unit: str) -> None:
    skills.warm()
    small = (unit * (10_000 // len(unit) + 1))[:10_000]
    large = (unit * (100_000 // len(unit) + 1))[:100_000]
    # 10x the text: ~10x the time when linear (a quadratic step would be ~100x). Ratio only: this machine is shared.
    assert _seconds(large, 1) / _seconds(small, 10) < 30


@pytest.fixture
def without_esco(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv(esco.ENV_DIR, str(tmp_path))  # a folder without the CSV files
    skills.clear_caches()
    yield
    monkeypatch.delenv(esco.ENV_DIR)
    skills.clear_caches()


def test_works_on_the_curated_table_without_the_esco_wheel(without_esco: None) -> None:
    assert esco.load() == ()
    assert skills.extract_skills("k8s, ReactJS and Hibernate; payroll and litigation") == [
        "Kubernetes",
        "React",
        "Hibernate",
        "Payroll",
        "Litigation",
    ]
    assert skills.canonical_skill("gas chromatography") is None


def test_an_employer_named_like_a_tool_is_not_a_skill() -> None:
    assert skills.extract_skills("Consultant, Oracle India Pvt Ltd (2015-2018); SAP Labs intern") == []
    assert skills.extract_skills("Tuned Oracle 11g and SQL Server; SAP FICO") == ["Oracle", "SQL Server", "SAP FICO"]


def test_names_spelled_apart_do_not_join_everyday_words() -> None:
    assert skills.extract_skills("Completed training in Design Thinking") == []
    assert skills.extract_skills("Java Script and Share Point") == ["JavaScript", "SharePoint"]
