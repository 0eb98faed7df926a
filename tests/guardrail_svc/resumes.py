"""Resumes generated with planted PII, so a test knows every value that must be found and redacted."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FIRST = [
    "Olivia",
    "Liam",
    "Amara",
    "Mateo",
    "Priya",
    "Jonas",
    "Chloe",
    "Kwame",
    "Sofia",
    "Hiroshi",
    "Fatima",
    "Lucas",
    "Ingrid",
    "Diego",
    "Hannah",
    "Ravi",
    "Elena",
    "Tomasz",
    "Grace",
    "Samuel",
]
LAST = [
    "Bennett",
    "Okafor",
    "Schneider",
    "Fernandez",
    "Kowalski",
    "Nakamura",
    "Haddad",
    "Lindqvist",
    "Murphy",
    "Patel",
    "Rossi",
    "Dubois",
    "Andersen",
    "Costa",
    "Walker",
    "Nguyen",
    "Morales",
    "Fischer",
]
CITIES = ["London", "Berlin", "Chicago", "Toronto", "Dublin", "Madrid", "Sydney", "Boston", "Paris"]
STREETS = ["Baker Street", "Elm Avenue", "Station Road", "Maple Drive", "Church Lane", "Harbour Way"]
PHONES = [
    "+44 20 7946 0{:03d}",
    "+1 415 555 0{:03d}",
    "(212) 555-0{:03d}",
    "+49 30 901820{:02d}",
    "+33 1 42 68 5{:03d}",
    "+353 1 555 0{:03d}",
]
SKILL_LINES = [
    "Built event pipelines with Kafka, Flink and Python; deployed on Kubernetes with Helm.",
    "Developed React and TypeScript front ends backed by Django and PostgreSQL.",
    "Wrote Go microservices with gRPC and Redis; monitored with Prometheus and Grafana.",
    "Automated infrastructure with Terraform and Docker on AWS; CI/CD with Jenkins.",
    "Trained models with PyTorch and scikit-learn; served them with FastAPI.",
]


@dataclass
class PlantedResume:
    text: str
    planted: dict[str, list[str]] = field(default_factory=dict)  # entity type -> values in the text

    def plant(self, entity: str, value: str) -> str:
        self.planted.setdefault(entity, []).append(value)
        return value


def luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def make_resume(seed: int) -> PlantedResume:
    rng = random.Random(seed)
    r = PlantedResume("")
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {last}"
    header = name.upper() if seed % 2 == 0 else name
    handle = f"{first.lower()}{last.lower()}{seed}"
    lines = [
        r.plant("PERSON", header),
        "Senior Software Engineer",
        f"Email: {r.plant('EMAIL_ADDRESS', f'{first.lower()}.{last.lower()}{seed}@mailbox.org')} | "
        f"Phone: {r.plant('PHONE_NUMBER', rng.choice(PHONES).format(rng.randrange(1, 99)))}",
        f"Address: {r.plant('STREET_ADDRESS', f'{rng.randrange(2, 400)} {rng.choice(STREETS)}')}, "
        f"{r.plant('LOCATION', rng.choice(CITIES))}",
        f"LinkedIn: {r.plant('SOCIAL_PROFILE', f'linkedin.com/in/{handle}')} | "
        f"GitHub: {r.plant('SOCIAL_PROFILE', f'https://github.com/{handle}-dev')}",
        "Date of birth: "
        + r.plant("DATE_OF_BIRTH", f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 12):02d}/19{rng.randrange(60, 99)}"),
        "",
        "SUMMARY",
        f"Backend engineer with {rng.randrange(3, 15)} years of experience in Python, Go and Java. "
        + rng.choice(SKILL_LINES),
        "",
        "EXPERIENCE",
        *[f"- {rng.choice(SKILL_LINES)}" for _ in range(4)],
        "",
        "REFERENCES",
        f"Former manager: {r.plant('PERSON', f'{rng.choice(FIRST)} {rng.choice(LAST)}')}, "
        f"reachable on {r.plant('PHONE_NUMBER', '+44 161 496 0' + str(rng.randrange(100, 999)))}.",
        f"Card on file: {r.plant('CREDIT_CARD', luhn_card(rng))}. "
        "Demo server: "
        + r.plant("IP_ADDRESS", f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        + ".",
        "SSN: "
        + r.plant("NATIONAL_ID", f"{rng.randrange(100, 600)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}")
        + f". Twitter: {r.plant('SOCIAL_PROFILE', '@' + handle)}",
    ]
    r.text = "\n".join(lines)
    return r
