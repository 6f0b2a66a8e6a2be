"""``cr.train``: optimizers and checkpoints (re-exports only)."""
