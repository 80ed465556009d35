"""Create or update the user 1C logs in with, holding the exchange permission.

    python manage.py create_exchange_user <login> [--password P]

Without --password the password comes from EXCHANGE_PASSWORD, else it is asked for twice.
Running it again for the same login sets the new password and re-grants the permission.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from config.env import env_str
from exchange.auth import EXCHANGE_PERMISSION


class Command(BaseCommand):
    help = "Create or update the user 1C exchanges with (HTTP Basic login), with the exchange permission."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="Login configured in the 1C exchange node.")
        parser.add_argument("--password", help="Password; default: $EXCHANGE_PASSWORD, else asked for.")
        parser.add_argument(
            "--skip-validation", action="store_true", help="Accept a password the password validators reject."
        )

    def _password(self, given: str | None) -> str:
        if given:
            return given
        from_env = env_str("EXCHANGE_PASSWORD", "", "Password create_exchange_user sets when --password is not given.")
        if from_env:
            return from_env
        if not sys.stdin.isatty():
            raise CommandError("No password: pass --password, set EXCHANGE_PASSWORD, or run interactively.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        if not first:
            raise CommandError("The password may not be empty.")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip().lower()  # stored as the user manager stores logins
        if not username or ":" in username:
            raise CommandError("The login may not be empty or contain ':' (HTTP Basic splits on it).")
        password = self._password(options["password"])
        user_model = get_user_model()
        app_label, codename = EXCHANGE_PERMISSION.split(".")
        with transaction.atomic():
            user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
            created = user is None
            if user is None:
                user = user_model(**{user_model.USERNAME_FIELD: username})
            if not options["skip_validation"]:
                try:
                    password_validation.validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError("; ".join(exc.messages)) from exc
            user.set_password(password)
            user.is_active = True
            user.save()
            permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
            user.user_permissions.add(permission)
        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} exchange user {username!r} with permission {EXCHANGE_PERMISSION}.")
        )
