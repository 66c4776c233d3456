"""Account URLs: log in and out, password change and reset, invitations, personal API tokens."""

from django.contrib.auth import views as auth_views
from django.urls import path

from bsc.views import accounts

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", accounts.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", accounts.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation_accept"),
    path("tokens/", accounts.personal_tokens, name="personal_tokens"),
    path("tokens/<int:pk>/revoke/", accounts.personal_token_revoke, name="personal_token_revoke"),
]
