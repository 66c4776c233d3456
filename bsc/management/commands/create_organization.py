"""Create an organization and its first admin from the command line (the first step of a new deployment).

    python manage.py create_organization --slug acme --name "Acme Manufacturing" --admin-email ada@acme.example

The admin's password is asked for twice unless --password is given; an existing user with that email
becomes the admin and keeps their password.
"""

import getpass
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from bsc import services
from bsc.models import User


def _messages(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Create an organization with its top-level unit and an admin user."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="URL name of the organization: lowercase, digits, hyphens.")
        parser.add_argument("--name", required=True, help="Display name of the organization.")
        parser.add_argument("--admin-email", required=True, help="Email of the admin (created when new).")
        parser.add_argument("--admin-name", default="", help="Full name of a new admin user.")
        parser.add_argument("--password", help="Password of a new admin user (asked for when omitted).")
        parser.add_argument("--time-zone", default="UTC", help="Time zone of the organization (default UTC).")

    def handle(self, *args, slug, name, admin_email, admin_name, password, time_zone, **options):
        email = User.objects.normalize_email(admin_email).lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--admin-email: {admin_email!r} is not a valid email address.") from None
        user = User.objects.filter(email=email).first()
        if user is None:
            password = password if password is not None else self._ask_password()
            try:
                validate_password(password, User(email=email, full_name=admin_name))
            except ValidationError as error:
                raise CommandError(f"--password: {' '.join(error.messages)}") from None
        created_user = user is None
        try:
            with transaction.atomic():
                if created_user:
                    user = User.objects.create_user(email, password, full_name=admin_name.strip())
                organization = services.organization_create(slug=slug, name=name, admin=user, time_zone=time_zone)
        except ValidationError as error:
            raise CommandError(_messages(error)) from None
        who = "new user" if created_user else "existing user"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created organization “{organization.name}” at /o/{organization.slug}/ with {email} ({who}) as admin."
            )
        )

    def _ask_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("--password is required when the command cannot ask for it (no terminal).")
        first = getpass.getpass("Password for the admin: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The two passwords differ.")
        return first
