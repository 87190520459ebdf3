// The portfolio at a glance: customers by level and score band, the score trend, interventions by status and channel.
import { get } from "../../api";
import { barOption, chart, LEVEL_COLOURS } from "../../charts";
import { onLive } from "../../live";
import { activity, periodLabel, WINDOWS, type Window } from "../../platform/activity";
import { el, empty, field, fmt, link, run, section, select, stats } from "../../ui";
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

/** Records scored per period by level (bars) and their mean risk score (line): online and batch scoring alike. */
async function trend(body: HTMLElement, by: Window): Promise<void> {
  const { products, note } = await activity(by, "risk");
  const series = products[0]?.series ?? [];
  const scored = series.filter((entry) => entry.records > 0).length;
  if (!scored) {
    body.append(empty(`No risk score was made in the ${WINDOWS[by].text.toLowerCase().replace(/, by .*/, "")}: the scores above are the ones stored with the customers. Scores made through the API, by transaction rescoring and in batch files show here within a minute.`));
    return;
  }
  body.append(chart(`Risk scores made per ${by} by level, with their mean score`, {
    tooltip: { trigger: "axis" },
    legend: { type: "scroll" },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: series.map((entry) => periodLabel(entry.period, by)), axisLabel: { hideOverlap: true } },
    yAxis: [
      { type: "value", name: "scores", minInterval: 1 },
      { type: "value", name: "mean score", min: 0, max: 100, splitLine: { show: false } },
    ],
    series: [
      ...LEVELS.map((level) => ({
        type: "bar", stack: "levels", name: level, itemStyle: { color: LEVEL_COLOURS[level] },
        data: series.map((entry) => entry.counts.risk_level?.[level] ?? 0),
      })),
      {
        type: "line", name: "mean risk score", yAxisIndex: 1, connectNulls: false, itemStyle: { color: "#1f5fbf" },
        data: series.map((entry) => (entry.records ? Number((entry.means.risk_score ?? NaN).toFixed(1)) : null)),
      },
    ],
  }, scored), el("p", { class: "muted" }, note));
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
    section("Score trend", (body) => {
      const period = select("trend-window", Object.entries(WINDOWS).map(([by, { text }]) => [by, text]), "hour");
      const figure = el("div");
      period.addEventListener("change", () => void run(figure, (holder) => trend(holder, period.value as Window)));
      body.append(field("Window", period), figure);
      void run(figure, (holder) => trend(holder, "hour"));
    }),
    alertsPanel);
};
