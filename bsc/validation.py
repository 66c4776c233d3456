"""The one way services save a row: validate it (fields and constraints, inside its organization's scope),
save it, and report a constraint that still fires (a race) as the same kind of ValidationError; and how a
message quotes what someone typed or uploaded."""

from __future__ import annotations

import contextlib

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from bsc.tenancy import organization_scope

ECHO_CHARS = 60  # what a message quotes of someone's input, at most


def echo(text: object) -> str:
    """Someone's input as a message quotes it: at most ECHO_CHARS characters, a cut marked with '…' (an
    uploaded cell or a pasted value can be megabytes long)."""
    text = str(text)
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def error_text(error: ValidationError) -> str:
    """A refusal's messages as one line, for a page's message or a form's error."""
    return " ".join(error.messages)


def validated_save(
    obj, *, exclude=None, validate_unique: bool = True, validate_constraints: bool = True, savepoint: bool = True
) -> None:
    """Validate and save `obj`. A constraint that still fires is reported as `conflict_error`, after a savepoint
    undid the write; `savepoint=False` is for a caller whose transaction is all or nothing anyway (a bulk save): the
    IntegrityError then ends the transaction, and the caller reports it (`conflict_error`) once it is rolled back."""
    organization_id = getattr(obj, "organization_id", None)
    with organization_scope(organization_id) if organization_id is not None else contextlib.nullcontext():
        _full_clean(obj, set(exclude or ()), validate_unique, validate_constraints)
    if not savepoint:
        obj.save()
        return
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as error:
        raise conflict_error(error) from error


def conflict_error(error: IntegrityError) -> ValidationError:
    """A database constraint that fired on a save (a race the validation could not see) as a refusal."""
    return ValidationError(f"The change conflicts with existing data: {error.__cause__ or error}")


def _loaded_foreign_keys(obj) -> set[str]:
    """The foreign keys of `obj` whose row is in memory, loaded from the database, and the one the key names."""
    names = set()
    for field in obj._meta.concrete_fields:
        if field.many_to_one and field.is_cached(obj):
            related = field.get_cached_value(obj)
            if (
                related is not None
                and not related._state.adding
                and getattr(related, field.target_field.attname) == getattr(obj, field.attname)
            ):
                names.add(field.name)
    return names


def _full_clean(obj, exclude: set[str], validate_unique: bool, validate_constraints: bool) -> None:
    """Model.full_clean, except that a foreign key whose row was loaded from the database is not looked up again
    (full_clean runs one query per foreign key per save: three per value in a bulk upsert of KPI values, the most
    queried request of `make load`). The database's foreign-key constraint still backs every key, and the unique
    and check constraints are validated with every field, as full_clean does."""
    errors: dict = {}
    try:
        obj.clean_fields(exclude=exclude | _loaded_foreign_keys(obj))
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        obj.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    exclude = exclude | {name for name in errors if name != NON_FIELD_ERRORS}
    for check, wanted in ((obj.validate_unique, validate_unique), (obj.validate_constraints, validate_constraints)):
        if not wanted:
            continue
        try:
            check(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
