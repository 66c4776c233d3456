"""The HTML of the reminder mails (coaching.digests) with every name chosen to break out of markup (KPI codes too,
which their validator keeps plain anyway): it stays text, adding no element and no attribute."""

from datetime import UTC, date, datetime
from html.parser import HTMLParser

from coaching import digests

HOSTILE = 'x" onmouseover="alert(1)" y=\'<script>alert(2)</script>&amp;'
TAGS = {"p", "a", "h2", "h3", "ul", "li", "strong", "br"}
ATTRIBUTES = {"href", "style"}


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.text = set(), set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}

    def handle_data(self, data):
        self.text.append(data)


def parsed(markup: str) -> Markup:
    parser = Markup()
    parser.feed(markup)
    parser.close()
    return parser


def rendered() -> list[digests.Rendered]:
    kpis = [
        digests.KpiItem(HOSTILE, HOSTILE, HOSTILE, "monthly", date(2026, 2, 1), True),
        digests.KpiItem(HOSTILE, HOSTILE, HOSTILE, "monthly", date(2026, 1, 1), False),
    ]
    actions = [digests.ActionItemLine(HOSTILE, HOSTILE, date(2026, 3, 1))]
    session = digests.SessionInfo(
        1, "check_in", HOSTILE, datetime(2026, 3, 10, 9, tzinfo=UTC), HOSTILE, ("c@example.com", HOSTILE),
        [("p@example.com", HOSTILE)],
    )  # fmt: skip
    findings = [digests.Finding(HOSTILE, "red", HOSTILE, HOSTILE), digests.Finding(HOSTILE, "missing", HOSTILE, "")]
    return [
        digests.daily_digest(
            person=HOSTILE,
            org_name=HOSTILE,
            slug="acme",
            fiscal_start=1,
            today=date(2026, 3, 9),
            kpi_items=kpis,
            action_items=actions,
        ),  # fmt: skip
        digests.session_reminder(
            person=HOSTILE, time_zone="Europe/Berlin", org_name=HOSTILE, slug="acme", session=session, ics=""
        ),
        digests.coach_weekly(
            person=HOSTILE, org_name=HOSTILE, slug="acme", week="W11", due_month=date(2026, 2, 1), findings=findings
        ),
    ]


def test_names_in_the_reminder_mails_stay_text():
    for mail in rendered():
        markup = parsed(mail.html)
        assert markup.tags <= TAGS, mail.subject
        assert markup.attributes <= ATTRIBUTES, mail.subject
        assert HOSTILE in "".join(markup.text), mail.subject


def test_the_digests_format_html_gives_djangos_output():
    """digests.format_html is Django's without its per-call cost: the same escaping, markup kept as it is."""
    from django.utils import html as django_html
    from django.utils.safestring import SafeString
    from django.utils.translation import gettext_lazy

    values = [HOSTILE, SafeString("<b>kept</b>"), gettext_lazy("Check-in"), 3, None, date(2026, 3, 9), "", "é · €"]
    for value in values:
        assert digests.format_html('<a href="{}">{}</a>', value, value) == django_html.format_html(
            '<a href="{}">{}</a>', value, value
        )
