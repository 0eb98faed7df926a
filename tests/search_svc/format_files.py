"""Resume files of every format for the tests, written by real writers, plus real files and real bombs.

Real: two public resumes from the recruiter folder (a legacy Word .doc and its .docx twin) in files/. Written
here: ODT by odfpy, RTF the way WordPad writes it (font table, code page, \\uN escapes), HTML, PNG and JPEG
rendered by Pillow with its built-in font (no system font needed), an image-only "scanned" PDF. Bombs: a DOCX
whose document.xml inflates 1000x, a PDF with a huge Flate content stream, a PDF with too many pages.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FILES = Path(__file__).parent / "files"
REAL_DOC = FILES / "react-developer-vinay-reddy.doc"
REAL_DOCX = FILES / "react-developer-vinay-reddy.docx"

# A real resume's opening (resumes-dev.csv, "Python Developer"), kept short so OCR tests stay quick.
RESUME = [
    "Technical Proficiencies",
    "Platform: Ubuntu, Fedora, Cent OS, Windows",
    "Database: MySQL",
    "Languages: Python, Tensorflow, Numpy, C, C++",
    "January 2016 ME Computer Engineering Pune, Maharashtra",
]


def odt_bytes(lines: list[str], header: str = "") -> bytes:
    from odf.opendocument import OpenDocumentText
    from odf.style import Footer, Header, MasterPage, PageLayout
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    doc = OpenDocumentText()
    if header:
        layout = PageLayout(name="pm1")
        doc.automaticstyles.addElement(layout)
        page = MasterPage(name="Standard", pagelayoutname=layout)
        head = Header()
        head.addElement(P(text=header))
        page.addElement(head)
        page.addElement(Footer())
        doc.masterstyles.addElement(page)
    doc.text.addElement(H(outlinelevel=1, text=lines[0]))
    for line in lines[1:]:
        doc.text.addElement(P(text=line))
    table = Table(name="Skills")
    table.addElement(TableColumn(numbercolumnsrepeated=2))
    row = TableRow()
    for cell_text in ("Skill", "Years"):
        cell = TableCell()
        cell.addElement(P(text=cell_text))
        row.addElement(cell)
    table.addElement(row)
    doc.text.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def rtf_escape(text: str) -> str:
    out = []
    for ch in text:
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ord(ch) < 128:
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\u{code - 65536 if code > 32767 else code}?")
    return "".join(out)


def rtf_bytes(lines: list[str]) -> bytes:
    body = "\\par\n".join(rtf_escape(line) for line in lines)
    return (
        "{\\rtf1\\ansi\\ansicpg1252\\deff0\\nouicompat{\\fonttbl{\\f0\\fnil\\fcharset0 Calibri;}}\n"
        "{\\*\\generator Riched20 10.0.19041}\\viewkind4\\uc1\n\\pard\\sa200\\sl276\\slmult1\\f0\\fs22\\lang9 "
        f"{body}\\par\n}}\n"
    ).encode("ascii")


def html_bytes(lines: list[str], title: str = "Resume") -> bytes:
    items = "".join(f"<p>{line.replace('&', '&amp;').replace('<', '&lt;')}</p>\n" for line in lines)
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
        "<style>p { margin: 0 }</style><script>var tracking = 'do not index me';</script></head>\n"
        f"<body>\n{items}</body></html>\n"
    ).encode()


def text_image(lines: list[str], size: int = 28, width: int = 1240) -> Image.Image:
    """A white page with `lines` in black, as a scanner would see a printed resume."""
    font = ImageFont.load_default(size)
    step = int(size * 1.6)
    image = Image.new("L", (width, 2 * step + step * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, step + step * i), line, fill=0, font=font)
    return image


def png_bytes(lines: list[str], **kwargs: int) -> bytes:
    buf = io.BytesIO()
    text_image(lines, **kwargs).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(lines: list[str], rotate_exif: bool = False) -> bytes:
    """A JPEG photo; with `rotate_exif` the pixels are stored turned 90 degrees and EXIF says how to undo it."""
    image = text_image(lines).convert("RGB")
    exif = Image.Exif()
    if rotate_exif:
        image = image.transpose(Image.Transpose.ROTATE_90)
        exif[0x0112] = 6  # orientation: rotate 90 CW to view
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def scanned_pdf_bytes(lines: list[str], pages: int = 1, **kwargs: int) -> bytes:
    """An image-only PDF (no text layer) of `pages` pages showing `lines`, like a scanner's output."""
    images = [text_image(lines, **kwargs).convert("RGB") for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buf.getvalue()


def docx_bomb(inflated: int = 40 * 1024 * 1024) -> bytes:
    """A valid DOCX whose word/document.xml (honestly declared) inflates ~1000x: `inflated` bytes of spaces."""
    from tests.search_svc.resumes import RESUME_LINES, docx_bytes

    source = zipfile.ZipFile(io.BytesIO(docx_bytes(RESUME_LINES)))
    out = io.BytesIO()
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
        b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
    )
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info, source.read(info.filename))
                continue
            target = zipfile.ZipInfo(info.filename)
            target.compress_type = zipfile.ZIP_DEFLATED
            with bomb.open(target, "w", force_zip64=True) as part:
                part.write(head)
                chunk = b" " * (1024 * 1024)
                for _ in range(inflated // len(chunk)):
                    part.write(chunk)
                part.write(tail)
    return out.getvalue()


def _deflated_spaces(size: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = b" " * (1024 * 1024)
    parts = [packer.compress(b"BT /F1 12 Tf 72 720 Td (Bomb) Tj ET\n")]
    parts += [packer.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join([*parts, packer.flush()])


def pdf_with_content(content: bytes, pages: int = 1, deflated: bytes | None = None) -> bytes:
    """A minimal valid PDF whose pages draw `content` (Flate-compressed into each page's content stream)."""
    stream = deflated if deflated is not None else zlib.compress(content, 9)
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
    for i in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>".encode()
        )
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def text_pdf(lines: list[str], pages: int = 1) -> bytes:
    ops = (
        b"BT /F1 12 Tf 72 720 Td 14 TL "
        + b" ".join(
            b"(" + line.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b") '"
            for line in lines
        )
        + b" ET"
    )
    return pdf_with_content(ops, pages)


def pdf_flate_bomb(inflated: int = 200 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream is a few hundred KB of Flate that inflates to `inflated` bytes."""
    return pdf_with_content(b"", deflated=_deflated_spaces(inflated))
