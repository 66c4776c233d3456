"""Home (the user's organizations, roles and units) and the organization overview."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from bsc.access import SESSION_ORG_KEY, member_view
from bsc.selectors import membership_list_for_user, org_unit_tree
from coaching import selectors as coaching_selectors


@require_GET
@login_required
def home(request):
    memberships = membership_list_for_user(user=request.user)
    return render(request, "bsc/home.html", {"memberships": memberships})


@require_GET
@login_required
def switch_organization(request):
    """Open the organization last used in this session (or home, to pick one)."""
    slug = request.session.get(SESSION_ORG_KEY)
    if slug:
        return redirect("org_overview", org_slug=slug)
    return redirect("home")


@require_GET
@member_view
def org_overview(request):
    units = org_unit_tree(organization=request.organization)
    own = set(request.membership.units.all())
    own_units = [unit for unit in units if unit in own]
    my_actions = coaching_selectors.action_item_open_for_user(organization=request.organization, user=request.user)
    context = {"units": units, "own_units": own_units, "my_actions": my_actions}
    return render(request, "bsc/org_overview.html", context)
