"""``cr.dtypes``: TF 1.x's ``tf.dtypes`` namespace: the dtypes, ``DType`` and ``as_dtype``."""

from chainrule.framework.dtypes import (
    DType,
    as_dtype,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
)
from chainrule.framework.dtypes import (
    bool_ as bool,  # noqa: A004 - TensorFlow's public name
)
from chainrule.framework.dtypes import float16 as half
from chainrule.framework.dtypes import float64 as double

__all__ = [
    "DType", "as_dtype", "bool", "complex64", "complex128", "double", "float16", "float32", "float64", "half", "int8",
    "int16", "int32", "int64", "string", "uint8",
]  # fmt: skip
