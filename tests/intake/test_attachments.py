"""Attachments are checked by content: PDF, PNG or JPEG, at most 10 MB."""

import io

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from samhandling.intake.services.attachments import MAX_BYTES, AttachmentError, attachment_check


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Pedagogisk rapport")
    page.save()
    return buffer.getvalue()


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "white").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (pdf_bytes(), "application/pdf"),
        (image_bytes("PNG"), "image/png"),
        (image_bytes("JPEG"), "image/jpeg"),
    ],
)
def test_pdf_and_images_are_accepted_by_their_content(content, kind):
    checked = attachment_check(content)
    assert checked.content_type == kind
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"MZ\x90\x00 not a document", "Only PDF files and images"),
        (b"%PDF-1.7 but nothing else", "Only PDF files and images"),  # a PDF header alone
        (b"<html><script>alert(1)</script></html>", "Only PDF files and images"),
        (image_bytes("GIF"), "Only PDF files and images"),  # a real image of another kind
        (image_bytes("PNG")[:40], "Only PDF files and images"),  # a truncated PNG
    ],
)
def test_other_content_is_refused_whatever_its_name(content, message):
    with pytest.raises(AttachmentError, match=message):
        attachment_check(content)


def test_an_oversized_file_is_refused_before_it_is_parsed():
    with pytest.raises(AttachmentError, match="larger than 10 MB"):
        attachment_check(b"%PDF-" + b"0" * MAX_BYTES)
