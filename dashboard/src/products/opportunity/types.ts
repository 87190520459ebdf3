// Response shapes of the opportunity routes (finscore/products/opportunity/api_models.py) the pages read.

/** The score's categories, best first; the API names each score's (high at 65 and above, medium at 50). */
export const CATEGORIES = ["high", "medium", "low"] as const;
// An opportunity is good news: high in green, unlike a risk level.
export const CATEGORY_COLOURS: Record<string, string> = { high: "#2e7d32", medium: "#f9a825", low: "#9e9e9e" };
export const CATEGORY_BADGES: Record<string, string> = { high: "ok", medium: "warn", low: "none" };

export interface Sentiment {
  sentiment_score: number;
  engagement_score: number;
  review_count: number;
  last_review_at: string | null;
}

export interface EconomicContext {
  effective_date: string;
  inflation_rate: number;
  interest_rate: number;
  market_index: number;
}

export interface LocationSummary {
  location: string;
  city: string;
  neighbourhood: string;
  business_count: number;
  sentiment: Sentiment;
}

export interface ScoredBusiness {
  rank: number;
  business_id: string;
  business_type: string;
  revenue: number;
  age: number;
  rating: number;
  opportunity_score: number;
  category: string;
}

export interface ScoreResponse {
  model_version: string;
  location: string;
  total_businesses: number;
  sentiment: Sentiment;
  economic_context: EconomicContext;
  results: ScoredBusiness[];
}

export interface LocationComparison {
  location: string;
  total_businesses: number;
  mean_score: number | null;
  top_score: number | null;
  top_business_id: string | null;
  best_business_type: string | null;
  category_counts: Record<string, number>;
  sentiment: Sentiment;
}

export interface CompareResponse {
  model_version: string;
  economic_context: EconomicContext;
  locations: LocationComparison[];
}

export interface Contribution {
  feature: string;
  value: number;
  contribution: number;
}

export interface ExplanationResponse {
  model_version: string;
  business_id: string;
  location: string;
  business_type: string;
  opportunity_score: number;
  category: string;
  baseline: number;
  prediction: number;
  contributions: Contribution[];
  top_contributions: Contribution[];
}
