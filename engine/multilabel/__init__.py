"""Multilabel views: every (row, label) pair is one binary decision.

A multilabel split holds, per row, a set of actual labels and a list of
predicted labels with one confidence each. They arrive in CSR form (the layout
of an Arrow list array): ``actual_codes[actual_offsets[i]:actual_offsets[i+1]]``
are row i's actual labels, and likewise for the predicted codes and their
confidences. At a threshold t a predicted label is kept when
``confidence >= float32(t)``; the kept set is compared with the actual set.

Seen as a label-indicator matrix (rows x labels, 1 = the label applies) this
is scikit-learn's multilabel setting: ``counts.multilabel_counts`` gives the
per-label TP, FP, FN (and so TN) that ``precision_recall_fscore_support`` and
``multilabel_confusion_matrix`` compute, packaged as ``engine.metrics.LabelCounts``
so the one definition of precision, recall, F1 (``engine.metrics``) and of
averaging (``engine.averaging``) serves both tasks.

A class filter S (``labels=``) restricts the indicator matrix to the columns
in S, as scikit-learn's ``labels=`` does: labels outside S are ignored, in the
actual and the predicted sets alike. Rows are never dropped by it; only the
row mask (a metadata filter) removes rows.

The modules, one idea each:

- ``columns``: the CSR columns (``LabelSetColumns``, ``LabelSets``) and the
  helpers every kernel wrapper shares (checks, the class filter's flags);
- ``counts``: the counts at one threshold (``multilabel_counts``), the
  row-level summary and the confusion matrix;
- ``rows``: drill-down: ``match_rows`` flags the rows passing ``RowTests``
  for ``engine.select.select_flagged`` to page; ``label_confidence`` and
  ``top_confidence`` are the keys that order them;
- ``ranking``: ``rank_label_sets`` (AP and ROC AUC of every label, scored by
  its predicted confidence) and ``label_precision_steps``;
- ``curves``: ``multilabel_threshold_counts`` (a curve in one scan) and
  ``pair_histogram`` (predicted pairs by confidence);
- ``index``: ``LabelSetIndex``, the split arranged once so that a view of
  every row and label is counted, matrix included, without a scan.

Preconditions, guaranteed by ingest: codes are in ``0 .. K-1``, a row's lists
hold distinct codes, offsets are non-decreasing. Kernels are private and pure;
the public wrappers beside them fix dtypes and package results. A kernel scans
one range of rows into buffers of its own; ``jit.map_rows`` runs one range per
core and the wrapper sums (or joins) the ranges' buffers afterwards.
"""
