"""Organization admin pages (under /o/<slug>/admin/): members, invitations, units, settings."""

from django.urls import path

from bsc.views import admin

urlpatterns = [
    path("members/", admin.members, name="admin_members"),
    path("members/<int:pk>/", admin.member_edit, name="admin_member_edit"),
    path("members/<int:pk>/remove/", admin.member_remove, name="admin_member_remove"),
    path("invitations/", admin.invitations, name="admin_invitations"),
    path("invitations/<int:pk>/revoke/", admin.invitation_revoke, name="admin_invitation_revoke"),
    path("units/", admin.units, name="admin_units"),
    path("units/<int:pk>/", admin.unit_edit, name="admin_unit_edit"),
    path("units/<int:pk>/move/", admin.unit_move, name="admin_unit_move"),
    path("units/<int:pk>/delete/", admin.unit_delete, name="admin_unit_delete"),
    path("settings/", admin.settings_edit, name="admin_settings"),
]
