// Risk's dashboard pages: portfolio, customers, high-risk list, analytics, interventions.
import type { ProductPages } from "../types";

const risk: ProductPages = {
  product: "risk",
  title: "Risk",
  pages: [
    { path: "/risk", title: "Portfolio", load: () => import("./portfolio") },
    { path: "/risk/customers", title: "Customers", load: () => import("./customers") },
    { path: "/risk/high-risk", title: "High risk", load: () => import("./high-risk") },
    { path: "/risk/analytics", title: "Analytics", load: () => import("./analytics") },
    { path: "/risk/interventions", title: "Interventions", load: () => import("./interventions") },
  ],
};

export default risk;
