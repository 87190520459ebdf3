// Customer search, and one customer's score, level, reasons (value against reference) and transactions.
import { get, segment } from "../../api";
import { chart } from "../../charts";
import { badge, el, field, fmt, link, run, section, stats, table } from "../../ui";
import type { PageModule } from "../types";
import type { CustomerDetail, CustomerSummary, Reason, Transaction } from "./types";

function search(params: URLSearchParams): HTMLElement {
  const input = el("input", { type: "search", name: "q", value: params.get("q") ?? "", placeholder: "C0007 or a name", autocomplete: "off" });
  const results = el("div");
  const form = el("form", { class: "row", role: "search" }, field("Customer id or name", input), el("button", { type: "submit" }, "Search"));
  const show = (q: string) => run(results, async (body) => {
    const found = await get<{ customers: CustomerSummary[] }>("/risk/customers", { q, limit: 25 });
    body.append(table(found.customers, [
      { title: "Customer", value: (c) => link(`/risk/customers?id=${encodeURIComponent(c.customer_id)}`, c.customer_id), sort: (c) => c.customer_id },
      { title: "Name", value: (c) => c.name, sort: (c) => c.name },
      { title: "City", value: (c) => c.city ?? "—" },
      { title: "Score", value: (c) => fmt.number(c.risk_score, 1), numeric: true, sort: (c) => c.risk_score ?? -1 },
      { title: "Level", value: (c) => badge(c.risk_level) },
    ], `No customer matches "${q}".`));
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `/risk/customers?q=${encodeURIComponent(input.value)}`);
    void show(input.value.trim());
  });
  void show(params.get("q") ?? "C00");
  return el("section", { class: "panel" }, el("h2", {}, "Search"), form, results);
}

function transactionsChart(transactions: Transaction[]): HTMLElement {
  const ordered = transactions.slice().reverse();
  return chart("Balance after each transaction, and credits and debits by day", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 40, containLabel: true },
    dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 6 }],
    xAxis: { type: "category", data: ordered.map((t) => t.date) },
    yAxis: { type: "value", axisLabel: { formatter: (value: number) => fmt.inr(value) } },
    series: [
      { type: "line", name: "balance after", data: ordered.map((t) => t.balance_after), showSymbol: false },
      { type: "bar", name: "credit", data: ordered.map((t) => (t.direction === "credit" ? t.amount : null)), itemStyle: { color: "#2e7d32" } },
      { type: "bar", name: "debit", data: ordered.map((t) => (t.direction === "debit" ? -t.amount : null)), itemStyle: { color: "#c62828" } },
    ],
  }, ordered.length, 320);
}

function detail(id: string): HTMLElement {
  const title = el("h1", {}, `Customer ${id}`);
  return el("div", {},
    el("p", {}, link("/risk/customers", "← Back to search")),
    title,
    section("Profile and score", async (body) => {
      const customer = await get<CustomerDetail>(`/risk/customers/${segment(id)}`);
      title.textContent = `${customer.name} (${customer.customer_id})`;
      body.append(
        stats([
          ["Risk score", fmt.number(customer.latest_score?.risk_score, 1)],
          ["Level", badge(customer.latest_score?.risk_level)],
          ["Scored", fmt.time(customer.latest_score?.scored_at)],
          ["Monthly income", fmt.inr(customer.monthly_income)],
          ["Credit limit", fmt.inr(customer.credit_limit)],
          ["City", customer.city ?? "—"],
          ["Contact", `${customer.phone ?? "—"} · ${customer.email ?? "—"}`],
          ["Prefers", `${customer.preferred_channel ?? "—"}, ${customer.preferred_language ?? "—"}`],
          ["Features as of", fmt.date(customer.features_as_of)],
          ["Transactions", fmt.number(customer.transaction_count)],
        ]),
        el("p", {}, el("a", { href: `/risk/interventions?customer=${encodeURIComponent(id)}`, "data-route": "", class: "button" }, "Contact this customer…")));
    }),
    section("Why this score", async (body) => {
      const explanation = await get<{ reasons: Reason[]; model_version: string }>(`/risk/customers/${segment(id)}/explanation`);
      if (!explanation.reasons.length) {
        body.append(el("p", { class: "state empty" }, "No adverse reason holds for this customer: nothing in their data lies on the risky side of its reference."));
        return;
      }
      body.append(
        table(explanation.reasons, [
          { title: "Code", value: (r) => r.code },
          { title: "Reason", value: (r) => r.text },
          { title: "Value", value: (r) => fmt.number(r.value, 2), numeric: true },
          { title: "Reference", value: (r) => fmt.number(r.reference, 2), numeric: true },
          { title: "Impact (log-odds)", value: (r) => fmt.number(r.impact, 3), numeric: true },
        ]),
        chart("Impact of each reason on the score", {
          tooltip: { trigger: "axis" }, grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
          xAxis: { type: "value" }, yAxis: { type: "category", inverse: true, data: explanation.reasons.map((r) => r.code) },
          series: [{ type: "bar", data: explanation.reasons.map((r) => r.impact), itemStyle: { color: "#ef6c00" } }],
        }, explanation.reasons.length, 60 + 36 * explanation.reasons.length));
    }),
    section("Transactions", async (body) => {
      const page = await get<{ transactions: Transaction[] }>(`/risk/customers/${segment(id)}/transactions`, { limit: 100 });
      if (!page.transactions.length) {
        body.append(el("p", { class: "state empty" }, "No transactions are stored for this customer."));
        return;
      }
      body.append(transactionsChart(page.transactions), el("details", {}, el("summary", {}, `The latest ${page.transactions.length} transactions`),
        table(page.transactions, [
          { title: "Date", value: (t) => fmt.date(t.date), sort: (t) => t.date },
          { title: "Category", value: (t) => t.category, sort: (t) => t.category },
          { title: "Channel", value: (t) => t.channel },
          { title: "Amount", value: (t) => `${t.direction === "debit" ? "−" : "+"}${fmt.inr(t.amount)}`, numeric: true, sort: (t) => (t.direction === "debit" ? -t.amount : t.amount) },
          { title: "Balance after", value: (t) => fmt.inr(t.balance_after), numeric: true, sort: (t) => t.balance_after },
        ])));
    }));
}

export const render: PageModule["render"] = ({ params }) => {
  const id = params.get("id");
  if (id) return detail(id);
  return el("div", {}, el("h1", {}, "Customers"), search(params));
};

