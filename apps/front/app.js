/* Front sidebar plugin: Front.contextUpdates gives the selected conversation; its recipient (the contact's
   handle, or the contact's own email/phone handles) is opened in the Omnicopilot sidebar. An inserted reply goes
   into the conversation's draft (context.updateDraft, mode "insert"), or a new reply draft to its latest message
   (context.createDraft) when there is none. */
"use strict";

(function () {
  const { mount, identity, setStatus } = window.OmnicopilotFrame;
  const status = document.getElementById("status");
  const Front = window.Front;
  if (!Front || window.parent === window) {
    setStatus(status, "Add this page to Front as a sidebar plugin: it reads the selected conversation from Front.");
    return;
  }
  const KINDS = { email: "email", phone: "phone", whatsapp: "phone" }; // Front's handle types that Omnicopilot knows
  let context = null;

  function conversationIdentity(conversation) {
    const recipient = conversation && conversation.recipient;
    if (!recipient) return null;
    const handles = [[KINDS[recipient.type], recipient.handle]];
    for (const h of (recipient.contact && recipient.contact.handles) || []) handles.push([KINDS[h.type], h.handle]);
    const usable = handles.filter(([kind]) => kind);
    // Email first, as the other apps do; then any phone-like handle.
    return identity([...usable.filter(([k]) => k === "email"), ...usable.filter(([k]) => k === "phone")]);
  }

  async function insert(text) {
    if (!context || context.type !== "singleConversation") throw new Error("select one conversation first");
    const content = { body: text, type: "text" };
    const draftId = context.conversation.draftId;
    if (draftId) return context.updateDraft(draftId, { updateMode: "insert", content });
    const messages = await context.listMessages();
    const latest = messages && messages.results && messages.results[messages.results.length - 1];
    const template = { content };
    if (latest) template.replyOptions = { type: "reply", originalMessageId: latest.id };
    return context.createDraft(template);
  }

  const sidebar = mount({ container: document.body, sidebarUrl: "/sidebar", status, onInsert: insert });

  Front.contextUpdates.subscribe((next) => {
    context = next;
    if (next.type !== "singleConversation") {
      setStatus(status, next.type === "multiConversations" ? "Select a single conversation." : "Select a conversation.");
      return;
    }
    const found = conversationIdentity(next.conversation);
    if (found) sidebar.open(found);
    else setStatus(status, "This conversation's contact has no email address or phone number to look up.");
  });
})();
