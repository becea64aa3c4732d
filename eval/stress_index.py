"""Kill and race `rag index`: nothing lost, every open succeeds.

    python -m eval.stress_index [--races 20] [--kills 10] [--seeds seeds/]

1. Races: `--races` times, two `rag index` processes write two halves of the seeds into one fresh index directory
   at once; afterwards the index must hold every article of both halves.
2. Kills: `--kills` times, `rag index` of the second half into an index of the first half is killed (SIGKILL) at a
   point spread over its run; the index must still open with every article it had, and a rerun must complete it.
3. Opens: while 1 and 2 run, a reader thread keeps opening the index directories that exist; every open must succeed.
Prints one line per part and exits 1 when anything was lost or an open failed. Embeddings come from the usual cache,
so after the first run this measures the writes, not the encoder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rag.api import RAG
from rag.index import generations
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _index(corpus: Path, index: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "index", str(corpus), "--index-dir", str(index)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ,
                                                                                      "PYTHONPATH": str(ROOT)})


def _ids(index: Path, settings: Settings) -> set[str]:
    return {d.id for d in RAG.open(index, settings).documents()}


class Opener(threading.Thread):
    """Opens whatever index directories exist under `root`, over and over, counting opens and failures."""

    def __init__(self, root: Path, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.root, self.settings = root, settings
        self.opens, self.failures = 0, []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for index in sorted(self.root.glob("*/idx")):
                if generations.current(index) is None:
                    continue
                try:
                    RAG.open(index, self.settings)
                    self.opens += 1
                except Exception as exc:  # noqa: BLE001 - every failure is what this counts
                    self.failures.append(f"{index}: {exc!r}")
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=20)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    args = parser.parse_args(argv)
    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="rag-stress-"))
    files = sorted(p for p in args.seeds.iterdir() if p.is_file())
    halves = [work / "half-a", work / "half-b"]
    for n, half in enumerate(halves):
        half.mkdir()
        for path in files[n::2]:
            shutil.copy(path, half)
    expected = [_ids(RAG.build([h], index_dir=work / f"ref-{n}" / "idx", settings=settings, progress=False).index_dir,
                     settings) for n, h in enumerate(halves)]
    opener = Opener(work, settings)
    opener.start()
    lost_races = 0
    for run in range(args.races):
        index = work / f"race-{run}" / "idx"
        writers = [_index(half, index) for half in halves]
        for writer in writers:
            writer.wait(timeout=600)
        if _ids(index, settings) != expected[0] | expected[1]:
            lost_races += 1
    print(f"races: {args.races} runs of two concurrent writers, {lost_races} lost articles")

    shutil.copytree(work / "ref-0" / "idx", work / "timing" / "idx")
    started = time.perf_counter()
    _index(halves[1], work / "timing" / "idx").wait(timeout=600)
    duration = time.perf_counter() - started
    lost_kills = 0
    for run in range(args.kills):
        index = work / f"kill-{run}" / "idx"
        shutil.copytree(work / "ref-0" / "idx", index)
        writer = _index(halves[1], index)
        time.sleep(duration * (run + 0.5) / args.kills)
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        if not _ids(index, settings) >= expected[0]:
            lost_kills += 1
        rerun = _index(halves[1], index)
        rerun.wait(timeout=600)
        if rerun.returncode != 0 or _ids(index, settings) != expected[0] | expected[1]:
            lost_kills += 1
    print(f"kills: {args.kills} writers killed at points spread over {duration:.1f} s, {lost_kills} with lost articles "
          f"or a failed rerun")
    opener.stop.set()
    opener.join()
    print(f"opens: {opener.opens} while writing, {len(opener.failures)} failed")
    for failure in opener.failures[:5]:
        print(f"  {failure}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if lost_races or lost_kills or opener.failures else 0


if __name__ == "__main__":
    sys.exit(main())
