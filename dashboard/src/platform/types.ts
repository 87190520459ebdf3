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
