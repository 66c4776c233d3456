"""API views: the caller's organizations, and per organization its settings, members and unit tree.

Every view under /o/<org_slug>/ builds on OrganizationScopedMixin; every write is one call to bsc.services.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, viewsets

from bsc import selectors, services
from bsc.api.base import OrganizationScopedMixin
from bsc.api.serializers import (
    MemberSerializer,
    OrganizationMembershipSerializer,
    OrganizationSerializer,
    OrgUnitCreateSerializer,
    OrgUnitSerializer,
)
from bsc.models import Membership, Organization, OrgUnit
from bsc.permissions import Action


@extend_schema(tags=["organizations"])
class OrganizationListApi(generics.ListAPIView):
    """The organizations you belong to, with your role in each (the one list not scoped to an organization)."""

    serializer_class = OrganizationMembershipSerializer

    def get_queryset(self):
        return selectors.membership_list_for_user(user=self.request.user)


@extend_schema_view(get=extend_schema(tags=["organizations"], operation_id="organization_retrieve"))
class OrganizationDetailApi(OrganizationScopedMixin, generics.RetrieveAPIView):
    """The organization's settings: time zone, first month of the fiscal year, status thresholds."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.none()

    def get_queryset(self):
        return Organization.objects.filter(pk=self.organization.pk)

    def get_object(self) -> Organization:
        return self.organization


@extend_schema(tags=["members"])
class MemberViewSet(OrganizationScopedMixin, viewsets.ReadOnlyModelViewSet):
    """The organization's members with their role; `units` are a department head's units."""

    serializer_class = MemberSerializer
    queryset = Membership.objects.none()
    lookup_value_converter = "int"

    def get_organization_queryset(self):
        return selectors.member_list(organization=self.organization)


@extend_schema(tags=["units"])
class OrgUnitViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """The unit tree, in tree order. Create a unit under a `parent`, rename it or change its `head`, move it
    (with everything below it) by changing `parent`, delete it once it is empty. Writes need the admin or
    executive role."""

    queryset = OrgUnit.objects.none()
    lookup_value_converter = "int"
    write_action = Action.EDIT_STRATEGY

    def get_serializer_class(self):
        return OrgUnitCreateSerializer if self.action == "create" else OrgUnitSerializer

    def get_organization_queryset(self):
        return selectors.org_unit_list(organization=self.organization)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.org_unit_create(
            organization=self.organization, name=data["name"], parent=data.get("parent"), head=data.get("head")
        )

    @transaction.atomic
    def perform_update(self, serializer):
        unit, data = serializer.instance, serializer.validated_data
        services.org_unit_update(unit=unit, name=data.get("name"), head=data.get("head", False))
        if "parent" in data and data["parent"] != unit.parent:
            serializer.instance = services.org_unit_move(unit=unit, new_parent=data["parent"])

    def perform_destroy(self, instance):
        services.org_unit_delete(unit=instance)
