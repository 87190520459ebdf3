// The portfolio at a glance: customers by level and score band, interventions by status and channel.
import { get } from "../../api";
import { barOption, chart, LEVEL_COLOURS } from "../../charts";
import { onLive } from "../../live";
import { el, fmt, link, section, stats } from "../../ui";
import type { PageModule } from "../types";
import { LEVELS, type Metrics } from "./types";

function interventionCharts(metrics: Metrics): HTMLElement {
  const byStatus = Object.entries(metrics.interventions_by_status);
  const byChannel = Object.entries(metrics.interventions_by_channel);
  if (!byStatus.some(([, count]) => count > 0)) {
    return el("p", { class: "state empty" }, "No intervention has been sent yet: the simulator on the Interventions page sends one.");
  }
  return el("div", { class: "grid" },
    el("div", {}, el("h2", {}, "Interventions by status"),
      chart("Interventions by status", barOption(byStatus.map(([status]) => status), [{ name: "interventions", data: byStatus.map(([, n]) => n) }]), byStatus.length)),
    el("div", {}, el("h2", {}, "Interventions by channel"),
      chart("Interventions by channel", {
        tooltip: { trigger: "item" }, legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: byChannel.map(([name, value]) => ({ name, value })) }],
      }, byChannel.length)));
}

export const render: PageModule["render"] = () => {
  const alerts = el("ol", { class: "timeline", "aria-live": "polite" });
  const alertsPanel = el("section", { class: "panel" }, el("h2", {}, "Live: customers becoming high or critical"),
    el("p", { class: "muted" }, "Pushed over the WebSocket as scores change; nothing to reload."), alerts);
  const stop = onLive((message) => {
    if (!alertsPanel.isConnected) return stop();
    if (message.type !== "risk_score") return;
    alerts.prepend(el("li", {}, link(`/risk/customers?id=${encodeURIComponent(String(message.customer_id))}`, String(message.customer_id)),
      ` ${message.previous_level ?? "new"} → ${message.risk_level} (score ${fmt.number(message.risk_score as number, 1)})`));
  });
  return el("div", {}, el("h1", {}, "Risk portfolio"),
    section("Portfolio", async (body) => {
      const metrics = await get<Metrics>("/risk/metrics");
      const levels = LEVELS.map((level) => metrics.customers_by_level[level] ?? 0);
      const bands = Object.entries(metrics.customers_by_score_band);
      body.append(
        stats([
          ["Scored customers", fmt.number(metrics.scored_customers)],
          ["High or critical", fmt.number(levels[2] + levels[3])],
          ["Share high or critical", fmt.percent(metrics.scored_customers ? (levels[2] + levels[3]) / metrics.scored_customers : null)],
          ["Champion", metrics.model?.version ?? "—"],
          ["Interventions", metrics.interventions_enabled ? "enabled" : "disabled"],
        ]),
        el("div", { class: "grid" },
          el("div", {}, el("h2", {}, "Customers by risk level"),
            chart("Customers by risk level", barOption([...LEVELS], [{ name: "customers", data: levels, colour: LEVELS.map((l) => LEVEL_COLOURS[l]) }]), levels.length)),
          el("div", {}, el("h2", {}, "Score distribution"),
            chart("Customers per 10-point score band", barOption(bands.map(([band]) => band), [{ name: "customers", data: bands.map(([, n]) => n), colour: "#1f5fbf" }]), bands.length))),
        interventionCharts(metrics));
    }),
    alertsPanel);
};
