// The platform's own pages: every product at a glance, each product's model versions, batch files.
import type { Page } from "../products/types";

export const OVERVIEW: Page = { path: "/", title: "Overview", load: () => import("./overview") };
export const BATCH: Page = { path: "/batch", title: "Batch files", load: () => import("./batch") };

/** The model page of PRODUCT: every product has one, whether or not it has pages of its own. */
export const modelPage = (product: string): Page => ({
  path: `/models/${product}`, title: "Model versions", load: () => import("./models"),
});
