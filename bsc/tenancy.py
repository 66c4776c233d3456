"""Tenancy in one place: organization-owned models fail closed outside an organization scope.

Every organization-owned model uses `OrgManager()` as its default manager. A query on it raises
`ScopeError` unless an organization is in scope (`organization_scope(org)`, set by the view and API
helpers in bsc/access.py and by tasks), or the caller asked for one organization explicitly
(`Model.objects.for_organization(org)`). Cross-organization reads (a user's own memberships, the full
recompute) say so with `dangerously_unscoped()`.
"""

from __future__ import annotations

import contextlib

from django.db import models
from django_scopes import ScopedManager, scope, scopes_disabled
from django_scopes.exceptions import ScopeError

__all__ = ["OrgManager", "ScopeError", "dangerously_unscoped", "organization_scope"]


class _OrgBaseManager(models.Manager):
    def for_organization(self, organization):
        """The rows of one organization, whatever scope is active."""
        return self.with_scope(organization=organization).get_queryset()


def OrgManager():  # noqa: N802 (a manager factory, named like the class it returns)
    return ScopedManager(organization="organization", _manager_class=_OrgBaseManager)


def organization_scope(organization):
    """Activate one organization's scope for the block."""
    return scope(organization=organization)


@contextlib.contextmanager
def dangerously_unscoped():
    """Lift the tenancy guard for the block: only for reads that filter by something else (a user)."""
    with scopes_disabled():
        yield
