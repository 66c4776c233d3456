"""Management commands: `create_organization` sets up a new deployment's first organization and admin."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from bsc.models import Membership, Organization, OrgUnit, Role, User
from tests import factories


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_organization", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_creates_the_organization_its_top_unit_and_a_new_admin():
    output = run(
        "--slug", "acme", "--name", "Acme Manufacturing", "--admin-email", "Ada@Acme.example",
        "--admin-name", "Ada Admin", "--password", "a-long-enough-passphrase-7",
    )  # fmt: skip

    organization = Organization.objects.get(slug="acme")
    assert organization.name == "Acme Manufacturing"
    assert [unit.name for unit in OrgUnit.objects.for_organization(organization)] == ["Acme Manufacturing"]
    membership = Membership.objects.for_organization(organization).select_related("user").get()
    assert membership.role == Role.ADMIN
    assert membership.user.email == "ada@acme.example"
    assert membership.user.full_name == "Ada Admin"
    assert membership.user.check_password("a-long-enough-passphrase-7")
    assert output.strip() == (
        "Created organization “Acme Manufacturing” at /o/acme/ with ada@acme.example (new user) as admin."
    )


@pytest.mark.django_db
def test_an_existing_user_becomes_admin_and_keeps_their_password():
    user = factories.make_user("erin@example.com")

    output = run(
        "--slug", "globex", "--name", "Globex", "--admin-email", "erin@example.com", "--time-zone", "Asia/Tokyo"
    )

    organization = Organization.objects.get(slug="globex")
    assert organization.time_zone == "Asia/Tokyo"
    assert Membership.objects.for_organization(organization).get().user == user
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)
    assert "erin@example.com (existing user) as admin" in output


@pytest.mark.django_db
def test_it_refuses_a_taken_slug_and_writes_nothing():
    factories.make_organization("acme")

    with pytest.raises(CommandError, match="^slug: Organization with this Slug already exists.$"):
        run("--slug", "acme", "--name", "Other", "--admin-email", "new@example.com", "--password", "pass-phrase-long-9")

    assert Organization.objects.count() == 1
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_it_refuses_a_weak_password_naming_the_option():
    with pytest.raises(CommandError, match="^--password: This password is too short"):
        run("--slug", "acme", "--name", "Acme", "--admin-email", "ada@acme.example", "--password", "abc")

    assert not Organization.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_refuses_an_invalid_email():
    with pytest.raises(CommandError, match="^--admin-email: 'not-an-email' is not a valid email address.$"):
        run("--slug", "acme", "--name", "Acme", "--admin-email", "not-an-email", "--password", "pass-phrase-long-9")


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db
def test_it_asks_for_the_password_twice_on_a_terminal(monkeypatch):
    answers = iter(["typed-pass-phrase-42", "typed-pass-phrase-42"])
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    run("--slug", "acme", "--name", "Acme", "--admin-email", "ada@acme.example")

    assert User.objects.get(email="ada@acme.example").check_password("typed-pass-phrase-42")


@pytest.mark.django_db
def test_it_refuses_two_different_passwords(monkeypatch):
    answers = iter(["typed-pass-phrase-42", "typo-pass-phrase-42"])
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))

    with pytest.raises(CommandError, match="^The two passwords differ.$"):
        run("--slug", "acme", "--name", "Acme", "--admin-email", "ada@acme.example")

    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_without_a_terminal_it_requires_the_password_option(monkeypatch):
    monkeypatch.setattr("sys.stdin", StringIO())

    with pytest.raises(CommandError, match="^--password is required when the command cannot ask for it"):
        run("--slug", "acme", "--name", "Acme", "--admin-email", "ada@acme.example")

    assert not Organization.objects.exists()
