"""Organization-scoped coaching pages and the inbox (under /o/<slug>/)."""

from django.urls import path

from coaching import views, views_inbox

urlpatterns = [
    path("coaching/", views.coaching_index, name="coaching_index"),
    path("coaching/sessions/new/", views.session_schedule, name="coaching_session_schedule"),
    path("coaching/sessions/<int:pk>/", views.session_detail, name="coaching_session"),
    path("coaching/sessions/<int:pk>/edit/", views.session_edit, name="coaching_session_edit"),
    path("coaching/sessions/<int:pk>/hold/", views.session_hold, name="coaching_session_hold"),
    path("coaching/sessions/<int:pk>/cancel/", views.session_cancel, name="coaching_session_cancel"),
    path("coaching/sessions/<int:pk>/actions/", views.session_action_add, name="coaching_session_action_add"),
    path("coaching/actions/", views.action_board, name="coaching_actions"),
    path("coaching/actions/<int:pk>/status/", views.action_item_status, name="coaching_action_status"),
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views_inbox.notification_read, name="notification_read"),
    path("inbox/read-all/", views_inbox.notifications_read_all, name="notifications_read_all"),
    path("inbox/settings/", views_inbox.notification_settings, name="notification_settings"),
]
