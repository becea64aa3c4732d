"""The web UI in a real headless Chromium, over a real index of the seeds.

A module fixture builds the index (about a minute of embedding), serves the app on a free local
port in a background thread and drives it with Playwright: Chinese and English questions get cited
answers whose cards show the article and the highlighted support; markers link to their cards; a
follow-up shows the standalone query; an abstention shows the nearest passages; uploads and
removals change the article table; and the page fetches nothing from outside the server.
Each expectation about content is computed with the same `RAG` the page talks to.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("needs /usr/bin/chromium: run `make browser` (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from playwright.sync_api import Page, Route, sync_playwright  # noqa: E402

from rag.api import RAG  # noqa: E402
from rag.lang.text import in_chinese_script  # noqa: E402
from rag.references import quotation  # noqa: E402
from rag.types import Answer  # noqa: E402
from rag.ui.access import Access  # noqa: E402
from rag.ui.app import EXAMPLE_QUESTIONS, UI_STRINGS, build_app, launch, table_headers  # noqa: E402
from rag.ui.render import LANGUAGE_NAMES  # noqa: E402

pytestmark = pytest.mark.slow

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def rag(tmp_path_factory: pytest.TempPathFactory) -> RAG:
    return RAG.build([SEEDS], index_dir=tmp_path_factory.mktemp("index"), progress=False)


@pytest.fixture(scope="module")
def url(rag: RAG) -> Iterator[str]:
    access = Access.new("127.0.0.1", _free_port())
    app = build_app(rag, access)
    launch(app, rag.settings, access, block=False)
    try:
        yield access.link()
    finally:
        app.close()


@dataclass
class Browser:
    page: Page
    outside: list[str] = field(default_factory=list)  # requests for anything but the app's server


@pytest.fixture
def browser(url: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(TIMEOUT_MS)
        session = Browser(page)

        def guard(route: Route) -> None:
            if route.request.url.startswith((url.split("?")[0], "data:", "blob:")):
                route.continue_()
            else:
                session.outside.append(route.request.url)
                route.abort()

        page.route("**/*", guard)
        page.goto(url)
        page.wait_for_selector("#question textarea")
        try:
            yield session
        finally:
            chromium.close()


def _ask(page: Page, question: str) -> None:
    """Type a question, submit it, and wait until its answer (not the placeholder) is shown."""
    answers_before = page.locator("#chat .rag-answer:not(.pending)").count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .rag-answer:not(.pending)').length > n", arg=answers_before
    )


def _last_answer(page: Page):
    return page.locator("#chat .rag-answer").last


def test_chinese_question_gets_a_cited_answer_with_the_support_highlighted(
    browser: Browser, rag: RAG, tmp_path: Path
) -> None:
    question = "厦门有多少持证社会工作者？"
    expected = rag.ask(question)
    page = browser.page
    _ask(page, question)
    answer = _last_answer(page)
    text = answer.locator(".answer-text").inner_text()
    assert text.strip() == expected.text.strip()
    assert "11,265" in text or "11265" in text
    cards = answer.locator(".cite-card")
    assert cards.count() == len(expected.citations) > 0
    for i, citation in enumerate(expected.citations):
        card = cards.nth(i)
        assert citation.title in card.locator(".cite-title").inner_text()
        support = citation.text[citation.support_span[0]: citation.support_span[1]]
        assert card.locator("mark").inner_text().strip() == support.strip()
        assert Path(citation.path).name not in card.locator(".cite-meta").inner_text()  # on demand only
        card.locator(".cite-file summary").click()
        assert Path(citation.path).name in card.locator(".cite-meta").inner_text()
    assert any("11,265" in m or "11265" in m for m in answer.locator(".cite-card mark").all_inner_texts())
    page.screenshot(path=tmp_path / "chinese_answer.png", full_page=True)
    # Screen readers get the message's text, not its HTML.
    page.wait_for_function("() => ![...document.querySelectorAll('#chat [aria-label]')]"
                           ".some(e => e.getAttribute('aria-label').includes('<'))")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first = expected.citations[0]
    button = answer.locator(".cite-card button.copy-cite").first
    button.click()
    answer.locator(".cite-card button.copy-cite.copied").first.wait_for()
    start, end = first.support_span
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == quotation(first.text[start:end], first, expected.language)

    marker = answer.locator("a.cite-marker").first
    target = marker.get_attribute("href")
    assert target and re.fullmatch(r"#cite-\d+-\d+", target)
    assert page.locator(target).count() == 1
    marker.click()
    page.wait_for_function("h => location.hash === h", arg=target)
    assert page.locator(f"{target}:target").count() == 1
    assert browser.outside == []


def test_english_question_and_a_follow_up_show_cards_and_the_standalone_query(
    browser: Browser, rag: RAG, tmp_path: Path
) -> None:
    first = "How many certified social workers does Fujian have?"
    expected = rag.ask(first)
    assert not expected.abstained, expected.text
    page = browser.page
    _ask(page, first)
    answer = _last_answer(page)
    assert answer.locator(".answer-text").inner_text().strip() == expected.text.strip()
    titles = answer.locator(".cite-card .cite-title").all_inner_texts()
    assert titles == [c.title for c in expected.citations]
    assert "Question" in page.locator("#evidence").inner_text()

    follow_up = "What about Xiamen?"
    expected_follow = rag.ask(follow_up, history=[(first, expected.text)])
    _ask(page, follow_up)
    evidence = page.locator("#evidence").inner_text()
    assert follow_up in evidence
    if expected_follow.rewritten_question:
        assert "Standalone query" in evidence and expected_follow.rewritten_question in evidence
    else:
        assert "Standalone query" not in evidence
    ids = page.locator("#chat .cite-card[id]").evaluate_all("cards => cards.map(c => c.id)")
    assert len(ids) == len(set(ids)), "citation anchors must be unique across turns"
    page.screenshot(path=tmp_path / "english_follow_up.png", full_page=True)
    assert browser.outside == []


def test_unanswerable_question_shows_the_abstention_and_nearest_passages(browser: Browser, rag: RAG) -> None:
    question = "What is the capital of Peru?"
    expected = rag.ask(question)
    assert expected.abstained, f"the pipeline answered {expected.text!r}; pick a question outside the seeds"
    page = browser.page
    _ask(page, question)
    answer = _last_answer(page)
    assert "abstained" in (answer.get_attribute("class") or "")
    assert answer.locator(".answer-text").inner_text().strip() == expected.text.strip()
    assert answer.locator(".passage-card").count() == len(expected.passages)
    assert answer.locator("mark").count() == 0 and answer.locator("a.cite-marker").count() == 0


def test_example_click_and_settings_filters_reach_the_answer(browser: Browser, rag: RAG) -> None:
    page = browser.page
    page.locator("#examples").get_by_text("威寧縣有多少持證社工？").click()
    page.wait_for_selector("#chat .rag-answer:not(.pending)")
    assert "威寧縣有多少持證社工？" in page.locator("#chat").inner_text()

    page.get_by_label("English", exact=True).check()
    _ask(page, "厦门有多少持证社会工作者？")
    page.locator("#evidence details summary").click()
    evidence = page.locator("#evidence").inner_text()
    assert "languages: en" in evidence
    shown = page.locator("#chat .rag-answer").last
    english_titles = {d.title for d in rag.documents() if d.lang == "en"}
    for title in shown.locator(".cite-title").all_inner_texts():
        assert title in english_titles


def test_corpus_tab_lists_articles_adds_an_upload_and_removes_it(browser: Browser, rag: RAG, tmp_path: Path) -> None:
    page = browser.page
    before = {d.id for d in rag.documents()}
    # Opened with the token, which now lives in a cookie: the page's load script takes it out of the address, which
    # may run after the first element shows.
    page.wait_for_function("() => !new URL(location.href).searchParams.has('token')")
    assert "token=" not in page.url
    page.get_by_role("tab", name="Articles").click()
    table = page.locator("#documents")
    search = table.locator("input[placeholder^='Search']")

    def shown(text: str):  # the table renders off-screen copies of cells: count the visible one
        search.fill(text)
        return table.get_by_text(text, exact=True).filter(visible=True)

    first = rag.documents()[0]
    shown(first.id).wait_for()
    assert shown(first.title).count() == 1

    upload = tmp_path / "鼓浪屿 社工站.md"
    upload.write_text("# 鼓浪屿社工站正式开放\n\n2024年5月1日，鼓浪屿社工站正式开放，首批12名持证社工入驻，"
                      "为岛上老人提供上门探访服务。\n", encoding="utf-8")
    page.locator("#uploads input[type=file]").set_input_files(str(upload))
    page.locator("#uploads").get_by_text("鼓浪屿 社工站.md").first.wait_for()
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#add-report').innerText.includes('Added')")
    added = [d for d in rag.documents() if d.id not in before]
    assert len(added) == 1 and Path(added[0].path).name == "鼓浪屿 社工站.md"
    assert (added[0].date, added[0].date_inferred) == ("2024-05-01", "lead")  # the lead's date, marked inferred
    assert added[0].id in page.locator("#add-report").inner_text()
    shown(added[0].id).wait_for()

    removal = page.locator("#remove-ids input")
    removal.fill(added[0].id)
    page.get_by_role("option", name=re.compile(re.escape(added[0].id))).click()
    removal.press("Escape")
    page.locator("#remove").click()
    page.wait_for_function("() => document.querySelector('#remove-report').innerText.includes('Removed 1')")
    assert {d.id for d in rag.documents()} == before
    shown(added[0].id).wait_for(state="hidden")
    page.screenshot(path=tmp_path / "corpus.png", full_page=True)
    assert browser.outside == []


def _visible_text_of_both_tabs(page: Page, shots: Path, locale: str) -> str:
    texts = []
    for n in range(2):
        page.get_by_role("tab").nth(n).click()
        page.wait_for_timeout(300)
        page.screenshot(path=shots / f"ui-{locale}-tab{n + 1}.png", full_page=True)
        texts.append(page.locator("body").inner_text())
    return "\n".join(texts)


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "en-US"])
def test_the_page_speaks_the_browser_language(url: str, rag: RAG, tmp_path: Path, locale: str) -> None:
    strings = json.loads(UI_STRINGS.read_text(encoding="utf-8"))
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = chromium.new_context(locale=locale, viewport={"width": 1400, "height": 1100}).new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            page.wait_for_selector("#question textarea")
            text = _visible_text_of_both_tabs(page, tmp_path, locale)
        finally:
            chromium.close()
    ours = strings["en"] if locale == "en-US" else {
        key: in_chinese_script(value, "zh-hant" if locale == "zh-TW" else "zh-hans")
        for key, value in strings["zh-CN"].items()}
    for key in ("tab_ask", "tab_corpus", "settings", "examples", "new_chat", "date_from", "add", "remove"):
        assert ours[key] in text, (key, ours[key])
    if locale == "en-US":
        assert "Drop File Here" in text  # Gradio's own words, in English for an English browser
        return
    # What the articles and examples say is data; every other Latin word on a Chinese page would be interface left
    # untranslated (Gradio's "Drop File Here", "Use via API", a label it adds by itself).
    data = [*EXAMPLE_QUESTIONS, *table_headers(), *LANGUAGE_NAMES.values(), "YYYY-MM-DD", "(inferred · 推断)"]
    for doc in rag.documents():
        data += [doc.title, doc.source or "", doc.id, Path(doc.path).name]
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
    assert set(re.findall(r"[A-Za-z]{2,}", text)) <= {"API"}, text


def test_an_answer_renders_in_a_notebook_like_the_ui(browser: Browser, rag: RAG, tmp_path: Path) -> None:
    answered = rag.ask("福建推進多少個示範站點？")
    abstained = rag.ask("What is the capital of Peru?")
    assert not answered.abstained and abstained.abstained
    hostile = Answer(question="q", text="<img src=x onerror=window.pwned=1> [1]", citations=[], abstained=True,
                     language="en", passages=[replace(abstained.passages[0], text="<script>window.pwned=1</script>")])
    page = browser.page
    for name, answer in (("answered", answered), ("abstained", abstained), ("hostile", hostile)):
        page.set_content(f"<html><body>{answer._repr_html_()}</body></html>")
        page.screenshot(path=tmp_path / f"notebook-{name}.png", full_page=True)
        view = page.locator(".rag-answer")
        assert view.locator(".answer-text").inner_text().strip() == answer.text.strip()
        if answer.abstained:
            assert view.locator(".passage-card").count() == len(answer.passages) > 0
        else:
            assert view.locator(".cite-card").count() == len(answer.citations)
            assert view.locator("mark").count() == len(answer.citations)
            assert view.locator("button.copy-cite").count() == len(answer.citations) + 1
    assert page.evaluate("() => window.pwned") is None
