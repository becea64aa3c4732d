"""Bilingual (Chinese + English) question answering over news articles, every claim cited.

    from rag import ask, RAG
    a = ask("厦门有多少持证社工？")          # default index over seeds/, built on first use
    r = RAG.build(["articles/"], index_dir="idx"); r.ask("...")
"""
