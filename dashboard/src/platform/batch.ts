// Files scored from incoming/<product>/: each with its manifest (rows in, scored, rejected, timings) and rejects.
import { get } from "../api";
import { barOption, chart } from "../charts";
import type { PageModule } from "../products/types";
import { el, empty, fmt, section, table } from "../ui";

interface BatchFile {
  product: string;
  name: string;
  manifest: { rows_in?: number; scored?: number; rejected?: number; model_version?: string | null; finished_at?: string; error?: string; timings?: Record<string, number>; format?: string };
  rejects: { row: number; reason: string }[];
}

export const render: PageModule["render"] = () =>
  el("div", {}, el("h1", {}, "Batch files"),
    el("p", { class: "muted" }, "Files dropped under incoming/<product>/ in the data bucket are scored into scored/<product>/<file>/; every input row is either scored or listed as a reject."),
    section("Scored files", async (body) => {
      const { files } = await get<{ files: BatchFile[] }>("/batch/files", { limit: 50 });
      if (!files.length) {
        body.append(empty("No file has been scored yet. Drop a CSV, JSON Lines or Parquet file under incoming/<product>/ in the data bucket."));
        return;
      }
      body.append(
        chart("Rows scored and rejected per file", barOption(files.map((f) => `${f.product}/${f.name}`),
          [{ name: "scored", data: files.map((f) => f.manifest.scored ?? 0), colour: "#2e7d32" }, { name: "rejected", data: files.map((f) => f.manifest.rejected ?? 0), colour: "#c62828" }], true),
          files.length, 80 + 36 * files.length),
        table(files, [
          { title: "Product", value: (f) => f.product, sort: (f) => f.product },
          { title: "File", value: (f) => f.name, sort: (f) => f.name },
          { title: "Rows in", value: (f) => fmt.number(f.manifest.rows_in), numeric: true, sort: (f) => f.manifest.rows_in ?? 0 },
          { title: "Scored", value: (f) => fmt.number(f.manifest.scored), numeric: true, sort: (f) => f.manifest.scored ?? 0 },
          { title: "Rejected", value: (f) => fmt.number(f.manifest.rejected), numeric: true, sort: (f) => f.manifest.rejected ?? 0 },
          { title: "Model", value: (f) => f.manifest.model_version ?? f.manifest.error ?? "—" },
          { title: "Finished", value: (f) => fmt.time(f.manifest.finished_at), sort: (f) => f.manifest.finished_at ?? "" },
        ]));
      for (const file of files.filter((f) => f.rejects.length)) {
        body.append(el("details", {}, el("summary", {}, `Rejects of ${file.product}/${file.name} (first ${file.rejects.length} of ${fmt.number(file.manifest.rejected)})`),
          table(file.rejects, [{ title: "Row", value: (r) => r.row, numeric: true }, { title: "Reason", value: (r) => r.reason }])));
      }
    }));
