// The stocks an investor is likeliest to buy next, and the chart of the one picked.
import { get, segment } from "../../api";
import { chart } from "../../charts";
import { requestSchema } from "../../forms";
import { badge, el, field, fmt, run, table } from "../../ui";
import type { PageModule } from "../types";
import { stockChart } from "./stock-chart";

interface RankedStock {
  rank: number;
  stock_id: string;
  name: string | null;
  sector: string | null;
  market_cap_category: string | null;
  propensity: number;
  purchase: boolean;
}

export const render: PageModule["render"] = async ({ params }) => {
  // The investor the API's own example names, until another is asked for.
  const example = (await requestSchema("ScoreRecord")).properties.user_id?.examples?.[0];
  const user = el("input", { name: "user_id", value: params.get("user") ?? String(example ?? ""), required: true, autocomplete: "off" });
  const ranking = el("div");
  const picked = el("div");
  const showStock = (stockId: string) => run(picked, async (holder) => { holder.append(await stockChart(stockId)); });
  const show = () => run(ranking, async (holder) => {
    const top = await get<{ stocks: RankedStock[]; threshold: number; universe: number; model_version: string }>(
      `/propensity/users/${segment(user.value.trim())}/top-stocks`, { limit: 10 });
    holder.append(
      el("p", { class: "muted" }, `Ranked across ${fmt.number(top.universe)} stocks by model ${top.model_version}; a purchase is predicted at ${fmt.percent(top.threshold)} and above.`),
      chart("Purchase propensity of the top stocks", {
        tooltip: { trigger: "axis" }, grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", min: 0, max: 1 }, yAxis: { type: "category", inverse: true, data: top.stocks.map((s) => s.name ?? s.stock_id) },
        series: [{ type: "bar", data: top.stocks.map((s) => ({ value: s.propensity, itemStyle: { color: s.purchase ? "#1f5fbf" : "#9e9e9e" } })),
          markLine: { symbol: "none", data: [{ xAxis: top.threshold }], lineStyle: { color: "#c62828" } } }],
      }, top.stocks.length, 60 + 28 * top.stocks.length),
      table(top.stocks, [
        { title: "#", value: (s) => s.rank, numeric: true },
        { title: "Stock", value: (s) => el("button", { type: "button", class: "link", onclick: () => void showStock(s.stock_id) }, `${s.name ?? ""} (${s.stock_id})`) },
        { title: "Sector", value: (s) => (s.sector ?? "—").replace(/_/g, " "), sort: (s) => s.sector ?? "" },
        { title: "Cap", value: (s) => s.market_cap_category ?? "—" },
        { title: "Propensity", value: (s) => fmt.percent(s.propensity), numeric: true, sort: (s) => s.propensity },
        { title: "Purchase", value: (s) => badge(s.purchase ? "yes" : "no", s.purchase ? "ok" : "none") },
      ], "No stock could be ranked for this investor."));
    if (top.stocks[0]) void showStock(top.stocks[0].stock_id);
  });
  const form = el("form", { class: "row" }, field("Investor id", user), el("button", { type: "submit" }, "Rank stocks"));
  form.addEventListener("submit", (event) => { event.preventDefault(); void show(); });
  void show();
  return el("div", {}, el("h1", {}, "Top stocks"),
    el("section", { class: "panel" }, form, ranking),
    el("section", { class: "panel" }, picked));
};
