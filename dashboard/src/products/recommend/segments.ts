// The segments K-Means found, in original units: who is in each and how they differ.
import { get } from "../../api";
import { barOption, chart } from "../../charts";
import { el, fmt, section, table } from "../../ui";
import type { PageModule } from "../types";

interface Segment {
  cluster: number;
  name: string;
  share: number;
  profile: Record<string, number>;
  employment_mix: Record<string, number>;
}

const COMPARED = ["financial_health_score", "credit_score", "digital_engagement", "spending_score"];

export const render: PageModule["render"] = () =>
  el("div", {}, el("h1", {}, "Customer segments"),
    section("Segments", async (body) => {
      const { segments, model_version } = await get<{ segments: Segment[]; model_version: string }>("/recommendations/segments");
      const names = segments.map((s) => s.name);
      body.append(
        el("p", { class: "muted" }, `Model ${model_version}; profiles are segment averages in original units.`),
        el("div", { class: "grid" },
          el("div", {}, el("h2", {}, "Share of customers"),
            chart("Share of customers per segment", {
              tooltip: { trigger: "item", valueFormatter: (v: number) => fmt.percent(v) }, legend: { bottom: 0, type: "scroll" },
              series: [{ type: "pie", radius: ["35%", "62%"], top: -20, data: segments.map((s) => ({ name: s.name, value: s.share })) }],
            }, segments.length, 300)),
          el("div", {}, el("h2", {}, "Income, savings and spending (INR)"),
            chart("Average income, savings and monthly spending per segment", barOption(names, [
              { name: "income", data: segments.map((s) => s.profile.income) },
              { name: "savings balance", data: segments.map((s) => s.profile.savings_balance) },
              { name: "monthly spending", data: segments.map((s) => s.profile.monthly_spending) },
            ], true), segments.length * 3, 300))),
        el("h2", {}, "Scores"),
        chart("Financial health, credit score, digital engagement and spending score per segment",
          barOption(COMPARED.map((c) => c.replace(/_/g, " ")), segments.map((s) => ({ name: s.name, data: COMPARED.map((c) => s.profile[c]) }))), COMPARED.length * segments.length, 300),
        table(segments, [
          { title: "Segment", value: (s) => s.name, sort: (s) => s.name },
          { title: "Share", value: (s) => fmt.percent(s.share), numeric: true, sort: (s) => s.share },
          { title: "Age", value: (s) => fmt.number(s.profile.age, 0), numeric: true, sort: (s) => s.profile.age },
          { title: "Income", value: (s) => fmt.inr(s.profile.income), numeric: true, sort: (s) => s.profile.income },
          { title: "Savings", value: (s) => fmt.inr(s.profile.savings_balance), numeric: true, sort: (s) => s.profile.savings_balance },
          { title: "Loan", value: (s) => fmt.inr(s.profile.loan_amount), numeric: true, sort: (s) => s.profile.loan_amount },
          { title: "Credit score", value: (s) => fmt.number(s.profile.credit_score, 0), numeric: true, sort: (s) => s.profile.credit_score },
          { title: "Health", value: (s) => fmt.number(s.profile.financial_health_score, 1), numeric: true, sort: (s) => s.profile.financial_health_score },
          { title: "Mostly", value: (s) => Object.entries(s.employment_mix).sort((a, b) => b[1] - a[1])[0]?.[0]?.replace(/_/g, " ") ?? "—" },
        ]));
    }));
