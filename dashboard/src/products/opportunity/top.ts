// The highest opportunity scores across every location, optionally of one business type.
import { el, field, fmt, run, select, table } from "../../ui";
import type { PageModule } from "../types";
import { businessColumns, portfolio, scoreBars, words } from "./shared";

const SIZES = ["10", "20", "50"];

export const render: PageModule["render"] = async ({ params }) => {
  const scored = await portfolio();
  const types = [...new Set(scored.businesses.map((b) => b.business_type))].sort();
  const size = select("top", SIZES.map((n): [string, string] => [n, n]), params.get("top") ?? "20");
  const kind = select("business_type", [["", "every type"], ...types.map((t): [string, string] => [t, words(t)])], params.get("type") ?? "");
  const body = el("div", { "aria-live": "polite" });
  const show = () => run(body, (holder) => {
    const top = scored.businesses.filter((b) => !kind.value || b.business_type === kind.value)
      .sort((a, b) => b.opportunity_score - a.opportunity_score || a.business_id.localeCompare(b.business_id))
      .slice(0, Number(size.value));
    if (!top.length) {
      holder.append(el("p", { class: "state empty" }, "No business is scored yet."));
      return;
    }
    holder.append(
      el("p", { class: "muted" }, `The best ${top.length} of ${fmt.number(scored.businesses.length)} businesses in ${fmt.number(scored.locations.length)} locations; model ${scored.modelVersion}.`),
      scoreBars(`The ${top.length} highest opportunity scores across every location`, top, (b) => `${b.business_id} · ${b.location.split(", ")[0]}`),
      table(top.map((b, index) => ({ ...b, rank: index + 1 })), [{ title: "#", value: (b) => b.rank, numeric: true, sort: (b) => b.rank }, ...businessColumns(true)]));
  });
  const refresh = () => {
    history.replaceState(null, "", `/opportunity/top?${new URLSearchParams({ top: size.value, ...(kind.value ? { type: kind.value } : {}) })}`);
    void show();
  };
  size.addEventListener("change", refresh);
  kind.addEventListener("change", refresh);
  void show();
  return el("div", {}, el("h1", {}, "Top opportunities"),
    el("section", { class: "panel" }, el("div", { class: "row" }, field("Show", size), field("Business type", kind)), body));
};
