"""The "Review packs" page: the organization's packs with their progress (polled by htmx while one is being made)
and download links, and the form asking for a pack of a unit and period."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods

from bsc import org_calendar
from bsc.access import member_view
from bsc.forms import add_service_error
from bsc.permissions import require_review_packs
from coaching import review_packs
from coaching.access import get_review_pack_for_member
from coaching.forms_review_packs import ReviewPackForm
from coaching.models import ReviewPack, ReviewPackStatus

PACKS_SHOWN = 50
FILES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def pack_label(pack: ReviewPack) -> str:
    return org_calendar.period_label(pack.period_kind, pack.period, pack.organization.fiscal_year_start_month)


@require_http_methods(["GET", "POST"])
@member_view
def review_pack_index(request):
    require_review_packs(request.membership)
    organization = request.organization
    initial = {"kind": org_calendar.MONTH, "period": f"{org_calendar.due_month(organization):%Y-%m}"}
    form = ReviewPackForm(request.POST or None, organization=organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            asked = review_packs.review_pack_request(
                organization=organization, unit=data["unit"], kind=data["kind"], period=data["period"],
                by=request.user,
            )  # fmt: skip
        except ValidationError as error:
            add_service_error(form, error)
        else:
            label = f"{asked.pack.unit.name}, {pack_label(asked.pack)}"
            if asked.created:
                messages.success(request, f"The review pack of {label} is being made; it appears below when ready.")
            else:
                messages.info(request, f"The review pack of {label} is already being made: its progress is below.")
            return redirect("coaching_review_packs", org_slug=organization.slug)
    packs = list(review_packs.review_pack_list(organization=organization)[:PACKS_SHOWN])
    for pack in packs:
        pack.label = pack_label(pack)
    status = 400 if form.errors else 200
    return render(request, "coaching/review_packs.html", {"form": form, "packs": packs}, status=status)


@require_GET
@member_view
def review_pack_row(request, pk: int):
    """One pack's row of the list: what the page polls every second while the pack is being made."""
    pack = get_review_pack_for_member(request, pk)
    pack.label = pack_label(pack)
    return render(request, "coaching/review_packs.html#pack-row", {"pack": pack})


@require_GET
@member_view
def review_pack_download(request, pk: int, file: str):
    pack = get_review_pack_for_member(request, pk)
    return review_pack_file_response(pack, file)


def review_pack_file_response(pack: ReviewPack, file: str) -> HttpResponse:
    """The pack's PDF or spreadsheet as a download (the page's link and the API's)."""
    if file not in FILES:
        raise Http404("A pack has a pdf and an xlsx file.")
    if pack.status != ReviewPackStatus.DONE:
        raise Http404("This pack is not ready.")
    data = ReviewPack.objects.for_organization(pack.organization_id).values_list(file, flat=True).get(pk=pack.pk)
    response = HttpResponse(bytes(data), content_type=FILES[file])
    name = f"review-pack-{slugify(pack.unit.name) or pack.unit_id}-{pack.period_kind}-{pack.period:%Y-%m}.{file}"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
