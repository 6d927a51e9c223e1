/* Display labels for the pages: data, not code. common.js reads them through OC.label(group, key) and falls back
   to a humanised key for anything not listed. Fact kinds are the engine's (copilot/engine/offline/kinds.py);
   `ids` lists its identifier kinds (ID_KINDS there), which the sidebar's one-line state quotes. */
"use strict";

window.OC_LABELS = {
  channel: {
    email: "Email", chat: "Chat", sms: "SMS", whatsapp: "WhatsApp", social: "Social", voice: "Voice",
    ticket: "Ticket",
  },
  fact: {
    order_id: "Order", account_number: "Account", member_id: "Member ID", booking_ref: "Booking",
    ticket_id: "Ticket", case_id: "Case", tracking_number: "Tracking", claim_number: "Claim", rma: "RMA",
    invoice_number: "Invoice", meter: "Meter", policy_number: "Policy", prescription: "Prescription",
    reference: "Reference", refund_ref: "Refund ref.", serial_number: "Serial no.", imei: "IMEI",
    work_order: "Work order", dispute_id: "Dispute", patient_id: "Patient ID", payment_ref: "Payment ref.",
    quote_id: "Quote", sku: "SKU", flight: "Flight", last4: "Card", masked_number: "Card number", email: "Email",
    phone: "Phone", address: "Address", amount: "Amount", date: "Date", version: "Version", device: "Device",
    organisation: "Organisation", person: "Person", rate: "Rate", code: "Code", condition: "Needs",
    medication: "Medication", tried: "Already tried", action: "Agent did", description: "Described",
    product: "Product", quantity: "Quantity",
  },
  open: { waiting_for: "Waiting for", promise: "Promised", request: "Asked them", action: "To do",
          tried: "Already tried" },
  role: { customer: "Customer", agent: "Agent", bot: "Bot", system: "System" },
  ids: [
    "order_id", "account_number", "member_id", "booking_ref", "ticket_id", "case_id", "tracking_number",
    "claim_number", "rma", "invoice_number", "meter", "policy_number", "prescription", "reference", "refund_ref",
    "serial_number", "imei", "work_order", "dispute_id", "patient_id", "payment_ref", "quote_id", "sku", "flight",
  ],
};
