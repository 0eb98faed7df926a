"""RTF to text with a single linear scan of control words, groups and text.

striprtf (the usual package) runs two regular expressions over the whole document (hyperlink fields and the
font table) that backtrack: measured here, an 84 KB RTF of repeated field openings took 97 s and a 56 KB font
table 6.7 s, growing quadratically. This reader tokenises with one pattern whose alternatives are all bounded,
so the work is proportional to the file. Text in the document's code page (\\ansicpg, or a font's \\fcharset)
is decoded per run; \\uN escapes, \\binN data, ignorable (\\*) and non-text destinations are handled as the
RTF 1.9 spec says.
"""

from __future__ import annotations

import codecs
import re

from search_svc.formats.limits import ParseLimits, TextBudget, Unreadable

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|([\r\n]+)|([^\\{}\r\n]+)", re.DOTALL
)
# Destinations whose content is not document text (the rest of the spec's list is marked \* by writers).
_NOT_TEXT = frozenset(
    {
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "object",
        "fldinst",
        "themedata",
        "colorschememapping",
        "datastore",
        "latentstyles",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "generator",
        "xmlnstbl",
        "mmathPr",
        "pgdsctbl",
        "filetbl",
        "revtbl",
        "protusertbl",
        "bkmkstart",
        "bkmkend",
        "xe",
        "tc",
        "txe",
        "nonshppict",
        "header",
        "headerl",
        "headerr",
        "headerf",
        "footer",
        "footerl",
        "footerr",
        "footerf",
        "footnote",
        "annotation",
        "atnid",
        "atnauthor",
        "comment",
        "listtext",
        "pntext",
        "pntxta",
        "pntxtb",
        "sp",
        "sn",
        "sv",
        "shpinst",
        "passwordhash",
        "userprops",
        "docvar",
        "template",
        "title",
        "subject",
        "author",
        "operator",
        "keywords",
        "company",
        "doccomm",
        "falt",
        "panose",
        "ftnsep",
        "ftnsepc",
        "ftncn",
        "aftnsep",
        "aftnsepc",
        "aftncn",
    }
)
_BREAKS = {
    "par": "\n",
    "line": "\n",
    "row": "\n",
    "sect": "\n",
    "page": "\n",
    "tab": "\t",
    "cell": " | ",
    "nestcell": " | ",
    "emdash": "\u2014",
    "endash": "\u2013",
    "bullet": "\u2022",
    "lquote": "\u2018",
    "rquote": "\u2019",
    "ldblquote": "\u201c",
    "rdblquote": "\u201d",
    "emspace": " ",
    "enspace": " ",
    "qmspace": " ",
}
_SYMBOLS = {"~": " ", "-": "", "_": "-", "\\": "\\", "{": "{", "}": "}", "\n": "\n", "\r": "\n"}
# \fcharset values to Python codecs (RTF 1.9, "Font table").
_CHARSETS = {
    0: "cp1252",
    1: "cp1252",
    2: "cp1252",
    77: "mac_roman",
    128: "cp932",
    129: "cp949",
    134: "cp936",
    136: "cp950",
    161: "cp1253",
    162: "cp1254",
    163: "cp1258",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    222: "cp874",
    238: "cp1250",
    255: "cp437",
}


def rtf_text(content: bytes, limits: ParseLimits) -> str:
    """Plain text of an RTF document; Unreadable when it is not RTF at all."""
    start = content.find(b"{\\rtf")
    if start < 0:
        raise Unreadable("corrupt or unreadable RTF: no {\\rtf header")
    return _Reader(limits).read(content, start)


class _Reader:
    def __init__(self, limits: ParseLimits) -> None:
        self.budget = TextBudget(limits)
        self.encoding = "cp1252"
        self.fonts: dict[str, str] = {}
        self.pending = bytearray()  # document-code-page bytes not decoded yet
        self.pending_encoding = "cp1252"

    def read(self, data: bytes, at: int) -> str:
        # Group state: (skip the group's text, its font, \ucN, a font table entry being defined)
        ignorable, font, uc, in_fonttbl = False, "", 1, False
        stack: list[tuple[bool, str, int, bool]] = []
        skip = 0  # characters still to drop after a \uN (its ANSI fallback)
        defining: str | None = None
        depth_seen = False
        n = len(data)
        while at < n:
            m = _TOKEN.match(data, at)
            if m is None:  # a lone backslash at the very end
                break
            at = m.end()
            word, arg, hexbyte, symbol, brace, newline, text = m.groups()
            if brace is not None:
                skip = 0
                if brace == b"{":
                    stack.append((ignorable, font, uc, in_fonttbl))
                    depth_seen = True
                else:
                    if not stack:
                        break
                    ignorable, font, uc, in_fonttbl = stack.pop()
                    if not stack and depth_seen:
                        break  # the document group is closed; anything after it is not part of it
                continue
            if newline is not None:
                continue  # raw line breaks are not text in RTF
            if word is not None:
                name = word.decode("ascii")
                if name == "bin" and arg:
                    at += max(0, int(arg))  # binary data: skip it whole
                    skip = 0
                    continue
                if in_fonttbl:
                    if name == "f" and arg is not None:
                        defining = arg.decode()
                    elif name == "fcharset" and arg is not None and defining is not None:
                        self.fonts[defining] = _CHARSETS.get(int(arg), self.encoding)
                    continue
                if name == "fonttbl":
                    in_fonttbl, ignorable = True, True
                    continue
                if name == "ansicpg" and arg is not None:
                    self.encoding = _codec(f"cp{int(arg)}", self.encoding)
                    continue
                if name in _NOT_TEXT:
                    ignorable = True
                    continue
                if ignorable:
                    continue
                if name == "uc" and arg is not None:
                    uc = max(0, int(arg))
                elif name == "u" and arg is not None:
                    code = int(arg)
                    self._emit(chr((code + 0x10000 if code < 0 else code) % 0x110000))
                    skip = uc
                elif name == "f" and arg is not None:
                    font = arg.decode()
                elif name in _BREAKS:
                    self._emit(_BREAKS[name])
                    skip = 0
                continue
            if symbol is not None:
                if symbol == b"*":
                    ignorable = True
                elif not ignorable:
                    self._emit(_SYMBOLS.get(symbol.decode("latin-1"), ""))
                continue
            if ignorable:
                continue
            if hexbyte is not None:
                if skip:
                    skip -= 1
                    continue
                self._bytes(bytes.fromhex(hexbyte.decode()), font)
            elif text is not None:
                if skip:
                    dropped = min(skip, len(text))
                    text, skip = text[dropped:], skip - dropped
                if text:
                    self._bytes(text, font)
        self._flush()
        return self.budget.text()

    def _bytes(self, raw: bytes, font: str) -> None:
        encoding = self.fonts.get(font, self.encoding)
        if encoding != self.pending_encoding:
            self._flush()
            self.pending_encoding = encoding
        self.pending += raw
        if len(self.pending) > 65536:
            self._flush()

    def _emit(self, text: str) -> None:
        self._flush()
        if text:
            self.budget.add(text)

    def _flush(self) -> None:
        if self.pending:
            # A multi-byte code page cut at the flush boundary loses at most one character to "replace".
            self.budget.add(bytes(self.pending).decode(self.pending_encoding, errors="replace"))
            self.pending.clear()


def _codec(name: str, fallback: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError:
        return fallback
    return name
