"""Resume files generated in the tests: real PDFs (reportlab), DOCX (python-docx), encrypted PDFs (pypdf)."""

from __future__ import annotations

import io

import docx
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def pdf_bytes(lines: list[str]) -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in lines:
        page.drawString(60, y, line)
        y -= 18
    page.showPage()
    page.save()
    return buf.getvalue()


def docx_bytes(lines: list[str]) -> bytes:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def encrypted_pdf_bytes(lines: list[str], password: str = "s3cret") -> bytes:
    reader = PdfReader(io.BytesIO(pdf_bytes(lines)))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


RESUME_LINES = [
    "Maria Gonzalez",
    "Senior Platform Engineer",
    "maria.gonzalez@example.org | +34 600 123 456 | Madrid",
    "9 years of experience building cloud infrastructure.",
    "Skills: Kubernetes, Terraform, Go, Prometheus, AWS",
    "2016 - present: Platform lead at Acme, ran 40 Kubernetes clusters.",
]
