// What a product contributes to the dashboard: its pages, each loaded on demand (its own chunk).

export interface PageContext {
  /** The query of the page's URL (e.g. ?id= of a detail page). */
  params: URLSearchParams;
  /** Whether an admin key (or admin scope) is at hand: admin actions are shown only then. */
  admin: boolean;
}

export interface PageModule {
  render: (context: PageContext) => HTMLElement | Promise<HTMLElement>;
}

export interface Page {
  /** The URL path, e.g. /risk/customers. */
  path: string;
  title: string;
  load: () => Promise<PageModule>;
}

export interface ProductPages {
  /** The product's name in the registry (GET /v1/models). */
  product: string;
  title: string;
  pages: Page[];
}
