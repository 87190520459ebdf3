// Recommend's dashboard pages: the customer segments and a what-if form.
import type { ProductPages } from "../types";

const recommend: ProductPages = {
  product: "recommend",
  title: "Recommend",
  pages: [
    { path: "/recommend", title: "Segments", load: () => import("./segments") },
    { path: "/recommend/what-if", title: "What if", load: () => import("./what-if") },
  ],
};

export default recommend;
