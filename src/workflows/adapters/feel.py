"""FEEL, as dmn-js and the Camunda Modeler write a decision table's cells, translated to the sandbox's Python.

SpiffWorkflow evaluates every cell as Python. A FEEL entry that is also valid Python means something else there and
silently never matches: `"210400","210401"` (a FEEL list: either value) is a Python tuple, never equal to the input;
`not("门诊")` is False. So an input entry is read as FEEL simple unary tests first (DMN 1.3 §9.2: `-`, a list of
literals, comparisons and intervals, `not(...)` of such a list) and handed to the engine as the equivalent test on
`?`; an entry that is not FEEL unary tests stays Python (`? in (...)`, `not ?`, `0 <= ? <= 1000`), as before.
Endpoints are literals (strings, numbers, true, false, null): a bare word is no FEEL literal here, so wording typed
without quotes is still refused at publish. Expressions (input columns, output entries) that are not valid Python
are read as simple FEEL expressions: `true`/`false`/`null`, `=` for equality, and otherwise Python's operators.
"""
from __future__ import annotations

import re

_STRING = r'"(?:[^"\\]|\\.)*"'
_NUMBER = r"-?\d+(?:\.\d+)?"
_ENDPOINT = re.compile(rf"\s*({_STRING}|{_NUMBER}|true|false|null)\s*")
_COMPARISON = re.compile(rf"\s*(<=|>=|<|>)\s*({_STRING}|{_NUMBER})\s*")
_INTERVAL = re.compile(rf"\s*([\[\]\(])\s*({_NUMBER}|{_STRING})\s*\.\.\s*({_NUMBER}|{_STRING})\s*([\[\]\)])\s*")
_NEGATION = re.compile(r"\s*not\s*\((.*)\)\s*", re.S)
_LITERALS = {"true": "True", "false": "False", "null": "None"}
# Outside string literals: a FEEL word for a Python literal, or a lone `=` (FEEL's equality)
_FEEL_TOKENS = re.compile(rf'({_STRING})|\b(true|false|null)\b|(?<![<>!=])=(?!=)')


def unary_tests(entry: str) -> str | None:
    """The Python test on `?` of an input entry written as FEEL simple unary tests, or None when it is not one (then
    it is Python). `-` and an empty entry are not tests at all: the caller lets any value through."""
    negated = _NEGATION.fullmatch(entry)
    tests = _positive_tests(negated.group(1) if negated else entry)
    if tests is None:
        return None
    either = " or ".join(f"({test})" for test in tests) if len(tests) > 1 else tests[0]
    return f"not ({either})" if negated else either


def _positive_tests(text: str) -> list[str] | None:
    tests = []
    for part in _split_list(text):
        if endpoint := _ENDPOINT.fullmatch(part):
            tests.append(f"? == {_python_literal(endpoint.group(1))}")
        elif comparison := _COMPARISON.fullmatch(part):
            tests.append(f"? {comparison.group(1)} {comparison.group(2)}")
        elif interval := _INTERVAL.fullmatch(part):
            start, low, high, end = interval.groups()
            tests.append(f"{low} {'<' if start in '](' else '<='} ? {'<' if end in '[)' else '<='} {high}")
        else:
            return None
    return tests or None


def _split_list(text: str) -> list[str]:
    """The items of a comma-separated list, commas inside string literals and brackets kept."""
    items, depth, start, quoted = [], 0, 0, False
    for index, char in enumerate(text):
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in "])":
            depth -= 1
        elif not quoted and char == "," and depth <= 0:
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    return [item for item in items if item.strip()] if len(items) > 1 else items


def _python_literal(literal: str) -> str:
    return _LITERALS.get(literal, literal)


def expression(text: str) -> str:
    """A simple FEEL expression as Python: FEEL's literal words and its `=` replaced, string literals kept."""
    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(1)
        return _LITERALS[match.group(2)] if match.group(2) else "=="

    return _FEEL_TOKENS.sub(replace, text)
