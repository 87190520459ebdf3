// Propensity's dashboard pages: an investor's top stocks and a stock's price and volume.
import type { ProductPages } from "../types";

const propensity: ProductPages = {
  product: "propensity",
  title: "Propensity",
  pages: [
    { path: "/propensity", title: "Top stocks", load: () => import("./top-stocks") },
    { path: "/propensity/stock", title: "Stock chart", load: () => import("./stock") },
  ],
};

export default propensity;
