"""GraphQL enums of SPEC's core. Views take their values (``RowOrder.ID.value``),
never the enums: data flows from the types down, never back up."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What kind of classifier a model is.")
class Task(Enum):
    MULTICLASS = "multiclass"
    MULTILABEL = "multilabel"


@strawberry.enum(description="How per-label precision, recall and F1 are averaged.")
class Average(Enum):
    MACRO = "MACRO"
    MICRO = "MICRO"
    WEIGHTED = "WEIGHTED"


@strawberry.enum(
    description=(
        "What happened to a row at the view's threshold. The four outcomes "
        "partition the rows: UNLABELED = no actual label (whatever was predicted); "
        "otherwise ABSTAINED = no prediction (none given, or below the threshold), "
        "CORRECT = the actual label was predicted, INCORRECT = another label was. "
        "Multilabel, on the view's labels: CORRECT = the kept set equals the actual "
        "set (exact match, also when both are empty), INCORRECT = it does not (the "
        "two partition the rows); ABSTAINED = no label kept; UNLABELED = no actual "
        "label."
    )
)
class Outcome(Enum):
    CORRECT = "CORRECT"
    INCORRECT = "INCORRECT"
    ABSTAINED = "ABSTAINED"
    UNLABELED = "UNLABELED"


@strawberry.enum(description="A row's one-vs-rest outcome for one label.")
class LabelOutcome(Enum):
    TP = "TP"
    FP = "FP"
    FN = "FN"
    TN = "TN"


@strawberry.enum(
    description=(
        "Row order; ties go by position in the split. CONFIDENCE_* order by the "
        "stored confidence (also of predictions abstained at the threshold); ID "
        "orders ids as strings (code point order, so id 10 comes before id 9). "
        "Multilabel: LabelMetrics.rows orders by the label's stored confidence "
        "(0 where the row does not predict it), Metrics.rows by Row.confidence "
        "(the highest kept confidence, 0 when none is kept)."
    )
)
class RowOrder(Enum):
    CONFIDENCE_DESC = "CONFIDENCE_DESC"
    CONFIDENCE_ASC = "CONFIDENCE_ASC"
    ID = "ID"


@strawberry.enum(description="How a row changed between a comparison's baseline and candidate.")
class Change(Enum):
    FIXED = "FIXED"
    REGRESSED = "REGRESSED"


@strawberry.enum(
    description=(
        "Disagreement weights of cohenKappa, as scikit-learn's weights=: NONE counts "
        "every disagreement as 1, LINEAR as |i - j|, QUADRATIC as (i - j)², i and j "
        "positions in the order: the view's labels, the other labels, then None."
    )
)
class CohenWeights(Enum):
    NONE = "NONE"
    LINEAR = "LINEAR"
    QUADRATIC = "QUADRATIC"


@strawberry.enum(
    description=(
        "How confusionMatrix divides its counts, as scikit-learn's confusion_matrix("
        "normalize=): NONE keeps counts, TRUE divides each row (actual label) by its "
        "sum, PRED each column (predicted label) by its sum, ALL every cell by the "
        "total. A row or column summing to 0 (an empty matrix for ALL) gives zeros."
    )
)
class Normalize(Enum):
    NONE = "NONE"
    TRUE = "TRUE"
    PRED = "PRED"
    ALL = "ALL"


@strawberry.enum(
    description=(
        "What a view's calibration is computed from: SCORES, the split's score "
        "vectors; CONFIDENCE, each row's top-1 confidence (a split without scores)."
    )
)
class CalibrationSource(Enum):
    SCORES = "SCORES"
    CONFIDENCE = "CONFIDENCE"


@strawberry.enum(
    description=(
        "A one-number metric of a view, as the Metrics field of the same name "
        "(Model.history plots it across runs): ACCURACY is accuracy, SELECTIVE_ACCURACY "
        "selectiveAccuracy, and so on; PRECISION, RECALL and F1 take history's average, "
        "COHEN_KAPPA is cohenKappa with weights NONE."
    )
)
class SummaryMetric(Enum):
    ACCURACY = "ACCURACY"
    SELECTIVE_ACCURACY = "SELECTIVE_ACCURACY"
    COVERAGE = "COVERAGE"
    PRECISION = "PRECISION"
    RECALL = "RECALL"
    F1 = "F1"
    BALANCED_ACCURACY = "BALANCED_ACCURACY"
    MATTHEWS_CORRCOEF = "MATTHEWS_CORRCOEF"
    COHEN_KAPPA = "COHEN_KAPPA"
    HAMMING_SCORE = "HAMMING_SCORE"
    SUBSET_ACCURACY = "SUBSET_ACCURACY"
