// A location's businesses ranked by opportunity, with the sentiment and economy the scores were made with.
import { requestSchema } from "../../forms";
import { el, field, fmt, run, select, stats, table } from "../../ui";
import type { PageModule } from "../types";
import { businessColumns, categoryCounts, categoryPie, economyStats, largestLimit, locations, noLocation, scoreBars, scoreHistogram, scoreLocation, scrolling, sentimentStats, words } from "./shared";

// The ranked bar chart shows the best of the location; the table below lists every business.
const CHARTED = 15;

export const render: PageModule["render"] = async ({ params }) => {
  const [all, limit, schema] = await Promise.all([locations(), largestLimit(), requestSchema("OpportunityScoreRequest")]);
  if (!all.length) return noLocation("Location scores");
  const types = schema.properties.business_type?.anyOf?.find((p) => p.enum)?.enum ?? [];
  const chosen = params.get("location") ?? [...all].sort((a, b) => b.business_count - a.business_count)[0].location;
  const picker = select("location", all.map((l) => [l.location, `${l.location} (${l.business_count})`]), chosen);
  const kind = select("business_type", [["", "every type"], ...types.map((t): [string, string] => [t, words(t)])], params.get("type") ?? "");
  const body = el("div", { "aria-live": "polite" });
  const show = () => run(body, async (holder) => {
    const answer = await scoreLocation(picker.value, limit, kind.value || undefined);
    if (!answer.results.length) {
      holder.append(el("p", { class: "state empty" }, `No ${kind.value ? words(kind.value) + " " : ""}business in ${answer.location}.`));
      return;
    }
    const best = answer.results.slice(0, CHARTED);
    holder.append(
      stats([["Businesses", fmt.number(answer.total_businesses)], ...sentimentStats(answer.sentiment), ["Model", answer.model_version]]),
      stats(economyStats(answer.economic_context)),
      el("div", { class: "grid" },
        el("div", {}, el("h2", {}, "Score distribution"), scoreHistogram(`Businesses of ${answer.location} per 5-point opportunity score band`, answer.results, 260)),
        el("div", {}, el("h2", {}, "Categories"), categoryPie(`Businesses of ${answer.location} per category`, categoryCounts(answer.results)))),
      el("h2", {}, `Best ${best.length} of ${fmt.number(answer.total_businesses)} by score`),
      scoreBars(`The ${best.length} highest opportunity scores in ${answer.location}`, best, (b) => `${b.business_id} · ${words(b.business_type)}`),
      el("h2", {}, "Ranked businesses"),
      scrolling(table(answer.results, [{ title: "#", value: (b) => b.rank, numeric: true, sort: (b) => b.rank }, ...businessColumns()]), "Ranked businesses"));
  });
  const refresh = () => {
    const query = new URLSearchParams({ location: picker.value, ...(kind.value ? { type: kind.value } : {}) });
    history.replaceState(null, "", `/opportunity?${query}`);
    void show();
  };
  picker.addEventListener("change", refresh);
  kind.addEventListener("change", refresh);
  void show();
  return el("div", {}, el("h1", {}, "Location scores"),
    el("section", { class: "panel" }, el("div", { class: "row" }, field("Location", picker), field("Business type", kind)), body));
};
