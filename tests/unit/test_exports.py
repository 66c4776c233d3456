"""The cell rules of the scorecard export (kpis.exports): formula-like text and worksheet titles."""

import pytest

from kpis.exports import formula_neutralised, formula_restored, sheet_title


@pytest.mark.parametrize(
    ("text", "written"),
    [("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2 on last month", "'-2 on last month"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("'=quoted", "''=quoted"), ("'plain", "'plain"), ("Plain = fine", "Plain = fine"),
     ("", "")],
)  # fmt: skip
def test_text_that_starts_like_a_formula_is_neutralised_and_restored_exactly(text, written):
    assert formula_neutralised(text) == written
    assert formula_restored(written) == text


def test_sheet_titles_are_unique_ignoring_case_and_stay_within_31_characters():
    long = "Production and logistics, Europe"  # 32 characters
    assert sheet_title(long) == "Production and logistics, Europ"
    assert sheet_title(long, taken={"PRODUCTION AND LOGISTICS, EUROP"}) == "Production and logistics, E (2)"
    assert sheet_title("Ops", taken={"ops", "Ops (2)"}) == "Ops (3)"
    assert sheet_title("[]:*?/\\") == "-------"
    assert sheet_title("''") == "Scorecard"
