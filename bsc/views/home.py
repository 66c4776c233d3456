"""Home (the user's organizations, roles and units) and the way into one organization. The organization's own
home composes several apps and lives in the project layer (bsc/project/pages.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from bsc.access import SESSION_ORG_KEY
from bsc.selectors import membership_list_for_user


@require_GET
@login_required
def home(request):
    memberships = membership_list_for_user(user=request.user)
    return render(request, "bsc/home.html", {"memberships": memberships})


@require_GET
@login_required
def switch_organization(request):
    """Open the organization last used in this session, or the person's only one; with several and none used
    yet, home, to pick one. Where a log-in lands (LOGIN_REDIRECT_URL)."""
    slug = request.session.get(SESSION_ORG_KEY)
    if not slug:
        memberships = membership_list_for_user(user=request.user)
        if len(memberships) == 1:
            slug = memberships[0].organization.slug
    if slug:
        return redirect("org_overview", org_slug=slug)
    return redirect("home")
