// Every business scored, filtered by city, type and category, in a table sorted by any column.
import { chart } from "../../charts";
import { el, field, fmt, run, select, table } from "../../ui";
import type { PageModule } from "../types";
import { businessColumns, portfolio, scrolling, words } from "./shared";
import { CATEGORIES, CATEGORY_COLOURS } from "./types";

const options = (values: string[], all: string, label = (v: string) => v): [string, string][] => [["", all], ...values.map((v): [string, string] => [v, label(v)])];

export const render: PageModule["render"] = async ({ params }) => {
  const scored = await portfolio();
  // Best first until a column's title is clicked.
  const byScore = [...scored.businesses].sort((a, b) => b.opportunity_score - a.opportunity_score);
  const cityOf = new Map(scored.locations.map((l) => [l.location, l.city]));
  const cities = [...new Set(scored.locations.map((l) => l.city))].sort();
  const types = [...new Set(scored.businesses.map((b) => b.business_type))].sort();
  const city = select("city", options(cities, "every city"), params.get("city") ?? "");
  const kind = select("business_type", options(types, "every type", words), params.get("type") ?? "");
  const category = select("category", options([...CATEGORIES], "every category"), params.get("category") ?? "");
  const body = el("div", { "aria-live": "polite" });
  const show = () => run(body, (holder) => {
    const rows = byScore.filter((b) => (!city.value || cityOf.get(b.location) === city.value) &&
      (!kind.value || b.business_type === kind.value) && (!category.value || b.category === category.value));
    if (!rows.length) {
      holder.append(el("p", { class: "state empty" }, scored.businesses.length ? "No business matches these filters." : "No business is stored yet."));
      return;
    }
    holder.append(
      el("p", { class: "muted" }, `${fmt.number(rows.length)} of ${fmt.number(scored.businesses.length)} businesses; model ${scored.modelVersion}. Click a column's title to sort by it.`),
      el("h2", {}, "Score against annual revenue"),
      chart("Opportunity score against annual revenue, one point per business", {
        tooltip: { trigger: "item", formatter: (p: { data: [number, number, string] }) => `${p.data[2]}<br>${fmt.inr(p.data[0])} · score ${fmt.number(p.data[1], 1)}` },
        legend: { top: 0 }, grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "log", axisLabel: { hideOverlap: true, formatter: (v: number) => fmt.inr(v) } },
        yAxis: { type: "value", name: "score", min: 0, max: 100 },
        series: CATEGORIES.map((name) => ({
          type: "scatter", name, symbolSize: 6, itemStyle: { color: CATEGORY_COLOURS[name], opacity: 0.75 },
          data: rows.filter((b) => b.category === name).map((b) => [b.revenue, b.opportunity_score, b.business_id]),
        })),
      }, rows.length, 300),
      scrolling(table(rows, businessColumns(true)), "Businesses"));
  });
  const refresh = () => {
    const query = new URLSearchParams(Object.entries({ city: city.value, type: kind.value, category: category.value }).filter(([, v]) => v));
    history.replaceState(null, "", `/opportunity/businesses${query.size ? `?${query}` : ""}`);
    void show();
  };
  for (const control of [city, kind, category]) control.addEventListener("change", refresh);
  void show();
  return el("div", {}, el("h1", {}, "Businesses"),
    el("section", { class: "panel" }, el("div", { class: "row" }, field("City", city), field("Business type", kind), field("Category", category)), body));
};
