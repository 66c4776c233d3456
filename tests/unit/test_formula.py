"""Formula KPIs (kpis.formula): the grammar we accept, the Decimal arithmetic, and every message a user
sees when a formula is refused at save time or cannot be computed for a period."""

import dataclasses
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kpis.formula import (
    MAX_DEPTH,
    MAX_LENGTH,
    Binary,
    FormulaError,
    Number,
    Unary,
    check_codes,
    check_constant_division,
    check_no_cycle,
    parse,
)


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(FormulaError) as error:
        call(*args, **kwargs)
    return str(error.value)


# --- Grammar and arithmetic -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1-2-3", "-4"),
        ("2*3+4", "10"),
        ("2+3*4", "14"),
        ("8/4/2", "1"),
        ("-(2+3)*2", "-10"),
        ("--2", "2"),
        ("+2", "2"),
        ("-+-2", "2"),
        ("2*-3", "-6"),
        ("2 - -3", "5"),
        ("(1 + 2) * 3", "9"),
        ("1 - (2 - 3)", "2"),
        ("12.5 + .5 + 1.", "14"),
        ("  7\t*\n6 ", "42"),
    ],
)
def test_it_follows_precedence_and_left_associativity(expression, expected):
    assert parse(expression).evaluate({}) == Decimal(expected)


def test_it_builds_the_same_tree_as_the_explicitly_parenthesised_formula():
    assert parse("2+3*4").tree == parse("2+(3*4)").tree
    assert parse("1-2-3").tree == parse("(1-2)-3").tree
    assert parse("1-2-3").tree != parse("1-(2-3)").tree
    assert parse("8/4/2").tree == Binary("/", Binary("/", Number(Decimal(8)), Number(Decimal(4))), Number(Decimal(2)))
    assert parse("-2*3").tree == Binary("*", Unary("-", Number(Decimal(2))), Number(Decimal(3)))


def test_it_lists_the_kpi_codes_a_formula_refers_to():
    formula = parse("(REV - COST) / REV + SALES_EU * OPS-01 - q.rate")
    assert formula.codes == frozenset({"REV", "COST", "SALES_EU", "OPS-01", "q.rate"})
    assert parse("12 * 3").codes == frozenset()


def test_codes_are_kept_exactly_as_written_case_included():
    assert parse("rev + REV").codes == frozenset({"rev", "REV"})


def test_a_hyphen_between_letters_is_part_of_the_code_so_subtraction_needs_spaces():
    assert parse("A-B").codes == frozenset({"A-B"})
    assert parse("A - B").codes == frozenset({"A", "B"})
    assert parse("A -B").codes == frozenset({"A", "B"})


def test_a_parsed_formula_is_immutable_and_keeps_its_source():
    formula = parse("REV / COST")
    assert formula.source == "REV / COST"
    with pytest.raises(dataclasses.FrozenInstanceError):
        formula.source = "1"  # type: ignore[misc]


# --- Evaluation -----------------------------------------------------------------------------------------


def test_it_evaluates_with_exact_decimals():
    assert parse("REV / COST").evaluate({"REV": Decimal(150), "COST": Decimal(120)}) == Decimal("1.25")
    assert parse("A + B").evaluate({"A": Decimal("0.1"), "B": Decimal("0.2")}) == Decimal("0.3")
    margin = parse("(REV - COST) / REV * 100")
    assert margin.evaluate({"REV": Decimal("200"), "COST": Decimal("150")}) == Decimal(25)


def test_values_given_as_integers_are_accepted():
    assert parse("A * 2").evaluate({"A": 21}) == Decimal(42)


def test_it_computes_to_28_significant_digits_whatever_the_callers_decimal_context():
    with localcontext() as context:
        context.prec = 3
        assert parse("1 / 3").evaluate({}) == Decimal("0.3333333333333333333333333333")


@pytest.mark.parametrize("expression", ["REV / COST", "REV * 0", "-REV", "(REV) + 1", "COST + 2 * REV"])
def test_a_kpi_without_a_value_gives_no_value(expression):
    assert parse(expression).evaluate({"REV": None, "COST": Decimal(4)}) is None


def test_no_data_wins_over_a_division_by_zero():
    assert parse("REV / COST").evaluate({"REV": None, "COST": Decimal(0)}) is None


def test_a_divisor_that_is_zero_in_a_period_is_named_in_the_error():
    values = {"REV": Decimal(10), "COST": Decimal(5), "FIXED": Decimal("5.00")}
    assert error_of(parse("REV / COST").evaluate, {**values, "COST": Decimal(0)}) == (
        "Division by zero: 'COST' is 0 in this period."
    )
    assert error_of(parse("REV / (COST - FIXED)").evaluate, values) == (
        "Division by zero: '(COST - FIXED)' is 0 in this period."
    )
    assert error_of(parse("REV / (COST -\n   FIXED)").evaluate, values) == (
        "Division by zero: '(COST - FIXED)' is 0 in this period."
    )


def test_evaluating_without_a_value_for_a_code_names_the_code_instead_of_a_key_error():
    assert error_of(parse("REV / COST").evaluate, {"REV": Decimal(1)}) == "Unknown KPI code 'COST'."
    assert error_of(parse("REV / COST + B").evaluate, {}) == "Unknown KPI codes 'B', 'COST', 'REV'."


# --- Errors while reading the formula -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "The formula is empty."),
        (" \t\n ", "The formula is empty."),
        ("(1 + 2))", "Unexpected ')' at position 7."),
        ("REV $ 2", "Unknown character '$' at position 4."),
        ("(1 + 2", "Missing ')' to close the '(' at position 0."),
        ("REV / (COST - (A + B)", "Missing ')' to close the '(' at position 6."),
        ("()", "Unexpected ')' at position 1."),
        ("* 2", "Unexpected '*' at position 0."),
        ("2 ** 8", "Unexpected '*' at position 3."),
        ("REV +", "A number or KPI code is missing after '+' at position 4."),
        ("(", "A number or KPI code is missing after '(' at position 0."),
        ("REV COST", "Missing an operator before 'COST' at position 4."),
        ("2 (3)", "Missing an operator before '(' at position 2."),
        ("(1 2)", "Missing an operator before '2' at position 3."),
        ("1.2.3", "'1.2.3' at position 0 is neither a number nor a KPI code."),
        ("2REV", "'2REV' at position 0 is neither a number nor a KPI code."),
        ("1e5", "'1e5' at position 0 is neither a number nor a KPI code."),
        ("REV + .", "'.' at position 6 is neither a number nor a KPI code."),
        ("_REV", "Unknown character '_' at position 0."),
        ("REV'", 'Unknown character "\'" at position 3.'),
        ("REV\x00", "Unknown character U+0000 at position 3."),
        ("CHIFFRE_É", "Unknown character 'É' at position 8."),
        ("2 × 3", "Unknown character '×' at position 2: use * to multiply."),
        ("6 ÷ 3", "Unknown character '÷' at position 2: use / to divide."),
        ("6 − 3", "Unknown character '−' at position 2: use - to subtract."),
        ("1,5 * REV", "Unknown character ',' at position 1: use '.' as the decimal separator."),
        ("REV ^ 2", "Unknown character '^' at position 4: there is no power operator."),
    ],
)
def test_a_formula_that_cannot_be_read_gets_a_message_naming_the_problem_and_position(expression, message):
    assert error_of(parse, expression) == message


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "Unknown character '_' at position 0."),
        ("REV; DROP TABLE kpis", "Unknown character ';' at position 3."),
        ("os.system('rm -rf /')", 'Unknown character "\'" at position 10.'),
        ("os.system(REV)", "Missing an operator before '(' at position 9."),
        ("lambda: 0", "Unknown character ':' at position 6."),
        ("1 if REV else 2", "Missing an operator before 'if' at position 2."),
        ("[c for c in ()]", "Unknown character '[' at position 0."),
        ("REV\nimport os", "Missing an operator before 'import' at position 4."),
        ("9**9**9**9", "Unexpected '*' at position 2."),
        ('"REV"', "Unknown character '\"' at position 0."),
    ],
)
def test_code_injection_is_refused_with_a_message(expression, message):
    assert error_of(parse, expression) == message


def test_a_dotted_name_is_only_ever_a_kpi_code_to_look_up():
    formula = parse("REV.__class__")
    assert formula.codes == frozenset({"REV.__class__"})
    assert error_of(check_codes, formula, {"REV"}, own_code="X") == "Unknown KPI code 'REV.__class__'."


def test_formulas_up_to_the_length_limit_are_accepted_and_longer_ones_refused():
    longest = "+".join(["1"] * (MAX_LENGTH // 2)) + " "
    assert len(longest) == MAX_LENGTH
    assert parse(longest).evaluate({}) == Decimal(MAX_LENGTH // 2)
    assert error_of(parse, longest + "1") == "The formula is too long: 501 characters, at most 500 are allowed."


def test_nesting_up_to_the_depth_limit_is_accepted_and_deeper_refused():
    assert parse("(" * MAX_DEPTH + "REV" + ")" * MAX_DEPTH).codes == frozenset({"REV"})
    assert parse("-" * MAX_DEPTH + "2").evaluate({}) == Decimal(2)
    assert parse("-" * 25 + "(" * 25 + "2" + ")" * 25).evaluate({}) == Decimal(-2)
    too_deep = "The formula is nested too deeply at position 50: at most 50 levels of parentheses and signs."
    assert error_of(parse, "(" * (MAX_DEPTH + 1) + "REV" + ")" * (MAX_DEPTH + 1)) == too_deep
    assert error_of(parse, "-" * (MAX_DEPTH + 1) + "2") == too_deep
    assert error_of(parse, "-" * 25 + "(" * 26 + "2" + ")" * 26) == too_deep


# --- Checks at save time --------------------------------------------------------------------------------


def test_a_formula_referring_to_its_own_kpi_is_refused():
    assert error_of(check_codes, parse("RATIO * 2"), {"REV", "RATIO"}, own_code="RATIO") == (
        "The formula refers to its own KPI 'RATIO'."
    )


def test_unknown_codes_are_all_listed_in_sorted_order():
    known = {"REV", "COST"}
    assert error_of(check_codes, parse("REV / NOPE"), known, own_code="X") == "Unknown KPI code 'NOPE'."
    assert error_of(check_codes, parse("ZED + REV / ABC + ZED"), known, own_code="X") == (
        "Unknown KPI codes 'ABC', 'ZED'."
    )


def test_a_code_in_the_wrong_case_is_refused_with_a_suggestion():
    assert error_of(check_codes, parse("rev / COST"), {"REV", "COST"}, own_code="X") == (
        "Unknown KPI code 'rev'. Codes are matched exactly, case included: did you mean 'REV'?"
    )


def test_a_formula_over_known_codes_passes_the_code_check():
    check_codes(parse("REV / COST"), {"REV", "COST", "OTHER"}, own_code="RATIO")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("REV / 0", "Division by zero: '0' is always 0."),
        ("REV / 0.00", "Division by zero: '0.00' is always 0."),
        ("REV / -0", "Division by zero: '-0' is always 0."),
        ("REV / (2 - 2)", "Division by zero: '(2 - 2)' is always 0."),
        ("REV / (2 * (1 - 0.5) - 1)", "Division by zero: '(2 * (1 - 0.5) - 1)' is always 0."),
        ("REV / (0 * COST)", "Division by zero: '(0 * COST)' is always 0."),
        ("REV / (1 / 0)", "Division by zero: '0' is always 0."),
        ("(REV + 1 / (3 - 3)) / COST", "Division by zero: '(3 - 3)' is always 0."),
    ],
)
def test_a_division_by_a_constant_zero_is_refused_at_save_time(expression, message):
    assert error_of(check_constant_division, parse(expression)) == message


@pytest.mark.parametrize("expression", ["REV / COST", "REV / (COST - FIXED)", "0 / REV", "REV / 0.5", "REV / (1 - 2)"])
def test_a_division_that_may_be_nonzero_is_accepted_at_save_time(expression):
    check_constant_division(parse(expression))


# --- Cycles ------------------------------------------------------------------------------------------


def test_a_formula_that_would_close_a_cycle_is_refused_with_the_cycle():
    assert error_of(check_no_cycle, {}, code="A", new_codes={"A"}) == "The formula would create a cycle: A → A."
    assert error_of(check_no_cycle, {"B": ["A"]}, code="A", new_codes={"B"}) == (
        "The formula would create a cycle: A → B → A."
    )
    assert error_of(check_no_cycle, {"B": ["C"], "C": ["A", "REV"]}, code="A", new_codes={"REV", "B"}) == (
        "The formula would create a cycle: A → B → C → A."
    )


def test_a_new_formula_replaces_the_kpis_old_references():
    graph = {"A": ["B"], "B": ["C"], "C": []}
    check_no_cycle(graph, code="C", new_codes={"REV"})
    check_no_cycle({"A": ["C"], "C": ["A"]}, code="A", new_codes={"REV"})  # A's edit removes the loop


def test_a_cycle_elsewhere_is_not_blamed_on_this_formula():
    check_no_cycle({"X": ["Y"], "Y": ["X"]}, code="A", new_codes={"REV"})


def test_a_cycle_at_the_end_of_a_long_chain_is_found():  # chains of formula KPIs may be long: no recursion
    chain = {f"K{i}": [f"K{i + 1}"] for i in range(5000)}
    check_no_cycle(chain, code="K5000", new_codes={"REV"})
    assert error_of(check_no_cycle, chain, code="K5000", new_codes={"K0"}).startswith(
        "The formula would create a cycle: K5000 → K0 → K1 → "
    )


# --- Properties -----------------------------------------------------------------------------------------
# A random tree over small integers is rendered with only the parentheses that precedence and left
# associativity require; the parser must rebuild exactly that tree and compute exactly its Fraction value.

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _fraction(tree) -> Fraction | None:
    if isinstance(tree, int):
        return Fraction(tree)
    if len(tree) == 2:
        value = _fraction(tree[1])
        return None if value is None else (-value if tree[0] == "-" else value)
    op, left, right = tree
    a, b = _fraction(left), _fraction(right)
    if a is None or b is None or (op == "/" and b == 0):
        return None
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]


def _terminates(value: Fraction) -> bool:
    """Whether the value has a finite decimal expansion of at most 28 significant digits."""
    denominator, tens = value.denominator, 0
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
            tens += 1
    if denominator != 1:
        return False
    digits = str(abs(value.numerator * 10**tens // value.denominator)).rstrip("0")
    return len(digits) <= 28


def _exact_divisions(tree):
    """The tree with each division whose result would not be an exact decimal turned into a product."""
    if isinstance(tree, int):
        return tree
    if len(tree) == 2:
        return (tree[0], _exact_divisions(tree[1]))
    op, left, right = tree[0], _exact_divisions(tree[1]), _exact_divisions(tree[2])
    if op == "/":
        divisor = _fraction(right)
        if divisor is None or divisor == 0 or not _terminates(Fraction(1) / divisor):
            op = "*"
    return (op, left, right)


def _nodes(tree):
    yield tree
    if isinstance(tree, tuple):
        for child in tree[1:]:
            yield from _nodes(child)


def _precedence(tree) -> int:
    return _PRECEDENCE[tree[0]] if isinstance(tree, tuple) and len(tree) == 3 else 3


def _render(tree, spaced: bool) -> str:
    if isinstance(tree, int):
        return str(tree)
    if len(tree) == 2:
        operand = _render(tree[1], spaced)
        return tree[0] + (f"({operand})" if _precedence(tree[1]) < 3 else operand)
    op, left, right = tree
    left_text, right_text = _render(left, spaced), _render(right, spaced)
    if _precedence(left) < _PRECEDENCE[op]:
        left_text = f"({left_text})"
    if _precedence(right) <= _PRECEDENCE[op]:
        right_text = f"({right_text})"
    gap = " " if spaced else ""
    return f"{left_text}{gap}{op}{gap}{right_text}"


def _node(tree):
    if isinstance(tree, int):
        return Number(Decimal(tree))
    if len(tree) == 2:
        return Unary(tree[0], _node(tree[1]))
    return Binary(tree[0], _node(tree[1]), _node(tree[2]))


def _depth(tree) -> int:
    return 0 if isinstance(tree, int) else 1 + max(_depth(child) for child in tree[1:])


_trees = st.recursive(
    st.integers(min_value=0, max_value=9),
    lambda children: st.one_of(
        st.tuples(st.sampled_from("+-"), children),
        st.tuples(st.sampled_from("+-*/"), children, children),
    ),
    max_leaves=12,
).map(_exact_divisions)


@given(tree=_trees, spaced=st.booleans())
def test_random_arithmetic_gives_the_same_tree_and_value_as_fraction_arithmetic(tree, spaced):
    assume(_depth(tree) <= 40)
    assume(all(_terminates(v) for v in map(_fraction, _nodes(tree)) if v is not None))
    text = _render(tree, spaced)
    formula = parse(text)
    assert formula.tree == _node(tree), text
    assert Fraction(formula.evaluate({})) == _fraction(tree), text


@given(st.text(alphabet="0123456789.+-*/() \tAbz_$'", max_size=60) | st.text(max_size=60))
def test_any_text_is_either_a_formula_or_a_formula_error(text):
    try:
        formula = parse(text)
    except FormulaError as error:
        assert str(error)
        return
    try:
        result = formula.evaluate(dict.fromkeys(formula.codes, Decimal(1)))
    except FormulaError as error:
        assert str(error).startswith("Division by zero: ")
        return
    assert isinstance(result, Decimal)
