// d2l-book pages: copy buttons, switchable tabs, phone menu, client-side search.
(function () {
  "use strict";
  const root = document.documentElement.dataset.root || "";

  // Copy buttons.
  document.querySelectorAll("button.copy").forEach((btn) => {
    btn.addEventListener("click", () => {
      const code = btn.parentElement.querySelector("pre").innerText;
      const done = () => { btn.textContent = "Copied"; setTimeout(() => (btn.textContent = "Copy"), 1200); };
      if (navigator.clipboard) navigator.clipboard.writeText(code).then(done, () => {});
    });
  });

  // Tabs, as on d2l.ai: choosing one switches every tab group of the page (a group without
  // that tab keeps what it shows) and the notebook link, and is remembered for other pages.
  const TAB_KEY = "d2l-tab";
  function selectTab(name) {
    document.querySelectorAll(".tab-group").forEach((group) => {
      if (!group.querySelector(`.tab-button[data-tab="${CSS.escape(name)}"]`)) return;
      group.querySelectorAll(".tab-button").forEach((b) => {
        const on = b.dataset.tab === name;
        b.classList.toggle("active", on);
        b.setAttribute("aria-selected", on ? "true" : "false");
      });
      group.querySelectorAll(".tab-pane").forEach((p) => { p.hidden = !p.dataset.tab.split(" ").includes(name); });
    });
    const links = document.querySelectorAll(".page-actions a[data-tab]");
    if ([...links].some((a) => a.dataset.tab === name)) links.forEach((a) => { a.hidden = a.dataset.tab !== name; });
    document.documentElement.dataset.tab = name;
  }
  document.querySelectorAll(".tab-button").forEach((b) => b.addEventListener("click", () => {
    selectTab(b.dataset.tab);
    try { localStorage.setItem(TAB_KEY, b.dataset.tab); } catch (e) { /* private mode */ }
  }));
  try { const saved = localStorage.getItem(TAB_KEY); if (saved) selectTab(saved); } catch (e) { /* storage off */ }

  // Phone menu.
  const toggle = document.querySelector(".menu-toggle");
  if (toggle) toggle.addEventListener("click", () => document.body.classList.toggle("nav-open"));

  // Search: the index is a script so it also works from file://.
  const input = document.getElementById("search-input");
  const results = document.getElementById("search-results");
  let loading = null;
  function loadIndex() {
    if (window.D2L_SEARCH) return Promise.resolve(window.D2L_SEARCH);
    if (!loading) loading = new Promise((resolve) => {
      const s = document.createElement("script");
      s.src = root + "_static/searchindex.js";
      s.onload = () => resolve(window.D2L_SEARCH || []);
      s.onerror = () => resolve([]);
      document.head.appendChild(s);
    });
    return loading;
  }
  function escapeHtml(t) { return t.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }
  function search(index, query) {
    const words = query.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
    if (!words.length) return [];
    const scored = [];
    for (const e of index) {
      const title = e.t.toLowerCase(), body = e.b.toLowerCase();
      let score = 0, first = -1;
      for (const w of words) {
        const inTitle = title.includes(w), at = body.indexOf(w);
        if (!inTitle && at < 0) { score = 0; break; }
        score += (inTitle ? 10 : 0) + (at >= 0 ? 1 : 0);
        if (first < 0 && at >= 0) first = at;
      }
      if (score > 0) scored.push({ e, score, first });
    }
    return scored.sort((a, b) => b.score - a.score).slice(0, 12);
  }
  if (input && results) {
    input.addEventListener("input", () => {
      const q = input.value.trim();
      if (q.length < 2) { results.hidden = true; return; }
      loadIndex().then((index) => {
        const hits = search(index, q);
        results.innerHTML = hits.length ? hits.map(({ e, first }) => {
          const start = Math.max(0, first - 40);
          const snippet = first >= 0 ? "…" + e.b.slice(start, start + 140) + "…" : "";
          return `<li><a href="${root}${e.u}">${escapeHtml(e.t)}</a><p>${escapeHtml(snippet)}</p></li>`;
        }).join("") : "<li>No results</li>";
        results.hidden = false;
      });
    });
    input.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { results.hidden = true; input.blur(); } });
    document.addEventListener("click", (ev) => { if (!ev.target.closest(".search")) results.hidden = true; });
  }
})();
