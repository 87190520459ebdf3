// Response shapes of the platform routes the dashboard reads (finscore/platform/schemas.py).

export interface ProductModel {
  product: string;
  champion_version: string | null;
  primary_metric: string | null;
  primary_value: number | null;
}

export interface VersionRecord {
  version: string;
  status: string;
  created_at: string;
  primary_metric: string;
  primary_value: number;
  status_reason: string;
  metrics: Record<string, unknown>;
  promoted_by: string | null;
  promoted_at: string | null;
  gate: Record<string, unknown>;
}

export interface VersionHistory {
  product: string;
  champion_version: string | null;
  versions: VersionRecord[];
}

export interface DriftReport {
  status: string;
  max_psi: number | null;
  generated_at: string;
  features: { name: string; psi: number; level: string }[];
}

export interface ActivityPeriod {
  period: string;
  requests: number;
  ok: number;
  client_errors: number;
  server_errors: number;
  records: number;
  online_records: number;
  batch_records: number;
  means: Record<string, number>;
  counts: Record<string, Record<string, number>>;
}

export interface ProductActivity {
  product: string;
  totals: ActivityPeriod;
  series: ActivityPeriod[];
}

export interface ActivityResponse {
  by: "hour" | "day";
  first: string;
  last: string;
  products: ProductActivity[];
  note: string;
}

// Custom models (finscore/products/custom/api_models.py; `model` is what the champion's manifest says).

export interface CustomReason {
  issue: string;
  field?: string | null;
  row?: number | null;
  file?: string | null;
}

export type Interval = [number, number] | null;

export interface HeldOutMetrics {
  [metric: string]: unknown;
  intervals?: Record<string, Interval>;
  confusion_matrix?: { tn: number; fp: number; fn: number; tp: number };
  threshold?: number | null;
  test_rows?: number;
}

export interface SchemaColumn {
  name: string;
  kind: "numeric" | "categorical" | "boolean" | "date";
  reference: unknown;
  range?: [number | string, number | string] | null;
  range_checked: boolean;
  levels?: string[];
  monotone?: number;
}

export interface ColumnReport {
  name: string;
  kind: string;
  used: boolean;
  reason: string;
  missing_share?: number;
  distinct?: number;
  single_feature_score?: number;
}

export interface LeakageEntry {
  column: string;
  metric: string;
  score: number;
  leaks: boolean;
  allowed: boolean;
  reason: string;
}

export interface CalibrationBin {
  rows: number;
  from: number;
  to: number;
  mean_predicted: number;
  observed_rate: number;
}

export interface CustomModelDetail {
  model: { task: "binary" | "regression"; chosen: string; algorithm: string; outcome: string };
  schema: { target: string; id_column: string | null; columns: SchemaColumn[]; ignored: Record<string, string> };
  columns: ColumnReport[];
  leakage: { rule: string; columns: LeakageEntry[] };
  selection: { chosen: string; metric: string; rule: string; why: string; validation_difference?: number; validation_interval?: Interval; held_out_fallback?: string };
  candidates: Record<string, { algorithm: string; test: HeldOutMetrics; eligible: boolean; note: string }>;
  baseline: HeldOutMetrics | null;
  comparison: { metric: string; rows: number; chosen: string; chosen_value: number; baseline_value: number; difference: number; interval: Interval; chosen_not_worse: boolean; note: string } | null;
  importance: { method: string; columns: Record<string, number> };
  calibration: { method: string | null; table: CalibrationBin[] };
  rows: Record<string, number>;
  target: { task?: string; positive?: unknown; negative?: unknown };
  version: string;
  metrics: HeldOutMetrics;
  primary_metric: string;
  thresholds: { decision?: number; rule?: string };
  trained_at: string;
  training_data: { reference: string; rows: number; split?: Record<string, number> };
}

export interface CustomModel {
  name: string;
  status: "queued" | "training" | "ready" | "failed" | "retired";
  definition: { target: string; task: string; positive_class?: unknown; id_column?: string | null; exclude?: string[]; monotone?: Record<string, number>; as_of_column?: string | null; allow?: string[] };
  training_id: string | null;
  created_at: string;
  updated_at: string;
  reasons: CustomReason[];
  rejected_rows: number;
  model_key: string;
  champion_version: string | null;
  last_run: { version?: string; registered?: boolean; promoted?: boolean; reason?: string; finished_at?: string; primary_metric?: string; metrics?: Record<string, unknown> };
  model: Partial<CustomModelDetail>;
}

export interface CustomScoreResponse {
  name: string;
  model_version: string;
  threshold: number | null;
  results: { index: number; id: unknown; probability: number | null; decision: boolean | null; value: number | null; reasons: { feature: string; value: unknown; reference: unknown; effect: number; text: string }[] }[];
  errors: { index: number; message: string; details: { field: string; issue: string }[] }[];
}
