// Custom models (a user's own table trained into a scoring endpoint): every model with its status and
// headline held-out metric against its baseline, and the form that creates one (admin key). One model's
// page is /custom-models?name=<name>.
import { ApiError, get, segment } from "../api";
import type { PageModule } from "../products/types";
import { badge, el, fmt, link, section, table } from "../ui";
import { newModelForm } from "./custom-new";
import { customModelPath } from "./pages";
import type { CustomModel } from "./types";

/** The champion's metric next to the baseline's, both on the same held-out rows. */
export function headline(model: CustomModel): string {
  const comparison = model.model.comparison;
  if (!comparison) return "—";
  return `${comparison.metric} ${fmt.number(comparison.chosen_value, 3)} vs baseline ${fmt.number(comparison.baseline_value, 3)}`;
}

/** MODEL with what its champion's manifest says (the list answers without it), when it has a champion. */
async function withDetail(model: CustomModel): Promise<CustomModel> {
  if (!model.champion_version) return model;
  return get<CustomModel>(`/custom-models/${segment(model.name)}`).catch((error) => {
    // Retired or deleted between the two calls: the list's own answer still stands.
    if (error instanceof ApiError && error.status === 404) return model;
    throw error;
  });
}

export const render: PageModule["render"] = async (context) => {
  const name = context.params.get("name");
  if (name) return (await import("./custom-model")).render(context);
  return el("div", {}, el("h1", {}, "Custom models"),
    el("p", { class: "muted" }, "A table of your own (a CSV or JSON Lines file with a column to predict) becomes a calibrated, explained scoring endpoint: columns are typed and checked, leaking ones refused, a regularised baseline and boosted trees compared on the same held-out rows."),
    section("Models", async (body) => {
      const { models } = await get<{ models: CustomModel[] }>("/custom-models");
      const detailed = await Promise.all(models.map(withDetail));
      body.append(table(detailed, [
        { title: "Name", value: (m) => link(customModelPath(m.name), m.name), sort: (m) => m.name },
        { title: "Status", value: (m) => el("span", { "data-status": m.status }, badge(m.status)), sort: (m) => m.status },
        { title: "Task", value: (m) => `${m.definition.task} · ${m.definition.target}` },
        { title: "Chosen model", value: (m) => (m.model.model ? `${m.model.model.chosen} (${m.model.model.algorithm})` : "—") },
        { title: "Held out (test)", value: headline },
        { title: "Updated", value: (m) => fmt.time(m.updated_at), sort: (m) => m.updated_at },
      ], context.admin ? "No custom model yet: create one with the form below." : "No custom model yet. Creating one needs the admin key (sign in with it), or `finscore custom create`."));
    }),
    context.admin ? newModelForm() : null);
};
