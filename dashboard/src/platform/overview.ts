// Every product at a glance: champion, held-out headline metric, drift status and last retrain.
import { ApiError, get, segment } from "../api";
import { barOption, chart } from "../charts";
import { PRODUCT_PAGES } from "../products";
import type { PageModule } from "../products/types";
import { badge, el, fmt, link, section, table } from "../ui";
import type { DriftReport, ProductModel, VersionHistory } from "./types";

interface Glance {
  model: ProductModel;
  drift: DriftReport | null;
  history: VersionHistory;
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

export const render: PageModule["render"] = () =>
  el("div", {},
    el("h1", {}, "Overview"),
    section("Products", async (body) => {
      const { models } = await get<{ models: ProductModel[] }>("/models");
      const glances = await Promise.all(models.map(glance));
      body.append(table(glances, [
        { title: "Product", value: (g) => link(homeOf(g.model.product), g.model.product), sort: (g) => g.model.product },
        { title: "Champion", value: (g) => g.model.champion_version ?? badge("none", "alert") },
        { title: "Headline metric (held out)", value: (g) => (g.model.primary_metric ? `${g.model.primary_metric} ${fmt.number(g.model.primary_value, 3)}` : "—") },
        { title: "Drift", value: (g) => (g.drift ? el("span", {}, badge(g.drift.status), " ", el("span", { class: "muted" }, `max PSI ${fmt.number(g.drift.max_psi, 3)}`)) : el("span", { class: "muted" }, "no report yet")) },
        { title: "Last retrain", value: (g) => fmt.time(g.history.versions[0]?.created_at), sort: (g) => g.history.versions[0]?.created_at ?? "" },
        { title: "Versions", value: (g) => link(`/models/${g.model.product}`, String(g.history.versions.length)), numeric: true, sort: (g) => g.history.versions.length },
      ], "No product is registered yet: train one with make run."));
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
