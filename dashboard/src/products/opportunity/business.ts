// Why a business scores what it does: the baseline plus each input's contribution along the forest's paths.
import { get, segment } from "../../api";
import { chart } from "../../charts";
import { el, field, fmt, link, run, stats, table } from "../../ui";
import type { PageModule } from "../types";
import { categoryBadge, locationLink, locations, noLocation, scoreLocation, words } from "./shared";
import type { Contribution, ExplanationResponse } from "./types";

const RAISES = "#2e7d32";
const LOWERS = "#c62828";

/** An input's value in its own units; the business type is named, not its index. */
function shown(contribution: Contribution, explanation: ExplanationResponse): string {
  switch (contribution.feature) {
    case "revenue": return fmt.inr(contribution.value);
    case "business_type": return words(explanation.business_type);
    case "inflation_rate": case "interest_rate": return fmt.percent(contribution.value / 100);
    case "age": return `${fmt.number(contribution.value, 1)} years`;
    default: return fmt.number(contribution.value, 2);
  }
}

/** The business of the largest location that scores best: what the page explains when none is asked for. */
async function firstBusiness(): Promise<string | null> {
  const all = await locations();
  if (!all.length) return null;
  const largest = [...all].sort((a, b) => b.business_count - a.business_count)[0];
  return (await scoreLocation(largest.location, 1)).results[0]?.business_id ?? null;
}

export const render: PageModule["render"] = async ({ params }) => {
  const asked = params.get("id") ?? (await firstBusiness());
  if (!asked) return noLocation("Business explanation");
  const id = el("input", { name: "business_id", value: asked, required: true, autocomplete: "off", pattern: "[A-Za-z0-9_.:\\-]+", maxlength: 64 });
  const body = el("div", { "aria-live": "polite" });
  const show = () => run(body, async (holder) => {
    const answer = await get<ExplanationResponse>(`/opportunities/businesses/${segment(id.value.trim())}/explanation`);
    const top = new Set(answer.top_contributions.map((c) => c.feature));
    holder.append(
      stats([["Business", answer.business_id], ["Location", locationLink(answer.location)], ["Type", words(answer.business_type)],
        ["Score", fmt.number(answer.opportunity_score, 1)], ["Category", categoryBadge(answer.category)], ["Model", answer.model_version]]),
      el("p", { class: "muted" }, `Baseline ${fmt.number(answer.baseline, 1)} (the mean training score) plus the contributions below makes ${fmt.number(answer.prediction, 1)}; the three largest are marked ★ and drawn solid.`),
      chart(`Contribution of each input to the opportunity score of ${answer.business_id}`, {
        tooltip: { trigger: "axis", valueFormatter: (v: number) => `${v > 0 ? "+" : ""}${fmt.number(v, 2)} points` },
        grid: { left: 8, right: 32, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value" },
        yAxis: { type: "category", inverse: true, data: answer.contributions.map((c) => `${top.has(c.feature) ? "★ " : ""}${words(c.feature)}`) },
        series: [{
          type: "bar", name: "contribution",
          data: answer.contributions.map((c) => ({ value: c.contribution, itemStyle: { color: c.contribution >= 0 ? RAISES : LOWERS, opacity: top.has(c.feature) ? 1 : 0.45 } })),
          label: { show: true, position: "right", formatter: (p: { value: number }) => `${p.value > 0 ? "+" : ""}${fmt.number(p.value, 1)}` },
        }],
      }, answer.contributions.length, 56 + 34 * answer.contributions.length),
      table(answer.contributions, [
        { title: "Input", value: (c) => words(c.feature), sort: (c) => c.feature },
        { title: "Value", value: (c) => shown(c, answer), numeric: true },
        { title: "Points", value: (c) => `${c.contribution > 0 ? "+" : ""}${fmt.number(c.contribution, 2)}`, numeric: true, sort: (c) => c.contribution },
      ]),
      el("p", {}, link(`/opportunity?location=${encodeURIComponent(answer.location)}`, `Every business of ${answer.location}`)));
  });
  const form = el("form", { class: "row" }, field("Business id", id), el("button", { type: "submit" }, "Explain"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/opportunity/business?id=${encodeURIComponent(id.value.trim())}`);
    void show();
  });
  void show();
  return el("div", {}, el("h1", {}, "Business explanation"), el("section", { class: "panel" }, form, body));
};
