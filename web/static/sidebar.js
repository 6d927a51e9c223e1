/* Agent sidebar: who the customer is and where things stand, the suggested replies, then the facts they gave,
   open items and the unified timeline, kept live over WS /v1/ws. Opens a customer from ?identity=KIND:VALUE, from
   the search box, or from the host page (postMessage {type: "omnicopilot.open", identity}) when embedded. */
"use strict";

(function () {
  const { api, el, clear, formatTime, formatDate, label, channelLabel, toast } = window.OC;
  const $ = (id) => document.getElementById(id);
  const CHANNELS = ["email", "chat", "sms", "whatsapp", "social", "voice", "ticket"];
  const TIMELINE_PAGE = 50;
  const STATE_IDS = 2;  // identifiers quoted in the one-line state
  const STATE_TEXT = 90;  // characters of the open item quoted in it
  const SECTIONS_KEY = "omnicopilot.sidebar.sections";  // which sections are open: UI state, not a secret
  const embedded = window.parent !== window;
  const ID_KINDS = new Set((window.OC_LABELS && window.OC_LABELS.ids) || []);

  const state = {
    who: null,
    customer: null,
    card: null,
    items: [],            // timeline items shown, newest first
    nextCursor: null,
    filter: new Set(),    // channels shown; empty = all
    latestCustomer: null, // newest customer message known: {interaction_id, occurred_at, text, channel}
    suggestions: [],
    guidance: [],         // internal articles for the agent, from the suggestions answer
    answers: null,        // {interaction_id, occurred_at} the suggestions answer
    pendingSuggestions: null,
    editing: null,
    hostOrigin: null,
    hostInserts: true, // the host's `insert` flag: false where it cannot take a reply (Copy only, then)
    pendingIdentity: null,
    loadToken: 0,
  };

  /* ---- icons: inline SVG built in code (the CSP allows no inline script or style) ---- */
  const ICON_PATHS = {
    email: "M3 6h18v12H3z M3 6l9 7 9-7",
    chat: "M4 5h16v10H9l-5 4z",
    sms: "M7 3h10v18H7z M10 18h4",
    whatsapp: "M12 3a9 9 0 0 0-7.8 13.5L3 21l4.6-1.2A9 9 0 1 0 12 3z M9 9c0 3 3 6 6 6",
    social: "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8z M16 12v1.5a2.5 2.5 0 0 0 5 0V12a9 9 0 1 0-3.5 7.1",
    voice: "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z",
    ticket: "M3 7h18v3a2 2 0 0 0 0 4v3H3v-3a2 2 0 0 0 0-4z M13 7v10",
    chevron: "M6 9l6 6 6-6",
  };
  function icon(name) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "icon icon-" + name);
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (const d of (ICON_PATHS[name] || ICON_PATHS.chat).split(" M")) {
      const path = document.createElementNS(NS, "path");
      path.setAttribute("d", d.startsWith("M") ? d : "M" + d);
      svg.append(path);
    }
    return svg;
  }
  function channelBadge(channel) {
    return el("span", { class: "channel ch-" + channel }, icon(channel),
              el("span", { class: "channel-name" }, channelLabel(channel)));
  }

  /* "Jun 9" this year, "Jun 9, 2025" otherwise: the state line and chips are short. */
  function shortDate(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const sameYear = d.getFullYear() === new Date().getFullYear();
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric", year: sameYear ? undefined : "numeric" });
  }

  /* ---- frame ancestors: which host pages may drive the sidebar ---- */
  function allowedOrigins() {
    const meta = document.querySelector('meta[name="omnicopilot-frame-ancestors"]');
    const tokens = ((meta && meta.content) || "'self'").split(/\s+/).filter(Boolean);
    return tokens.map((t) => (t === "'self'" ? location.origin : t)).filter((t) => t !== "'none'");
  }
  function originAllowed(origin) {
    return allowedOrigins().some((pattern) => {
      if (pattern === "*") return true;
      if (!pattern.includes("*")) return pattern.replace(/\/$/, "") === origin;
      const re = new RegExp("^" + pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]+") + "$");
      return re.test(origin);
    });
  }

  /* ---- opening a customer ---- */
  function identityFromSearch(raw) {
    const text = raw.trim();
    if (!text) return null;
    const kindMatch = /^([a-z][a-z0-9_.-]*):(.+)$/i.exec(text);
    if (kindMatch && !/^\+?\d/.test(text)) return { identity: text };
    if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text)) return { identity: "email:" + text };
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return { id: text };
    if (/^\+?[\d\s().-]{7,}$/.test(text) && text.replace(/\D/g, "").length >= 7) return { identity: "phone:" + text };
    if (/^@?[\w.]+$/.test(text)) {
      const handle = text.replace(/^@/, "");
      return { handles: ["twitter", "instagram", "facebook", "x", "tiktok"].map((n) => n + ":" + handle) };
    }
    return null;
  }

  async function openFromSearch(raw) {
    const error = $("search-error");
    error.textContent = "";
    const target = identityFromSearch(raw);
    if (!target) { error.textContent = "Type an email, a phone number, an @handle or a customer id."; return; }
    try {
      if (target.id) return await openCustomer(await api("/v1/customers/" + encodeURIComponent(target.id)));
      if (target.identity) return await openIdentity(target.identity);
      for (const identity of target.handles) {
        try { return await openIdentity(identity, { quiet: true }); } catch (err) { if (err.status !== 404) throw err; }
      }
      error.textContent = "No customer with the handle " + raw.trim() + ".";
    } catch (err) {
      error.textContent = err.status === 404 ? "No customer found for " + raw.trim() + "." : err.message;
    }
  }

  async function openIdentity(identity, { quiet = false, ...options } = {}) {
    try {
      const customer = await api("/v1/customers/resolve?identity=" + encodeURIComponent(identity));
      await openCustomer(customer, identity, options);
    } catch (err) {
      if (quiet) throw err;
      $("search-error").textContent = err.status === 404 ? "No customer found for " + identity + "." : err.message;
      if (err.status !== 404) throw err;
    }
  }

  async function openCustomer(customer, identity, options = {}) {
    const token = ++state.loadToken;
    const previous = state.customer;
    Object.assign(state, { customer, card: null, items: [], nextCursor: null, filter: new Set(), suggestions: [],
                           answers: null, pendingSuggestions: null, editing: null, latestCustomer: null });
    const shown = identity || (customer.identities[0] && customer.identities[0].identity);
    if (shown) {
      const url = new URL(location.href);
      url.searchParams.set("identity", shown);
      // The #message=<id> a link came with belongs to the customer it opened, not to the next one.
      history.replaceState(null, "", url.pathname + url.search + (options.keepHash ? location.hash : ""));
    }
    $("empty").hidden = true;
    $("customer").hidden = false;
    $("customer").dataset.customerId = customer.customer_id;
    renderHead();
    renderLoading();
    if (previous && previous.customer_id !== customer.customer_id) live.unwatch(previous.customer_id);
    live.watch(customer.customer_id);
    try {
      const [card, page] = await Promise.all([
        api("/v1/customers/" + customer.customer_id + "/context"),
        api("/v1/customers/" + customer.customer_id + "/timeline?limit=" + TIMELINE_PAGE),
      ]);
      if (token !== state.loadToken) return;
      state.items = page.items;
      state.nextCursor = page.next_cursor;
      applyCard(card);
      renderFilters();
      renderTimeline();
      // A link to one message (the console's rows: #message=<interaction id>) opens the timeline there.
      if (options.focus) focusInteraction(options.focus).catch((err) => toast(err.message));
      await requestSuggestions();
    } catch (err) {
      if (token !== state.loadToken) return;
      $("summary").textContent = "Could not load this customer: " + err.message;
    }
  }

  /* ---- sections: collapse, remembered across visits ---- */
  function readSections() {
    try { return JSON.parse(localStorage.getItem(SECTIONS_KEY) || "{}") || {}; } catch (_) { return {}; }
  }

  function setSectionOpen(section, open) {
    const toggle = section.querySelector(".section-toggle");
    toggle.setAttribute("aria-expanded", String(open));
    $(toggle.getAttribute("aria-controls")).hidden = !open;
    section.classList.toggle("collapsed", !open);
  }

  function setupSections() {
    const saved = readSections();
    for (const section of document.querySelectorAll("[data-section]")) {
      const toggle = section.querySelector(".section-toggle");
      toggle.prepend(icon("chevron"));
      setSectionOpen(section, saved[section.dataset.section] !== false);
      toggle.addEventListener("click", () => {
        const open = toggle.getAttribute("aria-expanded") !== "true";
        setSectionOpen(section, open);
        const now = readSections();
        now[section.dataset.section] = open;
        try { localStorage.setItem(SECTIONS_KEY, JSON.stringify(now)); } catch (_) { /* private mode: not kept */ }
      });
    }
  }

  function openSection(name) {
    const section = document.querySelector(`[data-section="${name}"]`);
    if (section && section.classList.contains("collapsed")) setSectionOpen(section, true);
  }

  function setCount(id, n) { $(id).textContent = n ? String(n) : ""; }

  /* ---- rendering ---- */
  function renderHead() {
    const c = state.customer;
    $("customer-name").textContent = c.name || "Unnamed customer";
    const list = clear($("identities"));
    for (const i of c.identities) list.append(el("li", { class: "id-chip", title: i.identity }, identityText(i)));
    document.body.classList.add("has-customer");
  }

  function renderLoading() {
    clear($("state")).textContent = "Loading…";
    $("summary").textContent = "Loading…";
    $("card-meta").textContent = "";
    clear($("facts"));
    clear($("open-items"));
    clear($("timeline"));
    clear($("channel-filters"));
    ["facts-count", "open-count", "timeline-count"].forEach((id) => setCount(id, 0));
    $("more").hidden = true;
    setGuidance([]);
    renderSuggestionSkeleton("Reading the history…");
  }

  function applyCard(card) {
    state.card = card;
    $("summary").textContent = card.summary || "No summary yet.";
    $("card-meta").textContent = "Engine: " + card.engine + " · updated " + formatTime(card.generated_at);
    // Catch up with anything the card knows and the timeline does not (missed pushes).
    for (const item of (card.timeline || []).slice().reverse()) addItem(item, { render: false });
    for (const item of card.timeline || []) {
      if (item.author_role === "customer") { noteCustomerMessage(item); break; }
    }
    renderState();
    renderFacts();
    renderOpenItems();
    if (state.customer) renderTimeline();
  }

  /* The item the agent must know about first: an overdue promise or item, else the latest promise, else what the
     customer waits for, else the latest open item. */
  const OPEN_RANK = { promise: 1, waiting_for: 2, request: 3, action: 4, tried: 5 };
  function mainOpenItem(items) {
    const open = items.filter((o) => !o.status || o.status === "open");
    const rank = (o) => (o.overdue ? 0 : OPEN_RANK[o.kind] || 6);
    return open.sort((a, b) => rank(a) - rank(b) || ts(b.occurred_at) - ts(a.occurred_at))[0] || null;
  }

  function dueState(o) {
    const promised = o.kind === "promise";
    const when = o.due_date ? shortDate(o.due_date) : o.due;
    if (when) return (promised ? "Promised by " : "Due ") + when + (o.overdue ? ": overdue" : "");
    return o.overdue ? "Overdue" : "";
  }

  /* One line built from the card: the main open item with its due state, and the key identifiers it does not
     already name ("[Promised by Mar 3: overdue] Replacement router shipped, CASE-7741"). */
  function renderState() {
    const line = clear($("state"));
    const card = state.card || {};
    const item = mainOpenItem(card.open_items || []);
    const text = item ? clip(item.text.replace(/[.\s]+$/, ""), STATE_TEXT) : "";
    const ids = (card.facts || []).filter((f) => ID_KINDS.has(f.kind) && !text.toLowerCase().includes(f.value.toLowerCase()))
      .map((f) => f.value).filter((v, i, all) => all.indexOf(v) === i).slice(0, STATE_IDS);
    const due = item ? dueState(item) : "";
    line.classList.toggle("is-overdue", Boolean(item && item.overdue));
    if (!item && !ids.length) { line.textContent = "Nothing open."; line.title = ""; return; }
    // The due state leads, as a badge: a clamped line must never hide "overdue".
    if (due) line.append(el("span", { class: "state-due" + (item.overdue ? " overdue" : "") }, due), " ");
    const parts = [item ? el("span", { class: "state-text" }, text) : el("span", { class: "state-text muted" }, "Nothing open")];
    for (const v of ids) parts.push(el("span", { class: "state-id" }, v));
    parts.forEach((part, index) => line.append(index ? ", " : "", part));
    line.title = line.textContent;
  }

  function clip(text, max) {
    if (text.length <= max) return text;
    const cut = text.slice(0, max);
    return cut.slice(0, Math.max(cut.lastIndexOf(" "), max * 0.6)).replace(/[,;:\s]+$/, "") + "…";
  }

  /* "peggy@example.com", "zendesk 404019", "twitter @wei": the kind only where the value does not show it. */
  function identityText(i) {
    if (i.kind === "email" || i.kind === "phone") return i.value;
    if (i.kind.startsWith("ext:")) return i.kind.slice(4) + " " + i.value;
    return i.kind + " @" + i.value.replace(/^@/, "");
  }

  function interactionLink(interactionId, channel, when) {
    return el("button", { type: "button", class: "source-link", dataset: { interactionId },
                          onclick: () => focusInteraction(interactionId),
                          "aria-label": "Show the " + channelLabel(channel) + " message of " + formatDate(when) },
              icon(channel), shortDate(when));
  }

  /* A fact is a chip: its value, kind and channel. Its evidence sentence shows on hover and on keyboard focus
     (the chip is described by it); a click shows the message it came from. */
  function factChip(f, index) {
    const evidenceId = "evidence-" + index;
    const said = channelLabel(f.channel) + ", " + formatDate(f.occurred_at);
    const evidence = el("span", { class: "evidence", id: evidenceId, role: "tooltip" },
      f.evidence ? el("q", {}, f.evidence) : null, el("span", { class: "evidence-where" }, said));
    const chip = el("button", { type: "button", class: "fact-chip", "aria-describedby": evidenceId,
                                dataset: { interactionId: f.interaction_id },
                                onclick: () => focusInteraction(f.interaction_id) },
      icon(f.channel),
      el("span", { class: "fact-value" }, f.value),
      el("span", { class: "fact-kind" }, label("fact", f.kind)),
      el("span", { class: "visually-hidden" }, ", " + channelLabel(f.channel)));
    // Escape hides the tooltip without moving focus (WCAG 1.4.13); it returns on the next focus or hover.
    chip.addEventListener("keydown", (event) => { if (event.key === "Escape") chip.parentElement.classList.add("quiet"); });
    chip.addEventListener("blur", () => chip.parentElement.classList.remove("quiet"));
    return el("li", { class: "fact", dataset: { kind: f.kind } }, chip, evidence);
  }

  function renderFacts() {
    const list = clear($("facts"));
    const facts = (state.card && state.card.facts) || [];
    setCount("facts-count", facts.length);
    if (!facts.length) list.append(el("li", { class: "muted empty-row" }, "Nothing extracted yet."));
    facts.forEach((f, index) => list.append(factChip(f, index)));
  }

  function renderOpenItems() {
    const list = clear($("open-items"));
    const items = ((state.card && state.card.open_items) || []).filter((o) => !o.status || o.status === "open");
    setCount("open-count", items.length);
    if (!items.length) list.append(el("li", { class: "muted empty-row" }, "Nothing open."));
    const sorted = items.slice().sort((a, b) => Number(b.overdue) - Number(a.overdue) || ts(b.occurred_at) - ts(a.occurred_at));
    for (const o of sorted) {
      const due = dueState(o);
      list.append(el("li", { class: "open-item" + (o.overdue ? " overdue" : ""), dataset: { kind: o.kind } },
        el("span", { class: "open-kind" }, label("open", o.kind)),
        el("span", { class: "open-text" }, o.text),
        el("span", { class: "open-foot" },
          due ? el("span", { class: "due" }, due) : null,
          interactionLink(o.interaction_id, o.channel, o.occurred_at))));
    }
  }

  /* Agent guidance from internal articles: its own box, marked internal, never a reply. */
  function setGuidance(list) {
    state.guidance = list || [];
    const box = $("guidance-box");
    const ul = clear($("guidance"));
    box.hidden = !state.guidance.length;
    setCount("guidance-count", state.guidance.length);
    for (const g of state.guidance) {
      const title = g.title || "Internal note";
      ul.append(el("li", { class: "guidance-item" },
        el("p", { class: "guidance-title" },
          g.url ? el("a", { href: g.url, target: "_blank", rel: "noopener noreferrer" }, title) : title),
        el("p", { class: "guidance-text" }, g.text)));
    }
  }

  function renderFilters() {
    const box = clear($("channel-filters"));
    const present = new Set([...(state.card ? state.card.timeline : []), ...state.items].map((i) => i.channel));
    const channels = CHANNELS.filter((c) => present.has(c));
    const all = el("button", { type: "button", class: "filter", "aria-pressed": String(state.filter.size === 0),
                               onclick: () => setFilter(null) }, "All");
    box.append(all);
    for (const c of channels) {
      box.append(el("button", { type: "button", class: "filter", dataset: { channel: c },
                                "aria-pressed": String(state.filter.has(c)), onclick: () => setFilter(c) },
                    icon(c), channelLabel(c)));
    }
  }

  async function setFilter(channel) {
    if (channel === null) state.filter.clear();
    else if (state.filter.has(channel)) state.filter.delete(channel);
    else state.filter.add(channel);
    renderFilters();
    await reloadTimeline();
  }

  function timelineQuery(cursor) {
    const params = new URLSearchParams({ limit: String(TIMELINE_PAGE) });
    if (cursor) params.set("cursor", cursor);
    for (const c of state.filter) params.append("channel", c);
    return "/v1/customers/" + state.customer.customer_id + "/timeline?" + params.toString();
  }

  async function reloadTimeline() {
    const token = state.loadToken;
    const page = await api(timelineQuery(null));
    if (token !== state.loadToken) return;
    state.items = page.items;
    state.nextCursor = page.next_cursor;
    renderTimeline();
  }

  async function loadOlder() {
    if (!state.nextCursor) return false;
    const token = state.loadToken;
    const page = await api(timelineQuery(state.nextCursor));
    if (token !== state.loadToken) return false;
    for (const item of page.items) addItem(item, { render: false, append: true });
    state.nextCursor = page.next_cursor;
    renderTimeline();
    return true;
  }

  function passesFilter(item) { return state.filter.size === 0 || state.filter.has(item.channel); }

  function addItem(item, { render = true, append = false, fresh = false } = {}) {
    if (state.items.some((i) => i.interaction_id === item.interaction_id)) return false;
    if (!passesFilter(item)) return false;
    if (append) state.items.push(item);
    else {
      state.items.push(item);
      state.items.sort((a, b) => ts(b.occurred_at) - ts(a.occurred_at));
    }
    if (fresh) item._fresh = true;
    if (render) renderTimeline();
    return true;
  }

  function renderTimeline() {
    const list = clear($("timeline"));
    setCount("timeline-count", state.items.length + (state.nextCursor ? "+" : ""));
    if (!state.items.length) list.append(el("li", { class: "muted empty-row" }, "No messages."));
    for (const item of state.items) {
      const who = item.direction === "internal" ? "Internal note" : label("role", item.author_role || "customer");
      const text = el("p", { class: "tl-text", id: "tl-text-" + item.interaction_id }, item.text);
      const toggle = el("button", { type: "button", class: "tl-toggle", "aria-expanded": "false",
                                    "aria-controls": "tl-text-" + item.interaction_id }, "Show full text");
      const li = el("li", { class: "tl-item dir-" + item.direction + (item._fresh ? " fresh" : ""),
                            id: "tl-" + item.interaction_id, tabindex: "-1",
                            dataset: { interactionId: item.interaction_id, channel: item.channel } },
        el("div", { class: "tl-head" }, channelBadge(item.channel),
          el("span", { class: "tl-who" }, who + (item.author_name ? " · " + item.author_name : "")),
          el("time", { datetime: item.occurred_at }, formatTime(item.occurred_at))),
        item.subject ? el("p", { class: "tl-subject" }, item.subject) : null,
        text, toggle);
      toggle.addEventListener("click", () => setExpanded(li, li.classList.contains("expanded") ? false : true));
      list.append(li);
      // Only offer "full text" when the text is actually clipped.
      requestAnimationFrame(() => { toggle.hidden = !li.classList.contains("expanded") && text.scrollHeight <= text.clientHeight + 2; });
    }
    $("more").hidden = !state.nextCursor;
  }

  function setExpanded(li, expanded) {
    li.classList.toggle("expanded", expanded);
    const toggle = li.querySelector(".tl-toggle");
    toggle.hidden = false;
    toggle.setAttribute("aria-expanded", String(expanded));
    toggle.textContent = expanded ? "Show less" : "Show full text";
  }

  async function focusInteraction(interactionId) {
    openSection("timeline");
    let li = $("tl-" + interactionId);
    if (!li && state.filter.size) { state.filter.clear(); renderFilters(); await reloadTimeline(); li = $("tl-" + interactionId); }
    for (let page = 0; !li && page < 20 && state.nextCursor; page++) {
      await loadOlder();
      li = $("tl-" + interactionId);
    }
    if (!li) { toast("That message is no longer in the timeline."); return; }
    setExpanded(li, true);
    li.classList.remove("flash");
    void li.offsetWidth;
    li.classList.add("flash");
    li.scrollIntoView({ behavior: "smooth", block: "center" });
    li.focus({ preventScroll: true });
  }

  /* ---- suggestions ---- */
  const ts = (iso) => (iso ? Date.parse(iso) : 0);

  function noteCustomerMessage(item) {
    const known = state.latestCustomer;
    if (known && (known.interaction_id === item.interaction_id || ts(item.occurred_at) <= ts(known.occurred_at))) return false;
    state.latestCustomer = { interaction_id: item.interaction_id, occurred_at: item.occurred_at, text: item.text,
                             channel: item.channel };
    return true;
  }

  function suggestionsStale() {
    const latest = state.latestCustomer, answers = state.answers;
    return Boolean(latest && answers && answers.interaction_id !== latest.interaction_id &&
                   (!answers.occurred_at || ts(answers.occurred_at) < ts(latest.occurred_at)));
  }

  function renderSuggestionSkeleton(note) {
    const box = clear($("suggestions"));
    box.setAttribute("aria-busy", "true");
    $("suggestions-note").textContent = note || "";
    for (let i = 0; i < 3; i++) box.append(el("div", { class: "suggestion skeleton", "aria-hidden": "true" },
      el("span", { class: "bar" }), el("span", { class: "bar" }), el("span", { class: "bar short" })));
  }

  async function requestSuggestions() {
    const latest = state.latestCustomer;
    if (!latest) {
      clear($("suggestions")).setAttribute("aria-busy", "false");
      $("suggestions-note").textContent = "No customer message to answer yet.";
      return;
    }
    const token = state.loadToken;
    renderSuggestionSkeleton("Writing replies…");
    try {
      const path = "/v1/customers/" + state.customer.customer_id + "/suggestions";
      const body = { message: latest.text, channel: latest.channel };
      // A model writes for seconds: show its drafts as they arrive; the offline engine answers at once.
      const streamed = state.card && String(state.card.engine || "").startsWith("llm");
      const result = streamed ? await streamSuggestions(path + "/stream", body, token)
                              : await api(path, { method: "POST", body });
      if (token !== state.loadToken) return;
      setSuggestions(result.suggestions, { interaction_id: latest.interaction_id, occurred_at: latest.occurred_at });
      setGuidance(result.guidance || []);
    } catch (err) {
      if (token !== state.loadToken) return;
      clear($("suggestions")).setAttribute("aria-busy", "false");
      $("suggestions-note").textContent = "No suggestions: " + err.message;
    }
  }

  /* Server-sent events: {"text"} drafts, then "suggestions" with the recorded ones (as the POST answers). */
  async function streamSuggestions(path, body, token) {
    const resp = await api(path, { method: "POST", body, raw: true });
    const reader = resp.body.getReader(), decoder = new TextDecoder();
    let buffer = "", draft = "", result = null;
    const box = $("suggestions");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = (block.match(/^event: (.*)$/m) || [])[1] || "message";
        const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "{}");
        if (event === "suggestions") result = data;
        else if (event === "message" && data.text && token === state.loadToken) {
          draft += data.text;
          clear(box).setAttribute("aria-busy", "true");
          draft.split(/\n\s*---\s*\n/).forEach((text) =>
            box.append(el("div", { class: "suggestion draft" }, el("p", { class: "suggestion-text" }, text))));
        }
      }
    }
    if (!result) throw new Error("the stream ended before the suggestions were recorded");
    return result;
  }

  function setSuggestions(list, answers) {
    if (state.editing) { state.pendingSuggestions = { list, answers }; offerPending(); return; }
    state.suggestions = list.map((s) => ({ ...s, done: null }));
    state.answers = answers;
    renderSuggestions();
  }

  function offerPending() {
    $("suggestions-note").textContent = "New suggestions are ready; they will show when you finish editing.";
  }

  function renderSuggestions() {
    const box = clear($("suggestions"));
    box.setAttribute("aria-busy", "false");
    const stale = suggestionsStale();
    box.classList.toggle("stale", stale);
    $("suggestions-note").textContent = stale ? "These answer an earlier message; a newer one arrived." : "";
    if (!state.suggestions.length) box.append(el("p", { class: "muted" }, "No suggestions for this message."));
    state.suggestions.forEach((s, index) => box.append(suggestionCard(s, index, stale)));
  }

  function suggestionCard(s, index, stale) {
    const card = el("article", { class: "suggestion" + (stale ? " is-stale" : "") + (s.done ? " done-" + s.done : ""),
                                 dataset: { suggestionId: s.id }, "aria-label": "Suggested reply " + (index + 1) });
    if (stale) card.append(el("span", { class: "badge stale-badge" }, "Earlier message"));
    if (s.done === "rejected") {
      card.append(el("p", { class: "muted" }, "Dismissed."));
      return card;
    }
    if (state.editing === s.id) {
      const area = el("textarea", { class: "edit-area", "aria-label": "Edit the reply", rows: "5" });
      area.value = s.text;
      const use = el("button", { type: "button", class: "primary", onclick: () => finishEdit(s, area.value) },
                     inserts() ? "Insert edited reply" : "Copy edited reply");
      const cancel = el("button", { type: "button", class: "secondary", onclick: () => cancelEdit() }, "Cancel");
      area.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); use.click(); }
        if (event.key === "Escape") { event.preventDefault(); cancel.click(); }
      });
      card.append(area, el("div", { class: "actions" }, use, cancel));
      requestAnimationFrame(() => area.focus());
      return card;
    }
    card.append(el("p", { class: "suggestion-text" }, s.text));
    if (s.done) card.append(el("p", { class: "done-note" }, { accepted: "Used as is ✓", edited: "Used with edits ✓" }[s.done]));
    const actions = el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", onclick: () => useSuggestion(s, s.text, "copy") }, "Copy"),
      inserts() ? el("button", { type: "button", onclick: () => useSuggestion(s, s.text, "insert") }, "Insert") : null,
      el("button", { type: "button", onclick: () => startEdit(s) }, "Edit"),
      el("button", { type: "button", class: "secondary", onclick: () => dismiss(s) }, "Dismiss"));
    card.append(actions);
    return card;
  }

  async function feedback(s, action, finalText) {
    const body = { action };
    if (action === "edited") body.final_text = finalText;
    try {
      await api("/v1/suggestions/" + s.id + "/feedback", { method: "POST", body });
      s.done = action;
    } catch (err) {
      toast("Feedback not saved: " + err.message);
    }
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      const area = el("textarea", { class: "offscreen", "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand("copy"); } catch (__) { ok = false; }
      area.remove();
      return ok;
    }
  }

  function inserts() { return embedded && state.hostInserts; }

  function insertIntoHost(text) {
    if (!inserts()) return false;
    const target = state.hostOrigin || (document.referrer ? new URL(document.referrer).origin : null);
    if (!target || !originAllowed(target)) { toast("The host page is not allowed to receive replies."); return false; }
    window.parent.postMessage({ type: "omnicopilot.insert", text }, target);
    return true;
  }

  async function useSuggestion(s, text, how, action = "accepted") {
    if (how === "insert") {
      if (insertIntoHost(text)) toast("Inserted into the reply.");
    } else {
      toast((await copyText(text)) ? "Copied to the clipboard." : "Select the text and copy it.");
    }
    await feedback(s, action, text);
    renderSuggestions();
  }

  function startEdit(s) { state.editing = s.id; renderSuggestions(); }

  function cancelEdit() {
    state.editing = null;
    flushPending();
  }

  async function finishEdit(s, text) {
    state.editing = null;
    const trimmed = text.trim();
    if (!trimmed) { toast("The reply is empty."); state.editing = s.id; return; }
    const action = trimmed === s.text.trim() ? "accepted" : "edited";
    s.text = action === "edited" ? trimmed : s.text;
    await useSuggestion(s, trimmed, inserts() ? "insert" : "copy", action);
    flushPending();
  }

  function flushPending() {
    const pending = state.pendingSuggestions;
    state.pendingSuggestions = null;
    if (pending) setSuggestions(pending.list, pending.answers);
    else renderSuggestions();
  }

  async function dismiss(s) {
    await feedback(s, "rejected");
    renderSuggestions();
  }

  /* ---- live push ---- */
  const live = {
    ws: null,
    attempts: 0,
    connectedOnce: false,
    watching: new Set(),
    timer: null,
    pinger: null,

    start() {
      if (this.ws) return;
      const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/ws";
      const ws = new WebSocket(url);
      this.ws = ws;
      setLive("connecting");
      ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", key: window.OC.key() })));
      ws.addEventListener("message", (event) => {
        let msg;
        try { msg = JSON.parse(event.data); } catch (_) { return; }
        this.receive(msg);
      });
      ws.addEventListener("close", (event) => {
        this.ws = null;
        this.ready = false;
        clearInterval(this.pinger);
        if (event.code === 4401 || event.code === 4403) { setLive("refused"); signOut("Your key was refused; sign in again."); return; }
        if (this.stopped) return;
        setLive("reconnecting");
        // Exponential backoff with jitter, capped: a restarting server is not stampeded.
        const delay = Math.min(15000, 500 * 2 ** this.attempts) * (0.75 + Math.random() / 2);
        this.attempts += 1;
        this.timer = setTimeout(() => this.start(), delay);
      });
    },

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      clearInterval(this.pinger);
      if (this.ws) this.ws.close(1000);
      this.ws = null;
    },

    send(msg) { if (this.ws && this.ws.readyState === WebSocket.OPEN && this.ready) this.ws.send(JSON.stringify(msg)); },
    watch(id) { this.watching.clear(); this.watching.add(id); this.send({ type: "watch", customer_id: id }); },
    unwatch(id) { this.watching.delete(id); this.send({ type: "unwatch", customer_id: id }); },

    receive(msg) {
      const current = state.customer && state.customer.customer_id;
      switch (msg.type) {
        case "ready": {
          this.ready = true;
          this.attempts = 0;
          setLive("live");
          for (const id of this.watching) this.send({ type: "watch", customer_id: id });
          if (this.connectedOnce && state.customer) catchUp();
          this.connectedOnce = true;
          this.pinger = setInterval(() => this.send({ type: "ping" }), 25000);
          break;
        }
        case "interaction":
          if (msg.customer_id !== current) break;
          onInteraction(msg.interaction);
          break;
        case "card":
          if (msg.customer_id !== current) break;
          applyCard(msg.card);
          renderFilters();
          if (!state.editing) renderSuggestions();
          break;
        case "suggestions":
          if (msg.customer_id !== current) break;
          setSuggestions(msg.suggestions, { interaction_id: msg.answers_interaction_id, occurred_at: msg.answers_occurred_at });
          if (Array.isArray(msg.guidance)) setGuidance(msg.guidance);
          break;
        default:
          break;
      }
    },
  };

  function onInteraction(item) {
    const added = addItem(item, { fresh: true });
    if (item.author_role === "customer" && noteCustomerMessage(item)) {
      toast("New message from the customer.");
      if (!state.editing) {
        renderSuggestions();
        $("suggestions-note").textContent = "New message: updating suggestions…";
      }
    } else if (added) {
      toast("New " + channelLabel(item.channel) + " message in the timeline.");
    }
    renderFilters();
  }

  async function catchUp() {
    // Missed pushes while disconnected: the card carries the newest timeline and facts.
    const token = state.loadToken;
    try {
      const card = await api("/v1/customers/" + state.customer.customer_id + "/context");
      if (token !== state.loadToken) return;
      const before = state.latestCustomer && state.latestCustomer.interaction_id;
      applyCard(card);
      renderFilters();
      if (state.latestCustomer && state.latestCustomer.interaction_id !== before) await requestSuggestions();
      else renderSuggestions();
    } catch (_) { /* the next reconnect tries again */ }
  }

  function setLive(status) {
    const node = $("live");
    node.dataset.state = status;
    node.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…", refused: "signed out",
                         off: "offline" }[status] || status;
    document.body.dataset.live = status;
  }

  /* ---- sign in / out ---- */
  const NOTICE = "omnicopilot.notice";  // a message for the reloaded page (sessionStorage: this tab only)

  /* everywhere: the sign-out button, which forgets the key in every tab of this origin; else only this tab's key
     (refused by the server: the other tabs find out for themselves). */
  function signOut(message, { everywhere = false } = {}) {
    if (everywhere) window.OC.signOut();
    else window.OC.clearKey();
    live.stop();
    if (message) sessionStorage.setItem(NOTICE, message);
    location.replace(location.pathname + location.search);
  }

  function showNotice() {
    const notice = sessionStorage.getItem(NOTICE);
    if (!notice) return;
    sessionStorage.removeItem(NOTICE);
    toast(notice);
  }

  async function boot() {
    window.addEventListener("message", (event) => {
      if (!embedded || event.source !== window.parent || !originAllowed(event.origin)) return;
      const data = event.data;
      if (!data || typeof data !== "object" || data.type !== "omnicopilot.open" || typeof data.identity !== "string") return;
      state.hostOrigin = event.origin;
      state.hostInserts = data.insert !== false;
      if (state.who) openIdentity(data.identity).catch(() => {});
      else state.pendingIdentity = data.identity;
    });
    if (embedded) window.parent.postMessage({ type: "omnicopilot.ready" }, "*"); // carries nothing private
    window.OC.onSignedOut(() => signOut("Signed out in another tab."));
    setupSections();
    showNotice();

    state.who = await window.OC.ensureSignedIn($("signin"), { title: "Sign in to the sidebar" });
    $("workspace").hidden = false;
    $("search").hidden = false;
    $("skip").hidden = false;
    $("skip").addEventListener("click", (event) => { event.preventDefault(); $("q").focus(); });
    $("signout").hidden = false;
    $("signout").addEventListener("click", () => signOut("Signed out.", { everywhere: true }));
    $("search").addEventListener("submit", (event) => { event.preventDefault(); openFromSearch($("q").value); });
    $("more").addEventListener("click", () => loadOlder().catch((err) => toast(err.message)));
    live.start();
    const identity = state.pendingIdentity || new URLSearchParams(location.search).get("identity");
    const message = new URLSearchParams(location.hash.slice(1)).get("message");
    window.addEventListener("hashchange", () => {
      const target = new URLSearchParams(location.hash.slice(1)).get("message");
      if (target && state.customer) focusInteraction(target).catch((err) => toast(err.message));
    });
    if (identity) {
      $("q").value = identity;
      await openIdentity(identity, { keepHash: true, focus: message }).catch(() => {});
    } else if (!embedded) {
      $("q").focus();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    boot().catch((err) => toast(err.message));
  });
})();
