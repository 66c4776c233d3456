"""The words of each reminder: subject, plain text and HTML of the digests and session reminders, and the
.ics invite. No template engine (a tick renders thousands of digests at once): the HTML is put together with
`format_html` below, which escapes every value it is given as Django's format_html does (the same output) at a
fraction of its cost per call, and the invite with icalendar."""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString

from coaching.models import SessionKind
from kpis.models import PeriodKind
from kpis.scorecard_display import period_label

SESSION_MINUTES = 60  # sessions have no end time; invites block an hour
KINDS = {"monthly": PeriodKind.MONTH, "quarterly": PeriodKind.QUARTER, "annual": PeriodKind.YEAR}
SESSION_KINDS = dict(SessionKind.choices)


@dataclass
class Rendered:
    subject: str
    body: str
    html: str
    link: str  # path of the page to act on
    ics: str = ""


@functools.lru_cache(maxsize=4096)
def page(name: str, slug: str) -> str:
    """The path of an organization's page (a tick renders thousands of digests: reverse once per slug)."""
    return reverse(name, args=[slug])


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def site_host() -> str:
    return urlparse(settings.SITE_URL).hostname or "localhost"


def session_uid(session_id: int) -> str:
    """A session's calendar UID, the same in the .ics feed and in mailed invites, so a calendar that has
    both shows one event (and updates it when the session moves)."""
    return f"coaching-session-{session_id}@{site_host()}"


@functools.lru_cache(maxsize=1024)
def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


@functools.lru_cache(maxsize=1024)
def _footer(slug: str, why: str) -> tuple[str, str]:
    url = absolute(page("notification_settings", slug))
    text = f"\n-- \n{why} Choose which reminders you also get by email: {url}\n"
    markup = format_html(
        '<p style="color:#667;font-size:small">{} <a href="{}">Choose which reminders you also get by email</a>.</p>',
        why,
        url,
    )
    return text, markup


def _escaped(value) -> str:
    """A value as Django's conditional_escape gives it: markup (anything with __html__, such as what
    format_html returns) as it is, anything else as text (Django's escape is html.escape of str)."""
    if type(value) is str:  # the common case, first
        return html.escape(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def format_html(template: str, *values) -> SafeString:
    """django.utils.html.format_html without its per-call overhead (its lazy-string checks cost more than the
    formatting; a tick calls this hundreds of thousands of times): every value escaped unless it is markup."""
    return SafeString(template.format(*map(_escaped, values)))


def _html_list(items: list[str]) -> str:
    """A list of items: text is escaped, markup made by format_html kept."""
    return SafeString("<ul>" + "".join(f"<li>{_escaped(item)}</li>" for item in items) + "</ul>")


# --- Daily digest: KPI values and action items due and overdue ------------------------------------------


@dataclass
class KpiItem:
    code: str
    name: str
    unit: str
    frequency: str
    period: date
    is_due: bool


@dataclass
class ActionItemLine:
    title: str
    unit: str | None
    due_date: date


@dataclass
class _Section:
    summary: str  # for the subject: "3 KPI values due, 3 overdue"
    text: list[str]
    markup: list[str]


KPI_SECTION = "KPI values due / overdue"
ACTION_SECTION = "Action items due / overdue"
KPI_HEADING = format_html("<h2>{}</h2>", KPI_SECTION)
ACTION_HEADING = format_html("<h2>{}</h2>", ACTION_SECTION)


@functools.lru_cache(maxsize=4096)
def _period(frequency: str, period: date, fiscal_start: int) -> tuple[str, str]:
    """The period's label ('Feb 2026', 'Q4 2025') and its data-entry query ('2026-02')."""
    return period_label(KINDS[frequency], period, fiscal_start), f"{period.year}-{period.month:02d}"


@functools.lru_cache(maxsize=4096)
def _period_link(slug: str, frequency: str, period: date, fiscal_start: int) -> tuple[str, SafeString]:
    """The period's label and its link to data entry (the same for every KPI of the organization)."""
    label, query = _period(frequency, period, fiscal_start)
    return label, format_html('<a href="{}?period={}">{}</a>', absolute(page("data_entry", slug)), query, label)


@functools.lru_cache(maxsize=1024)
def _link(name: str, slug: str, text: str) -> SafeString:
    """A paragraph with a link to an organization's page."""
    return format_html('<p><a href="{}">{}</a></p>', absolute(page(name, slug)), text)


@functools.lru_cache(maxsize=64)
def _heading(level: int, text: str) -> SafeString:
    return format_html("<h{}>{}</h{}>", level, text, level)


def _kpi_section(*, slug: str, fiscal_start: int, items: list[KpiItem]) -> _Section:
    """The values due now and those overdue, one line per KPI."""
    entry = absolute(page("data_entry", slug))
    due: list[tuple[KpiItem, tuple[str, SafeString]]] = []
    overdue: dict[tuple[str, str, str], list[tuple[str, SafeString]]] = {}
    for item in items:
        period = _period_link(slug, item.frequency, item.period, fiscal_start)
        if item.is_due:
            due.append((item, period))
        else:
            overdue.setdefault((item.code, item.name, item.unit), []).append(period)
    overdue_count = len(items) - len(due)
    parts = [f"{_plural(len(due), 'KPI value')} due"] if due else []
    if overdue_count:
        parts.append(f"{overdue_count} overdue" if due else f"{_plural(overdue_count, 'KPI value')} overdue")

    text = [KPI_SECTION, "-" * len(KPI_SECTION), "These KPI values are waiting for you, as their owner."]
    markup = [KPI_HEADING, "<p>These KPI values are waiting for you, as their owner.</p>"]
    if due:
        text += ["", "Due now:"] + [f"- {i.code} · {i.name} ({i.unit}): {label}" for i, (label, _) in due]
        markup.append("<h3>Due now</h3>")
        markup.append(
            _html_list(
                [format_html("<strong>{}</strong> · {} ({}): {}", i.code, i.name, i.unit, link) for i, (_, link) in due]
            )
        )
    if overdue:
        text += ["", "Overdue:"] + [
            f"- {code} · {name} ({unit}): {', '.join(label for label, _ in periods)}"
            for (code, name, unit), periods in overdue.items()
        ]
        markup.append("<h3>Overdue</h3>")
        markup.append(
            _html_list(
                [
                    format_html(
                        "<strong>{}</strong> · {} ({}): {}",
                        code,
                        name,
                        unit,
                        SafeString(", ".join(link for _, link in periods)),
                    )
                    for (code, name, unit), periods in overdue.items()
                ]
            )
        )
    text += ["", f"Enter them here: {entry}"]
    markup.append(_link("data_entry", slug, "Open data entry"))
    return _Section(", ".join(parts), text, markup)


def _action_section(*, slug: str, today: date, items: list[ActionItemLine]) -> _Section:
    actions = absolute(page("coaching_actions", slug))
    groups = {
        "Overdue": [i for i in items if i.due_date < today],
        "Due today": [i for i in items if i.due_date == today],
        "Due tomorrow": [i for i in items if i.due_date == today + timedelta(days=1)],
    }
    counts = [(label, len(group)) for label, group in groups.items() if group]
    first, *rest = counts
    summary = f"{_plural(first[1], 'action item')} {first[0].lower()}" + "".join(
        f", {count} {label.lower()}" for label, count in rest
    )

    def line(item: ActionItemLine) -> str:
        where = f" ({item.unit})" if item.unit else ""
        return f"{item.title}{where}, due {_day(item.due_date)}"

    text = [ACTION_SECTION, "-" * len(ACTION_SECTION), "Your open action items:"]
    markup = [ACTION_HEADING, "<p>Your open action items:</p>"]
    for label, group in groups.items():
        if group:
            text += ["", f"{label}:"] + [f"- {line(i)}" for i in group]
            markup += [_heading(3, label), _html_list([line(i) for i in group])]
    text += ["", f"Mark them done here: {actions}"]
    markup.append(_link("coaching_actions", slug, "Open the action items"))
    return _Section(summary, text, markup)


@dataclass
class MentionLine:
    subject: str  # "Ann mentioned you in a comment on KPI FIN-1 · Revenue"
    link: str  # path of the comment


MENTION_SECTION = "Mentions"


def _mention_section(*, slug: str, items: list[MentionLine]) -> _Section:
    """The unread mentions of the person in comments, one line each, linking to the comment."""
    inbox = absolute(page("inbox", slug))
    text = [MENTION_SECTION, "-" * len(MENTION_SECTION), "You were mentioned in these comments (unread in your inbox):"]
    text += [f"- {item.subject}: {absolute(item.link)}" for item in items]
    markup = [
        format_html("<h2>{}</h2>", MENTION_SECTION),
        "<p>You were mentioned in these comments (unread in your inbox):</p>",
        _html_list([format_html('<a href="{}">{}</a>', absolute(item.link), item.subject) for item in items]),
    ]
    text += ["", f"Your inbox: {inbox}"]
    markup.append(format_html('<p><a href="{}">Open your inbox</a></p>', inbox))
    return _Section(f"{_plural(len(items), 'unread mention')}", text, markup)


def daily_digest(
    *,
    person: str,
    org_name: str,
    slug: str,
    fiscal_start: int,
    today: date,
    kpi_items: list[KpiItem],
    action_items: list[ActionItemLine],
    mentions: list[MentionLine] = (),
) -> Rendered:
    """A person's one daily digest in an organization: a section for the KPI values they own that are due or
    overdue, one for their action items due today, tomorrow or overdue, and one for the unread mentions of them in
    comments; each only when it has lines. It links to data entry when KPI values are waiting, else to the action
    items, else to the inbox."""
    sections = []
    if kpi_items:
        sections.append(_kpi_section(slug=slug, fiscal_start=fiscal_start, items=kpi_items))
    if action_items:
        sections.append(_action_section(slug=slug, today=today, items=action_items))
    if mentions:
        sections.append(_mention_section(slug=slug, items=list(mentions)))
    subject = f"{org_name}: " + ", ".join(section.summary for section in sections)
    text = [f"Hello {person},", "", f"Your daily digest of {org_name}."]
    markup = [format_html("<p>Hello {},</p>", person), format_html("<p>Your daily digest of {}.</p>", org_name)]
    for section in sections:
        text += [""] + section.text
        markup += section.markup
    why = {
        (True, False): "You get this because these KPIs name you as their owner.",
        (False, True): "You get this because you own these action items.",
        (True, True): "You get this because you own these KPIs and action items.",
        (False, False): "You get this because you were mentioned in comments.",
    }[bool(kpi_items), bool(action_items)]
    if mentions and (kpi_items or action_items):
        why += " You were also mentioned in comments."
    foot_text, foot_html = _footer(slug, why)
    link = page("data_entry" if kpi_items else "coaching_actions" if action_items else "inbox", slug)
    return Rendered(subject, "\n".join(text) + "\n" + foot_text, "\n".join(markup) + foot_html, link)


# --- Sessions coming up --------------------------------------------------------------------------------


@dataclass
class SessionInfo:
    id: int
    kind: str
    unit: str
    scheduled_at: datetime
    agenda: str
    coach: tuple[str, str]  # (email, name)
    participants: list[tuple[str, str]]


@functools.lru_cache(maxsize=4096)
def session_link(slug: str, session_id: int) -> str:
    """The path of a session's page (reversed once for its invite and every participant's reminder)."""
    return reverse("coaching_session", args=[slug, session_id])


def session_reminder(
    *, person: str, time_zone: str, org_name: str, slug: str, session: SessionInfo, ics: str
) -> Rendered:
    """The reminder for one person; `ics` is the session's invite (the same for every person)."""
    link = session_link(slug, session.id)
    local = session.scheduled_at.astimezone(ZoneInfo(time_zone))
    kind = SESSION_KINDS.get(session.kind, session.kind)
    when = f"{local:%a} {local.day} {local:%b %Y} at {local:%H:%M} ({time_zone})"
    subject = f"Coming up: {kind} of {session.unit}, {local:%a} {local.day} {local:%b} {local:%H:%M} {local:%Z}"
    people = ", ".join(name for _, name in session.participants) or "nobody else yet"
    text = [
        f"Hello {person},",
        "",
        f"A {kind.lower()} of {session.unit} ({org_name}) is coming up on {when}.",
        f"Coach: {session.coach[1]}",
        f"Participants: {people}",
    ]
    if session.agenda:
        text += ["", "Agenda:", session.agenda]
    text += ["", f"Session page: {absolute(link)}", "The attached invite (invite.ics) adds it to your calendar."]
    markup = [
        format_html("<p>Hello {},</p>", person),
        format_html(
            "<p>A {} of <strong>{}</strong> ({}) is coming up on <strong>{}</strong>.</p>",
            kind.lower(),
            session.unit,
            org_name,
            when,
        ),
        format_html("<p>Coach: {}<br>Participants: {}</p>", session.coach[1], people),
    ]
    if session.agenda:
        markup.append(format_html('<h3>Agenda</h3><p style="white-space:pre-line">{}</p>', session.agenda))
    markup.append(format_html('<p><a href="{}">Open the session</a></p>', absolute(link)))
    foot_text, foot_html = _footer(slug, "You get this because you take part in this coaching session.")
    return Rendered(
        subject,
        "\n".join(text) + "\n" + foot_text,
        "\n".join(markup) + foot_html,
        link,
        ics=ics,
    )


def session_invite(*, session: SessionInfo, link: str, stamp: datetime) -> str:
    """An iTIP REQUEST for the session (RFC 5546), with a stable UID so calendars update one event."""
    kind = SESSION_KINDS.get(session.kind, session.kind)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Scorecard//Coaching sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", session_uid(session.id))
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")).replace(microsecond=0))
    start = session.scheduled_at.astimezone(ZoneInfo("UTC"))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=SESSION_MINUTES))
    event.add("summary", f"{kind} · {session.unit}")
    event.add("description", "\n\n".join(part for part in (session.agenda, link) if part))
    event.add("url", link)
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{session.coach[0]}")
    organizer.params["cn"] = icalendar.vText(session.coach[1])
    event.add("organizer", organizer)
    for email, name in session.participants:
        attendee = icalendar.vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = icalendar.vText(name)
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = icalendar.vText("NEEDS-ACTION")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical().decode()


# --- Weekly coach digest -------------------------------------------------------------------------------


@dataclass
class Finding:
    unit: str
    what: str  # "red", "missing" or "overdue"
    label: str
    detail: str


SECTION_TITLES = {"red": "Red KPIs", "missing": "Missing data", "overdue": "Overdue action items"}


def coach_weekly(
    *, person: str, org_name: str, slug: str, week: str, due_month: date, findings: list[Finding]
) -> Rendered:
    link = page("coaching_index", slug)
    units: dict[str, dict[str, list[Finding]]] = {}
    for finding in findings:
        units.setdefault(finding.unit, {}).setdefault(finding.what, []).append(finding)
    subject = f"{org_name}: weekly coaching digest ({week}), {_plural(len(units), 'unit')} to look at"
    month = f"{due_month:%B %Y}"
    text = [
        f"Hello {person},",
        "",
        f"What needs attention in the units you coach in {org_name} ({month} is the month now due):",
    ]
    markup = [
        format_html("<p>Hello {},</p>", person),
        format_html(
            "<p>What needs attention in the units you coach in {} ({} is the month now due):</p>", org_name, month
        ),
    ]
    for unit, sections in units.items():
        text += ["", unit, "=" * len(unit)]
        markup.append(format_html("<h2>{}</h2>", unit))
        for what in ("red", "missing", "overdue"):
            found = sections.get(what)
            if not found:
                continue
            lines = [f"{f.label}: {f.detail}" if f.detail else f.label for f in found]
            text += [f"{SECTION_TITLES[what]}:"] + [f"- {line}" for line in lines]
            markup += [format_html("<h3>{}</h3>", SECTION_TITLES[what]), _html_list(lines)]
    text += ["", f"Coaching: {absolute(link)}"]
    markup.append(format_html('<p><a href="{}">Open coaching</a></p>', absolute(link)))
    foot_text, foot_html = _footer(slug, "You get this because you coach these units.")
    return Rendered(subject, "\n".join(text) + "\n" + foot_text, "\n".join(markup) + foot_html, link)
