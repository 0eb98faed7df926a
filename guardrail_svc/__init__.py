"""guardrail_svc: PII, bias and toxicity checks, redaction and validation of AI output."""
