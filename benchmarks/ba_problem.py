"""ADBench bundle adjustment in chainrule: the residual of ONE observation, batched with ``cr.vmap``.

The reader follows ADBench's format (``n m p``, then one camera, one point, one weight and one
feature, replicated n, m, p and p times; observation i uses camera ``i mod n`` and point
``i mod m``). The Jacobian is sparse: each observation's two reprojection rows depend on its
camera (11), its point (3) and its weight (1); each weight row on its weight only. Those blocks
come from ``cr.vmap(cr.jacobian(reprojection))``: the per-observation Jacobian, computed for all
observations at once by batched passes (no Python loop), then laid out as SciPy CSR.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import chainrule as cr

N_CAM = 11  # rotation (3, angle-axis), centre (3), focal (1), principal point (2), radial (2)


@dataclass
class BAInstance:
    n: int
    m: int
    p: int
    cams: np.ndarray  # [n, 11]
    X: np.ndarray  # [m, 3]
    w: np.ndarray  # [p]
    feats: np.ndarray  # [p, 2]
    obs: np.ndarray  # [p, 2] int32: (camera, point) of each observation


def adbench_dir() -> Path:
    """``$CHAINRULE_ADBENCH``, else ``shared/adbench`` beside the checkout."""
    env = os.environ.get("CHAINRULE_ADBENCH")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "adbench"


def read_ba(path: str | Path) -> BAInstance:
    tokens = Path(path).read_text().split()
    n, m, p = (int(t) for t in tokens[:3])
    vals = np.array(tokens[3 : 3 + N_CAM + 3 + 1 + 2], dtype=np.float64)
    cam, x, w, feat = vals[:N_CAM], vals[N_CAM : N_CAM + 3], vals[N_CAM + 3], vals[N_CAM + 4 :]
    i = np.arange(p)
    obs = np.stack([i % n, i % m], axis=1).astype(np.int32)
    return BAInstance(n, m, p, np.tile(cam, (n, 1)), np.tile(x, (m, 1)), np.full(p, w), np.tile(feat, (p, 1)), obs)


# --- one observation, in chainrule ops ----------------------------------------------------------
_YZX = np.array([1, 2, 0], dtype=np.int32)
_ZXY = np.array([2, 0, 1], dtype=np.int32)


def _cross(a: cr.Tensor, b: cr.Tensor) -> cr.Tensor:
    return cr.gather(a, _YZX) * cr.gather(b, _ZXY) - cr.gather(a, _ZXY) * cr.gather(b, _YZX)


def rodrigues_rotate(r: cr.Tensor, v: cr.Tensor) -> cr.Tensor:
    """Rotate ``v`` by the angle-axis ``r``; at ``r = 0`` the first-order form ``v + r x v`` (ADBench's)."""
    sq = cr.reduce_sum(r * r)
    nonzero = sq > 0
    theta = cr.sqrt(cr.where(nonzero, sq, 1.0))  # the double where: no nan in the branch not taken
    k = r / theta
    cos, sin = cr.cos(theta), cr.sin(theta)
    full = v * cos + _cross(k, v) * sin + k * (cr.reduce_sum(k * v) * (1 - cos))
    return cr.where(nonzero, full, v + _cross(r, v))


def project(cam: cr.Tensor, x: cr.Tensor) -> cr.Tensor:
    v = rodrigues_rotate(cam[0:3], x - cam[3:6])
    u = v[0:2] / v[2]
    rsq = cr.reduce_sum(u * u)
    u = u * (1 + cam[9] * rsq + cam[10] * rsq * rsq)
    return cam[6] * u + cam[7:9]


def reprojection(cam: cr.Tensor, x: cr.Tensor, w: cr.Tensor, feat: cr.Tensor) -> cr.Tensor:
    """The reprojection residual of one observation: ``w (project(cam, x) - feat)``, shape [2]."""
    return w * (project(cam, x) - feat)


def weight_residual(w: cr.Tensor) -> cr.Tensor:
    return 1 - w * w


# --- all observations -------------------------------------------------------------------------------
@cr.function
def objective(cams, points, w, feats, obs):
    """All residuals: reprojection ``[p, 2]`` and weight ``[p]``."""
    cam_i, x_i = cr.gather(cams, obs[:, 0]), cr.gather(points, obs[:, 1])
    return cr.vmap(reprojection)(cam_i, x_i, w, feats), cr.vmap(weight_residual)(w)


def make_jacobian_blocks(mode: str = "rev") -> cr.transforms.Function:
    """The per-observation Jacobian blocks ``(dr/dcam [p,2,11], dr/dx [p,2,3], dr/dw [p,2], dw_err/dw [p])``."""

    @cr.function
    def blocks(cams, points, w, feats, obs):
        cam_i, x_i = cr.gather(cams, obs[:, 0]), cr.gather(points, obs[:, 1])
        j_cam, j_x, j_w = cr.vmap(cr.jacobian(reprojection, argnums=(0, 1, 2), mode=mode))(cam_i, x_i, w, feats)
        return j_cam, j_x, j_w, cr.vmap(cr.grad(weight_residual))(w)

    return blocks


jacobian_blocks = make_jacobian_blocks("rev")


def sparse_jacobian(inst: BAInstance, j_cam, j_x, j_w, j_weight):
    """The Jacobian as SciPy CSR: 2p + p rows, 11n + 3m + p columns, ADBench's layout."""
    from scipy.sparse import csr_matrix

    n, m, p = inst.n, inst.m, inst.p
    cam_cols = inst.obs[:, 0:1].astype(np.int64) * N_CAM + np.arange(N_CAM)  # [p, 11]
    pt_cols = N_CAM * n + inst.obs[:, 1:2].astype(np.int64) * 3 + np.arange(3)  # [p, 3]
    w_cols = (N_CAM * n + 3 * m + np.arange(p))[:, None]  # [p, 1]
    cols = np.concatenate([cam_cols, pt_cols, w_cols], axis=1)  # [p, 15], sorted within each row
    reproj_idx = np.broadcast_to(cols[:, None, :], (p, 2, 15)).reshape(-1)
    reproj_val = np.concatenate([j_cam, j_x, np.asarray(j_w)[:, :, None]], axis=2).reshape(-1)
    indices = np.concatenate([reproj_idx, w_cols[:, 0]])
    data = np.concatenate([reproj_val, np.asarray(j_weight).reshape(-1)])
    indptr = np.concatenate([np.arange(2 * p + 1, dtype=np.int64) * 15, 30 * p + np.arange(1, p + 1)])
    return csr_matrix((data, indices, indptr), shape=(3 * p, N_CAM * n + 3 * m + p))


def args(inst: BAInstance) -> tuple[np.ndarray, ...]:
    return inst.cams, inst.X, inst.w, inst.feats, inst.obs
