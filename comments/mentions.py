"""@mentions in a comment's text: `@` followed by a member's e-mail address, or by its local part (the part before
the @) when only one member of the organization has it (`@carla` for carla@acme.example.com). Case does not matter.
A name that is no member of the organization (or is ambiguous) stays plain text and notifies nobody; the author is
told which ones (docs/features.md, "Comments")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db.models import Q

from bsc.models import Membership, Organization, User

# After the start, a space or punctuation that is not part of an address (so "bob@example.com" mentions nobody).
MENTION = re.compile(r"(?<![\w@.+-])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")


@dataclass
class Mentions:
    users: list[User] = field(default_factory=list)  # members named, each once, in the order written
    unknown: list[str] = field(default_factory=list)  # names written that are no member ("@zoe"), each once


def mention_names(text: str) -> list[str]:
    """The names written after @, in order, each once (trailing dots of a sentence left out)."""
    names: list[str] = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".").lower()
        if name and name not in names:
            names.append(name)
    return names


def mentions_resolve(*, organization: Organization, text: str) -> Mentions:
    """The organization's members the text names (one query), and the names that are none of them."""
    names = mention_names(text)
    found = Mentions()
    if not names:
        return found
    wanted = Q()
    for name in names:
        wanted |= Q(user__email__iexact=name) if "@" in name else Q(user__email__istartswith=f"{name}@")
    rows = Membership.objects.for_organization(organization).select_related("user").filter(wanted, user__is_active=True)
    members = [membership.user for membership in rows]
    by_email = {user.email.lower(): user for user in members}
    by_local: dict[str, list[User]] = {}
    for user in members:
        by_local.setdefault(user.email.lower().split("@")[0], []).append(user)
    for name in names:
        user = by_email.get(name)
        if user is None and len(by_local.get(name, ())) == 1:
            user = by_local[name][0]
        if user is None:
            found.unknown.append(f"@{name}")
        elif user not in found.users:
            found.users.append(user)
    return found
