// 法治文库 web page, part 3 of 4: ask, compare, the comparison matrix (对比表).
"use strict";

// ---------- ask ----------
async function runAsk(ev) {
  if (ev) ev.preventDefault();
  const question = $("ask-q").value.trim();
  if (!question) return;
  const status = $("ask-status"), box = $("answer"), list = $("ask-citations");
  status.textContent = "正在查找依据…";
  box.hidden = true;
  list.replaceChildren();
  try {
    const body = { question, k: 5 };
    if ($("as-of").value) body.as_of = $("as-of").value;
    const out = await (await postJSON("/api/ask", body)).json();
    status.textContent = out.note || "";
    box.replaceChildren();
    box.classList.toggle("not-found", !out.found);
    // [n] markers become links to citation n
    const parts = out.answer.split(/(\[\d+\])/);
    for (const part of parts) {
      const m = /^\[(\d+)\]$/.exec(part);
      if (m) {
        const n = Number(m[1]);
        box.append(el("a", { href: "#cite-" + n, class: "cite-marker", "data-testid": "cite-marker", onclick: (e) => {
          e.preventDefault();
          const card = $("cite-" + n);
          if (card) { card.scrollIntoView({ block: "center" }); card.classList.add("flash"); setTimeout(() => card.classList.remove("flash"), 1200); }
        } }, part));
      } else if (part) {
        box.append(part);
      }
    }
    box.hidden = false;
    list.replaceChildren(...out.citations.map((h, i) => hitCard(h, { number: i + 1, testid: "citation" })));
  } catch (e) {
    status.textContent = "问答失败：" + e.message;
  }
}

// ---------- compare ----------
async function runCompare(ev) {
  if (ev) ev.preventDefault();
  const q = $("cmp-q").value.trim();
  if (!q) return;
  const p = filterParams("cmp-");
  p.set("q", q);
  p.set("by", $("cmp-by").value);
  const status = $("compare-status"), grid = $("compare-groups"), missing = $("compare-missing");
  status.textContent = "对比中…";
  grid.replaceChildren();
  missing.hidden = true;
  try {
    const out = await getJSON("/api/compare?" + p);
    const n = out.groups.reduce((a, g) => a + g.hits.length, 0);
    status.textContent = out.groups.length ? out.groups.length + " 组，" + n + " 篇文件有相关规定" : "没有找到相关规定。";
    grid.replaceChildren(...out.groups.map((g) => el("div", { class: "cmp-col", "data-testid": "compare-group" },
      el("h3", { "data-testid": "compare-key" }, $("cmp-by").value === "doc_type" ? typeLabel(g.key) : g.key),
      el("ol", { class: "results" }, g.hits.map((h) => hitCard(h, { testid: "compare-hit" }))))));
    if (out.missing.length) {
      missing.textContent = "同类文件中未见相关规定：" + out.missing.join("、");
      missing.hidden = false;
    }
  } catch (e) {
    status.textContent = "对比失败：" + e.message;
  }
}

// ---------- comparison matrix (对比表) ----------
function matrixParams() {
  const p = new URLSearchParams();
  p.set("q", $("mx-q").value.trim());
  p.set("by", $("mx-by").value);
  const aspects = $("mx-aspects").value.trim(), places = $("mx-places").value.trim();
  if (aspects) p.set("aspects", aspects);
  if (places) p.set("places", places);
  return p;
}

function matrixCell(cell) {
  const td = el("td", { "data-testid": "matrix-cell", dataset: { aspect: cell.aspect, column: cell.column } });
  const h = cell.hit;
  if (!h) {
    td.classList.add("empty");
    td.append(el("span", { "data-testid": "matrix-empty" }, "未见相关规定"));
    return td;
  }
  const title = el("a", { href: "#", class: "result-title", "data-testid": "matrix-citation", title: "打开原文并定位" }, h.citation);
  title.addEventListener("click", (ev) => { ev.preventDefault(); openDocument(h); });
  td.append(title, passageEl(h));
  if (cell.note) td.append(el("p", { class: "note", "data-testid": "matrix-note" }, cell.note));
  td.append(el("div", { class: "card-foot" }, el("span", { class: "score" }, "相关度 " + h.score.toFixed(3)),
    el("button", { type: "button", class: "add", "data-testid": "add-basket", onclick: () => addToBasket(h) }, "加入摘录篮")));
  return td;
}

async function runMatrix(ev) {
  if (ev) ev.preventDefault();
  if (!$("mx-q").value.trim()) return;
  const status = $("matrix-status"), table = $("matrix-table");
  status.textContent = "生成中…";
  table.replaceChildren();
  $("matrix-bar").hidden = true;
  try {
    const m = await getJSON("/api/compare/matrix?" + matrixParams());
    if (m.proposed) $("mx-aspects").value = m.aspects.join(",");  // shown so the user can edit them
    const filled = m.cells.filter((c) => c.hit).length;
    status.textContent = (m.proposed ? "对比要点取自《" + m.proposed_from + "》的章节标题，可修改后重新生成。" : "") +
      m.aspects.length + " 个要点 × " + m.columns.length + " 列，" + filled + " 格有相关规定，" +
      (m.cells.length - filled) + " 格未见相关规定。";
    const cells = new Map(m.cells.map((c) => [c.aspect + "\u0000" + c.column, c]));
    const label = (c) => ($("mx-by").value === "doc_type" ? typeLabel(c) : c);
    table.append(el("thead", {}, el("tr", {}, el("th", {}, "要点"),
      m.columns.map((c) => el("th", { scope: "col", "data-testid": "matrix-column" }, label(c))))));
    table.append(el("tbody", {}, m.aspects.map((a) => el("tr", {},
      el("th", { scope: "row", "data-testid": "matrix-aspect" }, a),
      m.columns.map((c) => matrixCell(cells.get(a + "\u0000" + c)))))));
    $("matrix-bar").hidden = m.columns.length === 0;
  } catch (e) {
    status.textContent = "生成失败：" + e.message;
  }
}

async function exportMatrix(format) {
  const p = matrixParams();
  p.set("format", format);
  try {
    await download(await api("/api/compare/matrix/export?" + p), "对比表." + format);
  } catch (e) {
    $("matrix-status").textContent = "导出失败：" + e.message;
  }
}
