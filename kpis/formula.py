"""Formula KPIs: arithmetic over other KPIs' codes, parsed by our own small parser (never eval).

Grammar: expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*; unary := ('+'|'-') unary | atom;
atom := number | code | '(' expr ')'. Codes start with a letter, then letters, digits, '_', '-' or '.';
they are matched exactly as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation

MAX_LENGTH = 500
MAX_DEPTH = 50
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<code>[A-Za-z][A-Za-z0-9_.\-]*)|(?P<op>[-+*/()]))")


class FormulaError(ValueError):
    """A formula that cannot be used, with a message naming the problem."""


@dataclass(frozen=True)
class Node:
    kind: str  # "num", "code", "neg", "+", "-", "*", "/"
    value: object = None
    left: Node | None = None
    right: Node | None = None

    def text(self) -> str:
        if self.kind == "num":
            return str(self.value)
        if self.kind == "code":
            return str(self.value)
        if self.kind == "neg":
            return f"-{self.left.text()}"
        return f"({self.left.text()} {self.kind} {self.right.text()})"


def _tokens(source: str) -> list[tuple[str, str, int]]:
    tokens, position = [], 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if not match:
            start = len(source) - len(source[position:].lstrip())
            raise FormulaError(f"Unknown character '{source[start]}' at position {start}.")
        kind = match.lastgroup
        start = match.start(kind)
        tokens.append((kind, match.group(kind), start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, source: str):
        self.tokens = _tokens(source)
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.expr(0)
        token = self.peek()
        if token is not None:
            raise FormulaError(f"Unexpected '{token[1]}' at position {token[2]}.")
        return node

    def expr(self, depth: int) -> Node:
        node = self.term(depth)
        while (token := self.peek()) and token[1] in "+-" and token[0] == "op":
            self.take()
            node = Node(token[1], left=node, right=self.term(depth))
        return node

    def term(self, depth: int) -> Node:
        node = self.unary(depth)
        while (token := self.peek()) and token[1] in "*/" and token[0] == "op":
            self.take()
            node = Node(token[1], left=node, right=self.unary(depth))
        return node

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FormulaError(f"The formula is nested more than {MAX_DEPTH} levels deep.")
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in "+-":
            self.take()
            operand = self.unary(depth + 1)
            return Node("neg", left=operand) if token[1] == "-" else operand
        return self.atom(depth)

    def atom(self, depth: int) -> Node:
        token = self.take()
        if token is None:
            raise FormulaError("The formula ends too early: a number or KPI code is missing at the end.")
        kind, text, position = token
        if kind == "number":
            return Node("num", Decimal(text))
        if kind == "code":
            return Node("code", text)
        if text == "(":
            node = self.expr(depth + 1)
            closing = self.take()
            if closing is None or closing[1] != ")":
                raise FormulaError(f"Missing ')' to close the '(' at position {position}.")
            return node
        raise FormulaError(f"Unexpected '{text}' at position {position}.")


def _codes(node: Node | None) -> set[str]:
    if node is None:
        return set()
    if node.kind == "code":
        return {node.value}
    return _codes(node.left) | _codes(node.right)


@dataclass(frozen=True)
class Formula:
    source: str
    tree: Node

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(_codes(self.tree))

    def evaluate(self, values: Mapping[str, Decimal | None]) -> Decimal | None:
        """The value for one period; None when a KPI it names has no value."""
        return _evaluate(self.tree, values)


def _evaluate(node: Node, values) -> Decimal | None:
    if node.kind == "num":
        return node.value
    if node.kind == "code":
        if node.value not in values:
            raise FormulaError(f"Unknown KPI code '{node.value}'.")
        value = values[node.value]
        return None if value is None else Decimal(value)
    left = _evaluate(node.left, values)
    if node.kind == "neg":
        return None if left is None else -left
    right = _evaluate(node.right, values)
    if left is None or right is None:
        return None
    if node.kind == "+":
        return left + right
    if node.kind == "-":
        return left - right
    if node.kind == "*":
        return left * right
    if right == 0:
        raise FormulaError(f"Division by zero: '{node.right.text()}' is 0 in this period.")
    try:
        return left / right
    except (DivisionByZero, InvalidOperation) as error:  # pragma: no cover - guarded above
        raise FormulaError(f"Division by zero: '{node.right.text()}' is 0 in this period.") from error


def parse(expression: str) -> Formula:
    source = (expression or "").strip()
    if not source:
        raise FormulaError("The formula is empty.")
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"The formula is longer than {MAX_LENGTH} characters.")
    return Formula(source, _Parser(source).parse())


def check_codes(formula: Formula, known_codes: set[str], *, own_code: str) -> None:
    if own_code in formula.codes:
        raise FormulaError(f"The formula refers to its own KPI '{own_code}'.")
    unknown = sorted(formula.codes - set(known_codes))
    if unknown:
        names = ", ".join(f"'{code}'" for code in unknown)
        raise FormulaError(f"Unknown KPI code{'s' if len(unknown) > 1 else ''} {names}.")


def _constant(node: Node) -> Decimal | None:
    """The value of a sub-expression made only of numbers, else None."""
    if node.kind == "num":
        return node.value
    if node.kind == "code":
        return None
    left = _constant(node.left)
    if node.kind == "neg":
        return None if left is None else -left
    right = _constant(node.right)
    if left is None or right is None or (node.kind == "/" and right == 0):
        return None
    return {"+": left + right, "-": left - right, "*": left * right, "/": left / right if right else None}[node.kind]


def check_constant_division(formula: Formula) -> None:
    def walk(node: Node | None):
        if node is None:
            return
        if node.kind == "/" and _constant(node.right) == 0:
            raise FormulaError(f"Division by zero: '{node.right.text()}' is always 0.")
        walk(node.left)
        walk(node.right)

    walk(formula.tree)


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle of the reference graph (code → codes it refers to) as [A, B, ..., A], or None."""
    edges = {code: list(refs) for code, refs in graph.items()}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(code: str) -> list[str] | None:
        state[code] = 1
        path.append(code)
        for ref in edges.get(code, []):
            if state.get(ref) == 1:
                return path[path.index(ref) :] + [ref]
            if state.get(ref) is None:
                found = visit(ref)
                if found:
                    return found
        path.pop()
        state[code] = 2
        return None

    for code in sorted(edges):
        if state.get(code) is None:
            found = visit(code)
            if found:
                return found
    return None


def check_no_cycle(graph: Mapping[str, Iterable[str]], *, code: str, new_codes: Iterable[str]) -> None:
    candidate = {**{k: list(v) for k, v in graph.items()}, code: list(new_codes)}
    cycle = find_cycle(candidate)
    if cycle:
        raise FormulaError(f"The formula would create a cycle: {' → '.join(cycle)}.")


def topological_order(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Formula KPIs in an order where each comes after the formula KPIs it refers to."""
    cycle = find_cycle(graph)
    if cycle:
        raise FormulaError(f"The formulas form a cycle: {' → '.join(cycle)}.")
    order: list[str] = []
    seen: set[str] = set()

    def visit(code: str):
        if code in seen:
            return
        seen.add(code)
        for ref in graph.get(code, []):
            if ref in graph:
                visit(ref)
        order.append(code)

    for code in sorted(graph):
        visit(code)
    return order
