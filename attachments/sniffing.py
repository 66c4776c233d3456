"""What an uploaded file really is, from its content (the `filetype` library's signatures, a look inside the zip of
office documents, UTF-8 text for CSV), never from its name or the browser's content type; and whether its name
agrees."""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]  # the first one is the stored file's
    label: str

    @property
    def extension(self) -> str:
        return self.extensions[0]

    @property
    def image(self) -> bool:
        return self.content_type.startswith("image/")


PDF = FileType("application/pdf", ("pdf",), "a PDF")
PNG = FileType("image/png", ("png",), "a PNG image")
JPEG = FileType("image/jpeg", ("jpg", "jpeg"), "a JPEG image")
GIF = FileType("image/gif", ("gif",), "a GIF image")
WEBP = FileType("image/webp", ("webp",), "a WebP image")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",), "a Word document")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",), "an Excel workbook")
PPTX = FileType(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",), "a PowerPoint presentation"
)
ODT = FileType("application/vnd.oasis.opendocument.text", ("odt",), "an OpenDocument text")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", ("ods",), "an OpenDocument spreadsheet")
CSV = FileType("text/csv", ("csv",), "a CSV file")

ALLOWED: tuple[FileType, ...] = (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, CSV)
BY_CONTENT_TYPE = {t.content_type: t for t in ALLOWED}
ALLOWED_EXTENSIONS = tuple(ext for t in ALLOWED for ext in t.extensions)
ALLOWED_TEXT = "PDF, PNG, JPEG, GIF, WebP, DOCX, XLSX, PPTX, ODT, ODS or CSV"
# Office Open XML keeps each format's parts under its own folder of the zip.
OOXML_FOLDERS = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
ZIP_TYPES = (
    {"application/zip"}
    | {t.content_type for t in (DOCX, XLSX, PPTX, ODT, ODS)}
    | {"application/vnd.oasis.opendocument.presentation"}
)
HEAD = 8192  # filetype reads at most this much
CHUNK = 64 * 1024


def short(name: str, limit: int = 80) -> str:
    """A name as a message echoes it: at most `limit` characters."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def sniff(upload, name: str) -> FileType:
    """The allowed type of `upload` (a Django UploadedFile, or any seekable binary file), read from its content;
    a ValidationError naming the file and the reason when it is not one, or when its name says otherwise."""
    shown = short(name)
    suffix = PurePath(name).suffix.lower().lstrip(".")
    if suffix not in ALLOWED_EXTENSIONS:
        what = f"a .{short(suffix, 10)} file" if suffix else "a file without an extension"
        raise ValidationError(f"“{shown}” is {what}; only {ALLOWED_TEXT} files may be added.", code="type")
    upload.seek(0)
    head = upload.read(HEAD)
    if not head:
        raise ValidationError(f"“{shown}” is empty.", code="empty")
    guess = filetype.guess(head)
    if guess is not None and guess.mime in ZIP_TYPES:
        found = _office_type(upload, shown)
    elif guess is not None and guess.mime in BY_CONTENT_TYPE:
        found = BY_CONTENT_TYPE[guess.mime]
    elif guess is not None:
        raise ValidationError(
            f"“{shown}” is not what its name says: its content is {guess.mime} (.{guess.extension}), which may not be "
            f"added; only {ALLOWED_TEXT} files may.",
            code="type",
        )
    elif suffix == "csv" and _is_text(upload):
        found = CSV
    else:
        expected = next(t for t in ALLOWED if suffix in t.extensions)
        raise ValidationError(
            f"“{shown}” is not {expected.label}: its content is of no type that may be added (a renamed file?).",
            code="type",
        )
    if suffix not in found.extensions:
        raise ValidationError(
            f"“{shown}” is {found.label} by its content but its name ends in .{suffix}: rename it to "
            f".{found.extension} and add it again.",
            code="type",
        )
    upload.seek(0)
    return found


def _office_type(upload, shown: str) -> FileType:
    """An office document's type from the zip's own parts: OOXML's [Content_Types].xml and folder, or ODF's
    `mimetype` entry."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                for folder, kind in OOXML_FOLDERS.items():
                    if any(n.startswith(folder) for n in names):
                        return kind
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    declared = entry.read(100).decode("ascii", "replace").strip()
                if declared in (ODT.content_type, ODS.content_type):
                    return BY_CONTENT_TYPE[declared]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError):
        raise ValidationError(
            f"“{shown}” is a damaged zip archive, not a readable office document.", code="type"
        ) from None
    raise ValidationError(
        f"“{shown}” is a zip archive but not a Word, Excel, PowerPoint or OpenDocument text or spreadsheet file.",
        code="type",
    )


def _is_text(upload) -> bool:
    """Whether the whole file is UTF-8 text without NUL characters (read in chunks, never whole)."""
    upload.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := upload.read(CHUNK):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
