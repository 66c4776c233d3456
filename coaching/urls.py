"""Organization-scoped coaching pages and the inbox (under /o/<slug>/)."""

from django.urls import path

from coaching import views, views_calendar, views_inbox, views_kpi_actions, views_review_packs

urlpatterns = [
    path("coaching/", views.coaching_index, name="coaching_index"),
    path("coaching/sessions/new/", views.session_schedule, name="coaching_session_schedule"),
    path("coaching/sessions/<int:pk>/", views.session_detail, name="coaching_session"),
    path("coaching/sessions/<int:pk>/edit/", views.session_edit, name="coaching_session_edit"),
    path("coaching/sessions/<int:pk>/hold/", views.session_hold, name="coaching_session_hold"),
    path("coaching/sessions/<int:pk>/attendance/", views.session_attendance, name="coaching_session_attendance"),
    path("coaching/sessions/<int:pk>/cancel/", views.session_cancel, name="coaching_session_cancel"),
    path("coaching/sessions/<int:pk>/actions/", views.session_action_add, name="coaching_session_action_add"),
    path("coaching/sessions/<int:pk>/move/", views_calendar.session_move, name="coaching_session_move"),
    path("coaching/cadences/", views_calendar.cadence_index, name="coaching_cadences"),
    path("coaching/cadences/new/", views_calendar.cadence_create, name="coaching_cadence_create"),
    path("coaching/cadences/<int:pk>/", views_calendar.cadence_detail, name="coaching_cadence"),
    path(
        "coaching/cadences/<int:pk>/deactivate/", views_calendar.cadence_deactivate, name="coaching_cadence_deactivate"
    ),
    path("coaching/cadences/<int:pk>/activate/", views_calendar.cadence_activate, name="coaching_cadence_activate"),
    path("coaching/calendar/", views_calendar.calendar_month, name="coaching_calendar"),
    path("coaching/calendar/feed/", views_calendar.calendar_feed_reset, name="coaching_calendar_feed_reset"),
    path("coaching/actions/", views.action_board, name="coaching_actions"),
    path("coaching/actions/<int:pk>/status/", views.action_item_status, name="coaching_action_status"),
    path("coaching/actions/<int:pk>/edit/", views.action_item_edit, name="coaching_action_edit"),
    path("coaching/actions/kpi/<int:pk>/", views_kpi_actions.kpi_action_panel, name="coaching_kpi_actions"),
    path("review-packs/", views_review_packs.review_pack_index, name="coaching_review_packs"),
    path("review-packs/<int:pk>/", views_review_packs.review_pack_row, name="coaching_review_pack"),
    path(
        "review-packs/<int:pk>/<str:file>/",
        views_review_packs.review_pack_download,
        name="coaching_review_pack_download",
    ),  # fmt: skip
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views_inbox.notification_read, name="notification_read"),
    path("inbox/read-all/", views_inbox.notifications_read_all, name="notifications_read_all"),
    path("inbox/settings/", views_inbox.notification_settings, name="notification_settings"),
]
