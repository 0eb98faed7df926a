"""Legacy Word (.doc, the Word 97-2003 binary format) to text, read straight from the OLE2 compound file.

The WordDocument stream starts with the FIB, which says where the text's piece table (the Clx) sits in the
table stream; each piece maps a run of character positions to bytes of the WordDocument stream, stored either
as cp1252 ("compressed") or UTF-16LE. The main story comes first, then headers and text boxes, which resumes
use for contact details and side columns. Field instructions (HYPERLINK "...", PAGE) are dropped, their
displayed results kept.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from search_svc.formats.limits import ParseLimits, TextBudget, Unreadable

_WORD_97 = 0x00C1  # nFib of Word 97; Word 6/95 files use a different FIB and are refused with that reason
_MAX_PIECES = 1_000_000
_OTHER_OLE = (
    ("Workbook", "an Excel workbook (.xls)"),
    ("Book", "an Excel workbook (.xls)"),
    ("PowerPoint Document", "a PowerPoint deck (.ppt)"),
    ("__substg1.0_1000001F", "an Outlook message"),
)


@dataclass(frozen=True)
class _Fib:
    n_fib: int
    encrypted: bool
    table_stream: str
    fc_clx: int
    lcb_clx: int
    ccp: tuple[int, ...]  # text, footnotes, headers, annotations, endnotes, text boxes, header text boxes


def doc_text(content: bytes, limits: ParseLimits) -> str:
    """Plain text of a legacy Word document; Unreadable says why when it cannot be read."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(content))
    except Exception as exc:  # olefile signals a damaged container with several exception types
        raise Unreadable(f"corrupt or unreadable Word document: {_short(exc)}") from None
    with ole:
        try:
            streams = {"/".join(path) for path in ole.listdir()}
            if {"EncryptionInfo", "EncryptedPackage"} & streams:
                raise Unreadable("document is password-protected; upload an unlocked copy")
            if "WordDocument" not in streams:
                what = next((label for name, label in _OTHER_OLE if name in streams), "an OLE2 file")
                raise Unreadable(f"{what}, not a Word document")
            word = ole.openstream("WordDocument").read()
            fib = _parse_fib(word)
            if fib.encrypted:
                raise Unreadable("document is password-protected; upload an unlocked copy")
            if fib.n_fib < _WORD_97:
                raise Unreadable("a Word 6/95 document, older than Word 97; save it as DOCX or PDF")
            if fib.table_stream not in streams:
                raise Unreadable(f"corrupt or unreadable Word document: no {fib.table_stream} stream")
            table = ole.openstream(fib.table_stream).read()
        except Unreadable:
            raise
        except Exception as exc:  # a damaged FAT or directory surfaces while streams are read
            raise Unreadable(f"corrupt or unreadable Word document: {_short(exc)}") from None
    if fib.fc_clx + fib.lcb_clx > len(table) or fib.lcb_clx == 0:
        raise Unreadable("corrupt or unreadable Word document: the piece table lies outside the table stream")
    pieces = _pieces(table[fib.fc_clx : fib.fc_clx + fib.lcb_clx])
    budget = TextBudget(limits)
    main, footnotes, headers, _annotations, _endnotes, boxes, header_boxes = _story_ranges(fib.ccp)
    for start, end in (main, boxes, headers, header_boxes, footnotes):
        if end > start:
            budget.add(_clean(_text_of(word, pieces, start, end)) + "\n")
    return budget.text()


def _parse_fib(word: bytes) -> _Fib:
    try:
        ident, n_fib = struct.unpack_from("<HH", word, 0)
        (flags,) = struct.unpack_from("<H", word, 0x0A)
        at = 32
        (csw,) = struct.unpack_from("<H", word, at)
        at += 2 + 2 * csw
        (cslw,) = struct.unpack_from("<H", word, at)
        lw = struct.unpack_from(f"<{cslw}i", word, at + 2)
        at += 2 + 4 * cslw
        (cb_fc_lcb,) = struct.unpack_from("<H", word, at)
        if cb_fc_lcb <= 33:
            raise Unreadable("corrupt or unreadable Word document: its FIB has no piece table entry")
        fc_clx, lcb_clx = struct.unpack_from("<II", word, at + 2 + 33 * 8)
    except struct.error:
        raise Unreadable("corrupt or unreadable Word document: the file information block is cut short") from None
    if ident != 0xA5EC:
        raise Unreadable("corrupt or unreadable Word document: bad file information block")
    ccp = tuple(max(0, v) for v in (lw[3:6] + lw[7:11] if len(lw) >= 11 else (*lw[3:], 0, 0, 0, 0, 0, 0, 0)[:7]))
    return _Fib(n_fib, bool(flags & 0x0100), "1Table" if flags & 0x0200 else "0Table", fc_clx, lcb_clx, ccp[:7])


def _story_ranges(ccp: tuple[int, ...]) -> list[tuple[int, int]]:
    out = []
    start = 0
    for n in ccp:
        out.append((start, start + n))
        start += n
    return out


def _pieces(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """(first cp, end cp, byte offset in WordDocument, cp1252?) for each piece of the piece table."""
    at = 0
    try:
        while at < len(clx) and clx[at] == 0x01:  # Prc: formatting we do not need
            (size,) = struct.unpack_from("<h", clx, at + 1)
            if size < 0:
                raise Unreadable("corrupt or unreadable Word document: bad piece table")
            at += 3 + size
        if at >= len(clx) or clx[at] != 0x02:
            raise Unreadable("corrupt or unreadable Word document: no piece table")
        (lcb,) = struct.unpack_from("<I", clx, at + 1)
        plc = clx[at + 5 : at + 5 + lcb]
        count = (len(plc) - 4) // 12
        if count <= 0 or count > _MAX_PIECES:
            raise Unreadable("corrupt or unreadable Word document: empty piece table")
        cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
        out = []
        for i in range(count):
            (fc,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)
            compressed = bool(fc & 0x40000000)
            offset = (fc & 0x3FFFFFFF) // 2 if compressed else fc & 0x3FFFFFFF
            out.append((cps[i], cps[i + 1], offset, compressed))
        return out
    except struct.error:
        raise Unreadable("corrupt or unreadable Word document: the piece table is cut short") from None


def _text_of(word: bytes, pieces: list[tuple[int, int, int, bool]], start: int, end: int) -> str:
    parts = []
    for first, last, offset, compressed in pieces:
        lo, hi = max(first, start), min(last, end)
        if lo >= hi:
            continue
        skip, count = lo - first, hi - lo
        if compressed:
            parts.append(word[offset + skip : offset + skip + count].decode("cp1252", errors="replace"))
        else:
            at = offset + 2 * skip
            parts.append(word[at : at + 2 * count].decode("utf-16-le", errors="replace"))
    return "".join(parts)


_SPECIAL = {
    "\r": "\n",
    "\x0b": "\n",
    "\x0c": "\n",
    "\x0e": "\n",
    "\x1e": "-",
    "\xa0": " ",
    "\t": "\t",
    "\x07": "\t",
    "\n": "\n",
}


def _clean(raw: str) -> str:
    """Word's control characters to text: paragraph and cell marks to breaks, field instructions dropped."""
    out: list[str] = []
    # One entry per open field: True while in its instruction part (between 0x13 and 0x14).
    fields: list[bool] = []
    for ch in raw:
        if ch == "\x13":
            fields.append(True)
        elif ch == "\x14":
            if fields:
                fields[-1] = False
        elif ch == "\x15":
            if fields:
                fields.pop()
        elif fields and fields[-1]:
            continue
        elif ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch < " ":
            continue  # pictures (0x01), drawn objects (0x08), note references, optional hyphens (0x1f)
        else:
            out.append(ch)
    return "".join(out)


def _short(exc: Exception) -> str:
    return str(exc)[:200] or type(exc).__name__
