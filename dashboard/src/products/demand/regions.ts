// The regions pincodes cluster into by demand profile.
import { get } from "../../api";
import { barOption, chart } from "../../charts";
import { badge, el, fmt, link, section, table } from "../../ui";
import type { PageModule } from "../types";
import type { RegionSummary } from "./types";

export const render: PageModule["render"] = () =>
  el("div", {}, el("h1", {}, "Demand by region"),
    section("Regions", async (body) => {
      const { regions, as_of, model_version } = await get<{ regions: RegionSummary[]; as_of: string; model_version: string }>("/demand/regions");
      body.append(
        el("p", { class: "muted" }, `Sales up to ${fmt.date(as_of)}; model ${model_version}.`),
        chart("Total demand per region", barOption(regions.map((r) => r.region_id), [{ name: "total demand", data: regions.map((r) => r.total_demand), colour: "#1f5fbf" }]), regions.length),
        table(regions, [
          { title: "Region", value: (r) => link(`/demand/region?id=${encodeURIComponent(r.region_id)}`, r.region_id), sort: (r) => r.region_id },
          { title: "Pincodes", value: (r) => fmt.number(r.pincode_count), numeric: true, sort: (r) => r.pincode_count },
          { title: "Total demand", value: (r) => fmt.number(r.total_demand), numeric: true, sort: (r) => r.total_demand },
          { title: "Top product", value: (r) => r.top_product.replace(/_/g, " "), sort: (r) => r.top_product },
          { title: "Top channel", value: (r) => r.top_channel, sort: (r) => r.top_channel },
          { title: "Rising", value: (r) => badge(r.demand_rise_flag ? "rising" : "steady", r.demand_rise_flag ? "warn" : "none") },
          { title: "Cities", value: (r) => el("span", { class: "muted" }, r.cities.slice(0, 6).join(", ") + (r.cities.length > 6 ? ` +${r.cities.length - 6}` : "")) },
        ], "No region yet: sales are needed first (POST /v1/demand/sample-data adds some)."));
    }));
