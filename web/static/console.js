/* Supervisor console: every suggestion with what the agent did (paged on the server), rates that follow every
   filter, charts (Chart.js, vendored), CSV export, customer merges with a preview and one-click undo, and the
   leak points page (#leaks): where an agent asked a customer again for what the customer had already given. */
"use strict";

(function () {
  const { api, el, clear, formatTime, humanise, toast } = window.OC;
  const $ = (id) => document.getElementById(id);
  const channelName = (c) => (window.OC.channelLabel ? window.OC.channelLabel(c) : humanise(c));
  const OUTCOME_LABEL = { accepted: "Accepted as is", edited: "Edited", rejected: "Rejected", ignored: "Ignored" };
  const state = { offset: 0, total: 0, charts: {}, preview: null, lastMerge: null, leaksLoaded: false };
  const animation = () => (window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined);

  function formParams(form) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form).entries()) if (value) params.set(name, String(value));
    return params;
  }
  const currentFilters = () => formParams($("filters"));
  const pageSize = () => Number($("page-size").value) || 50;

  const pct = (x) => (x === null || x === undefined ? "–" : Math.round(x * 1000) / 10 + "%");
  const secs = (x) => (x === null || x === undefined ? "–" : x < 10 ? x.toFixed(2) + " s" : Math.round(x) + " s");

  function fillSelect(select, values, label, name) {
    const chosen = select.value;
    clear(select).append(el("option", { value: "" }, label));
    for (const v of values) select.append(el("option", { value: v }, name ? name(v) : v));
    select.value = values.includes(chosen) ? chosen : "";
  }

  /* The sidebar on the customer, at one message: `#message=<interaction id>` is what the sidebar scrolls to. */
  function sidebarLink(identity, interactionId) {
    if (!identity) return null;
    return "/sidebar?identity=" + encodeURIComponent(identity) + (interactionId ? "#message=" + encodeURIComponent(interactionId) : "");
  }

  /* ---- suggestions, paged on the server ---- */
  async function loadSuggestions() {
    const params = currentFilters();
    params.set("limit", String(pageSize()));
    params.set("offset", String(state.offset));
    const page = await api("/v1/review/suggestions?" + params.toString());
    const form = $("filters");
    fillSelect(form.elements.agent, page.agents, "All agents");
    fillSelect(form.elements.channel, page.channels, "All channels", channelName);
    fillSelect(form.elements.engine, page.engines, "All engines");
    const body = clear($("suggestions").querySelector("tbody"));
    for (const s of page.items) body.append(row(s));
    if (!page.items.length) body.append(el("tr", {}, el("td", { colspan: "7", class: "muted" }, "No suggestions match.")));
    state.total = page.total;
    const pages = Math.max(1, Math.ceil(page.total / pageSize()));
    const current = Math.floor(state.offset / pageSize()) + 1;
    $("page-of").textContent = "Page " + current + " of " + pages;
    $("prev").disabled = state.offset === 0;
    $("next").disabled = page.next_offset === null;
    const first = page.items.length ? state.offset + 1 : 0;
    $("count").textContent = page.total + " suggestion" + (page.total === 1 ? "" : "s") +
      (page.items.length ? " · showing " + first + "–" + (state.offset + page.items.length) : "");
  }

  function goToPage(delta) {
    state.offset = Math.max(0, state.offset + delta * pageSize());
    loadSuggestions().catch((err) => toast(err.message));
  }

  /* Before and after, by words: the suggestion with what was taken out, the sent text with what was put in. */
  function diffView(ops) {
    const before = el("p", { class: "diff-text" });
    const after = el("p", { class: "diff-text" });
    for (const op of ops) {
      if (op.op === "equal") { before.append(op.text); after.append(op.text); }
      else if (op.op === "delete") before.append(el("del", {}, op.text));
      else after.append(el("ins", {}, op.text));
    }
    return el("div", { class: "diff" },
      el("div", { class: "diff-side diff-before" }, el("span", { class: "diff-label" }, "Suggested"), before),
      el("div", { class: "diff-side diff-after" }, el("span", { class: "diff-label" }, "Sent"), after));
  }

  function customerCell(s) {
    const name = s.customer_name || s.customer_id.slice(0, 8);
    const href = sidebarLink(s.customer_identity, s.answers_interaction_id);
    if (!href) return name;
    return el("a", { href, class: "row-link", "aria-label": "Open " + name + "'s timeline at the message answered" }, name);
  }

  /* A cell that says what it is: on a narrow screen the row becomes a card of "label: value" lines. */
  function cell(label, ...content) {
    return el("td", { "data-label": label }, el("div", { class: "cell-body" }, ...content));
  }

  function row(s) {
    const content = s.outcome === "edited" && s.diff
      ? [diffView(s.diff),
         el("span", { class: "distance" }, "Edit distance " + s.edit_distance + " characters (" + pct(s.edit_ratio) + " of the text)")]
      : [el("p", { class: "diff-text" }, s.text)];
    const agent = s.feedback_by || s.requested_by;
    return el("tr", { dataset: { suggestionId: s.id, outcome: s.outcome } },
      cell("When", el("time", { datetime: s.created_at }, formatTime(s.created_at))),
      cell("Customer", customerCell(s)),
      cell("Channel", channelName(s.channel)),
      cell("Engine", s.engine + (s.prompt_version ? " · " + s.prompt_version : "")),
      cell("Agent", agent),
      cell("Outcome", el("span", { class: "outcome outcome-" + s.outcome }, OUTCOME_LABEL[s.outcome] || s.outcome)),
      el("td", { class: "text-cell", "data-label": "Suggestion", title: "Customer message: " + s.message }, content));
  }

  /* ---- stats: the tiles and tables follow every filter, Outcome included ---- */
  function tile(label, value, name) {
    return el("div", { class: "tile", dataset: { tile: name } }, el("span", { class: "value" }, value),
              el("span", { class: "label" }, label));
  }

  function breakdownTable(title, keyName, rows, name) {
    return el("div", { class: "breakdown" },
      el("h3", {}, title),
      el("div", { class: "table-wrap" }, el("table", { class: "stack-table", dataset: { breakdown: name } },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, keyName), el("th", { scope: "col" }, "Shown"),
                                     el("th", { scope: "col" }, "Accepted"), el("th", { scope: "col" }, "Edited"),
                                     el("th", { scope: "col" }, "Rejected"))),
        el("tbody", {}, rows.length ? rows.map((r) => el("tr", { dataset: { key: r.key } },
          el("th", { scope: "row", "data-label": keyName }, name === "channel" ? channelName(r.key) : r.key),
          cell("Shown", r.shown), cell("Accepted", pct(r.acceptance_rate)), cell("Edited", pct(r.edit_rate)),
          cell("Rejected", pct(r.rejection_rate))))
          : el("tr", {}, el("td", { colspan: "5", class: "muted" }, "Nothing shown yet."))))));
  }

  function chart(id, config) {
    if (typeof window.Chart === "undefined") return;
    if (state.charts[id]) state.charts[id].destroy();
    state.charts[id] = new window.Chart($(id), config);
  }

  function scopeText(params) {
    const parts = [];
    for (const [name, value] of params.entries()) {
      const label = { agent: "agent", channel: "channel", engine: "engine", outcome: "outcome", since: "from",
                      until: "to" }[name] || name;
      parts.push(label + " " + (name === "outcome" ? (OUTCOME_LABEL[value] || value).toLowerCase() : value));
    }
    return parts.length ? "Filtered: " + parts.join(", ") : "All suggestions";
  }

  async function loadStats() {
    const params = currentFilters();
    const stats = await api("/v1/review/stats?" + params.toString());
    const t = stats.totals;
    $("tiles-scope").textContent = scopeText(params);
    clear($("tiles")).append(
      tile("Suggestions shown", String(t.shown), "shown"),
      tile("Accepted as is", pct(t.acceptance_rate), "accepted"),
      tile("Edited", pct(t.edit_rate), "edited"),
      tile("Rejected", pct(t.rejection_rate), "rejected"),
      tile("Ignored", t.shown ? pct(t.ignored / t.shown) : "–", "ignored"),
      tile("Message → first suggestion (median)", secs(t.first_suggestion_p50_s), "first"));
    const labels = stats.days.map((d) => d.date);
    chart("chart-rates", {
      type: "line",
      data: { labels, datasets: [
        { label: "Accepted as is", data: stats.days.map((d) => (d.acceptance_rate ?? 0) * 100), borderColor: "#1f7a4d", backgroundColor: "#1f7a4d", tension: 0.25 },
        { label: "Edited", data: stats.days.map((d) => (d.edit_rate ?? 0) * 100), borderColor: "#2457c5", backgroundColor: "#2457c5", tension: 0.25 },
        { label: "Rejected", data: stats.days.map((d) => (d.rejection_rate ?? 0) * 100), borderColor: "#b42318", backgroundColor: "#b42318", tension: 0.25 },
      ] },
      options: { maintainAspectRatio: false, animation: animation(), plugins: { title: { display: true, text: "Share of suggestions per day (%)" } },
                 scales: { y: { min: 0, max: 100 } } },
    });
    chart("chart-time", {
      type: "bar",
      data: { labels, datasets: [
        { label: "Median s", data: stats.days.map((d) => d.first_suggestion_p50_s), backgroundColor: "#7c9be0" },
        { label: "90th percentile s", data: stats.days.map((d) => d.first_suggestion_p90_s), backgroundColor: "#c6d3f2" },
      ] },
      options: { maintainAspectRatio: false, animation: animation(), plugins: { title: { display: true, text: "Customer message → first suggestion (seconds)" } },
                 scales: { y: { beginAtZero: true } } },
    });
    clear($("breakdowns")).append(
      breakdownTable("By agent (key name)", "Agent", stats.by_agent, "agent"),
      breakdownTable("By channel", "Channel", stats.by_channel, "channel"),
      breakdownTable("By engine", "Engine", stats.by_engine, "engine"),
      breakdownTable("By prompt version", "Prompt", stats.by_prompt_version || [], "prompt"));
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

  /* ---- merges: preview, merge, undo ---- */
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
        cell("When", formatTime(m.created_at)),
        cell("Kept", m.survivor_name || m.survivor_id.slice(0, 8)),
        cell("Merged in", m.absorbed_name || m.absorbed_id.slice(0, 8)),
        cell("Moved", m.identities_moved + " ids, " + m.interactions_moved + " messages"),
        cell("By", m.actor),
        cell("Reason", m.reason),
        cell("State", stateCell)));
    }
  }

  async function split(m) {
    try {
      await api("/v1/review/merges/" + m.id + "/undo", { method: "POST" });
      toast("Split: " + (m.absorbed_name || "the customer") + " is separate again.");
      if (state.lastMerge && state.lastMerge.id === m.id) $("merge-done").hidden = true;
    } catch (err) {
      toast("Split failed: " + err.message);
    }
    await loadMerges();
  }

  function sideView(title, side) {
    const span = side.first_contact
      ? formatTime(side.first_contact) + " – " + formatTime(side.last_contact) : "no messages";
    return [
      el("h4", {}, title),
      el("p", { class: "merge-name" }, side.name || "(no name)"),
      el("p", { class: "meta" }, side.interactions + " message" + (side.interactions === 1 ? "" : "s") +
         (side.channels.length ? " · " + side.channels.map(channelName).join(", ") : "") + " · " + span),
      el("ul", { class: "ids-list", "aria-label": "Identities of " + (side.name || "this customer") },
         side.identities.map((i) => el("li", {}, i))),
    ];
  }

  /* The merge picker: typing part of a name or an identifier lists matching customers (GET /v1/customers?q=);
     picking one fills in its id, so nobody has to know ids by heart. */
  function customerPicker(input, list) {
    let timer = null;
    let asked = "";
    input.addEventListener("input", () => {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2 || q === asked || list.querySelector(`option[value="${CSS.escape(q)}"]`)) return;
      timer = setTimeout(async () => {
        asked = q;
        try {
          const found = await api("/v1/customers?" + new URLSearchParams({ q, limit: "10" }).toString());
          clear(list).append(...found.customers.map((c) => el("option", {
            value: c.id, label: [c.name || "(no name)", ...c.identities.map((i) => i.identity)].join(" · ") })));
        } catch (_) { /* a picker is a convenience: typing an id or KIND:VALUE still works */ }
      }, 200);
    });
  }

  async function previewMerge(event) {
    event.preventDefault();
    const form = event.target;
    const error = $("merge-error");
    error.textContent = "";
    $("merge-done").hidden = true;
    const survivor = form.elements.survivor.value.trim();
    const absorbed = form.elements.absorbed.value.trim();
    try {
      const preview = await api("/v1/review/merges/preview?" + new URLSearchParams({ survivor, absorbed }).toString());
      state.preview = { survivor, absorbed, reason: form.elements.reason.value.trim(), data: preview };
      clear($("preview-survivor")).append(...sideView("Keep", preview.survivor));
      clear($("preview-absorbed")).append(...sideView("Merge into it", preview.absorbed));
      const joining = $("preview-joining");
      clear(joining);
      if (preview.same_customer) {
        joining.append("These are already the same customer: nothing to merge.");
      } else {
        joining.append(el("strong", {}, (preview.survivor.name || "The kept customer") + " gains "),
          preview.joining.length ? preview.joining.join(", ") : "no new identities",
          " and " + preview.interactions_moving + " message" + (preview.interactions_moving === 1 ? "" : "s") + ".");
      }
      $("merge-confirm").hidden = preview.same_customer;
      $("merge-preview").hidden = false;
      $("merge-preview").scrollIntoView({ block: "nearest" });
    } catch (err) {
      $("merge-preview").hidden = true;
      error.textContent = err.message;
    }
  }

  async function confirmMerge() {
    const p = state.preview;
    if (!p) return;
    try {
      const m = await api("/v1/review/merges", { method: "POST",
                                                 body: { survivor: p.survivor, absorbed: p.absorbed, reason: p.reason } });
      state.lastMerge = m;
      state.preview = null;
      $("merge-preview").hidden = true;
      $("merge").reset();
      $("merge-done-text").textContent = "Merged " + (m.absorbed_name || "the customer") + " into " +
        (m.survivor_name || "the customer") + ".";
      $("merge-done").hidden = false;
      $("merge-undo").focus();
      await loadMerges();
    } catch (err) {
      $("merge-error").textContent = err.message;
    }
  }

  function cancelMerge() {
    state.preview = null;
    $("merge-preview").hidden = true;
  }

  async function undoLastMerge() {
    if (!state.lastMerge) return;
    await split(state.lastMerge);
    state.lastMerge = null;
    $("merge-done").hidden = true;
  }

  /* ---- leak points ---- */
  function leakRow(w) {
    const who = w.customer_name || w.customer_id.slice(0, 8);
    const what = capital(w.label) + (w.value ? " " + w.value : "");
    return el("tr", { dataset: { kind: w.kind, asked: w.asked.interaction_id, given: w.first_given.interaction_id } },
      cell("Customer", who),
      cell("Asked again for", el("strong", {}, what),
           el("span", { class: "meta detail" }, "given on " + w.times_given + " earlier contact" + (w.times_given === 1 ? "" : "s") +
              (w.nth > 1 ? " · asked again " + w.nth + " times" : ""))),
      cell("First given",
           el("a", { href: w.first_given.link, class: "given-link" }, channelName(w.first_given.channel) + ", " + formatTime(w.first_given.occurred_at)),
           el("q", { class: "quote" }, w.first_given.evidence)),
      cell("Asked again",
           el("a", { href: w.asked.link, class: "asked-link" }, channelName(w.asked.channel) + ", " + formatTime(w.asked.occurred_at) + " by " + w.asked.agent),
           el("q", { class: "quote" }, w.asked.sentence),
           w.copilot_used ? el("span", { class: "outcome outcome-edited" }, "copilot used") : null),
      cell("Switch", w.first_given.channel === w.asked.channel ? channelName(w.asked.channel) + " again"
        : channelName(w.first_given.channel) + " → " + channelName(w.asked.channel)));
  }

  function countsTable(title, keyName, rows, key, withRates) {
    const heads = [keyName, "Repeat asks"].concat(withRates ? ["Agent replies", "Rate"] : []);
    return el("div", { class: "breakdown" },
      el("h3", {}, title),
      el("div", { class: "table-wrap" }, el("table", { class: "stack-table" },
        el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows.length ? rows.map((r) => el("tr", {},
          el("th", { scope: "row", "data-label": keyName }, key(r)), cell("Repeat asks", r.repeat_asks),
          withRates ? [cell("Agent replies", r.agent_replies), cell("Rate", pct(r.rate))] : null))
          : el("tr", {}, el("td", { colspan: String(heads.length), class: "muted" }, "None."))))));
  }

  const replies = (n) => n + " repl" + (n === 1 ? "y" : "ies");
  const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  async function loadLeaks() {
    const form = $("leak-filters");
    const params = formParams(form);
    params.set("limit", "50");
    const r = await api("/v1/review/repeat-asks?" + params.toString());
    fillSelect(form.elements.agent, r.agents, "All agents");
    fillSelect(form.elements.channel, r.channels, "All channels", channelName);
    clear($("leak-tiles")).append(
      tile("Repeat asks", String(r.total), "total"),
      tile("Agent replies with a repeat ask", pct(r.rate), "rate"),
      tile("Customers asked again", String(r.customers), "customers"),
      tile("With the copilot's suggestions used (" + replies(r.with_copilot.agent_replies) + ")", pct(r.with_copilot.rate), "with"),
      tile("Without them (" + replies(r.without_copilot.agent_replies) + ")", pct(r.without_copilot.rate), "without"));
    chart("chart-leak-weeks", {
      type: "bar",
      data: { labels: r.by_week.map((w) => w.week), datasets: [
        { type: "bar", label: "Repeat asks", data: r.by_week.map((w) => w.repeat_asks), backgroundColor: "#b42318", yAxisID: "y", maxBarThickness: 56 },
        { type: "line", label: "Replies with a repeat ask (%)", data: r.by_week.map((w) => (w.rate ?? 0) * 100), borderColor: "#2457c5", backgroundColor: "#2457c5", yAxisID: "rate", tension: 0.25 },
      ] },
      options: { maintainAspectRatio: false, animation: animation(),
                 plugins: { title: { display: true, text: "Repeat asks per week (week starting)" } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, rate: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } } } },
    });
    chart("chart-leak-pairs", {
      type: "bar",
      data: { labels: r.by_channel_pair.map((p) => channelName(p.from_channel) + " → " + channelName(p.to_channel)),
              datasets: [{ label: "Repeat asks", data: r.by_channel_pair.map((p) => p.repeat_asks), backgroundColor: "#a15c00", maxBarThickness: 32 }] },
      options: { indexAxis: "y", maintainAspectRatio: false, animation: animation(),
                 plugins: { title: { display: true, text: "Where the customer switched channel (given → asked again)" } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    clear($("leak-breakdowns")).append(
      countsTable("By agent", "Agent", r.by_agent, (a) => a.agent, true),
      countsTable("By channel switch", "Given → asked", r.by_channel_pair,
                  (p) => channelName(p.from_channel) + " → " + channelName(p.to_channel)),
      countsTable("By what was asked", "Asked for", r.by_kind, (k) => capital(k.label)));
    const body = clear($("worst").querySelector("tbody"));
    for (const w of r.worst) body.append(leakRow(w));
    if (!r.worst.length) body.append(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "No customer had to repeat themselves.")));
    state.leaksLoaded = true;
  }

  /* ---- pages: #review (default) and #leaks ---- */
  async function showView() {
    const leaks = location.hash === "#leaks";
    $("view-review").hidden = leaks;
    $("view-leaks").hidden = !leaks;
    for (const [id, on] of [["nav-review", !leaks], ["nav-leaks", leaks]]) {
      if (on) $(id).setAttribute("aria-current", "page");
      else $(id).removeAttribute("aria-current");
    }
    document.title = "Omnicopilot · " + (leaks ? "leak points" : "supervisor console");
    if (leaks && !state.leaksLoaded) {
      try { await loadLeaks(); } catch (err) { toast(err.message); }
    }
    document.body.dataset.view = leaks ? "leaks" : "review";
  }

  async function refresh() {
    state.offset = 0;
    try {
      await Promise.all([loadSuggestions(), loadStats()]);
    } catch (err) {
      toast(err.message);
    }
  }

  function signOut() {
    window.OC.signOut(); // every tab of this origin forgets the key
    location.reload();
  }

  async function boot() {
    // A sidebar tab's agent key is not taken over: only a supervisor's or an admin's will do here.
    const who = await window.OC.ensureSignedIn($("signin"), { title: "Sign in to the console", roles: ["supervisor", "admin"],
      hint: "Paste a supervisor API key. It is shared with this site's open tabs for this session, never saved to disk." });
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
    $("prev").addEventListener("click", () => goToPage(-1));
    $("next").addEventListener("click", () => goToPage(1));
    $("page-size").addEventListener("change", () => { state.offset = 0; loadSuggestions().catch((err) => toast(err.message)); });
    $("merge").addEventListener("submit", previewMerge);
    customerPicker($("merge").elements.survivor, $("survivor-options"));
    customerPicker($("merge").elements.absorbed, $("absorbed-options"));
    $("merge-confirm").addEventListener("click", confirmMerge);
    $("merge-cancel").addEventListener("click", cancelMerge);
    $("merge-undo").addEventListener("click", () => undoLastMerge().catch((err) => toast(err.message)));
    const reloadLeaks = () => loadLeaks().catch((err) => toast(err.message));
    $("leak-filters").addEventListener("submit", (event) => { event.preventDefault(); reloadLeaks(); });
    $("leak-filters").addEventListener("reset", () => setTimeout(reloadLeaks, 0));
    window.addEventListener("hashchange", () => { showView(); });
    await Promise.all([refresh(), loadMerges().catch((err) => toast(err.message)), showView()]);
    document.body.dataset.ready = "console";
  }

  document.addEventListener("DOMContentLoaded", () => { boot().catch((err) => toast(err.message)); });
})();
