// One stock's price and volume chart, for any stock id.
import { el, field, run } from "../../ui";
import type { PageModule } from "../types";
import { stockChart } from "./stock-chart";

export const render: PageModule["render"] = ({ params }) => {
  const stock = el("input", { name: "stock_id", value: params.get("id") ?? "STK0001", required: true, autocomplete: "off" });
  const days = el("input", { name: "days", type: "number", min: 5, max: 260, value: params.get("days") ?? "120" });
  const body = el("div");
  const show = () => run(body, async (holder) => { holder.append(await stockChart(stock.value.trim(), Number(days.value))); });
  const form = el("form", { class: "row" }, field("Stock id", stock), field("Trading days", days), el("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/propensity/stock?id=${encodeURIComponent(stock.value.trim())}&days=${days.value}`);
    void show();
  });
  void show();
  return el("div", {}, el("h1", {}, "Stock chart"), el("section", { class: "panel" }, form, body));
};
