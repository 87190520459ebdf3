// The shell: configuration, sign-in, navigation built from the API's product list, and the router.
import "./style.css";
import { get } from "./api";
import { adminKey, apiKey, finishSignIn, saveKeys, signedIn, signOut, startSignIn } from "./auth";
import { config, loadConfig } from "./config";
import { connectLive } from "./live";
import { BATCH, CUSTOM_MODELS, modelPage, OVERVIEW } from "./platform/pages";
import { PRODUCT_PAGES } from "./products";
import type { Page } from "./products/types";
import { describeError, el, failure, loading } from "./ui";

interface ModelsResponse {
  models: { product: string }[];
}

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
let pages: Page[] = [];
let rendering = 0;

function signInForm(): HTMLElement {
  if (config().auth === "cognito") {
    // API Gateway meters every client by its API key as well as checking the user's token.
    const meter = el("input", { id: "api-key", name: "api-key", type: "password", autocomplete: "off", value: apiKey() ?? "" });
    const form = el("form", { class: "panel signin" }, el("h1", {}, "Sign in to FinScore"),
      config().apiKey ? "" : el("div", { class: "field" }, el("label", { for: "api-key" }, "API key (from your administrator)"), meter),
      el("button", { type: "submit" }, "Sign in"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!config().apiKey) saveKeys(meter.value, "");
      void startSignIn();
    });
    return form;
  }
  const key = el("input", { id: "api-key", name: "api-key", type: "password", required: true, autocomplete: "off" });
  const admin = el("input", { id: "admin-key", name: "admin-key", type: "password", autocomplete: "off" });
  const form = el("form", { class: "panel signin" },
    el("h1", {}, "Sign in to FinScore"),
    el("p", {}, "Enter the API key `make run` printed. It is kept for this browser tab only."),
    el("div", { class: "field" }, el("label", { for: "api-key" }, "API key"), key),
    el("div", { class: "field" }, el("label", { for: "admin-key" }, "Admin key (optional: promote and roll back models)"), admin),
    el("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveKeys(key.value, admin.value);
    void start();
  });
  return form;
}

function navigation(products: string[]): void {
  const registered = new Map(PRODUCT_PAGES.map((entry) => [entry.product, entry]));
  const groups: [string, Page[]][] = [["FinScore", [OVERVIEW, BATCH]]];
  for (const product of products) {
    const own = registered.get(product);
    groups.push([own?.title ?? product, [...(own?.pages ?? []), modelPage(product)]]);
  }
  groups.push(["Custom models", [CUSTOM_MODELS]]);
  pages = groups.flatMap(([, list]) => list);
  nav.replaceChildren(...groups.map(([title, list]) =>
    el("div", { class: "nav-group" }, el("h3", {}, title),
      el("ul", {}, ...list.map((page) => el("li", {}, el("a", { href: page.path, "data-route": "" }, page.title)))))));
}

async function route(): Promise<void> {
  const path = location.pathname.replace(/\/$/, "") || "/";
  const page = pages.find((candidate) => candidate.path === path);
  const turn = ++rendering;
  nav.querySelectorAll("a").forEach((a) => (a.getAttribute("href") === path ? a.setAttribute("aria-current", "page") : a.removeAttribute("aria-current")));
  document.body.classList.remove("menu-open");
  if (!page) {
    main.replaceChildren(el("h1", {}, "Page not found"), el("p", {}, `No page at ${path}. `, el("a", { href: "/", "data-route": "" }, "Go to the overview")));
    return;
  }
  document.title = `${page.title} · FinScore`;
  main.replaceChildren(loading(`Loading ${page.title}…`));
  try {
    const module = await page.load();
    // Admin actions go with the admin key; a signed-in person's token never carries the admin scope.
    const admin = config().auth === "key" && adminKey() !== null;
    const content = await module.render({ params: new URLSearchParams(location.search), admin });
    if (turn === rendering) main.replaceChildren(content);
  } catch (error) {
    if (turn === rendering) main.replaceChildren(el("h1", {}, page.title), failure(error));
  }
}

export function navigate(href: string): void {
  history.pushState(null, "", href);
  void route();
}

document.addEventListener("click", (event) => {
  const anchor = (event.target as Element).closest?.("a[data-route]") as HTMLAnchorElement | null;
  if (!anchor || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(anchor.getAttribute("href")!);
  main.focus();
});
window.addEventListener("popstate", () => void route());
document.getElementById("menu-toggle")!.addEventListener("click", (event) => {
  const open = document.body.classList.toggle("menu-open");
  (event.currentTarget as HTMLElement).setAttribute("aria-expanded", String(open));
});

async function start(): Promise<void> {
  const session = document.getElementById("session")!;
  if (!signedIn()) {
    nav.replaceChildren();
    session.replaceChildren();
    main.replaceChildren(signInForm());
    return;
  }
  session.replaceChildren(
    el("span", { class: "who" }, adminKey() ? "admin" : "signed in"),
    el("button", { type: "button", class: "link", onclick: () => { signOut(); void start(); } }, "Sign out"));
  main.replaceChildren(loading("Loading products…"));
  try {
    const models = await get<ModelsResponse>("/models");
    navigation(models.models.map((model) => model.product));
  } catch (error) {
    main.replaceChildren(el("h1", {}, "FinScore"), failure(error));
    if ((error as { status?: number }).status === 403) main.append(el("button", { type: "button", onclick: () => { signOut(); void start(); } }, "Enter another key"));
    return;
  }
  const live = document.getElementById("live")!;
  connectLive((text, open) => {
    live.textContent = text;
    live.classList.toggle("open", open);
  });
  await route();
}

async function boot(): Promise<void> {
  try {
    await loadConfig();
    await finishSignIn();
  } catch (error) {
    main.replaceChildren(el("h1", {}, "FinScore"), el("p", { class: "state error", role: "alert" }, describeError(error)));
    return;
  }
  await start();
}

void boot();
