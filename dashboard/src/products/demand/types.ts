// Response shapes of the demand routes the pages read.

export interface RegionSummary {
  region_id: string;
  pincode_count: number;
  cities: string[];
  total_demand: number;
  top_product: string;
  top_channel: string;
  demand_rise_flag: boolean;
}

export interface RegionDetail {
  region_id: string;
  pincodes: string[];
  cities: string[];
  total_demand: number;
  avg_demand_per_pincode: number;
  products: { distribution: Record<string, number>; top_product: string };
  channels: { distribution: Record<string, number>; top_channel: string };
  growth: number;
  demand_rise_flag: boolean;
  model_version: string;
  as_of: string;
}
