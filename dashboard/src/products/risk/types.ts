// Response shapes of the risk routes (finscore/products/risk/api_models.py) the pages read.

export const LEVELS = ["low", "medium", "high", "critical"] as const;

export interface Metrics {
  customers_by_level: Record<string, number>;
  customers_by_score_band: Record<string, number>;
  scored_customers: number;
  interventions_by_status: Record<string, number>;
  interventions_by_channel: Record<string, number>;
  interventions_enabled: boolean;
  auto_trigger_threshold: number | null;
  model: { version: string; primary_metric: string; metrics: Record<string, unknown>; cutoffs: number[] } | null;
}

export interface CustomerSummary {
  customer_id: string;
  name: string;
  city: string | null;
  risk_score: number | null;
  risk_level: string | null;
  scored_at: string | null;
}

export interface CustomerDetail extends CustomerSummary {
  age: number | null;
  phone: string | null;
  email: string | null;
  preferred_language: string | null;
  preferred_channel: string | null;
  monthly_income: number | null;
  credit_limit: number | null;
  features_as_of: string | null;
  last_transaction_at: string | null;
  transaction_count: number | null;
  latest_score: { risk_score: number; risk_level: string; model_version: string; scored_at: string } | null;
}

export interface Reason {
  code: string;
  feature: string;
  value: number;
  reference: number;
  direction: number;
  impact: number;
  text: string;
}

export interface Transaction {
  txn_id: string;
  date: string;
  amount: number;
  direction: "credit" | "debit";
  category: string;
  channel: string;
  balance_after: number;
}

export interface Intervention {
  intervention_id: string;
  customer_id: string;
  channel: string;
  language: string;
  trigger: string;
  status: string;
  risk_level: string | null;
  risk_score: number | null;
  message: string;
  destination: string;
  sms_segments: number | null;
  created_at: string;
  updated_at: string;
  history: { status: string; at: string; note: string | null }[];
}

export interface Page<T> {
  next_cursor: string | null;
  items: T[];
}
