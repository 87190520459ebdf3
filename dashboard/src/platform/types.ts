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
