"""Tests of the Templates page: widget state without a browser, then real Voila and Chromium."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import ipywidgets as widgets
import pytest

from creator_kit import templates
from creator_kit.storage import Workspace
from creator_kit.ui.templates import (
    PAGE_SIZE,
    CopyButton,
    PlaceholderForm,
    TemplatesPage,
    templates_page,
    use_template_url,
)
from tests.fixtures.browser import save_screenshot, wait_for_dashboard

XSS_TITLE = '<img src=x onerror="window.__xss=1">'


def _page(workspace: Workspace) -> TemplatesPage:
    return templates_page(workspace, background=False)


def _ids(page: TemplatesPage) -> list[str]:
    return [card.template.id for card in page.cards]


def _descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += _descendants(child)
    return found


def _button(widget: widgets.Widget, css_class: str) -> widgets.Button:
    return next(w for w in _descendants(widget) if css_class in w._dom_classes)


# --- widget state ------------------------------------------------------------------


def test_page_lists_curated_with_pages(workspace: Workspace) -> None:
    page = _page(workspace)

    assert "ck-ready" in page._dom_classes
    assert len(page.entries) == 48
    assert len(page.cards) == PAGE_SIZE
    assert page.page_label.value == "Page 1 of 3"
    assert page.previous_button.disabled
    page.next_button.click()
    page.next_button.click()
    assert len(page.cards) == 48 - 2 * PAGE_SIZE
    assert page.next_button.disabled


def test_page_search_and_filters(workspace: Workspace) -> None:
    page = _page(workspace)

    page.search.value = "turntable"
    searched = _ids(page)
    page.search.value = ""
    page.categories.value = "Comedy"
    comedy = _ids(page)
    page.difficulty.value = "hard"
    hard_comedy = _ids(page)
    page.difficulty.value = "All"
    page.categories.value = "All"
    page.tag.value = "json"
    tagged = _ids(page)

    assert searched[0] == "product-360-turntable"
    assert set(searched) == {"product-360-turntable", "commercial-product-showcase-15s"}
    assert len(comedy) == 8
    assert hard_comedy == ["comedy-sketch-premise"]
    assert tagged == ["educational-quiz-json"]
    assert ("json (1)", "json") in list(page.tag.options)


def test_page_card_shows_stats_and_links(workspace: Workspace) -> None:
    templates.record_template_use(workspace, "comedy-meme-captions", "g1")
    templates.record_template_use(workspace, "comedy-meme-captions", "g2")
    templates.rate_template(workspace, "comedy-meme-captions", 4)
    page = _page(workspace)
    page.search.value = "meme caption batch"

    card = page.cards[0]

    assert card.template.id == "comedy-meme-captions"
    assert 'data-uses="2"' in card.body.value
    assert "2 uses" in card.body.value
    assert 'data-rating="4"' in card.body.value
    assert "\u2605\u2605\u2605\u2605\u2606 4/5" in card.body.value
    assert 'href="create.ipynb?template_id=comedy-meme-captions"' in card.use_link.value
    assert 'target="_self"' in card.use_link.value
    assert card.copy_button.text == templates.get_template(workspace, "comedy-meme-captions").prompt


def test_page_escapes_template_text(workspace: Workspace) -> None:
    templates.create_template(
        workspace,
        title=XSS_TITLE,
        description="<script>alert(1)</script>",
        prompt="<b>{name}</b> & 'quotes' \"double\"",
        category="Comedy",
        tags=["<i>tag</i>"],
    )
    page = _page(workspace)
    page.search.value = "onerror"

    body = page.cards[0].body.value

    assert "<img" not in body
    assert "<script>" not in body
    assert "<i>tag</i>" not in body
    assert html.escape(XSS_TITLE) in body
    assert "&lt;b&gt;{name}&lt;/b&gt; &amp; &#x27;quotes&#x27; &quot;double&quot;" in body


def test_page_rating_from_card(workspace: Workspace) -> None:
    page = _page(workspace)
    page.search.value = "bedtime story"

    page.cards[0].rating.value = 5

    assert templates.template_stats(workspace)["storytelling-bedtime-story"].rating == 5
    assert "Rated" in page.status.value
    assert 'data-rating="5"' in page.cards[0].body.value


def test_page_create_edit_history_restore(workspace: Workspace) -> None:
    page = _page(workspace)
    page.new_button.click()
    inputs = page.editor.inputs
    inputs["title"].value = "Launch teaser"
    inputs["category"].value = "Product"
    inputs["tags"].value = "launch, teaser"
    inputs["prompt"].value = 'Tease {product} {"k": 1}'
    check_with_error = page.editor.check.value
    page.editor.save_button.click()
    error_after_save = page.editor.check.value
    inputs["prompt"].value = 'Tease {product:our app} {{"k": 1}}'
    page.editor.save_button.click()

    created = [t for t in templates.list_templates(workspace) if t.title == "Launch teaser"]
    page.search.value = "launch teaser"
    _button(page.cards[0], "ck-edit").click()
    inputs["prompt"].value = "Tease {product:our app} today"
    page.editor.save_button.click()
    _button(page.cards[0], "ck-show-history").click()
    history = _descendants(page.history)
    history_text = " ".join(w.value for w in history if isinstance(w, widgets.HTML))
    restore_v1 = next(w for w in history if getattr(w, "description", "") == "Restore v1")
    restore_v1.click()

    assert "is not a placeholder" in check_with_error
    assert "invalid template prompt" in error_after_save
    assert len(created) == 1
    assert created[0].tags == ("launch", "teaser")
    assert "Placeholders" in page.editor.check.value
    assert "+Tease {product:our app} today" in html.unescape(history_text)
    latest = templates.get_template(workspace, created[0].id)
    assert latest.version == 3
    assert latest.prompt == 'Tease {product:our app} {{"k": 1}}'
    assert "Restored version 1" in page.status.value


def test_page_archive_hides_card(workspace: Workspace) -> None:
    created = templates.create_template(workspace, title="Old draft", prompt="x", category="Narrative")
    page = _page(workspace)
    page.search.value = "old draft"
    _button(page.cards[0], "ck-archive").click()

    assert page.cards == []
    assert templates.get_template(workspace, created.id).archived
    assert "Archived" in page.status.value


def test_page_shows_imported_category(workspace: Workspace, tmp_path: Path) -> None:
    file = tmp_path / "prompts.csv"
    file.write_text('act,prompt,for_devs,type,contributor\nJSON Fixer,"Fix {""a"": ${Value:1}}",TRUE,TEXT,x\n')
    templates.import_templates(workspace, file, format="awesome-chatgpt-prompts")
    page = _page(workspace)

    page.categories.value = "Imported"

    assert "Imported" in page.categories.options
    assert _ids(page) == ["acp-json-fixer"]
    assert page.cards[0].copy_button.text == 'Fix {{"a": {value:1}}}'
    assert "Fix {&quot;a&quot;: {value:1}}" not in page.cards[0].body.value
    assert "Fix {{&quot;a&quot;: {value:1}}}" in page.cards[0].body.value


def test_copy_button_counts_browser_reports() -> None:
    button = CopyButton("text")
    seen: list[dict[str, object]] = []
    button.on_copy(seen.append)

    button._on_browser_message(button, {"event": "copied", "length": 4}, [])
    button._on_browser_message(button, {"event": "failed", "reason": "NotAllowedError"}, [])

    assert button.copied_count == 1
    assert [message["event"] for message in seen] == ["copied", "failed"]


def test_placeholder_form_renders_with_defaults(workspace: Workspace) -> None:
    template = templates.get_template(workspace, "educational-quiz-json")
    form = PlaceholderForm(template)

    missing_message = form.message.value
    form.inputs["topic"].value = "tides <b>"
    rendered = form.prompt
    form.inputs["count"].value = "3"

    assert list(form.inputs) == ["count", "topic", "level"]
    assert form.inputs["count"].placeholder == "5"
    assert form.inputs["topic"].placeholder == "required"
    assert "missing value for placeholder &#x27;topic&#x27;" in missing_message
    assert rendered.startswith("Write 5 multiple-choice questions about tides <b> at beginner level.")
    assert '{"question": "...", "options"' in rendered
    assert form.render().startswith("Write 3 multiple-choice")
    assert form.prompt == form.render()
    assert "tides &lt;b&gt;" in form.preview.value


def test_use_template_url_quotes_id() -> None:
    assert use_template_url("acp-c-developer") == "create.ipynb?template_id=acp-c-developer"
    assert use_template_url("a b&c/é") == "create.ipynb?template_id=a%20b%26c%2F%C3%A9"


def test_use_template_url_video_opens_generations() -> None:
    assert use_template_url("teaser", kind="video") == "generations.ipynb?template_id=teaser"
    assert use_template_url("a b", kind="text") == "create.ipynb?template_id=a%20b"


def test_video_card_links_to_generations(workspace: Workspace) -> None:
    created = templates.create_template(
        workspace, title="Rooftop teaser", prompt="A drone shot over {city:Lisbon}", category="Narrative", kind="video"
    )
    page = _page(workspace)
    page.search.value = "Rooftop teaser"

    card = page.cards[0]

    assert card.template.id == created.id
    assert f'href="generations.ipynb?template_id={created.id}"' in card.use_link.value
    assert 'target="_self"' in card.use_link.value


# --- browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates_server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - VoilaServer
    """A Voila server over a workspace with one own template, uses and a rating."""
    from tests.fixtures.voila import start_server

    root = tmp_path_factory.mktemp("templates-ui")
    workspace = Workspace(root / "workspace")
    templates.create_template(
        workspace,
        title=XSS_TITLE,
        description="Escaping check",
        prompt='Reply with {{"ok": true}} about {topic} \u2014 \u00e9t\u00e9 \U0001f3ac \u0645\u0631\u062d\u0628\u0627',
        category="Comedy",
        tags=["escaping"],
    )
    for number in range(3):
        templates.record_template_use(workspace, "product-360-turntable", f"g{number}")
    templates.rate_template(workspace, "product-360-turntable", 5)
    server = start_server(workspace.path, config_dir=root / "config", seed=False)
    yield server
    server.stop()


def _open_templates(page, server) -> None:  # noqa: ANN001 - playwright Page, VoilaServer
    page.goto(server.url("templates.ipynb"))
    wait_for_dashboard(page)
    page.wait_for_selector(".ck-template-count", timeout=60_000)


def _count(page) -> int:  # noqa: ANN001
    return int(page.get_attribute(".ck-template-count", "data-count"))


@pytest.mark.browser
def test_browser_search_and_filter(templates_server, browser_page, request_log) -> None:  # noqa: ANN001
    page = browser_page
    _open_templates(page, templates_server)
    save_screenshot(page, "templates-light")

    assert _count(page) == 49
    # The count and the cards are separate widgets, so the cards may arrive a moment later.
    page.wait_for_function(f"document.querySelectorAll('.ck-template-card').length === {PAGE_SIZE}")
    assert page.locator(".ck-template-card").count() == PAGE_SIZE
    assert page.evaluate("window.__xss") is None

    page.fill(".ck-template-search input", "turntable")
    page.wait_for_selector('.ck-template-count[data-count="2"]')
    first_title = page.locator(".ck-template-card h3").first.inner_text()
    uses = page.locator(".ck-template-card .ck-uses").first.inner_text()
    rating = page.locator(".ck-template-card .ck-rating").first.get_attribute("data-rating")

    page.fill(".ck-template-search input", "")
    page.wait_for_selector('.ck-template-count[data-count="49"]')
    page.locator(".ck-chips button", has_text="Comedy").click()
    page.wait_for_selector('.ck-template-count[data-count="9"]')
    page.select_option(".ck-difficulty-filter select", label="Hard")
    page.wait_for_selector('.ck-template-count[data-count="1"]')
    hard_title = page.locator(".ck-template-card h3").first.inner_text()
    page.select_option(".ck-difficulty-filter select", label="Any")
    page.wait_for_selector('.ck-template-count[data-count="9"]')
    page.select_option(".ck-tag-filter select", label="escaping (1)")
    page.wait_for_selector('.ck-template-count[data-count="1"]')
    escaped_title = page.locator(".ck-template-card h3").first.inner_text()

    assert first_title == "360° turntable video"
    assert uses == "3 uses"
    assert rating == "5"
    assert hard_title == "Sketch comedy premise"
    assert escaped_title == XSS_TITLE
    assert page.evaluate("window.__xss") is None
    request_log.assert_loopback_only()


@pytest.mark.browser
def test_browser_copy_writes_clipboard(templates_server, browser_page) -> None:  # noqa: ANN001
    page = browser_page
    _open_templates(page, templates_server)
    page.fill(".ck-template-search input", "quiz as json")
    page.wait_for_selector('.ck-template-count[data-count="1"]')

    # The copy itself runs without any granted permission, as for a real user.
    page.locator(".ck-template-card button.ck-copy").first.click()
    page.wait_for_selector(".ck-copy-status:has-text('Copied to clipboard')")
    page.wait_for_selector(".ck-status:has-text('Copied the prompt of')")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=templates_server.base_url)
    clipboard = page.evaluate("navigator.clipboard.readText()")

    expected = templates.get_template(Workspace(templates_server.workspace), "educational-quiz-json").prompt
    assert clipboard == expected
    assert '{{"question"' in clipboard


@pytest.mark.browser
def test_browser_copy_unicode_prompt(templates_server, browser_page) -> None:  # noqa: ANN001
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=templates_server.base_url)
    _open_templates(page, templates_server)
    page.fill(".ck-template-search input", "onerror")
    page.wait_for_selector('.ck-template-count[data-count="1"]')
    page.evaluate("navigator.clipboard.writeText('before')")

    page.locator(".ck-template-card button.ck-copy").first.click()
    page.wait_for_selector(".ck-copy-status:has-text('Copied to clipboard')")
    clipboard = page.evaluate("navigator.clipboard.readText()")

    assert clipboard == 'Reply with {{"ok": true}} about {topic} — été 🎬 مرحبا'
    assert page.evaluate("window.__xss") is None


@pytest.mark.browser
def test_browser_use_opens_create_page(templates_server, browser_page) -> None:  # noqa: ANN001
    page = browser_page
    _open_templates(page, templates_server)
    page.fill(".ck-template-search input", "bedtime story")
    page.wait_for_selector('.ck-template-count[data-count="1"]')
    pages_before = len(page.context.pages)

    page.locator(".ck-template-card a.ck-use-template").first.click()
    page.wait_for_url(lambda url: "/create.ipynb" in url)
    page.wait_for_selector(".ck-page-create.ck-ready", state="attached", timeout=120_000)
    query = parse_qs(urlsplit(page.url).query)
    save_screenshot(page, "templates-use-create")

    assert urlsplit(page.url).path.endswith("/voila/render/create.ipynb")
    assert query == {"template_id": ["storytelling-bedtime-story"]}
    assert len(page.context.pages) == pages_before
    assert page.locator(".ck-page-create").count() == 1


@pytest.mark.browser
def test_browser_use_video_opens_generations(templates_server, browser_page) -> None:  # noqa: ANN001
    page = browser_page
    _open_templates(page, templates_server)
    page.fill(".ck-template-search input", "turntable")
    page.wait_for_selector('.ck-template-card.ck-template-product-360-turntable')

    page.locator(".ck-template-product-360-turntable a.ck-use-template").click()
    page.wait_for_url(lambda url: "/generations.ipynb" in url)
    page.wait_for_selector(".ck-page-generations", state="attached", timeout=120_000)
    page.wait_for_selector(".ck-gen-template .ck-gen-note", timeout=120_000)
    save_screenshot(page, "templates-use-generations")

    prompt = templates.get_template(Workspace(templates_server.workspace), "product-360-turntable").prompt
    assert urlsplit(page.url).path.endswith("/voila/render/generations.ipynb")
    assert parse_qs(urlsplit(page.url).query) == {"template_id": ["product-360-turntable"]}
    assert page.input_value(".ck-gen-prompt textarea") == prompt
    assert "replace the {placeholders}" in page.inner_text(".ck-gen-template")


@pytest.mark.browser
def test_browser_dark_theme_cards(start_voila, browser_page, request_log, tmp_path: Path) -> None:  # noqa: ANN001
    server = start_voila(tmp_path / "workspace", theme="dark", seed=False)
    page = browser_page
    _open_templates(page, server)
    save_screenshot(page, "templates-dark")

    card_rgb = page.evaluate(
        "getComputedStyle(document.querySelector('.ck-template-card')).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    title_rgb = page.evaluate(
        "getComputedStyle(document.querySelector('.ck-template-card h3')).color.match(/\\d+/g).slice(0, 3).map(Number)"
    )

    assert sum(card_rgb) / 3 < 100, card_rgb
    assert sum(title_rgb) / 3 > 150, title_rgb
    request_log.assert_loopback_only()


def test_templates_notebook_calls_page() -> None:
    notebook = (Path(__file__).resolve().parents[1] / "notebooks" / "templates.ipynb").read_text()
    assert "templates_page()" in notebook
