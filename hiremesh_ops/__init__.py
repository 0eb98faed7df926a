"""hiremesh's operator tools: the `hiremesh` command and what only it (and the tests) run.

The top of the import graph: these modules may import the runtime (`hiremesh/`) and any service; nothing under
`hiremesh/` and no service imports them (tests/test_architecture.py). A service image carries this package only
for the `hiremesh` command its healthcheck (`hiremesh probe`) and jobs (`hiremesh migrate`, `hiremesh secrets`)
run; their top-level imports need core dependencies alone (tests/test_dependencies.py).

- `cli`: the `hiremesh` command (argparse only at the top; each sub-command imports what it needs)
- `supervisor`: `hiremesh up` / `status`, the supervised service processes
- `pg`: the embedded PostgreSQL cluster (creates a system user and chowns its folders when run as root)
- `db_cli`: `hiremesh db start|stop|status|url`
- `probe`: gRPC health probing for `hiremesh probe`, the supervisor and the tests
- `mailsink`: the local SMTP server `hiremesh up` runs (a Maildir)
- `llm_server`: the local llama.cpp server of `hiremesh up --local-llm`
- `build_embedding_model`: exports the embedding model to ONNX (`make models`, runs in .venv-build)
- `ops_args`, `ops_cli`, `demo`: seed-demo, import, search, screen, migrate
- `users_cli`, `secrets_cli`, `tasks_cli`, `analytics_cli`: `hiremesh users|secrets|tasks|analytics`
"""
