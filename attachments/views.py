"""Pages of evidence files: the files panel of a measurement, action item or session (embedded by htmx in their
pages), adding and removing a file, and the one view that serves a file's bytes."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from attachments import access, selectors, services
from attachments.sniffing import ALLOWED_EXTENSIONS, ALLOWED_TEXT, BY_CONTENT_TYPE
from attachments.uploads import limit_text, limit_upload, max_bytes, too_large_message
from bsc.access import member_view


class EvidenceFileForm(forms.Form):
    file = forms.FileField(
        label="Add a file",
        help_text=f"{ALLOWED_TEXT}; at most {limit_text()}.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{e}" for e in ALLOWED_EXTENSIONS)}),
    )


def _form(kind: str, target, **kwargs) -> EvidenceFileForm:
    # Several panels may share a page (a KPI's values): each form's ids are its own.
    return EvidenceFileForm(auto_id=f"evidence-{kind}-{target.pk}-%s", **kwargs)


def _panel(request, kind: str, target, *, form=None, status: int = 200):
    membership = request.membership
    files = selectors.evidence_files(organization=request.organization, kind=kind, target=target)
    for evidence in files:
        evidence.removable = access.may_remove(membership, evidence)
        evidence.inline = BY_CONTENT_TYPE[evidence.content_type].image
    context = {
        "kind": kind,
        "target": target,
        "files": files,
        "form": form if form is not None else _form(kind, target),
        "may_add": access.may_add(membership, kind, target),
        "max_bytes": max_bytes(),
        "limit": limit_text(),
    }
    return render(request, "attachments/panel.html", context, status=status)


@require_GET
@member_view
def evidence_panel(request, kind: str, pk: int):
    target = access.get_target_for_member(request.organization, request.membership, kind, pk)
    return _panel(request, kind, target)


@csrf_exempt  # the size limit must be in place before the CSRF check reads the body; checked just below
@require_POST
def evidence_upload(request, org_slug: str, kind: str, pk: int):
    handler = limit_upload(request)
    return _upload(request, org_slug, kind=kind, pk=pk, handler=handler)


@csrf_protect
@member_view
def _upload(request, kind: str, pk: int, handler):
    target = access.get_target_for_member(request.organization, request.membership, kind, pk, write=True)
    form = _form(kind, target, data=request.POST, files=request.FILES)
    if handler.too_large:
        form.is_valid()  # the file was dropped as too large: say so instead of "required"
        form.errors["file"] = form.error_class([too_large_message()])
    elif form.is_valid():
        try:
            services.evidence_file_add(target=target, kind=kind, upload=form.cleaned_data["file"], by=request.user)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            if not request.htmx:
                return redirect(_back(request))
            response = _panel(request, kind, target)
            response.headers["HX-Trigger"] = "evidenceChanged"
            return response
    if not request.htmx:
        return _panel(request, kind, target, form=form, status=400)
    return _panel(request, kind, target, form=form)


@require_GET
@member_view
def evidence_download(request, pk: int):
    """The file's bytes with the type sniffed at upload: images inline (no script can run in one, and the response
    is sandboxed), everything else as a download."""
    evidence = access.get_file_for_member(request.organization, request.membership, pk)
    return file_response(evidence)


def file_response(evidence) -> FileResponse:
    """The response serving an evidence file, for the page and the API alike."""
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from the server's storage.") from None
    inline = BY_CONTENT_TYPE[evidence.content_type].image
    response = FileResponse(
        handle, as_attachment=not inline, filename=evidence.name, content_type=evidence.content_type
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Replaces the site's policy for this response: nothing may run, nothing loads but the image itself.
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@require_POST
@member_view
def evidence_remove(request, pk: int):
    evidence = access.get_file_for_member(request.organization, request.membership, pk, remove=True)
    kind, target = evidence.target_kind, getattr(evidence, evidence.target_field)
    services.evidence_file_remove(evidence=evidence)
    if not request.htmx:
        return redirect(_back(request))
    response = _panel(request, kind, target)
    response.headers["HX-Trigger"] = "evidenceChanged"
    return response


def _back(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"
