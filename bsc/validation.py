"""The one way services save a row: validate it (fields and constraints, inside its organization's scope),
save it, and report a constraint that still fires (a race) as the same kind of ValidationError; and how a
message quotes what someone typed or uploaded."""

from __future__ import annotations

import contextlib

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bsc.tenancy import organization_scope

ECHO_CHARS = 60  # what a message quotes of someone's input, at most


def echo(text: object) -> str:
    """Someone's input as a message quotes it: at most ECHO_CHARS characters, a cut marked with '…' (an
    uploaded cell or a pasted value can be megabytes long)."""
    text = str(text)
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def validated_save(obj, **clean_kwargs) -> None:
    organization_id = getattr(obj, "organization_id", None)
    with organization_scope(organization_id) if organization_id is not None else contextlib.nullcontext():
        obj.full_clean(**clean_kwargs)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise ValidationError(f"The change conflicts with existing data: {error.__cause__ or error}") from error
