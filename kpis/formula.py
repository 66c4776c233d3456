"""Formula KPIs: arithmetic over other KPIs' codes, read by our own small tokenizer and precedence-climbing
parser (never eval, exec or Python's ast), checked at save time and evaluated per period with Decimals.

Grammar (whitespace may separate any two tokens)::

    expression := unary (('+' | '-' | '*' | '/') unary)*     * and / bind tighter; all are left-associative
    unary      := ('+' | '-') unary | atom
    atom       := number | code | '(' expression ')'
    number     := digits ['.' [digits]] | '.' digits           12, 0.5, .5, 12.  (no exponents, no commas)
    code       := letter (letter | digit | '_' | '-' | '.')*   REV, SALES_EU, OPS-01, q.rate  (ASCII only)

Codes are matched exactly as written, case included. Because a code may contain '-' and '.', "A-B" is the
single code A-B: write "A - B" to subtract. Pure Python, no Django, so services and the recompute share it.
"""

from __future__ import annotations

import dataclasses
import string
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, DecimalException, DivisionByZero, InvalidOperation, Overflow
from decimal import localcontext as _localcontext

MAX_LENGTH = 500  # the KPI's formula column holds 500 characters
MAX_DEPTH = 50  # parentheses and signs nested inside one another

# Every evaluation runs in this context, whatever the calling thread's context says.
_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])

_DIGITS = frozenset(string.digits)
_LETTERS = frozenset(string.ascii_letters)
_CODE_CHARS = _LETTERS | _DIGITS | {"_", "-", "."}
_RUN_ON_CHARS = _LETTERS | _DIGITS | {"_", "."}  # what may not follow a number directly ("1.2.3", "2REV")
_OPERATORS = frozenset("+-*/()")
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_HINTS = {  # characters people paste from spreadsheets and documents
    "×": "use * to multiply",
    "÷": "use / to divide",
    "−": "use - to subtract",
    ",": "use '.' as the decimal separator",
    "^": "there is no power operator",
}


class FormulaError(ValueError):
    """A formula that cannot be used, with a message that names the problem and where it is."""


# --- The tree -------------------------------------------------------------------------------------------
# Each node remembers the span of source text it came from (for messages); spans take no part in equality,
# so "(1 + 2)" and "1+2" give equal trees.


@dataclass(frozen=True, slots=True)
class Number:
    value: Decimal
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Code:
    name: str
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "+" or "-"
    operand: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+", "-", "*" or "/"
    left: Node
    right: Node
    start: int = field(default=0, compare=False)
    end: int = field(default=0, compare=False)


Node = Number | Code | Unary | Binary


def _walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children, left to right."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack.extend((current.right, current.left))


@dataclass(frozen=True)
class Formula:
    """A parsed formula: the source text as given, its tree, and the KPI codes it refers to."""

    source: str
    tree: Node = field(repr=False)
    codes: frozenset[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        codes = frozenset(node.name for node in _walk(self.tree) if isinstance(node, Code))
        object.__setattr__(self, "codes", codes)

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Decimal | None:
        """The formula's value for one period, given each referenced code's value there.

        None when any referenced KPI has no value (no data wins over a division by zero); a FormulaError for
        a code missing from `values` or a divisor that is 0 in this period."""
        missing = sorted(code for code in self.codes if code not in values)
        if missing:
            raise FormulaError(_unknown_codes_message(missing))
        with _localcontext(_CONTEXT):
            try:
                return _evaluate(self.tree, values, self.source)
            except Overflow as error:  # not reachable with 500 characters and values that fit a KPI
                raise FormulaError("The formula's result is too large to compute in this period.") from error

    def text(self, node: Node) -> str:
        """The source text a node of this formula's tree came from, with its whitespace tidied."""
        return _snippet(self.source, node)


def _snippet(source: str, node: Node) -> str:
    return " ".join(source[node.start : node.end].split())


# --- Reading the text -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "code", "op" or "end"
    text: str
    position: int


def _show(char: str) -> str:
    if char == "'":
        return '"\'"'
    if not char.isprintable():
        return f"U+{ord(char):04X}"
    return f"'{char}'"


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position, length = 0, len(source)
    while position < length:
        char = source[position]
        start = position
        if char.isspace():
            position += 1
        elif char in _OPERATORS:
            tokens.append(_Token("op", char, start))
            position += 1
        elif char in _LETTERS:
            while position < length and source[position] in _CODE_CHARS:
                position += 1
            tokens.append(_Token("code", source[start:position], start))
        elif char in _DIGITS or char == ".":
            while position < length and source[position] in _DIGITS:
                position += 1
            if position < length and source[position] == ".":
                position += 1
                while position < length and source[position] in _DIGITS:
                    position += 1
            run_on = position
            while run_on < length and source[run_on] in _RUN_ON_CHARS:
                run_on += 1
            if run_on > position or source[start:position] == ".":
                raise FormulaError(f"'{source[start:run_on]}' at position {start} is neither a number nor a KPI code.")
            tokens.append(_Token("number", source[start:position], start))
        else:
            hint = _HINTS.get(char)
            raise FormulaError(f"Unknown character {_show(char)} at position {start}{f': {hint}' if hint else ''}.")
    tokens.append(_Token("end", "", length))
    return tokens


class _Parser:
    """Precedence climbing over the token list; recursion is bounded by MAX_DEPTH."""

    def __init__(self, source: str):
        self.tokens = _tokenize(source)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.expression(1, depth=0)
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        return node

    def unexpected(self, token: _Token) -> FormulaError:
        """What to say about a token that cannot follow a complete expression."""
        if token.kind in ("number", "code") or token.text == "(":
            return FormulaError(f"Missing an operator before '{token.text}' at position {token.position}.")
        return FormulaError(f"Unexpected '{token.text}' at position {token.position}.")

    def expression(self, min_precedence: int, *, depth: int) -> Node:
        left = self.unary(depth=depth)
        while True:
            token = self.peek()
            precedence = _PRECEDENCE.get(token.text, 0) if token.kind == "op" else 0
            if precedence < min_precedence:
                return left
            self.advance()
            right = self.expression(precedence + 1, depth=depth)  # + 1: left-associative
            left = Binary(token.text, left, right, left.start, right.end)

    def unary(self, *, depth: int) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text in "+-":
            self.check_depth(depth + 1, token)
            self.advance()
            operand = self.unary(depth=depth + 1)
            return Unary(token.text, operand, token.position, operand.end)
        return self.atom(depth=depth)

    def atom(self, *, depth: int) -> Node:
        token = self.advance()
        end = token.position + len(token.text)
        if token.kind == "number":
            return Number(Decimal(token.text), token.position, end)
        if token.kind == "code":
            return Code(token.text, token.position, end)
        if token.text == "(":
            self.check_depth(depth + 1, token)
            inner = self.expression(1, depth=depth + 1)
            closing = self.peek()
            if closing.text != ")":
                if closing.kind == "end":
                    raise FormulaError(f"Missing ')' to close the '(' at position {token.position}.")
                raise self.unexpected(closing)
            self.advance()
            return dataclasses.replace(inner, start=token.position, end=closing.position + 1)
        if token.kind == "end":
            previous = self.tokens[self.index - 2]  # the formula is not empty, so there is one
            raise FormulaError(
                f"A number or KPI code is missing after '{previous.text}' at position {previous.position}."
            )
        raise FormulaError(f"Unexpected '{token.text}' at position {token.position}.")

    def check_depth(self, depth: int, token: _Token) -> None:
        if depth > MAX_DEPTH:
            raise FormulaError(
                f"The formula is nested too deeply at position {token.position}: "
                f"at most {MAX_DEPTH} levels of parentheses and signs."
            )


def parse(expression: str) -> Formula:
    """Read a formula, or raise FormulaError saying what is wrong and where (positions count from 0)."""
    if not expression or expression.isspace():
        raise FormulaError("The formula is empty.")
    if len(expression) > MAX_LENGTH:
        raise FormulaError(f"The formula is too long: {len(expression)} characters, at most {MAX_LENGTH} are allowed.")
    return Formula(expression, _Parser(expression).parse())


# --- Evaluating -----------------------------------------------------------------------------------------


def _evaluate(node: Node, values: Mapping[str, Decimal | None], source: str) -> Decimal | None:
    # Recursion is bounded: a tree is never deeper than its 500 characters allow.
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Code):
        value = values[node.name]
        return value if value is None or isinstance(value, Decimal) else Decimal(str(value))
    if isinstance(node, Unary):
        operand = _evaluate(node.operand, values, source)
        return operand if operand is None or node.op == "+" else -operand
    left = _evaluate(node.left, values, source)
    right = _evaluate(node.right, values, source)
    if left is None or right is None:
        return None
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        raise FormulaError(f"Division by zero: '{_snippet(source, node.right)}' is 0 in this period.")
    return left / right


# --- Checks at save time --------------------------------------------------------------------------------


def _quoted(codes: Iterable[str]) -> str:
    return ", ".join(f"'{code}'" for code in codes)


def _unknown_codes_message(unknown: list[str]) -> str:
    return f"Unknown KPI code{'s' if len(unknown) > 1 else ''} {_quoted(unknown)}."


def check_codes(formula: Formula, known_codes: Collection[str], *, own_code: str) -> None:
    """Refuse a formula that names its own KPI or codes that are not KPIs of the organization."""
    if own_code in formula.codes:
        raise FormulaError(f"The formula refers to its own KPI '{own_code}'.")
    known = set(known_codes)
    unknown = sorted(formula.codes - known)
    if not unknown:
        return
    message = _unknown_codes_message(unknown)
    folded = {code.casefold(): code for code in sorted(known, reverse=True)}
    suggestions = sorted({folded[code.casefold()] for code in unknown if code.casefold() in folded})
    if suggestions:
        message += f" Codes are matched exactly, case included: did you mean {_quoted(suggestions)}?"
    raise FormulaError(message)


def _constant_value(node: Node) -> Decimal | None:
    """The value of a sub-expression made only of numbers; None if it names a KPI or cannot be computed."""
    if any(isinstance(part, Code) for part in _walk(node)):
        return None
    with _localcontext(_CONTEXT):
        try:
            return _evaluate(node, {}, "")
        except (FormulaError, DecimalException):
            return None  # a division by zero inside it is reported on its own


def _always_zero(node: Node) -> bool:
    """Whether a sub-expression is 0 whatever the KPIs' values: a constant 0, or a product with such a factor."""
    if isinstance(node, Code):
        return False
    if not any(isinstance(part, Code) for part in _walk(node)):
        return _constant_value(node) == 0
    if isinstance(node, Unary):
        return _always_zero(node.operand)
    if node.op == "*":
        return _always_zero(node.left) or _always_zero(node.right)
    if node.op == "/":
        return _always_zero(node.left)
    return _always_zero(node.left) and _always_zero(node.right)


def check_constant_division(formula: Formula) -> None:
    """Refuse a division whose divisor is 0 whatever the data, e.g. "REV / 0" or "REV / (2 - 2)"."""
    for node in _walk(formula.tree):
        if isinstance(node, Binary) and node.op == "/" and _always_zero(node.right):
            raise FormulaError(f"Division by zero: '{formula.text(node.right)}' is always 0.")


# --- The graph of formula KPIs --------------------------------------------------------------------------
# graph: each formula KPI's code → the codes its formula refers to. Codes that are not keys (manual and
# roll-up KPIs) refer to nothing. Everything is iterated in sorted order, so answers are repeatable.


def _edges(graph: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    return {code: sorted(set(refs)) for code, refs in graph.items()}


def _cycle_through(edges: Mapping[str, list[str]], code: str) -> list[str] | None:
    """The shortest cycle that passes through code, starting and ending with it, or None."""
    parents: dict[str, str] = {}
    queue = deque([code])
    while queue:
        node = queue.popleft()
        for ref in edges.get(node, ()):
            if ref == code:
                back = [node]
                while back[-1] != code:
                    back.append(parents[back[-1]])
                return [*reversed(back), code]
            if ref not in parents:
                parents[ref] = node
                queue.append(ref)
    return None


def check_no_cycle(graph: Mapping[str, Iterable[str]], *, code: str, new_codes: Iterable[str]) -> None:
    """Refuse code's new references when they would lead back to code (cycles elsewhere are not ours)."""
    edges = _edges(graph)
    edges[code] = sorted(set(new_codes))
    cycle = _cycle_through(edges, code)
    if cycle:
        raise FormulaError(f"The formula would create a cycle: {' → '.join(cycle)}.")
