"""The "Action items" panel of a KPI's page (bsc.events.item_panels, answered in coaching/hooks.py): the KPI's open
action items and, for those who may write its unit's items, a form that gives it one. Loaded and posted with htmx; a
page of its own without script."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap

from bsc import org_calendar
from bsc.access import member_view
from bsc.forms import add_service_error
from bsc.permissions import Action, can, may_own_action_items, require, visible_action_items
from coaching import services
from coaching.forms import KpiActionItemForm
from coaching.models import ActionItemStatus
from coaching.selectors import action_item_list
from kpis.access import get_kpi_for_member

ANCHOR = "actions"  # the panel's id: the dashboard's red KPIs link to the KPI page at it


@require_http_methods(["GET", "POST"])
@member_view
def kpi_action_panel(request, pk: int):
    kpi = get_kpi_for_member(request, pk)
    form = notice = None
    if request.method == "POST":
        require(request.membership, Action.WRITE_ACTION_ITEMS, unit=kpi.unit_id)
        form = KpiActionItemForm(request.POST, organization=request.organization, kpi=kpi)
        if form.is_valid():
            try:
                item = services.action_item_create(
                    organization=request.organization, kpi=kpi, unit=kpi.unit, created_by=request.user,
                    **form.cleaned_data,
                )  # fmt: skip
            except ValidationError as error:
                add_service_error(form, error)
            else:
                notice = f"Action item added: “{item.title}”, owned by {item.owner.display_name}, due " \
                         f"{item.due_date:%-d %b %Y}."  # fmt: skip
                if not request.htmx:
                    messages.success(request, notice)
                    return redirect("coaching_kpi_actions", org_slug=request.organization.slug, pk=kpi.pk)
                form = KpiActionItemForm(organization=request.organization, kpi=kpi)
                form.fields["title"].widget.attrs["autofocus"] = True  # ready for the next item (htmx focuses it)
    context = _panel_context(request, kpi, form=form, notice=notice)
    if not request.htmx:
        return render(request, "coaching/kpi_actions_panel.html", context)
    response = render(request, "coaching/kpi_actions_panel.html#panel", context)
    if urlsplit(request.htmx.current_url or "").fragment == ANCHOR:
        # The page was opened at the panel (the dashboard's link), which did not exist yet: show it once it arrives.
        reswap(response, f"outerHTML show:#{ANCHOR}:top")
    return response


def _panel_context(request, kpi, *, form: KpiActionItemForm | None, notice: str | None) -> dict:
    membership = request.membership
    visible = visible_action_items(membership)
    items = list(
        visible.apply(action_item_list(organization=request.organization).filter(kpi=kpi, status=ActionItemStatus.OPEN))
    )
    today = org_calendar.today(request.organization)
    for item in items:
        item.overdue = item.is_overdue(today)
        item.may_edit = can(membership, Action.WRITE_ACTION_ITEMS, unit=item.unit_id)
        session = item.session
        item.may_read_session = session is not None and can(
            membership, Action.READ_COACHING, unit=session.unit_id, coach_id=session.coach_id
        )
    may_add = can(membership, Action.WRITE_ACTION_ITEMS, unit=kpi.unit_id)
    if may_add and form is None:
        form = KpiActionItemForm(organization=request.organization, kpi=kpi)
    slug = request.organization.slug
    return {
        "kpi": kpi,
        "items": items,
        "form": form if may_add else None,
        "notice": notice,
        "reads_all": visible.covers(unit=kpi.unit_id),
        "may_own": may_own_action_items(membership),
        "panel_url": reverse("coaching_kpi_actions", args=[slug, kpi.pk]),
        "kpi_page": reverse("kpi_detail", args=[slug, kpi.pk]),
        "anchor": ANCHOR,
    }
