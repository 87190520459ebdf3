// The platform's own pages: every product at a glance, each product's model versions, batch files, and
// custom models (users' own tables, which are not products of the registry).
import type { Page } from "../products/types";

export const OVERVIEW: Page = { path: "/", title: "Overview", load: () => import("./overview") };
export const BATCH: Page = { path: "/batch", title: "Batch files", load: () => import("./batch") };

/** The model page of PRODUCT: every product has one, whether or not it has pages of its own. */
export const modelPage = (product: string): Page => ({
  path: `/models/${product}`, title: "Model versions", load: () => import("./models"),
});

export const CUSTOM_MODELS: Page = { path: "/custom-models", title: "Models", load: () => import("./custom-models") };

/** The page of custom model NAME (the custom models page with ?name=). */
export const customModelPath = (name: string) => `${CUSTOM_MODELS.path}?name=${encodeURIComponent(name)}`;
