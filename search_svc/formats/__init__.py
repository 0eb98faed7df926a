"""Resume file formats: one module per format, each turning bytes into plain text under `ParseLimits`.

Parsers raise `Unreadable` (or its subclass `OverLimit`) with a reason a person can act on; nothing here knows
about gRPC or the worker process, so every parser is tested directly. `search_svc.ingest` picks the parser from
the sniffed media type and turns those errors into `InvalidArgument` naming the field and the file.
"""
