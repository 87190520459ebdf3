// What would be recommended to a customer like this one: the profile form is the API's own request schema.
import { post } from "../../api";
import { chart } from "../../charts";
import { requestSchema, schemaFields } from "../../forms";
import { el, fmt, run, section, stats, table } from "../../ui";
import type { PageModule } from "../types";

interface Recommendation {
  cluster: number;
  segment: string;
  financial_health_score: number;
  income_tier: string;
  recommendations: Record<string, string | null>;
  confidence_scores: Record<string, number>;
  withheld: Record<string, string>;
  model_version: string;
}

export const render: PageModule["render"] = () =>
  el("div", {}, el("h1", {}, "What if"),
    section("Customer profile", async (body) => {
      const form = schemaFields(await requestSchema("CustomerProfile"));
      const answer = el("div", { "aria-live": "polite" });
      const element = el("form", {}, form.element, el("button", { type: "submit" }, "Recommend"));
      const ask = () => run(answer, async (holder) => {
        const result = await post<Recommendation>("/recommendations", form.values());
        const categories = Object.keys(result.confidence_scores);
        holder.append(
          el("h2", {}, "Recommendations"),
          stats([["Segment", result.segment], ["Financial health", fmt.number(result.financial_health_score, 1)], ["Income tier", result.income_tier], ["Model", result.model_version]]),
          table(categories, [
            { title: "Category", value: (c) => c.replace(/_/g, " ") },
            { title: "Recommended", value: (c) => result.recommendations[c] ?? el("span", { class: "muted" }, `withheld: ${result.withheld[c] ?? "already held"}`) },
            { title: "Confidence", value: (c) => fmt.percent(result.confidence_scores[c]), numeric: true },
          ]),
          chart("Confidence per category", {
            tooltip: { trigger: "axis" }, grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
            xAxis: { type: "value", min: 0, max: 1 }, yAxis: { type: "category", data: categories.map((c) => c.replace(/_/g, " ")) },
            series: [{ type: "bar", data: categories.map((c) => ({ value: result.confidence_scores[c], itemStyle: { color: result.recommendations[c] ? "#2e7d32" : "#9e9e9e" } })) }],
          }, categories.length, 200));
      });
      element.addEventListener("submit", (event) => { event.preventDefault(); void ask(); });
      body.append(element, answer);
      void ask();
    }));
