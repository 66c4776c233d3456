"""Organization admin pages: members and roles, invitations, the unit tree, organization settings.

Members, invitations and settings are for admins; the unit pages for admins and executives.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from bsc import services
from bsc.access import (
    get_invitation_for_admin,
    get_membership_for_admin,
    get_org_unit_for_member,
    get_organization_for_admin,
    get_organization_for_editor,
    member_view,
)
from bsc.forms import (
    InvitationForm,
    MembershipForm,
    OrganizationSettingsForm,
    OrgUnitCreateForm,
    OrgUnitEditForm,
    OrgUnitMoveForm,
    add_service_error,
)
from bsc.models import Invitation
from bsc.permissions import Action, can
from bsc.selectors import invitation_list_open, member_list, org_unit_alignment_count, org_unit_tree
from bsc.validation import error_text

# --- Members -----------------------------------------------------------------------------------------


@require_http_methods(["GET"])
@member_view
def members(request):
    organization = get_organization_for_admin(request)
    return render(request, "bsc/admin/members.html", {"members": member_list(organization=organization)})


@require_http_methods(["GET", "POST"])
@member_view
def member_edit(request, pk):
    membership = get_membership_for_admin(request, pk)
    initial = {"role": membership.role, "units": list(membership.units.all())}
    form = MembershipForm(request.POST or None, organization=request.organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(
                membership=membership, role=form.cleaned_data["role"], units=form.cleaned_data["units"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            name = membership.user.display_name
            messages.success(request, f"{name} is now {membership.get_role_display().lower()}.")
            if membership.pk == request.membership.pk and not can(membership, Action.MANAGE_ORGANIZATION):
                return redirect("org_overview", org_slug=request.organization.slug)  # no longer an admin
            return redirect("admin_members", org_slug=request.organization.slug)
    return render(request, "bsc/admin/member_edit.html", {"member": membership, "form": form})


@require_POST
@member_view
def member_remove(request, pk):
    membership = get_membership_for_admin(request, pk)
    try:
        services.membership_remove(membership=membership)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("admin_member_edit", org_slug=request.organization.slug, pk=membership.pk)
    messages.success(request, f"{membership.user.display_name} was removed from {request.organization.name}.")
    if membership.pk == request.membership.pk:
        return redirect("home")
    return redirect("admin_members", org_slug=request.organization.slug)


# --- Invitations -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_view
def invitations(request):
    organization = get_organization_for_admin(request)
    form = InvitationForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, token = services.invitation_create(
                organization=organization,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                units=form.cleaned_data["units"],
                invited_by=request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if invitation.mail_queued is not False:
                messages.success(request, f"Invitation sent to {invitation.email}.")
            else:  # the mail queue is down: the invitation is saved; its link goes to the person by another way
                messages.warning(
                    request,
                    f"The invitation of {invitation.email} is saved, but its e-mail could not be sent now (the mail "
                    f"service is unavailable). Send them this link yourself (valid for {Invitation.VALID_DAYS} "
                    f"days): {services.invitation_link(token)}",
                )
            return redirect("admin_invitations", org_slug=organization.slug)
    open_invitations = invitation_list_open(organization=organization)
    return render(request, "bsc/admin/invitations.html", {"form": form, "invitations": open_invitations})


@require_POST
@member_view
def invitation_revoke(request, pk):
    invitation = get_invitation_for_admin(request, pk)
    try:
        services.invitation_revoke(invitation=invitation)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"The invitation of {invitation.email} was revoked.")
    if request.htmx:  # swap the list in place; the flash travels out of band
        open_invitations = invitation_list_open(organization=request.organization)
        return render(request, "bsc/admin/invitations.html#open-invitations", {"invitations": open_invitations})
    return redirect("admin_invitations", org_slug=request.organization.slug)


# --- Units -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_view
def units(request):
    organization = get_organization_for_editor(request)
    form = OrgUnitCreateForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.org_unit_create(organization=organization, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Unit “{unit.name}” added under “{unit.parent.name}”.")
            return redirect("admin_units", org_slug=organization.slug)
    tree = org_unit_tree(organization=organization)
    return render(request, "bsc/admin/units.html", {"form": form, "units": tree})


def _unit_page(request, unit, *, form=None, move_form=None):
    return render(
        request,
        "bsc/admin/unit_edit.html",
        {
            "unit": unit,
            "form": form if form is not None else OrgUnitEditForm(unit=unit),
            "move_form": move_form if move_form is not None else OrgUnitMoveForm(unit=unit),
            "ancestors": [u for u in org_unit_tree(organization=unit.organization) if u.pk in unit.ancestor_ids()],
            "child_count": unit.children.count(),
        },
    )


@require_http_methods(["GET", "POST"])
@member_view
def unit_edit(request, pk):
    unit = get_org_unit_for_member(request, pk, write=True)
    form = OrgUnitEditForm(request.POST or None, unit=unit)
    if request.method == "POST" and form.is_valid():
        try:
            services.org_unit_update(unit=unit, name=form.cleaned_data["name"], head=form.cleaned_data["head"])
        except ValidationError as error:
            add_service_error(form, error)
            unit.refresh_from_db()
        else:
            messages.success(request, f"Unit “{unit.name}” saved.")
            return redirect("admin_units", org_slug=request.organization.slug)
    return _unit_page(request, unit, form=form)


@require_POST
@member_view
def unit_move(request, pk):
    unit = get_org_unit_for_member(request, pk, write=True)
    form = OrgUnitMoveForm(request.POST, unit=unit)
    if form.is_valid():
        old_parent, aligned = unit.parent, org_unit_alignment_count(unit=unit)
        try:
            services.org_unit_move(unit=unit, new_parent=form.cleaned_data["parent"])
        except ValidationError as error:
            add_service_error(form, error)
            unit.refresh_from_db()
        else:
            messages.success(request, f"Unit “{unit.name}” moved under “{unit.parent.name}”.")
            if aligned and unit.parent != old_parent:
                messages.info(
                    request,
                    f"Its {aligned} aligned objective(s) and KPI(s) no longer cascade into “{old_parent.name}”: "
                    f"align them to “{unit.parent.name}” on its strategy map and KPI pages.",
                )
            return redirect("admin_units", org_slug=request.organization.slug)
    return _unit_page(request, unit, move_form=form)


@require_POST
@member_view
def unit_delete(request, pk):
    unit = get_org_unit_for_member(request, pk, write=True)
    try:
        services.org_unit_delete(unit=unit)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("admin_unit_edit", org_slug=request.organization.slug, pk=unit.pk)
    messages.success(request, f"Unit “{unit.name}” deleted.")
    return redirect("admin_units", org_slug=request.organization.slug)


# --- Settings ----------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_view
def settings_edit(request):
    organization = get_organization_for_admin(request)
    form = OrganizationSettingsForm(request.POST or None, organization=organization, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(organization=organization, **form.organization_fields())
        except ValidationError as error:
            add_service_error(form, error)
            organization.refresh_from_db()  # the service set the refused values on the instance
        else:
            messages.success(request, "Organization settings saved.")
            if set(services.SCORE_SETTINGS) & set(form.changed_data):
                messages.info(request, "Scores are being recomputed with the new thresholds and fiscal year.")
            return redirect("admin_settings", org_slug=organization.slug)
    return render(request, "bsc/admin/settings.html", {"form": form})
