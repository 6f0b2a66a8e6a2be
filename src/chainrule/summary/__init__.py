"""TensorBoard event files: the graph for the Graphs tab, scalars, histograms and images as summary ops.

Needs the optional ``tensorboard`` package (``pip install 'chainrule[tensorboard]'``),
whose protocol buffers and event-file writer are used; it is imported only when used.
"""

from chainrule.summary.summary_ops import SUMMARIES, histogram, image, merge, merge_all, scalar, text
from chainrule.summary.writer import FileWriter, write_log

__all__ = ["SUMMARIES", "FileWriter", "histogram", "image", "merge", "merge_all", "scalar", "text", "write_log"]
