"""API serializers: they validate input at the edge and shape output; the writes themselves are services."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from django.db import models
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bsc import org_calendar
from bsc.models import Membership, Organization, OrgUnit, User

# The API's numbers: ASCII digits, an optional leading minus, an optional dot and decimals. Python's Decimal()
# alone would also take "1_000", "１２" (full-width), "+5", "1e3", " 12.5 ", "NaN".
PLAIN_NUMBER = re.compile(r"-?(?P<whole>[0-9]+)(?:\.(?P<decimals>[0-9]+))?")
DECIMAL_COMMA = re.compile(r"-?[0-9]+,[0-9]+")


class PlainDecimalField(serializers.DecimalField):
    """A decimal as the schema's pattern describes it (a string of plain digits, or a JSON number); anything
    else is refused with the reason, and a decimal comma with the number written as it should be."""

    default_error_messages = {
        "plain": "Enter a number such as 1234.5 (digits, an optional minus sign and a dot for decimals).",
        "comma": "Use a dot as the decimal separator: {number}",
    }

    def validate_empty_values(self, data):
        # Only null is "no value" (DRF's DecimalField would also read "" and " " as null).
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, int | float) and not isinstance(data, bool):
            text = format(Decimal(str(data)), "f")  # a JSON number: 1e-07 is 0.0000001
        elif isinstance(data, str):
            text = data
        else:
            self.fail("plain")
        match = PLAIN_NUMBER.fullmatch(text)
        if match is None:
            if DECIMAL_COMMA.fullmatch(text):
                self.fail("comma", number=text.replace(",", "."))
            self.fail("plain")
        # Counted on the text as the schema's pattern counts them (Decimal would drop leading zeros).
        if self.max_whole_digits is not None and len(match["whole"]) > max(self.max_whole_digits, 1):
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        if self.decimal_places is not None and len(match["decimals"] or "") > self.decimal_places:
            self.fail("max_decimal_places", max_decimal_places=self.decimal_places)
        return super().to_internal_value(text)


class PlainDecimalFieldSchema(OpenApiSerializerFieldExtension):
    """The pattern says exactly what PlainDecimalField takes (drf-spectacular's default also matches "", "-",
    "12." and ".5"), without the minus sign when the field takes nothing below zero."""

    target_class = PlainDecimalField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if "pattern" in schema and field.max_whole_digits is not None and field.decimal_places is not None:
            decimals = rf"(?:\.\d{{1,{field.decimal_places}}})?" if field.decimal_places else ""
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            schema["pattern"] = rf"^{sign}\d{{1,{max(field.max_whole_digits, 1)}}}{decimals}$"
        return schema


class OffsetDateTimeField(serializers.DateTimeField):
    """A moment in ISO 8601 with its UTC offset ("Z" or "+01:00"). A wall-clock time without one is refused
    rather than guessed: read as UTC, 09:00 in Berlin would become 10:00 or 11:00 there."""

    default_error_messages = {
        "offset": "Give the time with its UTC offset, e.g. {example}",
        "invalid": "Give the time in ISO 8601 with its UTC offset, e.g. 2027-03-10T09:00:00+01:00",
    }

    def __init__(self, *, help_text: str = "", **kwargs):
        if not kwargs.get("read_only"):
            rule = "ISO 8601 with its UTC offset, e.g. 2027-03-10T09:00:00+01:00; a time without one is refused."
            help_text = f"{rule} {help_text}".strip()
        super().__init__(help_text=help_text or None, **kwargs)

    def enforce_timezone(self, value: datetime) -> datetime:
        if timezone.is_naive(value):
            # The example is the caller's own wall-clock time with the organization's offset on that day.
            organization = self.context.get("organization")
            zone = org_calendar.zone(organization) if organization is not None else UTC
            self.fail("offset", example=value.replace(tzinfo=zone).isoformat(timespec="seconds"))
        return super().enforce_timezone(value)


LOCAL_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?")


@extend_schema_field({"type": "string", "pattern": f"^{LOCAL_TIME.pattern}$", "example": "09:30"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time without an offset (HH:MM, seconds optional), read in the organization's time zone. The
    schema says so with a pattern: OpenAPI's `format: time` is RFC 3339's full-time, which carries an offset."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not LOCAL_TIME.fullmatch(value):
            self.fail("invalid", format="hh:mm[:ss[.uuuuuu]]")
        return super().to_internal_value(value)


class TextField(serializers.CharField):
    """Text, as the schema's `type: string` says: DRF's CharField would also take 12 and 1.5 as "12" and "1.5"."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ApiModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose model decimals are PlainDecimalFields, whose texts are texts and whose moments need
    their offset."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.DecimalField: PlainDecimalField,
        models.DateTimeField: OffsetDateTimeField,
    }


class OrganizationRelatedField(serializers.PrimaryKeyRelatedField):
    """An id resolved only within the request's organization: another organization's id reads as
    "does not exist", exactly like an id that exists nowhere."""

    def __init__(self, *, queryset_for, **kwargs):
        self.queryset_for = queryset_for
        super().__init__(pk_field=serializers.IntegerField(), **kwargs)

    def get_queryset(self):
        return self.queryset_for(self.context["organization"])


class OrganizationMembershipSerializer(serializers.ModelSerializer):
    """One of the caller's organizations, with the caller's role in it."""

    slug = serializers.SlugField(source="organization.slug", read_only=True)
    name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["slug", "name", "role"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "slug", "name", "time_zone", "fiscal_year_start_month", "green_threshold", "amber_threshold",
            "red_requires_comment", "amber_requires_cause",
        ]  # fmt: skip
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "email", "full_name", "role", "units"]
        read_only_fields = fields


class OrgUnitSerializer(ApiModelSerializer):
    parent = OrganizationRelatedField(
        queryset_for=lambda organization: OrgUnit.objects.for_organization(organization),
        allow_null=True,
        required=False,
    )
    head = OrganizationRelatedField(
        queryset_for=lambda organization: User.objects.filter(memberships__organization=organization),
        allow_null=True,
        required=False,
        help_text="The user id of a member of the organization.",
    )

    class Meta:
        model = OrgUnit
        fields = ["id", "name", "parent", "head", "depth", "path"]
        read_only_fields = ["depth", "path"]

    def validate_parent(self, parent: OrgUnit | None) -> OrgUnit | None:
        if parent is None and self.instance is not None and self.instance.parent_id is not None:
            raise serializers.ValidationError("Only the top-level unit has no parent; choose a parent unit.")
        return parent


class OrgUnitCreateSerializer(OrgUnitSerializer):
    """A new unit always has a parent: every organization starts with its top-level unit."""

    NO_PARENT = "Choose a parent unit: the organization already has a top-level unit."
    parent = OrganizationRelatedField(
        queryset_for=lambda organization: OrgUnit.objects.for_organization(organization),
        help_text="The unit it goes under.",
        error_messages={"required": NO_PARENT, "null": NO_PARENT},
    )
