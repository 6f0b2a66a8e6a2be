"""Generate docs/tf1_compatibility.md: which TF 1.x API families chainrule supports, read from the code.

    python docs/tf1_compatibility.py            # rewrite docs/tf1_compatibility.md (needs no TensorFlow)
    python docs/tf1_compatibility.py --record   # once, by hand: list TF's compat.v1 names into tf1_names.json

The TF 1.x public names come from tf1_names.json, recorded from TensorFlow 2.21's ``tf.compat.v1``
(TF 1.x's API as TF 2 keeps it; ``tf.contrib`` and ``tf.estimator`` are gone from it, so those families are
named from chainrule's table of deliberately unsupported names instead). A name counts as present when
``getattr`` finds it on chainrule's namespace; names chainrule/unsupported.py lists are "not supported,
deliberately". The table of ported programs comes from running them (benchmarks/tf1_programs_report.py).
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NAMES = HERE / "tf1_names.json"
PAGE = HERE / "tf1_compatibility.md"
ROOT = HERE.parent

# Family -> the compat.v1 namespace it is read from ("" is the top level).
NAMESPACES = {
    "tf.nn": "nn",
    "tf.layers": "layers",
    "tf.losses": "losses",
    "tf.metrics": "metrics",
    "tf.train": "train",
    "tf.summary": "summary",
    "tf.initializers": "initializers",
    "tf.random": "random",
    "tf.math": "math",
    "tf.linalg": "linalg",
    "tf.image": "image",
    "tf.sparse": "sparse",
    "tf.errors": "errors",
    "tf.test": "test",
    "tf.app / tf.flags / tf.logging": "app flags logging",
    "tf.data": "data",
    "tf.strings": "strings",
    "tf.io": "io",
}
QUEUE_WORDS = ("Queue", "Reader", "queue_runner", "input_producer", "batch_join", "shuffle_batch", "Coordinator")
STRING_WORDS = ("string", "decode_", "encode_", "as_string", "substr", "reduce_join", "regex_")
DISTRIBUTED = ["train.ClusterSpec", "train.Server", "train.replica_device_setter", "train.SyncReplicasOptimizer",
               "train.MonitoredTrainingSession", "distribute"]  # fmt: skip


# tf.layers as TF 1.15 documents it (compat.v1.layers needs Keras 2, which TF 2.21 does not ship).
TF115_FALLBACK = {
    "layers": ["AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "BatchNormalization", "Conv1D", "Conv2D",
               "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Dense", "Dropout", "Flatten", "InputSpec", "Layer",
               "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "SeparableConv1D", "SeparableConv2D",
               "average_pooling1d", "average_pooling2d", "average_pooling3d", "batch_normalization", "conv1d",
               "conv2d", "conv2d_transpose", "conv3d", "conv3d_transpose", "dense", "dropout", "flatten",
               "max_pooling1d", "max_pooling2d", "max_pooling3d", "separable_conv1d", "separable_conv2d"],
}  # fmt: skip


def record() -> None:
    import tensorflow as real_tf
    import tensorflow.compat.v1 as tf  # by hand only: the docs build needs no TensorFlow

    def public(module: Any) -> list[str]:
        return sorted(n for n in dir(module) if not n.startswith("_"))

    def load(module: Any, name: str) -> Any:
        try:
            found = getattr(module, name)
            dir(found)  # a lazy module loads here
            return found
        except (ImportError, AttributeError):  # lazy Keras-backed modules (tf.layers) fail without tf_keras
            return None

    top = public(tf)
    namespaces, unloadable = {}, []
    for spaces in NAMESPACES.values():
        for space in spaces.split():
            module = load(tf, space)
            if module is None:
                unloadable.append(space)
            namespaces[space] = public(module) if module is not None else TF115_FALLBACK.get(space, [])
    data = {
        "recorded_from": f"tensorflow {real_tf.__version__}, tf.compat.v1 (dir(), names not starting with _)",
        "unloadable_in_that_tensorflow": {s: "names from TF 1.15's API documentation" for s in unloadable},
        "modules": [n for n in top if inspect.ismodule(load(tf, n))],
        "top_level": [n for n in top if not inspect.ismodule(load(tf, n))],
        "namespaces": namespaces,
    }
    NAMES.write_text(json.dumps(data, indent=0) + "\n")
    print(f"wrote {NAMES}: {len(data['top_level'])} top-level names, {len(namespaces)} namespaces")


def _has(module: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(module, part):
            return False
        module = getattr(module, part)
    return True


def families(cr: Any, unsupported: Any) -> list[tuple[str, int, int, list[str], str]]:
    """``(family, present, total, missing names, status)`` for each family."""
    data = json.loads(NAMES.read_text())
    deliberate = set(unsupported.TOP_LEVEL) | {f"train.{n}" for n in unsupported.TRAIN}
    top = data["top_level"]
    queue_names = [n for n in top if any(w in n for w in QUEUE_WORDS)] + [
        f"train.{n}" for n in data["namespaces"]["train"] if any(w in n for w in QUEUE_WORDS + ("batch",))
    ]
    string_names = [n for n in top if any(w in n for w in STRING_WORDS)]
    plain_top = [n for n in top if n not in queue_names and n not in string_names]
    rows = [_row("tf.* (top level: ops, graph, session, variables, dtypes)", cr, plain_top, deliberate)]
    for family, spaces in NAMESPACES.items():
        names = [f"{space}.{n}" for space in spaces.split() for n in data["namespaces"][space]]
        names = [n for n in names if n not in queue_names]
        if not names:  # the namespace exists but is empty in compat.v1: the family's own name is the test
            names = spaces.split()
        rows.append(_row(family, cr, names, deliberate, whole=all(w in deliberate for w in spaces.split())))
    rows.append(_row("queues and readers (tf.FIFOQueue, tf.TextLineReader, tf.train.shuffle_batch, ...)", cr,
                     queue_names, deliberate, whole=True))  # fmt: skip
    rows.append(_row("string tensors (tf.string, tf.string_split, tf.decode_csv, ...)", cr, string_names, deliberate,
                     whole=True))  # fmt: skip
    rows.append(_row("distributed (tf.train.ClusterSpec, tf.train.Server, tf.distribute)", cr, DISTRIBUTED, deliberate,
                     whole=True))  # fmt: skip
    for family, name in [("tf.contrib", "contrib"), ("tf.estimator", "estimator"), ("tf.keras", "keras")]:
        rows.append(_row(family, cr, [name], deliberate, whole=True))
    return rows


def _row(family: str, cr: Any, names: list[str], deliberate: set[str], whole: bool = False) -> tuple:
    """One family's row; ``whole``: the family as a whole is deliberately unsupported (chainrule/unsupported.py)."""
    present = [n for n in names if _has(cr, n)]
    missing = [n for n in names if not _has(cr, n)]
    if whole and not present:
        status = "not supported (deliberately)"
    elif not present:
        status = "not yet"
    elif len(present) >= 0.9 * len(names):
        status = "supported"
    else:
        status = "partly"
    return family, len(present), len(names), missing, status


# Ported programs that run but print other numbers than TensorFlow, and why (checked by hand).
KNOWN_DIFFERENCES = {
    "cookbook_01_04_matrices": "`tf.self_adjoint_eig`'s eigenvectors come out with the opposite sign (each "
    "eigenvector's sign is the solver's choice: LAPACK's here, Eigen's in TensorFlow); the eigenvalues agree.",
    "cs20_02_lazy_loading, cs20_02_simple_tf": "they print `Graph.as_graph_def()`: chainrule's graph has other "
    "node names (a variable's initial value is `Const`, not `x/initial_value`) and its GraphDef prints "
    "attributes as Python values, not in protobuf's text format; the numbers the programs compute agree.",
    "cs20_03_logreg_placeholder": "its weights start from `tf.random_normal_initializer()` without a seed, "
    "TensorFlow's random stream, which chainrule does not reproduce (seeded programs are compared on seeded "
    "draws, see tests/tf1_programs/tf1_harness.py).",
}


def programs_table() -> str:
    script = ROOT / "benchmarks" / "tf1_programs_report.py"
    env_path = str(ROOT / "src")
    out = subprocess.run([sys.executable, str(script), "--markdown"], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})  # fmt: skip
    return out.stdout.strip()


def write() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import chainrule as cr
    from chainrule import unsupported

    recorded = json.loads(NAMES.read_text())["recorded_from"].split(",")[0]
    lines = [
        "# TF 1.x compatibility",
        "",
        "chainrule runs TensorFlow 1.x graph-mode programs with `import tensorflow as tf` replaced by",
        "`import chainrule as tf`. This page says how far that holds: which TF 1.x API families chainrule has,",
        "and which real TF 1.x programs run unchanged and print TensorFlow's numbers.",
        "",
        "*Generated by `python docs/tf1_compatibility.py` from the code; do not edit by hand.*",
        "",
        "## API families",
        "",
        "Names counted: TF 1.x's public names as TensorFlow's `tf.compat.v1` lists them (docs/tf1_names.json,",
        f"recorded from {recorded}), looked up on chainrule's namespaces (`tf.nn.relu` counts when",
        "`chainrule.nn.relu` exists). *Deliberately* unsupported families raise an AttributeError that says so",
        "and names the alternative (src/chainrule/unsupported.py). `tf.contrib` and `tf.estimator` are gone",
        "from TF 2.21's compat.v1, so only the family's own name is counted for them; `tf.layers` is counted",
        "from TF 1.15's documented names (compat.v1.layers needs Keras 2).",
        "",
        "| family | status | names present |",
        "|---|---|---|",
    ]
    rows = families(cr, unsupported)
    for family, present, total, _, status in rows:
        lines.append(f"| {family} | {status} | {present} of {total} |")
    lines += [
        "",
        "## Deliberately unsupported, and what to use instead",
        "",
        "| name | what | instead |",
        "|---|---|---|",
    ]
    for prefix, table in [("tf", unsupported.TOP_LEVEL), ("tf.train", unsupported.TRAIN)]:
        for name, (what, instead) in table.items():
            lines.append(f"| `{prefix}.{name}` | {what} | {instead} |")
    lines += ["", "## Ported programs", "",
              "Real TF 1.x programs by others (their sources and what each port changed are in",
              "tests/tf1_programs/programs/index.json; the programs themselves are not in the repository),",
              "run with only the import changed and compared with the numbers TensorFlow 2.21's compat.v1",
              "printed for them (tests/tf1_programs/references), by `python benchmarks/tf1_programs_report.py`.", "",
              programs_table(), "", "Why the others differ:", "",
              *(f"- {name}: {why}" for name, why in KNOWN_DIFFERENCES.items()),
              "", "## Missing names, by family", ""]  # fmt: skip
    for family, _, _, missing, status in rows:
        if missing and not status.startswith("not supported"):
            lines.append(f"- **{family}** ({len(missing)}): " + ", ".join(f"`{n}`" for n in missing))
    PAGE.write_text("\n".join(lines) + "\n")
    print(f"wrote {PAGE}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="list TF's compat.v1 names (needs TensorFlow)")
    if parser.parse_args().record:
        record()
    else:
        write()
