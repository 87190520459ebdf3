// Every product at a glance: champion, held-out headline metric, drift status, last retrain and traffic.
import { ApiError, get, segment } from "../api";
import { barOption, chart } from "../charts";
import { PRODUCT_PAGES } from "../products";
import type { PageModule } from "../products/types";
import { badge, el, empty, fmt, link, section, table } from "../ui";
import { activity, periodLabel, WINDOWS } from "./activity";
import type { ActivityResponse, DriftReport, ProductActivity, ProductModel, VersionHistory } from "./types";

interface Glance {
  model: ProductModel;
  drift: DriftReport | null;
  history: VersionHistory;
  traffic?: ProductActivity;
}

async function glance(model: ProductModel): Promise<Glance> {
  const [history, drift] = await Promise.all([
    get<VersionHistory>(`/models/${segment(model.product)}/versions`),
    get<DriftReport>(`/models/${segment(model.product)}/drift`).catch((error) => {
      // No drift report yet is a state to show, not a failure.
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }),
  ]);
  return { model, drift, history };
}

const homeOf = (product: string) => PRODUCT_PAGES.find((entry) => entry.product === product)?.pages[0]?.path ?? `/models/${product}`;

/** Requests per hour of every product, stacked, with the errors among them; an empty state without traffic. */
function trafficChart(traffic: ActivityResponse): HTMLElement {
  const served = traffic.products.filter((p) => p.totals.requests > 0 || p.totals.records > 0);
  if (!served.length) {
    return empty("No requests in the last 48 hours yet. Counts reach this page within a minute of a call.");
  }
  const periods = traffic.products[0].series.map((entry) => periodLabel(entry.period, "hour"));
  const errors = traffic.products[0].series.map((_, index) =>
    traffic.products.reduce((sum, p) => sum + p.series[index].client_errors + p.series[index].server_errors, 0));
  return chart(`API requests per hour of each product, ${WINDOWS.hour.text.toLowerCase()}`, {
    tooltip: { trigger: "axis" },
    legend: { type: "scroll" },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: periods, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", name: "requests", minInterval: 1 },
    series: [
      ...served.map((p) => ({ type: "bar", stack: "requests", name: p.product, data: p.series.map((entry) => entry.requests) })),
      { type: "line", name: "of which errors", data: errors, symbol: "none", lineStyle: { type: "dashed" }, itemStyle: { color: "#c62828" } },
    ],
  }, served.reduce((sum, p) => sum + p.series.filter((entry) => entry.requests > 0).length, 0));
}

export const render: PageModule["render"] = () =>
  el("div", {},
    el("h1", {}, "Overview"),
    section("Products", async (body) => {
      const [{ models }, traffic] = await Promise.all([get<{ models: ProductModel[] }>("/models"), activity("hour")]);
      const trafficOf = new Map(traffic.products.map((p) => [p.product, p]));
      const glances = (await Promise.all(models.map(glance))).map((g) => ({ ...g, traffic: trafficOf.get(g.model.product) }));
      const last24 = (g: Glance) => (g.traffic?.series ?? []).slice(-24);
      const requests24 = (g: Glance) => last24(g).reduce((sum, entry) => sum + entry.requests, 0);
      const errors24 = (g: Glance) => last24(g).reduce((sum, entry) => sum + entry.client_errors + entry.server_errors, 0);
      const records24 = (g: Glance) => last24(g).reduce((sum, entry) => sum + entry.records, 0);
      body.append(table(glances, [
        { title: "Product", value: (g) => link(homeOf(g.model.product), g.model.product), sort: (g) => g.model.product },
        { title: "Champion", value: (g) => g.model.champion_version ?? badge("none", "alert") },
        { title: "Headline metric (held out)", value: (g) => (g.model.primary_metric ? `${g.model.primary_metric} ${fmt.number(g.model.primary_value, 3)}` : "—") },
        { title: "Drift", value: (g) => (g.drift ? el("span", {}, badge(g.drift.status), " ", el("span", { class: "muted" }, `max PSI ${fmt.number(g.drift.max_psi, 3)}`)) : el("span", { class: "muted" }, "no report yet")) },
        { title: "Last retrain", value: (g) => fmt.time(g.history.versions[0]?.created_at), sort: (g) => g.history.versions[0]?.created_at ?? "" },
        { title: "Versions", value: (g) => link(`/models/${g.model.product}`, String(g.history.versions.length)), numeric: true, sort: (g) => g.history.versions.length },
        { title: "Requests (24 h)", value: (g) => fmt.number(requests24(g)), numeric: true, sort: requests24 },
        { title: "Errors (24 h)", value: (g) => (errors24(g) ? badge(fmt.number(errors24(g)), "warn") : "0"), numeric: true, sort: errors24 },
        { title: "Records scored (24 h)", value: (g) => fmt.number(records24(g)), numeric: true, sort: records24 },
      ], "No product is registered yet: train one with make run."));
      body.append(el("h2", {}, "Traffic"), trafficChart(traffic), el("p", { class: "muted" }, traffic.note));
      // Metrics differ by product (AUC, accuracy, MAE) and are not comparable on one axis: the chart shows
      // what each product's registry holds instead.
      const statuses = [...new Set(glances.flatMap((g) => g.history.versions.map((v) => v.status)))].sort();
      if (statuses.length) {
        body.append(el("h2", {}, "Registered versions by status"),
          chart("Registered model versions of each product, by status", {
            ...barOption(glances.map((g) => g.model.product), statuses.map((status) => ({
              name: status, data: glances.map((g) => g.history.versions.filter((v) => v.status === status).length),
            })), true),
          }, glances.length * statuses.length, 60 + 40 * glances.length));
      }
    }));
