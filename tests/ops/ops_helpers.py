"""Helpers shared by the op tests (importable by name: pytest puts this folder on ``sys.path``)."""

import chainrule as cr


def run(fetches, feed=None):
    """Run ``fetches`` in a new Session, with the optional feed dict ``feed``."""
    with cr.Session() as sess:
        return sess.run(fetches, feed)
