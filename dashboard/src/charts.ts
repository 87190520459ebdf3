// Charts through ECharts, loaded on first use (its own chunk); only the chart types the pages draw are bundled.
import type { EChartsCoreOption } from "echarts/core";
import { el } from "./ui";

type Engine = typeof import("./echarts");
let engine: Promise<Engine> | null = null;

function loadEngine(): Promise<Engine> {
  engine ??= import("./echarts");
  return engine;
}

const live = new Set<{ resize: () => void }>();
window.addEventListener("resize", () => live.forEach((instance) => instance.resize()));

/** A chart of POINTS data points described by OPTION; the figure carries its label for screen readers. */
export function chart(label: string, option: EChartsCoreOption, points: number, height = 280): HTMLElement {
  const canvas = el("div", { class: "chart", style: `height:${height}px`, role: "img", "aria-label": label });
  const figure = el("figure", { class: "chart-figure", "data-chart": "loading", "data-points": points }, canvas);
  void loadEngine().then((core) => {
    const instance = core.init(canvas, undefined, { renderer: "canvas" });
    instance.setOption({ animation: false, textStyle: { fontFamily: "inherit" }, ...option });
    live.add(instance);
    figure.dataset.chart = "ready";
    // Charts drawn before their page is attached measure zero; draw again once laid out.
    requestAnimationFrame(() => instance.resize());
    new MutationObserver((_, observer) => {
      if (!canvas.isConnected) {
        live.delete(instance);
        instance.dispose();
        observer.disconnect();
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  return figure;
}

export const LEVEL_COLOURS: Record<string, string> = { low: "#2e7d32", medium: "#f9a825", high: "#ef6c00", critical: "#c62828" };

export function barOption(categories: string[], series: { name: string; data: number[]; colour?: string | string[] }[], horizontal = false): EChartsCoreOption {
  const category = { type: "category", data: categories, axisLabel: { hideOverlap: true } };
  const value = { type: "value" };
  return {
    tooltip: { trigger: "axis" },
    legend: series.length > 1 ? {} : undefined,
    grid: { left: 8, right: 16, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
    xAxis: horizontal ? value : category,
    yAxis: horizontal ? category : value,
    series: series.map((s) => ({
      type: "bar", name: s.name,
      data: Array.isArray(s.colour) ? s.data.map((v, i) => ({ value: v, itemStyle: { color: s.colour![i] } })) : s.data,
      itemStyle: typeof s.colour === "string" ? { color: s.colour } : undefined,
    })),
  };
}
