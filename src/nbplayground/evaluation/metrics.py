"""Text similarity metrics in [0, 1], named as OpenAI's text_similarity grader names them.

Each comes from a maintained library, imported when first used: rapidfuzz (fuzzy_match), nltk
(bleu, gleu, meteor), Google's rouge-score (rouge_1..rouge_5, rouge_l), numpy (cosine).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from nbplayground.evaluation import wordnet
from nbplayground.evaluation.embeddings import CachedEmbedder, cosine_of
from nbplayground.evaluation.ports import Embedder
from nbplayground.evaluation.score import MetricUnavailable

METRICS = ("fuzzy_match", "bleu", "gleu", "meteor", "rouge_1", "rouge_2", "rouge_3", "rouge_4",
           "rouge_5", "rouge_l", "cosine")

Metric = Callable[[str, str], float]
"""(answer, reference) -> similarity in [0, 1]."""

_WORDS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def _tokens(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def fuzzy_match(answer: str, reference: str) -> float:
    """rapidfuzz's normalized Indel similarity (fuzz.ratio) / 100."""
    from rapidfuzz import fuzz

    return float(fuzz.ratio(answer, reference)) / 100.0


def bleu(answer: str, reference: str) -> float:
    """Sentence BLEU up to 4-grams, with Chen & Cherry's smoothing 1; texts shorter than four
    words use n-grams only as long as they are, so a one-word answer equal to a one-word
    reference scores 1 (plain BLEU-4 scores it near 0)."""
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    hyp, ref = _tokens(answer), _tokens(reference)
    if not hyp or not ref:
        return float(hyp == ref)
    n = min(4, len(hyp), len(ref))
    return float(sentence_bleu([ref], hyp, weights=(1.0 / n,) * n,
                               smoothing_function=SmoothingFunction().method1))


def gleu(answer: str, reference: str) -> float:
    from nltk.translate.gleu_score import sentence_gleu

    hyp, ref = _tokens(answer), _tokens(reference)
    if not hyp or not ref:
        return float(hyp == ref)
    return float(sentence_gleu([ref], hyp))


def meteor(answer: str, reference: str) -> float:
    """nltk's METEOR (exact, Porter-stem and WordNet-synonym matches; alpha 0.9, beta 3,
    gamma 0.5) over the same tokens as bleu and gleu, WordNet 3.0 read offline (see
    evaluation.wordnet; the first call in a process loads it, which takes seconds)."""
    from nltk.translate.meteor_score import meteor_score

    hyp, ref = _tokens(answer), _tokens(reference)
    if not hyp or not ref:
        return float(hyp == ref)
    return float(meteor_score([ref], hyp, wordnet=wordnet.reader()))


@functools.cache
def _rouge(kind: str) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([kind])


def rouge(kind: str) -> Metric:
    """ROUGE-N / ROUGE-L F-measure, as Google's rouge-score computes it (no stemming)."""

    def score(answer: str, reference: str) -> float:
        return float(_rouge(kind).score(reference, answer)[kind].fmeasure)

    score.__name__ = kind
    return score


def cosine(embedder: Embedder) -> Metric:
    """Cosine similarity of the two texts' embeddings, negatives as 0 (like the other metrics,
    in [0, 1]). A blank text is not sent: it scores 1 against a blank one, else 0."""
    cached = embedder if isinstance(embedder, CachedEmbedder) else CachedEmbedder(embedder)

    def score(answer: str, reference: str) -> float:
        if not answer.strip() or not reference.strip():
            return float(answer.strip() == reference.strip())
        a, b = cached.vectors([answer, reference])
        return max(0.0, cosine_of(a, b))

    score.__name__ = "cosine"
    return score


def metric(name: str, embedder: Embedder | None = None) -> Metric:
    """The metric function called `name` (validated by the scorer already)."""
    if name == "cosine":
        if embedder is None:
            raise MetricUnavailable(
                "metric='cosine' needs an embeddings endpoint, and none is configured for "
                "scoring yet; use metric='fuzzy_match', 'bleu' or 'rouge_l'")
        return cosine(embedder)
    if name.startswith("rouge_"):
        return rouge("rougeL" if name == "rouge_l" else "rouge" + name[-1])
    if name == "fuzzy_match":  # imported once here, not at each call (a sweep makes many)
        from rapidfuzz import fuzz

        ratio = fuzz.ratio
        return lambda answer, reference: float(ratio(answer, reference)) / 100.0
    found: dict[str, Metric] = {"bleu": bleu, "gleu": gleu, "meteor": meteor}
    return found[name]
