// 法治文库 web page: plain JS over the same JSON API as everyone else.
// Offsets from the API are Python string indices (code points), so text is sliced as
// arrays of code points (Array.from), never with UTF-16 String.slice.
"use strict";

const BASKET_KEY = "fazhi-kb.basket";
const READ_KEY = "fazhi-kb.key";
const TYPE_LABELS = {
  law: "法律", regulation: "行政法规", local_regulation: "地方性法规", rule: "规章",
  judicial_interpretation: "司法解释", normative: "规范性文件", notice: "通知", case: "案例", work_report: "政府工作报告", report: "报告",
  plan: "规划方案", speech: "讲话报告", news: "新闻", other: "其他",
};
const STATUS_LABELS = {
  current: "现行有效", superseded: "已被修改", repealed: "已废止", expired: "已失效",
  not_yet_effective: "尚未生效", unknown: "效力未核实",
};
const EVENT_ORDER = ["通过", "批准", "公布", "修正", "修订", "施行"];
const $ = (id) => document.getElementById(id);

// ---------- small DOM helpers ----------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== "") node.append(c);
  }
  return node;
}
const cps = (s) => Array.from(s || "");
const typeLabel = (t) => TYPE_LABELS[t] || t || "未分类";

let toastTimer = null;
function toast(msg) {
  const t = $("toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 2500);
}

// ---------- API ----------
async function api(path, options = {}, retried = false) {
  const headers = Object.assign({}, options.headers || {});
  const key = localStorage.getItem(READ_KEY);
  if (key) headers.Authorization = "Bearer " + key;
  const resp = await fetch(path, Object.assign({}, options, { headers }));
  if (resp.status === 401 && !retried) {
    const entered = window.prompt("本服务需要访问密钥，请输入：");
    if (entered) {
      localStorage.setItem(READ_KEY, entered.trim());
      return api(path, options, true);
    }
  }
  if (!resp.ok) {
    let detail = resp.statusText;
    try { const body = await resp.json(); detail = body.detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(detail + "（" + resp.status + "）");
  }
  return resp;
}
const getJSON = async (path) => (await api(path)).json();
const postJSON = (path, body) => api(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});

function filterParams(prefix) {
  const p = new URLSearchParams();
  const type = $(prefix + "type").value, region = $(prefix + "region").value.trim();
  if (type) p.set("type", type);
  if (region) p.set("region", region);
  const yf = $(prefix + "year-from"), yt = $(prefix + "year-to");
  if (yf && yf.value) p.set("year_from", yf.value);
  if (yt && yt.value) p.set("year_to", yt.value);
  if ($("as-of").value) p.set("as_of", $("as-of").value);
  return p;
}

// ---------- validity ----------
function statusBadge(item) {
  // 现行有效 / 已被修改 → the version in force / 已废止 / 尚未生效 …; none for speeches, news, plans
  if (!item.level || item.level === "none") return null;
  const badge = el("span", { class: "status-badge status-" + item.status, "data-testid": "status-badge",
    title: "效力状态" + ($("as-of").value ? "（截至 " + $("as-of").value + "）" : "") }, STATUS_LABELS[item.status] || item.status);
  const inForce = (item.versions || []).find((v) => v.status === "current");
  if (item.status === "superseded" && inForce) {
    const link = el("a", { href: "#", class: "in-force", "data-testid": "in-force-link" }, "现行版本：" + inForce.title);
    link.addEventListener("click", (ev) => { ev.preventDefault(); openDocument({ doc_id: inForce.doc_id }); });
    return el("span", { class: "status-wrap" }, badge, " → ", link);
  }
  return badge;
}

function versionsList(item) {
  if (!item.versions || !item.versions.length) return null;
  return el("details", { class: "versions", "data-testid": "versions" },
    el("summary", {}, "其他版本 " + item.versions.length + " 个"),
    el("ul", {}, item.versions.map((v) => el("li", {},
      el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); openDocument({ doc_id: v.doc_id }); } }, v.title),
      " ", el("span", { class: "status-badge status-" + v.status }, STATUS_LABELS[v.status] || v.status)))));
}

function historyTable(doc) {
  if (!doc.history || !doc.history.length) return null;
  return el("table", { class: "history", "data-testid": "doc-history" },
    el("caption", {}, "制定与修改沿革"),
    el("tbody", {}, doc.history.map((h) => el("tr", {}, el("td", {}, h.date), el("td", {}, h.event),
      el("td", {}, h.text)))));
}

// ---------- views ----------
let lastView = "search";
function show(view) {
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === "view-" + view));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === view));
  if (view !== "doc") lastView = view;
  $("sel-add").hidden = true;
  if (view === "basket") renderBasket();
  window.scrollTo(0, 0);
}

// ---------- rendering a hit ----------
function highlighted(text, spans) {
  // text with <mark> around each [s, e] (code-point offsets inside text)
  const chars = cps(text);
  const frag = document.createDocumentFragment();
  let pos = 0;
  const sorted = (spans || []).slice().sort((a, b) => a[0] - b[0]);
  for (const [s, e] of sorted) {
    if (s < pos || e <= s) continue;
    frag.append(chars.slice(pos, s).join(""));
    frag.append(el("mark", {}, chars.slice(s, e).join("")));
    pos = e;
  }
  frag.append(chars.slice(pos).join(""));
  return frag;
}

function metaLine(h) {
  const parts = [];
  if (h.section && h.section.length) parts.push(el("span", { class: "section", "data-testid": "hit-section" }, h.section.join(" → ")));
  if (h.date) parts.push(el("span", { class: "date" }, h.date));
  if (h.region) parts.push(el("span", { class: "region" }, h.region));
  parts.push(el("span", { class: "type" }, typeLabel(h.doc_type)));
  if (h.page) parts.push(el("span", { class: "page" }, "第 " + h.page + " 页"));
  return el("div", { class: "meta" }, parts);
}

function passageEl(h) {
  // the passage's textContent is exactly h.text, so a selection inside it maps to document offsets
  return el("p", { class: "passage", "data-testid": "hit-text", dataset: { docId: h.doc_id, start: String(h.start) } },
    highlighted(h.text, h.highlights));
}

function hitCard(h, opts = {}) {
  const li = el("li", { class: "result", "data-testid": opts.testid || "result", dataset: { docId: h.doc_id } });
  if (opts.number) li.id = "cite-" + opts.number;
  const title = el("a", { href: "#", class: "result-title", "data-testid": "result-open", title: "打开原文并定位" },
    (opts.number ? "[" + opts.number + "] " : "") + h.citation);
  title.addEventListener("click", (ev) => { ev.preventDefault(); openDocument(h); });
  const badge = statusBadge(h);
  li.append(title);
  if (badge) li.append(" ", badge);
  li.append(metaLine(h), passageEl(h));
  const foot = el("div", { class: "card-foot" });
  const versions = versionsList(h);
  if (versions) foot.append(versions);
  if (h.also_in && h.also_in.length) {
    const more = el("details", { class: "also-in", "data-testid": "also-in" },
      el("summary", {}, "另见 " + h.also_in.length + " 篇文件"),
      el("ul", {}, h.also_in.map((d) => el("li", {}, d.title || d.path))));
    foot.append(more);
  }
  foot.append(el("button", { type: "button", class: "add", "data-testid": "add-basket",
    onclick: () => addToBasket(h) }, "加入摘录篮"));
  li.append(foot);
  return li;
}

// ---------- search ----------
async function runSearch(ev) {
  if (ev) ev.preventDefault();
  const q = $("q").value.trim();
  if (!q) return;
  const p = filterParams("f-");
  p.set("q", q);
  p.set("mode", $("mode").value);
  p.set("k", "20");
  if ($("f-all-versions").checked) p.set("all_versions", "true");
  const status = $("search-status"), list = $("results");
  status.textContent = "检索中…";
  list.replaceChildren();
  $("query-plan").hidden = true;
  try {
    const res = await getJSON("/api/search?" + p), hits = res.hits;
    $("query-plan").textContent = res.query_plan.label;
    $("query-plan").hidden = !res.query_plan.label;
    status.textContent = hits.length ? "共 " + hits.length + " 条结果" : "没有找到相关段落。";
    list.replaceChildren(...hits.map((h) => hitCard(h)));
  } catch (e) {
    status.textContent = "检索失败：" + e.message;
  }
}

// ---------- document view ----------
let currentDoc = null, currentHit = null;
async function openDocument(h) {
  let doc;
  try {
    doc = await getJSON("/api/documents/" + encodeURIComponent(h.doc_id));
  } catch (e) {
    toast("无法打开原文：" + e.message);
    return;
  }
  currentDoc = doc;
  currentHit = h.start !== undefined ? h : null;
  $("doc-title").textContent = (doc.title || doc.path) + (doc.version || "");
  const facts = [doc.doc_number, doc.organ || doc.issuer, doc.date, doc.region, typeLabel(doc.doc_type),
    doc.promulgated ? "公布 " + doc.promulgated : "", doc.effective ? "施行 " + doc.effective : "",
    doc.expires ? "有效期至 " + doc.expires : "", doc.path];
  $("doc-meta").replaceChildren(facts.filter(Boolean).join(" · "));
  const badge = statusBadge(doc);
  if (badge) $("doc-meta").prepend(badge, " ");
  $("doc-validity").replaceChildren(...[historyTable(doc), versionsList(doc)].filter(Boolean));
  renderDocText(doc, currentHit);
  renderOutline(doc, currentHit);
  $("doc-add-hit").hidden = !currentHit;
  show("doc");
  const mark = document.getElementById("doc-hit");
  if (mark) mark.scrollIntoView({ block: "center" });
}

function renderDocText(doc, hit) {
  // the article's textContent equals doc.text exactly: anchors are empty elements
  const chars = cps(doc.text);
  const cuts = new Map();  // offset -> [section indexes starting there]
  doc.sections.forEach((s, i) => { if (!cuts.has(s.start)) cuts.set(s.start, []); cuts.get(s.start).push(i); });
  const points = new Set([0, chars.length, ...cuts.keys()]);
  if (hit) { points.add(hit.start); points.add(hit.end); }
  const offsets = [...points].filter((o) => o >= 0 && o <= chars.length).sort((a, b) => a - b);
  const root = $("doc-text");
  root.replaceChildren();
  let container = root, mark = null;
  for (let i = 0; i < offsets.length; i++) {
    const at = offsets[i];
    if (hit && at === hit.end && mark) { container = root; mark = null; }
    if (hit && at === hit.start) {
      mark = el("mark", { id: "doc-hit", class: "doc-hit", "data-testid": "doc-highlight" });
      root.append(mark);
      container = mark;
    }
    for (const idx of cuts.get(at) || []) container.append(el("span", { class: "anchor", id: "sec-" + idx }));
    if (i + 1 < offsets.length) container.append(chars.slice(at, offsets[i + 1]).join(""));
  }
}

function renderOutline(doc, hit) {
  // the deepest section containing the hit is marked current
  let current = -1;
  if (hit) doc.sections.forEach((s, i) => {
    if (s.start <= hit.start && hit.start < s.end && (current < 0 || s.path.length >= doc.sections[current].path.length)) current = i;
  });
  const list = $("outline-list");
  list.replaceChildren(...doc.sections.map((s, i) => el("li", { style: "padding-left:" + (s.path.length - 1) * 0.9 + "em" },
    el("a", { href: "#", class: i === current ? "current" : null, "data-testid": "outline-item", onclick: (ev) => {
      ev.preventDefault();
      const a = document.getElementById("sec-" + i);
      if (a) a.scrollIntoView({ block: "start" });
    } }, s.path[s.path.length - 1]))));
  $("doc-outline").hidden = doc.sections.length === 0;
}

function spanIn(root, range) {
  // code-point offsets of range inside root's text, whitespace at both ends left out
  const before = document.createRange();
  before.setStart(root, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const chars = cps(root.textContent);
  let start = cps(before.toString()).length;
  let end = start + cps(range.toString()).length;
  while (start < end && /\s/.test(chars[start])) start++;
  while (end > start && /\s/.test(chars[end - 1])) end--;
  return end > start ? { start, end, text: chars.slice(start, end).join("") } : null;
}

function selectedSpan() {
  // the selection as {doc_id, start, end, text} when it lies inside one passage or the document text
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  const host = (n) => (n.nodeType === 1 ? n : n.parentElement).closest(".passage[data-start], #doc-text");
  const root = host(range.startContainer);
  if (!root || root !== host(range.endContainer)) return null;
  const span = spanIn(root, range);
  if (!span) return null;
  if (root.id === "doc-text") return currentDoc ? Object.assign(span, { doc_id: currentDoc.doc_id }) : null;
  const base = Number(root.dataset.start);
  return { doc_id: root.dataset.docId, start: base + span.start, end: base + span.end, text: span.text };
}

async function addSpan(span) {
  // the server cites the span narrowly (its article or section) and returns its stored text
  try {
    const p = new URLSearchParams({ doc_id: span.doc_id, start: String(span.start), end: String(span.end) });
    const passage = await getJSON("/api/passage?" + p);
    if (passage.text !== span.text) throw new Error("选中的文字与原文不一致");
    addToBasket(passage);
  } catch (e) {
    toast("无法摘录：" + e.message);
  }
}

let pendingSpan = null;
function offerSelection() {
  const btn = $("sel-add");
  pendingSpan = selectedSpan();
  if (!pendingSpan) { btn.hidden = true; return; }
  const rect = window.getSelection().getRangeAt(0).getBoundingClientRect();
  btn.style.left = Math.max(4, Math.min(window.innerWidth - 110, rect.left + rect.width / 2 - 50)) + window.scrollX + "px";
  btn.style.top = rect.bottom + window.scrollY + 6 + "px";
  btn.hidden = false;
}

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

// ---------- basket (persisted in localStorage) ----------
function loadBasket() {
  try { return JSON.parse(localStorage.getItem(BASKET_KEY)) || []; } catch (e) { return []; }
}
function saveBasket(items) {
  localStorage.setItem(BASKET_KEY, JSON.stringify(items));
  $("basket-count").textContent = String(items.length);
}
function addToBasket(h) {
  const items = loadBasket();
  if (items.some((it) => it.doc_id === h.doc_id && it.start === h.start && it.end === h.end)) {
    toast("该段落已在摘录篮中");
    return;
  }
  items.push({ doc_id: h.doc_id, start: h.start, end: h.end, text: h.text, citation: h.citation,
    title: h.title, date: h.date, section: h.section });
  saveBasket(items);
  toast("已加入摘录篮（共 " + items.length + " 条）");
}
function moveItem(i, delta) {
  const items = loadBasket(), j = i + delta;
  if (j < 0 || j >= items.length) return;
  [items[i], items[j]] = [items[j], items[i]];
  saveBasket(items);
  renderBasket();
}
function removeItem(i) {
  const items = loadBasket();
  items.splice(i, 1);
  saveBasket(items);
  renderBasket();
}
function renderBasket() {
  const items = loadBasket();
  $("basket-status").textContent = items.length ? "" : "摘录篮为空：在检索、问答、对比或原文中点击“加入摘录篮”。";
  $("export-docx").disabled = $("export-md").disabled = items.length === 0;
  $("basket-list").replaceChildren(...items.map((it, i) => el("li", { class: "basket-item", "data-testid": "basket-item" },
    el("div", { class: "basket-text" },
      el("p", { class: "passage" }, it.text),
      el("p", { class: "citation" }, "—— " + it.citation)),
    el("div", { class: "basket-ops" },
      el("button", { type: "button", title: "上移", "data-testid": "basket-up", disabled: i === 0, onclick: () => moveItem(i, -1) }, "↑"),
      el("button", { type: "button", title: "下移", "data-testid": "basket-down", disabled: i === items.length - 1, onclick: () => moveItem(i, 1) }, "↓"),
      el("button", { type: "button", title: "移除", "data-testid": "basket-remove", onclick: () => removeItem(i) }, "移除")))));
}

async function exportBasket(format) {
  // the text goes along: the server refuses a quotation that no longer matches the stored document
  const items = loadBasket().map((it) => ({ doc_id: it.doc_id, start: it.start, end: it.end, text: it.text }));
  if (!items.length) return;
  try {
    await download(await postJSON("/api/export", { items, format }), "摘录汇编." + format);
  } catch (e) {
    $("basket-status").textContent = "导出失败：" + e.message;
  }
}

async function download(resp, fallback) {
  const blob = await resp.blob();
  const disp = resp.headers.get("Content-Disposition") || "";
  const m = /filename\*=UTF-8''([^;]+)/.exec(disp);
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: m ? decodeURIComponent(m[1]) : fallback });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---------- upload ----------
async function runUpload(ev) {
  ev.preventDefault();
  const files = $("upload-files").files;
  const body = new FormData();
  for (const f of files) body.append("files", f, f.name);
  const key = $("upload-key").value.trim();
  $("upload-status").textContent = "正在读取和入库（扫描件需要文字识别，可能较慢）…";
  try {
    const resp = await fetch("/api/documents", {
      method: "POST", body, headers: key ? { Authorization: "Bearer " + key } : {},
    });
    const out = await resp.json();
    if (!resp.ok) throw new Error(out.detail || resp.statusText);
    const lines = ["入库 " + out.ingested.length + "，未变 " + out.unchanged.length + "，失败 " + out.failed.length];
    for (const f of out.failed) lines.push("失败 " + f.path + "：" + f.reason);
    for (const w of out.warnings || []) lines.push("提示 " + w.path + "：" + w.reason);
    $("upload-status").textContent = lines.join("\n");
    loadStats();
  } catch (e) {
    $("upload-status").textContent = "上传失败：" + e.message;
  }
}

// ---------- start ----------
async function loadStats() {
  try {
    const s = await getJSON("/api/stats");
    $("stats").textContent = s.documents + " 篇文件 · " + s.chunks + " 个段落";
    const types = Object.keys(s.by_type).sort();
    document.querySelectorAll("select.f-type").forEach((sel) => {
      sel.append(...types.map((t) => el("option", { value: t }, typeLabel(t) + "（" + s.by_type[t] + "）")));
    });
    $("regions").replaceChildren(...Object.keys(s.by_region).filter(Boolean).sort().map((r) => el("option", { value: r })));
  } catch (e) {
    $("stats").textContent = "";
  }
}

document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => show(t.dataset.view)));
$("search-form").addEventListener("submit", runSearch);
$("ask-form").addEventListener("submit", runAsk);
$("compare-form").addEventListener("submit", runCompare);
$("upload-form").addEventListener("submit", runUpload);
$("doc-back").addEventListener("click", () => show(lastView));
$("doc-add-hit").addEventListener("click", () => { if (currentHit) addToBasket(currentHit); });
$("doc-add-selection").addEventListener("click", () => {
  const span = selectedSpan();
  if (span) addSpan(span); else toast("请先在原文中选中要摘录的文字");
});
$("matrix-form").addEventListener("submit", runMatrix);
document.querySelectorAll("#matrix-bar button").forEach((b) => b.addEventListener("click", () => exportMatrix(b.dataset.format)));
// selecting text inside a passage offers 加入摘录篮 for exactly that span
document.addEventListener("mouseup", (ev) => { if (ev.target !== $("sel-add")) setTimeout(offerSelection, 0); });
document.addEventListener("keyup", (ev) => { if (ev.shiftKey || ev.key === "Shift") offerSelection(); });
$("sel-add").addEventListener("mousedown", (ev) => ev.preventDefault());  // keep the selection
$("sel-add").addEventListener("click", () => {
  $("sel-add").hidden = true;
  if (pendingSpan) addSpan(pendingSpan);
  window.getSelection().removeAllRanges();
});
$("export-docx").addEventListener("click", () => exportBasket("docx"));
$("export-md").addEventListener("click", () => exportBasket("md"));
$("basket-clear").addEventListener("click", () => { saveBasket([]); renderBasket(); });
saveBasket(loadBasket());
loadStats();
