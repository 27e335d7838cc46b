"""The web page in a real Chromium (Playwright) against a live uvicorn over fake_kb:
search with highlights, the document view's exact span, ask, compare, the quote basket
and its .docx download, and the narrow layout. Screenshots go to KB_TEST_OUTPUT."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)
try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    pytest.skip("browser tests need playwright (pip install playwright)", allow_module_level=True)

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
QUERY = "重大行政决策 合法性审查"


@pytest.fixture(scope="module")
def shots() -> Path:
    out = Path(os.environ["KB_TEST_OUTPUT"]) if os.environ.get("KB_TEST_OUTPUT") else ROOT / "test-output/screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def server(fake_kb):
    from conftest import live_server
    with live_server(fake_kb) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True, locale="zh-CN")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server)
    expect(pg.get_by_test_id("stats")).to_contain_text("篇文件")
    yield pg
    ctx.close()
    assert not errors, errors  # no JavaScript errors on the way


def search(pg, query: str = QUERY) -> None:
    pg.get_by_test_id("search-input").fill(query)
    pg.get_by_test_id("search-submit").click()
    expect(pg.get_by_test_id("search-status")).to_contain_text("结果")


def in_viewport(pg, selector: str) -> bool:
    return pg.eval_on_selector(selector, "e => { const r = e.getBoundingClientRect();"
                                         " return r.bottom > 0 && r.top < window.innerHeight; }")


def test_search_document_ask_compare_basket(page, fake_kb, shots):
    pg = page
    search(pg)
    results = pg.get_by_test_id("result")
    expect(results.first).to_be_visible()
    assert pg.locator("[data-testid=result] mark").count() > 0  # matched terms highlighted
    pg.screenshot(path=str(shots / "search.png"), full_page=False)

    # the document view highlights exactly the hit's span and scrolls to it
    hit_text = results.first.get_by_test_id("hit-text").text_content()
    results.first.get_by_test_id("result-open").click()
    mark = pg.get_by_test_id("doc-highlight")
    expect(mark).to_be_visible()
    assert mark.text_content() == hit_text
    assert in_viewport(pg, "#doc-hit")
    pg.screenshot(path=str(shots / "document.png"))
    items = pg.get_by_test_id("outline-item")
    if items.count() > 1:  # the outline jumps to its section
        items.last.click()
        assert in_viewport(pg, f"#sec-{items.count() - 1}")
    pg.get_by_test_id("doc-back").click()

    # two passages into the basket
    results.nth(0).get_by_test_id("add-basket").click()
    results.nth(1).get_by_test_id("add-basket").click()
    expect(pg.get_by_test_id("basket-count")).to_have_text("2")
    texts = [results.nth(i).get_by_test_id("hit-text").text_content() for i in (0, 1)]

    # ask: an answer, its markers linked to citations (or the honest not-found line)
    pg.get_by_test_id("tab-ask").click()
    pg.get_by_test_id("ask-input").fill("重大行政决策需经哪些程序")
    pg.get_by_test_id("ask-submit").click()
    answer = pg.get_by_test_id("answer")
    expect(answer).to_be_visible()
    markers = pg.get_by_test_id("cite-marker")
    if markers.count():
        assert pg.get_by_test_id("citation").count() >= 1
        markers.first.click()
        assert in_viewport(pg, "#cite-1")
    else:
        expect(answer).to_have_text("未找到相关依据。")
    pg.screenshot(path=str(shots / "ask.png"))

    # compare: one column per province, side by side
    pg.get_by_test_id("tab-compare").click()
    pg.get_by_test_id("compare-input").fill("优化营商环境条例 政务服务")
    pg.get_by_test_id("compare-by").select_option("province")
    pg.get_by_test_id("compare-submit").click()
    groups = pg.get_by_test_id("compare-group")
    expect(groups.first).to_be_visible()
    expected = fake_kb.compare("优化营商环境条例 政务服务", by="province").to_dict()
    assert groups.count() == len(expected["groups"])
    assert pg.get_by_test_id("compare-key").all_text_contents() == [g["key"] for g in expected["groups"]]
    if groups.count() > 1:  # side by side: same top, different left
        a, b = groups.nth(0).bounding_box(), groups.nth(1).bounding_box()
        assert a["y"] == b["y"] and a["x"] < b["x"]
    pg.screenshot(path=str(shots / "compare.png"))

    # basket: reorder, download .docx with both passages and their citations
    pg.get_by_test_id("tab-basket").click()
    basket = pg.get_by_test_id("basket-item")
    expect(basket).to_have_count(2)
    basket.nth(0).get_by_test_id("basket-down").click()
    assert basket.nth(0).locator(".passage").text_content() == texts[1]
    pg.screenshot(path=str(shots / "basket.png"))
    with pg.expect_download() as dl:
        pg.get_by_test_id("export-docx").click()
    download = dl.value
    assert download.suggested_filename.endswith(".docx") and "摘录汇编" in download.suggested_filename
    saved = shots / "basket-export.docx"
    download.save_as(saved)
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(saved.read_bytes())).paragraphs)
    stored = [dict(x) for x in pg.evaluate("JSON.parse(localStorage.getItem('fazhi-kb.basket'))")]
    assert [s["text"] for s in stored] == [texts[1], texts[0]]
    for s in stored:
        passage = fake_kb.passage(s["doc_id"], s["start"], s["end"])
        assert passage["text"].strip() in text and passage["citation"] in text
    assert text.index(texts[1].strip()) < text.index(texts[0].strip())  # basket order kept

    # the basket survives a reload (localStorage); remove empties it item by item
    pg.reload()
    expect(pg.get_by_test_id("basket-count")).to_have_text("2")
    pg.get_by_test_id("tab-basket").click()
    pg.get_by_test_id("basket-remove").first.click()
    expect(pg.get_by_test_id("basket-item")).to_have_count(1)
    expect(pg.get_by_test_id("basket-count")).to_have_text("1")


def test_query_plan_line_above_results(page, shots):
    pg = page
    pg.get_by_test_id("search-input").fill("各地 2021—2023年 优化营商环境条例 对比")
    pg.get_by_test_id("search-submit").click()
    expect(pg.get_by_test_id("search-status")).to_contain_text("结果")
    expect(pg.get_by_test_id("query-plan")).to_have_text("按地区：各地 · 年份：2021—2023 · 类型：条例 · 意图：对比")
    pg.screenshot(path=str(shots / "query-plan.png"), full_page=False)
    search(pg)  # a plain query: no line
    expect(pg.get_by_test_id("query-plan")).to_be_hidden()


def test_markdown_export(page):
    pg = page
    search(pg)
    pg.get_by_test_id("add-basket").first.click()
    hit_text = pg.get_by_test_id("hit-text").first.text_content()
    pg.get_by_test_id("tab-basket").click()
    with pg.expect_download() as dl:
        pg.get_by_test_id("export-md").click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert md.startswith("# 摘录汇编") and hit_text.strip().splitlines()[0] in md


def test_narrow_screen(browser, server, shots):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = ctx.new_page()
    pg.goto(server)
    search(pg)
    expect(pg.get_by_test_id("result").first).to_be_visible()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    pg.screenshot(path=str(shots / "narrow.png"))
    pg.get_by_test_id("result-open").first.click()
    expect(pg.get_by_test_id("doc-highlight")).to_be_visible()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=str(shots / "narrow-document.png"))
    ctx.close()


SELECT_JS = """([sel, s, e]) => {
  // select code points [s, e) of the element's text, across <mark> children
  const root = document.querySelector(sel);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let pos = 0, range = document.createRange(), node;
  while ((node = walker.nextNode())) {
    const cps = Array.from(node.data), n = cps.length;
    const unit = (k) => cps.slice(0, k).join("").length;
    if (pos <= s && s <= pos + n) range.setStart(node, unit(s - pos));
    if (pos <= e && e <= pos + n) { range.setEnd(node, unit(e - pos)); break; }
    pos += n;
  }
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  root.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
}"""


def test_selected_sentence_goes_into_the_basket_with_its_article(page, fake_kb, shots):
    pg = page
    search(pg, "重大行政决策 合法性审查")
    hit = fake_kb.search("重大行政决策 合法性审查", k=20, mode="hybrid")[0]
    text = hit.text
    s = text.index("。") + 1
    e = text.index("。", s) + 1
    while text[s].isspace():
        s += 1
    pg.evaluate(SELECT_JS, ["[data-testid=result] .passage", s, e])
    button = pg.get_by_test_id("selection-add")
    expect(button).to_be_visible()
    pg.screenshot(path=str(shots / "selection.png"))
    button.click()
    expect(pg.get_by_test_id("basket-count")).to_have_text("1")
    [item] = pg.evaluate("JSON.parse(localStorage.getItem('fazhi-kb.basket'))")
    expected = fake_kb.passage(hit.doc_id, hit.start + s, hit.start + e)
    assert (item["start"], item["end"], item["text"]) == (hit.start + s, hit.start + e, text[s:e])
    assert item["citation"] == expected["citation"] and item["section"] == expected["section"]
    # the export quotes exactly the span, verified against the stored text
    pg.get_by_test_id("tab-basket").click()
    with pg.expect_download() as dl:
        pg.get_by_test_id("export-md").click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert f"> {text[s:e]}" in md and expected["citation"] in md


def test_matrix_table_edit_and_export(page, fake_kb, shots):
    pg = page
    pg.get_by_test_id("tab-matrix").click()
    pg.get_by_test_id("matrix-input").fill("重大行政决策")
    pg.get_by_test_id("matrix-places").fill("全国,河南,火星")
    pg.get_by_test_id("matrix-submit").click()
    expect(pg.get_by_test_id("matrix-status")).to_contain_text("个要点")
    expected = fake_kb.matrix("重大行政决策", places="全国,河南,火星")
    # proposed aspects are put in the input, for the user to edit
    assert pg.get_by_test_id("matrix-aspects").input_value() == ",".join(expected["aspects"])
    assert pg.get_by_test_id("matrix-column").all_text_contents() == expected["columns"]
    assert pg.get_by_test_id("matrix-aspect").all_text_contents() == expected["aspects"]
    cells = pg.get_by_test_id("matrix-cell")
    assert cells.count() == len(expected["cells"])
    assert pg.get_by_test_id("matrix-empty").count() == sum(c["hit"] is None for c in expected["cells"])
    assert pg.get_by_test_id("matrix-empty").first.text_content() == "未见相关规定"
    assert cells.first.get_by_test_id("hit-text").text_content() == expected["cells"][0]["hit"]["text"]
    assert "#" not in pg.get_by_test_id("matrix-table").text_content()
    a, b = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert a["y"] == b["y"] and a["x"] < b["x"]  # one row per aspect, columns side by side
    pg.screenshot(path=str(shots / "matrix.png"), full_page=True)

    pg.get_by_test_id("matrix-aspects").fill("公众参与,风险评估")
    pg.get_by_test_id("matrix-submit").click()
    expect(pg.get_by_test_id("matrix-aspect")).to_have_count(2)
    with pg.expect_download() as dl:
        pg.get_by_test_id("matrix-export-docx").click()
    assert dl.value.suggested_filename.startswith("重大行政决策对比表")
    from docx import Document

    table = Document(io.BytesIO(Path(dl.value.path()).read_bytes())).tables[0]
    assert [r.cells[0].text for r in table.rows] == ["要点", "公众参与", "风险评估"]
    assert [c.text for c in table.rows[0].cells] == ["要点", "全国", "河南", "火星"]


@pytest.fixture(scope="module")
def validity_server(tmp_path_factory):
    from conftest import live_server

    from kb.core import KnowledgeBase
    data = ROOT / "tests/data/validity"
    kb = KnowledgeBase(tmp_path_factory.mktemp("web-validity") / "idx", embedder="fake")
    assert not kb.ingest([data / "laws"], root=data).failed
    with live_server(kb) as url:
        yield url


def test_status_badges_history_and_as_of(browser, validity_server, shots):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(validity_server)
    search(pg, "优化营商环境条例 市场主体")
    card = pg.get_by_test_id("result").filter(has_text="上海市优化营商环境条例").first
    expect(card.get_by_test_id("status-badge").first).to_have_text("现行有效")
    expect(card.get_by_test_id("result-open")).to_contain_text("（2024年修正）")
    card.get_by_test_id("versions").locator("summary").click()
    expect(card.get_by_test_id("versions")).to_contain_text("已被修改")
    pg.screenshot(path=str(shots / "validity-search.png"))

    # every version, each with its badge; a superseded one links to the version in force
    pg.get_by_test_id("filter-all-versions").check()
    search(pg, "优化营商环境条例 市场主体")
    expect(pg.get_by_test_id("in-force-link").first).to_contain_text("上海市优化营商环境条例")
    pg.get_by_test_id("in-force-link").first.click()
    expect(pg.get_by_test_id("doc-title")).to_have_text("上海市优化营商环境条例（2024年修正）")
    history = pg.get_by_test_id("doc-history")
    expect(history).to_contain_text("第三次修正")
    assert history.locator("tr").count() == 5
    expect(pg.get_by_test_id("doc-meta").get_by_test_id("status-badge")).to_have_text("现行有效")
    pg.screenshot(path=str(shots / "validity-document.png"))
    pg.get_by_test_id("doc-back").click()

    # as of 2021 the 2020 text is the one in force
    pg.get_by_test_id("filter-all-versions").uncheck()
    pg.get_by_test_id("as-of").fill("2021-01-01")
    search(pg, "优化营商环境条例 市场主体")
    card = pg.get_by_test_id("result").filter(has_text="上海市优化营商环境条例").first
    expect(card.get_by_test_id("result-open")).to_contain_text("（2020年）")
    expect(card.get_by_test_id("status-badge").first).to_have_text("现行有效")
    pg.screenshot(path=str(shots / "validity-as-of.png"))
    ctx.close()
    assert not errors, errors
