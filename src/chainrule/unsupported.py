"""TF 1.x names chainrule deliberately does not provide, each with what to use instead.

``chainrule.__getattr__`` (and the one it installs on ``chainrule.train``) reads these tables, so that
``tf.data`` after ``import chainrule as tf`` raises an AttributeError that says chainrule does not support
it and what to do, rather than a bare "has no attribute". A name chainrule does define is never looked up
here (a module's ``__getattr__`` runs only when the ordinary lookup fails), so an entry goes stale
harmlessly if the name is added later. docs/tf1_compatibility.md is generated from these tables too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

_FEED = "feed NumPy arrays through tf.placeholder with feed_dict (read and batch the data in Python)"
_STRINGS = "keep strings in Python, map them to integer ids (a dict or NumPy) and feed the ids"
# String constants, placeholders, feeds and fetches (bytes) are supported, as TF's dtype string; ops on them are not.
_STRING_OPS = ("string ops (string constants, placeholders and identity are supported)", _STRINGS)
_QUEUES = "queues and input threads are not part of chainrule: " + _FEED
_DISTRIBUTED = "run the graph in one process with a tf.Session (chainrule has no distributed sessions)"
_EAGER = "chainrule builds graphs; write the step as a graph and run it in a Session, or use cr.function/cr.grad"

# name -> (what it is, what to use instead)
TOP_LEVEL: dict[str, tuple[str, str]] = {
    "contrib": (
        "TF 1.x's add-on modules, removed in TF 2",
        "use the core name chainrule has (tf.nn, tf.layers, tf.train, tf.linalg) or write it from tf ops",
    ),
    "data": ("input pipelines", _FEED),
    "estimator": (
        "the high-level training API",
        "write the loop: a Session, optimizer.minimize(loss) and sess.run(train_op, feed_dict)",
    ),
    "keras": (
        "the Keras API",
        "build the model from variables and tf.nn/tf.layers ops; train it with a tf.train optimizer",
    ),
    "feature_column": ("feature columns", "encode features in NumPy, or with tf.one_hot / tf.nn.embedding_lookup"),
    "saved_model": ("the SavedModel format", "save variables with tf.train.Saver and rebuild the graph in Python"),
    "lite": ("TensorFlow Lite", "not applicable: chainrule runs graphs in Python on NumPy"),
    "tpu": ("TPUs", "not applicable: chainrule runs graphs on NumPy (GPU and cluster backends are planned)"),
    "distribute": ("distribution strategies", _DISTRIBUTED),
    "gfile": ("TF's file API", "use Python's open, os and glob"),
    "io": ("file, serialization and parsing ops", "read and decode files in Python; " + _FEED),
    "python_io": ("TFRecord files", "read and write records in Python; " + _FEED),
    "load_op_library": (
        "compiled op libraries",
        "register a Python (NumPy) kernel with cr.custom_op and a gradient with cr.RegisterGradient",
    ),  # fmt: skip
    "load_library": ("compiled op libraries", "register a Python (NumPy) kernel with cr.custom_op"),
    "enable_eager_execution": ("eager execution", _EAGER),
    "GradientTape": ("eager gradients", "use tf.gradients(ys, xs) on the graph, or cr.grad(f)"),
    "FIFOQueue": ("queues", _QUEUES),
    "RandomShuffleQueue": ("queues", _QUEUES),
    "PaddingFIFOQueue": ("queues", _QUEUES),
    "PriorityQueue": ("queues", _QUEUES),
    "QueueBase": ("queues", _QUEUES),
    "TextLineReader": ("reader ops", _FEED),
    "TFRecordReader": ("reader ops", _FEED),
    "WholeFileReader": ("reader ops", _FEED),
    "FixedLengthRecordReader": ("reader ops", _FEED),
    "IdentityReader": ("reader ops", _FEED),
    "ReaderBase": ("reader ops", _FEED),
    "read_file": ("file ops", "read the file in Python and feed its contents"),
    "write_file": ("file ops", "write the fetched value from Python"),
    "parse_example": ("tf.Example parsing", _FEED),
    "parse_single_example": ("tf.Example parsing", _FEED),
    "FixedLenFeature": ("tf.Example parsing", _FEED),
    "VarLenFeature": ("tf.Example parsing", _FEED),
    "decode_csv": ("CSV decoding ops", "read the CSV with numpy.loadtxt or the csv module; " + _FEED),
    "decode_raw": _STRING_OPS,
    "decode_base64": _STRING_OPS,
    "encode_base64": _STRING_OPS,
    "strings": _STRING_OPS,
    "string_split": _STRING_OPS,
    "string_join": _STRING_OPS,
    "string_to_number": _STRING_OPS,
    "string_to_hash_bucket": _STRING_OPS,
    "string_to_hash_bucket_fast": _STRING_OPS,
    "string_to_hash_bucket_strong": _STRING_OPS,
    "as_string": _STRING_OPS,
    "substr": _STRING_OPS,
    "reduce_join": _STRING_OPS,
    "regex_replace": _STRING_OPS,
}

TRAIN: dict[str, tuple[str, str]] = {
    "ClusterSpec": ("distributed training", _DISTRIBUTED),
    "Server": ("distributed training", _DISTRIBUTED),
    "replica_device_setter": ("distributed training", _DISTRIBUTED),
    "SyncReplicasOptimizer": ("distributed training", _DISTRIBUTED),
    "MonitoredTrainingSession": (
        "monitored sessions and hooks",
        "use a tf.Session and a Python loop (save with tf.train.Saver)",
    ),
    "MonitoredSession": ("monitored sessions and hooks", "use a tf.Session and a Python loop"),
    "SingularMonitoredSession": ("monitored sessions and hooks", "use a tf.Session and a Python loop"),
    "Supervisor": ("supervised sessions", "use a tf.Session and a Python loop (save with tf.train.Saver)"),
    "Scaffold": ("monitored sessions and hooks", "use a tf.Session and a Python loop"),
    "SessionRunHook": ("session hooks", "put the hook's code in the Python training loop"),
    "StopAtStepHook": ("session hooks", "put the hook's code in the Python training loop"),
    "LoggingTensorHook": ("session hooks", "fetch the tensors with sess.run and print them"),
    "CheckpointSaverHook": ("session hooks", "call tf.train.Saver().save in the loop"),
    "SummarySaverHook": ("session hooks", "run tf.summary.merge_all() and add_summary in the loop"),
    "NanTensorHook": ("session hooks", "check the fetched loss with numpy.isnan in the loop"),
    "Coordinator": ("queue runner threads", _QUEUES),
    "QueueRunner": ("queue runner threads", _QUEUES),
    "start_queue_runners": ("queue runner threads", _QUEUES),
    "add_queue_runner": ("queue runner threads", _QUEUES),
    "string_input_producer": ("queue-based input", _QUEUES),
    "input_producer": ("queue-based input", _QUEUES),
    "range_input_producer": ("queue-based input", _QUEUES),
    "slice_input_producer": ("queue-based input", _QUEUES),
    "limit_epochs": ("queue-based input", _QUEUES),
    "batch": ("queue-based batching", _QUEUES),
    "batch_join": ("queue-based batching", _QUEUES),
    "shuffle_batch": ("queue-based batching", _QUEUES),
    "shuffle_batch_join": ("queue-based batching", _QUEUES),
    "maybe_batch": ("queue-based batching", _QUEUES),
    "Example": ("Example protocol buffers", _FEED),
    "SequenceExample": ("Example protocol buffers", _FEED),
    "Features": ("Example protocol buffers", _FEED),
    "Feature": ("Example protocol buffers", _FEED),
    "BytesList": ("Example protocol buffers", _FEED),
    "FloatList": ("Example protocol buffers", _FEED),
    "Int64List": ("Example protocol buffers", _FEED),
}


def message(prefix: str, name: str, entry: tuple[str, str]) -> str:
    """The error text for ``prefix.name`` (``tf.data``), an entry of one of the tables."""
    what, instead = entry
    return (f"module {'chainrule' if prefix == 'tf' else 'chainrule.' + prefix[3:]!r} has no attribute {name!r}: "
            f"chainrule does not support {prefix}.{name} ({what}); instead, {instead}. "
            "See docs/tf1_compatibility.md.")  # fmt: skip


def module_getattr(module: str, prefix: str, table: dict[str, tuple[str, str]]) -> Callable[[str], NoReturn]:
    """A module-level ``__getattr__`` (PEP 562) for ``module``: known-unsupported names get the explanation."""

    def unsupported_getattr(name: str) -> NoReturn:
        if name in table:
            raise AttributeError(message(prefix, name, table[name]), name=name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}", name=name)

    return unsupported_getattr
