// The intervention simulator (pick a customer, channel and language; preview; send; watch the status move
// live over the WebSocket) and the outbox of every intervention.
import { get, post } from "../../api";
import { onLive, type LiveMessage } from "../../live";
import { badge, describeError, el, field, fmt, link, run, select, table } from "../../ui";
import type { PageModule } from "../types";
import type { Intervention } from "./types";

interface Preview {
  text: string;
  subject: string | null;
  characters: number;
  encoding: string | null;
  segments: number | null;
  risk_level: string;
}

function tracker(intervention: Intervention): HTMLElement {
  const status = el("span", { "data-status": intervention.status }, badge(intervention.status));
  const steps = el("ol", { class: "timeline" }, ...intervention.history.map((h) => el("li", {}, `${h.status} at ${fmt.time(h.at)}`)));
  const panel = el("div", { class: "panel", "data-intervention": intervention.intervention_id },
    el("h2", {}, "Sent for delivery"),
    el("p", {}, `Intervention ${intervention.intervention_id} to ${intervention.destination} (${intervention.channel}, ${intervention.language}): `, status),
    el("p", { class: "muted" }, "Its status moves here as delivery reports it, over the WebSocket."), steps);
  const stop = onLive((message: LiveMessage) => {
    if (!panel.isConnected) return stop();
    if (message.type !== "intervention" || message.intervention_id !== intervention.intervention_id) return;
    const next = String(message.status);
    if (next === status.dataset.status) return; // the creation itself, already listed
    status.dataset.status = next;
    status.replaceChildren(badge(next));
    steps.append(el("li", {}, `${next} at ${fmt.time(String(message.updated_at ?? new Date().toISOString()))} (live)`));
  });
  return panel;
}

function simulator(customer: string): HTMLElement {
  const id = el("input", { name: "customer_id", value: customer, required: true, autocomplete: "off", pattern: "[A-Za-z0-9_\\-]+" });
  const channel = select("channel", [["sms", "SMS"], ["email", "Email"], ["app", "App push"]], "sms");
  const language = select("language", [["en", "English"], ["hi", "हिन्दी (Hindi)"]], "en");
  const preview = el("div", { "aria-live": "polite" });
  const sent = el("div");
  const send = el("button", { type: "button", disabled: true }, "Send");
  const form = el("form", {}, el("div", { class: "form-grid" }, field("Customer id", id), field("Channel", channel), field("Language", language)),
    el("div", { class: "row" }, el("button", { type: "submit", class: "secondary" }, "Preview message"), send));
  const body = () => ({ customer_id: id.value.trim(), channel: channel.value, language: language.value });
  for (const control of [id, channel, language]) control.addEventListener("change", () => { send.disabled = true; });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void run(preview, async (holder) => {
      const message = await post<Preview>("/risk/messages", body());
      holder.append(
        el("h2", {}, "Preview"),
        message.subject ? el("p", {}, el("strong", {}, message.subject)) : "",
        el("p", { class: "message-preview", lang: language.value }, message.text),
        el("p", { class: "muted", "data-segments": message.segments ?? "" },
          `${fmt.number(message.characters)} characters`, message.encoding ? ` · ${message.encoding}` : "",
          message.segments !== null ? ` · ${message.segments} SMS segment${message.segments === 1 ? "" : "s"}` : "",
          ` · written for level ${message.risk_level}`));
      send.disabled = false;
    });
  });
  send.addEventListener("click", async () => {
    send.disabled = true;
    sent.replaceChildren(el("p", { class: "state loading", role: "status" }, "Sending…"));
    try {
      const intervention = await post<Intervention>("/risk/interventions", body(), { headers: { "Idempotency-Key": crypto.randomUUID() } });
      sent.replaceChildren(tracker(intervention));
    } catch (error) {
      sent.replaceChildren(el("p", { class: "state error", role: "alert" }, `Not sent: ${describeError(error)}`));
      send.disabled = false;
    }
  });
  return el("div", {}, el("section", { class: "panel" }, el("h2", {}, "Simulator"), form, preview), sent);
}

function outbox(): HTMLElement {
  const body = el("div");
  const show = () => run(body, async (holder) => {
    const page = await get<{ interventions: Intervention[] }>("/risk/interventions", { limit: 25 });
    holder.append(table(page.interventions, [
      { title: "Created", value: (i) => fmt.time(i.created_at), sort: (i) => i.created_at },
      { title: "Customer", value: (i) => link(`/risk/customers?id=${encodeURIComponent(i.customer_id)}`, i.customer_id) },
      { title: "Channel", value: (i) => i.channel, sort: (i) => i.channel },
      { title: "Trigger", value: (i) => i.trigger },
      { title: "Status", value: (i) => el("span", { "data-outbox-status": i.intervention_id }, badge(i.status)), sort: (i) => i.status },
      { title: "To", value: (i) => i.destination },
      { title: "Message", value: (i) => i.message.length > 90 ? `${i.message.slice(0, 90)}…` : i.message },
    ], "No intervention has been sent yet."));
  });
  const panel = el("section", { class: "panel" }, el("h2", {}, "Outbox"), body);
  const stop = onLive((message) => {
    if (!panel.isConnected) return stop();
    if (message.type !== "intervention") return;
    const cell = body.querySelector(`[data-outbox-status="${CSS.escape(String(message.intervention_id))}"]`);
    if (cell) cell.replaceChildren(badge(String(message.status)));
    else void show();
  });
  void show();
  return panel;
}

export const render: PageModule["render"] = async ({ params }) => {
  // Without a customer asked for, the riskiest one: who an operator would contact first.
  const customer = params.get("customer") ??
    (await get<{ customers: { customer_id: string }[] }>("/risk/high-risk", { min_level: "high", limit: 1 })).customers[0]?.customer_id ?? "";
  return el("div", {}, el("h1", {}, "Interventions"), simulator(customer), outbox());
};
