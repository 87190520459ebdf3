// One custom model: its status followed live while it trains, why a run failed or which rows it refused,
// its model card as pages (columns used and refused, leakage, held-out metrics against the baseline,
// calibration, importance, threshold), a score form built from its inferred schema, and its versions.
import { call, get, getText, post, segment } from "../api";
import { barOption, chart } from "../charts";
import type { PageModule } from "../products/types";
import { badge, describeError, el, empty, field, fmt, link, run, section, stats, table } from "../ui";
import { adminAction, versionsBody } from "./models";
import { CUSTOM_MODELS } from "./pages";
import type { CustomModel, CustomModelDetail, CustomScoreResponse, HeldOutMetrics, Interval, SchemaColumn } from "./types";

const POLL_MS = 2000;
const ACTIVE = new Set(["queued", "training"]);
// Levels a categorical column's codes hold besides the table's values (finscore/products/custom/schema.py).
const OTHER = "__other__";
const MISSING = "__missing__";
const BINARY_SHOWN = ["roc_auc", "pr_auc", "ks", "brier", "log_loss"];
const REGRESSION_SHOWN = ["r2", "mae", "rmse"];
const LOWER_IS_BETTER = new Set(["brier", "log_loss", "mae", "rmse"]);

const interval = (value: Interval | undefined) => (value ? `${fmt.number(value[0], 3)} to ${fmt.number(value[1], 3)}` : "—");
const shown = (value: unknown) => (value === null || value === undefined || value === "" ? "—" : typeof value === "number" ? fmt.number(value, 4) : String(value));

function statusPanel(model: CustomModel): HTMLElement {
  const active = ACTIVE.has(model.status);
  const last = model.last_run;
  const body = el("div", {},
    stats([
      ["Status", el("span", { "data-status": model.status }, badge(model.status))],
      ["Task", `${model.definition.task} · target ${model.definition.target}`],
      ["Serving version", model.champion_version ?? "none yet"],
      ["Updated", fmt.time(model.updated_at)],
    ]),
    active ? el("p", { class: "progress", role: "status" }, model.status === "queued"
      ? "Queued: training starts in a moment. This page follows it."
      : "Training: profiling the columns, guarding against leakage, fitting and comparing the candidates. This page follows it.") : null,
    last.reason ? el("p", {}, "Last run: ", last.registered === false ? badge("not registered", "failed") : badge(last.promoted ? "promoted" : "not promoted", last.promoted ? "ok" : "warn"), ` ${last.reason}`, last.finished_at ? el("span", { class: "muted" }, ` (${fmt.time(last.finished_at)})`) : null) : null);
  if (model.reasons.length) {
    const failed = model.status === "failed";
    body.append(
      el("h3", {}, failed ? "Why the last run failed" : `Rows not trained on (the first ${model.reasons.length} of ${fmt.number(model.rejected_rows)})`),
      table(model.reasons, [
        { title: "File", value: (r) => r.file ?? "—" },
        { title: "Row", value: (r) => r.row ?? "—", numeric: true },
        { title: "Column", value: (r) => r.field ?? "—" },
        { title: "Issue", value: (r) => r.issue },
      ]));
  }
  return el("section", { class: "panel", "aria-live": "polite" }, el("h2", {}, "Training status"), body);
}

/** Each candidate's held-out metrics with intervals, the served one first, and the comparison's note. */
function metricsPanel(detail: Partial<CustomModelDetail>): HTMLElement {
  const names = Object.keys(detail.candidates ?? {}).sort((a, b) => Number(b === detail.model?.chosen) - Number(a === detail.model?.chosen));
  const metrics = detail.model?.task === "regression" ? REGRESSION_SHOWN : BINARY_SHOWN;
  const test = (name: string): HeldOutMetrics => detail.candidates![name].test;
  const comparison = detail.comparison;
  const title = (name: string) => `${name} (${detail.candidates![name].algorithm})${name === detail.model?.chosen ? ", served" : ""}`;
  return section("Held-out metrics: chosen model against the baseline", (body) => {
    if (!names.length) {
      body.append(empty("This version's manifest has no candidate metrics."));
      return;
    }
    const rows = detail.rows ?? {};
    body.append(
      stats([
        ["Chosen", `${detail.model?.chosen} (${detail.model?.algorithm})`],
        ["Rows", `${fmt.number(rows.in)} in, ${fmt.number(rows.rejected)} rejected`],
        ["Split", `train ${fmt.number(rows.train)} · validation ${fmt.number(rows.validation)} · test ${fmt.number(rows.test)}`],
      ]),
      // When boosting won on validation but lost on the held-out rows, the comparison's note says why the baseline serves.
      detail.selection && !detail.selection.held_out_fallback ? el("p", {}, `Chosen because ${detail.selection.why}.`) : "",
      table(metrics, [
        { title: "Metric (test)", value: (m) => `${m}${LOWER_IS_BETTER.has(m) ? " (lower is better)" : ""}` },
        ...names.flatMap((name) => [
          { title: title(name), value: (m: string) => fmt.number(test(name)[m] as number, 4), numeric: true },
          { title: "95% interval", value: (m: string) => interval(test(name).intervals?.[m]), numeric: true },
        ]),
      ]),
      chart(`Held-out ${metrics.join(", ")} of each candidate`, barOption(metrics,
        names.map((name, i) => ({ name: title(name), data: metrics.map((m) => Number(test(name)[m] ?? 0)), colour: i === 0 ? "#1f5fbf" : "#9aa5b4" }))),
      metrics.length * names.length, 260),
      comparison
        ? el("p", {}, `Chosen minus baseline on the same ${fmt.number(comparison.rows)} test rows, ${comparison.metric}: `,
          el("strong", {}, `${comparison.difference >= 0 ? "+" : ""}${fmt.number(comparison.difference, 4)}`),
          ` (95% interval ${interval(comparison.interval)}). ${comparison.note.charAt(0).toUpperCase()}${comparison.note.slice(1)}.`)
        : "",
      detail.selection ? el("p", { class: "muted" }, `Choice rule: ${detail.selection.rule}.`) : "");
  });
}

function calibrationPanel(detail: Partial<CustomModelDetail>): HTMLElement {
  const bins = detail.calibration?.table ?? [];
  const binary = detail.model?.task !== "regression";
  const axis = binary ? { min: 0, max: 1 } : { scale: true };
  const ends = bins.length ? [Math.min(...bins.map((b) => Math.min(b.mean_predicted, b.observed_rate))), Math.max(...bins.map((b) => Math.max(b.mean_predicted, b.observed_rate)))] : [0, 1];
  return section("Calibration (test rows in equal bins)", (body) => {
    if (!bins.length) {
      body.append(empty("This version has no calibration table."));
      return;
    }
    body.append(
      chart(binary ? "Observed rate against mean predicted probability per bin of test rows" : "Mean observed value against mean prediction per bin of test rows", {
        tooltip: { trigger: "item" },
        grid: { left: 8, right: 16, top: 32, bottom: 28, containLabel: true },
        legend: {},
        xAxis: { type: "value", name: binary ? "mean predicted probability" : "mean prediction", nameLocation: "middle", nameGap: 24, ...axis },
        yAxis: { type: "value", name: binary ? "observed rate" : "mean observed", ...axis },
        series: [
          { type: "line", name: "observed", data: bins.map((b) => [b.mean_predicted, b.observed_rate]), symbolSize: 8 },
          { type: "line", name: "perfect calibration", data: binary ? [[0, 0], [1, 1]] : [[ends[0], ends[0]], [ends[1], ends[1]]], showSymbol: false, lineStyle: { type: "dashed", color: "#999" } },
        ],
      }, bins.length),
      table(bins, [
        { title: "Rows", value: (b) => fmt.number(b.rows), numeric: true },
        { title: "Predicted from", value: (b) => fmt.number(b.from, 4), numeric: true },
        { title: "to", value: (b) => fmt.number(b.to, 4), numeric: true },
        { title: "Mean predicted", value: (b) => fmt.number(b.mean_predicted, 4), numeric: true },
        { title: binary ? "Observed rate" : "Mean observed", value: (b) => fmt.number(b.observed_rate, 4), numeric: true },
      ]),
      detail.calibration?.method ? el("p", { class: "muted" }, `Calibrated by ${detail.calibration.method} scaling fitted on the validation split.`) : "");
  });
}

function importancePanel(detail: Partial<CustomModelDetail>): HTMLElement {
  const entries = Object.entries(detail.importance?.columns ?? {});
  return section("Importance", (body) => {
    if (!entries.length) {
      body.append(empty("This version has no importance measurement."));
      return;
    }
    const ordered = entries.slice().reverse();
    body.append(
      chart(`Importance of each column: ${detail.importance!.method}`, barOption(ordered.map(([name]) => name),
        [{ name: `${detail.primary_metric} lost`, data: ordered.map(([, value]) => value), colour: ordered.map(([, value]) => (value >= 0 ? "#1f5fbf" : "#9aa5b4")) }], true),
      entries.length, 60 + 28 * entries.length),
      el("p", { class: "muted" }, `${detail.importance!.method}: how much ${detail.primary_metric} falls when a column's values are shuffled across rows.`));
  });
}

function thresholdPanel(detail: Partial<CustomModelDetail>): HTMLElement | null {
  const cm = detail.metrics?.confusion_matrix;
  if (detail.model?.task === "regression" || !cm) return null;
  const outcome = detail.model?.outcome || "positive";
  return section("Threshold and confusion matrix (test)", (body) => {
    body.append(
      stats([
        ["Decision threshold", fmt.number(detail.thresholds?.decision, 4)],
        ["Precision", fmt.number(detail.metrics?.precision as number, 3)],
        ["Recall", fmt.number(detail.metrics?.recall as number, 3)],
        ["F1", fmt.number(detail.metrics?.f1 as number, 3)],
      ]),
      chart(`Confusion matrix of the test rows at the threshold (${outcome})`, {
        tooltip: { position: "top" },
        grid: { left: 8, right: 16, top: 8, bottom: 48, containLabel: true },
        xAxis: { type: "category", data: ["predicted: no", "predicted: yes"] },
        yAxis: { type: "category", data: ["actual: yes", "actual: no"] },
        visualMap: { min: 0, max: Math.max(cm.tn, cm.fp, cm.fn, cm.tp, 1), calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 80 },
        series: [{ type: "heatmap", label: { show: true }, data: [[0, 1, cm.tn], [1, 1, cm.fp], [0, 0, cm.fn], [1, 0, cm.tp]] }],
      }, 4, 240),
      el("p", { class: "muted" }, `"yes" is ${outcome}. ${detail.thresholds?.rule ?? ""}.`));
  });
}

function columnsPanel(detail: Partial<CustomModelDetail>): HTMLElement {
  const leakage = detail.leakage;
  const flagged = (leakage?.columns ?? []).slice().sort((a, b) => b.score - a.score);
  return section("Columns used and refused", (body) => {
    body.append(table(detail.columns ?? [], [
      { title: "Column", value: (c) => c.name, sort: (c) => c.name },
      { title: "Kind", value: (c) => c.kind, sort: (c) => c.kind },
      { title: "Used", value: (c) => (c.used ? badge("used", "ok") : badge("not used", c.kind === "target" || c.kind === "id" ? "none" : "alert")), sort: (c) => String(c.used) },
      { title: "Why", value: (c) => c.reason },
      { title: "Missing", value: (c) => fmt.percent(c.missing_share), numeric: true, sort: (c) => c.missing_share ?? 0 },
      { title: "Alone (validation)", value: (c) => fmt.number(c.single_feature_score, 3), numeric: true, sort: (c) => c.single_feature_score ?? 0 },
    ], "This version's manifest has no column report."),
    el("h3", {}, "Leakage report"),
    el("p", { class: "muted" }, `Rule: ${leakage?.rule ?? "—"}.`),
    table(flagged, [
      { title: "Column", value: (l) => l.column },
      { title: "Score alone", value: (l) => `${l.metric} ${fmt.number(l.score, 3)}`, numeric: true },
      { title: "Verdict", value: (l) => (l.leaks ? badge(l.allowed ? "kept: allowed by the definition" : "refused", l.allowed ? "warn" : "alert") : badge("kept", "ok")) },
      { title: "Reason", value: (l) => l.reason || "—" },
    ], "No column was checked for leakage."));
  });
}

/** The card's limitations (Markdown, "## Limitations" then "- " items) and the card itself to keep. */
function cardPanel(name: string): HTMLElement {
  return section("Model card", async (body) => {
    const markdown = await getText(`/custom-models/${segment(name)}/card`);
    const after = markdown.split(/^## Limitations\s*$/m)[1] ?? "";
    const limitations = after.split(/^## /m)[0].split("\n").filter((line) => line.startsWith("- ")).map((line) => line.slice(2));
    const download = el("button", { type: "button", class: "secondary" }, "Download the card (Markdown)");
    download.addEventListener("click", () => {
      const anchor = el("a", { href: URL.createObjectURL(new Blob([markdown], { type: "text/markdown" })), download: `${name}-model-card.md` });
      anchor.click();
      URL.revokeObjectURL(anchor.href);
    });
    body.append(el("h3", {}, "Limitations"), limitations.length ? el("ul", {}, ...limitations.map((text) => el("li", {}, text))) : empty("The card lists no limitations."), download);
  });
}

/** One input per column the model uses, of its kind, filled with the training split's typical value. */
function scoreInput(column: SchemaColumn): [HTMLElement, () => unknown] {
  const hint = column.range ? ` (training: ${shown(column.range[0])} to ${shown(column.range[1])})` : "";
  if (column.kind === "categorical") {
    const levels = (column.levels ?? []).filter((level) => level !== OTHER && level !== MISSING).sort();
    const control = el("select", { name: column.name, "data-kind": column.kind },
      el("option", { value: "" }, "(missing)"), ...levels.map((level) => el("option", { value: level, selected: level === column.reference }, level)));
    return [field(`${column.name}: category`, control), () => control.value || null];
  }
  if (column.kind === "boolean") {
    const control = el("select", { name: column.name, "data-kind": column.kind },
      el("option", { value: "" }, "(missing)"), el("option", { value: "true", selected: column.reference === true }, "yes"), el("option", { value: "false", selected: column.reference === false }, "no"));
    return [field(`${column.name}: yes / no`, control), () => (control.value === "" ? null : control.value === "true")];
  }
  if (column.kind === "date") {
    const control = el("input", { name: column.name, type: "date", "data-kind": column.kind, value: String(column.reference ?? "") });
    return [field(`${column.name}: date${hint}`, control), () => control.value || null];
  }
  const control = el("input", { name: column.name, type: "number", step: "any", "data-kind": column.kind, value: column.reference === null || column.reference === undefined ? "" : String(column.reference) });
  return [field(`${column.name}: number${hint}`, control), () => (control.value === "" ? null : Number(control.value))];
}

function scorePanel(name: string, detail: Partial<CustomModelDetail>): HTMLElement {
  return section("Score a record", (body) => {
    const columns = detail.schema?.columns ?? [];
    const inputs = columns.map(scoreInput);
    const idName = detail.schema?.id_column;
    const id = idName ? el("input", { name: idName, required: true, value: "dashboard-1", autocomplete: "off" }) : null;
    const answer = el("div", { "aria-live": "polite" });
    const form = el("form", { "aria-label": `Score a record with ${name}` },
      el("div", { class: "form-grid" }, ...(id ? [field(`${idName}: the id column`, id)] : []), ...inputs.map(([element]) => element)),
      el("button", { type: "submit" }, "Score"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const record: Record<string, unknown> = Object.fromEntries(columns.map((column, i) => [column.name, inputs[i][1]()]).filter(([, value]) => value !== null));
      if (id && idName) record[idName] = id.value;
      void run(answer, async (holder) => {
        const scored = await post<CustomScoreResponse>(`/custom-models/${segment(name)}/score`, { records: [record] });
        const error = scored.errors[0];
        if (error) {
          holder.append(el("p", { class: "state error", role: "alert" }, `${error.message}: ${error.details.map((d) => `${d.field}: ${d.issue}`).join("; ")}`));
          return;
        }
        const result = scored.results[0];
        const outcome = detail.model?.outcome || "positive";
        holder.append(
          el("div", { "data-score": "", "data-probability": result.probability ?? undefined, "data-value": result.value ?? undefined },
            stats(result.probability !== null
              ? [["Probability", `${fmt.percent(result.probability)} that ${outcome}`],
                ["Decision", badge(result.decision ? `predicts ${outcome}` : "below the threshold", result.decision ? "warn" : "ok")],
                ["Threshold", fmt.number(scored.threshold, 4)], ["Version", scored.model_version]]
              : [["Value", fmt.number(result.value, 4)], ["Version", scored.model_version]])),
          el("h3", {}, "Reasons"),
          table(result.reasons, [
            { title: "Column", value: (r) => r.feature },
            { title: "Value", value: (r) => shown(r.value) },
            { title: "Typical", value: (r) => shown(r.reference) },
            { title: "Effect", value: (r) => `${r.effect >= 0 ? "+" : ""}${fmt.number(r.effect, 4)}`, numeric: true },
            { title: "Why", value: (r) => r.text },
          ], "No column moved this score away from the typical record's."));
      });
    });
    body.append(
      el("p", { class: "muted" }, "Filled with each column's typical training value; change any and score. A value outside what the model knows is refused with the reason."),
      form, answer);
  });
}

function adminPanel(model: CustomModel, refresh: () => void): HTMLElement {
  const base = `/custom-models/${segment(model.name)}`;
  return el("section", { class: "panel" }, el("h2", {}, "Administer"),
    el("p", {}, adminAction("Retrain from the stored definition", () => call("POST", `${base}/retrain`, { admin: true, body: {} }), refresh), " ",
      model.status === "retired" ? el("span", { class: "muted" }, "Retired: it no longer scores. Register it again from the custom models page.")
        : adminAction("Retire (stops scoring)", () => call("DELETE", base, { admin: true }), refresh)));
}

export const render: PageModule["render"] = async ({ params, admin }) => {
  const name = params.get("name")!;
  const path = `/custom-models/${segment(name)}`;
  const page = el("div");
  let attached = false;
  let current: CustomModel | null = null;
  let poll: number | undefined;

  const draw = (model: CustomModel) => {
    const previous = current;
    current = model;
    const detail = model.model;
    const status = statusPanel(model);
    status.dataset.part = "status";
    const drawn = page.querySelector("[data-part=status]");
    // While a run is in progress only the status changes: the card of the serving version stays as drawn.
    if (drawn && previous && previous.status === model.status && previous.champion_version === model.champion_version) {
      drawn.replaceWith(status);
      return;
    }
    page.replaceChildren(
      el("h1", {}, `${model.name}: custom model`),
      el("p", {}, link(CUSTOM_MODELS.path, "All custom models")),
      status,
      ...(detail.version ? [
        metricsPanel(detail),
        el("div", { class: "grid" }, calibrationPanel(detail), importancePanel(detail)),
        el("div", { class: "grid" }, thresholdPanel(detail), cardPanel(model.name)),
        columnsPanel(detail),
        scorePanel(model.name, detail),
      ] : [empty(ACTIVE.has(model.status) ? "The model card appears here when training has finished." : "No version of this model serves yet, so there is no model card.")]),
      model.champion_version || detail.version ? el("section", { class: "panel" }, el("h2", {}, "Versions"), versionsBody(path, admin)) : "",
      admin ? adminPanel(model, () => void follow()) : "",
    );
  };

  // Follow the model every POLL_MS while it is queued or training; stop once it settles or the page is left.
  const follow = async () => {
    window.clearTimeout(poll);
    attached ||= page.isConnected;
    if (attached && !page.isConnected) return;
    try {
      draw(await get<CustomModel>(path));
    } catch (error) {
      page.querySelector("[data-part=status] [data-refresh]")?.remove();
      page.querySelector("[data-part=status]")?.append(el("p", { class: "state error", role: "alert", "data-refresh": "" }, `Could not refresh: ${describeError(error)}`));
    }
    if (current && ACTIVE.has(current.status)) poll = window.setTimeout(() => void follow(), POLL_MS);
  };

  draw(await get<CustomModel>(path));
  if (ACTIVE.has(current!.status)) poll = window.setTimeout(() => void follow(), POLL_MS);
  return page;
};
