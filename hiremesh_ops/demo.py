"""Realistic, generated demo data: job postings and resumes from role templates, deterministic per seed."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ROLES: dict[str, dict[str, list[str]]] = {
    "Backend Engineer": {
        "core": ["Python", "PostgreSQL", "Docker", "REST APIs", "Redis"],
        "extra": ["Kubernetes", "Kafka", "gRPC", "AWS", "Go", "Microservices", "CI/CD", "Terraform"],
        "verbs": ["built", "scaled", "designed", "migrated", "optimised"],
        "things": ["payment APIs", "an order service", "a billing platform", "search backends", "event pipelines"],
    },
    "Frontend Engineer": {
        "core": ["JavaScript", "TypeScript", "React", "CSS", "HTML"],
        "extra": ["Next.js", "GraphQL", "Redux", "Jest", "Webpack", "Figma", "Cypress"],
        "verbs": ["shipped", "rebuilt", "designed", "led", "improved"],
        "things": ["a checkout flow", "a design system", "dashboards", "an onboarding wizard", "mobile web pages"],
    },
    "Data Engineer": {
        "core": ["Python", "SQL", "Spark", "Airflow", "ETL"],
        "extra": ["Kafka", "dbt", "Snowflake", "BigQuery", "AWS", "Databricks", "Data Warehousing"],
        "verbs": ["built", "automated", "modelled", "migrated", "tuned"],
        "things": ["batch pipelines", "a lakehouse", "streaming ingestion", "a data warehouse", "CDC feeds"],
    },
    "Machine Learning Engineer": {
        "core": ["Python", "Machine Learning", "PyTorch", "scikit-learn", "MLOps"],
        "extra": ["Deep Learning", "NLP", "LLMs", "Kubernetes", "TensorFlow", "Hugging Face", "RAG", "Embeddings"],
        "verbs": ["trained", "deployed", "evaluated", "productionised", "fine-tuned"],
        "things": ["ranking models", "a recommendation system", "fraud detectors", "retrieval models", "classifiers"],
    },
    "DevOps Engineer": {
        "core": ["Kubernetes", "Docker", "Terraform", "Linux", "CI/CD"],
        "extra": ["AWS", "GCP", "Prometheus", "Grafana", "Ansible", "Helm", "Bash", "SRE"],
        "verbs": ["automated", "hardened", "migrated", "operated", "scaled"],
        "things": ["clusters", "deploy pipelines", "observability stacks", "multi-region infrastructure", "on-call"],
    },
    "Product Designer": {
        "core": ["Figma", "UX Design", "UI Design", "Communication"],
        "extra": ["A/B Testing", "HTML", "CSS", "Product Management", "Data Analysis"],
        "verbs": ["designed", "researched", "prototyped", "tested", "led"],
        "things": ["a mobile app", "the onboarding journey", "an admin console", "a design language", "user studies"],
    },
}

FIRST = [
    "Alice",
    "Bilal",
    "Chen",
    "Daniela",
    "Emeka",
    "Fatima",
    "Giulia",
    "Hiro",
    "Ingrid",
    "Jamal",
    "Kavya",
    "Lucas",
    "Maya",
    "Nikolai",
    "Olivia",
    "Pedro",
    "Qing",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Anders",
    "Bianchi",
    "Chowdhury",
    "Dubois",
    "Eriksen",
    "Fernandes",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Martins",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
]
CITIES = ["Berlin", "London", "Lisbon", "Amsterdam", "Toronto", "Austin", "Remote", "Paris", "Warsaw", "Dublin"]
COMPANIES = ["Acme Pay", "Northwind", "Globex", "Initech", "Umbrella Health", "Hooli", "Stark Logistics"]


@dataclass
class DemoJob:
    title: str
    description: str
    location: str
    company: str
    min_experience: float
    required_skills: list[str]


@dataclass
class DemoCandidate:
    name: str
    email: str
    phone: str
    location: str
    years_experience: float
    skills: list[str]
    resume_text: str
    role: str = field(default="")


def make_jobs(count: int, seed: int = 7) -> list[DemoJob]:
    rng = random.Random(seed)
    jobs = []
    for i in range(count):
        title = list(ROLES)[i % len(ROLES)]
        role = ROLES[title]
        level = rng.choice(["", "Senior ", "Staff "])
        skills = role["core"][:4] + rng.sample(role["extra"], 2)
        years = {"": 2.0, "Senior ": 5.0, "Staff ": 8.0}[level]
        company = rng.choice(COMPANIES)
        work = rng.sample(role["things"], 2)
        description = (
            f"{company} is hiring a {level}{title}. You will work on {work[0]} and {work[1]} with a small, "
            f"product-minded team. Must have: {', '.join(skills[:4])}. "
            f"Nice to have: {', '.join(skills[4:])}. At least {years:.0f} years of professional experience."
        )
        jobs.append(DemoJob(f"{level}{title}", description, rng.choice(CITIES), company, years, skills))
    return jobs


def make_candidates(count: int, seed: int = 11) -> list[DemoCandidate]:
    rng = random.Random(seed)
    people = []
    for i in range(count):
        title = rng.choice(list(ROLES))
        role = ROLES[title]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        years = round(rng.uniform(0.5, 14), 1)
        skills = rng.sample(role["core"], k=rng.randint(2, len(role["core"]))) + rng.sample(role["extra"], 3)
        city = rng.choice(CITIES)
        email = f"{first.lower()}.{last.lower()}{i}@example.com"
        phone = f"+44 20 7946 {rng.randint(1000, 9999)}"
        lines = [
            f"{first} {last}",
            f"{title} | {city} | {email} | {phone}",
            "",
            "Summary",
            f"{title} with {years:g} years of experience. Strong in {', '.join(skills[:3])}.",
            "",
            "Experience",
        ]
        for _job in range(rng.randint(2, 4)):
            company = rng.choice(COMPANIES)
            lines.append(f"{title} at {company}")
            for _bullet in range(3):
                used = rng.sample(skills, 2)
                lines.append(
                    f"- {rng.choice(role['verbs']).capitalize()} {rng.choice(role['things'])} using "
                    f"{used[0]} and {used[1]}."
                )
        lines += ["", "Skills", ", ".join(skills)]
        people.append(DemoCandidate(f"{first} {last}", email, phone, city, years, skills, "\n".join(lines), title))
    return people
