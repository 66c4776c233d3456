"""Template context for the layout: the current organization and the user's other organizations."""

from bsc.permissions import Action, can, can_on_some, sees_dashboard_first
from bsc.selectors import membership_switch_list


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership,
        "current_organization": getattr(request, "organization", None),
        # The switcher: the list member_view read for its access check, else one query where the layout shows it.
        "user_memberships": getattr(request, "user_memberships", None)
        or (lambda: membership_switch_list(user=request.user)),
        "can_manage_organization": can(membership, Action.MANAGE_ORGANIZATION),
        "can_edit_strategy": can(membership, Action.EDIT_STRATEGY),
        "can_enter_some_measurements": can_on_some(membership, Action.ENTER_MEASUREMENTS),
        "can_read_some_coaching": can_on_some(membership, Action.READ_COACHING),
        "dashboard_first": sees_dashboard_first(membership),  # the home is the dashboard: the navigation says so
    }
