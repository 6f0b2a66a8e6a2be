"""Run TF 1.x programs written by others with ``tensorflow`` mapped to chainrule, and compare with TensorFlow.

Each file in ``programs/`` is a TF 1.x graph-mode program as its authors wrote it (``import tensorflow as
tf`` included); its header names the source and what was changed (data downloads replaced by
``tf1_synthetic_data``, step counts shrunk). A program runs in a fresh subprocess (``python
tf1_harness.py child ...``) whose ``import tensorflow`` statements (and only the program's own: the hook
is in its builtins) give chainrule, or, to record the references once, ``tensorflow.compat.v1`` after
``disable_v2_behavior()`` (the TF side's import change).
What it prints is its result: the numbers in its standard output are compared with the ones TensorFlow
printed (``references/<name>.json``), with float32 tolerances widened by the printed precision.

Randomness: NumPy's global generator is seeded (0) before a program starts. Where a spec says
``seeded_random``, the random-tensor functions the program calls with a static shape
(``random_normal``, ``truncated_normal``, ``random_uniform`` and ``random.normal/uniform/truncated_normal``;
a mean or stddev computed from constants, such as ``1. / tf.sqrt(shape[0] / 2.)``, is evaluated first) return
a constant drawn from one seeded NumPy stream, on both sides and only where the name exists, so
TensorFlow's random stream (which chainrule does not reproduce) drops out of the comparison. Randomness
inside training (dropout, sampled losses) is not replaced: those programs compare statistics (``rtol``).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
PROGRAMS_DIR = HERE / "programs"
REFERENCES_DIR = HERE / "references"
SRC = HERE.parents[1] / "src"


@dataclass(frozen=True)
class Spec:
    """How one program is run and compared."""

    file: str
    seeded_random: bool = False  # replace static-shape random tensors by one seeded NumPy stream (both sides)
    rtol: float = 2e-4  # float32 through some training steps
    atol: float = 1e-5
    note: str = ""  # what the comparison leaves out, when it is not every printed number at float32 precision
    ignore: tuple[str, ...] = ()  # regular expressions: printed lines that match are not compared (timings, paths)


def source_of(name: str) -> str:
    """Where the program ``name`` comes from (``programs/index.json``: repository, commit and path)."""
    return str(json.loads((PROGRAMS_DIR / "index.json").read_text())[name]["source"])


def _specs() -> dict[str, Spec]:
    """The programs, read from ``programs/index.json`` (name -> spec fields)."""
    raw = json.loads((PROGRAMS_DIR / "index.json").read_text())
    specs = {}
    provenance = ("source", "licence", "changed")  # for people (and source_of), not for running
    for name, fields in raw.items():
        fields = {k: v for k, v in fields.items() if k not in provenance}
        fields["ignore"] = tuple(fields.get("ignore", ()))
        specs[name] = Spec(**fields)
    return specs


SPECS = _specs()


# ----------------------------------------------------------------------------------------------------------
# The child: one program, one backend.


class SeededRandom:
    """Random tensors of static shape as constants from one seeded stream, in call order (see module doc)."""

    def __init__(self, tf: Any) -> None:
        self.tf = tf
        self.rng = np.random.RandomState(20170101)

    @staticmethod
    def _static(shape: Any) -> tuple[int, ...] | None:
        if isinstance(shape, (int, np.integer)):
            return (int(shape),)
        if isinstance(shape, (list, tuple)) and all(isinstance(d, (int, np.integer)) for d in shape):
            return tuple(int(d) for d in shape)
        return None

    def _numpy_dtype(self, dtype: Any) -> np.dtype:
        return np.dtype(self.tf.as_dtype(dtype).name)

    def _constant_value(self, tensor: Any) -> Any:
        """A scalar tensor computed from constants only (evaluated in a throwaway session); else unchanged."""
        try:
            with self.tf.Session() as session:
                value = session.run(tensor)
        except Exception:  # noqa: BLE001 - anything that needs a feed or a variable stays a tensor
            return tensor
        return float(value) if np.ndim(value) == 0 else tensor

    def wrap(self, kind: str, original: Any) -> Any:
        def random_tensor(shape: Any, *args: Any, **kwargs: Any) -> Any:
            names = {
                "normal": ["mean", "stddev", "dtype", "seed", "name"],
                "truncated": ["mean", "stddev", "dtype", "seed", "name"],
                "uniform": ["minval", "maxval", "dtype", "seed", "name"],
            }[kind]
            params = dict(zip(names, args))
            params.update(kwargs)
            static = self._static(shape)
            for key in ("mean", "stddev", "minval", "maxval"):
                if params.get(key) is not None and not isinstance(params[key], (int, float, np.number)):
                    params[key] = self._constant_value(params[key])  # e.g. stddev=1. / tf.sqrt(shape[0] / 2.)
            numbers = [v for k, v in params.items() if k in ("mean", "stddev", "minval", "maxval") and v is not None]
            if static is None or not all(isinstance(v, (int, float, np.number)) for v in numbers):
                return original(shape, *args, **kwargs)
            dtype = self._numpy_dtype(params.get("dtype") or "float32")
            if kind == "uniform" and dtype.kind in "iu":
                values = self.rng.randint(params.get("minval", 0), params["maxval"], size=static).astype(dtype)
            elif kind == "uniform":
                low, high = params.get("minval", 0.0), params.get("maxval")
                values = self.rng.uniform(low, 1.0 if high is None else high, size=static).astype(dtype)
            else:
                values = self.rng.normal(size=static)
                if kind == "truncated":
                    while np.any(np.abs(values) > 2.0):
                        bad = np.abs(values) > 2.0
                        values[bad] = self.rng.normal(size=int(bad.sum()))
                mean, stddev = params.get("mean", 0.0), params.get("stddev", 1.0)
                values = (mean + stddev * values).astype(dtype)
            return self.tf.constant(values, dtype=self.tf.as_dtype(dtype.name), name=params.get("name"))

        return random_tensor

    def install(self) -> None:
        tf = self.tf
        for owner, name, kind in [
            (tf, "random_normal", "normal"),
            (tf, "truncated_normal", "truncated"),
            (tf, "random_uniform", "uniform"),
            (getattr(tf, "random", None), "normal", "normal"),
            (getattr(tf, "random", None), "truncated_normal", "truncated"),
            (getattr(tf, "random", None), "uniform", "uniform"),
        ]:
            original = getattr(owner, name, None) if owner is not None else None
            if original is not None:  # only where the name exists: a missing name stays missing
                setattr(owner, name, self.wrap(kind, original))


def _import_backend(backend: str) -> Any:
    if backend == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow.compat.v1 as tf  # only when recording references; CI never takes this branch

        tf.disable_v2_behavior()
        tf.logging.set_verbosity(tf.logging.ERROR)
        return tf
    import chainrule

    return chainrule


def _program_frame(tb: Any, program: Path) -> tuple[int | None, str]:
    """The last line of the program itself that the traceback passes through."""
    lineno, line = None, ""
    for frame in traceback.extract_tb(tb):
        if Path(frame.filename).resolve() == program:
            lineno, line = frame.lineno, (frame.line or "").strip()
    return lineno, line


def run_with_tensorflow_as(tf: Any, program: Path) -> None:
    """Run ``program`` as ``__main__`` with its own ``import tensorflow`` statements giving ``tf``.

    The hook sits in the program's builtins only, so libraries it imports (tensorboard, matplotlib) still
    see the real ``tensorflow`` or none, as they would in the user's process.
    """
    real_import = builtins.__import__

    def import_(name: str, globals_: Any = None, locals_: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level == 0 and (name == "tensorflow" or name.startswith("tensorflow.")):
            module = tf
            for part in name.split(".")[1:] if fromlist else ():
                module = getattr(module, part)  # `from tensorflow.x import y`: y is looked up on tf.x
            return module
        return real_import(name, globals_, locals_, fromlist, level)

    program_builtins = dict(vars(builtins), __import__=import_)
    code = compile(program.read_text(), str(program), "exec")
    namespace = {"__name__": "__main__", "__file__": str(program), "__builtins__": program_builtins}
    exec(code, namespace)  # noqa: S102 - running the program is the point


def child(backend: str, name: str, result_path: str) -> None:
    spec = SPECS[name]
    program = (PROGRAMS_DIR / spec.file).resolve()
    tf = _import_backend(backend)
    sys.path.insert(0, str(HERE))  # tf1_synthetic_data
    np.random.seed(0)
    random.seed(0)
    if spec.seeded_random:
        SeededRandom(tf).install()
    out = io.StringIO()
    result: dict[str, Any] = {"ok": True, "error": None, "lineno": None, "line": ""}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work, contextlib.redirect_stdout(out):
        os.chdir(work)
        sys.argv = [str(program)]
        try:
            run_with_tensorflow_as(tf, program)
        except SystemExit as exit_:  # tf.app.run() ends with sys.exit
            if exit_.code not in (None, 0):
                result.update(ok=False, error=f"SystemExit: {exit_.code}")
        except BaseException as error:  # noqa: BLE001 - the report names any failure
            lineno, line = _program_frame(error.__traceback__, program)
            message = str(error).strip().splitlines()
            first = message[0] if message else ""
            result.update(ok=False, error=f"{type(error).__name__}: {first}"[:300], lineno=lineno, line=line)
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["stdout"] = out.getvalue()
    Path(result_path).write_text(json.dumps(result))


# ----------------------------------------------------------------------------------------------------------
# The parent: run, parse, compare.


def run_program(name: str, backend: str = "chainrule", timeout: float = 300.0) -> dict[str, Any]:
    """Run one program in a subprocess; ``{"ok", "error", "lineno", "line", "stdout", "seconds"}``."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    if backend == "chainrule":
        env["PYTHONPATH"] = os.pathsep.join(p for p in [str(SRC), env.get("PYTHONPATH", "")] if p)
    with tempfile.TemporaryDirectory() as tmp:
        result_path = str(Path(tmp) / "result.json")
        command = [sys.executable, str(Path(__file__).resolve()), "child", backend, name, result_path]
        try:
            completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": f"timed out after {timeout:.0f} s", "lineno": None, "line": "",
                    "stdout": "", "seconds": timeout}  # fmt: skip
        if not Path(result_path).exists():
            tail = (completed.stderr or "").strip().splitlines()[-1:] or [f"exit {completed.returncode}"]
            return {"ok": False, "error": f"crashed: {tail[0]}", "lineno": None, "line": "", "stdout": "",
                    "seconds": 0.0}  # fmt: skip
        return json.loads(Path(result_path).read_text())


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?\b(?:nan|inf)\b", re.IGNORECASE)


def numbers(stdout: str) -> list[tuple[float, float, int]]:
    """Each number printed: ``(value, half a unit in its last printed place, line index)``."""
    found = []
    for index, line in enumerate(stdout.splitlines()):
        for match in _NUMBER.finditer(line):
            text = match.group(0)
            mantissa = re.split(r"[eE]", text)[0]
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
            exponent = int(re.split(r"[eE]", text)[1]) if re.search(r"[eE]", text) else 0
            found.append((float(text), 0.5 * 10.0 ** (exponent - decimals), index))
    return found


def _kept_lines(stdout: str, spec: Spec) -> list[str]:
    return [line for line in stdout.splitlines() if not any(re.search(p, line) for p in spec.ignore)]


def compare(reference_stdout: str, stdout: str, spec: Spec) -> str | None:
    """None when every printed number agrees with TensorFlow's; else the first difference, in words."""
    want_lines, got_lines = _kept_lines(reference_stdout, spec), _kept_lines(stdout, spec)
    want, got = numbers("\n".join(want_lines)), numbers("\n".join(got_lines))
    for (w, w_ulp, w_line), (g, g_ulp, g_line) in zip(want, got):
        both_nan = np.isnan(w) and np.isnan(g)
        tolerance = spec.atol + spec.rtol * abs(w) + 2.0 * max(w_ulp, g_ulp)  # printed rounding on both sides
        if not both_nan and not abs(w - g) <= tolerance:
            return f"TF printed {want_lines[w_line].strip()!r}, chainrule {got_lines[g_line].strip()!r}"
    if len(want) != len(got):
        return f"TF printed {len(want)} numbers, chainrule {len(got)}"
    for w_text, g_text in zip(want_lines, got_lines):  # lines without numbers are text: compared as text
        if not _NUMBER.search(w_text) and w_text.strip() != g_text.strip():
            return f"TF printed {w_text.strip()!r}, chainrule {g_text.strip()!r}"
    if len(want_lines) != len(got_lines):
        return f"TF printed {len(want_lines)} lines, chainrule {len(got_lines)}"
    return None


def _dotted(node: ast.AST) -> str | None:
    """``tf.nn.relu`` for an attribute chain rooted at the name ``tf``; None otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "tf" and parts:
        return ".".join(["tf", *reversed(parts)])
    return None


def missing_names(name: str, module: Any) -> list[str]:
    """The ``tf.*`` names a program uses (read from its source) that ``module`` lacks, in order of first use.

    Only the longest chains are resolved, each up to its first missing part (``tf.contrib.rnn.X``:
    ``tf.contrib``); attributes of what a call returns (``sess.run``) are not seen.
    """
    tree = ast.parse((PROGRAMS_DIR / SPECS[name].file).read_text())
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    chains = sorted(
        ((n.lineno, n.col_offset, d) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and id(n) not in inner
         and (d := _dotted(n)) is not None),
    )  # fmt: skip
    missing: list[str] = []
    for _, _, dotted in chains:
        target = module
        for depth, part in enumerate(dotted.split(".")[1:], start=2):
            if not hasattr(target, part):
                first_missing = ".".join(dotted.split(".")[:depth])
                if first_missing not in missing:
                    missing.append(first_missing)
                break
            target = getattr(target, part)
    return missing


def reference(name: str) -> dict[str, Any]:
    return json.loads((REFERENCES_DIR / f"{name}.json").read_text())


def check(name: str, timeout: float = 300.0) -> dict[str, Any]:
    """Run a program under chainrule and compare: the result plus ``matches`` and ``difference``."""
    result = run_program(name, "chainrule", timeout)
    result["matches"] = False
    result["difference"] = None
    want = reference(name)
    if result["ok"] and want["ok"]:
        result["difference"] = compare(want["stdout"], result["stdout"], SPECS[name])
    elif result["ok"]:
        result["difference"] = f"TF raised {want['error']} at line {want['lineno']}; chainrule ran on"
    elif not want["ok"] and (result["error"] or "").split(":")[0] == want["error"].split(":")[0] and \
            result["lineno"] == want["lineno"]:  # fmt: skip
        result["difference"] = compare(want["stdout"], result["stdout"], SPECS[name])  # the same error, same line
        result["ok"] = True
    result["matches"] = result["ok"] and result["difference"] is None
    return result


def record(names: list[str]) -> None:
    """Run the programs under TensorFlow's compat.v1 and store what they print (done once, by hand)."""
    import tensorflow as real_tf  # recording only

    REFERENCES_DIR.mkdir(exist_ok=True)
    for name in names:
        result = run_program(name, "tensorflow", timeout=1200.0)
        entry = {
            "program": SPECS[name].file,
            "tensorflow": real_tf.__version__,
            "command": f"python tests/tf1_programs/tf1_harness.py record {name}  (the program's `import "
            "tensorflow` gives tensorflow.compat.v1 after disable_v2_behavior())",
            "seeded_random": SPECS[name].seeded_random,
            "ok": result["ok"],
            "error": result["error"],
            "lineno": result["lineno"],
            "line": result["line"],
            "stdout": result["stdout"],
            "numbers": [value for value, _, _ in numbers(result["stdout"])],
        }
        (REFERENCES_DIR / f"{name}.json").write_text(json.dumps(entry, indent=1) + "\n")
        status = "ok" if result["ok"] else result["error"]
        print(f"{name}: {status} ({result['seconds']} s, {len(entry['numbers'])} numbers)")


if __name__ == "__main__":
    if sys.argv[1] == "child":
        child(*sys.argv[2:5])
    elif sys.argv[1] == "record":
        record(sys.argv[2:] or sorted(SPECS))
    else:
        raise SystemExit("usage: tf1_harness.py record [NAME ...] | child BACKEND NAME RESULT")
