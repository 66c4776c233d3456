"""Account URLs: log in (and its second step) and out, password change and reset, two-factor authentication,
invitations, personal API tokens."""

from django.contrib.auth import views as auth_views
from django.urls import path

from bsc.views import accounts

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("login/verify/", accounts.login_verify, name="login_verify"),
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
    path("two-factor/", accounts.two_factor_page, name="two_factor"),
    path("two-factor/setup/", accounts.two_factor_setup, name="two_factor_setup"),
    path("two-factor/confirm/", accounts.two_factor_confirm, name="two_factor_confirm"),
    path("two-factor/recovery-codes/", accounts.two_factor_codes_regenerate, name="two_factor_codes_regenerate"),
    path("two-factor/disable/", accounts.two_factor_disable, name="two_factor_disable"),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation_accept"),
    path("tokens/", accounts.personal_tokens, name="personal_tokens"),
    path("tokens/<int:pk>/revoke/", accounts.personal_token_revoke, name="personal_token_revoke"),
]
