/* Supervisor console: every suggestion with what the agent did, rates over time (Chart.js, vendored),
   CSV export, and customer merges/splits with their audit trail. */
"use strict";

(function () {
  const { api, el, clear, formatTime, humanise, toast } = window.OC;
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;
  const OUTCOME_LABEL = { accepted: "Accepted as is", edited: "Edited", rejected: "Rejected", ignored: "Ignored" };
  const state = { offset: 0, charts: {}, facetsLoaded: false };

  function currentFilters() {
    const data = new FormData($("filters"));
    const params = new URLSearchParams();
    for (const [name, value] of data.entries()) if (value) params.set(name, String(value));
    return params;
  }

  const pct = (x) => (x === null || x === undefined ? "–" : Math.round(x * 1000) / 10 + "%");
  const secs = (x) => (x === null || x === undefined ? "–" : x < 10 ? x.toFixed(2) + " s" : Math.round(x) + " s");

  function fillSelect(select, values, label) {
    const chosen = select.value;
    clear(select).append(el("option", { value: "" }, label));
    for (const v of values) select.append(el("option", { value: v }, v));
    select.value = values.includes(chosen) ? chosen : "";
  }

  async function loadSuggestions(append) {
    const params = currentFilters();
    if (!append) state.offset = 0;
    params.set("limit", String(PAGE));
    params.set("offset", String(state.offset));
    const page = await api("/v1/review/suggestions?" + params.toString());
    const form = $("filters");
    fillSelect(form.elements.agent, page.agents, "All agents");
    fillSelect(form.elements.channel, page.channels, "All channels");
    fillSelect(form.elements.engine, page.engines, "All engines");
    const body = $("suggestions").querySelector("tbody");
    if (!append) clear(body);
    for (const s of page.items) body.append(row(s));
    if (!page.items.length && !append) body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "No suggestions match.")));
    state.offset = page.next_offset || state.offset + page.items.length;
    $("more").hidden = page.next_offset === null;
    $("count").textContent = page.total + " suggestion" + (page.total === 1 ? "" : "s");
  }

  function diffView(ops) {
    const box = el("div", { class: "diff" });
    for (const op of ops) {
      if (op.op === "equal") box.append(op.text);
      else box.append(el(op.op === "insert" ? "ins" : "del", {}, op.text));
    }
    return box;
  }

  function row(s) {
    let content;
    if (s.outcome === "edited" && s.diff) {
      content = [diffView(s.diff),
                 el("span", { class: "distance" }, "Edit distance " + s.edit_distance + " characters (" + pct(s.edit_ratio) + " of the text)")];
    } else {
      content = [s.text];
    }
    const agent = s.feedback_by || s.requested_by;
    return el("tr", { dataset: { suggestionId: s.id, outcome: s.outcome } },
      el("td", {}, el("time", { datetime: s.created_at }, formatTime(s.created_at))),
      el("td", {}, s.customer_name || s.customer_id.slice(0, 8)),
      el("td", {}, humanise(s.channel)),
      el("td", {}, s.engine),
      el("td", {}, agent),
      el("td", {}, el("span", { class: "outcome outcome-" + s.outcome }, OUTCOME_LABEL[s.outcome] || s.outcome)),
      el("td", { class: "text-cell", title: "Customer message: " + s.message }, content));
  }

  function tile(label, value) {
    return el("div", { class: "tile" }, el("span", { class: "value" }, value), el("span", { class: "label" }, label));
  }

  function breakdownTable(title, rows) {
    return el("div", {},
      el("h2", {}, title),
      el("table", {},
        el("thead", {}, el("tr", {}, el("th", {}, title.replace("By ", "")), el("th", {}, "Shown"), el("th", {}, "Accepted"),
                                     el("th", {}, "Edited"), el("th", {}, "Rejected"))),
        el("tbody", {}, rows.map((r) => el("tr", {}, el("td", {}, r.key), el("td", {}, r.shown),
          el("td", {}, pct(r.acceptance_rate)), el("td", {}, pct(r.edit_rate)), el("td", {}, pct(r.rejection_rate)))))));
  }

  function chart(id, config) {
    if (typeof window.Chart === "undefined") return;
    if (state.charts[id]) state.charts[id].destroy();
    state.charts[id] = new window.Chart($(id), config);
  }

  async function loadStats() {
    const params = currentFilters();
    params.delete("outcome");
    const stats = await api("/v1/review/stats?" + params.toString());
    const t = stats.totals;
    clear($("tiles")).append(
      tile("Suggestions shown", String(t.shown)),
      tile("Accepted as is", pct(t.acceptance_rate)),
      tile("Edited", pct(t.edit_rate)),
      tile("Rejected", pct(t.rejection_rate)),
      tile("Ignored", t.shown ? pct(t.ignored / t.shown) : "–"),
      tile("Message → first suggestion (median)", secs(t.first_suggestion_p50_s)));
    const labels = stats.days.map((d) => d.date);
    const animation = window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined;
    chart("chart-rates", {
      type: "line",
      data: { labels, datasets: [
        { label: "Accepted as is", data: stats.days.map((d) => (d.acceptance_rate ?? 0) * 100), borderColor: "#1f7a4d", backgroundColor: "#1f7a4d", tension: 0.25 },
        { label: "Edited", data: stats.days.map((d) => (d.edit_rate ?? 0) * 100), borderColor: "#2457c5", backgroundColor: "#2457c5", tension: 0.25 },
        { label: "Rejected", data: stats.days.map((d) => (d.rejection_rate ?? 0) * 100), borderColor: "#b42318", backgroundColor: "#b42318", tension: 0.25 },
      ] },
      options: { maintainAspectRatio: false, animation, plugins: { title: { display: true, text: "Share of suggestions per day (%)" } },
                 scales: { y: { min: 0, max: 100 } } },
    });
    chart("chart-time", {
      type: "bar",
      data: { labels, datasets: [
        { label: "Median s", data: stats.days.map((d) => d.first_suggestion_p50_s), backgroundColor: "#7c9be0" },
        { label: "90th percentile s", data: stats.days.map((d) => d.first_suggestion_p90_s), backgroundColor: "#c6d3f2" },
      ] },
      options: { maintainAspectRatio: false, animation, plugins: { title: { display: true, text: "Customer message → first suggestion (seconds)" } },
                 scales: { y: { beginAtZero: true } } },
    });
    clear($("breakdowns")).append(breakdownTable("By channel", stats.by_channel), breakdownTable("By agent", stats.by_agent),
                                  breakdownTable("By engine", stats.by_engine));
  }

  async function exportCsv() {
    try {
      const resp = await api("/v1/review/suggestions.csv?" + currentFilters().toString(), { raw: true });
      const blob = await resp.blob();
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: "omnicopilot-suggestions.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 5000);
    } catch (err) {
      toast("Export failed: " + err.message);
    }
  }

  async function loadMerges() {
    const data = await api("/v1/review/merges");
    const body = clear($("merges").querySelector("tbody"));
    if (!data.merges.length) body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "No merges yet.")));
    for (const m of data.merges) {
      const stateCell = m.undone_at
        ? el("span", { class: "outcome outcome-ignored" },
             "Split " + formatTime(m.undone_at) + (m.undone_by ? " by " + m.undone_by.replace(/^key:/, "") : ""))
        : el("button", { type: "button", dataset: { mergeId: m.id }, onclick: () => split(m) }, "Split (undo)");
      body.append(el("tr", { dataset: { mergeId: m.id } },
        el("td", {}, formatTime(m.created_at)),
        el("td", {}, m.survivor_name || m.survivor_id.slice(0, 8)),
        el("td", {}, m.absorbed_name || m.absorbed_id.slice(0, 8)),
        el("td", {}, m.identities_moved + " ids, " + m.interactions_moved + " messages"),
        el("td", {}, m.actor),
        el("td", {}, m.reason),
        el("td", {}, stateCell)));
    }
  }

  async function split(m) {
    try {
      await api("/v1/review/merges/" + m.id + "/undo", { method: "POST" });
      toast("Split: " + (m.absorbed_name || "the customer") + " is separate again.");
    } catch (err) {
      toast("Split failed: " + err.message);
    }
    await loadMerges();
  }

  async function merge(event) {
    event.preventDefault();
    const form = event.target;
    const error = $("merge-error");
    error.textContent = "";
    const body = { survivor: form.elements.survivor.value.trim(), absorbed: form.elements.absorbed.value.trim(),
                   reason: form.elements.reason.value.trim() };
    try {
      const m = await api("/v1/review/merges", { method: "POST", body });
      toast("Merged " + (m.absorbed_name || "customer") + " into " + (m.survivor_name || "customer") + ".");
      form.reset();
      await loadMerges();
    } catch (err) {
      error.textContent = err.message;
    }
  }

  async function refresh() {
    try {
      await Promise.all([loadSuggestions(false), loadStats()]);
    } catch (err) {
      toast(err.message);
    }
  }

  function signOut() {
    window.OC.clearKey();
    location.reload();
  }

  async function boot() {
    const who = await window.OC.ensureSignedIn($("signin"), { title: "Sign in to the console",
      hint: "Paste a supervisor API key. It stays in this browser tab only." });
    $("signout").hidden = false;
    $("signout").addEventListener("click", signOut);
    $("who").textContent = who.name + " · " + who.role + " · " + who.tenant;
    if (!["supervisor", "admin"].includes(who.role)) {
      $("role-name").textContent = "an " + who.role;
      $("needs-supervisor").hidden = false;
      $("signout-needs").addEventListener("click", signOut);
      document.body.dataset.ready = "needs-supervisor";
      return;
    }
    $("console").hidden = false;
    $("filters").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
    $("filters").addEventListener("reset", () => setTimeout(refresh, 0));
    $("export").addEventListener("click", exportCsv);
    $("more").addEventListener("click", () => loadSuggestions(true).catch((err) => toast(err.message)));
    $("merge").addEventListener("submit", merge);
    await Promise.all([refresh(), loadMerges().catch((err) => toast(err.message))]);
    document.body.dataset.ready = "console";
  }

  document.addEventListener("DOMContentLoaded", () => { boot().catch((err) => toast(err.message)); });
})();
