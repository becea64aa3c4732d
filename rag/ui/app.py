"""The Gradio web UI: `build_app(rag)`, `launch(app, settings, ...)`, `serve(index_dir, host, port, settings)`.

In: an open `RAG` (rag.api). Out: a local web app with
- an "Ask" tab: a chat (Chinese or English; multi-turn, the history goes to `RAG.ask`) whose
  answers carry `[n]` markers linked to one evidence card per cited passage (title, outlet, date,
  a strength word, the file on demand, the supporting sentence highlighted, a button copying it with its
  reference); the answer streams in two steps ("searching…",
  then the answer); an abstention shows its message and the nearest passages instead; example
  questions in both languages; a settings panel (k, outlet / language / date filters, retrieval
  mode) and an evidence panel (standalone query after rewriting, timings, notes, nearest passages);
- a "Corpus" tab: the indexed articles as a table, upload of new files (size-limited, names
  sanitised, kept under the index's uploads/ folder so that a corrected file replaces the earlier
  one) with a progress bar, and removal of articles by id; both need the run's token (`Access`).
The page follows the browser's language (zh-CN, zh-TW, en): our strings come from rag/data/ui/strings.json through
Gradio's i18n, which translates its own.
The server binds to settings.host (127.0.0.1) and never opens a share link; requests for another
host name or from another origin are refused (rag.ui.access); Gradio analytics are switched off
before Gradio is imported, and the page loads nothing from outside the server.
Rendering and input checking live in `rag.ui.render` and `rag.ui.inputs` (pure, unit-tested).
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from rag.lang.text import detect_language, to_traditional  # noqa: E402
from rag.settings import Settings  # noqa: E402
from rag.types import Document  # noqa: E402
from rag.ui.access import Access, AccessGuard  # noqa: E402
from rag.ui.inputs import (  # noqa: E402
    LANGUAGES,
    UPLOAD_SUFFIXES,
    build_filter,
    describe_filter,
    stage_uploads,
)
from rag.ui.render import (  # noqa: E402
    COPY_JS,
    CSS,
    DOCUMENT_COLUMN_WIDTHS,
    DOCUMENT_COLUMNS,
    LANGUAGE_NAMES,
    answer_html,
    document_rows,
    error_html,
    evidence_html,
    searching_html,
)

if TYPE_CHECKING:
    from rag.api import RAG

log = logging.getLogger(__name__)

EXAMPLE_QUESTIONS = [
    "厦门有多少持证社会工作者？",
    "How many certified social workers does Fujian have?",
    "威寧縣有多少持證社工？",
    "What did Li Chu describe?",
]
MODES = ["hybrid", "dense", "keyword"]
UI_STRINGS = resources.files("rag.data") / "ui" / "strings.json"  # read as render.py reads its labels
CHANGES_NEED_TOKEN = ("Adding or removing articles needs this server's token: open the link with `?token=...` "
                      "that `rag serve` printed when it started. · 增删文章需使用启动时打印的带 token 的链接。")
MAX_K = 20
# Questions answered at the same time. Each question's "searching…" step is shown at once (its
# event has no queue limit); only the CPU-bound `RAG.ask` calls wait for one of these slots.
ASK_WORKERS = 2

Message = dict[str, str]

# Once the page has loaded, take the token out of the address bar (it now lives in an HttpOnly cookie, see
# rag.ui.access): it stays out of the browser's history and of screenshots, and the page's address is the one its
# links ("#cite-1-2") are written against.
STRIP_TOKEN_JS = """() => {
  const url = new URL(window.location.href);
  if (url.searchParams.has('token')) { url.searchParams.delete('token'); history.replaceState(null, '', url); }
}"""

# Run whenever the chat changes (the chat's own autoscroll is off): while an answer is pending,
# show the bottom (the question and "searching…"); once it is there, put the answer's first line
# at the top rather than the bottom of its last evidence card. Gradio labels each message for screen readers with
# its raw HTML: the label becomes the message's text.
SCROLL_CHAT_JS = """() => { setTimeout(() => {
  document.querySelectorAll('#chat [aria-label*="<"]').forEach((el) => {
    el.setAttribute('aria-label', el.innerText.trim().slice(0, 500));
  });
  const answers = document.querySelectorAll('#chat .rag-answer');
  const last = answers[answers.length - 1];
  if (!last) return;
  let box = last.parentElement;
  while (box && !(box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== 'visible')) {
    box = box.parentElement;
  }
  if (!box) return;
  if (last.classList.contains('pending')) box.scrollTop = box.scrollHeight;
  else box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
}, 50); }"""


@functools.cache  # read once, for the app and for its launch
def _strings() -> dict[str, dict[str, str]]:
    data = json.loads(UI_STRINGS.read_text(encoding="utf-8"))
    return {locale: words for locale, words in data.items() if not locale.startswith("_")}


def ui_strings(settings: Settings) -> gr.I18n:
    """The interface strings by browser locale (rag/data/ui/strings.json); Gradio picks the page's language from
    the browser's, and translates its own words (upload area, buttons) itself."""
    data = _strings()
    fill = {"{mb}": f"{settings.max_upload_mb:g}", "{suffixes}": " ".join(UPLOAD_SUFFIXES)}
    by_locale = {locale: {key: _filled(text, fill) for key, text in words.items()} for locale, words in data.items()}
    traditional = {key: to_traditional(text) for key, text in by_locale["zh-CN"].items()}
    return gr.I18n(**by_locale, zh=by_locale["zh-CN"], **{"zh-TW": traditional, "zh-HK": traditional})


def _filled(text: str, fill: dict[str, str]) -> str:
    for name, value in fill.items():
        text = text.replace(name, value)
    return text


def table_headers() -> list[str]:
    """The article table's column names in both languages (Gradio does not translate a table's headers)."""
    data = _strings()
    return [f'{data["en"][f"col_{c}"]} · {data["zh-CN"][f"col_{c}"]}' for c in DOCUMENT_COLUMNS]


def _outlets(docs: list[Document]) -> list[str]:
    return sorted({d.source for d in docs if d.source})


def _removal_choices(docs: list[Document]) -> list[tuple[str, str]]:
    return [(f"{d.title} ({d.id})", d.id) for d in docs]


def build_app(rag: RAG, access: Access) -> gr.Blocks:
    """The whole UI around `rag`. Launch it with `launch()` and the same `access`, which adds the CSS.

    `RAG` answers from a snapshot of the index while an update builds the next one, so questions
    keep being answered while uploads are indexed; no lock is taken here."""
    settings: Settings = rag.settings
    ask_slots = threading.BoundedSemaphore(ASK_WORKERS)

    def respond(
        message: str,
        chat: list[Message],
        pairs: list[tuple[str, str]],
        k: float,
        sources: list[str],
        langs: list[str],
        date_from: str,
        date_to: str,
        mode: str,
    ) -> Iterator[tuple[str, list[Message], list[tuple[str, str]], str]]:
        question = (message or "").strip()
        if not question:
            yield message, chat, pairs, gr.skip()
            return
        try:
            filters = build_filter(sources, langs, date_from, date_to)
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        k_int = max(1, min(MAX_K, int(k)))
        # The conversation is what the chat shows: a cleared chat (or an API call with an empty
        # chat) starts afresh even though the session state still holds the earlier turns.
        pairs = list(pairs)[: sum(1 for m in chat if m.get("role") == "user")]
        chat = [*chat, {"role": "user", "content": html.escape(question)}]
        yield "", [*chat, {"role": "assistant", "content": searching_html(detect_language(question))}], \
            pairs, gr.skip()
        try:
            with ask_slots:
                answer = rag.ask(question, k=k_int, history=list(pairs), filters=filters, mode=mode or None)
        except Exception as exc:  # reported in the chat; the session stays usable
            log.exception("answering %r failed", question)
            yield "", [*chat, {"role": "assistant", "content": error_html(f"Could not answer: {exc}")}], \
                pairs, gr.skip()
            return
        turn = len(pairs) + 1
        chat = [*chat, {"role": "assistant", "content": answer_html(answer, turn)}]
        evidence = evidence_html(answer, mode or settings.mode, k_int, describe_filter(filters))
        yield "", chat, [*pairs, (question, answer.text)], evidence

    def corpus_views() -> tuple[Any, Any, Any]:
        docs = rag.documents()
        return (
            document_rows(docs),
            gr.update(choices=_outlets(docs)),
            gr.update(choices=_removal_choices(docs), value=[]),
        )

    def add_files(
        files: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio finds the bar through this default)
    ) -> tuple[Any, ...]:
        if not access.allows(request):
            return (CHANGES_NEED_TOKEN, *corpus_views(), gr.skip())
        if not files:
            return ("Choose one or more files first. · 请先选择文件。", *corpus_views(), gr.skip())
        lines: list[str] = []
        # Uploads are kept beside the index under their own names: a corrected file of the same name replaces the
        # articles of the earlier one instead of joining them.
        uploads = rag.index_dir / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        staged = stage_uploads(files, uploads, settings.max_upload_mb)
        lines += [f"- refused · 已拒绝: {html.escape(r)}" for r in staged.rejected]
        if staged.files:
            progress(0.0, desc="Indexing uploads")
            try:
                report = rag.add(staged.files, progress=lambda f, msg: progress(f, desc=msg))
            except Exception as exc:  # nothing was added; the index stays as it was
                log.exception("adding uploads failed")
                lines.append(f"- indexing failed, nothing was added · 索引失败，未加入任何文章: "
                             f"{html.escape(str(exc))}")
            else:
                prefix = str(uploads) + os.sep
                added = ", ".join(html.escape(doc_id) for doc_id in report.added) or "-"
                lines.insert(0, f"Added {len(report.added)} article(s) · 已加入 {len(report.added)} 篇: {added}")
                lines += [f"- replaced the earlier articles of · 已替换旧版: {html.escape(Path(p).name)}"
                          for p in report.replaced]
                lines += [f"- unchanged, skipped · 未改动，已跳过: {html.escape(Path(p).name)}" for p in report.skipped]
                lines += [f"- error · 出错: {html.escape(str(e).replace(prefix, ''))}" for e in report.errors]
        return ("\n".join(lines), *corpus_views(), None)

    def remove_docs(doc_ids: list[str] | None, request: gr.Request) -> tuple[Any, ...]:
        if not access.allows(request):
            return (CHANGES_NEED_TOKEN, *corpus_views())
        ids = [i.strip() for i in (doc_ids or []) if i and i.strip()]
        if not ids:
            return ("Pick an article to remove first. · 请先选择要删除的文章。", *corpus_views())
        removed = rag.remove(ids)
        message = (f"Removed {removed} article(s). · 已删除 {removed} 篇。" if removed
                   else f"No article with id · 没有编号为此的文章: {', '.join(ids)}")
        return (message, *corpus_views())

    docs = rag.documents()
    t = ui_strings(settings)
    with gr.Blocks(title="Social work news Q&A · 社工新闻问答", analytics_enabled=False) as app:
        gr.Markdown(t("heading"))
        pairs_state = gr.State([])
        with gr.Tabs():
            with gr.Tab(t("tab_ask")):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Chat",
                            show_label=False,
                            elem_id="chat",
                            height=560,
                            latex_delimiters=[],
                            autoscroll=False,
                            buttons=["copy"],
                            placeholder=t("chat_placeholder"),
                        )
                        question = gr.Textbox(
                            label=t("question_label"),  # read by screen readers only
                            show_label=False,
                            placeholder=t("question_placeholder"),
                            elem_id="question",
                            max_length=settings.max_question_chars,
                            submit_btn=t("ask"),
                            autofocus=True,
                        )
                        examples = gr.Dataset(
                            components=[gr.Textbox(visible=False)],
                            samples=[[q] for q in EXAMPLE_QUESTIONS],
                            label=t("examples"),
                            elem_id="examples",
                        )
                        clear = gr.Button(t("new_chat"), elem_id="clear", size="sm")
                    with gr.Column(scale=2):
                        with gr.Accordion(t("settings"), open=True):
                            k = gr.Slider(1, MAX_K, value=5, step=1, label=t("k"))
                            mode = gr.Radio([(t(f"mode_{m}"), m) for m in MODES],
                                            value=settings.mode if settings.mode in MODES else "hybrid",
                                            label=t("mode"))
                            sources = gr.Dropdown(
                                choices=_outlets(docs), multiselect=True, value=[],
                                label=t("outlets"),
                            )
                            langs = gr.CheckboxGroup(
                                choices=[(LANGUAGE_NAMES[lang], lang) for lang in LANGUAGES], value=[],
                                label=t("languages"),
                            )
                            with gr.Row():
                                date_from = gr.Textbox(label=t("date_from"), placeholder="YYYY-MM-DD", max_length=10)
                                date_to = gr.Textbox(label=t("date_to"), placeholder="YYYY-MM-DD", max_length=10)
                        gr.Markdown(t("evidence"))
                        evidence = gr.HTML("", elem_id="evidence")
            with gr.Tab(t("tab_corpus"), elem_id="corpus-tab"):
                table = gr.Dataframe(
                    value=document_rows(docs), headers=table_headers(), interactive=False, wrap=True,
                    column_widths=DOCUMENT_COLUMN_WIDTHS, show_search="search", elem_id="documents",
                    label=t("articles"),
                )
                refresh = gr.Button(t("refresh"), size="sm")
                with gr.Row():
                    with gr.Column():
                        uploads = gr.File(
                            file_count="multiple", file_types=list(UPLOAD_SUFFIXES),
                            label=t("upload"),
                            elem_id="uploads",
                        )
                        add = gr.Button(t("add"), variant="primary", elem_id="add")
                        add_report = gr.Markdown(elem_id="add-report")
                    with gr.Column():
                        to_remove = gr.Dropdown(
                            choices=_removal_choices(docs), multiselect=True, value=[],
                            allow_custom_value=True, label=t("remove_ids"),
                            elem_id="remove-ids",
                        )
                        remove = gr.Button(t("remove"), variant="stop", elem_id="remove")
                        remove_report = gr.Markdown(elem_id="remove-report")

        ask_inputs = [question, chatbot, pairs_state, k, sources, langs, date_from, date_to, mode]
        ask_outputs = [question, chatbot, pairs_state, evidence]
        question.submit(respond, ask_inputs, ask_outputs, api_name="ask", concurrency_limit=None)
        examples.click(lambda sample: sample[0], examples, question, api_name=False).then(
            respond, ask_inputs, ask_outputs, api_name=False, concurrency_limit=None
        )
        chatbot.change(None, js=SCROLL_CHAT_JS, api_name=False, queue=False)
        clear.click(lambda: ([], [], "", ""), None, [chatbot, pairs_state, evidence, question], api_name=False)
        chatbot.clear(lambda: ([], ""), None, [pairs_state, evidence], api_name=False)

        corpus_outputs = [table, sources, to_remove]
        refresh.click(corpus_views, None, corpus_outputs, api_name=False)
        add.click(add_files, [uploads], [add_report, *corpus_outputs, uploads], api_name="add")
        remove.click(remove_docs, [to_remove], [remove_report, *corpus_outputs], api_name="remove")
        app.load(corpus_views, None, corpus_outputs, api_name=False)
        app.load(None, js=STRIP_TOKEN_JS, api_name=False, queue=False)
        app.load(None, js=COPY_JS, api_name=False, queue=False)
    return app


def launch(app: gr.Blocks, settings: Settings, access: Access, block: bool = True) -> None:
    """Start the server on access.host:access.port, guarded by `AccessGuard`, and print the link with the token.

    No share link, no analytics, no run history, no server-side rendering, no MCP server; uploads over
    settings.max_upload_mb are refused by the server before any handler sees them. With
    `block=False` it returns once the server is up (`app.close()` stops it).
    """
    if not access.loopback:
        log.warning("Serving on %s, beyond this machine: every request needs the token", access.host)
    app.queue(default_concurrency_limit=1)
    print(f"Open {access.link()} (the token lets this browser add and remove articles)", flush=True)
    app.launch(
        server_name=access.host,
        server_port=access.port,
        app_kwargs={"middleware": [Middleware(AccessGuard, access=access)]},
        share=False,
        prevent_thread_lock=not block,
        max_file_size=int(settings.max_upload_mb * 1024 * 1024),
        css=CSS,
        i18n=ui_strings(settings),
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        run_history=False,  # its page offers syncing runs to a Hugging Face bucket: nothing leaves this machine
        footer_links=["api", "settings"],
        inbrowser=False,
        show_error=True,
    )


def serve(
    index_dir: str | None = None,
    host: str | None = None,
    port: int | None = None,
    settings: Settings | None = None,
) -> None:
    """Open the index in `index_dir` (the default seeds index, built on first use, when None) with
    `settings` (default: `Settings.load()`) and serve the UI until interrupted."""
    from rag.api import RAG

    rag = RAG.open(index_dir, settings) if index_dir else RAG.open_default(settings)
    rag.warm_up()  # the reader, the taggers and the name spellings load now, not on the first user's question
    access = Access.new(host or rag.settings.host, port or rag.settings.port, rag.settings.ui_token)
    launch(build_app(rag, access), rag.settings, access, block=True)
