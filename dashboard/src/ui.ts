// Building blocks every page shares: elements, locale formatting, loading/empty/error states, tables.
import { ApiError } from "./api";

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | EventListener | undefined | null>;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === "function") node.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const LOCALE = navigator.language || "en-IN";
const numbers = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", maximumFractionDigits: 0 });
const percents = new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 1 });
const dates = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium" });
const times = new Intl.DateTimeFormat(LOCALE, { dateStyle: "medium", timeStyle: "short" });

const missing = (value: unknown) => value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
export const fmt = {
  number: (value: number | null | undefined, digits?: number) =>
    missing(value) ? "—" : digits === undefined ? numbers.format(value!) : new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value!),
  inr: (value: number | null | undefined) => (missing(value) ? "—" : rupees.format(value!)),
  percent: (value: number | null | undefined) => (missing(value) ? "—" : percents.format(value!)),
  date: (value: string | null | undefined) => (value ? dates.format(new Date(value)) : "—"),
  time: (value: string | null | undefined) => (value ? times.format(new Date(value)) : "—"),
};

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}

export const loading = (what = "Loading…") => el("p", { class: "state loading", role: "status" }, what);
export const empty = (what: string) => el("p", { class: "state empty" }, what);
export const failure = (error: unknown) => el("p", { class: "state error", role: "alert" }, `Could not load: ${describeError(error)}`);

/** A titled panel whose body shows a loading state, then what FILL builds, or the error in words. */
export function section(title: string, fill: (body: HTMLElement) => Promise<void> | void, attributes: Attributes = {}): HTMLElement {
  const body = el("div", { class: "panel-body" }, loading());
  const panel = el("section", { class: "panel", ...attributes }, el("h2", {}, title), body);
  void run(body, fill);
  return panel;
}

/** Fill BODY with FILL's result, showing loading first and the error in words if it fails. */
export async function run(body: HTMLElement, fill: (body: HTMLElement) => Promise<void> | void): Promise<void> {
  body.replaceChildren(loading());
  const holder = el("div");
  try {
    await fill(holder);
    body.replaceChildren(...holder.childNodes);
  } catch (error) {
    body.replaceChildren(failure(error));
  }
}

export interface Column<T> {
  title: string;
  value: (row: T) => Child;
  sort?: (row: T) => number | string;
  numeric?: boolean;
}

/** A table whose sortable columns reorder on click or Enter; EMPTY is shown when there are no rows. */
export function table<T>(rows: T[], columns: Column<T>[], emptyText = "Nothing to show yet."): HTMLElement {
  if (!rows.length) return empty(emptyText);
  let order = rows.slice();
  const tbody = el("tbody");
  const draw = () => tbody.replaceChildren(...order.map((row) => el("tr", {}, ...columns.map((c) => el("td", { class: c.numeric ? "num" : undefined }, c.value(row))))));
  const headers = columns.map((column) => {
    if (!column.sort) return el("th", { scope: "col", class: column.numeric ? "num" : undefined }, column.title);
    let ascending = false;
    const button = el("button", { type: "button", class: "sort" }, column.title);
    const th = el("th", { scope: "col", class: column.numeric ? "num" : undefined, "aria-sort": "none" }, button);
    button.addEventListener("click", () => {
      ascending = !ascending;
      const key = column.sort!;
      order = rows.slice().sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (ascending ? 1 : -1));
      th.parentElement?.querySelectorAll("th").forEach((cell) => cell.setAttribute("aria-sort", "none"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      draw();
    });
    return th;
  });
  draw();
  return el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, ...headers)), tbody));
}

export const badge = (text: string | null | undefined, kind = text ?? "none") => el("span", { class: `badge badge-${kind}` }, text ?? "—");

export function field(label: string, control: HTMLElement): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return el("div", { class: "field" }, el("label", { for: id }, label), control);
}

export function select(name: string, options: [string, string][], value?: string): HTMLSelectElement {
  const control = el("select", { name });
  for (const [optionValue, text] of options) control.append(el("option", { value: optionValue, selected: optionValue === value }, text));
  return control;
}

export const stats = (items: [string, Child][]) =>
  el("dl", { class: "stats" }, ...items.flatMap(([term, value]) => [el("div", {}, el("dt", {}, term), el("dd", {}, value))]));

/** A link that the router follows without reloading the page. */
export const link = (href: string, text: Child) => el("a", { href, "data-route": "" }, text);

/** Go to HREF as a router link would (main.ts routes on popstate), e.g. after a form has done its work. */
export function go(href: string): void {
  history.pushState(null, "", href);
  window.dispatchEvent(new PopStateEvent("popstate"));
}
