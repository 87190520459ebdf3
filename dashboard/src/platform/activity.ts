// What each product served (GET /v1/activity), for the overview's traffic and the products' score trends.
import { get } from "../api";
import type { ActivityResponse } from "./types";

export type Window = "hour" | "day";

/** Hours of the last 2 days, or days of the last 30. */
export const WINDOWS: Record<Window, { days: number; text: string }> = {
  hour: { days: 2, text: "Last 48 hours, by hour" },
  day: { days: 30, text: "Last 30 days, by day" },
};

export function activity(by: Window, product?: string): Promise<ActivityResponse> {
  return get<ActivityResponse>("/activity", { by, days: WINDOWS[by].days, product });
}

/** A period key as a short label: "10:00" for hours (local time), "3 Dec" for days. */
export function periodLabel(period: string, by: Window): string {
  if (by === "hour") {
    const moment = new Date(`${period}:00:00Z`);
    return moment.toLocaleString(undefined, { weekday: "short", hour: "2-digit", minute: "2-digit" });
  }
  return new Date(`${period}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
}
