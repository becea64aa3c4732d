"""Load check of the web UI: N questions at once through the app's HTTP API, none may be lost.

In:  a running app (`--url`), or else `python ui.py` started here in its own process on a free local
     port over `--index-dir` (default: the seeds index, built on first use). Questions come from
     eval/gold.jsonl (alternating languages), or the UI's example questions when the file is missing.
Out: one line per question (latency, first-content latency, answered / abstained / error), then
     p50 / p95 / max latency and throughput; exit status 1 if any question was lost or failed.

Each question is its own client session (as 20 users would be), submitted all at once to the
`/ask` endpoint, the same streaming handler the chat box uses.

Usage: python -m eval.load_ui [--n 20] [--url http://127.0.0.1:7860/] [--index-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "eval" / "gold.jsonl"


@dataclass
class Outcome:
    question: str
    seconds: float
    first_content_s: float | None
    status: str  # "answered", "abstained", "error: ..." or "lost: ..."


def load_questions(n: int) -> list[str]:
    """n questions, alternating Chinese and English when the gold file has both."""
    from rag.ui.app import EXAMPLE_QUESTIONS

    questions = list(EXAMPLE_QUESTIONS)
    if GOLD.is_file():
        rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
        zh = [r["question"] for r in rows if r["lang"].startswith("zh")]
        en = [r["question"] for r in rows if r["lang"] == "en"]
        questions = [q for pair in zip_longest(zh, en) for q in pair if q] or questions
    return [questions[i % len(questions)] for i in range(n)]


def _last_message_text(chat: list[dict[str, Any]]) -> str:
    content = chat[-1]["content"] if chat else ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def ask_one(url: str, question: str, ready: threading.Barrier) -> Outcome:
    """Connect, wait for every other client, then ask; the first streamed output ("searching…")
    and the final answer are timed from the moment of submission."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    ready.wait()
    began = time.perf_counter()
    first: float | None = None
    try:
        job = client.submit(question, [], 5, [], [], "", "", "hybrid", api_name="/ask")
        while not job.done():
            if first is None and job.outputs():
                first = time.perf_counter() - began
            time.sleep(0.02)
        _, chat, _ = job.result(timeout=600)
    except Exception as exc:  # a lost request is the thing this check counts
        return Outcome(question, time.perf_counter() - began, first, f"lost: {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - began
    html = _last_message_text(chat)
    if 'class="rag-answer error"' in html or 'class="rag-answer pending"' in html or not html:
        status = "error: " + html[:120]
    elif 'class="rag-answer abstained"' in html:
        status = "abstained"
    else:
        status = "answered"
    return Outcome(question, seconds, first, status)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(index_dir: str | None, timeout_s: float = 300.0) -> tuple[str, subprocess.Popen[bytes]]:
    """Start `python ui.py` on a free port in its own process (so the clients here do not share its
    interpreter) and wait until it serves the page."""
    import httpx

    port = _free_port()
    command = [sys.executable, str(ROOT / "ui.py"), "--host", "127.0.0.1", "--port", str(port)]
    if index_dir:
        command += ["--index-dir", index_dir]
    server = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app exited with status {server.returncode}: see its log above")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return url, server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the app did not answer on {url} within {timeout_s:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="questions sent at once (default 20)")
    parser.add_argument("--url", help="a running app, e.g. http://127.0.0.1:7860/ (default: start one here)")
    parser.add_argument("--index-dir", help="index for the app started here (default: the seeds index)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    server = None
    url = args.url
    if not url:
        url, server = start_app(args.index_dir)
    questions = load_questions(args.n)
    ready = threading.Barrier(len(questions) + 1, timeout=120)
    try:
        with ThreadPoolExecutor(max_workers=len(questions)) as pool:
            futures = [pool.submit(ask_one, url, q, ready) for q in questions]
            ready.wait()  # every client has fetched the app config: all questions go at once
            began = time.perf_counter()
            outcomes = [f.result() for f in futures]
        wall = time.perf_counter() - began
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    for o in outcomes:
        first = f"{o.first_content_s:6.2f}s" if o.first_content_s is not None else "     -"
        print(f"{o.seconds:7.2f}s  first {first}  {o.status[:60]:<12}  {o.question}")
    latencies = np.array([o.seconds for o in outcomes if not o.status.startswith(("lost", "error"))])
    failed = [o for o in outcomes if o.status.startswith(("lost", "error"))]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("answered", "abstained")}
    print(f"\n{len(outcomes)} sent, {counts['answered']} answered, {counts['abstained']} abstained, "
          f"{len(failed)} lost or failed; wall {wall:.1f}s, {len(outcomes) / wall:.2f} questions/s")
    if latencies.size:
        p50, p95 = np.percentile(latencies, [50, 95])
        print(f"latency p50 {p50:.2f}s  p95 {p95:.2f}s  max {latencies.max():.2f}s")
    firsts = [o.first_content_s for o in outcomes if o.first_content_s is not None]
    if firsts:
        print(f"first content p50 {np.percentile(firsts, 50):.2f}s  p95 {np.percentile(firsts, 95):.2f}s")
    return 1 if failed or len(outcomes) != args.n else 0


if __name__ == "__main__":
    sys.exit(main())
