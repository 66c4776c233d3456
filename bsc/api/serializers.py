"""API serializers: they validate input at the edge and shape output; the writes themselves are services."""

from __future__ import annotations

from rest_framework import serializers

from bsc.models import Membership, Organization, OrgUnit, User


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
        fields = ["slug", "name", "time_zone", "fiscal_year_start_month", "green_threshold", "amber_threshold"]
        read_only_fields = fields


class MemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "email", "full_name", "role", "units"]
        read_only_fields = fields


class OrgUnitSerializer(serializers.ModelSerializer):
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
