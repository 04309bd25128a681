"""Baseline comparison: statistics and verdict, chart, and the HTML evidence pack.

* :mod:`railcount.report.baseline` -- pure statistics and the verdict;
* :mod:`railcount.report.chart` -- the chart (matplotlib, imported lazily);
* :mod:`railcount.report.pack` -- the self-contained ``report.html``.
"""
