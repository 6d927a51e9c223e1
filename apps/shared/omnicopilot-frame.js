/* Bridges a helpdesk app page to the Omnicopilot sidebar it embeds, over the sidebar's host protocol:
   the sidebar says {type: "omnicopilot.ready"} when it boots, the page answers {type: "omnicopilot.open",
   identity: "KIND:VALUE", insert}, and the sidebar's Insert button sends {type: "omnicopilot.insert", text} back.
   A host that cannot take a reply (no `onInsert`) says `insert: false`: the sidebar then offers Copy only, rather
   than an Insert that could only pretend.
   One copy of this file serves every app; apps/zendesk/assets/ carries a byte-identical copy because a
   Zendesk app is uploaded as a zip of its own folder (tests/apps/test_manifests.py checks they match). */
"use strict";

(function () {
  /* "email:…" or "phone:…" for the first usable value, in the order the app prefers them. */
  function identity(candidates) {
    for (const [kind, value] of candidates) {
      const text = typeof value === "string" ? value.trim() : "";
      if (text) return kind + ":" + text;
    }
    return null;
  }

  function setStatus(node, text) {
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
  }

  /* Puts the sidebar in `container` and returns {open(identity)}; `onInsert(text)`, if given, hands a reply to
     the host. */
  function mount({ container, sidebarUrl, onInsert, status }) {
    const url = new URL(sidebarUrl, location.href);
    const origin = url.origin;
    const frame = document.createElement("iframe");
    frame.id = "omnicopilot";
    frame.title = "Omnicopilot sidebar";
    frame.className = "omnicopilot-frame";
    frame.setAttribute("allow", "clipboard-write");
    let ready = false;
    let wanted = null;

    function send() {
      if (ready && wanted) {
        frame.contentWindow.postMessage({ type: "omnicopilot.open", identity: wanted, insert: Boolean(onInsert) }, origin);
      }
    }

    // Listening before the frame loads: its "ready" must not be missed.
    window.addEventListener("message", (event) => {
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      const data = event.data;
      if (!data || typeof data !== "object") return;
      if (data.type === "omnicopilot.ready") {
        ready = true; // again after the sidebar reloads (sign-in, sign-out): the customer is sent again
        send();
      } else if (data.type === "omnicopilot.insert" && typeof data.text === "string" && onInsert) {
        Promise.resolve()
          .then(() => onInsert(data.text))
          .catch((err) => setStatus(status, "The reply could not be inserted: " + (err && err.message ? err.message : err)));
      }
    });
    frame.src = url.href;
    container.append(frame);

    return {
      open(next) {
        if (!next) return;
        setStatus(status, "");
        wanted = next;
        send();
      },
      frame,
    };
  }

  window.OmnicopilotFrame = { mount, identity, setStatus };
})();
