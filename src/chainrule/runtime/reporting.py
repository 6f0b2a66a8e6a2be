"""Errors of a ``Session.run`` call that concern the call itself name the user's line that made it.

A wrong feed (a value of the wrong shape or dtype, a key that is not a tensor of the graph, a
placeholder left unfed) or a fetch that is not a tensor or an op is the caller's mistake, not an
op's: ``at_call_site`` gives such an error the file and line of the ``Session.run`` (or ``eval``)
call, in the message itself, so it is there whether the traceback is printed, logged or caught.
"""

from __future__ import annotations

from chainrule.framework import errors
from chainrule.framework.source import user_frame

__all__ = ["at_call_site", "is_call_error"]

_PLAIN = (TypeError, ValueError, KeyError)


def is_call_error(e: BaseException) -> bool:
    """Whether ``e``, raised by ``Session.run``, is about the call (feeds, fetches) rather than an op of the graph."""
    if isinstance(e, errors.OpError) and e.op is not None:
        return getattr(e.op, "type", None) == "Placeholder"  # an unfed placeholder
    return isinstance(e, _PLAIN)


def at_call_site(e: BaseException) -> BaseException:
    """``e`` with ``in the Session.run call at <file>:<line>: <code>`` added to its message (the same class)."""
    site = user_frame(2)
    if site is None:
        return e
    note = f"\n  in the Session.run call at {site}"
    if isinstance(e, errors.OpError):
        return type(e)(e.node_def, e.op, e.message + note)
    if type(e) in _PLAIN and len(e.args) <= 1:
        text = str(e.args[0]) if e.args else ""
        return type(e)(text + note)
    e.add_note(note.lstrip("\n")) if hasattr(e, "add_note") else None
    return e
