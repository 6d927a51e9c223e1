/* Chatwoot dashboard app: Chatwoot posts the conversation context to this frame as a JSON string
   {"event": "appContext", "data": {"conversation", "contact", "currentAgent"}} when the frame loads, and again
   whenever the frame asks with the string "chatwoot-dashboard-app:fetch-info". The contact is opened in the
   Omnicopilot sidebar by email, else phone number. Chatwoot gives dashboard apps no way to write into its reply
   box, so the app mounts the sidebar without an insert handler: the sidebar offers Copy, and the agent pastes. */
"use strict";

(function () {
  const { mount, identity, setStatus } = window.OmnicopilotFrame;
  const status = document.getElementById("status");
  const FETCH_INFO = "chatwoot-dashboard-app:fetch-info";

  const sidebar = mount({ container: document.body, sidebarUrl: "/sidebar", status });

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
