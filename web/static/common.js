/* Shared by the sidebar and the console: the API key (sessionStorage only, never in a URL nor in localStorage),
   shared with this origin's other open tabs for the session, API calls with it, the sign-in form, display labels
   and small DOM helpers. Plain JS, no build step. */
"use strict";

(function () {
  const KEY = "omnicopilot.key";
  // How long a new tab waits for an open tab to hand it the key before it shows the sign-in form. A later answer
  // still signs it in; this only spares the usual case a flash of the form.
  const SHARE_WAIT_MS = 300;

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function key() {
    try { return sessionStorage.getItem(KEY); } catch (_) { return null; }
  }
  function setKey(value) { sessionStorage.setItem(KEY, value); }
  function clearKey() { sessionStorage.removeItem(KEY); }

  /* ---- the key across tabs ----
     sessionStorage is per tab, so a tab of this origin that has no key asks the others over a BroadcastChannel
     (same origin only, in memory, nothing written to disk): "key-wanted" is answered by each tab holding one with
     "key-offer"; a sign-in announces "signed-in" to tabs still at the form; "signed-out" clears the key everywhere.
     Without BroadcastChannel each tab simply signs in on its own. */
  const tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const bus = typeof BroadcastChannel === "function" ? new BroadcastChannel("omnicopilot.session") : null;
  const offerListeners = new Set();
  const signedOutHandlers = [];

  function post(message) { if (bus) bus.postMessage({ ...message, from: tabId }); }

  if (bus) {
    bus.addEventListener("message", (event) => {
      const msg = event.data;
      if (!msg || typeof msg !== "object" || msg.from === tabId) return;
      if (msg.type === "key-wanted" && key()) {
        bus.postMessage({ type: "key-offer", key: key(), to: msg.from, from: tabId });
      } else if ((msg.type === "key-offer" && msg.to === tabId) || msg.type === "signed-in") {
        if (!key() && typeof msg.key === "string") for (const listener of offerListeners) listener(msg.key);
      } else if (msg.type === "signed-out" && key()) {
        clearKey();
        if (signedOutHandlers.length) signedOutHandlers.forEach((handler) => handler());
        else location.reload();
      }
    });
  }

  /* Forget the key in this tab and in every other tab of this origin. */
  function signOut() {
    clearKey();
    post({ type: "signed-out" });
  }

  /* What a page does when another tab signs out (default: reload, which shows the sign-in form). */
  function onSignedOut(handler) { signedOutHandlers.push(handler); }

  async function api(path, { method = "GET", body, raw = false, apiKey } = {}) {
    const headers = { Authorization: "Bearer " + (apiKey || key() || "") };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
                                 cache: "no-store" });
    } catch (err) {
      throw new ApiError(0, "network", "The server cannot be reached. Check your connection.");
    }
    if (!resp.ok) {
      let code = "error", message = resp.statusText || "request failed";
      try {
        const data = await resp.json();
        if (data && data.error) { code = data.error.code; message = data.error.message; }
      } catch (_) { /* not JSON */ }
      throw new ApiError(resp.status, code, message);
    }
    if (raw) return resp;
    return resp.status === 204 ? null : resp.json();
  }

  /* el("div", {class: "x", onclick: fn}, child, "text", ...) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
      else if (name === "class") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else if (value === true) node.setAttribute(name, "");
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function formatTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const now = new Date();
    const sameYear = d.getFullYear() === now.getFullYear();
    return d.toLocaleString(undefined, { month: "short", day: "numeric", year: sameYear ? undefined : "numeric",
                                         hour: "2-digit", minute: "2-digit" });
  }

  function formatDate(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric", year: "numeric" });
  }

  function humanise(kind) {
    const text = String(kind || "").replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  let toastTimer = null;
  function toast(message) {
    const node = document.getElementById("toast");
    if (!node) return;
    node.textContent = message;
    node.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => node.classList.remove("show"), 3500);
  }

  /* Renders the sign-in form into `container`; resolves with the whoami answer once a key is accepted. */
  function signIn(container, { title, hint } = {}) {
    return new Promise((resolve) => {
      clear(container);
      const error = el("p", { class: "form-error", role: "alert", id: "signin-error" });
      const input = el("input", { type: "password", name: "api_key", id: "api_key", autocomplete: "off",
                                  spellcheck: "false", required: true, "aria-describedby": "signin-hint signin-error" });
      const button = el("button", { type: "submit", class: "primary" }, "Sign in");
      const form = el("form", { class: "signin-form", novalidate: true },
        el("h1", {}, title || "Sign in"),
        el("p", { class: "muted", id: "signin-hint" },
          hint || "Paste your Omnicopilot API key. This site's open tabs share it until you sign out or close them; "
            + "it is never saved to disk."),
        el("label", { for: "api_key" }, "API key"),
        input, error, button);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) { error.textContent = "Enter an API key."; input.focus(); return; }
        button.disabled = true;
        error.textContent = "";
        try {
          const who = await api("/v1/whoami", { apiKey: value });
          setKey(value);
          input.value = "";
          post({ type: "signed-in", key: value });
          resolve(who);
        } catch (err) {
          error.textContent = err.status === 401 ? "That key was not accepted. Check it and try again." : err.message;
          input.select();
        } finally {
          button.disabled = false;
        }
      });
      container.append(form);
      container.hidden = false;
      input.focus();
    });
  }

  /* The signed-in identity: the key this tab holds, else one another open tab hands over, else the sign-in form.
     `options.roles` (e.g. ["supervisor", "admin"]) makes a page pass over other tabs' keys of another role. */
  async function ensureSignedIn(container, options = {}) {
    if (key()) {
      try { return await api("/v1/whoami"); } catch (err) { if (err.status !== 401) throw err; clearKey(); }
    }
    const acceptable = (who) => !options.roles || options.roles.includes(who.role);
    return new Promise((resolve) => {
      let done = false, formShown = false;
      const finish = (who) => {
        if (done) return;
        done = true;
        offerListeners.delete(takeOffer);
        if (formShown) { container.hidden = true; clear(container); }
        resolve(who);
      };
      async function takeOffer(offered) {
        try {
          const who = await api("/v1/whoami", { apiKey: offered });
          if (!done && !key() && acceptable(who)) { setKey(offered); finish(who); }
        } catch (_) { /* a key that stopped working: keep waiting for another, or for the form */ }
      }
      offerListeners.add(takeOffer);
      post({ type: "key-wanted" });
      setTimeout(() => {
        if (done) return;
        formShown = true;
        signIn(container, options).then(finish);
      }, bus ? SHARE_WAIT_MS : 0);
    });
  }

  /* Display labels (labels.js, data): "SMS", "WhatsApp"; anything not listed is humanised. */
  function label(group, name) {
    const table = (window.OC_LABELS && window.OC_LABELS[group]) || {};
    return table[name] || humanise(name);
  }
  function channelLabel(channel) { return label("channel", channel); }

  window.OC = { ApiError, api, key, setKey, clearKey, signOut, onSignedOut, el, clear, formatTime, formatDate,
                humanise, label, channelLabel, toast, signIn, ensureSignedIn };
})();
