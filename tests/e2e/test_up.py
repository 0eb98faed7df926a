"""`hiremesh up` end to end: the cluster and six processes come up SERVING, then stop with no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.procs import REPO, free_port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _post(base: str, token: str, path: str, body: dict[str, object]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return dict(json.loads(resp.read()))


def _an_application_mails_the_candidate(base: str, home: Path) -> None:
    """With nothing configured, a new application's e-mail lands in $HIREMESH_HOME/mail as a Maildir file."""
    from hiremesh_ops.mailsink import messages

    token = (home / "admin-token").read_text().strip()
    job = _post(base, token, "/jobs", {"title": "Crane Operator", "description": "Tower cranes, lift plans."})["job"]
    cand = _post(
        base,
        token,
        "/candidates",
        {
            "name": "Rosa Crane",
            "email": "rosa@example.com",
            "resume_text": "Rosa Crane, tower crane operator for 9 years.",
        },
    )
    _post(base, token, "/applications", {"candidate_id": cand["candidate"]["id"], "job_id": job["id"]})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not messages(home / "mail"):
        time.sleep(0.5)
    [mail] = messages(home / "mail")
    assert mail["To"] == "rosa@example.com" and mail["Subject"] == "Application update: Crane Operator"
    assert "Dear Rosa Crane," in mail.get_content()


@pytest.mark.slow
def test_up_serves_everything_then_stops_cleanly() -> None:
    home = Path(tempfile.mkdtemp(prefix="hiremesh-up-", dir="/tmp"))
    home.chmod(0o755)  # the cluster's server user must traverse it (tests/hiremesh covers the fallback)
    ports = {
        name: free_port()
        for name in ("EMBEDDING", "SEARCH", "SCREENING", "GUARDRAIL", "ANALYTICS", "GATEWAY", "PG", "SMTP")
    }
    env = {
        **os.environ,
        "HIREMESH_HOME": str(home),
        "HIREMESH_SCREENING_ENGINE": "evidence",
        "HIREMESH_MODEL_DIR": os.environ.get("HIREMESH_MODEL_DIR", str(REPO / ".hiremesh" / "models")),
        **{f"HIREMESH_{k}_PORT": str(v) for k, v in ports.items()},
    }
    env.pop("HIREMESH_DATABASE_URL", None)
    env.pop("HIREMESH_SMTP_HOST", None)  # the embedded default: hiremesh up runs the SMTP server itself
    log = open(home / "up.out", "w+b")  # read back below, closed in finally
    proc = subprocess.Popen(
        [sys.executable, "-m", "hiremesh_ops.cli", "up"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    children: dict[str, int] = {}
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and proc.poll() is None:
            if b"hiremesh is up" in (home / "up.out").read_bytes():
                break
            time.sleep(0.5)
        output = (home / "up.out").read_text()
        assert "hiremesh is up: http://127.0.0.1:" in output, output
        state = json.loads((home / "run" / "up.json").read_text())
        children = {name: info["pid"] for name, info in state["children"].items()}
        assert set(children) == {"embedding", "guardrail", "search", "analytics", "screening", "gateway"}

        status = subprocess.run(
            [sys.executable, "-m", "hiremesh_ops.cli", "status"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("SERVING") == 6
        url = f"http://127.0.0.1:{ports['GATEWAY']}/healthz"
        assert urllib.request.urlopen(url, timeout=5).status == 200
        assert f"mail: local SMTP server on 127.0.0.1:{ports['SMTP']}" in output
        _an_application_mails_the_candidate(f"http://127.0.0.1:{ports['GATEWAY']}", home)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 0, (home / "up.out").read_text()
        assert not [name for name, pid in children.items() if _pid_alive(pid)], "orphaned children"
        assert "stopped" in (home / "up.out").read_text()
        db_status = subprocess.run(
            [sys.executable, "-m", "hiremesh_ops.cli", "db", "status"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "not running" in db_status.stdout.lower() or "stopped" in db_status.stdout.lower(), db_status.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in children.values():
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()
        subprocess.run(
            [sys.executable, "-m", "hiremesh_ops.cli", "db", "stop"], cwd=REPO, env=env, capture_output=True, timeout=60
        )
