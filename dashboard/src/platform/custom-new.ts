// The "New model" form: a local table file read in the browser (its header fills the column choices),
// uploaded with PUT /custom-models/{name}/files/{file}, then registered with PUT /custom-models/{name}.
import { call, segment } from "../api";
import { describeError, el, field, go, select } from "../ui";
import { customModelPath } from "./pages";

// What the API takes in a body (finscore/products/custom: UPLOAD_NAME, MAX_BODY_BYTES and NAME_PATTERN).
const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const NAME_PATTERN = "[a-z][a-z0-9\\-]{1,39}";
const FILE_TYPES: Record<string, string> = { csv: "text/csv", jsonl: "application/x-ndjson", json: "application/x-ndjson" };
// Rows read to offer the target's values as the positive class; the header alone names the columns.
const SAMPLE_BYTES = 1024 * 1024;
const MAX_CLASSES_OFFERED = 20;

interface Sample {
  columns: string[];
  rows: Record<string, unknown>[];
}

/** The fields of one CSV line (quoted fields with "" for a quote; a quoted line break is not followed). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { current += '"'; i++; } else if (c === '"') quoted = false; else current += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { fields.push(current); current = ""; } else current += c;
  }
  fields.push(current);
  return fields.map((f) => f.trim());
}

/** The columns of FILE and its first rows, read in the browser. */
async function readSample(file: File, extension: string): Promise<Sample> {
  const text = await file.slice(0, SAMPLE_BYTES).text();
  const lines = text.split(/\r?\n/);
  if (file.size > SAMPLE_BYTES) lines.pop(); // cut mid-line
  if (extension === "csv") {
    const columns = csvFields(lines[0] ?? "").filter(Boolean);
    const rows = lines.slice(1).filter((line) => line.trim()).map((line) => {
      const values = csvFields(line);
      return Object.fromEntries(columns.map((name, i) => [name, values[i] ?? ""]));
    });
    return { columns, rows };
  }
  const trimmed = text.trimStart();
  let rows: Record<string, unknown>[];
  if (trimmed.startsWith("[")) {
    // A JSON array is read whole (the file is at most 5 MB).
    rows = JSON.parse(await file.text()) as Record<string, unknown>[];
  } else {
    rows = lines.filter((line) => line.trim()).map((line, index) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`Line ${index + 1} of ${file.name} is not a JSON object`);
      }
    });
  }
  const columns = [...new Set(rows.flatMap((row) => (row && typeof row === "object" ? Object.keys(row) : [])))];
  return { columns, rows };
}

/** A name the API takes for FILE (letters, digits, '.', '_', '-'). */
function uploadName(file: File, extension: string): string {
  const stem = file.name.slice(0, file.name.length - extension.length - 1).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "");
  return `${(stem || "table").slice(0, 90)}.${extension}`;
}

/** A model name from a file name, for when none is typed yet. */
const nameFrom = (file: File) => file.name.toLowerCase().replace(/\.[^.]*$/, "").replace(/[^a-z0-9]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "").slice(0, 40);

const isMissing = (value: unknown) => value === null || value === undefined || String(value).trim() === "";

export function newModelForm(): HTMLElement {
  const name = el("input", { name: "name", required: true, pattern: NAME_PATTERN, autocomplete: "off", placeholder: "credit-default", title: "Lowercase letters, digits and '-', 2-40 characters, starting with a letter" });
  const file = el("input", { name: "file", type: "file", required: true, accept: ".csv,.jsonl,.json,text/csv,application/json" });
  const target = el("select", { name: "target", required: true, disabled: true }, el("option", { value: "" }, "choose a file first"));
  const task = select("task", [["binary", "binary: a yes/no outcome (probability)"], ["regression", "regression: a number"]], "binary");
  const positive = el("select", { name: "positive_class", disabled: true });
  const idColumn = el("select", { name: "id_column", disabled: true });
  const asOf = el("select", { name: "as_of_column", disabled: true });
  const options = el("div", { class: "table-wrap" });
  const note = el("p", { class: "muted", role: "status", "aria-live": "polite" });
  const submit = el("button", { type: "submit" }, "Upload and train");
  const positiveField = field("Positive class (the outcome the probability is of)", positive);
  let sample: Sample | null = null;
  let extension = "";

  const none = (text: string) => el("option", { value: "" }, text);
  const columnOptions = (control: HTMLSelectElement, first: HTMLOptionElement, columns: string[]) => {
    control.replaceChildren(first, ...columns.map((column) => el("option", { value: column }, column)));
    control.disabled = false;
  };
  const classesOf = (column: string) => [...new Set((sample?.rows ?? []).map((row) => row[column]).filter((v) => !isMissing(v)).map(String))];

  const fillPositive = () => {
    const classes = classesOf(target.value);
    positive.replaceChildren(none("default: 1 / true / yes"),
      ...(classes.length <= MAX_CLASSES_OFFERED ? classes.sort() : []).map((value) => el("option", { value }, value)));
    positive.disabled = !target.value;
    positiveField.hidden = task.value !== "binary";
  };

  // One row per column: take it out of the features, constrain its direction, or overrule the leakage guard.
  const fillOptions = () => {
    const columns = (sample?.columns ?? []).filter((column) => ![target.value, idColumn.value, asOf.value].includes(column));
    if (!columns.length) {
      options.replaceChildren();
      return;
    }
    options.replaceChildren(el("table", {},
      el("thead", {}, el("tr", {}, ...["Column", "Exclude", "Monotone", "Keep if flagged as leaking"].map((title) => el("th", { scope: "col" }, title)))),
      el("tbody", {}, ...columns.map((column) => el("tr", { "data-column": column },
        el("th", { scope: "row" }, column),
        el("td", {}, el("input", { type: "checkbox", name: "exclude", value: column, "aria-label": `Exclude ${column}` })),
        el("td", {}, el("select", { name: "monotone", "aria-label": `Monotone direction of ${column}` },
          el("option", { value: "" }, "free"), el("option", { value: "1" }, "score never falls as it rises"), el("option", { value: "-1" }, "score never rises as it rises"))),
        el("td", {}, el("input", { type: "checkbox", name: "allow", value: column, "aria-label": `Keep ${column} even if flagged as leaking` })))))));
  };

  file.addEventListener("change", async () => {
    sample = null;
    for (const control of [target, positive, idColumn, asOf]) control.disabled = true;
    const chosen = file.files?.[0];
    if (!chosen) return;
    extension = chosen.name.split(".").pop()?.toLowerCase() ?? "";
    note.className = "muted";
    if (!(extension in FILE_TYPES)) {
      note.className = "state error";
      note.textContent = `${chosen.name} is not a .csv, .jsonl or .json file. Parquet and Excel files go to the data bucket directly (aws s3 cp, or finscore custom create).`;
      return;
    }
    if (chosen.size > MAX_UPLOAD_BYTES) {
      note.className = "state error";
      note.textContent = `${chosen.name} is ${(chosen.size / 1024 / 1024).toFixed(1)} MB; the API takes files up to 5 MB. Put larger files under training/custom/<name>/ in the data bucket (aws s3 cp, or finscore custom create).`;
      return;
    }
    try {
      sample = await readSample(chosen, extension);
    } catch (error) {
      note.className = "state error";
      note.textContent = `Could not read ${chosen.name}: ${describeError(error)}`;
      return;
    }
    if (!sample.columns.length) {
      note.className = "state error";
      note.textContent = `${chosen.name} has no columns.`;
      return;
    }
    columnOptions(target, none("choose the column to predict"), sample.columns);
    columnOptions(idColumn, none("none"), sample.columns);
    columnOptions(asOf, none("none: a seeded shuffle"), sample.columns);
    if (!name.value) name.value = nameFrom(chosen);
    note.textContent = `${chosen.name}: ${sample.columns.length} columns, ${(chosen.size / 1024).toFixed(0)} KB. Choose the target.`;
    fillPositive();
    fillOptions();
  });
  target.addEventListener("change", () => {
    // Two values are a yes/no outcome; many numbers are a quantity.
    const classes = classesOf(target.value);
    if (classes.length > 2 && classes.every((value) => Number.isFinite(Number(value)))) task.value = "regression";
    else if (classes.length === 2) task.value = "binary";
    fillPositive();
    fillOptions();
  });
  task.addEventListener("change", fillPositive);
  idColumn.addEventListener("change", fillOptions);
  asOf.addEventListener("change", fillOptions);

  const form = el("form", { "aria-label": "New custom model" },
    el("div", { class: "form-grid" },
      field("Name", name), field("Table file (CSV or JSON Lines, up to 5 MB)", file), field("Target (the column to predict)", target),
      field("Task", task), positiveField, field("Id column (identifies rows; never a feature)", idColumn),
      field("As-of column (split by time: oldest rows train)", asOf)),
    el("details", {}, el("summary", {}, "Column options: exclude, monotone, leakage override"), options),
    el("p", { class: "muted" }, "Every file under training/custom/<name>/ in the data bucket is trained on: an upload adds to the files already there."),
    submit, " ", note);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen || !sample || !target.value) {
      note.className = "state error";
      note.textContent = "Choose a table file and its target column first.";
      return;
    }
    const checked = (group: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name=${group}]:checked`)].map((box) => box.value);
    const monotone = Object.fromEntries([...form.querySelectorAll<HTMLTableRowElement>("tr[data-column]")]
      .map((row) => [row.dataset.column!, Number(row.querySelector<HTMLSelectElement>("select[name=monotone]")!.value)])
      .filter(([, direction]) => direction !== 0));
    const definition = {
      target: target.value, task: task.value,
      positive_class: task.value === "binary" && positive.value ? positive.value : undefined,
      id_column: idColumn.value || undefined, as_of_column: asOf.value || undefined,
      exclude: checked("exclude"), allow: checked("allow"), monotone,
    };
    const model = name.value.trim();
    submit.disabled = true;
    note.className = "muted";
    try {
      const stored = uploadName(chosen, extension);
      note.textContent = `Uploading ${stored} (${(chosen.size / 1024).toFixed(0)} KB)…`;
      await call("PUT", `/custom-models/${segment(model)}/files/${segment(stored)}`, { admin: true, file: { data: chosen, type: FILE_TYPES[extension] } });
      note.textContent = "Registering the model and starting its training…";
      await call("PUT", `/custom-models/${segment(model)}`, { admin: true, body: definition });
      go(customModelPath(model));
    } catch (error) {
      note.className = "state error";
      note.textContent = describeError(error);
      submit.disabled = false;
    }
  });
  return el("section", { class: "panel" }, el("h2", {}, "New model"), form);
}
