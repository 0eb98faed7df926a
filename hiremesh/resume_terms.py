"""The vocabulary of resumes that is not about a person: section headings, job-title words, degrees, organisations.

Shared by search (which line is a name, a title, an education entry) and guardrail (a PERSON finding that is a
heading, a title or a company is not a person). Hand-built from how resumes are written in general, not from any
one collection: headings are recognised by their words ("Education Details", "TECHNICAL SKILLS:", "Work
Experience"), so a heading phrased in a new way is still one when all its words are heading words.
"""

from __future__ import annotations

import re

__all__ = [
    "DEGREE",
    "DEGREE_LOOSE",
    "FIELD_WORDS",
    "HEADING_WORDS",
    "INSTITUTION_WORDS",
    "TITLE_WORDS",
    "has_org_word",
    "is_heading",
    "title_word_count",
    "words_of",
]

# Words a section heading is made of (with connecting words, any case). "Skill Details" and "Career Objective"
# are headings because every word is one of these.
HEADING_WORDS = frozenset(
    """
resume curriculum vitae cv biodata bio data profile profiles summary overview objective objectives career goal
goals about me myself personal details detail information info contact contacts address
experience experiences employment work working history professional career internship internships
education educational academic academics qualification qualifications credentials scholastic
skill skills skillset skillsets technical technologies technology tools tool competencies competency expertise
proficiency proficiencies strengths strength key core areas area knowledge abilities soft hard it computer
project projects assignments responsibilities responsibility roles role achievements achievement accomplishments
awards award honors honours certifications certification certificates certificate courses course training
trainings workshops seminars publications publication patents languages language known interests interest
hobbies hobby activities activity extracurricular extra curricular co volunteer volunteering references reference
declaration additional others other miscellaneous highlights snapshot synopsis portfolio links social
strengths family passport visa status date place signature
and of the & in a an my to for with
""".split()
)

# Head words of job titles: a line made mostly of these is a title, never a name ("Automation Tester").
TITLE_WORDS = frozenset(
    """
engineer engineers developer developers programmer architect analyst analysts consultant consultants manager
managers director head lead leader officer executive administrator admin specialist scientist designer tester
testers qa intern trainee apprentice associate assistant coordinator co-ordinator supervisor
technician operator representative agent advisor adviser counsellor counselor accountant auditor advocate
lawyer attorney paralegal teacher lecturer professor tutor trainer instructor coach nurse doctor physician
therapist pharmacist dietitian nutritionist clerk secretary receptionist recruiter writer editor
member staff expert owner founder partner president vp ceo cto cfo coo chairman principal senior junior sr jr
chief trainee fresher freelancer contractor support devops sre dba administrator webmaster
""".split()
)

# Fields of work and study, as resume headings and job categories name them ("Automation Testing", "Web
# Designing", "Business Analyst"): words a person's name does not hold. The word list (hiremesh.wordlist) is from
# 1934 and misses the modern ones ("automation", "analytics", "devops").
FIELD_WORDS = frozenset(
    """
automation testing development developing designing design engineering management marketing sales operations
analytics analysis science sciences finance financial accounting accounts administration networking security
software hardware programming database databases cloud devops web mobile frontend backend fullstack data
business commerce economics mechanical electrical electronics civil chemical computer computers information
technology technologies it hr human resources legal law health fitness nutrition teaching education banking
insurance retail logistics procurement manufacturing quality assurance production maintenance research
consulting services support infrastructure integration implementation deployment etl bi mba
""".split()
)

# Words that end an organisation's name ("Infosys Limited", "Tata Communications", "Oracle Inc").
ORG_WORDS = frozenset(
    """
ltd limited inc incorporated corp corporation llc llp plc pvt private gmbh ag sa bv co company companies group
labs lab technologies technology tech systems solutions services consultancy consulting communications software
softwares infotech infosystems enterprises industries international global networks bank university college
institute school academy foundation hospital
""".split()
)

# A degree or school-leaving certificate, as resumes abbreviate them. Each alternative ends at a non-letter so
# "BE" does not fire inside "BEST"; the dotted forms allow spaces ("B. Tech", "M. Sc").
DEGREE = re.compile(
    r"(?<![A-Za-z])(?:"
    r"B\.?\s?E|B\.?\s?Tech|M\.?\s?Tech|M\.?\s?E|B\.?\s?Sc|M\.?\s?Sc|B\.?\s?Com|M\.?\s?Com|B\.?\s?C\.?\s?A|"
    r"M\.?\s?C\.?\s?A|B\.?\s?B\.?\s?A|M\.?\s?B\.?\s?A|B\.?\s?A|M\.?\s?A|B\.?\s?S|M\.?\s?S|B\.?\s?Ed|M\.?\s?Ed|"
    r"B\.?\s?Pharm|M\.?\s?Pharm|BDS|MBBS|LL\.?\s?B|LL\.?\s?M|Ph\.?\s?D|PGDM|PGDBA|PG\s?Diploma|BSCIT|BScIT|"
    r"HSC|SSC|H\.S\.C|S\.S\.C|SSLC|CBSE|ICSE|Intermediate|Matriculation|10th|12th|XII|"
    r"(?i:bachelor(?:'?s)?|master(?:'?s)?|diploma|doctorate|post\s?graduat(?:e|ion)|graduat(?:e|ion)|"
    r"associate\s+degree|higher\s+secondary|senior\s+secondary|secondary\s+school)"
    r")(?![A-Za-z])"
)

# The same inside an education section, where case and hyphens vary ("B.TECH.", "B-Tech", "b.com", "mba").
DEGREE_LOOSE = re.compile(
    r"(?i)(?<![A-Za-z])(?:"
    r"B[.-]?\s?E|B[.-]?\s?Tech|M[.-]?\s?Tech|M[.-]?\s?E|B[.-]?\s?Sc|M[.-]?\s?Sc|B[.-]?\s?Com|M[.-]?\s?Com|"
    r"B\.?\s?C\.?\s?A|M\.?\s?C\.?\s?A|B\.?\s?B\.?\s?A|M\.?\s?B\.?\s?A|B\.\s?A|M\.\s?A|BA|MA|B\.\s?S|M\.\s?S|BS|MS|"
    r"B\.?\s?Ed|M\.?\s?Ed|B\.?\s?Pharm|M\.?\s?Pharm|BDS|MBBS|LL\.?\s?B|LL\.?\s?M|Ph\.?\s?D|PGD\w{0,4}|BSCIT|"
    r"TY\w{1,4}|FY\w{1,4}|SY\w{1,4}|H\.?S\.?C|S\.?S\.?C|SSLC|CBSE|ICSE|Intermediate|Matriculation|10th|12th|XII|X|"
    r"Class\s(?:X|XII|10|12)|bachelor(?:'?s)?|master(?:'?s)?|diploma|doctorate|post\s?graduat(?:e|ion)|"
    r"graduat(?:e|ion)|associate\s+degree|higher\s+secondary|senior\s+secondary|secondary\s+school"
    r")(?![A-Za-z])"
)

# An institution's name holds one of these ("B.v.b college of engineering", "Kendriya Vidyalaya", "IIT Bombay").
INSTITUTION_WORDS = re.compile(
    r"(?i:\b(?:university|universit[iy]|college|institute|institution|school|vidyalaya|vidyapeeth|academy|"
    r"polytechnic|iit|nit|iiit|iim|bits)\b)"
)

_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")


def words_of(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def is_heading(line: str) -> bool:
    """Whether a line is a section heading: 1-6 words, every one a heading word ("EDUCATION DETAILS:")."""
    stripped = line.strip().rstrip(":-–—").strip()
    words = words_of(stripped)
    if not words or len(words) > 6 or any(ch.isdigit() for ch in stripped):
        return False
    return all(w in HEADING_WORDS for w in words) and any(
        w not in {"and", "of", "the", "&", "in", "a", "an", "my", "to", "for", "with"} for w in words
    )


def title_word_count(text: str) -> int:
    """How many words of `text` are job-title words (hyphenated parts count: "Co-coordinator")."""
    return sum(w in TITLE_WORDS or any(p in TITLE_WORDS for p in w.split("-")) for w in words_of(text))


def has_org_word(text: str) -> bool:
    return any(w.strip(".") in ORG_WORDS for w in words_of(text))
