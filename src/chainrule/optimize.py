"""``cr.optimize.minimize``: SciPy's minimizers with derivatives from the graph.

The objective is a chainrule-traceable function; its value and gradient come from one cached
graph (one run per evaluation), Hessian-vector products from a reverse-over-reverse graph
(the Hessian is never formed), and full Hessians, for the methods that need one, from
``cr.hessian``. SciPy is imported when ``minimize`` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.ops import array_ops
from chainrule.transforms.api import hessian, hvp_function, value_and_grad
from chainrule.transforms.function import Function, cached_transform, function

__all__ = ["minimize"]

# Methods (lower case) by the derivatives SciPy uses.
_USES_JAC = {
    "cg",
    "bfgs",
    "newton-cg",
    "l-bfgs-b",
    "tnc",
    "slsqp",
    "dogleg",
    "trust-ncg",
    "trust-krylov",
    "trust-exact",
    "trust-constr",
}
_USES_HESSP = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_USES_HESS = {"dogleg", "trust-exact"}


def _scipy_minimize() -> Callable[..., Any]:
    try:
        from scipy.optimize import minimize as scipy_minimize
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "cr.optimize.minimize needs SciPy; install it with `pip install scipy` (or `chainrule[scipy]`)"
        ) from e
    return scipy_minimize


def _on_flat(fun: Callable[..., Any], shape: tuple[int, ...]) -> Callable[..., Any]:
    """``fun`` of an array of ``shape``, as a function of the flat vector SciPy works with."""
    if len(shape) == 1:
        return fun

    def flat_fun(x: Any, *args: Any, **kwargs: Any) -> Any:
        return fun(array_ops.reshape(x, list(shape)), *args, **kwargs)

    flat_fun.__name__ = getattr(fun, "__name__", "fun")
    return flat_fun


def _float64(f: Function, nvec: int = 1) -> Callable[..., Any]:
    # SciPy hands over float64 vectors, but some code paths pass other dtypes (a LinearOperator
    # probes hessp with an int8 vector); one dtype means one traced graph.
    def call(*args: Any) -> Any:
        vecs = [np.asarray(a, dtype=np.float64) for a in args[:nvec]]
        return f(*vecs, *args[nvec:])

    return call


def minimize(
    fun: Callable[..., Any],
    x0: Any,
    args: tuple[Any, ...] = (),
    method: str | Callable[..., Any] | None = "BFGS",
    jac: Any = None,
    hess: Any = None,
    hessp: Any = None,
    **scipy_kwargs: Any,
) -> Any:
    """Minimize a scalar chainrule function with ``scipy.optimize.minimize``.

    Parameters
    ----------
    fun : ``fun(x, *args)``, a function of chainrule tensors returning a scalar tensor. ``x``
        has the shape of ``x0`` (any shape; SciPy sees it flattened). ``args`` follow the
        rules of :func:`cr.function`: arrays are fed, Python values are static.
    x0 : the starting point; converted to float64.
    method : any of SciPy's methods. The gradient (``jac``) is supplied to the methods that
        use one; Hessian-vector products (``hessp``) to Newton-CG, trust-ncg, trust-krylov and
        trust-constr; the Hessian (``hess``) to dogleg and trust-exact.
    jac, hess, hessp : leave None to take them from the graph; anything else is passed to
        SciPy unchanged.
    **scipy_kwargs : passed to ``scipy.optimize.minimize`` (``bounds``, ``constraints``,
        ``tol``, ``options``, ``callback``...; a callback sees the flat vector).

    Returns
    -------
    SciPy's ``OptimizeResult``; ``x`` has the shape of ``x0``.

    Examples
    --------
    >>> def rosen(x):
    ...     return cr.reduce_sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> result = cr.optimize.minimize(rosen, np.zeros(5), method="Newton-CG")
    >>> print(np.round(result.x, 2))
    [1. 1. 1. 1. 1.]
    """
    scipy_minimize = _scipy_minimize()
    x0 = np.asarray(x0, dtype=np.float64)
    shape = x0.shape
    name = method.lower() if isinstance(method, str) else None
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    flat = cached_transform(fun, ("optimize.flat", shape), lambda: function(_on_flat(fun, shape)))
    # The transforms are kept with ``fun``: minimizing it again (same shape) traces nothing.
    if jac is None and (name in _USES_JAC or method is None or callable(method)):  # None: SciPy picks a gradient method
        objective = _float64(cached_transform(fun, ("optimize.value_and_grad", shape), lambda: value_and_grad(flat)))
        jac = True  # SciPy: ``fun`` returns (value, gradient)
    else:
        objective = _float64(flat)
    if name in _USES_HESSP and hess is None and hessp is None:
        hessp = _float64(cached_transform(fun, ("optimize.hvp", shape), lambda: hvp_function(flat)), nvec=2)
    if name in _USES_HESS and hess is None:
        hess = _float64(cached_transform(fun, ("optimize.hessian", shape), lambda: hessian(flat)))
    extra = {k: v for k, v in (("jac", jac), ("hess", hess), ("hessp", hessp)) if v is not None}
    result = scipy_minimize(objective, x0.ravel(), args=args, method=method, **extra, **scipy_kwargs)
    if shape != result.x.shape:
        result.x = result.x.reshape(shape)
    return result
