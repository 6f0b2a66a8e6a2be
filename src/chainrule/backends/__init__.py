"""Execution backends other than NumPy, one subpackage or module each, imported on first use (``runtime.backends``)."""
