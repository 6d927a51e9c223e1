/* Chatwoot dashboard app: Chatwoot posts the conversation context to this frame as a JSON string
   {"event": "appContext", "data": {"conversation", "contact", "currentAgent"}} when the frame loads, and again
   whenever the frame asks with the string "chatwoot-dashboard-app:fetch-info". The contact is opened in the
   Omnicopilot sidebar by email, else phone number. Chatwoot gives dashboard apps no way to write into its reply
   box, so an inserted reply is put on the clipboard for the agent to paste. */
"use strict";

(function () {
  const { mount, identity, setStatus } = window.OmnicopilotFrame;
  const status = document.getElementById("status");
  const FETCH_INFO = "chatwoot-dashboard-app:fetch-info";

  function copy(text) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
    area.remove();
    if (!ok && navigator.clipboard) return navigator.clipboard.writeText(text).then(() => true, () => false);
    return Promise.resolve(ok);
  }

  const sidebar = mount({
    container: document.body, sidebarUrl: "/sidebar", status,
    onInsert: (text) => copy(text).then((ok) => setStatus(status, ok
      ? "Reply copied: paste it into the Chatwoot reply box."
      : "Chatwoot cannot take the reply directly: select it in the sidebar and copy it.")),
  });

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || typeof event.data !== "string") return;
    let message;
    try { message = JSON.parse(event.data); } catch (_) { return; }
    if (!message || message.event !== "appContext" || !message.data) return;
    const contact = message.data.contact || {};
    const found = identity([["email", contact.email], ["phone", contact.phone_number]]);
    if (found) sidebar.open(found);
    else setStatus(status, "This contact has no email address or phone number to look up.");
  });

  // The context Chatwoot sent on load may have arrived before this script ran: ask for it.
  if (window.parent !== window) window.parent.postMessage(FETCH_INFO, "*");
  else setStatus(status, "Add this page to Chatwoot as a dashboard app: it reads the open conversation from Chatwoot.");
})();
