"""The relatedness index: documents as TF-IDF signatures, all-pairs neighbours in blocks, one-item queries.

Pure (no I/O). Terms are the integer keys of feedsvc/related/tokens.py. A document's vector keeps its
`SIGNATURE_TERMS` heaviest terms (renormalised): they carry nearly all the weight, and the cap bounds the
cost of comparing everything with everything.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

import numpy as np
import scipy.sparse as sp
from sparse_dot_topn import sp_matmul_topn

from feedsvc.related import ranking
from feedsvc.related.docs import Doc, Scored, doc_text, placeholder
from feedsvc.related.signatures import (
    add_counts,
    compact_keys,
    distinct,
    merge_counts,
    release_memory,
    self_scores,
    shared_signatures,
    signatures,
    to_csr,
)
from feedsvc.related.tokens import TokenMode, batch_keys, is_word_pair

# idf squared: boilerplate shared across a site ("转载请注明出处", "subscribe to our newsletter") otherwise
# makes unrelated pages look alike (generated pages, Chinese: idf squared 0.999, idf^1.5 0.994, plain idf
# 0.89). On real text a lower power ranks a little better (Fudan Chinese 0.79 with idf^1.5 against 0.78,
# both above plain TF-IDF's 0.75), not enough to lose the generated pages for (bench/related_quality.py,
# docs/related.md).
IDF_POWER = 2.0
# Terms in more than max(MIN_MAX_DF, MAX_DF_RATIO * n) documents, n at most MAX_DF_ITEMS, are left out of
# signatures. The cap stops growing at 100,000 documents: every posted term adds its df to the candidates of
# each document holding it, so a cap growing with n made the all-pairs work grow like n squared (1,000,000
# generated items: terms in up to 10,000 documents posted, scoring unfinished after 28 min; bench/README.md).
MIN_MAX_DF = 1000
MAX_DF_RATIO = 0.01
MAX_DF_ITEMS = 100_000
# Terms in fewer documents than this are left out of a whole-collection index (see bench/related_quality.py).
MIN_DF = 1
# With a weak best match, candidates down to this share of it are kept (see feedsvc/related/ranking.py). 0.7, not 0.5:
# candidates far below an item's best match are mostly off-topic on real text (precision@5 at 0.5 / 0.7:
# 20 Newsgroups 0.75 / 0.77, AG News 0.70 / 0.71, Fudan 0.75 / 0.78), at the cost of shorter lists (about
# 2 to 3 of 5 shown instead of 3 to 4 on those sets).
RELATIVE_CUT = 0.7
# Candidates ranked per document before near-duplicates are set aside and the list is cut to `limit`.
SLACK = 10

# In an index of the whole collection (`shared_slots`), a signature's slots go to terms some other document
# holds, and its weights are scaled by the length of the document's whole vector. A term of one document
# matches nothing, yet (with idf squared, the heaviest of all) such terms filled the slots of shared ones,
# and scaling by the kept terms alone inflated the scores of documents with few shared terms. On real
# text: Fudan 0.78 against 0.73, 20 Newsgroups 0.79 against 0.77 (bench/related_quality.py --real).
FULL_NORM = True
SHARED_MIN_DF = 2

# Rows ranked together when every document is ranked (a rebuild): one top-n product each (see `_best`).
NEIGHBOUR_BLOCK = 8192
# Candidates kept per document beyond the `limit + SLACK` a list is ranked from: the near-duplicate-strength
# ones the best weak match is looked for below. A document with more such candidates is ranked again from
# its full product (see ranking.rank); none of 100,000 generated items needed it (bench/README.md).
TOP_MARGIN = 15

# Documents tokenised together: numpy's per-call overhead is paid per batch instead of per document.
BATCH = 2000
# Batches whose term counts are merged together into the collection's in pass 1 (and between memory trims in
# pass 2): the distinct keys of every batch at once were ~0.9 GB at 1,000,000 items (with their sorted copy).
MERGE = 25
# Up to this many documents an index keeps each batch's terms from pass 1 for pass 2 even when it lets the
# texts go: tokenising once is ~6 s less per 100,000 items, and the terms (~6 bytes an entry) fit the budget.
ONE_PASS_ITEMS = 250_000
# Batches waiting or being tokenised per thread in pass 1.
LOOKAHEAD = 3


# A batch's terms: (distinct terms per document, each entry's position among the batch's sorted distinct keys,
# count, those keys); see signatures.compact_keys.
Terms = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
# Signature entries of a batch: (entries per document, columns, weights).
Part = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class Prior:
    """Document frequencies of documents outside an index, over `items` documents: `df(keys)` gives term key ->
    df for the keys asked (absent: 0). A function, so only the index's own terms are looked up (in the store)."""

    df: Callable[[list[int]], dict[int, int]]
    items: int


class RelatedIndex:
    """Signatures of a set of documents: every document's neighbours, or any document's matches."""

    def __init__(self, docs: Sequence[Doc], mode: TokenMode = "bigram", max_df: int | None = None,
                 min_df: int = 1, prior: Prior | None = None, shared_slots: bool = False,
                 keep_texts: bool = True) -> None:
        """`prior`: the rest of the collection's document frequencies (a crawl's refresh indexes only its new
        items, weighted by the whole collection's idf: stored df plus theirs). `shared_slots`: the index (with
        its prior) is the whole collection, so signature slots go only to terms another document holds (see
        FULL_NORM); not for an index that is queried with documents outside it. `keep_texts=False`: each
        document of `docs` (a list, changed in place) becomes its placeholder once tokenised
        (feedsvc/related/docs.py), so the near-duplicate rules need the texts they read loaded again (the
        `resolve` of `neighbours_of`)."""
        self.mode: TokenMode = mode
        self.shared_slots = shared_slots
        # Without texts kept, the caller's list itself (a rebuild's) gives up each document's text once it is
        # tokenised: the texts of 1,000,000 items are ~1.6 GB.
        self.docs = docs if not keep_texts and isinstance(docs, list) else list(docs)
        n = len(self.docs)
        self.ids = np.fromiter((d.id for d in self.docs), dtype=np.int64, count=n)
        self._has_text = np.fromiter((bool(d.text.strip()) for d in self.docs), dtype=bool, count=n)
        # Pass 1: every term's df, per batch (numpy's per-call cost is paid per batch). Tokenising in worker
        # processes (one per core) took ~20% off the index phase's wall time (100,000 generated items, load 3),
        # but the results coming back as pickled arrays raised the parent's peak by 130-190 MB, past the
        # rebuild's 1 GB budget (bench/README.md). Threads instead: no copies, and numpy's sorts (most of the
        # work) release the GIL. Past ONE_PASS_ITEMS without texts kept, the batches' terms are not kept
        # either: pass 2 tokenises again (~120 s at 1,000,000 items), as keeping the terms of 1,000,000 items
        # (6 bytes an entry) beside the texts not yet tokenised took the peak to 3.9 GB.
        one_pass = keep_texts or n <= ONE_PASS_ITEMS
        stored: list[Terms | None] | None = [] if one_pass else None
        self.keys, df = self._count_terms(mode, stored, let_go=one_pass and not keep_texts)
        self.local_df = df
        total = n
        if prior is not None:
            terms: list[int] = self.keys.tolist()
            known = prior.df(terms)
            df = df + np.fromiter((known.get(k, 0) for k in terms), dtype=np.int64, count=len(terms))
            total += prior.items
        # A word pair held by one item matches nothing and is rarely what a later item shares (unlike a
        # one-off name): it counts in the length a signature is scaled by (leaving it out cost AG News 0.06),
        # but takes no slot. Pairs are mostly one-offs, so a rebuild drops their columns (not posted, no df
        # stored): half the terms of English text (bench/related_bench.py). A refresh posts them and stores
        # their df, so a pair's second item (a repost above all) finds it counted and posted.
        whole = shared_slots and FULL_NORM
        lone = is_word_pair(self.keys) & (df < 2) if whole else np.zeros(len(self.keys), dtype=bool)
        self.df = df.astype(np.float32)
        self.idf = ((np.log((total + 1) / (self.df + 1)) + 1.0) ** IDF_POWER).astype(np.float32)
        self.max_df = max_df if max_df is not None else max(MIN_MAX_DF, int(MAX_DF_RATIO * min(total, MAX_DF_ITEMS)))
        # Terms more common than that are left out of signatures: they say little about any one document
        # and their long postings lists are what makes comparing everything with everything slow.
        self.idf[self.df > self.max_df] = 0.0
        # When every document is indexed (a rebuild), a term seen in one links it to nothing, yet it takes
        # weight from the terms it shares; a query or a sample of the collection keeps such terms.
        self.idf[self.df < min_df] = 0.0
        self._unseen_idf = (math.log(total + 1) + 1.0) ** IDF_POWER
        shared = self.df >= SHARED_MIN_DF if whole else None
        postable = ~lone if prior is None else np.ones(len(self.keys), dtype=bool)
        ranked, extra = self._sign(mode, stored, shared, postable)
        if prior is None and lone.any():
            kept = ~lone
            remap = (np.cumsum(kept) - 1).astype(np.int32)
            for _lengths, c, _v in ranked + extra:
                c[:] = remap[c]  # in place: a copy of every part at once would double them
            self.keys, self.local_df = self.keys[kept], self.local_df[kept]
            self.df, self.idf = self.df[kept], self.idf[kept]
        self.matrix = to_csr(ranked, n, len(self.keys))
        # Posted but not ranked (see `posted`): terms no other item holds yet, among an item's heaviest.
        self.extra = to_csr(extra, n, len(self.keys))
        del ranked, extra
        release_memory()  # before the transposed copy, the index's largest allocation
        self._inverted = sp.csr_matrix(self.matrix.T)
        self._own = self_scores(self.matrix)
        self._extra_by_term: sp.csr_matrix | None = None

    def _count_terms(self, mode: TokenMode, stored: list[Terms | None] | None,
                     let_go: bool) -> tuple[np.ndarray, np.ndarray]:
        """Pass 1: (sorted distinct term keys, their df) of every document; each batch's terms appended to
        `stored` if given; with `let_go`, the texts of the batches counted become placeholders, MERGE
        batches at a time."""
        n = len(self.docs)
        keys, df = np.zeros(0, np.int64), np.zeros(0, np.int64)
        counted: list[tuple[np.ndarray, np.ndarray]] = []
        starts = iter(range(0, n, BATCH))
        threads = _threads() if n > BATCH else 1
        with ThreadPoolExecutor(max_workers=threads) as pool:
            # A few batches ahead, so the pool tokenises on while this thread merges counts (MERGE batches'
            # worth: merging after the pool had drained left a core idle for ~2 s of 100,000 items); few, so
            # finished batches never pile up ahead of the merge.
            ahead = deque(pool.submit(self._terms, start, mode) for start in islice(starts, LOOKAHEAD * threads))
            done = window = 0
            while ahead:
                lengths, inverse, counts16, vocab, counts = ahead.popleft().result()
                ahead.extend(pool.submit(self._terms, start, mode) for start in islice(starts, 1))
                counted.append((vocab, counts))
                if stored is not None:
                    stored.append((lengths, inverse, counts16, vocab))
                done = min(done + BATCH, n)
                if len(counted) == MERGE or not ahead:
                    keys, df = add_counts(keys, df, *merge_counts(counted))
                    counted = []
                    if let_go:  # tokenised for good: the window's texts go now
                        self._let_texts_go(window, done)
                    window = done
        return keys, df

    def _sign(self, mode: TokenMode, stored: list[Terms | None] | None, shared: np.ndarray | None,
              postable: np.ndarray) -> tuple[list[Part], list[Part]]:
        """Pass 2: every batch's (ranked, posted-only) signature parts (see `_signature_part`), in batch order,
        from the terms `stored` in pass 1 (each let go once used) or, without them, tokenised again (the texts
        then become placeholders). In threads: numpy's work on a batch's entries releases the GIL."""
        n = len(self.docs)
        ranked: list[Part] = []
        extra: list[Part] = []

        def part(batch: int) -> tuple[Part, Part | None]:
            start = batch * BATCH
            if stored is not None:
                terms, stored[batch] = stored[batch], None
                assert terms is not None  # each batch is signed once
            else:  # tokenised again, for the last time: the texts go now
                terms = self._terms(start, mode)[:4]
                self.docs[start : start + BATCH] = map(placeholder, self.docs[start : start + BATCH])
            return self._signature_part(terms, min(BATCH, n - start), shared, postable)

        with ThreadPoolExecutor(max_workers=_threads() if n > BATCH else 1) as pool:
            for batch, (ranked_part, extra_part) in enumerate(pool.map(part, range(-(-n // BATCH)))):
                ranked.append(ranked_part)
                if extra_part is not None:
                    extra.append(extra_part)
                if stored is None and batch % MERGE == MERGE - 1:
                    release_memory()  # the texts let go: the arrays, above glibc's mmap threshold, never reuse them
        return ranked, extra

    def _signature_part(self, terms: Terms, size: int, shared: np.ndarray | None,
                        postable: np.ndarray) -> tuple[Part, Part | None]:
        """A batch's (ranked, posted-only) signature entries from its terms, as (entries per row, columns,
        weights); with `shared` (a mask over terms: the index is the whole collection), slots go only to
        shared terms and the `postable` rest of the heaviest are posted, else (None) all are ranked."""
        lengths, inverse, counts16, vocab = terms
        cols = np.searchsorted(self.keys, vocab).astype(np.int32)[inverse]  # sorted lookups: fast
        del inverse
        weights = (1.0 + np.log(counts16.astype(np.float32))) * self.idf[cols]
        rows64 = np.repeat(np.arange(size, dtype=np.int64), lengths)
        extra = None
        if shared is not None:
            # What is posted keeps the heaviest terms, held by others or not (yet): an item crawled
            # later that shares them, a repost above all, finds this one through them.
            (r, c, v), (r2, c2, v2) = shared_signatures(rows64, cols, weights, size, shared, postable)
            extra = (np.bincount(r2, minlength=size).astype(np.int32), c2, v2)
        else:
            r, c, v = signatures(rows64, cols, weights, size)
        # Rows as counts per row (entries are grouped by row): 4 bytes a row instead of 8 an entry.
        return (np.bincount(r, minlength=size).astype(np.int32), c, v), extra

    def _let_texts_go(self, start: int, stop: int) -> None:
        """The documents from `start` to `stop` become placeholders, their texts handed back to the system."""
        self.docs[start:stop] = map(placeholder, self.docs[start:stop])
        release_memory()  # the texts' arrays, above glibc's mmap threshold, are never reused otherwise

    def _terms(self, start: int, mode: TokenMode) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The batch of documents from `start`: its Terms and each of its keys' df in the batch."""
        lengths, inverse, counts16, vocab = compact_keys(self.docs[start : start + BATCH], mode)
        return lengths, inverse, counts16, vocab, np.bincount(inverse, minlength=len(vocab))

    @classmethod
    def from_matrix(cls, ids: np.ndarray, docs: Sequence[Doc], has_text: np.ndarray, keys: np.ndarray,
                    matrix: sp.csr_matrix) -> RelatedIndex:
        """An index over ready signatures (rows of `matrix`, columns = sorted term `keys`), for ranking only:
        it has no idf, so `neighbours`/`neighbours_of` work and `vector`/`query` do not apply. `ids` are
        the documents' ids; `docs` may hold placeholders where a Doc is not needed (see neighbours_of)."""
        index = cls.__new__(cls)
        index.mode, index.docs, index.ids = "bigram", list(docs), np.asarray(ids, dtype=np.int64)
        index._has_text, index.keys, index.matrix = has_text.astype(bool), keys, matrix
        index.shared_slots = True
        index.df = index.idf = np.zeros(len(keys), dtype=np.float32)
        index.local_df = np.zeros(len(keys), dtype=np.int64)
        index.max_df, index._unseen_idf = 0, 0.0
        index._inverted = sp.csr_matrix(matrix.T)
        index._own = self_scores(matrix)
        index.extra = sp.csr_matrix(matrix.shape, dtype=np.float32)
        index._extra_by_term = None
        return index

    @property
    def posted(self) -> sp.csr_matrix:
        """The signatures stored as postings (feedsvc/related/postings.py): the ranked ones plus, in an index
        of the whole collection, the item's heaviest terms no other item holds yet (same scaling)."""
        return sp.csr_matrix(self.matrix + self.extra) if self.extra.nnz else self.matrix

    def posted_terms(self, lo: int, hi: int) -> sp.csr_matrix:
        """The postings of the terms at columns lo..hi (`posted`, one row per term, its documents' rows in
        order): slices of the transposed copy the ranking keeps anyway, so writing every term of 1,000,000
        items needs no whole-collection copy (`posted` and its transpose were ~1 GB each)."""
        if not self.extra.nnz:
            return sp.csr_matrix(self._inverted[lo:hi])
        if self._extra_by_term is None:
            self._extra_by_term = sp.csr_matrix(self.extra.T)
        # Disjoint entries of two canonical matrices: the sum is a merge, each term's rows stay in order.
        return sp.csr_matrix(self._inverted[lo:hi] + self._extra_by_term[lo:hi])

    def signature(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(term keys, unit-length weights) of the document at this row."""
        lo, hi = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return self.keys[self.matrix.indices[lo:hi]], self.matrix.data[lo:hi]

    def vector(self, doc: Doc) -> sp.csr_matrix:
        """A document's signature in this index's space; terms the index has never seen weigh as df=0."""
        _rows, keys, counts = batch_keys([doc_text(doc)], self.mode)
        pos = np.searchsorted(self.keys, keys)
        pos[pos >= len(self.keys)] = 0
        known = self.keys[pos] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        idf = np.where(known, self.idf[pos] if len(self.keys) else 0.0, self._unseen_idf)
        # Unseen terms take part in scaling the signature, then drop out: nothing matches them.
        cols = np.where(known, pos, -1 - np.arange(len(keys)))
        _r, sig_cols, sig_vals = signatures(np.zeros(len(keys), np.int64), cols,
                                             ((1.0 + np.log(counts)) * idf).astype(np.float32), 1,
                                             known if self.shared_slots and FULL_NORM else None)
        keep = sig_cols >= 0
        return sp.csr_matrix((sig_vals[keep], sig_cols[keep].astype(np.int32), np.array([0, int(keep.sum())])),
                             shape=(1, len(self.keys)))

    def has_text(self, row: int) -> bool:
        """Whether the document at this row has body text (the near-duplicate rules treat title-only apart)."""
        return bool(self._has_text[row])

    def __len__(self) -> int:
        return len(self.docs)

    def query(self, doc: Doc, limit: int, min_score: float = 0.0) -> tuple[list[Scored], list[Scored]]:
        """(related, near-duplicates) of any document, best first; the document itself is skipped by id."""
        if not self.docs:
            return [], []
        vector = self.vector(doc)
        product = sp.csr_matrix(vector @ self._inverted)
        found = ranking.rank(self.ids, self._has_text, [doc], *ranking.padded(product), self_scores(vector),
                             limit + SLACK, min_score, RELATIVE_CUT, None)
        return ranking.lists(self.docs, doc, found, 0, limit, min_score, RELATIVE_CUT)

    def neighbours_of(self, positions: Sequence[int], limit: int, min_score: float = 0.0, block: int = 1024,
                      resolve: Callable[[np.ndarray], None] | None = None,
                      ) -> Iterator[tuple[Doc, list[Scored], list[Scored]]]:
        """(document, related, near-duplicates) for the documents at these positions of the index.

        The same answers as `neighbours` for them, a block at a time (a crawl's new items are indexed
        anyway). `resolve(rows)`: see `ranked_blocks`.
        """
        for rows, ranked in self.ranked_blocks(positions, limit, min_score, block, resolve):
            for k, row in enumerate(rows.tolist()):
                yield self.docs[row], *ranking.lists(self.docs, self.docs[row], ranked, k, limit, min_score,
                                                     RELATIVE_CUT)

    def ranked_blocks(self, positions: Sequence[int], limit: int, min_score: float = 0.0, block: int = 1024,
                      resolve: Callable[[np.ndarray], None] | None = None,
                      ) -> Iterator[tuple[np.ndarray, ranking.Ranked]]:
        """(rows, their ranked candidates) of the documents at these positions, `block` rows at a time: what
        `ranking.lists` (one document) or `ranking.block_lists` (the block) turn into related lists.
        `resolve(rows)` is called before each block is yielded with the candidate rows whose Doc the
        near-duplicate rules will read: an index built from stored signatures (`from_signatures`) holds
        placeholders and loads only those."""
        for start in range(0, len(positions), block):
            rows = np.asarray(positions[start : start + block], dtype=np.int64)
            ranked = self._best(rows, limit, min_score)
            if resolve is not None:
                # The documents of the block with a candidate to check too (a rebuild holds placeholders).
                asked = rows[ranked.maybe.any(axis=1)]
                resolve(distinct(np.concatenate((ranked.rows[ranked.maybe], asked))))
            yield rows, ranked

    def neighbours(self, limit: int, min_score: float = 0.0, block: int = NEIGHBOUR_BLOCK,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Doc, list[Scored], list[Scored]]]:
        """Every document's (related, near-duplicates), block by block; progress(done)."""
        for rows, ranked in self.ranked_blocks(range(len(self.docs)), limit, min_score, block):
            for k, row in enumerate(rows.tolist()):
                doc = self.docs[row]
                yield doc, *ranking.lists(self.docs, doc, ranked, k, limit, min_score, RELATIVE_CUT)
            if progress is not None:
                progress(int(rows[-1]) + 1)

    def _best(self, rows: np.ndarray, limit: int, min_score: float) -> ranking.Ranked:
        """The ranked candidates of the documents at these rows, from the TOP_CANDIDATES best scores of each
        (sparse_dot_topn: the product's rows are never held whole); the rows whose answer those few cannot
        settle (see ranking.rank) are ranked again from their full product."""
        top_n = limit + SLACK + TOP_MARGIN
        # Bit for bit the scores of scipy's product (same order of additions, in float32); threshold 0: scipy
        # drops zero sums too. Threads: the product is most of a rebuild's CPU.
        best = sp_matmul_topn(self.matrix[rows], self._inverted, top_n=top_n, threshold=0.0,
                              n_threads=_threads())
        docs = [self.docs[r] for r in rows.tolist()]
        ranked = ranking.rank(self.ids, self._has_text, docs, *ranking.padded(best), self._own[rows], limit + SLACK,
                              min_score, RELATIVE_CUT, top_n)
        unsettled = np.flatnonzero(~ranked.exact)
        if len(unsettled):
            full = sp.csr_matrix(self.matrix[rows[unsettled]] @ self._inverted)
            again = ranking.rank(self.ids, self._has_text, [docs[k] for k in unsettled.tolist()],
                                 *ranking.padded(full), self._own[rows[unsettled]], limit + SLACK, min_score,
                                 RELATIVE_CUT, None)
            ranked.replace(unsettled, again)
        return ranked


def _threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))
