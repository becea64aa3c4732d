"""Start the web UI: `python ui.py [--index-dir D] [--host H] [--port P]`.

Opens the index in D (default: the seeds index in index/, built on first use) and serves the
chat UI on H:P (default settings.host:settings.port, 127.0.0.1:7860) until interrupted.
"""

from __future__ import annotations

import argparse
import logging

from rag.index.files import IndexUnavailable
from rag.ui.app import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the bilingual social-work news Q&A web UI.")
    parser.add_argument("--index-dir", default=None, help="index directory (default: the seeds index)")
    parser.add_argument("--host", default=None, help="address to bind (default: settings.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: settings.port, 7860)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        serve(args.index_dir, host=args.host, port=args.port)
    except IndexUnavailable as exc:
        raise SystemExit(str(exc)) from exc


if __name__ == "__main__":
    main()
