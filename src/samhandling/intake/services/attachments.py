"""Attachments to referrals: PDF or image only, checked by their content, never by name."""

import hashlib
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class AttachmentError(ValueError):
    """The file is refused; the message is translated and names the file's position only."""


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    sha256: str

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}[
            self.content_type
        ]


def _image_type(content: bytes) -> str | None:
    # Pillow reads the format from the bytes; verify() walks the data without decoding it all.
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return IMAGE_TYPES.get(kind or "")


def _is_pdf(content: bytes) -> bool:
    if not content.startswith(b"%PDF-"):
        return False
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        return len(reader.pages) > 0
    except (PdfReadError, ValueError, OSError, KeyError, TypeError):
        return False


def attachment_check(content: bytes) -> CheckedFile:
    """A PDF, PNG or JPEG of at most 10 MB, or AttachmentError saying what is wrong."""
    if not content:
        raise AttachmentError(_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise AttachmentError(
            _("The file is larger than %(mb)d MB. Send a smaller file or fewer pages.")
            % {"mb": MAX_BYTES // (1024 * 1024)}
        )
    kind = "application/pdf" if _is_pdf(content) else _image_type(content)
    if kind is None:
        raise AttachmentError(
            _("Only PDF files and images (PNG or JPEG) can be attached; this file is neither.")
        )
    return CheckedFile(
        content=content, content_type=kind, sha256=hashlib.sha256(content).hexdigest()
    )
