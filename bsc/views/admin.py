"""Organization admin pages: members and roles, invitations, the unit tree, organization settings."""

from django.shortcuts import render

from bsc.access import member_view


def _todo(request, *args, **kwargs):
    return render(request, "404.html", status=404)


members = member_edit = member_remove = invitations = invitation_revoke = member_view(_todo)
units = unit_edit = unit_move = unit_delete = settings_edit = member_view(_todo)
