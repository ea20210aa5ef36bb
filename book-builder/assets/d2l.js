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

  // Tabs: choosing one switches every tab group, and is remembered.
  function selectTab(name) {
    document.querySelectorAll(".tab-group").forEach((group) => {
      const has = group.querySelector(`.tab-button[data-tab="${name}"]`);
      if (!has) return;
      group.querySelectorAll(".tab-button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
      group.querySelectorAll(".tab-pane").forEach((p) => { p.hidden = !p.dataset.tab.split(" ").includes(name); });
    });
    try { localStorage.setItem("d2l-tab", name); } catch (e) { /* private mode */ }
  }
  document.querySelectorAll(".tab-button").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));
  try { const saved = localStorage.getItem("d2l-tab"); if (saved) selectTab(saved); } catch (e) { /* ignore */ }

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
