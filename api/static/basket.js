// 法治文库 web page, part 4 of 4: the quote basket, uploads, and wiring the page up (runs last).
"use strict";

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
