// A stock's daily closes (with the high-low range) above its volume, one shared time axis.
import { get, segment } from "../../api";
import { chart } from "../../charts";
import { el, fmt, stats } from "../../ui";

interface Bars {
  stock_id: string;
  name: string | null;
  sector: string | null;
  market_cap_category: string | null;
  bars: { date: string; open: number; high: number; low: number; close: number; volume: number }[];
}

export async function stockChart(stockId: string, days = 120): Promise<HTMLElement> {
  const data = await get<Bars>(`/propensity/stocks/${segment(stockId)}/bars`, { days });
  if (!data.bars.length) return el("p", { class: "state empty" }, `No daily bars are stored for ${stockId}.`);
  const dates = data.bars.map((b) => b.date);
  const last = data.bars[data.bars.length - 1];
  const first = data.bars[0];
  return el("div", {},
    el("h2", {}, `${data.name ?? data.stock_id} (${data.stock_id})`),
    stats([["Sector", (data.sector ?? "—").replace(/_/g, " ")], ["Market cap", data.market_cap_category ?? "—"], ["Last close", fmt.inr(last.close)],
      ["Change over the period", fmt.percent(last.close / first.close - 1)], ["Last volume", fmt.number(last.volume)]]),
    chart(`Daily close and volume of ${data.stock_id}`, {
      tooltip: { trigger: "axis", axisPointer: { type: "cross" } },
      axisPointer: { link: [{ xAxisIndex: "all" }] },
      grid: [{ left: 60, right: 16, top: 16, height: "55%" }, { left: 60, right: 16, top: "74%", height: "16%" }],
      dataZoom: [{ type: "inside", xAxisIndex: [0, 1] }],
      xAxis: [{ type: "category", data: dates, axisLabel: { show: false } }, { type: "category", data: dates, gridIndex: 1 }],
      yAxis: [{ type: "value", scale: true, name: "INR" }, { type: "value", gridIndex: 1, splitNumber: 2, name: "volume" }],
      series: [
        { type: "line", name: "close", data: data.bars.map((b) => b.close), showSymbol: false },
        { type: "line", name: "high", data: data.bars.map((b) => b.high), showSymbol: false, lineStyle: { opacity: 0.3 } },
        { type: "line", name: "low", data: data.bars.map((b) => b.low), showSymbol: false, lineStyle: { opacity: 0.3 } },
        { type: "bar", name: "volume", data: data.bars.map((b) => b.volume), xAxisIndex: 1, yAxisIndex: 1, itemStyle: { color: "#90a4ae" } },
      ],
    }, data.bars.length, 380));
}
