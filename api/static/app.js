// 法治文库 web page: plain JS over the same JSON API as everyone else. Four classic scripts share
// one global scope, loaded in order: app.js (constants, DOM helpers, API, validity, views), results.js,
// answers.js, basket.js (which wires the page up, so it runs when every function exists).
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
