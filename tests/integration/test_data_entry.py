"""The monthly data-entry page: who sees which KPIs, saving one row or all rows (all or nothing), decimal
separators, red values needing a cause and an action item, stale saves, permissions and tenancy, and a fixed query count."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bsc import org_calendar
from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching.models import ActionItem
from kpis import services
from kpis.models import Measurement
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

MARCH = date(2026, 3, 1)
STALE = "Admin of acme changed this value since you loaded the page (now 90); check it and save again."
OWN_STALE = "This value was changed since you loaded the page (now 90); check it and save again."


@pytest.fixture
def kpis(world):
    """Company, division and department KPIs; the department head (of the division) owns NPS at the company."""
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user
    with organization_scope(world.org_a):
        made = {
            "REV": services.kpi_create(unit=world.company_a, name="Revenue", code="REV", baseline=Decimal(0)),
            "NPS": services.kpi_create(
                unit=world.company_a, name="Net promoter score", code="NPS", baseline=Decimal(0), owner=head
            ),
            "OTD": services.kpi_create(
                unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
            ),
            "AUD": services.kpi_create(
                unit=world.division_a, name="Audit score", code="AUD", baseline=Decimal(0), frequency="quarterly"
            ),
            "SCR": services.kpi_create(
                unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(10), direction="decrease"
            ),
        }
        old = services.kpi_create(unit=world.division_a, name="Old", code="OLD", baseline=Decimal(0))
        services.kpi_archive(kpi=old)
        services.kpi_create(
            unit=world.division_a, name="Twice OTD", code="OTD2", baseline=Decimal(0), source="formula",
            formula="OTD * 2",
        )  # fmt: skip
        for code, value in (("REV", 100), ("NPS", 50), ("OTD", 100), ("SCR", 5)):
            services.target_create(kpi=made[code], period=MARCH, value=Decimal(value))
        services.target_create(kpi=made["AUD"], period=date(2026, 1, 1), value=Decimal(90))
        services.measurement_record(
            kpi=made["OTD"], period=date(2026, 2, 1), value=Decimal("88.5"), by=world.admin_a, schedule=False
        )
    made["head"] = head
    return made


def page_url(**query):
    params = "&".join(f"{key}={value}" for key, value in {"period": "2026-03", **query}.items())
    return f"{reverse('data_entry', args=['acme'])}?{params}"


def row_url(kpi, org="acme"):
    return reverse("data_entry_row_save", args=[org, kpi.pk])


def status_url(kpi):
    return reverse("data_entry_status", args=["acme", kpi.pk])


def measurements(world):
    return {
        (m.kpi.code, m.period): (m.value, m.comment, m.version)
        for m in Measurement.objects.for_organization(world.org_a).select_related("kpi")
    }


def text(response) -> str:
    return html.unescape(response.content.decode())


def error_summary(response) -> list[str]:
    """The refused "Save all" page's one message: the error summary's heading, then its links to the rows."""
    shown = text(response)
    match = re.search(r'<div id="entry-errors"[^>]*>(.*?)</div>', shown, re.S)
    assert match, "no error summary on the page"
    return [
        " ".join(re.sub(r"<[^>]+>", "", part).split())
        for part in re.findall(r"<h2[^>]*>.*?</h2>|<a[^>]*>.*?</a>", match[1], re.S)
    ]


def shows_one_message(response) -> bool:
    """Under the error summary: no flash message and no page summary banner (the rows carry the rest)."""
    shown = text(response)
    return "flash" not in shown and re.search(r'<p id="entry-summary"[^>]*hidden[^>]*></p>', shown) is not None


def form(*rows, separator=".", period="2026-03"):
    """POST data for the given (kpi, value, comment, version) rows."""
    data = {"period": period, "decimal_separator": separator, "kpi": [k.pk for k, *_ in rows]}
    for kpi, value, comment, version in rows:
        data |= {f"value-{kpi.pk}": value, f"comment-{kpi.pk}": comment, f"version-{kpi.pk}": version}
    return data


def test_a_department_head_sees_the_kpis_of_their_units_and_below_and_those_they_own(client, world, kpis):
    client.force_login(kpis["head"])
    response = client.get(page_url())
    page = response.context["page"]
    assert [(row.kpi.code, row.period) for row in page.rows] == [
        ("NPS", MARCH),
        ("AUD", date(2026, 1, 1)),  # quarterly: its first quarter ends in March
        ("OTD", MARCH),
        ("SCR", MARCH),
    ]
    assert [(unit.name, [r.kpi.code for r in rows]) for unit, rows in page.groups] == [
        ("Acme Manufacturing", ["NPS"]),
        ("Operations", ["AUD", "OTD"]),
        ("Assembly", ["SCR"]),
    ]
    shown = text(response)
    assert "4 of 4 KPIs still need a value for March 2026." in shown
    assert 'aria-label="Value of OTD On-time delivery"' in shown
    otd = page.rows[2]
    assert (otd.previous_text, otd.target_text, otd.status) == ("88.5%", "100.0%", "grey")
    assert "REV" not in shown and "OLD" not in shown and "OTD2" not in shown


def test_admins_see_every_kpi_and_can_filter_by_unit_and_the_units_below(client, world, kpis):
    client.force_login(world.admin_a)
    codes = [row.kpi.code for row in client.get(page_url()).context["page"].rows]
    assert codes == ["NPS", "REV", "AUD", "OTD", "SCR"]
    codes = [row.kpi.code for row in client.get(page_url(unit=world.division_a.pk)).context["page"].rows]
    assert codes == ["AUD", "OTD", "SCR"]
    # February: the quarterly KPI has no period ending then
    codes = [row.kpi.code for row in client.get(page_url(period="2026-02")).context["page"].rows]
    assert codes == ["NPS", "REV", "OTD", "SCR"]


def test_the_default_period_is_the_previous_month_in_the_organizations_time_zone(client, world, kpis):
    from bsc.org_calendar import due_month, month_shift

    client.force_login(world.admin_a)
    page = client.get(reverse("data_entry", args=["acme"])).context["page"]
    assert page.month == due_month(world.org_a)
    from django.utils import timezone

    assert page.month == month_shift(timezone.localdate().replace(day=1), -1)  # the org's zone is UTC here


def test_the_status_preview_is_computed_on_the_server(client, world, kpis):
    client.force_login(kpis["head"])
    otd = kpis["OTD"]

    def preview(value, comment="", separator="."):
        query = {"period": "2026-03", f"value-{otd.pk}": value, f"comment-{otd.pk}": comment}
        response = client.get(status_url(otd), query | {"decimal_separator": separator})
        assert response.status_code == 200
        return response.context["row"], text(response)

    row, shown = preview("99")
    assert (row.status, row.score_text) == ("green", "95%")
    assert "On track" in shown
    row, shown = preview("92,5", separator=",")
    assert (row.status, row.score_text) == ("amber", "62.5%")  # 12.5 / 20 = 0.625
    row, shown = preview("81")
    assert row.status == "red" and "Give the cause of the red value." in shown
    row, shown = preview("81", comment="Supplier strike")
    assert row.status == "red" and "Give the cause of the red value." not in shown
    row, shown = preview("9x")
    assert row.status == "grey" and "“9x” is not a number." in shown


def test_saving_one_row_records_exactly_that_value(client, world, kpis):
    client.force_login(kpis["head"])
    otd = kpis["OTD"]
    data = form((otd, "96", "Good month", ""), (kpis["SCR"], "4", "", ""))  # the whole form travels along
    response = client.post(row_url(otd), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    shown = text(response)
    assert 'id="entry-' + str(otd.pk) + '"' in shown and "badge-saved" in shown
    assert "3 of 4 KPIs still need a value for March 2026." in shown  # the summary, out of band
    assert "Saved OTD for March 2026." in shown
    assert f'name="version-{otd.pk}" value="1"' in shown
    assert measurements(world) == {
        ("OTD", date(2026, 2, 1)): (Decimal("88.5"), "", 1),
        ("OTD", MARCH): (Decimal("96"), "Good month", 1),
    }
    saved = Measurement.objects.for_organization(world.org_a).get(kpi=otd, period=MARCH)
    assert saved.entered_by == kpis["head"]


def test_save_all_writes_every_value_or_none(client, world, kpis):
    client.force_login(kpis["head"])
    rows = [(kpis["NPS"], "45", "", ""), (kpis["OTD"], "97", "", ""), (kpis["SCR"], "abc", "", ""),
            (kpis["AUD"], "", "", "")]  # fmt: skip
    before = measurements(world)
    response = client.post(page_url(), form(*rows))
    assert response.status_code == 200
    assert measurements(world) == before
    shown = text(response)
    assert error_summary(response) == ["Nothing was saved: fix this value", "SCR Scrap rate: “abc” is not a number."]
    assert shows_one_message(response)
    assert f'<p class="error" id="errors-{kpis["SCR"].pk}" role="alert">SCR: “abc” is not a number.</p>' in shown
    assert 'value="abc"' in shown and 'value="97"' in shown  # what was typed stays
    row = next(r for r in response.context["page"].rows if r.kpi.code == "SCR")
    assert row.errors == ["“abc” is not a number."]

    rows[2] = (kpis["SCR"], "6", "", "")
    response = client.post(page_url(), form(*rows))
    assert response.status_code == 302
    assert measurements(world) == before | {
        ("NPS", MARCH): (Decimal(45), "", 1),
        ("OTD", MARCH): (Decimal(97), "", 1),
        ("SCR", MARCH): (Decimal(6), "", 1),
    }
    page = client.get(response.url)
    shown = text(page)
    assert "Saved 3 values for March 2026." in shown
    assert "1 of 4 KPIs still needs a value for March 2026." in shown  # the quarterly audit score was left empty


def test_a_comma_is_accepted_when_chosen_and_a_point_then_refused(client, world, kpis):
    client.force_login(kpis["head"])
    otd, scr = kpis["OTD"], kpis["SCR"]
    response = client.post(page_url(), form((otd, "92.5", "", ""), (scr, "5", "", ""), separator=","))
    assert error_summary(response) == [
        "Nothing was saved: fix this value",
        "OTD On-time delivery: “92.5” uses '.' but your decimal separator is ','.",
    ]
    assert ("OTD", MARCH) not in measurements(world)
    response = client.post(page_url(), form((otd, "92,5", "", ""), (scr, "5", "", ""), separator=","))
    assert response.status_code == 302
    assert measurements(world)[("OTD", MARCH)] == (Decimal("92.5"), "", 1)


def action(kpi, owner="", due="", title="", link=""):
    """POST data of the action item a red row names."""
    return {
        f"action_owner-{kpi.pk}": owner, f"action_due-{kpi.pk}": due, f"action_title-{kpi.pk}": title,
        f"action_item-{kpi.pk}": link,
    }  # fmt: skip


RED_ASKS = (
    "Give the cause of the red value. Name an action item for the red value (owner and due date) or link an open one."
)


def test_a_red_value_needs_a_cause_and_an_action_item(client, world, kpis):
    head = kpis["head"]
    client.force_login(head)
    otd = kpis["OTD"]
    response = client.post(row_url(otd), form((otd, "81", "", "")), HTTP_HX_REQUEST="true")
    shown = text(response)
    assert f"OTD: {RED_ASKS}" in shown and "row-invalid" in shown
    assert f'<div id="action-{otd.pk}" class="red-action">' in shown  # the action item's fields, under the cause
    assert ("OTD", MARCH) not in measurements(world)
    response = client.post(page_url(), form((otd, "81", "", "")))
    assert error_summary(response) == ["Nothing was saved: fix this value", f"OTD On-time delivery: {RED_ASKS}"]
    assert ("OTD", MARCH) not in measurements(world)
    data = form((otd, "81", "Supplier strike", "")) | action(otd, owner=head.pk, due="2030-06-28")
    client.post(row_url(otd), data, HTTP_HX_REQUEST="true")
    assert measurements(world)[("OTD", MARCH)] == (Decimal(81), "Supplier strike", 1)
    item = ActionItem.objects.for_organization(world.org_a).get(kpi=otd)
    assert (item.title, item.owner, item.due_date, item.unit, item.status, item.created_by) == (
        "Bring OTD On-time delivery back on target",
        head,
        date(2030, 6, 28),
        world.division_a,
        "open",
        head,
    )


def test_a_red_value_needs_no_comment_when_the_organization_says_so(client, world, kpis):
    world.org_a.red_requires_comment = False
    world.org_a.save()
    client.force_login(kpis["head"])
    otd = kpis["OTD"]
    client.post(row_url(otd), form((otd, "81", "", "")), HTTP_HX_REQUEST="true")
    assert measurements(world)[("OTD", MARCH)] == (Decimal(81), "", 1)


def test_a_stale_save_is_refused_and_shows_the_newer_value(client, world, kpis):
    client.force_login(kpis["head"])
    otd, scr = kpis["OTD"], kpis["SCR"]
    with organization_scope(world.org_a):
        services.measurement_record(kpi=otd, period=MARCH, value=Decimal(90), by=world.admin_a, schedule=False)
    # the head loaded the page before the admin's save: version empty
    response = client.post(row_url(otd), form((otd, "95", "", "")), HTTP_HX_REQUEST="true")
    shown = text(response)
    assert f"OTD: {STALE}" in shown
    assert f'name="version-{otd.pk}" value="1"' in shown  # saving again now overwrites knowingly
    assert measurements(world)[("OTD", MARCH)] == (Decimal(90), "", 1)

    response = client.post(page_url(), form((otd, "95", "", ""), (scr, "5", "", "")))
    assert error_summary(response) == ["Nothing was saved: fix this value", f"OTD On-time delivery: {STALE}"]
    assert measurements(world)[("OTD", MARCH)] == (Decimal(90), "", 1)
    assert ("SCR", MARCH) not in measurements(world)

    client.post(row_url(otd), form((otd, "95", "", "1")), HTTP_HX_REQUEST="true")
    assert measurements(world)[("OTD", MARCH)] == (Decimal(95), "", 2)


def test_a_stale_save_of_ones_own_change_names_nobody(client, world, kpis):
    client.force_login(world.admin_a)
    otd = kpis["OTD"]
    with organization_scope(world.org_a):  # saved in another tab after this page was loaded
        services.measurement_record(kpi=otd, period=MARCH, value=Decimal(90), by=world.admin_a, schedule=False)
    response = client.post(row_url(otd), form((otd, "95", "", "")), HTTP_HX_REQUEST="true")
    assert f"OTD: {OWN_STALE}" in text(response)
    assert "Admin of acme changed" not in text(response)
    response = client.post(page_url(), form((otd, "95", "", "")))
    assert error_summary(response) == ["Nothing was saved: fix this value", f"OTD On-time delivery: {OWN_STALE}"]
    assert measurements(world)[("OTD", MARCH)] == (Decimal(90), "", 1)


def test_values_for_months_after_the_current_one_are_refused(client, world, kpis):
    client.force_login(world.admin_a)
    otd, scr = kpis["OTD"], kpis["SCR"]
    month = org_calendar.this_month(world.org_a)
    later = org_calendar.month_shift(month, 1)
    future = (
        f"{org_calendar.month_label(later)} is in the future: values can be entered up to "
        f"{org_calendar.month_label(month)}."
    )
    response = client.post(
        page_url(period=f"{later:%Y-%m}"), form((otd, "95", "", ""), (scr, "5", "", ""), period=f"{later:%Y-%m}")
    )
    assert response.status_code == 200
    assert error_summary(response) == [
        "Nothing was saved: fix these 2 values",
        f"OTD On-time delivery: {future}",
        f"SCR Scrap rate: {future}",
    ]
    assert shows_one_message(response)
    response = client.post(row_url(otd), form((otd, "95", "", ""), period=f"{later:%Y-%m}"), HTTP_HX_REQUEST="true")
    assert f"OTD: {future}" in text(response)
    assert not Measurement.objects.for_organization(world.org_a).filter(period__gt=month).exists()
    # this month's value may be entered early (month-end actuals)
    response = client.post(page_url(period=f"{month:%Y-%m}"), form((otd, "95", "", ""), period=f"{month:%Y-%m}"))
    assert response.status_code == 302
    assert measurements(world)[("OTD", month)] == (Decimal(95), "", 1)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COACH])
def test_viewers_and_coaches_may_not_enter_values(client, world, kpis, member_of_role, role):
    client.force_login(member_of_role(role))
    otd = kpis["OTD"]
    before = measurements(world)
    response = client.get(page_url())
    assert response.status_code == 403
    assert "Your role may not enter measurements. Nothing was changed." in text(response)
    assert client.post(page_url(), form((otd, "95", "", ""))).status_code == 403
    assert client.post(page_url(), form()).status_code == 403
    assert client.post(row_url(otd), form((otd, "95", "", "")), HTTP_HX_REQUEST="true").status_code == 403
    assert client.get(status_url(otd), {"period": "2026-03", f"value-{otd.pk}": "95"}).status_code == 403
    assert measurements(world) == before


def test_a_department_head_may_not_enter_values_outside_their_units(client, world, kpis):
    client.force_login(kpis["head"])
    rev = kpis["REV"]
    assert client.post(row_url(rev), form((rev, "95", "", ""))).status_code == 403
    assert client.post(page_url(), form((kpis["OTD"], "95", "", ""), (rev, "95", "", ""))).status_code == 403
    assert ("OTD", MARCH) not in measurements(world) and ("REV", MARCH) not in measurements(world)


def test_another_organizations_kpi_is_not_found(client, world, kpis):
    with organization_scope(world.org_b):
        foreign = services.kpi_create(unit=world.unit_b, name="Sales", code="SAL", baseline=Decimal(0))
    client.force_login(world.admin_a)
    assert client.post(row_url(foreign), form((foreign, "5", "", ""))).status_code == 404
    assert client.post(page_url(), form((kpis["OTD"], "95", "", ""), (foreign, "5", "", ""))).status_code == 404
    assert client.get(status_url(foreign), {"period": "2026-03"}).status_code == 404
    assert client.get(page_url(unit=world.unit_b.pk)).status_code == 404
    assert ("OTD", MARCH) not in measurements(world)
    assert not Measurement.objects.for_organization(world.org_b).exists()


def _count_page_queries(client, world, count: int) -> int:
    with organization_scope(world.org_a):
        for i in range(count):
            kpi = services.kpi_create(
                unit=world.department_a if i % 2 else world.division_a, name=f"KPI {i}", code=f"K{count}_{i}",
                baseline=Decimal(0),
            )  # fmt: skip
            services.target_create(kpi=kpi, period=MARCH, value=Decimal(10))
            services.measurement_record(kpi=kpi, period=MARCH, value=Decimal(i), by=world.admin_a, schedule=False)
            services.measurement_record(
                kpi=kpi, period=date(2026, 2, 1), value=Decimal(i), by=world.admin_a, schedule=False
            )
    client.force_login(world.admin_a)
    client.get(page_url())  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_url())
    assert len(response.context["page"].rows) >= count
    return len(queries)


def test_the_page_query_count_does_not_grow_with_the_kpis(client, world, kpis):
    five = _count_page_queries(client, world, 5)
    thirty = _count_page_queries(client, world, 25)  # 30 in all
    assert five == thirty


def test_a_row_save_without_javascript_redirects_back_with_a_message(client, world, kpis):
    client.force_login(kpis["head"])
    otd = kpis["OTD"]
    response = client.post(row_url(otd), form((otd, "81", "", ""), (kpis["SCR"], "6", "", "")))
    assert (response.status_code, response.url) == (302, page_url())
    assert "Nothing was saved: 1 value needs attention. OTD On-time delivery: Give the cause of the red value." in text(
        client.get(response.url)
    )
    response = client.post(row_url(otd), form((otd, "99", "", ""), (kpis["SCR"], "6", "", "")))
    assert "Saved OTD for March 2026." in text(client.get(response.url))
    assert measurements(world)[("OTD", MARCH)] == (Decimal(99), "", 1)
    assert ("SCR", MARCH) not in measurements(world)  # only the row whose button was pressed


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("9" * 1_000_000, "9" * 59 + "…"), ("1e999999999999999999", "1e999999999999999999"),
     ("1e-999999999999999999", "1e-999999999999999999")],
)  # fmt: skip
def test_a_number_with_a_million_digits_or_a_huge_exponent_is_refused_on_the_row_and_the_page(
    client, world, kpis, typed, shown
):
    client.force_login(kpis["head"])
    otd = kpis["OTD"]
    message = f"“{shown}” has too many digits: a value has at most 14 before the decimal point and 6 after."
    response = client.post(row_url(otd), form((otd, typed, "", "")), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f"OTD: {message}" in text(response)
    response = client.post(page_url(), form((otd, typed, "", "")))
    assert response.status_code == 200
    assert error_summary(response) == ["Nothing was saved: fix this value", f"OTD On-time delivery: {message}"]
    response = client.get(status_url(otd), {"period": "2026-03", f"value-{otd.pk}": typed})
    assert response.status_code == 200 and response.context["row"].status == "grey"
    assert ("OTD", MARCH) not in measurements(world)


def separator_url(org="acme"):
    return reverse("data_entry_separator", args=[org])


def test_the_decimal_separator_is_the_persons_and_reads_the_next_visit(client, world, kpis):
    head, otd, scr = kpis["head"], kpis["OTD"], kpis["SCR"]
    with organization_scope(world.org_a):
        services.measurement_record(kpi=otd, period=MARCH, value=Decimal("92.5"), by=head, schedule=False)
    client.force_login(head)
    shown = text(client.get(page_url()))
    assert '<option value="." selected>' in shown and f'id="value-{otd.pk}" name="value-{otd.pk}" value="92.5"' in shown

    # The switch: one request keeps the choice and answers every posted row's preview, read with it.
    data = form((otd, "92,5", "", "1"), (scr, "4.5", "", ""), separator=",")
    response = client.post(separator_url(), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [(row.kpi.code, row.status, row.errors) for row in response.context["rows"]] == [
        ("OTD", "amber", []),
        ("SCR", "grey", ["“4.5” uses '.' but your decimal separator is ','."]),
    ]
    shown = text(response)
    assert shown.count('hx-swap-oob="true"') == 2  # each row's status; no action item asked, none shown: left alone
    assert f'<div id="status-{otd.pk}" class="entry-status" data-cause="" hx-swap-oob="true">' in shown
    head.refresh_from_db()
    assert head.decimal_separator == ","

    client.logout()  # the next log-in, from another browser
    client.force_login(head)
    shown = text(client.get(page_url()))
    assert '<option value="," selected>' in shown
    assert f'id="value-{otd.pk}" name="value-{otd.pk}" value="92,5"' in shown  # the stored value, as they type it
    data = form((scr, "4,25", "", ""), (otd, "93,5", "", "1"))
    del data["decimal_separator"]  # a form without the switch reads with the person's separator
    response = client.post(page_url(), data)
    assert response.status_code == 302
    assert measurements(world)[("SCR", MARCH)] == (Decimal("4.25"), "", 1)
    assert measurements(world)[("OTD", MARCH)] == (Decimal("93.5"), "", 2)
    response = client.get(status_url(otd), {"period": "2026-03", f"value-{otd.pk}": "99,5"})
    assert response.context["row"].value == Decimal("99.5")

    client.post(separator_url(), {"decimal_separator": ".", "period": "2026-03"})  # a page with no rows
    head.refresh_from_db()
    assert head.decimal_separator == "."


def test_switching_the_separator_refuses_anything_else_and_answers_in_constant_queries(client, world, kpis):
    client.force_login(kpis["head"])
    response = client.post(separator_url(), form((kpis["OTD"], "9", "", ""), separator=";"))
    assert response.status_code == 400
    assert response.content.decode() == "Choose '.' or ',' as the decimal separator, not “;”."
    kpis["head"].refresh_from_db()
    assert kpis["head"].decimal_separator == "."

    client.force_login(world.admin_a)
    rows = [(kpis[code], "9", "", "") for code in ("NPS", "OTD", "SCR")]
    client.post(separator_url(), form(separator=","))  # the choice is written once, then stays
    with CaptureQueriesContext(connection) as one:
        client.post(separator_url(), form(rows[0], separator=","))
    with CaptureQueriesContext(connection) as three:
        client.post(separator_url(), form(*rows, separator=","))
    assert len(one) == len(three)


def test_switching_the_separator_follows_the_roles_and_the_organization(client, world, kpis, member_of_role):
    client.force_login(member_of_role(Role.VIEWER))
    assert client.post(separator_url(), form(separator=",")).status_code == 403
    client.force_login(kpis["head"])
    assert client.post(separator_url(), form((kpis["REV"], "9", "", ""), separator=",")).status_code == 403
    with organization_scope(world.org_b):
        foreign = services.kpi_create(unit=world.unit_b, name="Sales", code="SAL", baseline=Decimal(0))
    assert client.post(separator_url(), form((foreign, "9", "", ""), separator=",")).status_code == 404
    assert client.post(separator_url("other"), form(separator=",")).status_code == 404
    kpis["head"].refresh_from_db()
    assert kpis["head"].decimal_separator == "."
    assert client.get(separator_url()).status_code == 405


def test_a_refused_save_all_keeps_what_was_saved_out_of_the_way(client, world, kpis):
    """Every row already had a value (the page said so in green): a refused save shows the error summary and
    the rows' messages, no green banner and no flash."""
    client.force_login(kpis["head"])
    with organization_scope(world.org_a):
        for code in ("NPS", "OTD", "SCR", "AUD"):
            period = date(2026, 1, 1) if code == "AUD" else MARCH
            services.measurement_record(kpi=kpis[code], period=period, value=Decimal(99), by=world.admin_a,
                                        schedule=False, comment="ok")  # fmt: skip
    assert "All 4 KPIs have a value for March 2026." in text(client.get(page_url()))
    response = client.post(page_url(), form((kpis["OTD"], "x", "ok", "1"), (kpis["SCR"], "y", "ok", "1")))
    assert response.status_code == 200
    assert error_summary(response) == [
        "Nothing was saved: fix these 2 values",
        "OTD On-time delivery: “x” is not a number.",
        "SCR Scrap rate: “y” is not a number.",
    ]
    assert shows_one_message(response)
    assert "All 4 KPIs have a value" not in text(response)
