"""The parser limits come from HIREMESH_SEARCH_PARSE_* variables; a bad value stops start-up naming the variable."""

from __future__ import annotations

import pytest

from hiremesh.config import ConfigError
from search_svc.config import parse_limits_from_env
from search_svc.formats.limits import MB, ParseLimits


def test_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_limits_from_env() == ParseLimits()
    for name, value in {
        "MAX_PAGES": "5",
        "MAX_OCR_PAGES": "2",
        "MAX_CHARS": "20000",
        "MAX_INFLATED_MB": "30",
        "MAX_RATIO": "50",
        "MAX_MEGAPIXELS": "12",
        "TIMEOUT_S": "7.5",
        "MEMORY_MB": "1024",
        "OCR": "off",
        "MAX_FILE_MB": "4",
    }.items():
        monkeypatch.setenv(f"HIREMESH_SEARCH_PARSE_{name}", value)
    assert parse_limits_from_env() == ParseLimits(
        max_file_bytes=4 * MB,
        max_pages=5,
        max_ocr_pages=2,
        max_chars=20000,
        max_inflated_bytes=30 * MB,
        max_ratio=50.0,
        max_pixels=12_000_000,
        timeout_s=7.5,
        memory_bytes=1024 * MB,
        ocr=False,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("MEMORY_MB", "100"), ("TIMEOUT_S", "0"), ("MAX_PAGES", "many"), ("MAX_FILE_MB", "64"), ("OCR", "maybe")],
)
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"HIREMESH_SEARCH_PARSE_{name}", value)
    with pytest.raises(ConfigError) as err:
        parse_limits_from_env()
    assert err.value.name == f"HIREMESH_SEARCH_PARSE_{name}"
