"""A skills gazetteer: canonical skill names, their synonyms, and extraction from free text.

Shared by search (skill fields and filters), screening (evidence scoring) and guardrail (technology
names that spaCy mistakes for people or places). Hand-built for this project, so no licence to track.
"""

from __future__ import annotations

import re
from functools import lru_cache

# canonical name -> aliases (lower-case unless the alias is ambiguous English and needs its exact case)
_SKILLS: dict[str, tuple[str, ...]] = {
    # languages
    "Python": ("python", "python3", "py"),
    "Java": ("java",),
    "JavaScript": ("javascript", "js", "ecmascript", "es6"),
    "TypeScript": ("typescript", "ts"),
    "Go": ("Go", "golang"),
    "Rust": ("rust",),
    "C": ("C",),
    "C++": ("c++", "cpp"),
    "C#": ("c#", "csharp"),
    "Ruby": ("ruby",),
    "PHP": ("php",),
    "Scala": ("scala",),
    "Kotlin": ("kotlin",),
    "Swift": ("Swift",),
    "Objective-C": ("objective-c", "objc"),
    "R": ("R",),
    "Julia": ("Julia",),
    "MATLAB": ("matlab",),
    "Perl": ("perl",),
    "Elixir": ("elixir",),
    "Erlang": ("erlang",),
    "Haskell": ("haskell",),
    "Clojure": ("clojure",),
    "Dart": ("dart",),
    "Lua": ("lua",),
    "Bash": ("bash", "shell scripting", "shell script", "zsh"),
    "PowerShell": ("powershell",),
    "SQL": ("sql",),
    "PL/SQL": ("pl/sql", "plsql"),
    "HTML": ("html", "html5"),
    "CSS": ("css", "css3", "sass", "scss"),
    "Solidity": ("solidity",),
    "Fortran": ("fortran",),
    "COBOL": ("cobol",),
    # web / frameworks
    "React": ("react", "react.js", "reactjs"),
    "React Native": ("react native",),
    "Angular": ("angular", "angularjs"),
    "Vue.js": ("vue", "vue.js", "vuejs"),
    "Svelte": ("svelte",),
    "Next.js": ("next.js", "nextjs"),
    "Node.js": ("node.js", "nodejs", "node"),
    "Express": ("express.js", "expressjs"),
    "Django": ("django",),
    "Flask": ("flask",),
    "FastAPI": ("fastapi",),
    "Spring": ("spring", "spring boot", "springboot"),
    "Ruby on Rails": ("rails", "ruby on rails", "ror"),
    "Laravel": ("laravel",),
    ".NET": (".net", "dotnet", "asp.net", ".net core"),
    "GraphQL": ("graphql",),
    "REST APIs": ("rest", "restful", "rest api", "rest apis", "restful apis"),
    "gRPC": ("grpc",),
    "Protocol Buffers": ("protobuf", "protocol buffers"),
    "WebSockets": ("websocket", "websockets"),
    "jQuery": ("jquery",),
    "Tailwind CSS": ("tailwind", "tailwindcss"),
    "Redux": ("redux",),
    "Webpack": ("webpack",),
    "Flutter": ("flutter",),
    "Android": ("android",),
    "iOS": ("ios",),
    "SwiftUI": ("swiftui",),
    # data / ml
    "Machine Learning": ("machine learning", "ml"),
    "Deep Learning": ("deep learning",),
    "NLP": ("nlp", "natural language processing"),
    "Computer Vision": ("computer vision",),
    "LLMs": ("llm", "llms", "large language models", "large language model"),
    "PyTorch": ("pytorch", "torch"),
    "TensorFlow": ("tensorflow",),
    "Keras": ("keras",),
    "scikit-learn": ("scikit-learn", "sklearn", "scikit learn"),
    "pandas": ("pandas",),
    "NumPy": ("numpy",),
    "SciPy": ("scipy",),
    "Jupyter": ("jupyter",),
    "Hugging Face": ("hugging face", "huggingface", "transformers"),
    "XGBoost": ("xgboost",),
    "Spark": ("spark", "apache spark", "pyspark"),
    "Hadoop": ("hadoop",),
    "Kafka": ("kafka", "apache kafka"),
    "Airflow": ("airflow", "apache airflow"),
    "dbt": ("dbt",),
    "Flink": ("flink", "apache flink"),
    "Beam": ("apache beam",),
    "ETL": ("etl", "elt"),
    "Data Warehousing": ("data warehousing", "data warehouse"),
    "Snowflake": ("snowflake",),
    "BigQuery": ("bigquery",),
    "Redshift": ("redshift",),
    "Databricks": ("databricks",),
    "Tableau": ("tableau",),
    "Power BI": ("power bi", "powerbi"),
    "Looker": ("looker",),
    "Statistics": ("statistics", "statistical analysis"),
    "A/B Testing": ("a/b testing", "ab testing", "experimentation"),
    "Data Analysis": ("data analysis", "data analytics"),
    "Data Visualization": ("data visualization", "data visualisation"),
    "MLOps": ("mlops",),
    "Embeddings": ("embeddings", "vector search"),
    "RAG": ("rag", "retrieval augmented generation", "retrieval-augmented generation"),
    # databases
    "PostgreSQL": ("postgresql", "postgres", "psql"),
    "MySQL": ("mysql",),
    "MariaDB": ("mariadb",),
    "SQLite": ("sqlite",),
    "Oracle": ("oracle", "oracle db"),
    "SQL Server": ("sql server", "mssql"),
    "MongoDB": ("mongodb", "mongo"),
    "Redis": ("redis",),
    "Cassandra": ("cassandra",),
    "DynamoDB": ("dynamodb",),
    "Elasticsearch": ("elasticsearch", "elastic search", "opensearch"),
    "Neo4j": ("neo4j",),
    "ClickHouse": ("clickhouse",),
    "DuckDB": ("duckdb",),
    "pgvector": ("pgvector",),
    "RabbitMQ": ("rabbitmq",),
    # cloud / devops
    "AWS": ("aws", "amazon web services"),
    "GCP": ("gcp", "google cloud", "google cloud platform"),
    "Azure": ("azure", "microsoft azure"),
    "Docker": ("docker", "containers", "containerization"),
    "Kubernetes": ("kubernetes", "k8s"),
    "Helm": ("helm",),
    "Terraform": ("terraform",),
    "Ansible": ("ansible",),
    "Puppet": ("puppet",),
    "Chef": ("Chef",),
    "Jenkins": ("jenkins",),
    "GitHub Actions": ("github actions",),
    "GitLab CI": ("gitlab ci", "gitlab-ci"),
    "CI/CD": ("ci/cd", "cicd", "continuous integration", "continuous delivery", "continuous deployment"),
    "Linux": ("linux", "unix"),
    "Git": ("git",),
    "Nginx": ("nginx",),
    "Prometheus": ("prometheus",),
    "Grafana": ("grafana",),
    "Datadog": ("datadog",),
    "Observability": ("observability", "monitoring"),
    "Microservices": ("microservices", "micro-services", "microservice"),
    "Serverless": ("serverless", "aws lambda", "lambda"),
    "Distributed Systems": ("distributed systems",),
    "System Design": ("system design",),
    "Networking": ("networking", "tcp/ip"),
    "Security": ("security", "cybersecurity", "infosec", "application security"),
    "OAuth": ("oauth", "oauth2", "openid connect", "oidc"),
    "SRE": ("sre", "site reliability engineering", "site reliability"),
    "DevOps": ("devops",),
    "Cloud Architecture": ("cloud architecture",),
    # practices / testing
    "Agile": ("agile", "scrum", "kanban"),
    "TDD": ("tdd", "test-driven development", "test driven development"),
    "Unit Testing": ("unit testing", "unit tests"),
    "pytest": ("pytest",),
    "Selenium": ("selenium",),
    "Playwright": ("playwright",),
    "Cypress": ("cypress",),
    "Jest": ("jest",),
    "QA": ("qa", "quality assurance", "test automation"),
    "Performance Tuning": ("performance tuning", "performance optimization", "profiling"),
    "API Design": ("api design",),
    "Object-Oriented Design": ("oop", "object-oriented", "object oriented programming"),
    "Functional Programming": ("functional programming",),
    "Concurrency": ("concurrency", "multithreading", "async programming", "asyncio"),
    "Algorithms": ("algorithms", "data structures"),
    # design / product / business
    "Figma": ("figma",),
    "UX Design": ("ux", "ux design", "user experience"),
    "UI Design": ("ui design", "user interface design"),
    "Product Management": ("product management", "product manager", "roadmapping"),
    "Project Management": ("project management", "pmp"),
    "Jira": ("jira",),
    "Excel": ("excel", "microsoft excel"),
    "Salesforce": ("salesforce", "crm"),
    "SEO": ("seo", "search engine optimization"),
    "Marketing": ("digital marketing", "marketing"),
    "Sales": ("sales", "business development"),
    "Accounting": ("accounting", "bookkeeping"),
    "Financial Modeling": ("financial modeling", "financial modelling", "valuation"),
    "Communication": ("communication", "communication skills", "stakeholder management"),
    "Leadership": ("leadership", "team leadership", "people management", "mentoring", "mentorship"),
    "Technical Writing": ("technical writing", "documentation"),
    "Recruiting": ("recruiting", "talent acquisition", "sourcing"),
    "Customer Support": ("customer support", "customer service"),
    "Embedded Systems": ("embedded systems", "embedded", "firmware", "rtos"),
    "FPGA": ("fpga", "verilog", "vhdl"),
    "Blockchain": ("blockchain", "web3", "ethereum"),
    "Game Development": ("game development", "unity", "unreal engine"),
}

# Ambiguous English words: only match them with the exact case given above.
_CASE_SENSITIVE = {alias for aliases in _SKILLS.values() for alias in aliases if alias[0].isupper()}

ALL_SKILLS: tuple[str, ...] = tuple(_SKILLS)

_ALIASES: dict[str, str] = {}
for _canonical, _aliases in _SKILLS.items():
    _ALIASES[_canonical.lower()] = _canonical
    for _alias in _aliases:
        _ALIASES.setdefault(_alias.lower(), _canonical)


def _pattern(aliases: list[str], flags: int) -> re.Pattern[str]:
    ordered = sorted(aliases, key=len, reverse=True)
    body = "|".join(re.escape(a) for a in ordered)
    # Skill names contain + # . / -, so word boundaries are spelled out instead of \b.
    return re.compile(rf"(?<![\w+#/]){'(?:' + body + ')'}(?![\w+#]|\.\w)", flags)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    insensitive = [a for a in _ALIASES if a not in {s.lower() for s in _CASE_SENSITIVE}]
    insensitive += [c.lower() for c in _SKILLS if c not in _CASE_SENSITIVE and c.lower() not in insensitive]
    return _pattern(insensitive, re.IGNORECASE), _pattern(sorted(_CASE_SENSITIVE), 0)


def canonical_skill(term: str) -> str | None:
    """The canonical name of a skill or synonym ("k8s" -> "Kubernetes"), or None if unknown."""
    key = term.strip().lower()
    if not key:
        return None
    return _ALIASES.get(key)


def is_skill_term(token: str) -> bool:
    """True when `token` (any case) names a skill or one of its synonyms."""
    return canonical_skill(token) is not None


def extract_skills(text: str) -> list[str]:
    """Canonical skills mentioned in `text`, in order of first appearance, without duplicates."""
    found: list[tuple[int, str]] = []
    insensitive, sensitive = _patterns()
    for pattern in (insensitive, sensitive):
        for match in pattern.finditer(text):
            name = canonical_skill(match.group(0))
            if name is not None:
                found.append((match.start(), name))
    found.sort()
    seen: dict[str, None] = {}
    for _pos, name in found:
        seen.setdefault(name, None)
    return list(seen)


def normalise_skills(skills: list[str]) -> list[str]:
    """Canonicalise a user-given skill list; unknown skills are kept as given (trimmed), duplicates dropped."""
    out: dict[str, None] = {}
    for skill in skills:
        cleaned = skill.strip()
        if cleaned:
            out.setdefault(canonical_skill(cleaned) or cleaned, None)
    return list(out)
