// Opportunity's dashboard pages: a location's scores, the distributions and top opportunities across locations,
// every business in a sortable table, locations compared, and one business's score explained.
import type { ProductPages } from "../types";

const opportunity: ProductPages = {
  product: "opportunity",
  title: "Opportunity",
  pages: [
    { path: "/opportunity", title: "Location scores", load: () => import("./location") },
    { path: "/opportunity/distributions", title: "Distributions", load: () => import("./distributions") },
    { path: "/opportunity/top", title: "Top opportunities", load: () => import("./top") },
    { path: "/opportunity/businesses", title: "Businesses", load: () => import("./businesses") },
    { path: "/opportunity/compare", title: "Compare locations", load: () => import("./compare") },
    { path: "/opportunity/business", title: "Business explanation", load: () => import("./business") },
  ],
};

export default opportunity;
