"""Restricted evaluation of the Python inside BPMN diagrams.

Gateway conditions, script tasks and timer expressions are Python that SpiffWorkflow runs through its script
engine. The stock engine uses plain eval/exec with all builtins, so whoever publishes a diagram could run anything
on the server. Here every expression and script is compiled by RestrictedPython (which rewrites attribute, item
and iteration access into calls to our guards and refuses names starting with "_"), with extra rules for what a
process designer needs: expressions, assignments, if and for. Runtime access is limited to the task data, a
small set of builtins and the functions the platform exposes.

Not covered here: CPU/memory exhaustion in general (nested loops, format widths such as f"{x:>999999999}").
The obvious one-liners (range(10**9), 10**10**10, "x" * 10**10) are refused; run workers with a time/memory limit.
"""
from __future__ import annotations

import ast
import functools
import logging
import operator
import re
import textwrap
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

log = logging.getLogger(__name__)

RANGE_LIMIT = 10_000        # items a range() may have: for-loops stay short
SIZE_LIMIT = 1_000_000      # characters/items that "*" may produce
INT_BITS_LIMIT = 4_096      # ~1,200 digits: far beyond any amount, small enough to compute instantly
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
_ISO_LITERAL = re.compile(
    rf"P(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
    r"|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")

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
_GUARDED_OPS = {ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<"}


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
        return super().visit_Call(node)

    def visit_Attribute(self, node):
        if node.attr.startswith("_"):  # ().__class__.__mro__ and friends
            return self._refuse(node, "不允许访问以下划线开头的属性 (attributes starting with '_' are forbidden)")
        if node.attr in ("format", "format_map"):  # "{0.__class__}".format(x) reads attributes unchecked
            return self._refuse(node, "不允许 str.format/format_map, 请用 f-string (str.format is forbidden)")
        if not isinstance(node.ctx, ast.Load):
            return self._refuse(node, "不允许给属性赋值 (assigning attributes is forbidden)")
        return super().visit_Attribute(node)

    def visit_BinOp(self, node):
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


def _getattr(obj, name):
    if name not in _SAFE_ATTRIBUTES.get(type(obj), ()):
        raise ScriptError(f"不允许访问属性 (attribute not allowed): {type(obj).__name__}.{name}")
    return getattr(obj, name)


def _getitem(obj, key):
    if isinstance(key, str) and key.startswith("_"):  # e.g. a mapping holding "__builtins__"
        raise ScriptError(f"不允许访问以下划线开头的键 (keys starting with '_' are forbidden): {key!r}")
    return obj[key]


def _write(obj):  # target of data["x"] = ... / del lst[0]
    if type(obj) not in (dict, list):
        raise ScriptError(f"只能修改字典或列表的元素 (only dict/list items may be assigned): {type(obj).__name__}")
    return obj


def _range(*args):
    r = range(*args)
    if len(r) > RANGE_LIMIT:
        raise ScriptError(f"range() 最多 {RANGE_LIMIT} 个数 (range() is limited to {RANGE_LIMIT} items)")
    return r


def _arith(op, a, b):
    too_big = False
    if op == "*":
        seq, n = (a, b) if isinstance(a, (str, bytes, list, tuple)) else (b, a)
        if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int):
            too_big = len(seq) * n > SIZE_LIMIT
        elif isinstance(a, int) and isinstance(b, int):
            too_big = a.bit_length() + b.bit_length() > INT_BITS_LIMIT
    elif op in ("**", "<<") and isinstance(a, int) and isinstance(b, int) and b > 0:
        too_big = (a.bit_length() * b if op == "**" else a.bit_length() + b) > INT_BITS_LIMIT
    if too_big:
        raise ScriptError(f"计算结果过大 (result too large): {op}")
    return _OPERATORS[op](a, b)


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
        log.debug("script print: %s", " ".join(map(str, args)))


_SAFE_BUILTINS = {
    "len": len, "min": min, "max": max, "abs": abs, "round": round, "sum": sum, "sorted": sorted, "any": any,
    "all": all, "str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict, "set": set,
    "tuple": tuple, "range": _range, "enumerate": enumerate, "zip": zip, "reversed": reversed,
    "True": True, "False": False, "None": None,
    "Decimal": Decimal, "date": date, "datetime": datetime, "timedelta": timedelta,
}
# Injected after the task data, so data keys cannot replace a guard. Names starting with "_" cannot be written by
# designers, which is also how we tell them apart from task data afterwards.
_GUARDS = {
    "_getattr_": _getattr, "_getitem_": _getitem, "_write_": _write, "_getiter_": iter, "_arith_": _arith,
    "_inplacevar_": _inplacevar, "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence, "_apply_": lambda f, *a, **kw: f(*a, **kw),
    "_print_": _LogPrint, "_print": _LogPrint(),
}


# --- SpiffWorkflow integration --------------------------------------------------------------------------------------

class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """Runs diagram code over the task data with only safe builtins and the given functions."""

    def __init__(self, functions: Mapping[str, Callable] | None = None):
        functions = dict(functions or {})
        for name, func in functions.items():
            if not name.isidentifier() or name.startswith("_") or not callable(func):
                raise ValueError(f"cannot expose {name!r} to diagrams: need a public name and a callable")
        super().__init__(functions)  # SpiffWorkflow calls these "globals"
        self._function_names = tuple(functions)
        # Functions live in __builtins__, so they are never copied into (or back out of) the task data.
        self._globals = {**_GUARDS, "__builtins__": {**_SAFE_BUILTINS, **functions}}

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

    def evaluate(self, expression, context, external_context=None):
        code = _compile(expression, "eval")
        if isinstance(code, str):  # bare ISO 8601 timer literal
            return code
        return eval(code, self._namespace(context, external_context))

    def execute(self, script, context, external_context=None):
        code = _compile(script, "exec")
        namespace = self._namespace(context, external_context)
        exec(code, namespace)
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


class RestrictedScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over RestrictedEnvironment. Reattach it after deserializing a workflow."""

    def __init__(self, functions: Mapping[str, Callable] | None = None):
        super().__init__(environment=RestrictedEnvironment(functions))

    def validate(self, expression):
        check_expression(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as err:  # the base class leaves out why, which is what a designer needs to read
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {type(err).__name__}: {err}",
                                        task=task, exception=err) from err

    def create_task_exec_exception(self, task, script, err):
        # 3.2.0 builds the message with "name:" + err.args[0], a TypeError for KeyError(0) and the like
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err,
                                     line_number=line_number, error_line=error_line)

    def call_service(self, task, **kwargs):
        # 3.2.0's version turns every error into NameError: name 'script' is not defined.
        try:
            return self.environment.call_service(task.data, **kwargs)
        except Exception as err:
            raise WorkflowTaskException(f"{type(err).__name__}: {err}", task=task, exception=err) from err
