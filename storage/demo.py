"""Deterministic demo data: a customer-support conversation classifier.

``evalql demo`` fills the store with one model, ``support-intent``, that sorts
support conversations into eight intents and outcomes. It has two runs, ``v1``
(the baseline) and ``v2`` (the improved model, which also carries per-label
``scores``), each with a ``training`` split of 30,000 rows and a ``validation``
split of 10,000 rows. The data is synthetic but shaped like the real thing, so
every screen of a front-end has something to show:

- label frequencies are skewed: ``Resolved`` about 30 %, ``Feature Request``
  about 2.5 %;
- ``Resolved`` and ``Partially Resolved`` are mostly mistaken for each other;
- about 3 % of rows are unlabeled (``actual`` null) and 2 % abstained
  (``predicted`` null);
- confidence tracks correctness, so raising the threshold raises selective
  accuracy;
- accuracy varies with the metadata (``social`` and ``pt`` are worse, short
  messages are harder, recent weeks drift down), so breakdowns differ;
- the two runs of a split share ids, labels and metadata, so they can be
  compared row by row.

Accuracy (correct / all rows, as the engine defines it) lands near
``TARGET_ACCURACY``. Every number comes from one seed through NumPy
Generators and dates end at the fixed ``END``, so two calls return equal tables.

A second, multilabel model, ``support-tags``, tags the same conversations
(the first 20,000 of ``training`` and 5,000 of ``validation``: same ids, same
metadata) with up to three of eight tags such as ``billing`` and ``urgent``
(``tag_tables``). About 10 % of rows have no tag (3 % unlabeled: a null
list); each predicted tag carries a calibrated-looking confidence (v1
overconfident), tags are listed from a confidence of 0.3, and some rows get
no prediction at all. ``v2`` separates tags better than ``v1``.

A third, small model, ``ticket-priority`` (``priority_tables``), shows what
the insights warn about: one run, ``v1``, with a ``train`` split it has
memorised and a ``test`` split where it is much worse, overconfident, and
carried by its frequent label (``normal``, 78 %) while the rare ones
(``high``, ``urgent``) are mostly missed and ``normal`` rows are often
called ``high``; 9 % of its rows are unlabeled.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from evalql.storage.ingest import IngestSummary

MODEL = "support-intent"
LABELS = (
    "Billing Issue",
    "Cancellation",
    "Feature Request",
    "Partially Resolved",
    "Refund Request",
    "Resolved",
    "Technical Problem",
    "Unresolved",
)
RUNS = ("v1", "v2")
SPLIT_ROWS = {"training": 30_000, "validation": 10_000}
TARGET_ACCURACY = {
    ("v1", "training"): 0.83,
    ("v1", "validation"): 0.78,
    ("v2", "training"): 0.90,
    ("v2", "validation"): 0.85,
}

# Each run's metadata (--run-meta), as a training script would record it; the
# rows do not depend on it.
RUN_META = {
    (MODEL, "v1"): {"commit": "3f9c2e1", "learning_rate": "0.001", "epochs": "8",
                    "description": "baseline: fine-tuned on the August tickets"},
    (MODEL, "v2"): {"commit": "b71d04a", "learning_rate": "0.0005", "epochs": "12",
                    "description": "more data and label smoothing; saves per-label scores"},
    ("support-tags", "v1"): {"commit": "3f9c2e1", "description": "one-vs-rest baseline"},
    ("support-tags", "v2"): {"commit": "b71d04a", "description": "tag-wise calibration"},
}

END = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so the output never depends on today
DAYS = 90
UNLABELED_SHARE = 0.03
ABSTAINED_SHARE = 0.02

# Share of each label among conversations, in LABELS order (Zipf-like).
LABEL_SHARE = np.array([0.12, 0.035, 0.025, 0.18, 0.08, 0.30, 0.14, 0.12])
# How much easier (+) or harder (-) each label is, as a logit offset. The
# outcome labels are hard because they hinge on the end of a conversation.
LABEL_EASE = np.array([0.5, 0.4, -0.3, -0.9, 0.2, 0.1, 0.3, -0.4])
# Where a wrong prediction goes, beyond a pull toward common labels: the
# neighbours a human annotator would also hesitate between.
CONFUSED_WITH = {
    "Billing Issue": {"Refund Request": 1.0},
    "Cancellation": {"Refund Request": 0.6, "Unresolved": 0.3},
    "Feature Request": {"Technical Problem": 1.0},
    "Partially Resolved": {"Resolved": 4.0, "Unresolved": 0.5},
    "Refund Request": {"Billing Issue": 1.0, "Cancellation": 0.5},
    "Resolved": {"Partially Resolved": 4.0},
    "Technical Problem": {"Unresolved": 0.6, "Feature Request": 0.3},
    "Unresolved": {"Partially Resolved": 1.0, "Technical Problem": 0.6},
}

CHANNELS = ("email", "chat", "phone", "social")
CHANNEL_SHARE = np.array([0.30, 0.45, 0.15, 0.10])
CHANNEL_EASE = np.array([0.2, 0.1, 0.0, -0.7])  # social posts are terse and sarcastic
LANGUAGES = ("en", "es", "de", "fr", "pt")
LANGUAGE_SHARE = np.array([0.62, 0.14, 0.10, 0.08, 0.06])
LANGUAGE_EASE = np.array([0.2, 0.0, 0.0, -0.1, -0.7])  # little pt in the training data

# v1 is overconfident; v2 is close to calibrated.
CONFIDENCE_TEMPERATURE = {"v1": 1.25, "v2": 1.05}
# Share of rows whose luck is the same in both runs; the rest draw anew, so
# v2 fixes many v1 errors but also regresses a few rows.
SHARED_LUCK = 0.85

ITEMS = ("subscription", "annual plan", "invoice", "account", "order", "team workspace")
WHEN = ("yesterday", "last week", "this morning", "twice this month")
TEMPLATES = {
    "Billing Issue": (
        "I was charged twice for my {item} {when}",
        "My {item} invoice shows the wrong amount",
        "Why did the price of my {item} go up?",
        "The payment for my {item} failed {when} but the money left my bank",
        "Can you explain the extra fee on my {item}?",
    ),
    "Cancellation": (
        "Please cancel my {item}",
        "How do I close my {item}? I don't want it to renew",
        "I want to stop my {item} before the next billing date",
        "Cancel everything, I'm moving to another provider",
    ),
    "Feature Request": (
        "It would be great if the {item} page had an export button",
        "Could you add dark mode to the app?",
        "Please support single sign-on for my {item}",
        "Any plans to add a calendar integration?",
    ),
    "Partially Resolved": (
        "The {item} works now but the sync is still slow",
        "Thanks, that fixed the login, but my {item} is still missing data",
        "Half of my {item} came through {when}, the rest is still pending",
        "Better than before, though the {item} error still shows up sometimes",
    ),
    "Refund Request": (
        "I'd like a refund for my {item}",
        "I was promised my money back for the {item} {when}",
        "Please refund the last payment on my {item}",
        "Reverse the {item} charge, I never used it",
    ),
    "Resolved": (
        "Thanks, my {item} works perfectly now",
        "All sorted, thanks for the quick help {when}",
        "That fixed it, you can close the ticket",
        "Great, the {item} issue is gone",
    ),
    "Technical Problem": (
        "The app crashes when I open my {item}",
        "I can't log in since {when}",
        "Error 500 when I save my {item}",
        "Sync stopped working {when}",
        "The {item} page won't load on my phone",
    ),
    "Unresolved": (
        "Still not working after three replies",
        "Nobody has fixed my {item} problem since {when}",
        "I'm still waiting for an answer about my {item}",
        "Same issue as {when}, nothing changed",
    ),
}


# The multilabel model: tags on the same conversations.
TAGS_MODEL = "support-tags"
TAGS = ("account", "billing", "bug", "cancellation", "feedback", "refund", "shipping", "urgent")
TAG_SPLIT_ROWS = {"training": 20_000, "validation": 5_000}
MAX_TAGS = 3
NO_TAGS_SHARE = 0.07  # on top of the unlabeled conversations: about 10 % without tags
# The chance of each tag given the conversation's intent (the multiclass truth).
TAG_CHANCE = {
    "Billing Issue": {"billing": 0.9, "refund": 0.25, "account": 0.15, "urgent": 0.15},
    "Cancellation": {"cancellation": 0.9, "billing": 0.3, "refund": 0.25, "feedback": 0.15},
    "Feature Request": {"feedback": 0.85, "bug": 0.1, "account": 0.1},
    "Partially Resolved": {"bug": 0.4, "shipping": 0.3, "account": 0.25, "feedback": 0.15},
    "Refund Request": {"refund": 0.9, "billing": 0.4, "shipping": 0.2, "urgent": 0.1},
    "Resolved": {"feedback": 0.3, "account": 0.2, "bug": 0.15, "shipping": 0.15},
    "Technical Problem": {"bug": 0.85, "account": 0.3, "urgent": 0.25},
    "Unresolved": {"urgent": 0.5, "bug": 0.35, "shipping": 0.25, "account": 0.15},
}
URGENT_CHANNEL_BONUS = {"phone": 0.15, "social": 0.1}  # people call or post when it is urgent
# How far apart a tag's evidence lies when present and absent (in noise
# standard deviations, before the tag's and the conversation's ease).
TAG_SEPARATION = {"v1": 1.1, "v2": 1.5}
TAG_SPLIT_EASE = {"training": 0.15, "validation": 0.0}  # the model has seen training
# Per tag, in TAGS order: "urgent" and "feedback" are vague, "refund" is explicit.
TAG_EASE = np.array([0.8, 1.1, 1.0, 1.2, 0.7, 1.3, 1.0, 0.6])
TAG_TEMPERATURE = {"v1": 1.3, "v2": 1.0}  # > 1: overconfident
LISTED_CONFIDENCE = 0.3  # the model lists a tag from this confidence on

# The small model the insights tour reads: ticket priorities.
PRIORITY_MODEL = "ticket-priority"
PRIORITIES = ("high", "low", "normal", "urgent")
PRIORITY_SHARE = np.array([0.085, 0.12, 0.78, 0.015])
PRIORITY_SPLIT_ROWS = {"train": 3_000, "test": 1_200}
# Chance that a labeled row is predicted right, per priority: the model has
# memorised its training rows and misses the rare priorities on new ones.
PRIORITY_RECALL = {"train": np.array([0.99, 0.99, 0.995, 0.99]),
                   "test": np.array([0.35, 0.55, 0.92, 0.4])}
PRIORITY_UNLABELED_SHARE = 0.09


@dataclass(frozen=True)
class _Conversations:
    """The rows of one split that every run shares: what was said and how hard it is."""

    ids: pa.Array
    truth: np.ndarray  # int64 label code of every row, even unlabeled ones
    labeled: np.ndarray  # bool
    partner: np.ndarray  # int64 label a wrong prediction of the row picks
    channel: np.ndarray  # int64 code into CHANNELS
    language: np.ndarray  # int64 code into LANGUAGES
    length: np.ndarray  # int64 characters in the conversation
    created_us: np.ndarray  # int64 microseconds since the epoch, ascending
    text: pa.Array
    ease: np.ndarray  # float64 logit of being right, before the run's intercept
    luck: np.ndarray  # float64 uniform draw; a row is right when luck < P(right)


def demo_tables(seed: int = 7) -> list[tuple[str, str, str, pa.Table]]:
    """Every (model, run, split, table) of the demo, in ingest order.

    ``demo_tables()[0][:3]`` -> ``("support-intent", "v1", "training")``.
    """
    tables = []
    for split_index, (split, n_rows) in enumerate(SPLIT_ROWS.items()):
        first_id = sum(list(SPLIT_ROWS.values())[:split_index])  # splits never share ids
        conversations = _conversations(np.random.default_rng([seed, split_index]), n_rows, first_id)
        for run_index, run in enumerate(RUNS):
            rng = np.random.default_rng([seed, split_index, run_index + 1])
            table = _run_table(rng, conversations, run, TARGET_ACCURACY[run, split])
            tables.append((MODEL, run, split, table))
    return tables


def tag_tables(seed: int = 7) -> list[tuple[str, str, str, pa.Table]]:
    """Every (model, run, split, table) of the multilabel demo model, in ingest order.

    ``tag_tables()[0][:3]`` -> ``("support-tags", "v1", "training")``.
    """
    tables = []
    for split_index, (split, n_rows) in enumerate(SPLIT_ROWS.items()):
        first_id = sum(list(SPLIT_ROWS.values())[:split_index])
        # The very conversations of demo_tables (same seed), cut to the first rows.
        conversations = _conversations(np.random.default_rng([seed, split_index]), n_rows, first_id)
        conv = _first_rows(conversations, TAG_SPLIT_ROWS[split])
        rng = np.random.default_rng([seed, split_index, 100])
        tags = _true_tags(rng, conv)
        shared_noise = rng.normal(size=tags.shape)
        for run_index, run in enumerate(RUNS):
            run_rng = np.random.default_rng([seed, split_index, 101 + run_index])
            table = _tag_table(run_rng, conv, tags, shared_noise, run, TAG_SPLIT_EASE[split])
            tables.append((TAGS_MODEL, run, split, table))
    return tables


def priority_tables(seed: int = 7) -> list[tuple[str, str, str, pa.Table]]:
    """Every (model, run, split, table) of ``ticket-priority``, in ingest order.

    A wrong prediction is ``normal`` (``high`` for a ``normal`` row); every
    prediction is made with a confidence between 0.9 and 0.999, so the
    model is overconfident wherever it is wrong. Ids and metadata are the
    support conversations' first rows (``conv-…``), one ``channel`` column.
    """
    tables = []
    for split_index, (split, n) in enumerate(PRIORITY_SPLIT_ROWS.items()):
        rng = np.random.default_rng([seed, split_index, 200])
        truth = rng.choice(len(PRIORITIES), size=n, p=PRIORITY_SHARE)
        right = rng.random(n) < PRIORITY_RECALL[split][truth]
        normal = PRIORITIES.index("normal")
        wrong = np.where(truth == normal, PRIORITIES.index("high"), normal)
        predicted = np.where(right, truth, wrong)
        labeled = rng.random(n) >= PRIORITY_UNLABELED_SHARE
        first_id = sum(list(PRIORITY_SPLIT_ROWS.values())[:split_index])
        table = pa.table({
            "id": _ids(first_id, n),
            "actual": pc.take(pa.array(PRIORITIES), pa.array(np.where(labeled, truth, -1),
                                                             mask=~labeled)),
            "predicted": pc.take(pa.array(PRIORITIES), pa.array(predicted)),
            "confidence": pa.array(rng.uniform(0.9, 0.999, size=n).astype(np.float32)),
            "channel": pc.take(pa.array(CHANNELS), pa.array(rng.choice(len(CHANNELS), size=n,
                                                                       p=CHANNEL_SHARE))),
        })
        tables.append((PRIORITY_MODEL, "v1", split, table))
    return tables


def build_demo(
    root: Path, progress: Callable[[str], None] | None = None, objects: str | None = None,
) -> list[IngestSummary]:
    """(Re)create the demo models under the store at ``root``; one summary per
    split. ``objects``: an s3:// location for the split files (``--objects``)."""
    # Imported here so the generator works (and is testable) on its own.
    from evalql.storage.ingest import IngestOptions, ingest_table

    options = {
        MODEL: IngestOptions(labels=LABELS, replace=True, objects=objects),
        TAGS_MODEL: IngestOptions(task="multilabel", labels=TAGS, replace=True, objects=objects),
        PRIORITY_MODEL: IngestOptions(labels=PRIORITIES, replace=True, objects=objects),
    }
    summaries = []
    for model, run, split, table in [*demo_tables(), *tag_tables(), *priority_tables()]:
        if progress is not None:
            progress(f"demo: ingesting {model}/{run}/{split} ({table.num_rows:,} rows)")
        source = f"demo:{model}/{run}/{split}"
        given = replace(options[model], run_meta=RUN_META.get((model, run), {}))
        summaries.append(ingest_table(root, table, model, run, split, given, source=source))
    return summaries


def _conversations(rng: np.random.Generator, n: int, first_id: int) -> _Conversations:
    """Draw the shared rows of a split: labels, metadata, text, difficulty."""
    truth = rng.choice(len(LABELS), size=n, p=LABEL_SHARE)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
    language = rng.choice(len(LANGUAGES), size=n, p=LANGUAGE_SHARE)
    length = np.clip(rng.lognormal(np.log(300), 0.9, size=n), 20, 4000).astype(np.int64)
    age = np.sort(rng.random(n))  # sorted, so ids grow with time as a ticket system's do
    ease = (
        LABEL_EASE[truth]
        + CHANNEL_EASE[channel]
        + LANGUAGE_EASE[language]
        + 0.2 * np.log(length / 300)  # longer conversations give the model more to go on
        - 0.4 * age  # drift: recent conversations look less like the training data
        + rng.normal(0.0, 1.2, size=n)  # some conversations are simply ambiguous
    )
    return _Conversations(
        ids=_ids(first_id, n),
        truth=truth,
        labeled=rng.random(n) >= UNLABELED_SHARE,
        partner=_partners(rng, truth),
        channel=channel,
        language=language,
        length=length,
        created_us=_timestamps(age),
        text=_texts(rng, truth),
        ease=ease,
        luck=rng.random(n),
    )


def _run_table(rng: np.random.Generator, conv: _Conversations, run: str, target: float) -> pa.Table:
    """One run's predictions on the shared rows, as the table a user would upload."""
    n = len(conv.truth)
    logit = _intercept(conv.ease, conv.labeled, target) + conv.ease
    luck = np.where(rng.random(n) < SHARED_LUCK, conv.luck, rng.random(n))
    right = luck < _sigmoid(logit)
    predicted = np.where(right, conv.truth, conv.partner)
    noisy = CONFIDENCE_TEMPERATURE[run] * logit + rng.normal(0.0, 0.4, size=n)
    # At least 0.2, so the other seven scores can sum to 1 - confidence
    # while staying below it.
    confidence = np.clip(_sigmoid(noisy), 0.2, 0.995)
    # A wrong prediction's runner-up is the truth; a right one's, the usual confusion.
    runner_up = np.where(right, conv.partner, conv.truth)
    scores = _scores(rng, predicted, runner_up, confidence) if run == "v2" else None
    if scores is not None:
        confidence = scores[np.arange(n), predicted]  # exactly the float32 the scores hold
    abstained = _abstentions(rng, confidence)
    columns = {
        "id": conv.ids,
        "actual": _label_array(np.where(conv.labeled, conv.truth, -1)),
        "predicted": _label_array(np.where(abstained, -1, predicted)),
        "confidence": pa.array(confidence.astype(np.float32)),
    }
    if scores is not None:
        offsets = pa.array(np.arange(0, scores.size + 1, len(LABELS), dtype=np.int32))
        columns["scores"] = pa.ListArray.from_arrays(offsets, pa.array(scores.ravel()))
    return pa.table(columns | _metadata(conv))


def _first_rows(conv: _Conversations, n: int) -> _Conversations:
    return _Conversations(**{f.name: getattr(conv, f.name)[:n] for f in fields(conv)})


def _true_tags(rng: np.random.Generator, conv: _Conversations) -> np.ndarray:
    """bool (N, len(TAGS)): each tag drawn by its chance given the intent, the
    likeliest kept when more than MAX_TAGS come up; a tagged conversation has
    at least its intent's main tag; unlabeled and NO_TAGS_SHARE rows have none."""
    chance = np.zeros((len(LABELS), len(TAGS)))
    for label, tags in TAG_CHANCE.items():
        for tag, p in tags.items():
            chance[LABELS.index(label), TAGS.index(tag)] = p
    row_chance = chance[conv.truth]
    for channel, bonus in URGENT_CHANNEL_BONUS.items():
        row_chance[conv.channel == CHANNELS.index(channel), TAGS.index("urgent")] += bonus
    drawn = rng.random(row_chance.shape) < row_chance
    order = np.argsort(-row_chance, axis=1, kind="stable")  # likeliest first
    ranked = np.take_along_axis(drawn, order, axis=1)
    tags = np.zeros_like(drawn)
    np.put_along_axis(tags, order, ranked & (np.cumsum(ranked, axis=1) <= MAX_TAGS), axis=1)
    untagged = np.flatnonzero(~tags.any(axis=1))
    tags[untagged, order[untagged, 0]] = True
    tags[~conv.labeled | (rng.random(len(tags)) < NO_TAGS_SHARE)] = False
    return tags


def _tag_table(
    rng: np.random.Generator, conv: _Conversations, tags: np.ndarray, shared_noise: np.ndarray,
    run: str, split_ease: float,
) -> pa.Table:
    """One run's tag predictions, as the table a user would upload.

    Evidence for a tag is Gaussian, +mu when present and -mu when absent, so
    the posterior log-odds ``logit(prior) + 2 mu e`` are calibrated; the run's
    temperature then makes v1 overconfident. Tags at or above
    LISTED_CONFIDENCE are listed, most confident first.
    """
    ease = TAG_SEPARATION[run] * TAG_EASE[None, :] + 0.25 * conv.ease[:, None] + split_ease
    mu = np.maximum(ease, 0.2)
    noise = np.sqrt(SHARED_LUCK) * shared_noise + np.sqrt(1 - SHARED_LUCK) * rng.normal(
        size=tags.shape
    )
    evidence = np.where(tags, mu, -mu) + noise
    prior = np.clip(tags.mean(axis=0), 0.01, 0.99)
    logit = np.log(prior / (1 - prior))[None, :] + 2 * mu * evidence
    confidence = np.clip(_sigmoid(TAG_TEMPERATURE[run] * logit), 0.0, 0.999).astype(np.float32)
    listed = confidence >= np.float32(LISTED_CONFIDENCE)
    unlabeled = ~conv.labeled
    columns = {
        "id": conv.ids,
        "actual": _tag_lists(tags, None, unlabeled),
        "predicted": _tag_lists(listed, confidence, None),
        "confidence": _tag_lists(listed, confidence, None, values=confidence),
    }
    return pa.table(columns | _metadata(conv))


def _tag_lists(
    present: np.ndarray, confidence: np.ndarray | None, null_rows: np.ndarray | None,
    values: np.ndarray | None = None,
) -> pa.Array:
    """list<string> of the tags ``present`` in each row (most confident first when
    ``confidence`` is given), or list<float> of ``values`` in the same order;
    rows in ``null_rows`` are null lists."""
    rows, columns = np.nonzero(present)  # by row, then by tag
    if confidence is not None:
        order = np.lexsort((-confidence[rows, columns], rows))
        rows, columns = rows[order], columns[order]
    offsets = pa.array(np.concatenate([[0], np.cumsum(present.sum(axis=1))]), pa.int32())
    if values is None:
        items = pc.take(pa.array(TAGS), pa.array(columns))
    else:
        items = pa.array(values[rows, columns], pa.float32())
    mask = None if null_rows is None else pa.array(null_rows)
    return pa.ListArray.from_arrays(offsets, items, mask=mask)


def _metadata(conv: _Conversations) -> dict[str, pa.Array]:
    return {
        "channel": pc.take(pa.array(CHANNELS), pa.array(conv.channel)),
        "language": pc.take(pa.array(LANGUAGES), pa.array(conv.language)),
        "message_length": pa.array(conv.length, type=pa.int64()),
        "created_at": pa.array(conv.created_us, type=pa.timestamp("us", tz="UTC")),
        "text": conv.text,
    }


def _intercept(ease: np.ndarray, labeled: np.ndarray, target: float) -> float:
    """The logit shift that makes the expected accuracy over all rows ``target``.

    Abstentions fall on the least confident rows, which are mostly wrong anyway,
    so they cost about half their share in accuracy.
    """
    goal = target / (1.0 - ABSTAINED_SHARE / 2)
    low, high = -10.0, 10.0
    for _ in range(50):  # bisection: expected accuracy rises with the shift
        mid = (low + high) / 2
        expected = np.mean(labeled * _sigmoid(mid + ease))
        low, high = (mid, high) if expected < goal else (low, mid)
    return (low + high) / 2


def _partners(rng: np.random.Generator, truth: np.ndarray) -> np.ndarray:
    """For every row, the label a wrong prediction picks: one draw per row from its row of
    the confusion weights (inverse-CDF sampling, so no loop over rows)."""
    weights = np.tile(LABEL_SHARE, (len(LABELS), 1))
    for actual, neighbours in CONFUSED_WITH.items():
        for label, weight in neighbours.items():
            weights[LABELS.index(actual), LABELS.index(label)] += weight
    np.fill_diagonal(weights, 0.0)
    cdf = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    picks = (rng.random(len(truth))[:, None] > cdf[truth]).sum(axis=1)
    return np.minimum(picks, len(LABELS) - 1)  # a draw above a rounded cdf[-1] < 1


def _scores(
    rng: np.random.Generator, predicted: np.ndarray, runner_up: np.ndarray, confidence: np.ndarray
) -> np.ndarray:
    """Probability rows (float32, summing to 1) whose maximum is ``confidence`` at ``predicted``.

    The remaining ``1 - confidence`` is spread at random with most of it on
    ``runner_up``, then blended toward an even spread just enough that no other
    label reaches the confidence (which would move the argmax).
    """
    n, k = len(predicted), len(LABELS)
    rows = np.arange(n)
    weights = rng.gamma(0.5, size=(n, k))
    weights[rows, runner_up] += 1.0 + rng.gamma(2.0, size=n)
    weights[rows, predicted] = 0.0
    shares = weights / weights.sum(axis=1, keepdims=True)
    even = np.full((n, k), 1.0 / (k - 1))
    even[rows, predicted] = 0.0
    room = (confidence - 0.01) / (1.0 - confidence)  # largest share of the rest allowed
    top = shares.max(axis=1)
    blend = np.clip((room - 1 / (k - 1)) / np.maximum(top - 1 / (k - 1), 1e-9), 0.0, 1.0)
    rest = blend[:, None] * shares + (1.0 - blend[:, None]) * even
    scores = rest * (1.0 - confidence)[:, None]
    scores[rows, predicted] = confidence
    return scores.astype(np.float32)


def _abstentions(rng: np.random.Generator, confidence: np.ndarray) -> np.ndarray:
    """Mask of the rows the model declined to answer: mostly, not only, its least sure."""
    key = confidence + rng.normal(0.0, 0.1, size=len(confidence))
    count = round(ABSTAINED_SHARE * len(confidence))
    mask = np.zeros(len(confidence), dtype=bool)
    mask[np.argpartition(key, count)[:count]] = True
    return mask


def _ids(first: int, n: int) -> pa.Array:
    """``_ids(123, 1)`` -> ``["conv-000123"]``."""
    digits = pc.utf8_lpad(pa.array(np.arange(first, first + n)).cast(pa.string()), 6, "0")
    return pc.binary_join_element_wise("conv-", digits, "")


def _timestamps(age: np.ndarray) -> np.ndarray:
    """Microseconds since the epoch for ages in [0, 1) across the DAYS before END."""
    end_us = int(END.timestamp()) * 1_000_000
    span_us = int(timedelta(days=DAYS).total_seconds()) * 1_000_000
    return end_us - span_us + (age * span_us).astype(np.int64)


def _texts(rng: np.random.Generator, truth: np.ndarray) -> pa.Array:
    """A short opening message per row, from its label's templates."""
    phrases = [_phrases(TEMPLATES[label]) for label in LABELS]
    counts = np.array([len(p) for p in phrases])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    picks = offsets[truth] + (rng.random(len(truth)) * counts[truth]).astype(np.int64)
    return pc.take(pa.array(list(itertools.chain.from_iterable(phrases))), pa.array(picks))


def _phrases(templates: tuple[str, ...]) -> list[str]:
    """Every filling of every template, in a stable order.

    Duplicates stay (a template without a slot repeats), so each template has
    the same number of entries and a uniform pick is a uniform template.
    """
    fillers = list(itertools.product(ITEMS, WHEN))
    return [t.format(item=item, when=when) for t in templates for item, when in fillers]


def _label_array(codes: np.ndarray) -> pa.Array:
    """Label strings for codes, null where the code is -1."""
    return pc.take(pa.array(LABELS), pa.array(codes, mask=codes < 0))


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
