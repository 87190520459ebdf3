// Opportunity scores and categories across every location: the whole picture, then by business type and by city.
import type { EChartsCoreOption } from "echarts/core";
import { barOption, chart } from "../../charts";
import { el, fmt, section, stats } from "../../ui";
import type { PageModule } from "../types";
import { categoryCounts, categoryPie, portfolio, scoreHistogram, topDown, words, type LocatedBusiness } from "./shared";
import { CATEGORIES, CATEGORY_COLOURS } from "./types";

function groupBy(businesses: LocatedBusiness[], key: (b: LocatedBusiness) => string): Map<string, LocatedBusiness[]> {
  const groups = new Map<string, LocatedBusiness[]>();
  for (const business of businesses) {
    const name = key(business);
    groups.set(name, [...(groups.get(name) ?? []), business]);
  }
  return groups;
}

/** A bar option whose series pile up into one bar per category. */
const stacked = (option: EChartsCoreOption) => ({ ...option, series: (option.series as object[]).map((s) => ({ ...s, stack: "total" })) });

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

export const render: PageModule["render"] = () =>
  el("div", {}, el("h1", {}, "Opportunity distributions"),
    section("Every location", async (body) => {
      const { locations, businesses, modelVersion } = await portfolio();
      if (!businesses.length) {
        body.append(el("p", { class: "state empty" }, "No business is stored yet."));
        return;
      }
      const counts = categoryCounts(businesses);
      const cityOf = new Map(locations.map((l) => [l.location, l.city]));
      const byType = [...groupBy(businesses, (b) => b.business_type)].map(([type, list]) => ({ type, mean: mean(list.map((b) => b.opportunity_score)) }))
        .sort((a, b) => b.mean - a.mean);
      const byCity = [...groupBy(businesses, (b) => cityOf.get(b.location) ?? b.location)].sort((a, b) => a[0].localeCompare(b[0]));
      body.append(
        stats([["Locations", fmt.number(locations.length)], ["Businesses", fmt.number(businesses.length)],
          ["Mean score", fmt.number(mean(businesses.map((b) => b.opportunity_score)), 1)],
          ["High", fmt.percent(counts.high / businesses.length)], ["Model", modelVersion]]),
        el("div", { class: "grid" },
          el("div", {}, el("h2", {}, "Opportunity scores"), scoreHistogram("Businesses per 5-point opportunity score band, every location", businesses)),
          el("div", {}, el("h2", {}, "Categories"), categoryPie("Businesses per category, every location", counts, 280))),
        el("div", { class: "grid" },
          el("div", {}, el("h2", {}, "Mean score by business type"),
            chart("Mean opportunity score per business type", topDown(barOption(byType.map((t) => words(t.type)),
              [{ name: "mean score", data: byType.map((t) => Number(t.mean.toFixed(1))), colour: "#1f5fbf" }], true)), byType.length, 300)),
          el("div", {}, el("h2", {}, "Categories by city"),
            chart("Businesses per category in each city", topDown(stacked(barOption(byCity.map(([city]) => city), CATEGORIES.map((category) => ({
              name: category, data: byCity.map(([, list]) => list.filter((b) => b.category === category).length), colour: CATEGORY_COLOURS[category],
            })), true))), byCity.length, 300))));
    }));
