"""JUEL, as Camunda users write expressions (`${amount > 1000}`, `#{empty reviewer}`), translated to the sandbox's
Python when a diagram is deployed.

SpiffWorkflow evaluates every condition, timer and attribute as Python, and `${…}` is no Python: it was refused as
a syntax error at its first column, without saying that the engine takes Python. A diagram drawn in the Camunda
Modeler writes its expressions in JUEL, so a text that is wholly one `${…}` or `#{…}` is read here as a safe subset
of the Unified Expression Language and handed to the engine as the equivalent Python expression, which the sandbox
(scripting.py) then checks and runs as any other; a text that is not JUEL stays Python, as before.

The subset: literals (strings in either quotes, numbers, true, false, null), variables, property and index access
(`a.b`, `a['b']`, `a[0]`: case data are mappings, so `a.b` reads the key "b"), `execution.getVariable('x')`,
comparisons (`== != < > <= >=` and `eq ne lt gt le ge`), `&& || !` and `and or not`, `empty x`, arithmetic
(`+ - * / div % mod`, unary minus) and the ternary `a ? b : c`. Everything else (method and function calls,
`instanceof`, lambdas, assignments) is refused at deploy, in Chinese, naming the part that fails and its column,
so a designer knows what to rewrite.

Text mixed with expressions (EL's composite expressions, `clerk_${hall}` or `Case ${caseNo} of ${applicant}`) is
a template where the attribute is a text (an assignee, candidate users or groups, a date): `template_to_python`
joins its texts and the text of each expression (null as nothing, as EL does). Where a value must be one
expression (a condition, a timer), mixed text stays refused.
"""
from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

_WRAPPED = re.compile(r"\s*[$#]\{(.*)\}\s*", re.S)
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|&&|\|\||->|[-+*/%<>!?:.,()\[\]=;{}\#$])
  | (?P<word>[^\W\d]\w*)
""", re.X)
_WORD_OPS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
             "ge": ">=", "div": "/", "mod": "%"}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
_COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")
_UNSUPPORTED_OPS = {"=": "赋值", ";": "分号连接的多个表达式", "->": "lambda 表达式", "{": "集合或映射构造",
                    "}": "集合或映射构造", "#": "嵌套表达式", "$": "嵌套表达式", ",": "逗号"}


class JuelError(ValueError):
    """A JUEL expression outside the subset, or not JUEL at all; the message names the part and its column."""


@dataclass(frozen=True)
class _Token:
    kind: str  # number | string | op | word | end
    text: str
    column: int  # 1-based, in the text as written (with its ${)


def is_juel(text: str | None) -> bool:
    """Whether `text` is one JUEL expression, `${…}` or `#{…}` around the whole of it."""
    return bool(text) and _WRAPPED.fullmatch(text) is not None


def mixes_juel(text: str | None) -> bool:
    """Text with a `${` or `#{` inside that is not one whole expression (a composite JUEL text)."""
    return bool(text) and not is_juel(text) and re.search(r"[$#]\{", text) is not None


def to_python(text: str) -> str:
    """The Python expression for the JUEL expression `text` (`${…}` or `#{…}`); raises JuelError."""
    match = _WRAPPED.fullmatch(text)
    if match is None:
        raise JuelError(f"JUEL 表达式不受支持：须整体写成 ${{…}} 或 #{{…}}，不能与文字混写：{text.strip()[:60]}")
    offset = 1  # columns are counted inside the braces, as the Camunda Modeler's field shows the expression
    return _Parser(_tokens(match.group(1), offset), match.group(1), offset).translate()


def python_or_juel(text: str) -> str:
    """`text` as the sandbox runs it: JUEL translated, anything else unchanged (Python)."""
    if is_juel(text):
        return to_python(text)
    if mixes_juel(text):
        raise JuelError(f"JUEL 表达式不受支持：文字与 ${{…}} 混写（复合表达式）只用于办理人、候选人、日期等文字属性，"
                        f"条件和定时器须整体是一个表达式：{text.strip()[:60]}")
    return text


_PART = re.compile(r"""[$#]\{((?:[^}'"]|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")*)\}""")


def template_to_python(text: str) -> str:
    """The Python expression giving the text of the composite JUEL `text`: its literal parts and each `${…}`'s
    value as text. Columns in a refusal count in the whole text."""
    pieces, position = [], 0
    for match in _PART.finditer(text):
        if text[position:match.start()]:
            pieces.append(repr(_literal_part(text[position:match.start()], position)))
        offset = match.start(1) + 1
        python = _Parser(_tokens(match.group(1), offset), match.group(1), offset).translate()
        pieces.append(f"('' if {_operand(python)} is None else str({python}))")
        position = match.end()
    if text[position:]:
        pieces.append(repr(_literal_part(text[position:], position)))
    return " + ".join(pieces) or "''"


def _literal_part(literal: str, position: int) -> str:
    """A text between expressions; an opening `${` left in it has no closing brace."""
    opened = re.search(r"[$#]\{", literal)
    if opened:
        raise _unsupported("“${”缺少配对的“}”", position + opened.start() + 1)
    return literal


def _unsupported(what: str, column: int) -> JuelError:
    return JuelError(f"JUEL 表达式不受支持：{what} 第 {column} 列")


def _tokens(source: str, offset: int) -> list[_Token]:
    tokens, position = [], 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise _unsupported(f"无法识别的字符“{source[position]}”", position + offset)
        if match.lastgroup != "space":
            text = match.group()
            kind = "op" if match.lastgroup == "word" and text in _WORD_OPS else match.lastgroup
            tokens.append(_Token(kind, _WORD_OPS.get(text, text) if kind == "op" else text, position + offset))
        position = match.end()
    tokens.append(_Token("end", "", len(source) + offset))
    return tokens


class _Parser:
    """Recursive descent over EL's grammar (JSR 245 §1.19), each rule returning Python source. Every compound
    part is parenthesized where it is an operand, so Python's precedence never differs from EL's."""

    def __init__(self, tokens: list[_Token], source: str, offset: int):
        self.tokens, self.source, self.offset, self.index = tokens, source, offset, 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, *ops: str) -> _Token | None:
        if self.current.kind == "op" and self.current.text in ops:
            return self.take()
        return None

    def expect(self, op: str, opened: _Token) -> None:
        if self.accept(op) is None:
            raise _unsupported(f"缺少与第 {opened.column} 列“{opened.text}”配对的“{op}”", self.current.column)

    def part(self, start: _Token) -> str:
        """The source of the expression from `start` to the current token, to name it in a refusal."""
        end = self.current.column - self.offset
        return self.source[start.column - self.offset:end].strip() or start.text

    def translate(self) -> str:
        if self.current.kind == "end":
            raise _unsupported("空表达式", self.current.column)
        python = self.ternary()
        if self.current.kind != "end":
            raise self.refuse(self.current)
        return python

    def refuse(self, token: _Token) -> JuelError:
        if token.kind == "op" and token.text in _UNSUPPORTED_OPS:
            return _unsupported(f"{_UNSUPPORTED_OPS[token.text]}“{token.text}”", token.column)
        if token.kind == "end":
            return _unsupported("表达式不完整", token.column)
        if token.kind == "word" and token.text == "instanceof":
            return _unsupported("运算符 instanceof", token.column)
        return _unsupported(f"多余的“{token.text}”", token.column)

    def ternary(self) -> str:
        condition = self.binary(0)
        question = self.accept("?")
        if question is None:
            return condition
        then = self.ternary()
        self.expect(":", question)
        otherwise = self.ternary()
        return f"{_operand(then)} if {_operand(condition)} else {_operand(otherwise)}"

    # Binary operators by precedence, loosest first: EL's ||, &&, equality, relational, additive, multiplicative.
    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%"))
    _PYTHON_OPS = {"||": "or", "&&": "and"}

    def binary(self, level: int) -> str:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while (op := self.accept(*self._LEVELS[level])) is not None:
            right = self.binary(level + 1)
            left = f"{_operand(left)} {self._PYTHON_OPS.get(op.text, op.text)} {_operand(right)}"
        return left

    def unary(self) -> str:
        token = self.current
        if self.accept("!"):
            return f"not {_operand(self.unary())}"
        if self.accept("-"):
            return f"-{_operand(self.unary())}"
        if token.kind == "word" and token.text == "empty":
            self.take()
            value = _operand(self.unary())
            return f'{value} is None or {value} in ("", [], {{}})'
        return self.value()

    def value(self) -> str:
        start = self.current
        python = self.primary()
        while True:
            if self.accept("."):
                name = self.take()
                if name.kind != "word":
                    raise _unsupported(f"“.”之后应为属性名，而不是“{name.text}”", name.column)
                if self.current.kind == "op" and self.current.text == "(":
                    return self.method_call(start, python, name)
                python = f"{_operand(python)}[{name.text!r}]"
            elif bracket := self.accept("["):
                key = self.ternary()
                self.expect("]", bracket)
                python = f"{_operand(python)}[{key}]"
            elif self.current.kind == "op" and self.current.text == "(":
                raise _unsupported(f"函数调用 {self.part(start)}()", start.column)
            else:
                return python

    def method_call(self, start: _Token, target: str, name: _Token) -> str:
        """Only `execution.getVariable('x')`: the variable x of the case."""
        called = f"{self.part(start)}()"
        opened = self.take()
        argument = self.current
        if target == "execution" and name.text == "getVariable" and argument.kind == "string":
            self.take()
            self.expect(")", opened)
            return self.variable(_string_value(argument.text), argument)
        raise _unsupported(f"方法调用 {called}", start.column)

    def primary(self) -> str:
        token = self.take()
        if token.kind == "number":
            return token.text
        if token.kind == "string":
            return repr(_string_value(token.text))
        if token.kind == "word":
            if token.text in _LITERALS:
                return _LITERALS[token.text]
            if token.text in ("instanceof", "empty"):
                raise _unsupported(f"运算符 {token.text}", token.column)
            return self.variable(token.text, token)
        if token.kind == "op" and token.text == "(":
            inner = self.ternary()
            self.expect(")", token)
            return inner
        raise self.refuse(token)

    @staticmethod
    def variable(name: str, token: _Token) -> str:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise _unsupported(f"变量名“{name}”（不能以下划线开头，也不能是 Python 关键字）", token.column)
        return name


_ATOM = re.compile(r"""(?:[^\W\d]\w*|\d[\d.eE+-]*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
                   r"""(?:\[(?:\w+|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\])*""")


def _operand(python: str) -> str:
    """`python` as an operand: parenthesized unless it is a name, a literal or an item of one."""
    return python if _ATOM.fullmatch(python) else f"({python})"


def _string_value(literal: str) -> str:
    r"""An EL string literal's value: only \\, \' and \" are escapes (JSR 245 §1.3)."""
    return re.sub(r"\\([\\'\"])", r"\1", literal[1:-1])
