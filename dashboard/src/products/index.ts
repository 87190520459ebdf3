// The products' dashboard pages, one module each: adding a product's pages is its folder and one line here.
import type { ProductPages } from "./types";
import demand from "./demand";
import opportunity from "./opportunity";
import propensity from "./propensity";
import recommend from "./recommend";
import risk from "./risk";

export const PRODUCT_PAGES: ProductPages[] = [risk, recommend, propensity, demand, opportunity];
