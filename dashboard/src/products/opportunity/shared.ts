// What the opportunity pages share: the locations, every business scored, the category charts and the business columns.
import type { EChartsCoreOption } from "echarts/core";
import { get, post } from "../../api";
import { chart } from "../../charts";
import { requestSchema } from "../../forms";
import { badge, el, fmt, link, type Column } from "../../ui";
import { CATEGORIES, CATEGORY_BADGES, CATEGORY_COLOURS, type EconomicContext, type LocationSummary, type Sentiment, type ScoredBusiness, type ScoreResponse } from "./types";

export const words = (name: string) => name.replace(/_/g, " ");
export const categoryBadge = (category: string) => badge(category, CATEGORY_BADGES[category] ?? "none");
export const explanationLink = (businessId: string) => link(`/opportunity/business?id=${encodeURIComponent(businessId)}`, businessId);
export const locationLink = (location: string) => link(`/opportunity?location=${encodeURIComponent(location)}`, location);

export async function locations(): Promise<LocationSummary[]> {
  return (await get<{ locations: LocationSummary[] }>("/opportunities/locations")).locations;
}

/** The score route's largest limit, as its request schema states it. */
export async function largestLimit(): Promise<number> {
  return (await requestSchema("OpportunityScoreRequest")).properties.limit?.maximum ?? 20;
}

export const scoreLocation = (location: string, limit: number, businessType?: string) =>
  post<ScoreResponse>("/opportunities/score", { location, limit, ...(businessType ? { business_type: businessType } : {}) });

export const sentimentStats = (sentiment: Sentiment): [string, string][] => [
  ["Sentiment", fmt.number(sentiment.sentiment_score, 2)],
  ["Engagement", fmt.number(sentiment.engagement_score, 2)],
  ["Reviews", fmt.number(sentiment.review_count)],
  ["Latest review", fmt.date(sentiment.last_review_at)],
];

export const economyStats = (economy: EconomicContext): [string, string][] => [
  ["Inflation", fmt.percent(economy.inflation_rate / 100)],
  ["Interest rate", fmt.percent(economy.interest_rate / 100)],
  ["Market index", fmt.number(economy.market_index, 0)],
  ["Indicators of", fmt.date(economy.effective_date)],
];

export interface LocatedBusiness extends ScoredBusiness {
  location: string;
}

export interface Portfolio {
  locations: LocationSummary[];
  businesses: LocatedBusiness[];
  modelVersion: string;
  answers: ScoreResponse[];
}

// Requests in flight at once while every location is scored: about what a browser opens to one host.
const PARALLEL = 6;

/** Every business of every location, scored as the score route scores it now (there is no route for all at once). */
export async function portfolio(): Promise<Portfolio> {
  const [all, limit] = await Promise.all([locations(), largestLimit()]);
  const answers: ScoreResponse[] = new Array(all.length);
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const index = next++;
      answers[index] = await scoreLocation(all[index].location, limit);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, all.length) }, worker));
  return {
    locations: all,
    businesses: answers.flatMap((answer) => answer.results.map((result) => ({ ...result, location: answer.location }))),
    modelVersion: answers[0]?.model_version ?? "—",
    answers,
  };
}

export function categoryCounts(businesses: { category: string }[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(CATEGORIES.map((category) => [category, 0]));
  for (const business of businesses) counts[business.category] = (counts[business.category] ?? 0) + 1;
  return counts;
}

/** A category as a number that grows with the score (low 0, medium 1, high 2), for sorting. */
export const categoryRank = (category: string) => CATEGORIES.length - 1 - CATEGORIES.indexOf(category as (typeof CATEGORIES)[number]);

/** A horizontal bar OPTION read top down, in the order of its categories (as the table beside it is). */
export const topDown = (option: EChartsCoreOption): EChartsCoreOption => ({ ...option, yAxis: { ...(option.yAxis as object), inverse: true } });

const BIN = 5;

/** Businesses per 5-point score band, each band's bar split by category. */
export function scoreHistogram(label: string, businesses: { opportunity_score: number; category: string }[], height = 280): HTMLElement {
  const bins = Array.from({ length: 100 / BIN }, (_, i) => i * BIN);
  const counts = Object.fromEntries(CATEGORIES.map((category) => [category, bins.map(() => 0)]));
  for (const business of businesses) {
    const bin = Math.min(Math.floor(business.opportunity_score / BIN), bins.length - 1);
    (counts[business.category] ??= bins.map(() => 0))[bin] += 1;
  }
  return chart(label, {
    tooltip: { trigger: "axis" }, legend: { top: 0 },
    grid: { left: 8, right: 16, top: 32, bottom: 28, containLabel: true },
    xAxis: { type: "category", name: "score", nameLocation: "middle", nameGap: 28, data: bins.map((low) => `${low}–${low + BIN}`), axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", name: "businesses", minInterval: 1 },
    series: Object.entries(counts).map(([category, data]) => ({
      type: "bar", name: category, stack: "category", data, itemStyle: { color: CATEGORY_COLOURS[category] },
    })),
  }, businesses.length, height);
}

/** One bar per business, best first, coloured by category; NAME labels each bar. */
export function scoreBars<T extends ScoredBusiness>(label: string, businesses: T[], name: (business: T) => string): HTMLElement {
  return chart(label, {
    tooltip: { trigger: "axis" }, grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", inverse: true, data: businesses.map(name) },
    series: [{ type: "bar", name: "opportunity score", data: businesses.map((b) => ({ value: b.opportunity_score, itemStyle: { color: CATEGORY_COLOURS[b.category] } })) }],
  }, businesses.length, 48 + 23 * businesses.length);
}

export function categoryPie(label: string, counts: Record<string, number>, height = 260): HTMLElement {
  const entries = Object.entries(counts).filter(([, count]) => count > 0);
  return chart(label, {
    tooltip: { trigger: "item" }, legend: { bottom: 0 },
    series: [{ type: "pie", radius: ["35%", "62%"], top: -16, label: { formatter: "{b}: {c} ({d}%)" },
      data: entries.map(([name, value]) => ({ name, value, itemStyle: { color: CATEGORY_COLOURS[name] } })) }],
  }, entries.reduce((sum, [, count]) => sum + count, 0), height);
}

/** The columns every business table shows, sortable; LOCATED adds the business's location. */
export function businessColumns<T extends ScoredBusiness & { location?: string }>(located = false): Column<T>[] {
  return [
    { title: "Business", value: (b) => explanationLink(b.business_id), sort: (b) => b.business_id },
    ...(located ? [{ title: "Location", value: (b: T) => locationLink(b.location ?? ""), sort: (b: T) => b.location ?? "" }] : []),
    { title: "Type", value: (b) => words(b.business_type), sort: (b) => b.business_type },
    { title: "Revenue", value: (b) => fmt.inr(b.revenue), numeric: true, sort: (b) => b.revenue },
    { title: "Age (years)", value: (b) => fmt.number(b.age, 1), numeric: true, sort: (b) => b.age },
    { title: "Rating", value: (b) => fmt.number(b.rating, 1), numeric: true, sort: (b) => b.rating },
    { title: "Score", value: (b) => fmt.number(b.opportunity_score, 1), numeric: true, sort: (b) => b.opportunity_score },
    { title: "Category", value: (b) => categoryBadge(b.category), sort: (b) => categoryRank(b.category) },
  ];
}

/** A long TABLE in its own scrolling box, which the keyboard can reach and scroll too. */
export function scrolling(table: HTMLElement, label: string): HTMLElement {
  if (!table.classList.contains("table-wrap")) return table;
  table.classList.add("scroll");
  table.tabIndex = 0;
  table.setAttribute("role", "region");
  table.setAttribute("aria-label", `${label} (scrolls)`);
  return table;
}

export const noLocation = (title: string) =>
  el("div", {}, el("h1", {}, title), el("p", { class: "state empty" }, "No location yet: businesses and their locations are needed first."));
