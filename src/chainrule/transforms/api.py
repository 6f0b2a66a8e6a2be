"""Derivative transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp.

Each transform is a :class:`~chainrule.transforms.function.Function`: NumPy in, NumPy out,
traced into a graph once per input signature and cached. Inside a trace (or given tensors)
they build their ops inline, so they compose: ``hessian(f) == jacobian(grad(f))``.

Differentiated arguments are float arrays (or nested structures of them); their dtype is
kept. Python numbers in a differentiated position become float64 arrays (these are NumPy-in
functions, so NumPy's default float applies, not TensorFlow's float32).

Reverse-mode products come from ``cr.gradients``. Forward-mode products (``jvp``,
``jacobian(mode="fwd")``, ``hvp(mode="fwd_rev")``) come from ``cr.forward_gradients``: per-op
JVP rules where an op has one, and for any other op the transposition of its gradient (the
vector-Jacobian product ``u -> J^T u`` is linear in ``u``; its derivative along ``v`` is ``J v``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.autodiff.forward import forward_gradients
from chainrule.autodiff.gradients import gradients
from chainrule.framework.graph import Tensor
from chainrule.ops import array_ops, math_ops, reduction_ops
from chainrule.ops.constant_op import constant, convert_to_tensor, placeholder
from chainrule.ops.shape_rules import known_dims
from chainrule.transforms import pytree
from chainrule.transforms.function import (
    Deferred,
    Function,
    LinearProgram,
    as_float_array,
    cached_transform,
    is_tensor_like,
    is_tracing,
    register_program,
    to_user,
)

# Up to this many basis vectors a Jacobian is one stacked graph (one gradient per row or
# column, all in the graph); beyond it the linear part is built once and run per vector.
MAX_STACKED = 16

# The default Hessian-vector product. Forward over reverse builds a smaller graph (and traces
# faster) but ran no faster per call in benchmarks/RESULTS_BA.md, so reverse over reverse stays.
HVP_MODE = "rev_rev"


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _fn_name(fun: Callable[..., Any]) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def _argnums(argnums: int | Sequence[int], what: str) -> tuple[tuple[int, ...], bool]:
    nums: tuple[int, ...]
    if isinstance(argnums, (int, np.integer)):
        nums, single = (int(argnums),), True
    else:
        nums, single = tuple(int(i) for i in argnums), False
        if not nums:
            raise ValueError(f"{what}: argnums must name at least one argument")
    if any(i < 0 for i in nums):
        raise ValueError(f"{what}: argnums must be non-negative, got {argnums!r}")
    if len(set(nums)) != len(nums):
        raise ValueError(f"{what}: repeated argnums {argnums!r}")
    return nums, single


def _as_float_tensor(x: Any, what: str) -> Tensor:
    if is_tensor_like(x):
        t = convert_to_tensor(x)
        if not t.dtype.is_floating:
            raise TypeError(f"{what}: derivatives need float inputs, got tensor {t.name} of dtype {t.dtype.name}")
        return t
    return constant(as_float_array(x, what))


def _wrap_args(
    args: Sequence[Any], argnums: Sequence[int], what: str
) -> tuple[list[Any], list[tuple[Any, list[Tensor]]]]:
    """Give every leaf of the differentiated arguments its own identity tensor.

    Differentiating with respect to these fresh tensors (not the caller's) keeps nested
    transforms apart: an outer tensor that also reaches the output another way is not
    mistaken for the inner variable.
    """
    args = list(args)
    parts = []
    for i in argnums:
        if i >= len(args):
            raise TypeError(f"{what}: argnums {i} is out of range for a call with {len(args)} positional arguments")
        leaves, td = pytree.flatten(args[i])
        xs = [array_ops.identity(_as_float_tensor(x, what), name="x") for x in leaves]
        args[i] = pytree.unflatten(td, xs)
        parts.append((td, xs))
    return args, parts


def _flat_xs(parts: list[tuple[Any, list[Tensor]]]) -> list[Tensor]:
    return [x for _, xs in parts for x in xs]


def _regroup(parts: list[tuple[Any, list[Tensor]]], values: Sequence[Any]) -> list[Any]:
    """Split a flat list (one value per differentiated leaf) back into per-argument structures."""
    out, pos = [], 0
    for td, xs in parts:
        out.append(pytree.unflatten(td, list(values[pos : pos + len(xs)])))
        pos += len(xs)
    return out


def _scalar_output(out: Any, what: str) -> Tensor:
    """The function's output as a scalar tensor: shape (), or any shape of one element (as autograd)."""
    return _scalar_and_value(out, what)[0]


def _scalar_and_value(out: Any, what: str) -> tuple[Tensor, Tensor]:
    """(the output as a shape-() tensor, the output as returned): one element, any shape, as autograd allows."""
    if not is_tensor_like(out):
        if isinstance(out, (tuple, list, dict)) or out is None:
            raise TypeError(
                f"{what} needs the function to return one scalar tensor, got {type(out).__name__}"
                + ("; to return extra values use has_aux=True" if isinstance(out, (tuple, list)) else "")
            )
        out = constant(np.asarray(out, dtype=np.float64))  # a constant: its derivatives are zero
    t = convert_to_tensor(out)
    if not t.dtype.is_floating:
        raise TypeError(f"{what} needs a float output, but the function returned dtype {t.dtype.name}")
    if t.shape.rank is None or t.shape.rank == 0:
        return t, t
    size = t.shape.num_elements()
    if size == 1:
        return array_ops.reshape(t, []), t  # shape (1,), (1, 1), ...: its one element (autograd's rule)
    raise TypeError(
        f"{what} needs the function to return a scalar (shape ()) or one element (shape (1,), (1, 1), ...), but "
        f"it returned shape {t.shape}; use cr.jacobian or cr.elementwise_grad for non-scalar outputs, or reduce the "
        "output (cr.reduce_sum)"
    )


def _split_aux(out: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{what} with has_aux=True needs the function to return a pair (output, aux)")
    return out[0], out[1]


def _like_primal(t: Any, x: Tensor, what: str) -> Tensor:
    """A tangent/cotangent leaf as a tensor with the dtype and shape of ``x``."""
    if is_tensor_like(t):
        tt = convert_to_tensor(t)
        if tt.dtype != x.dtype:
            tt = math_ops.cast(tt, x.dtype)
    else:
        tt = constant(np.asarray(t, dtype=x.dtype.as_numpy_dtype))
    if x.shape.is_fully_defined() and tt.shape.is_fully_defined() and tt.shape != x.shape:
        raise ValueError(f"{what}: got shape {tt.shape} for a value of shape {x.shape}")
    return tt


def _match(structure: Any, expected_td: Any, what: str) -> list[Any]:
    leaves, td = pytree.flatten(structure)
    if td != expected_td:
        raise ValueError(
            f"{what}: structure {pytree.describe(td)} does not match the expected {pytree.describe(expected_td)}"
        )
    return leaves


def _static_dims(t: Tensor, what: str, role: str) -> list[int]:
    dims = known_dims(t.shape)
    if dims is None:
        raise ValueError(f"{what} needs statically known shapes, but {role} {t.name} has shape {t.shape}")
    return dims


def _connected(derivatives: Sequence[Tensor | None], what: str) -> list[Tensor]:
    """Derivatives of float outputs built with ``unconnected_gradients="zero"``: each one a tensor."""
    out = [d for d in derivatives if d is not None]
    if len(out) != len(derivatives):
        raise AssertionError(f"{what}: a derivative is None although unconnected_gradients='zero'")
    return out


def _basis(shape: Sequence[int], k: int, dtype: Any) -> np.ndarray:
    e = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=dtype)
    e[k] = 1
    return e.reshape(shape)


# --------------------------------------------------------------------------------------------
# grad, value_and_grad
# --------------------------------------------------------------------------------------------
def _grad_builder(fun: Callable[..., Any], argnums: Any, has_aux: bool, with_value: bool, what: str) -> Any:
    nums, single = _argnums(argnums, what)

    def build(*args: Any, **kwargs: Any) -> Any:
        new_args, parts = _wrap_args(args, nums, what)
        out = fun(*new_args, **kwargs)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, what)
        y, value = _scalar_and_value(out, what)
        gs = gradients(y, _flat_xs(parts), unconnected_gradients="zero")
        grads = _regroup(parts, gs)
        g = grads[0] if single else tuple(grads)
        if with_value:
            return ((value, aux) if has_aux else value), g
        return (g, aux) if has_aux else g

    return build, nums


def _backend_key(key: tuple[Any, ...], backend: Any) -> tuple[Any, ...]:
    """The cache key of a transform of ``fun`` kept on ``fun``: one per backend asked for (None: the default's)."""
    return key if backend is None else (*key, backend)


def grad(
    fun: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False, *, backend: Any = None
) -> Function:
    """The gradient of a scalar function, as a NumPy-in, NumPy-out function.

    Parameters
    ----------
    fun : a function of chainrule tensors returning a scalar float tensor
        (with ``has_aux=True``: a pair ``(scalar, aux)``).
    argnums : which positional argument(s) to differentiate; an int gives one gradient
        (in the structure of that argument), a tuple gives a tuple of them.
    has_aux : return ``(gradient, aux)``; aux is computed but not differentiated.
    backend : what runs the graph (``"numpy"``, ``"numba"``, a ``Backend``); None: the
        ``CHAINRULE_BACKEND`` environment variable's, else NumPy. The other transforms take it too.

    Returns
    -------
    A cached function of the same arguments. Python numbers in a differentiated argument
    become float64 arrays; float arrays keep their dtype; integer arrays are refused.

    Examples
    --------
    >>> df = cr.grad(lambda x: cr.reduce_sum(cr.sin(x)))
    >>> df(np.zeros(3))
    array([1., 1., 1.])
    """
    what = f"cr.grad({_fn_name(fun)})"
    build, nums = _grad_builder(fun, argnums, has_aux, False, what)
    return Function(fun, symbolic=build, float_argnums=nums, name=what, backend=backend)


def value_and_grad(
    fun: Callable[..., Any], argnums: int | Sequence[int] = 0, has_aux: bool = False, *, backend: Any = None
) -> Function:
    """Like :func:`grad`, but returns ``(value, gradient)`` from one run of one graph.

    With ``has_aux=True`` it returns ``((value, aux), gradient)``.
    """
    what = f"cr.value_and_grad({_fn_name(fun)})"
    build, nums = _grad_builder(fun, argnums, has_aux, True, what)
    return Function(fun, symbolic=build, float_argnums=nums, name=what, backend=backend)


def elementwise_grad(fun: Callable[..., Any], argnum: int | Sequence[int] = 0, *, backend: Any = None) -> Function:
    """The gradient of the sum of ``fun``'s outputs (HIPS autograd's ``elementwise_grad``).

    One reverse pass seeded with ones: the sum of each column of the Jacobian, which is its
    diagonal when the Jacobian is diagonal (``fun`` acts elementwise), e.g.
    ``cr.elementwise_grad(cr.tanh)(x) == 1 - tanh(x)**2`` for an array ``x``. ``fun`` may return
    any float tensor, or a structure of them (their sum is differentiated); ``argnum`` is
    autograd's name (an int, or a tuple for a tuple of gradients).
    """
    what = f"cr.elementwise_grad({_fn_name(fun)})"
    nums, single = _argnums(argnum, what)

    def build(*args: Any, **kwargs: Any) -> Any:
        new_args, parts = _wrap_args(args, nums, what)
        out = fun(*new_args, **kwargs)
        ys = [y for y in _float_outputs(pytree.flatten(out)[0]) if y is not None]
        if not ys:
            raise TypeError(f"{what} needs the function to return float tensors, got {type(out).__name__}")
        grads = _regroup(parts, gradients(ys, _flat_xs(parts), unconnected_gradients="zero"))
        return grads[0] if single else tuple(grads)

    return Function(fun, symbolic=build, float_argnums=nums, name=what, backend=backend)


# --------------------------------------------------------------------------------------------
# vjp
# --------------------------------------------------------------------------------------------
def _run_forward_part(
    fun: Callable[..., Any],
    kind: str,
    make_lower: Callable[[], Any],
    primals: tuple[Any, ...],
    what: str,
    backend: Any,
) -> tuple[Any, Any, Any, Any]:
    """The forward part of a two-part transform (vjp, linearize) of ``fun`` at ``primals``, run.

    The program is traced once per signature and kept with ``fun``; the forward part keeps the
    values the second part needs. Returns ``(concrete, dynamic, fetched, out)``.
    """
    transform = cached_transform(
        fun,
        _backend_key((kind, len(primals)), backend),
        lambda: Function(fun, lower=make_lower(), float_argnums=tuple(range(len(primals))), name=what, backend=backend),
    )
    found = transform.lookup(primals, {})
    assert found is not None
    concrete, dynamic = found
    fetched = concrete.forward(dynamic)
    return concrete, dynamic, fetched, concrete.output_structure(fetched, dynamic)


def vjp(fun: Callable[..., Any], *primals: Any, backend: Any = None) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """The output of ``fun(*primals)`` and a function pulling cotangents back to the primals.

    Returns ``(out, vjp_fn)``; ``vjp_fn(ct)`` takes a cotangent in the structure of ``out``
    and returns a tuple with one cotangent per primal, ``(J_i^T ct for each primal i)``.

    The graph (forward and backward) is built once per input signature and kept with ``fun``.
    The forward part runs when ``vjp`` is called and keeps the values the backward part
    needs, so each ``vjp_fn`` call runs only the backward part.
    """
    what = f"cr.vjp({_fn_name(fun)})"
    if is_tracing() or any(is_tensor_like(x) for x in pytree.flatten(primals)[0]):
        return _vjp_inline(fun, primals, what)
    concrete, dynamic, fetched, out = _run_forward_part(
        fun, "vjp", lambda: _vjp_lower(fun, what), primals, what, backend
    )
    program = concrete.programs[0]
    out_td, ct_specs, primal_parts = program.meta

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        leaves = _match(ct, out_td, f"{what}: the cotangent")
        values = []
        for leaf, spec in zip(leaves, ct_specs):
            if spec is None:
                continue  # an integer or constant output carries no cotangent
            shape, dtype = spec
            arr = np.asarray(leaf, dtype=dtype)
            if arr.shape != shape:
                raise ValueError(f"{what}: cotangent of shape {arr.shape} for an output of shape {shape}")
            values.append(arr)
        gs = concrete.run_linear(0, fetched, values)
        owned = values + [f for f in fetched if isinstance(f, np.ndarray)]  # never hand out a kept residual
        return tuple(_regroup(primal_parts, [to_user(g, owned) for g in gs]))

    return out, vjp_fn


def _vjp_lower(fun: Callable[..., Any], what: str) -> Callable[..., Any]:
    def lower(*primals: Any) -> Any:
        new, parts = _wrap_args(primals, range(len(primals)), what)
        out = fun(*new)
        leaves, out_td = pytree.flatten(out)
        ys: list[Tensor] = []
        cts: list[Tensor] = []
        specs: list[tuple[tuple[int, ...], Any] | None] = []  # (shape, dtype) of each float output's cotangent
        for leaf in leaves:
            if is_tensor_like(leaf) and convert_to_tensor(leaf).dtype.is_floating:
                y = convert_to_tensor(leaf)
                dims = _static_dims(y, what, "output")
                ys.append(y)
                cts.append(placeholder(y.dtype, dims, name="cotangent"))
                specs.append((tuple(dims), y.dtype.as_numpy_dtype))
            else:
                specs.append(None)
        xs = _flat_xs(parts)
        gs = (
            _connected(gradients(ys, xs, grad_ys=cts, unconnected_gradients="zero"), what)
            if ys
            else [array_ops.zeros_like(x) for x in xs]
        )
        register_program(LinearProgram(cts, gs, meta=(out_td, specs, [(td, xs) for td, xs in parts])))
        return out

    return lower


def _vjp_inline(fun: Callable[..., Any], primals: Sequence[Any], what: str) -> Any:
    new, parts = _wrap_args(primals, range(len(primals)), what)
    out = fun(*new)
    leaves, out_td = pytree.flatten(out)

    def vjp_fn(ct: Any) -> tuple[Any, ...]:
        ct_leaves = _match(ct, out_td, f"{what}: the cotangent")
        ys, cts = [], []
        for leaf, c in zip(leaves, ct_leaves):
            if is_tensor_like(leaf) and convert_to_tensor(leaf).dtype.is_floating:
                y = convert_to_tensor(leaf)
                ys.append(y)
                cts.append(_like_primal(c, y, f"{what}: the cotangent"))
        xs = _flat_xs(parts)
        gs = (
            gradients(ys, xs, grad_ys=cts, unconnected_gradients="zero")
            if ys
            else [array_ops.zeros_like(x) for x in xs]
        )
        return tuple(_regroup(parts, gs))

    return out, vjp_fn


# --------------------------------------------------------------------------------------------
# jvp (forward mode)
# --------------------------------------------------------------------------------------------
def _float_outputs(leaves: list[Any]) -> list[Tensor | None]:
    out: list[Tensor | None] = []
    for leaf in leaves:
        t = convert_to_tensor(leaf) if is_tensor_like(leaf) else None
        out.append(t if t is not None and t.dtype.is_floating else None)
    return out


def _jvp_builder(fun: Callable[..., Any], what: str) -> Callable[..., Any]:
    def build(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        new, parts = _wrap_args(primals, range(len(primals)), what)
        xs = _flat_xs(parts)
        t_leaves = []
        for (td, part_xs), t in zip(parts, tangents):
            for leaf, x in zip(_match(t, td, f"{what}: the tangent"), part_xs):
                t_leaves.append(_like_primal(leaf, x, f"{what}: the tangent"))
        out = fun(*new)
        leaves, out_td = pytree.flatten(out)
        ys = _float_outputs(leaves)
        live = [y for y in ys if y is not None]
        jvps = forward_gradients(live, xs, t_leaves, unconnected_gradients="zero") if live else []
        it = iter(jvps)
        t_out: list[Any] = []
        for leaf, y in zip(leaves, ys):
            if y is not None:
                t_out.append(next(it))
            elif is_tensor_like(leaf):
                t_out.append(array_ops.zeros_like(leaf))
            else:
                t_out.append(np.zeros_like(np.asarray(leaf)))
        return out, pytree.unflatten(out_td, t_out)

    return build


def jvp(
    fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, backend: Any = None
) -> tuple[Any, Any]:
    """Forward-mode product: ``(fun(*primals), J · tangents)``.

    ``primals`` and ``tangents`` are tuples (one entry per argument of ``fun``) of the same
    structure. Computed in forward mode (``cr.forward_gradients``: per-op JVP rules, and the
    transposed gradient for ops without one); the graph is built once per signature and kept
    with ``fun``.
    """
    what = f"cr.jvp({_fn_name(fun)})"
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{what}: primals and tangents must be tuples (one entry per argument)")
    if len(primals) != len(tangents):
        raise ValueError(f"{what}: {len(primals)} primals but {len(tangents)} tangents")
    build = _jvp_builder(fun, what)
    if is_tracing() or any(is_tensor_like(x) for x in pytree.flatten((primals, tangents))[0]):
        return build(primals, tangents)
    transform = cached_transform(
        fun,
        _backend_key(("jvp",), backend),
        lambda: Function(fun, symbolic=build, float_argnums=(0, 1), name=what, backend=backend),
    )
    return transform(tuple(primals), tuple(tangents))


# --------------------------------------------------------------------------------------------
# jacobian, hessian
# --------------------------------------------------------------------------------------------
def _jacobian_builder(
    fun: Callable[..., Any], nums: tuple[int, ...], single: bool, mode: str, deferred: bool, what: str
) -> Callable[..., Any]:
    def build(*args: Any, **kwargs: Any) -> Any:
        new_args, parts = _wrap_args(args, nums, what)
        out = fun(*new_args, **kwargs)
        leaves, out_td = pytree.flatten(out)
        ys = []
        for leaf in leaves:
            y = convert_to_tensor(leaf) if is_tensor_like(leaf) else constant(np.asarray(leaf, dtype=np.float64))
            if not y.dtype.is_floating:
                raise TypeError(f"{what}: outputs must be float, got {y.name} of dtype {y.dtype.name}")
            ys.append(y)
        xs = _flat_xs(parts)
        y_dims = [_static_dims(y, what, "output") for y in ys]
        x_dims = [_static_dims(x, what, "input") for x in xs]
        m = sum(int(np.prod(d, dtype=np.int64)) for d in y_dims)
        n = sum(int(np.prod(d, dtype=np.int64)) for d in x_dims)
        forward = mode == "fwd" or (mode == "auto" and n < m)
        blocks = (_jacobian_fwd if forward else _jacobian_rev)(ys, xs, y_dims, x_dims, deferred)
        per_output = []
        for row in blocks:
            grouped = _regroup(parts, row)
            per_output.append(grouped[0] if single else tuple(grouped))
        return pytree.unflatten(out_td, per_output)

    return build


def _jacobian_rev(
    ys: list[Tensor], xs: list[Tensor], y_dims: list[list[int]], x_dims: list[list[int]], deferred: bool
) -> list[list[Any]]:
    """Blocks ``J[i][j]`` of shape ``y_i.shape + x_j.shape``, one reverse pass per element of y_i."""
    blocks: list[list[Any]] = []  # tensors, or Deferred values of a linear program
    for y, yd in zip(ys, y_dims):
        m = int(np.prod(yd, dtype=np.int64))
        np_dtype = y.dtype.as_numpy_dtype
        if deferred and m > MAX_STACKED:
            u = placeholder(y.dtype, yd, name="cotangent")
            gs = _connected(gradients(y, xs, grad_ys=u, unconnected_gradients="zero"), "cr.jacobian")

            def evaluate(run: Any, yd: list[int] = yd, m: int = m, np_dtype: Any = np_dtype) -> list[Any]:
                rows = [run([_basis(yd, k, np_dtype)]) for k in range(m)]
                return [np.stack([np.asarray(r[j]) for r in rows]).reshape(yd + xd) for j, xd in enumerate(x_dims)]

            program = LinearProgram([u], gs, evaluate)
            blocks.append([Deferred(program, j) for j in range(len(xs))])
            continue
        rows = [
            gradients(y, xs, grad_ys=constant(_basis(yd, k, np_dtype)), unconnected_gradients="zero") for k in range(m)
        ]
        blocks.append(
            [
                array_ops.reshape(array_ops.stack([r[j] for r in rows]), yd + xd)
                if m
                else array_ops.zeros(yd + xd, dtype=x.dtype)
                for j, (x, xd) in enumerate(zip(xs, x_dims))
            ]
        )
    return blocks


def _jacobian_fwd(
    ys: list[Tensor], xs: list[Tensor], y_dims: list[list[int]], x_dims: list[list[int]], deferred: bool
) -> list[list[Any]]:
    """Blocks ``J[i][j]``, one column (a forward-mode Jacobian-vector product) per element of x_j."""
    blocks: list[list[Any]] = [[None] * len(xs) for _ in ys]
    for j, (x, xd) in enumerate(zip(xs, x_dims)):
        n = int(np.prod(xd, dtype=np.int64))
        np_dtype = x.dtype.as_numpy_dtype
        if deferred and n > MAX_STACKED:
            v = placeholder(x.dtype, xd, name="tangent")
            jvps = _connected(forward_gradients(ys, [x], [v], unconnected_gradients="zero"), "cr.jacobian")

            def evaluate(run: Any, xd: list[int] = xd, n: int = n, np_dtype: Any = np_dtype) -> list[Any]:
                cols = [run([_basis(xd, k, np_dtype)]) for k in range(n)]
                return [
                    np.stack([np.asarray(c[i]) for c in cols], axis=-1).reshape(yd + xd)
                    if n
                    else np.zeros(yd + xd, dtype=ys[i].dtype.as_numpy_dtype)
                    for i, yd in enumerate(y_dims)
                ]

            program = LinearProgram([v], jvps, evaluate)
            for i in range(len(ys)):
                blocks[i][j] = Deferred(program, i)
            continue
        cols = [
            forward_gradients(ys, [x], [constant(_basis(xd, k, np_dtype))], unconnected_gradients="zero")
            for k in range(n)
        ]
        for i, (y, yd) in enumerate(zip(ys, y_dims)):
            blocks[i][j] = (
                array_ops.reshape(array_ops.stack([c[i] for c in cols], axis=-1), yd + xd)
                if n
                else array_ops.zeros(yd + xd, dtype=y.dtype)
            )
    return blocks


_MODES = ("auto", "rev", "fwd")


def _jacobian_function(
    fun: Callable[..., Any],
    build: Callable[..., Any],
    nums: tuple[int, ...],
    single: bool,
    mode: str,
    what: str,
    backend: Any = None,
) -> Function:
    """The Function for ``fun`` that returns the Jacobian of ``build`` (``fun``, or the graph of its gradient)."""
    return Function(
        fun,
        symbolic=_jacobian_builder(build, nums, single, mode, False, what),
        lower=_jacobian_builder(build, nums, single, mode, True, what),
        float_argnums=nums,
        name=what,
        backend=backend,
    )


def jacobian(
    fun: Callable[..., Any], argnums: int | Sequence[int] = 0, mode: str = "auto", *, backend: Any = None
) -> Function:
    """The Jacobian of ``fun``, as a NumPy-in, NumPy-out function built once per signature.

    For an output ``y`` and an input ``x`` the block has shape ``y.shape + x.shape``. The
    result has the structure of ``fun``'s output, each leaf holding the block(s) for the
    differentiated argument(s) (a tuple of them when ``argnums`` is a tuple).

    Parameters
    ----------
    mode : ``"rev"``: one reverse pass per output element (rows); ``"fwd"``: one forward-mode
        Jacobian-vector product per input element (columns); ``"auto"``: columns when there are
        fewer inputs than outputs, else rows.

    Up to ``MAX_STACKED`` rows (columns) per block are built into one graph; beyond that the
    linear part is built once, and each row (column) reruns only it on a basis vector, after
    one forward run. Shapes must be static.
    """
    if mode not in _MODES:
        raise ValueError(f"cr.jacobian: mode must be one of {_MODES}, got {mode!r}")
    what = f"cr.jacobian({_fn_name(fun)})"
    nums, single = _argnums(argnums, what)
    return _jacobian_function(fun, fun, nums, single, mode, what, backend)


def hessian(
    fun: Callable[..., Any], argnums: int | Sequence[int] = 0, mode: str = "auto", *, backend: Any = None
) -> Function:
    """The Hessian of a scalar function: the Jacobian of its gradient, built once as one graph.

    For an argument of shape ``s`` the result has shape ``s + s``; with a tuple ``argnums``
    it is a nested tuple of blocks ``H[i][j]``.
    """
    if mode not in _MODES:
        raise ValueError(f"cr.hessian: mode must be one of {_MODES}, got {mode!r}")
    what = f"cr.hessian({_fn_name(fun)})"
    nums, single = _argnums(argnums, what)
    gbuild, _ = _grad_builder(fun, argnums, False, False, what)
    return _jacobian_function(fun, gbuild, nums, single, mode, what, backend)


# --------------------------------------------------------------------------------------------
# hvp
# --------------------------------------------------------------------------------------------
_HVP_MODES = ("fwd_rev", "rev_rev")


def _hvp_builder(fun: Callable[..., Any], what: str, mode: str) -> Callable[..., Any]:
    if mode not in _HVP_MODES:
        raise ValueError(f"{what}: mode must be one of {_HVP_MODES}, got {mode!r}")

    def build(x: Any, v: Any, *args: Any, **kwargs: Any) -> Any:
        new_args, parts = _wrap_args((x, *args), (0,), what)
        td, xs = parts[0]
        vs = [
            _like_primal(leaf, xi, f"{what}: the vector") for leaf, xi in zip(_match(v, td, f"{what}: the vector"), xs)
        ]
        y = _scalar_output(fun(*new_args, **kwargs), what)
        gs = gradients(y, xs, unconnected_gradients="zero")
        if mode == "fwd_rev":
            # Forward over reverse: the directional derivative of the gradient along v.
            hv = forward_gradients(gs, xs, vs, unconnected_gradients="zero")
        else:
            # Reverse over reverse: the gradient of <grad f(x), v>.
            dots = [reduction_ops.reduce_sum(g * vi) for g, vi in zip(gs, vs)]
            inner = dots[0] if len(dots) == 1 else math_ops.add_n(dots)
            hv = gradients(inner, xs, unconnected_gradients="zero")
        return pytree.unflatten(td, hv)

    return build


def hvp_function(fun: Callable[..., Any], mode: str = HVP_MODE, backend: Any = None) -> Function:
    """``hvp`` as a cached function ``(x, v, *args) -> H v`` (used by ``cr.optimize``)."""
    what = f"cr.hvp({_fn_name(fun)})"
    return Function(fun, symbolic=_hvp_builder(fun, what, mode), float_argnums=(0, 1), name=what, backend=backend)


def hvp(
    fun: Callable[..., Any], x: Any, v: Any, *args: Any, mode: str = HVP_MODE, backend: Any = None, **kwargs: Any
) -> Any:
    """Hessian-vector product ``∇²f(x) · v`` of a scalar function, without forming the Hessian.

    ``mode="fwd_rev"`` (forward over reverse: the JVP of the gradient along ``v``) or
    ``"rev_rev"`` (reverse over reverse: the gradient of ``<∇f(x), v>``); the default is
    ``HVP_MODE``. ``v`` has the structure
    of ``x``; extra ``args``/``kwargs`` are passed to ``fun`` (not differentiated). The graph is
    built once per signature and kept with ``fun``. ``backend`` runs the graph (as for :func:`grad`;
    so ``fun`` cannot take a keyword argument of that name through ``hvp``).
    """
    what = f"cr.hvp({_fn_name(fun)})"
    if is_tracing() or any(is_tensor_like(leaf) for leaf in pytree.flatten((x, v, args, kwargs))[0]):
        return _hvp_builder(fun, what, mode)(x, v, *args, **kwargs)
    transform = cached_transform(fun, _backend_key(("hvp", mode), backend), lambda: hvp_function(fun, mode, backend))
    return transform(x, v, *args, **kwargs)
