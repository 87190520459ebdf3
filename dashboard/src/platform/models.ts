// A product's model versions: metrics over time, and promote / rollback for whoever holds the admin key.
import { call, get, segment } from "../api";
import { chart } from "../charts";
import type { PageModule } from "../products/types";
import { badge, describeError, el, fmt, run, section, table } from "../ui";
import type { VersionHistory, VersionRecord } from "./types";

const productOf = () => decodeURIComponent(location.pathname.split("/")[2] ?? "");

export function adminAction(label: string, act: () => Promise<unknown>, after: () => void): HTMLElement {
  const note = el("span", { class: "muted", role: "status" });
  const button = el("button", { type: "button", class: "secondary" }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    note.textContent = "Working…";
    try {
      await act();
      after();
    } catch (error) {
      note.textContent = describeError(error);
      note.className = "state error";
      button.disabled = false;
    }
  });
  return el("span", {}, button, " ", note);
}

/** The versions of the model whose routes are under BASE (/models/<product>, /custom-models/<name>): the
 * primary metric of each, the table, and promote / roll back when ADMIN. */
export function versionsBody(base: string, admin: boolean): HTMLElement {
  const body = el("div", { class: "panel-body" });
  const draw = () => run(body, async (holder) => {
    const history = await get<VersionHistory>(`${base}/versions`);
    const oldestFirst = history.versions.slice().reverse();
    holder.append(
      el("p", {}, "Champion: ", history.champion_version ? el("strong", {}, history.champion_version) : badge("none", "alert")),
      chart(`${history.versions[0]?.primary_metric ?? "metric"} of each version, oldest first`, {
        tooltip: { trigger: "axis" },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: oldestFirst.map((v) => v.version.slice(0, 15)) },
        yAxis: { type: "value", scale: true, name: history.versions[0]?.primary_metric },
        series: [{ type: "line", data: oldestFirst.map((v) => v.primary_value), symbolSize: 8 }],
      }, oldestFirst.length, 220),
    );
    const rollback = admin && history.champion_version
      ? adminAction("Roll back to the previous champion", () => call("POST", `${base}/rollback`, { admin: true, body: { reason: "rolled back from the dashboard" } }), () => void draw())
      : null;
    holder.append(table<VersionRecord>(history.versions, [
      { title: "Version", value: (v) => v.version, sort: (v) => v.version },
      { title: "Status", value: (v) => badge(v.status), sort: (v) => v.status },
      { title: "Created", value: (v) => fmt.time(v.created_at), sort: (v) => v.created_at },
      { title: v0(history), value: (v) => fmt.number(v.primary_value, 4), numeric: true, sort: (v) => v.primary_value },
      { title: "Other metrics", value: (v) => otherMetrics(v) },
      { title: "Promoted by", value: (v) => v.promoted_by ?? "—" },
      ...(admin ? [{
        title: "Admin", value: (v: VersionRecord) => (v.status === "champion" || v.status === "rejected" ? "" :
          adminAction("Promote", () => call("POST", `${base}/promote`, { admin: true, body: { version: v.version, reason: "promoted from the dashboard" } }), () => void draw())),
      }] : []),
    ], "No version is registered yet."));
    if (rollback) holder.append(el("p", {}, rollback));
  });
  void draw();
  return body;
}

export const render: PageModule["render"] = ({ admin }) => {
  const product = productOf();
  const body = versionsBody(`/models/${segment(product)}`, admin);
  return el("div", {}, el("h1", {}, `${product}: model versions`),
    el("section", { class: "panel" }, el("h2", {}, "Versions"), body),
    section("Champion details", async (holder) => {
      const detail = await get<{ features: { name: string }[]; hyperparameters: Record<string, unknown>; training_data: Record<string, unknown> | null }>(`/models/${segment(product)}`);
      holder.append(el("p", {}, `${detail.features.length} input features: `, el("span", { class: "muted" }, detail.features.map((f) => f.name).join(", "))),
        el("p", {}, "Hyperparameters: ", el("code", {}, JSON.stringify(detail.hyperparameters))));
    }));
};

const v0 = (history: VersionHistory) => history.versions[0]?.primary_metric ?? "Metric";

function otherMetrics(version: VersionRecord): string {
  return Object.entries(version.metrics)
    .filter(([name, value]) => typeof value === "number" && name !== version.primary_metric)
    .slice(0, 4).map(([name, value]) => `${name} ${fmt.number(value as number, 3)}`).join(" · ");
}
