// 法治文库 web page, part 2 of 4 (loaded after app.js): hits, search, the document view, selecting a span.
"use strict";

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
