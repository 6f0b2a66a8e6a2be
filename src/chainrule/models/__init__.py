"""Small ready-made models trained end to end with chainrule (used by ``examples/`` and ``chainrule demo``).

``chainrule.models.digits``: logistic regression, an MLP and a small CNN on scikit-learn's bundled
digits data set. Import the submodule explicitly; scikit-learn is only needed to load the data.
"""
