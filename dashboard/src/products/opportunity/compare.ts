// Locations side by side: mean and top scores, categories and sentiment of each location chosen.
import { post } from "../../api";
import { barOption, chart } from "../../charts";
import { requestSchema } from "../../forms";
import { el, fmt, run, stats, table } from "../../ui";
import type { PageModule } from "../types";
import { economyStats, explanationLink, locationLink, locations, noLocation, topDown, words } from "./shared";
import { CATEGORIES, CATEGORY_COLOURS, type CompareResponse } from "./types";

// Chosen when the page opens without a choice: the largest locations.
const FIRST_CHOICE = 4;

export const render: PageModule["render"] = async ({ params }) => {
  const [all, schema] = await Promise.all([locations(), requestSchema("CompareRequest")]);
  if (!all.length) return noLocation("Compare locations");
  const most = (schema.properties.locations as { maxItems?: number }).maxItems ?? FIRST_CHOICE;
  const asked = params.get("locations")?.split("|").filter(Boolean) ??
    [...all].sort((a, b) => b.business_count - a.business_count).slice(0, FIRST_CHOICE).map((l) => l.location);
  const boxes = all.map((l) => el("input", { type: "checkbox", name: "location", value: l.location, checked: asked.includes(l.location) }));
  const body = el("div", { "aria-live": "polite" });
  const show = () => run(body, async (holder) => {
    const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
    if (!chosen.length || chosen.length > most) {
      holder.append(el("p", { class: "state empty", role: "alert" }, `Choose between 1 and ${most} locations to compare (${chosen.length} chosen).`));
      return;
    }
    const answer = await post<CompareResponse>("/opportunities/compare", { locations: chosen });
    const rows = answer.locations;
    const names = rows.map((r) => r.location);
    holder.append(
      stats([["Locations", fmt.number(rows.length)], ...economyStats(answer.economic_context), ["Model", answer.model_version]]),
      el("div", { class: "grid" },
        el("div", {}, el("h2", {}, "Mean and top score"),
          chart("Mean and top opportunity score of each location compared", topDown(barOption(names, [
            { name: "mean score", data: rows.map((r) => r.mean_score ?? 0), colour: "#1f5fbf" },
            { name: "top score", data: rows.map((r) => r.top_score ?? 0), colour: "#90caf9" },
          ], true)), rows.length, 60 + 44 * rows.length)),
        el("div", {}, el("h2", {}, "Businesses per category"),
          chart("Businesses per category in each location compared", {
            ...topDown(barOption(names, [], true)), legend: { top: 0 }, grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
            series: CATEGORIES.map((category) => ({
              type: "bar", name: category, stack: "total", itemStyle: { color: CATEGORY_COLOURS[category] },
              data: rows.map((r) => r.category_counts[category] ?? 0),
            })),
          }, rows.length, 60 + 44 * rows.length))),
      table(rows, [
        { title: "Location", value: (r) => locationLink(r.location), sort: (r) => r.location },
        { title: "Businesses", value: (r) => fmt.number(r.total_businesses), numeric: true, sort: (r) => r.total_businesses },
        { title: "Mean score", value: (r) => fmt.number(r.mean_score, 1), numeric: true, sort: (r) => r.mean_score ?? -1 },
        { title: "Top score", value: (r) => fmt.number(r.top_score, 1), numeric: true, sort: (r) => r.top_score ?? -1 },
        { title: "Top business", value: (r) => (r.top_business_id ? explanationLink(r.top_business_id) : "—") },
        { title: "Best type", value: (r) => words(r.best_business_type ?? "—"), sort: (r) => r.best_business_type ?? "" },
        { title: "Sentiment", value: (r) => fmt.number(r.sentiment.sentiment_score, 2), numeric: true, sort: (r) => r.sentiment.sentiment_score },
        { title: "Reviews", value: (r) => fmt.number(r.sentiment.review_count), numeric: true, sort: (r) => r.sentiment.review_count },
      ]));
  });
  const form = el("form", {},
    el("fieldset", { class: "field choices" }, el("legend", {}, `Locations (up to ${most})`),
      ...boxes.map((box) => el("label", {}, box, ` ${box.value}`))),
    el("button", { type: "submit" }, "Compare"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
    history.replaceState(null, "", `/opportunity/compare?${new URLSearchParams({ locations: chosen.join("|") })}`);
    void show();
  });
  void show();
  return el("div", {}, el("h1", {}, "Compare locations"), el("section", { class: "panel" }, form, body));
};
