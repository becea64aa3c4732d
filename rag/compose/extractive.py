"""The default composer: quote the sentence(s) of the top passages that answer the question.

In: the question, its language, and ranked passages. Out: an `Answer` whose every sentence is a
verbatim quote (trimmed to the answering clause when very long) with its [n] marker, framed in
the question's language when the evidence is in another one; or an abstention when the evidence
is weak. No network.

Each candidate sentence gets a score in [0, 1]:

    base  = 0.45 * semantic + 0.55 * lexical          (question and passage in the same language)
    base  = 0.6 * semantic + 0.4 * lexical            (across languages: numbers, names via pinyin, Latin)
    score = base * kind_factor * focus_factor * entity_factor

`semantic` is the e5 query-sentence cosine rescaled to [0, 1]. `lexical` is the weighted share of
the question's key terms in the sentence (60%, names left out: a sentence need not repeat the
place its passage is about) and in its passage (40%); a part with nothing to compare counts 0.5.
`kind_factor` is 0.4 when the question asks for a person or place the sentence lacks.
`focus_factor` runs from 0.7 to 1.0 with the share of the question's measure words (what is
counted or named: "有多少[持证社工]", "[平均年龄]是多少") in the sentence. `entity_factor` falls by up to 0.6 with
the share of the question's places, organisations and people that the passage does not mention (compared across
scripts via pinyin and the dictionary).

Before any of that, candidates that cannot answer are dropped, each for a stated reason that the
abstention notes repeat (`passage_mismatch`, `sentence_mismatch`): no figure or date in the sentence
where one is asked for, or no figure of the unit asked for (a count is no answer to "what share", 90学时
none to "how many social workers": `terms.asked_unit`, `kinds.figure_unit`); an article without a year
or code the question names ("in 2020", "5A"); a passage that mentions none of the question's places; a
count whose passage never names what is counted ("平均月薪") or lacks a word that narrows it ("高级社会工作师"); a
count for a whole city where a province is asked about, or for a place inside it (厦门 in 福建); a sentence
that names only the deputy of the post asked about. These are what on-topic but unanswerable questions look
like: their best sentences share every word but the asked attribute, so no score threshold separates them.
The best sentence's score is the answer's `confidence`; below `abstain_threshold` the composer abstains. Only the
`max_candidates` sentences with the best lexical pre-score are scored by meaning, by their whole
sentence, whose vector the build put in the embedding cache (`embed_sentences`); then the best
`QUOTED_EMBEDS` whose quote is much shorter than its sentence also by the quote (their answering
clauses), and keep the better of the two. Of the sentences the cache
lacks (another machine built the index, or the setting is off) at most `EMBED_PER_QUESTION` are
embedded now and the rest dropped, so a cold cache costs one small batch, not forty sentences.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from rag.compose import evidence, messages
from rag.compose.citations import Source, collapse_duplicates, make_citation
from rag.compose.evidence import KIND_MISSING_FACTOR, CountedTerms
from rag.compose.quotes import TRIM_CHARS, answering_clauses, clause_bounds, gap, term_positions
from rag.compose.verify import Claim, verify_claims
from rag.embed.base import Embedder, PassageCache
from rag.lang.text import WHITE_SPACE, candidate_spans, detect_language, fold, is_chinese
from rag.lang.words import tagger
from rag.query.analyze import QuestionInfo, analyze
from rag.query.kinds import figure_unit, kind_spans
from rag.query.text_view import TextView, text_view
from rag.types import Answer, Citation, Passage

log = logging.getLogger(__name__)

NO_LEXICAL_PRIOR = 0.5  # `lexical` when nothing can be compared (no shared script, numbers or names)
FOCUS_FLOOR = 0.7
QUOTED_EMBEDS = 2  # the best candidates are embedded as quoted (trimmed) too, not only as their whole sentence
QUOTE_SHARE_TO_EMBED = 0.4  # ... if the quote is under this share of its sentence (gold: same hits, 60% fewer embeds)
EMBED_PER_QUESTION = 12  # at most this many sentences without a cached vector are embedded per question
SECOND_SENTENCE_RATIO = 0.9  # a further sentence must score this share of the best one
# e5 cosines crowd into a narrow band; these map it onto [0, 1] (cross-lingual cosines run lower).
COSINE_RANGE_SAME = (0.78, 0.95)
COSINE_RANGE_CROSS = (0.72, 0.90)

# Clause punctuation, but not the comma of "11,265" nor the colon of "3:30".


@dataclass
class Candidate:
    """A sentence (or its answering clauses) of a passage, with the parts of its score."""

    source: int  # index into the collapsed sources, best first
    start: int  # span in the passage text
    end: int
    text: str
    sentence: str  # the whole sentence `text` is (part of): what is embedded, so build-time vectors serve
    lexical: float | None
    kind_ok: bool
    focus: float  # share of the question's measure words in the sentence (1.0 when not comparable)
    entity_factor: float
    cross_lingual: bool
    mismatch: str = ""  # why the sentence cannot answer the question ("" when it may): such candidates are dropped
    semantic: float = 0.0
    score: float = 0.0

    def prefilter_score(self) -> float:
        lexical = NO_LEXICAL_PRIOR if self.lexical is None else self.lexical
        return lexical * self.factors() - 0.02 * self.source

    def factors(self) -> float:
        kind = 1.0 if self.kind_ok else KIND_MISSING_FACTOR
        focus = FOCUS_FLOOR + (1.0 - FOCUS_FLOOR) * self.focus
        return kind * focus * self.entity_factor


@dataclass
class Scored:
    """What the scoring found: the sources considered and the candidates, best first."""

    question: QuestionInfo
    sources: list[Source]
    candidates: list[Candidate]
    mismatches: list[str] = field(default_factory=list)  # why the dropped candidates could not answer, best first

    @property
    def confidence(self) -> float:
        return self.candidates[0].score if self.candidates else 0.0


class ExtractiveComposer:
    def __init__(self, embedder: Embedder, max_sentences: int = 2, abstain_threshold: float = 0.5,
                 max_passages: int = 5, max_candidates: int = 8, abstain_threshold_cross: float | None = None) -> None:
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1")
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.abstain_threshold = abstain_threshold
        # Across languages only numbers and names can be checked lexically, so confidences run lower.
        self.abstain_threshold_cross = abstain_threshold if abstain_threshold_cross is None else abstain_threshold_cross
        self.max_passages = max_passages
        self.max_candidates = max_candidates

    def warm_up(self) -> None:
        tagger()  # jieba's part-of-speech tagger: the question's analysis and the citation check use it

    def prefetch(self) -> None:
        """Nothing: the tagger loads in Python, which a thread would only interleave with the retrieval."""

    def compose(self, question: str, passages: list[Passage], language: str,
                query_vector: np.ndarray | None = None) -> Answer:
        """`query_vector`: the question's e5 query embedding, if the caller already has it."""
        started = time.perf_counter()
        scored = self.score(question, passages, language, query_vector)
        answer = self.answer_from(scored, passages, language)
        answer.timings["compose"] = time.perf_counter() - started
        return answer

    # ---- scoring ------------------------------------------------------------------------------

    def score(self, question: str, passages: list[Passage], language: str,
              query_vector: np.ndarray | None = None) -> Scored:
        info = analyze(question, language)
        sources = collapse_duplicates(passages)[: self.max_passages]
        articles = _articles(passages)
        candidates: list[Candidate] = []
        for index, source in enumerate(sources):
            candidates.extend(self._candidates(index, source.passage, info, articles[source.passage.doc_id]))
        candidates.sort(key=lambda c: (-c.prefilter_score(), c.source, c.start))
        mismatches = list(dict.fromkeys(c.mismatch for c in candidates if c.mismatch))
        candidates = [c for c in candidates if not c.mismatch]
        candidates = candidates[: self.max_candidates]
        if isinstance(self.embedder, PassageCache) and len(candidates) > EMBED_PER_QUESTION:
            known = self.embedder.cached_passages([c.sentence for c in candidates[EMBED_PER_QUESTION:]])
            candidates = [c for n, c in enumerate(candidates) if n < EMBED_PER_QUESTION or c.sentence in known]
        if candidates:
            if query_vector is None:
                query_vector = self.embedder.embed_queries([question])[0]
            # Every candidate by its whole sentence, whose vector the build computed (`embed_sentences`); then the
            # best few, where trimmed, by their quote as well: a clause can mean more than its long sentence.
            self._set_semantic(candidates, [c.sentence for c in candidates], query_vector)
            candidates.sort(key=lambda c: (-round(c.score, 3), c.source, c.start))
            quoted = [c for c in candidates[:QUOTED_EMBEDS] if len(c.text) < QUOTE_SHARE_TO_EMBED * len(c.sentence)]
            self._set_semantic(quoted, [c.text for c in quoted], query_vector)
        candidates.sort(key=lambda c: (-round(c.score, 3), c.source, c.start))
        return Scored(info, sources, candidates, mismatches)

    def _set_semantic(self, candidates: list[Candidate], texts: list[str], query_vector: np.ndarray) -> None:
        """Raise each candidate's semantic score to its text's cosine with the question (rescaled), and rescore."""
        if not candidates:
            return
        for candidate, cosine in zip(candidates, self.embedder.embed_passages(texts) @ query_vector, strict=True):
            candidate.semantic = max(candidate.semantic, _rescale(float(cosine), candidate.cross_lingual))
            candidate.score = _combine(candidate)

    def _candidates(self, index: int, passage: Passage, info: QuestionInfo, article: TextView) -> list[Candidate]:
        evidence_language = passage.lang or detect_language(passage.text)
        cross = is_chinese(evidence_language) != info.chinese
        whole = text_view(f"{passage.title}\n{passage.text}")
        title = text_view(passage.title or "")
        entity_factor = evidence.entity_factor(info, whole)
        passage_mismatch = evidence.passage_mismatch(info, whole, article, cross)
        # A term the passage lacks is in none of its sentences: only the others are looked up sentence by sentence.
        in_passage = CountedTerms.of(info, cross, entities=True).found_in(info, whole)
        passage_cov = evidence.coverage(info, whole, cross, among=in_passage)
        out: list[Candidate] = []
        for start, end in candidate_spans(passage.text):
            sentence_text = passage.text[start:end]
            # Found in the whole sentence, which comes back question after question, and kept where it is quoted.
            kinds = [(start + a, start + b) for a, b in kind_spans(info.kind, sentence_text, info)]
            if end - start > TRIM_CHARS:
                start, end = answering_clauses(passage.text, start, end, info, cross, kinds, in_passage)
            text = passage.text[start:end]
            sentence = text_view(text)
            kind_ok = info.kind is None or any(start <= a and b <= end for a, b in kinds)
            sentence_cov = evidence.coverage(info, sentence, cross, entities=False, among=in_passage)
            lexical = None
            if sentence_cov is not None or passage_cov is not None:
                lexical = (0.6 * (NO_LEXICAL_PRIOR if sentence_cov is None else sentence_cov)
                           + 0.4 * (NO_LEXICAL_PRIOR if passage_cov is None else passage_cov))
            out.append(Candidate(
                source=index, start=start, end=end, text=text, sentence=sentence_text, lexical=lexical,
                kind_ok=kind_ok, focus=(evidence.focus_across if cross else evidence.focus)(info, sentence),
                entity_factor=entity_factor, cross_lingual=cross,
                mismatch=passage_mismatch or evidence.sentence_mismatch(info, sentence, kind_ok, title),
            ))
        return out

    # ---- answering ----------------------------------------------------------------------------

    def answer_from(self, scored: Scored, passages: list[Passage], language: str) -> Answer:
        """The answer for scored candidates: quotes with citations, or an abstention."""
        confidence = scored.confidence
        threshold = self.abstain_threshold
        if scored.candidates and scored.candidates[0].cross_lingual:
            threshold = self.abstain_threshold_cross
        if not scored.candidates or confidence < threshold:
            if not passages:
                notes = ["No passages were retrieved."]
            elif not scored.candidates:
                notes = [f"No sentence can answer: {'; '.join(scored.mismatches[:3])}."]
            else:
                notes = [f"Confidence {confidence:.2f} is below the abstain threshold {threshold:.2f}."]
            return abstention(scored.question.text, passages, language, confidence, notes)
        chosen = self._choose(scored.candidates)
        sources = scored.sources
        claims = [Claim(text=c.text, passage=c.source, key=self._key(c, scored.question)) for c in chosen]
        kept, notes = verify_claims(claims, [s.passage.text for s in sources])
        if not kept:
            return abstention(scored.question.text, passages, language, confidence, notes)
        by_claim = {id(claim): candidate for claim, candidate in zip(claims, chosen, strict=True)}
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        for claim in kept:
            candidate = by_claim[id(claim)]
            if candidate.source not in numbers:
                numbers[candidate.source] = len(numbers) + 1
                citations.append(make_citation(numbers[candidate.source], sources[candidate.source],
                                               (candidate.start, candidate.end)))
            parts.append(self._render(claim, candidate, numbers[candidate.source], sources, language, scored))
        return Answer(
            question=scored.question.text, text=messages.join_claims(parts, language), citations=citations,
            abstained=False, language=language, passages=list(passages), notes=notes, confidence=confidence,
            short_answer=kept[0].key or kept[0].text,
        )

    def _choose(self, candidates: list[Candidate]) -> list[Candidate]:
        best = candidates[0]
        chosen = [best]
        floor = max(min(self.abstain_threshold, self.abstain_threshold_cross), SECOND_SENTENCE_RATIO * best.score)
        for candidate in candidates[1:]:
            if len(chosen) >= self.max_sentences:
                break
            # A further quote must name what is asked about as fully as the best one ("持证社工", not just "社工").
            if candidate.score < floor or not candidate.kind_ok or candidate.focus < best.focus:
                continue
            if any(_overlapping(candidate, c) or _near_same(candidate.text, c.text) for c in chosen):
                continue
            chosen.append(candidate)
        return chosen

    def _key(self, candidate: Candidate, info: QuestionInfo) -> str:
        """The figure, date or name the quote answers with, surfaced when framing across languages."""
        if not candidate.cross_lingual or info.kind is None:
            return ""
        text = candidate.text
        spans = kind_spans(info.kind, text, info)
        if not spans:
            return ""
        anchors = term_positions(text, info)
        if info.kind != "number":
            spans.sort(key=lambda s: (min((gap(s, a) for a in anchors), default=0), s[0]))
        else:
            # A figure of the unit asked for, in the clause that names what is counted, above all the words that
            # narrow it ("[assistant] social workers": "其中[助理]社会工作师94人", not "持证社工125人"), and most of
            # the question's other terms; then the one nearest them.
            counted = CountedTerms.of(info, cross=True, entities=False)
            narrowing = set(info.qualifiers) if info.chinese else set(info.measure[:-1])
            measures = [(forms, 2 if m in narrowing else 1) for m in info.measure if (forms := info.translations_of(m))]
            bounds = clause_bounds(text, 0, len(text))

            def rank(span: tuple[int, int]) -> tuple[bool, int, float, int, int]:
                start, end = max(b for b in bounds if b <= span[0]), min(b for b in bounds if b >= span[1])
                clause = text_view(text[start:end])
                return (info.unit not in (None, "count") and figure_unit(text, *span) != info.unit,
                        -sum(weight for forms, weight in measures if any(clause.has(f) for f in forms)),
                        -counted.totals(counted.found_in(info, clause))[0],
                        min((gap(span, a) for a in anchors), default=0), span[0])

            spans.sort(key=rank)
        start, end = spans[0]
        return candidate.text[start:end].strip()

    def _render(self, claim: Claim, candidate: Candidate, n: int, sources: list[Source], language: str,
                scored: Scored) -> str:
        if not candidate.cross_lingual:
            return messages.same_language_claim(claim.text, n, language)
        passage = sources[candidate.source].passage
        return messages.cross_language_claim(
            claim.text, n, language, passage.lang or detect_language(passage.text), passage.source,
            scored.question.kind, claim.key,
        )


def abstention(question: str, passages: list[Passage], language: str, confidence: float,
               notes: list[str]) -> Answer:
    return Answer(
        question=question, text=messages.abstain_text(language), citations=[], abstained=True,
        language=language, passages=list(passages), notes=notes, confidence=confidence,
    )


# ---- scoring parts ------------------------------------------------------------------------------


def _articles(passages: list[Passage]) -> dict[str, TextView]:
    """doc id -> its title, date and every paragraph among `passages` (the whole article for the first few, which
    `document_context` adds): what a year or figure the question names is looked up in."""
    parts: dict[str, list[str]] = {}
    for p in passages:
        parts.setdefault(p.doc_id, [p.title, p.date or ""]).append(p.text)
    return {doc_id: text_view("\n".join(texts)) for doc_id, texts in parts.items()}


def _rescale(cosine: float, cross_lingual: bool) -> float:
    low, high = COSINE_RANGE_CROSS if cross_lingual else COSINE_RANGE_SAME
    return min(1.0, max(0.0, (cosine - low) / (high - low)))


def _combine(c: Candidate) -> float:
    # With nothing to compare lexically, the prior stands in only as far as the meaning matches:
    # a flat prior would give every unrelated sentence a free floor of confidence (0.2 across languages).
    lexical = NO_LEXICAL_PRIOR * c.semantic if c.lexical is None else c.lexical
    if c.cross_lingual:
        base = 0.6 * c.semantic + 0.4 * lexical
    else:
        base = 0.45 * c.semantic + 0.55 * lexical
    return base * c.factors()


def _overlapping(a: Candidate, b: Candidate) -> bool:
    return a.source == b.source and a.start < b.end and b.start < a.end


def _near_same(a: str, b: str) -> bool:
    x, y = WHITE_SPACE.sub("", fold(a)), WHITE_SPACE.sub("", fold(b))
    if x in y or y in x:
        return True
    grams_x = {x[i : i + 2] for i in range(len(x) - 1)}
    grams_y = {y[i : i + 2] for i in range(len(y) - 1)}
    return bool(grams_x and grams_y) and len(grams_x & grams_y) / min(len(grams_x), len(grams_y)) > 0.8
