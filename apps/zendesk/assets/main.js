/* Zendesk Support ticket sidebar: opens the ticket's requester in the Omnicopilot sidebar and puts the reply the
   agent inserts there into the ticket editor (ZAF: client.get('ticket.requester'),
   client.invoke('ticket.editor.insert', html)). */
"use strict";

(function () {
  const { mount, identity, setStatus } = window.OmnicopilotFrame;
  const status = document.getElementById("status");
  const client = window.ZAFClient && window.ZAFClient.init();
  if (!client) {
    setStatus(status, "Open this page from Zendesk Support: it is the ticket sidebar of the Omnicopilot app.");
    return;
  }

  /* The requester's email, else an email or phone number among their identities (ZAF user object). */
  function requesterIdentity(user) {
    if (!user) return null;
    const identities = Array.isArray(user.identities) ? user.identities : [];
    const first = (type) => (identities.find((i) => i && i.type === type && i.value) || {}).value;
    return identity([["email", user.email], ["email", first("email")], ["phone", first("phone_number")]]);
  }

  /* ticket.editor.insert takes HTML: the reply is plain text, so it is escaped and its line breaks kept. */
  function asEditorHtml(text) {
    const escaped = text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
    return escaped.replace(/\r?\n/g, "<br>");
  }

  client.metadata().then((meta) => {
    const base = String((meta && meta.settings && meta.settings.omnicopilot_url) || "").trim().replace(/\/+$/, "");
    if (!/^https?:\/\//i.test(base)) {
      setStatus(status, "Set the Omnicopilot URL in this app's settings (Admin Center → Apps and integrations → Zendesk Support apps).");
      return;
    }
    const sidebar = mount({
      container: document.body, sidebarUrl: base + "/sidebar", status,
      onInsert: (text) => client.invoke("ticket.editor.insert", asEditorHtml(text)),
    });
    client.invoke("resize", { width: "100%", height: "640px" }).catch(() => {}); // a size hint only
    client.get("ticket.requester").then((data) => {
      const found = requesterIdentity(data && data["ticket.requester"]);
      if (found) sidebar.open(found);
      else setStatus(status, "The requester has no email address or phone number to look up.");
    }, (err) => setStatus(status, "Zendesk did not give the requester: " + (err && err.message ? err.message : err)));
  });
})();
