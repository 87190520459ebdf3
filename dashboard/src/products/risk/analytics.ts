// The champion's held-out evaluation: ROC and PR curves, confusion matrix, calibration by level, importance.
import { get } from "../../api";
import { barOption, chart, LEVEL_COLOURS } from "../../charts";
import { el, fmt, section, stats, table } from "../../ui";
import type { PageModule } from "../types";

interface Report {
  version: string;
  report: {
    metrics: Record<string, number> & { confusion_matrix: { tn: number; fp: number; fn: number; tp: number } };
    levels: Record<string, { customers: number; share: number; default_rate: number }>;
    feature_importance: Record<string, number>;
    curves?: { roc: { fpr: number[]; tpr: number[] }; pr: { recall: number[]; precision: number[] } };
    chosen_algorithm?: string;
  };
}

const curve = (label: string, x: number[], y: number[], xName: string, yName: string, diagonal: boolean) =>
  chart(label, {
    tooltip: { trigger: "axis" },
    grid: { left: 8, right: 16, top: 32, bottom: 28, containLabel: true },
    xAxis: { type: "value", min: 0, max: 1, name: xName, nameLocation: "middle", nameGap: 24 },
    yAxis: { type: "value", min: 0, max: 1, name: yName, nameTextStyle: { align: "left" } },
    series: [
      { type: "line", data: x.map((value, i) => [value, y[i]]), showSymbol: false, areaStyle: { opacity: 0.08 } },
      ...(diagonal ? [{ type: "line", data: [[0, 0], [1, 1]], showSymbol: false, lineStyle: { type: "dashed", color: "#999" } }] : []),
    ],
  }, x.length);

export const render: PageModule["render"] = () =>
  el("div", {}, el("h1", {}, "Risk analytics"),
    section("Held-out evaluation of the champion", async (body) => {
      const { version, report } = await get<Report>("/models/risk/report");
      const m = report.metrics;
      const cm = m.confusion_matrix;
      body.append(
        stats([
          ["Version", version], ["Algorithm", report.chosen_algorithm ?? "—"],
          ["ROC-AUC", fmt.number(m.roc_auc, 3)], ["PR-AUC", fmt.number(m.pr_auc, 3)],
          ["Precision", fmt.number(m.precision, 3)], ["Recall", fmt.number(m.recall, 3)], ["F1", fmt.number(m.f1, 3)],
          ["Brier", fmt.number(m.brier, 4)], ["Score for 80% recall", fmt.number(m.threshold_for_80_recall, 1)],
          ["Test rows", fmt.number(m.test_rows)],
        ]),
        report.curves
          ? el("div", { class: "grid" },
            el("div", {}, el("h2", {}, "ROC curve"), curve("ROC curve on the held-out test split", report.curves.roc.fpr, report.curves.roc.tpr, "False positive rate", "True positive rate", true)),
            el("div", {}, el("h2", {}, "Precision-recall curve"), curve("Precision-recall curve on the held-out test split", report.curves.pr.recall, report.curves.pr.precision, "Recall", "Precision", false)))
          : el("p", { class: "state empty" }, "This champion's report has no curve points (it was trained before they were recorded); retrain to see the curves."),
        el("div", { class: "grid" },
          el("div", {}, el("h2", {}, `Confusion matrix (score ≥ ${fmt.number(m.decision_threshold, 1)})`),
            chart("Confusion matrix on the held-out test split", {
              tooltip: { position: "top" },
              grid: { left: 8, right: 16, top: 8, bottom: 48, containLabel: true },
              xAxis: { type: "category", data: ["predicted: no", "predicted: yes"], name: "" },
              yAxis: { type: "category", data: ["actual: yes", "actual: no"] },
              visualMap: { min: 0, max: Math.max(cm.tn, cm.fp, cm.fn, cm.tp), calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80 },
              series: [{ type: "heatmap", label: { show: true }, data: [[0, 1, cm.tn], [1, 1, cm.fp], [0, 0, cm.fn], [1, 0, cm.tp]] }],
            }, 4)),
          el("div", {}, el("h2", {}, "Calibration by level"),
            chart("Observed default rate of held-out customers per risk level", barOption(Object.keys(report.levels),
              [{ name: "observed default rate", data: Object.values(report.levels).map((l) => Number(l.default_rate.toFixed(4))), colour: Object.keys(report.levels).map((l) => LEVEL_COLOURS[l] ?? "#1f5fbf") }]), Object.keys(report.levels).length),
            table(Object.entries(report.levels), [
              { title: "Level", value: ([level]) => level },
              { title: "Customers", value: ([, l]) => fmt.number(l.customers), numeric: true },
              { title: "Share", value: ([, l]) => fmt.percent(l.share), numeric: true },
              { title: "Default rate", value: ([, l]) => fmt.percent(l.default_rate), numeric: true },
            ]))),
        el("h2", {}, "Feature importance (share of split gain)"),
        chart("Feature importance", barOption(Object.keys(report.feature_importance).slice(0, 12).reverse(),
          [{ name: "share", data: Object.values(report.feature_importance).slice(0, 12).reverse() }], true), 12, 360));
    }));
