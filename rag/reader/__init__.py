"""The trained reader: which words of a passage answer a question (`model`), and its tokenizer (`tokenizer`).

    from rag.reader import Reader
    Reader.load().read("question", ["context", ...], k=1)   # Span[]: .text .context_index .start .end .score
"""

from rag.reader.model import CONFIG_FILE, MODEL_FILE, Reader, ReaderConfig, Span

__all__ = ["CONFIG_FILE", "MODEL_FILE", "Reader", "ReaderConfig", "Span"]
