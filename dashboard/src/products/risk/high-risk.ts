// Customers at or above a level, highest score first, a page at a time.
import { get } from "../../api";
import { badge, el, field, fmt, link, run, select, table } from "../../ui";
import type { PageModule } from "../types";
import { LEVELS } from "./types";

interface HighRiskCustomer {
  customer_id: string;
  name: string;
  city: string | null;
  risk_score: number;
  risk_level: string;
  scored_at: string | null;
}

const PAGE_SIZE = 25;

export const render: PageModule["render"] = ({ params }) => {
  const level = select("min_level", LEVELS.map((l) => [l, l]), params.get("min_level") ?? "high");
  const body = el("div");
  const previous: (string | null)[] = [];
  let cursor: string | null = null;
  const show = () => run(body, async (holder) => {
    const page = await get<{ customers: HighRiskCustomer[]; next_cursor: string | null; min_score: number }>("/risk/high-risk", { min_level: level.value, limit: PAGE_SIZE, cursor });
    const back = el("button", { type: "button", class: "secondary", disabled: previous.length === 0 }, "Previous page");
    const next = el("button", { type: "button", class: "secondary", disabled: !page.next_cursor }, "Next page");
    back.addEventListener("click", () => { cursor = previous.pop() ?? null; void show(); });
    next.addEventListener("click", () => { previous.push(cursor); cursor = page.next_cursor; void show(); });
    holder.append(
      el("p", { class: "muted" }, `Scores of ${fmt.number(page.min_score, 1)} and above; page ${previous.length + 1}.`),
      table(page.customers, [
        { title: "#", value: (c) => previous.length * PAGE_SIZE + page.customers.indexOf(c) + 1, numeric: true },
        { title: "Customer", value: (c) => link(`/risk/customers?id=${encodeURIComponent(c.customer_id)}`, c.customer_id) },
        { title: "Name", value: (c) => c.name },
        { title: "City", value: (c) => c.city ?? "—" },
        { title: "Score", value: (c) => fmt.number(c.risk_score, 1), numeric: true },
        { title: "Level", value: (c) => badge(c.risk_level) },
        { title: "Scored", value: (c) => fmt.time(c.scored_at) },
      ], "No customer is at or above this level."),
      el("div", { class: "pager" }, back, next));
  });
  level.addEventListener("change", () => { previous.length = 0; cursor = null; void show(); });
  void show();
  return el("div", {}, el("h1", {}, "High-risk customers"),
    el("section", { class: "panel" }, el("div", { class: "row" }, field("At or above", level)), body));
};
