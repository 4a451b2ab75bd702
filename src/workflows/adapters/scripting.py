"""Restricted evaluation of the Python inside BPMN diagrams.

Gateway conditions, script tasks and timer expressions are Python that SpiffWorkflow runs through its script
engine. The stock engine uses plain eval/exec with all builtins, so whoever publishes a diagram could run anything
on the server. Here every expression and script is compiled by RestrictedPython (which rewrites attribute, item
and iteration access into calls to our guards and refuses names starting with "_"), with extra rules for what a
process designer needs: expressions, assignments, if and for. Runtime access is limited to the task data, a
small set of builtins and the functions the platform exposes.

Limits (limits.py, set by the installation): every evaluation runs on a CPU-time budget, checked as its loops
iterate (the only way to repeat: no while, def or lambda), inside the budget of the whole command; every operation
that can build a large value (*, **, <<, +, str methods, list(), f-strings …) is checked before or charged after,
against what one evaluation may allocate; results and the data a script leaves must stay under the case data size.
Constant bombs (range(10**12), 10**10**10, "x" * 10**10) are refused when the diagram is deployed.
"""
from __future__ import annotations

import ast
import functools
import logging
import operator
import re
import textwrap
import time as clock
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from .limits import DiagramLimits, LimitExceeded, check_timer

log = logging.getLogger(__name__)

RANGE_LIMIT = 10_000        # items a range() may have: for-loops stay short
SIZE_LIMIT = 1_000_000      # characters/items that "*" may produce
INT_BITS_LIMIT = 4_096      # ~1,200 digits: far beyond any amount, small enough to compute instantly
INT_DIGITS_LIMIT = 1_200
CACHE_SIZE = 1_024          # compiled sources kept; conditions run on every gateway of every case


class ScriptError(Exception):
    """A forbidden or invalid expression/script, explained for a process designer."""


class ScriptSyntaxError(ScriptError, SyntaxError):
    """A syntax error. Also a SyntaxError, because SpiffWorkflow's DMN engine relies on validate() raising one."""

    def __init__(self, message: str, lineno: int, offset: int, text: str | None):
        ScriptError.__init__(self, message)
        self.lineno, self.offset, self.text = lineno, offset, text

    def __str__(self) -> str:  # SyntaxError.__str__ would append "(<string>, line n)" again
        return self.args[0]


# --- Compilation (static rules) ----------------------------------------------------------------------------------

# The Camunda Modeler writes timer values unquoted (P10D, 2026-01-05T09:00:00+08:00); they are not Python, so a
# bare ISO 8601 duration or date-time is taken as its text, which SpiffWorkflow then parses.
_NUM = r"\d+(?:[.,]\d+)?"
_ISO_DURATION = (rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
                 rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?")
_ISO_MOMENT = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO_LITERAL = re.compile(rf"{_ISO_DURATION}|{_ISO_MOMENT}"  # and a cycle: R3/PT1H, R/2026-01-05T09:00+08:00/P1D
                          rf"|R\d*(?:/(?:{_ISO_DURATION}|{_ISO_MOMENT})){{1,2}}")

_IMPORT = "不允许导入模块 (import is forbidden)"
_FORBIDDEN_NODES = {  # designers get expressions, assignments, if and for; nothing that defines code or hides errors
    ast.Import: _IMPORT, ast.ImportFrom: _IMPORT,
    ast.While: "不允许 while 循环, 请用 for 遍历列表或 range (while loops are forbidden)",
    ast.FunctionDef: "不允许定义函数 (def is forbidden)",
    ast.AsyncFunctionDef: "不允许定义函数 (def is forbidden)",
    ast.Lambda: "不允许 lambda (lambda is forbidden)",
    ast.ClassDef: "不允许定义类 (class is forbidden)",
    ast.Yield: "不允许 yield (yield is forbidden)", ast.YieldFrom: "不允许 yield (yield is forbidden)",
    ast.Global: "不允许 global (global is forbidden)", ast.Nonlocal: "不允许 nonlocal (nonlocal is forbidden)",
    ast.Try: "不允许 try (try is forbidden)", ast.TryStar: "不允许 try (try is forbidden)",
    ast.With: "不允许 with (with is forbidden)", ast.AsyncWith: "不允许 with (with is forbidden)",
}
# Not in the runtime namespace anyway; refusing the call at deploy time gives a clear message instead of a
# NameError. Only calls are refused: "type" or "open" may well be names of form fields.
_FORBIDDEN_CALLS = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals", "locals", "vars",
    "dir", "type", "input", "breakpoint", "help", "memoryview", "object", "super", "exit", "quit"})
# Operators whose result can be enormous for small operands; routed through _arith() below.
_GUARDED_OPS = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Add: "+", ast.Mod: "%"}
FORMAT_WIDTH_LIMIT = 1_000


class _NotConstant(Exception):
    """An operand only known when the code runs."""


def _constant(node):
    """The value of a constant expression, computed with the runtime's checks (ScriptError for a bomb)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_constant(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in (*_GUARDED_OPS, ast.Sub):
        op = "-" if isinstance(node.op, ast.Sub) else _GUARDED_OPS[type(node.op)]
        a, b = _constant(node.left), _constant(node.right)
        _check_size(op, a, b)
        return _OPERATORS[op](a, b)
    raise _NotConstant


class _DesignerPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, tightened to what a process designer needs, with messages in plain words."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def error(self, node, info):
        line, col = getattr(node, "lineno", "?"), getattr(node, "col_offset", None)
        col = "?" if col is None else col + 1
        self.errors.append(f"{info} [第 {line} 行第 {col} 列 / line {line}, col {col}]")

    def _refuse(self, node, info):
        code = (ast.get_source_segment(self.source, node) or "").splitlines()
        self.error(node, f"{info}: {code[0][:80]}" if code else info)
        return node

    def not_allowed(self, node):  # RestrictedPython's verdict on constructs it does not know or allow (match, async)
        return self._refuse(node, f"不允许的语法 (not allowed: {type(node).__name__})")

    def visit(self, node):
        if type(node) in _FORBIDDEN_NODES:
            return self._refuse(node, _FORBIDDEN_NODES[type(node)])
        return super().visit(node)

    def check_name(self, node, name, allow_magic_methods=False):
        if name and name.startswith("_"):  # __import__, __builtins__, RestrictedPython's own _getattr_ ...
            return self.error(node, f"不允许使用以下划线开头的名字 (names starting with '_' are forbidden): {name}")
        return super().check_name(node, name, allow_magic_methods)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            return self._refuse(node, f"不允许调用 {node.func.id}() ({node.func.id}() is forbidden)")
        if isinstance(node.func, ast.Name) and node.func.id == "range":
            try:
                _range(*[_constant(arg) for arg in node.args])
            except (ScriptError, TypeError, ValueError) as error:
                return self._refuse(node, str(error))
            except _NotConstant:
                pass
        return super().visit_Call(node)

    def visit_FormattedValue(self, node):
        """f"{x:>999999999}" would build a gigabyte before any guard sees it: format specs are constants with
        small widths, and the value goes through _format_() (its size checked first)."""
        spec = node.format_spec
        parts = spec.values if isinstance(spec, ast.JoinedStr) else []
        if spec is not None and not all(isinstance(part, ast.Constant) for part in parts):
            return self._refuse(node, "f-string 的格式须为常量 (format specs must be constants)")
        if any(int(width) > FORMAT_WIDTH_LIMIT for part in parts for width in re.findall(r"\d+", str(part.value))):
            return self._refuse(node, f"f-string 的宽度和精度最多 {FORMAT_WIDTH_LIMIT} (format width too large)")
        value = self.visit(node.value)
        node.value = ast.copy_location(ast.Call(ast.Name("_format_", ast.Load()), [value], []), value)
        return node

    def visit_JoinedStr(self, node):
        node = self.node_contents_visit(node)
        return ast.copy_location(ast.Call(ast.Name("_built_", ast.Load()), [node], []), node)

    def visit_Attribute(self, node):
        if node.attr.startswith("_"):  # ().__class__.__mro__ and friends
            return self._refuse(node, "不允许访问以下划线开头的属性 (attributes starting with '_' are forbidden)")
        if node.attr in ("format", "format_map"):  # "{0.__class__}".format(x) reads attributes unchecked
            return self._refuse(node, "不允许 str.format/format_map, 请用 f-string (str.format is forbidden)")
        if not isinstance(node.ctx, ast.Load):
            return self._refuse(node, "不允许给属性赋值 (assigning attributes is forbidden)")
        return super().visit_Attribute(node)

    def visit_BinOp(self, node):
        try:
            _constant(node)
        except ScriptError as error:  # a constant bomb, such as 10**10**10: refused at deploy
            return self._refuse(node, str(error))
        except _NotConstant:
            pass
        node = super().visit_BinOp(node)
        if type(node.op) not in _GUARDED_OPS:
            return node
        call = ast.Call(ast.Name("_arith_", ast.Load()), [ast.Constant(_GUARDED_OPS[type(node.op)]), node.left,
                                                          node.right], [])
        return ast.copy_location(call, node)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source: str, mode: str):
    """Compile an expression ("eval") or script ("exec"); a bare ISO 8601 timer literal compiles to its text."""
    if not isinstance(source, str):
        raise ScriptError(f"表达式必须是文本 (an expression must be text, not {type(source).__name__})")
    if mode == "eval":
        source = source.strip()  # conditions in BPMN XML are often surrounded by newlines and indentation
        if _ISO_LITERAL.fullmatch(source):
            return source
    else:
        source = textwrap.dedent(source)
    try:
        tree = ast.parse(source, "<string>", mode)
    except SyntaxError as err:
        text = (err.text or "").rstrip("\n")
        col = err.offset if err.offset and err.offset > 0 else len(text) + 1  # 0 means "at the end"
        raise ScriptSyntaxError(f"语法错误 (syntax error): {err.msg} [第 {err.lineno} 行第 {col} 列 / line "
                                f"{err.lineno}, col {col}]: {text.strip()}", err.lineno, col, text) from None
    policy = _DesignerPolicy(source)
    tree = policy.visit(tree)
    if policy.errors:
        raise ScriptError("; ".join(policy.errors))
    # "<string>": SpiffWorkflow looks for that file name in the traceback to report the failing line of a script
    return compile(ast.fix_missing_locations(tree), "<string>", mode)


def check_expression(expression: str) -> None:
    """Deploy-time check of a condition or timer expression; raises ScriptError."""
    _compile(expression, "eval")


def check_script(script: str) -> None:
    """Deploy-time check of a script task's script; raises ScriptError."""
    _compile(script, "exec")


def check_timer_expression(kind: str, expression: str, limits: DiagramLimits | None = None) -> None:
    """Deploy-time check of a timer (kind: date, duration or cycle): an expression, and when it is a constant
    (P99999999999Y, R/PT0S) a value that makes sense (limits.check_timer). Raises ScriptError."""
    code = _compile(expression, "eval")
    value = code if isinstance(code, str) else _constant_text(expression)
    if value is not None:
        try:
            check_timer(kind, value, datetime.now(timezone.utc), limits or DiagramLimits.from_environment())
        except LimitExceeded as error:
            raise ScriptError(str(error)) from None


def _constant_text(expression: str) -> str | None:
    node = ast.parse(expression.strip(), mode="eval").body
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


# --- Runtime budget -----------------------------------------------------------------------------------------------

_command_deadline: ContextVar = ContextVar("command_deadline", default=None)
_budget: ContextVar = ContextVar("evaluation_budget", default=None)
_CHECK_EVERY = 1_024  # loop steps between two looks at the clock
# CPU time is what a limit counts; on a busy machine it passes slower than the wall clock, while the command holds
# its locks: past this many times the limit in wall-clock time the code stops too.
WALL_FACTOR = 3


class _Deadline:
    """`seconds` of the thread's CPU time from now, or WALL_FACTOR times that on the wall clock. Reading the CPU
    clock is a system call (6 µs here, far more on a loaded machine): it is read once per command, and again only
    once the wall clock says a limit could be reached. An evaluation inside a command counts its CPU time from the
    command's start (`cpu_start`): an upper bound, as the command's other code is quick or has its own limit."""

    __slots__ = ("cpu_start", "wall_start", "seconds")

    def __init__(self, seconds: float, cpu_start: float | None = None):
        self.cpu_start = clock.thread_time() if cpu_start is None else cpu_start
        self.wall_start, self.seconds = clock.monotonic(), seconds

    def passed(self) -> bool:
        wall = clock.monotonic() - self.wall_start
        if wall <= self.seconds:  # a thread's CPU time never runs ahead of the wall clock
            return False
        return wall > WALL_FACTOR * self.seconds or clock.thread_time() - self.cpu_start > self.seconds


def _time_out(what: str, seconds: float):
    return LimitExceeded(f"超过{what}运行时间上限 {seconds:g} 秒 (CPU time limit exceeded)")


class _Budget:
    """What one evaluation may still spend: its time, the command's time, and memory."""

    __slots__ = ("own", "command", "memory_left", "limits")

    def __init__(self, limits: DiagramLimits):
        self.command = _command_deadline.get()
        self.own = _Deadline(limits.evaluation_seconds, self.command.cpu_start if self.command else None)
        self.memory_left = limits.memory_units
        self.limits = limits
        if self.command is not None and self.command.passed():
            raise _time_out("一次办理中流程代码的", limits.command_seconds)

    def check_time(self) -> None:
        if self.own.passed():
            raise _time_out("一次表达式或脚本的", self.limits.evaluation_seconds)
        if self.command is not None and self.command.passed():
            raise _time_out("一次办理中流程代码的", self.limits.command_seconds)

    def charge(self, units: int) -> None:
        self.memory_left -= units
        if self.memory_left < 0:
            raise LimitExceeded(f"超过一次运算可分配的内存上限（{self.limits.memory_units} 个字符或元素）"
                                f" (memory limit exceeded)")

    def iterate(self, iterable):
        steps = 0
        for item in iterable:
            steps += 1
            if steps % _CHECK_EVERY == 0:
                self.check_time()
            yield item


@contextmanager
def command_budget(limits: DiagramLimits):
    """All the diagram code run inside shares `command_seconds` (nested: the outer budget holds)."""
    token = _command_deadline.set(_command_deadline.get() or _Deadline(limits.command_seconds))
    try:
        yield
    finally:
        _command_deadline.reset(token)


def check_command_time(limits: DiagramLimits) -> None:
    """Between steps: a process looping on itself (a gateway back to a cheap task) stops at the command's limit."""
    deadline = _command_deadline.get()
    if deadline is not None and deadline.passed():
        raise _time_out("一次办理中流程代码的", limits.command_seconds)


def data_size(value, limit: int) -> int:
    """The size of `value` as JSON, in bytes (about), counted up to just past `limit`: a list holding one big list
    a million times is not walked a million times."""
    containers = (dict, list, tuple, set, frozenset)
    total, stack = _scalar_size(value), [value] if isinstance(value, containers) else []
    while stack and total <= limit:
        item = stack.pop()
        members = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        total += 2 + len(members)
        if total > limit:
            break
        for member in members:
            if isinstance(member, containers):
                stack.append(member)
            else:
                total += _scalar_size(member)
    return total


def _scalar_size(value) -> int:
    if isinstance(value, str):
        return len(value) + 2 if value.isascii() else 3 * len(value) + 2  # CJK takes three bytes in UTF-8
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    return 0 if isinstance(value, (dict, list, tuple, set, frozenset)) else 24


def check_result_size(value, limits: DiagramLimits, what: str = "结果") -> None:
    size = data_size(value, limits.data_bytes)
    if size > limits.data_bytes:
        raise LimitExceeded(f"{what}超过 {limits.data_bytes // 1000} KB 的上限 (data size limit exceeded)")


def _current() -> _Budget:
    return _budget.get()


def _charged(value):
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        _current().charge(len(value))
    return value


# --- Runtime guards (called by the rewritten code) ----------------------------------------------------------------

_DATE_ATTRS = {"year", "month", "day", "weekday", "isoweekday", "isoformat", "isocalendar"}
_SAFE_ATTRIBUTES = {  # exact types: a subclass may override a method with something unsafe. No strftime/format.
    str: {"startswith", "endswith", "strip", "lstrip", "rstrip", "upper", "lower", "title", "split", "rsplit",
          "splitlines", "join", "replace", "count", "index", "find", "isdigit", "isdecimal", "isnumeric", "isalpha",
          "isalnum", "isspace", "zfill", "partition"},
    dict: {"get", "keys", "values", "items", "copy", "update", "pop", "setdefault"},
    list: {"append", "extend", "insert", "pop", "remove", "index", "count", "copy", "sort", "reverse"},
    tuple: {"index", "count"},
    set: {"add", "discard", "union", "intersection", "difference", "issubset", "issuperset"},
    frozenset: {"union", "intersection", "difference", "issubset", "issuperset"},
    date: _DATE_ATTRS,
    datetime: _DATE_ATTRS | {"hour", "minute", "second", "microsecond", "date", "time"},
    time: {"hour", "minute", "second", "microsecond", "isoformat"},
    timedelta: {"days", "seconds", "total_seconds"},
}


class _ClockDatetime:
    """`datetime` as diagrams see it: datetime(2026, 1, 5, 9) builds one, datetime.now() answers the case's clock
    (Beijing time, with its offset), not the server's; nothing else of the class (no __subclasses__ walks)."""

    def __init__(self, clock: Callable[[], datetime]):
        self._clock = clock

    def __call__(self, *args, **kwargs) -> datetime:
        return datetime(*args, **kwargs)

    def now(self) -> datetime:
        return self._clock().astimezone(CHINA_TIME)

    def today(self) -> datetime:
        return self.now()

    @staticmethod
    def fromisoformat(text: str) -> datetime:
        return datetime.fromisoformat(text)


class _ClockDate(_ClockDatetime):
    """`date` as diagrams see it: date(2026, 1, 5), date.today() (the case's day in Beijing), date.fromisoformat."""

    def __call__(self, *args, **kwargs) -> date:
        return date(*args, **kwargs)

    def today(self) -> date:
        return self.now().date()

    @staticmethod
    def fromisoformat(text: str) -> date:
        return date.fromisoformat(text)


CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
_SAFE_ATTRIBUTES[_ClockDatetime] = {"now", "today", "fromisoformat"}
_SAFE_ATTRIBUTES[_ClockDate] = {"today", "fromisoformat"}
_COPYING_TYPES = (str, list, dict, set, frozenset)  # their methods may build new values: charged


def _getattr(obj, name):
    if name not in _SAFE_ATTRIBUTES.get(type(obj), ()):
        raise ScriptError(f"不允许访问属性 (attribute not allowed): {type(obj).__name__}.{name}")
    method = getattr(obj, name)
    if type(obj) not in _COPYING_TYPES or name in ("get", "keys", "values", "items", "pop", "index", "count"):
        return method
    return functools.partial(_charged_call, obj, name, method)


def _charged_call(obj, name, method, *args, **kwargs):
    """A method that may build a large value, its size checked before where it can be known (zfill, replace)
    and charged to the evaluation's memory after; what a list or dict takes in (append, extend …) is charged."""
    budget = _current()
    if name == "zfill" and args and isinstance(args[0], int) and args[0] > SIZE_LIMIT:
        raise LimitExceeded(f"计算结果过大 (result too large): zfill({args[0]})")
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = obj.count(args[0]) if args[0] else len(obj) + 1
        if len(obj) + count * max(0, len(args[1]) - len(args[0])) > SIZE_LIMIT:
            raise LimitExceeded("计算结果过大 (result too large): replace()")
    for arg in (*args, *kwargs.values()):
        if isinstance(arg, (list, tuple, dict, set, frozenset)):
            budget.charge(len(arg))
        elif name in ("append", "insert", "add", "setdefault"):
            budget.charge(data_size(arg, SIZE_LIMIT))
    result = method(*args, **kwargs)
    return _charged(result) if result is not obj else result


def _getitem(obj, key):
    if isinstance(key, str) and key.startswith("_"):  # e.g. a mapping holding "__builtins__"
        raise ScriptError(f"不允许访问以下划线开头的键 (keys starting with '_' are forbidden): {key!r}")
    return _charged(obj[key]) if isinstance(key, slice) else obj[key]


def _getiter(obj):
    return _current().iterate(obj)


def _format(value):
    """An f-string's value: no container whose text would be huge, no Decimal with a million digits."""
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) > INT_DIGITS_LIMIT:
        raise LimitExceeded("数值过大 (number too large)")
    if isinstance(value, (list, tuple, dict, set, frozenset)) and data_size(value, SIZE_LIMIT) > SIZE_LIMIT:
        raise LimitExceeded("计算结果过大 (result too large): f-string")
    return value


def _built(text: str) -> str:  # an f-string's result
    if len(text) > SIZE_LIMIT:
        raise LimitExceeded("计算结果过大 (result too large): f-string")
    return _charged(text)


def _write(obj):  # target of data["x"] = ... / del lst[0]
    if type(obj) not in (dict, list):
        raise ScriptError(f"只能修改字典或列表的元素 (only dict/list items may be assigned): {type(obj).__name__}")
    return obj


def _range(*args):
    r = range(*args)
    try:
        too_long = len(r) > RANGE_LIMIT
    except OverflowError:  # more items than a C long holds
        too_long = True
    if too_long:
        raise ScriptError(f"range() 最多 {RANGE_LIMIT} 个数 (range() is limited to {RANGE_LIMIT} items)")
    return r


def _check_size(op, a, b) -> None:
    """Refuse, before computing, an operation whose result would be enormous for small operands."""
    too_big = False
    if op == "+" and isinstance(a, (str, bytes)) and isinstance(b, (str, bytes)):
        too_big = len(a) + len(b) > SIZE_LIMIT
    elif op == "+" and isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):  # their text, as for *
        too_big = len(a) + len(b) > SIZE_LIMIT or data_size(a, SIZE_LIMIT) + data_size(b, SIZE_LIMIT) > SIZE_LIMIT
    elif op == "%" and isinstance(a, str):
        raise ScriptError("不允许用 % 格式化文本, 请用 f-string (%-formatting is forbidden)")
    elif op == "*":
        seq, n = (a, b) if isinstance(a, (str, bytes, list, tuple)) else (b, a)
        if isinstance(seq, (str, bytes)) and isinstance(n, int):
            too_big = len(seq) * n > SIZE_LIMIT
        elif isinstance(seq, (list, tuple)) and isinstance(n, int):  # [big_list] * n is n times its text
            too_big = n > 0 and data_size(seq, SIZE_LIMIT) * n > SIZE_LIMIT
        elif isinstance(a, int) and isinstance(b, int):
            too_big = a.bit_length() + b.bit_length() > INT_BITS_LIMIT
    elif op in ("**", "<<") and isinstance(a, int) and isinstance(b, int) and b > 0:
        too_big = (a.bit_length() * b if op == "**" else a.bit_length() + b) > INT_BITS_LIMIT
    if too_big:
        raise ScriptError(f"计算结果过大 (result too large): {op}")


def _arith(op, a, b):
    _check_size(op, a, b)
    result = _OPERATORS[op](a, b)
    return _charged(result) if op in ("*", "+") else result


_OPERATORS = {"*": operator.mul, "**": operator.pow, "<<": operator.lshift, "+": operator.add,
              "-": operator.sub, "/": operator.truediv, "//": operator.floordiv, "%": operator.mod,
              ">>": operator.rshift, "&": operator.and_, "|": operator.or_, "^": operator.xor, "@": operator.matmul}


def _inplacevar(op, a, b):  # n += 1 is rewritten to n = _inplacevar_("+=", n, 1)
    return _arith(op[:-1], a, b)


class _LogPrint:
    """print() in a script goes to the debug log, never to the server's stdout."""

    def __init__(self, _getattr_=None):
        pass

    def __call__(self):  # RestrictedPython's "printed"
        return ""

    def _call_print(self, *args, **kwargs):
        log.debug("script print: %s", " ".join(map(str, map(_format, args))))


def _sized(build):
    """A builtin that builds a container or text: its result charged to the evaluation's memory."""
    @functools.wraps(build)
    def sized(*args, **kwargs):
        return _charged(build(*map(_format, args), **kwargs))
    return sized


def _int(value=0, *args):
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > INT_DIGITS_LIMIT:
        raise LimitExceeded("数值过大 (number too large)")
    return int(value, *args)


def _decimal(value="0", *args):
    number = Decimal(value, *args)
    if number.is_finite() and abs(number.adjusted()) > INT_DIGITS_LIMIT:
        raise LimitExceeded("数值过大 (number too large)")
    return number


def _sum(iterable, start=0):
    if not isinstance(start, (int, float, Decimal)):  # sum(lists, []) concatenates in a quadratic loop
        raise ScriptError("sum() 只能对数求和 (sum() adds numbers only)")
    return sum(iterable, start)


_SAFE_BUILTINS = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sum": _sum, "sorted": _sized(sorted),
    "any": any, "all": all, "str": _sized(str), "int": _int, "float": float, "bool": bool, "list": _sized(list),
    "dict": _sized(dict), "set": _sized(set), "tuple": _sized(tuple), "range": _range, "enumerate": enumerate,
    "zip": zip, "reversed": reversed, "True": True, "False": False, "None": None,
    "Decimal": _decimal, "date": date, "datetime": datetime, "timedelta": timedelta,
}
# Injected after the task data, so data keys cannot replace a guard. Names starting with "_" cannot be written by
# designers, which is also how we tell them apart from task data afterwards.
_GUARDS = {
    "_getattr_": _getattr, "_getitem_": _getitem, "_write_": _write, "_getiter_": _getiter, "_arith_": _arith,
    "_format_": _format, "_built_": _built,
    "_inplacevar_": _inplacevar, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence, "_apply_": lambda f, *a, **kw: f(*a, **kw),
    "_print_": _LogPrint, "_print": _LogPrint(),
}


# --- SpiffWorkflow integration --------------------------------------------------------------------------------------

class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs diagram code over the task data with only safe builtins and the given functions."""

    def __init__(self, functions: Mapping[str, Callable] | None = None, limits: DiagramLimits | None = None,
                 clock: Callable[[], datetime] | None = None):
        functions = dict(functions or {})
        self.limits = limits or DiagramLimits()
        for name, func in functions.items():
            if not name.isidentifier() or name.startswith("_") or not callable(func):
                raise ValueError(f"cannot expose {name!r} to diagrams: need a public name and a callable")
        super().__init__(functions)  # SpiffWorkflow calls these "globals"
        self._function_names = tuple(functions)
        # Functions live in __builtins__, so they are never copied into (or back out of) the task data.
        clock = clock or _wall_clock
        self._globals = {**_GUARDS, "__builtins__": {**_SAFE_BUILTINS, "datetime": _ClockDatetime(clock),
                                                     "date": _ClockDate(clock), **functions}}

    def provides(self, name: str) -> bool:
        """Whether `name` comes from the environment (a builtin or an exposed function) rather than the data."""
        return name in self._globals["__builtins__"]

    def _namespace(self, context, external_context):
        external_context = external_context or {}
        shadowed = [n for n in self._function_names if n in context or n in external_context]
        if shadowed:
            raise ScriptError(f"任务数据中的变量与函数同名, 请改名 (task data would hide the function(s)): "
                              f"{', '.join(shadowed)}")
        # A fresh dict per run: comprehensions need data and functions in one globals dict, and the task data must
        # not receive __builtins__ or guards.
        return {**external_context, **context, **self._globals}

    @contextmanager
    def _budgeted(self):
        token = _budget.set(_Budget(self.limits))
        try:
            yield
        finally:
            _budget.reset(token)

    def evaluate(self, expression, context, external_context=None):
        code = _compile(expression, "eval")
        if isinstance(code, str):  # bare ISO 8601 timer literal
            return code
        with self._budgeted():
            result = eval(code, self._namespace(context, external_context))
        check_result_size(result, self.limits)
        return result

    def execute(self, script, context, external_context=None):
        code = _compile(script, "exec")
        namespace = self._namespace(context, external_context)
        with self._budgeted():
            exec(code, namespace)
        check_result_size({name: value for name, value in namespace.items()
                           if not name.startswith("_") and not callable(value)}, self.limits, "脚本执行后的案件数据")
        # Write back only after success, so a failed script leaves the task data as it was (the task can be retried).
        overwritten = [n for n in self._function_names if n in namespace]
        if overwritten:
            raise ScriptError(f"不能给函数名赋值 (cannot assign to function name): {', '.join(overwritten)}")
        external_context = external_context or {}
        for name in [n for n in context if n not in namespace]:  # "del x" in the script
            del context[name]
        for name, value in namespace.items():
            if name.startswith("_") or (name in external_context and name not in context):
                continue  # guards, __builtins__, RestrictedPython temporaries, data objects
            if callable(value):  # e.g. "f = len": functions and types never go into task data
                context.pop(name, None)
            else:
                context[name] = value
        return True

    def call_service(self, context, **kwargs):
        raise NotImplementedError("Service tasks are run by the service-task handlers, not by the script engine")


def _wall_clock() -> datetime:
    return datetime.now(timezone.utc)


class RestrictedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over RestrictedEnvironment. Reattach it after deserializing a workflow."""

    def __init__(self, functions: Mapping[str, Callable] | None = None, limits: DiagramLimits | None = None,
                 clock: Callable[[], datetime] | None = None):
        super().__init__(environment=RestrictedEnvironment(functions, limits, clock))

    def validate(self, expression):
        check_expression(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except LimitExceeded as err:
            raise WorkflowTaskException(f"{err}：{expression.strip()[:80]}", task=task, exception=err) from err
        except Exception as err:  # the base class leaves out why, which is what a designer needs to read
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {type(err).__name__}: {err}",
                                        task=task, exception=err) from err

    def create_task_exec_exception(self, task, script, err):
        # 3.2.0 builds the message with "name:" + err.args[0], a TypeError for KeyError(0) and the like
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        message = str(err) if isinstance(err, LimitExceeded) else f"{type(err).__name__}: {err}"
        return WorkflowTaskException(message, task=task, exception=err,
                                     line_number=line_number, error_line=error_line)

    def call_service(self, task, **kwargs):
        # 3.2.0's version turns every error into NameError: name 'script' is not defined.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err) from err
