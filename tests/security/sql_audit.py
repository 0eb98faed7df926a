"""Finds SQL text built from values: f-strings, `%` formatting, `.format()` and `+` on SQL-looking literals.

psycopg's `sql.SQL(...).format(sql.Identifier(...))` composition and `%s` placeholders passed to `execute`
are the safe ways and are not flagged. An interpolation is accepted only when its exact source text is in
the reviewed whitelist for that file (table and column names from fixed tuples, never request data).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

# Two keywords in a row of statement shape: "SELECT ... FROM", "INSERT INTO", "UPDATE x SET", "DELETE FROM" ...
SQL_SHAPE = re.compile(
    r"\b(SELECT\s+(?=\*|DISTINCT\b|[\w.]+\s*(\(|,|\s+FROM\b|\s+AS\b))[\s\S]*?\bFROM|INSERT\s+INTO|UPDATE\b[\s\S]*\bSET|DELETE\s+FROM|CREATE\s+(OR\s+REPLACE\s+)?"
    r"(TEMP\s+)?(TABLE|INDEX|VIEW|SCHEMA)|DROP\s+(TABLE|INDEX|VIEW|SCHEMA)|ALTER\s+TABLE|COPY\b[\s\S]*\b(FROM|TO)\b|TRUNCATE\b|"
    r"\bWHERE\b[\s\S]*(=|\bIN\b|\bLIKE\b))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str
    expr: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.kind} interpolates {self.expr!r} into SQL"


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        # A placeholder word where each value goes, so "SELECT {cols} FROM" still reads as a statement.
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "x" for v in node.values
        )
    return None


def _is_sql(text: str | None) -> bool:
    return text is not None and bool(SQL_SHAPE.search(text))


def _is_psycopg_sql(node: ast.AST) -> bool:
    """sql.SQL("...") / SQL("...") — its .format() composes Identifiers and Placeholders safely."""
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Attribute) and node.func.attr == "SQL")
        or (isinstance(node.func, ast.Name) and node.func.id == "SQL")
    )


def scan_source(source: str, file: str = "<string>") -> Iterator[Finding]:
    """Every value interpolated into SQL-looking text in `source`."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and _is_sql(_literal_text(node)):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    yield Finding(file, node.lineno, "f-string", ast.unparse(part.value))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_sql(_literal_text(node.left)):
            yield Finding(file, node.lineno, "% formatting", ast.unparse(node.right))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = _literal_text(node.left), _literal_text(node.right)
            if _is_sql(left) and right is None and not isinstance(node.right, ast.JoinedStr):
                yield Finding(file, node.lineno, "concatenation", ast.unparse(node.right))
            elif _is_sql(right) and left is None and not isinstance(node.left, ast.JoinedStr | ast.BinOp):
                yield Finding(file, node.lineno, "concatenation", ast.unparse(node.left))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and not _is_psycopg_sql(node.func.value)
            and _is_sql(_literal_text(node.func.value))
        ):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                yield Finding(file, node.lineno, ".format()", ast.unparse(arg))
