"""hiremesh's runtime: what every service imports, and nothing else.

No module here imports a service or the operator tools (`hiremesh_ops/`, the `hiremesh` command); each module
names its public surface in `__all__`, and code outside this package imports only those names and only the
modules listed below in `__all__` (tests/test_architecture.py, tests/hiremesh/test_public_surface.py).

Serving and calling:
- `server`: `MeshServer` and `run`, the one way every gRPC server is built (health, reflection, interceptors)
- `clients`: channels and stubs to the other services (retries, keepalive, the service token)
- `service_auth`: the per-deployment service credential on every RPC; `tls`: optional TLS / mTLS (internal)
- `errors`: the domain exceptions, each with its AIP-193 reason (the reason catalogue)
- `rpc_errors`: the one mapping between domain errors and gRPC statuses with google.rpc details, both ways
- `request_text`: the NUL check every server applies to the text of a request
- `pending`: a servicer's dependency that arrives after start-up (UNAVAILABLE until then)
- `metrics`: the Prometheus metrics of every server
- `idempotency`: AIP-155 request ids; `page_tokens`: the one page-token codec of every List RPC
- `v1`: the generated protobuf and gRPC stubs (`make proto`; their surface is the .proto contract)

Configuration and data:
- `config`: `HIREMESH_*` environment variables; `credentials`: deployment secrets
- `db`: the pgvector-aware connection pool and SQL migrations

Shared domain code (each used by more than one service):
- `analysis_model`, `analysis`, `analysis_text`: the screening analysis contract, its validation and repair
- `skills` (over `esco`; internal: `skill_aliases`, `skill_index`), `places`, `wordlist`, `resume_terms`, `mailaddr`
- `task_vocabulary`: a screening task's states, stages and live-update statuses (screening, gateway, the web UI)
"""

__all__ = [
    "analysis",
    "analysis_model",
    "analysis_text",
    "clients",
    "config",
    "credentials",
    "db",
    "errors",
    "esco",
    "idempotency",
    "mailaddr",
    "metrics",
    "page_tokens",
    "pending",
    "places",
    "resume_terms",
    "rpc_errors",
    "server",
    "service_auth",
    "skills",
    "task_vocabulary",
    "v1",
    "wordlist",
]
