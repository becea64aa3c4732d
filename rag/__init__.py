"""Bilingual (Chinese + English) question answering over news articles, every claim cited.

    from rag import ask, RAG
    a = ask("厦门有多少持证社工？")          # default index over seeds/, built into index/ on first use
    a.text, a.abstained, a.language, a.citations
    r = RAG.build(["articles/", "more.jsonl"], index_dir="idx")   # or RAG.open("idx")
    r.search("question", k=10); r.ask("question", k=5); r.add([...]); r.remove([doc_id]); r.documents()
    Reader.load().read("question", ["context", ...], k=1)   # answer spans: .text .context_index .start .end .score
"""

import os

# Offline by design: nothing may reach a model hub at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from rag.api import RAG, ask  # noqa: E402
from rag.reader import Reader, Span  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.store.base import SearchFilter  # noqa: E402
from rag.types import AddReport, Answer, Chunk, Citation, Document, Passage  # noqa: E402

__all__ = ["ask", "RAG", "AddReport", "Reader", "Span", "Settings", "SearchFilter", "Answer", "Chunk", "Citation",
           "Document", "Passage"]
