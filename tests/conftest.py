import pytest

import chainrule as cr


@pytest.fixture(autouse=True)
def fresh_default_graph():
    """Each test starts with an empty default graph."""
    cr.reset_default_graph()
    yield
