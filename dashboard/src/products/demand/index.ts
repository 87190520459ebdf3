// Demand's dashboard pages: regions, one region, and the forecast for a pincode.
import type { ProductPages } from "../types";

const demand: ProductPages = {
  product: "demand",
  title: "Demand",
  pages: [
    { path: "/demand", title: "Regions", load: () => import("./regions") },
    { path: "/demand/region", title: "Region detail", load: () => import("./region") },
    { path: "/demand/forecast", title: "Forecast", load: () => import("./forecast") },
  ],
};

export default demand;
