"""FAISS indexes by kind: how each is built and trained, and a narrow filter's rows as an index of their own.

In: unit float32 vectors (n, dim) and `IndexParams`, or an IVF-SQ8 index and a boolean mask of its labels.
Out: an index labelling the vectors 0..n-1 (a `FlatIndex` for flat, else a `faiss.Index`); for the mask, a flat
index over exactly those rows' codes and the label of each of its vectors.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import sys
from types import ModuleType

import numpy as np

from rag.store.base import IndexParams
from rag.store.flat import FlatIndex


def _lazily(name: str) -> ModuleType:
    """Module `name`, imported on its first attribute access (the standard library's `importlib.util.LazyLoader`)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# A quarter of a second of every new process, and a flat store (rag/store/flat.py: every corpus below
# ANN_THRESHOLD) never needs it: loaded when an ANN index is first built or read, which a store does alone (in its
# constructor, its load, or an add under its write lock) before any search touches it. Python 3.11's LazyLoader must
# not load a module from two threads at once; that order spares it.
faiss = _lazily("faiss")

log = logging.getLogger(__name__)

FAISS_KINDS = ("flat", "hnsw", "hnswsq", "ivfsq8", "ivfpq")
# What auto turns into at ann_threshold. IVF-SQ8 over HNSW, from eval/bench_scale.py at 1M clustered
# 384-d vectors on 2 cores: Recall@10 0.98 at p95 2.6 ms, 0.41 GB index, 48 s build; HNSW (M=16)
# took 244 s and 1.6 GB for Recall@10 0.61 at efSearch 128.
AUTO_ANN = "ivfsq8"
# 8-bit codes span each dimension's trained [min, max] widened by this share on both sides, so
# vectors added after training rarely fall outside it (clipping there costs more than the coarser step).
_SQ_RANGE_MARGIN = 0.1
_TRAIN_PER_LIST = 40  # k-means training points per inverted list (FAISS asks for at least 39)
_FEW_TO_TRAIN = 10_000


def ivf_nlist(n: int, requested: int = 0) -> int:
    """Inverted lists for n training vectors: `requested`, else about 2 * sqrt(n); >= 40 points each."""
    nlist = requested or int(2 * math.sqrt(n))
    return max(1, min(nlist, n // _TRAIN_PER_LIST))


def _pq_shape(dim: int, n: int, pq_m: int) -> tuple[int, int]:
    """(sub-quantisers, bits each) for IVF-PQ: m divides dim; 2**bits centroids need n points."""
    m = max(d for d in range(1, min(pq_m, dim) + 1) if dim % d == 0)
    return m, max(1, min(8, int(math.log2(max(n, 2)))))


def build_index(kind: str, vectors: np.ndarray, params: IndexParams) -> faiss.Index | FlatIndex:
    """An index of `kind` (one of FAISS_KINDS) holding `vectors` under labels 0..n-1: flat in numpy, others FAISS."""
    n, dim = vectors.shape
    if kind == "flat":
        return FlatIndex(np.array(vectors, dtype=np.float32).reshape(n, dim))
    ip = faiss.METRIC_INNER_PRODUCT
    if kind in ("hnsw", "hnswsq"):
        spec = f"HNSW{params.hnsw_m}" + (",SQ8" if kind == "hnswsq" else "")
        index = faiss.index_factory(dim, spec, ip)
        index.hnsw.efConstruction = params.hnsw_ef_construction
        if kind == "hnswsq":
            faiss.downcast_index(index.storage).sq.rangestat_arg = _SQ_RANGE_MARGIN
    elif kind in ("ivfsq8", "ivfpq"):
        if n == 0:
            raise ValueError(f"an {kind} index is trained on its first vectors: add some to build it")
        nlist = ivf_nlist(n, params.ivf_nlist)
        if kind == "ivfsq8":
            spec = f"IVF{nlist},SQ8"
        else:
            m, bits = _pq_shape(dim, n, params.pq_m)
            spec = f"IVF{nlist},PQ{m}x{bits}"
        if n < _FEW_TO_TRAIN:
            log.warning("training an %s index on only %d vectors: vectors added later are coded with "
                        "what these taught it; build it from the whole corpus (or use faiss_index=auto)",
                        kind, n)
        index = faiss.index_factory(dim, spec, ip)
        faiss.extract_index_ivf(index).cp.niter = 10
        if kind == "ivfsq8":
            index.sq.rangestat_arg = _SQ_RANGE_MARGIN
            index.by_residual = False  # code the vectors, whose ranges hold for later adds too
        else:
            index.do_polysemous_training = False  # on by default, minutes of training, unused here
    else:
        raise ValueError(f"unknown FAISS index type {kind!r}; choose one of auto, {', '.join(FAISS_KINDS)}")
    if not index.is_trained and n:
        sample = vectors
        limit = _TRAIN_PER_LIST * (faiss.extract_index_ivf(index).nlist if kind.startswith("ivf") else 1024)
        if n > limit:
            sample = vectors[np.random.default_rng(0).choice(n, limit, replace=False)]
        index.train(sample)
    if n:
        index.add(vectors)
    return index


def sq_subset(index: faiss.Index, allowed: np.ndarray) -> tuple[faiss.Index, np.ndarray]:
    """(flat SQ8 index, labels): the codes of an IVF-SQ8 index's rows where `allowed` (indexed by label) is true.

    An IVF-SQ8 index built here codes the vectors themselves (no residuals), so these are the same codes an
    exhaustive search of every inverted list compares with the same arithmetic: the same scores, at the cost of
    the allowed rows alone. Scanning all the lists with a selector tests every row of the index (1M rows: 13 ms
    per query where a 5% filter leaves 50k)."""
    ivf = faiss.downcast_index(faiss.extract_index_ivf(index))  # the IndexIVFScalarQuantizer, with its `sq`
    if ivf.by_residual:
        raise ValueError("only an IVF index that codes the vectors themselves has codes a flat index can read")
    invlists, code_size = ivf.invlists, ivf.code_size
    labels: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for list_no in range(invlists.nlist):
        size = invlists.list_size(list_no)
        if size:
            ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size)
            keep = allowed[ids]
            if keep.any():
                labels.append(ids[keep])
                codes.append(faiss.rev_swig_ptr(invlists.get_codes(list_no), size * code_size)
                             .reshape(size, code_size)[keep])
    flat = faiss.IndexScalarQuantizer(ivf.d, ivf.sq.qtype, ivf.metric_type)
    flat.sq = ivf.sq  # the trained ranges
    flat.is_trained = True
    if labels:
        faiss.copy_array_to_vector(np.concatenate(codes).ravel(), flat.codes)
        flat.ntotal = sum(len(part) for part in labels)
    return flat, np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)
