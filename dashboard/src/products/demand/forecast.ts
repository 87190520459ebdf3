// Next week's demand for a pincode, for every product and channel its region sells, with rise and top product.
import { get, post, segment } from "../../api";
import { chart } from "../../charts";
import { badge, el, field, fmt, run, stats, table } from "../../ui";
import type { PageModule } from "../types";
import type { RegionDetail, RegionSummary } from "./types";

interface Forecast { pincode: string; product: string; channel: string; region_id: string; basis: string; note: string | null; predicted_demand: number; confidence: number; interval: [number, number] }
interface Rise { product: string; channel: string; demand_rise: boolean; probability: number }
interface Top { top_product: string; probability: number; all_products: Record<string, number> }
interface Answer<T> { results: T[]; errors: { index: number; message: string }[]; model_version: string }

export const render: PageModule["render"] = async ({ params }) => {
  // Products and channels as the data knows them: from a region's mix, not a list of the dashboard's own.
  const { regions } = await get<{ regions: RegionSummary[] }>("/demand/regions");
  if (!regions.length) return el("div", {}, el("h1", {}, "Forecast"), el("p", { class: "state empty" }, "No region yet: sales are needed first."));
  const sample = await get<RegionDetail>(`/demand/regions/${segment(regions[0].region_id)}`);
  const products = Object.keys(sample.products.distribution);
  const channels = Object.keys(sample.channels.distribution);
  const pincode = el("input", { name: "pincode", value: params.get("pincode") ?? sample.pincodes[0] ?? "", required: true, inputmode: "numeric", pattern: "[0-9]{6}", autocomplete: "off" });
  const body = el("div", { "aria-live": "polite" });
  const show = () => run(body, async (holder) => {
    const records = products.flatMap((product) => channels.map((channel) => ({ pincode: pincode.value.trim(), product, channel })));
    const [predict, rise, top] = await Promise.all([
      post<Answer<Forecast>>("/demand/predict", records),
      post<Answer<Rise>>("/demand/rise", records),
      post<Answer<Top>>("/demand/top-product", records.slice(0, 1)),
    ]);
    if (!predict.results.length) {
      holder.append(el("p", { class: "state error", role: "alert" }, predict.errors.map((e) => e.message).join("; ") || "No forecast"));
      return;
    }
    const first = predict.results[0];
    const labels = predict.results.map((r) => `${r.product.replace(/_/g, " ")} · ${r.channel}`);
    holder.append(
      stats([["Region", first.region_id], ["Basis", first.basis], ["Likeliest top product", top.results[0] ? `${top.results[0].top_product.replace(/_/g, " ")} (${fmt.percent(top.results[0].probability)})` : "—"],
        ["Model", predict.model_version]]),
      first.note ? el("p", { class: "muted" }, first.note) : "",
      chart("Predicted demand next week per product and channel, with its interval", {
        tooltip: { trigger: "axis" }, grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true }, legend: { top: 0 },
        xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: 20 } }, yAxis: { type: "value", name: "sales" },
        series: [
          { type: "bar", name: "predicted", data: predict.results.map((r) => r.predicted_demand), itemStyle: { color: "#1f5fbf" } },
          { type: "scatter", name: "interval low", data: predict.results.map((r) => r.interval[0]), symbol: "triangle", symbolSize: 9, itemStyle: { color: "#666" } },
          { type: "scatter", name: "interval high", data: predict.results.map((r) => r.interval[1]), symbol: "triangle", symbolRotate: 180, symbolSize: 9, itemStyle: { color: "#666" } },
        ],
      }, predict.results.length, 320),
      table(predict.results, [
        { title: "Product", value: (r) => r.product.replace(/_/g, " "), sort: (r) => r.product },
        { title: "Channel", value: (r) => r.channel, sort: (r) => r.channel },
        { title: "Predicted", value: (r) => fmt.number(r.predicted_demand, 1), numeric: true, sort: (r) => r.predicted_demand },
        { title: "Interval", value: (r) => `${fmt.number(r.interval[0], 1)} – ${fmt.number(r.interval[1], 1)}`, numeric: true },
        { title: "Confidence", value: (r) => fmt.percent(r.confidence), numeric: true },
        { title: "Rise", value: (r) => { const found = rise.results.find((x) => x.product === r.product && x.channel === r.channel); return found ? el("span", {}, badge(found.demand_rise ? "rising" : "steady", found.demand_rise ? "warn" : "none"), ` ${fmt.percent(found.probability)}`) : "—"; } },
      ]));
  });
  const form = el("form", { class: "row" }, field("Pincode", pincode), el("button", { type: "submit" }, "Forecast"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/demand/forecast?pincode=${encodeURIComponent(pincode.value.trim())}`);
    void show();
  });
  void show();
  return el("div", {}, el("h1", {}, "Demand forecast"), el("section", { class: "panel" }, form, body));
};
