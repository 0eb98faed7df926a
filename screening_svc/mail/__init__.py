"""Delivery of the candidate e-mails search_svc writes to its outbox (`catalog.notifications`).

`relay` turns queued outbox rows into one `mail.deliver` job each on the durable task queue (LISTEN/NOTIFY
plus a periodic sweep); the job sends over SMTP (`smtp`) and writes the outcome back to the row
(`outbox`), which stays the one source of truth for a message's state. Settings: `config`.
"""
