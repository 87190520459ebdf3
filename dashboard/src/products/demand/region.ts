// One region: its product and channel mix, growth and pincodes.
import { get, segment } from "../../api";
import { chart } from "../../charts";
import { badge, el, field, fmt, link, run, select, stats } from "../../ui";
import type { PageModule } from "../types";
import type { RegionDetail, RegionSummary } from "./types";

const pie = (label: string, distribution: Record<string, number>) =>
  chart(label, {
    tooltip: { trigger: "item", valueFormatter: (v: number) => fmt.percent(v) }, legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["35%", "62%"], top: -16, data: Object.entries(distribution).map(([name, value]) => ({ name: name.replace(/_/g, " "), value })) }],
  }, Object.keys(distribution).length, 260);

export const render: PageModule["render"] = async ({ params }) => {
  const { regions } = await get<{ regions: RegionSummary[] }>("/demand/regions");
  const chosen = params.get("id") ?? regions[0]?.region_id ?? "";
  const picker = select("region", regions.map((r) => [r.region_id, `${r.region_id} (${r.pincode_count} pincodes)`]), chosen);
  const body = el("div");
  const show = () => run(body, async (holder) => {
    const region = await get<RegionDetail>(`/demand/regions/${segment(picker.value)}`);
    holder.append(
      stats([["Total demand", fmt.number(region.total_demand)], ["Per pincode", fmt.number(region.avg_demand_per_pincode, 1)],
        ["Growth", fmt.percent(region.growth - 1)], ["Rising", badge(region.demand_rise_flag ? "rising" : "steady", region.demand_rise_flag ? "warn" : "none")],
        ["As of", fmt.date(region.as_of)]]),
      el("div", { class: "grid" },
        el("div", {}, el("h2", {}, "Product mix"), pie("Share of demand per product", region.products.distribution)),
        el("div", {}, el("h2", {}, "Channel mix"), pie("Share of demand per channel", region.channels.distribution))),
      el("h2", {}, `Pincodes (${region.pincodes.length})`),
      el("p", {}, ...region.pincodes.flatMap((pincode) => [link(`/demand/forecast?pincode=${pincode}`, pincode), " "])),
      el("p", { class: "muted" }, `Cities: ${region.cities.join(", ")}`));
  });
  picker.addEventListener("change", () => {
    history.replaceState(null, "", `/demand/region?id=${encodeURIComponent(picker.value)}`);
    void show();
  });
  if (!regions.length) return el("div", {}, el("h1", {}, "Region"), el("p", { class: "state empty" }, "No region yet: sales are needed first."));
  void show();
  return el("div", {}, el("h1", {}, "Region detail"), el("section", { class: "panel" }, el("div", { class: "row" }, field("Region", picker)), body));
};
