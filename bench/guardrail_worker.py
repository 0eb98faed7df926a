"""One guardrail build in a process of its own, driven by bench/guardrail.py over stdin/stdout (JSON lines).

Run with PYTHONPATH pointing at the tree to measure (this branch, or an export of main), so two builds of the same
packages can be timed side by side in one benchmark run without sharing a process. Commands:
  {"op": "time", "text": ..., "runs": N}      -> {"ms": [per-run full-scan milliseconds]}
  {"op": "pii", "texts": [...]}               -> {"findings": [[[type, start, end], ...], ...]}  (full mode)
  {"op": "redact", "text": ...}               -> {"text": redacted}
  {"op": "where"}                             -> {"guardrail_svc": path of the package actually imported}
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    import guardrail_svc
    from guardrail_svc.pii import PiiDetector
    from guardrail_svc.scanner import Guardrail
    from guardrail_svc.toxicity import ProfanityCheckBackend, ToxicityScorer

    # The findings cache would answer every repeat of the same text: these figures are the models' own.
    guardrail = Guardrail(PiiDetector(cache_entries=0), ToxicityScorer(ProfanityCheckBackend()))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "time":
            samples = []
            for _ in range(int(command["runs"])):
                started = time.perf_counter()
                guardrail.scan_text(command["text"])
                samples.append((time.perf_counter() - started) * 1000)
            reply: dict[str, object] = {"ms": samples}
        elif op == "pii":
            reply = {
                "findings": [
                    [[f.entity_type, f.start, f.end] for f in guardrail.pii.analyze(t)] for t in command["texts"]
                ]
            }
        elif op == "redact":
            text = command["text"]
            reply = {"text": guardrail.pii.redact(text, guardrail.pii.analyze(text))}
        elif op == "where":
            reply = {"guardrail_svc": str(guardrail_svc.__file__)}
        else:
            reply = {"error": f"unknown op {op!r}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
