"""What the NUL check of every request costs next to decoding the same request (hiremesh.request_text).

Every MeshServer decodes a request and then walks its strings for U+0000 (INVALID_ARGUMENT naming the field);
this measures both, side by side in one run, on requests shaped like the mesh's busiest calls: a resume upload,
an embedding batch, a list page and a hybrid search.

    .venv/bin/python bench/request_text.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from google.protobuf.message import Message  # noqa: E402

from bench.cpu import cpu_info  # noqa: E402
from hiremesh.request_text import nul_field  # noqa: E402
from hiremesh.v1 import embedding_pb2, search_pb2  # noqa: E402

# Real resume-like text: the first sample resume of the shared data when present, else this file's docstring.
_SAMPLE = REPO.parent / "shared" / "data" / "README.md"


def requests() -> dict[str, Message]:
    text = (_SAMPLE.read_text() if _SAMPLE.exists() else __doc__ or "") * 10
    return {
        "CreateCandidate, 10 KB resume, 20 skills": search_pb2.CreateCandidateRequest(
            candidate=search_pb2.Candidate(name="Ada Lovelace", skills=["Python"] * 20, resume_text=text[:10_000])
        ),
        "Embed, 64 texts of 1 KB": embedding_pb2.EmbedRequest(texts=[text[:1000]] * 64),
        "ListCandidates with filters": search_pb2.ListCandidatesRequest(location="Berlin", skill="Go", page_size=50),
        "SearchCandidates, 2 KB text": search_pb2.SearchCandidatesRequest(text=text[:2000]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20_000)
    args = parser.parse_args()
    rows = {}
    for name, message in requests().items():
        raw = message.SerializeToString()
        parse = type(message).FromString
        decode_us = min(timeit.repeat(functools.partial(parse, raw), number=args.repeat, repeat=3)) / args.repeat * 1e6
        check_us = (
            min(timeit.repeat(functools.partial(nul_field, message), number=args.repeat, repeat=3)) / args.repeat * 1e6
        )
        rows[name] = {
            "bytes": len(raw),
            "decode_us": round(decode_us, 2),
            "nul_check_us": round(check_us, 2),
            "check_over_decode": round(check_us / decode_us, 2),
        }
        print(f"{name:<42} {len(raw):>7} B  decode {decode_us:7.2f} us  NUL check {check_us:7.2f} us")
    print(json.dumps({"cpu": cpu_info(), "results": rows}, indent=2))


if __name__ == "__main__":
    main()
