/* Shared by the sidebar and the console: the API key (sessionStorage only, never in a URL),
   API calls with it, the sign-in form, and small DOM helpers. Plain JS, no build step. */
"use strict";

(function () {
  const KEY = "omnicopilot.key";

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
          hint || "Paste your Omnicopilot API key. It stays in this browser tab only and is forgotten when you close it."),
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

  /* The signed-in identity, asking for a key when none is held or the held one stopped working. */
  async function ensureSignedIn(container, options) {
    if (key()) {
      try { return await api("/v1/whoami"); } catch (err) { if (err.status !== 401) throw err; clearKey(); }
    }
    const who = await signIn(container, options);
    container.hidden = true;
    clear(container);
    return who;
  }

  window.OC = { ApiError, api, key, setKey, clearKey, el, clear, formatTime, formatDate, humanise, toast,
                signIn, ensureSignedIn };
})();
