"""The op table covers the whole public op list of DESIGN.md, and every registered op type."""

import pytest

import chainrule as cr
from chainrule.testing.samples import all_samples

TABLE = all_samples()
SAMPLED = {s.name for s in TABLE.samples}

DESIGN_OPS = {
    "": "add subtract multiply divide negative abs sign square sqrt rsqrt reciprocal exp expm1 log log1p sin cos "
    "tan asin acos atan atan2 sinh cosh tanh sigmoid softplus erf pow maximum minimum floor ceil round where equal "
    "not_equal less less_equal greater greater_equal logical_and logical_or logical_not cast clip_by_value add_n "
    "squared_difference reduce_sum reduce_mean reduce_max reduce_min reduce_prod reduce_logsumexp argmax argmin "
    "matmul tensordot einsum shape size rank reshape transpose expand_dims squeeze concat stack unstack split slice "
    "gather gather_nd tile pad zeros ones zeros_like ones_like fill range one_hot identity stop_gradient "
    "broadcast_to reverse scatter_nd sparse_to_dense",
    "linalg": "inv solve cholesky det triangular_solve",
    "nn": "relu elu leaky_relu sigmoid tanh softplus softmax log_softmax softmax_cross_entropy_with_logits "
    "sparse_softmax_cross_entropy_with_logits sigmoid_cross_entropy_with_logits l2_loss bias_add dropout conv2d "
    "max_pool2d avg_pool2d",
    "random": "normal uniform",
}
# Op types that the table cannot reach by construction (state, feeds, summaries) and are tested elsewhere.
NOT_IN_TABLE = {"Placeholder", "VariableV2", "ReadVariable", "Assign", "AssignAdd", "AssignSub", "NoOp"}
NOT_IN_TABLE |= {"ScalarSummary", "HistogramSummary", "MergeSummary", "ImageSummary", "TextSummary"}  # tests/summary
# cr.vmap's loop over examples needs a known output rank, which a py_func does not have.
NOT_IN_TABLE |= {"PyFuncStateless"}  # tests/ops/test_script_ops.py
NOT_IN_TABLE |= {"LinalgMatrixTranspose"}  # unknown-rank transposes: tests/ops/test_linalg_ops.py


@pytest.mark.parametrize(("namespace", "name"), [(ns, n) for ns, names in DESIGN_OPS.items() for n in names.split()])
def test_every_design_op_exists_and_has_samples(namespace, name):
    module = getattr(cr, namespace) if namespace else cr
    assert callable(getattr(module, name, None)), f"cr.{namespace + '.' if namespace else ''}{name} is missing"
    assert name in SAMPLED or f"{namespace}.{name}" in SAMPLED, f"no OpSample exercises {name}"


def test_every_registered_op_type_is_exercised_by_the_table(library_declarations):
    seen: set[str] = set()
    for sample, unknown_dims in [(s, False) for s in TABLE.samples] + [
        (s, True) for s in TABLE.samples if s.unknown_dims
    ]:
        graph = cr.Graph()
        with graph.as_default():
            inputs = [cr.placeholder(a.dtype, [None] * a.ndim if unknown_dims else a.shape) for a in sample.args]
            out = sample.fn(*inputs)
            outs = [o for o in (out if isinstance(out, (list, tuple)) else [out]) if o.dtype.is_floating]
            xs = [t for t in inputs if t.dtype.is_floating]
            if sample.order > 0 and outs and xs:
                grads = [g for g in cr.gradients(outs, xs) if g is not None]
                if sample.order > 1 and grads:
                    cr.gradients([cr.reduce_sum(g * g) for g in grads], xs)
        seen.update(op.type for op in graph.get_operations())
    missing = {name for name in library_declarations["all"] if name not in seen and name not in NOT_IN_TABLE}
    assert not missing, f"op types no sample builds (add samples): {sorted(missing)}"


def test_every_differentiable_op_type_has_a_gradient_or_is_marked(library_declarations):
    unmarked = library_declarations["no_gradient_entry"]
    assert not unmarked, f"register a gradient or NotDifferentiable for: {unmarked}"


def test_table_size_is_reported():
    grads = [s for s in TABLE.samples if s.order > 0]
    second = [s for s in grads if s.order >= 2]
    assert len(TABLE.samples) > 500 and len(grads) > 400 and len(second) > 350
    assert len(TABLE.errors) > 100
    assert all(s.id for s in TABLE.samples)
