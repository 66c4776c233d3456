"""The size limit of an upload, held while the request is read: a body announced larger than the limit is not read
at all, and a file growing past it is dropped as it streams in (Django keeps files over FILE_UPLOAD_MAX_MEMORY_SIZE
in a temporary file, never whole in memory)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Room for the multipart boundaries, headers and the few form fields around the file.
ENVELOPE = 64 * 1024


def max_bytes() -> int:
    return settings.EVIDENCE_MAX_MB * 1024 * 1024


def limit_text() -> str:
    return f"{settings.EVIDENCE_MAX_MB} MB"


class SizeLimitHandler(FileUploadHandler):
    """First of the request's upload handlers: refuses a body announced too large before reading it, and stops a
    file that grows past the limit. `too_large` tells the view afterwards."""

    too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > max_bytes() + ENVELOPE:
            self.too_large = True
            return QueryDict(), MultiValueDict()  # parsed as empty: the body is never read
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > max_bytes():
            self.too_large = True
            raise StopUpload(connection_reset=False)  # read the rest of the body away, so the answer arrives
        return raw_data

    def file_complete(self, file_size):
        return None


def limit_upload(request) -> SizeLimitHandler:
    """Put the size limit first among the request's upload handlers; call before anything reads request.POST or
    request.FILES (so the view is csrf_exempt outside and csrf_protect inside, as Django's docs describe)."""
    handler = SizeLimitHandler(request)
    request.upload_handlers.insert(0, handler)
    return handler


def too_large_message(name: str = "") -> str:
    what = f"“{name}”" if name else "The file"
    return f"{what} is larger than the {limit_text()} limit for evidence files."
