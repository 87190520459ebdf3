// Forms built from the API's own request schemas (GET /v1/openapi.json): fields, ranges, choices and
// example values come from the contract, so a form never drifts from the route it fills.
import { get } from "./api";
import { el, field } from "./ui";

interface Property {
  type?: string;
  enum?: string[];
  items?: Property;
  minimum?: number;
  maximum?: number;
  title?: string;
  description?: string;
  examples?: unknown[];
  default?: unknown;
  anyOf?: Property[];
}

interface ObjectSchema {
  properties: Record<string, Property>;
  required?: string[];
}

let document: Promise<{ components: { schemas: Record<string, ObjectSchema> } }> | null = null;

export async function requestSchema(name: string): Promise<ObjectSchema> {
  document ??= get("/openapi.json");
  const schema = (await document).components.schemas[name];
  if (!schema) throw new Error(`The API's OpenAPI document has no ${name} schema`);
  return schema;
}

export interface SchemaForm {
  element: HTMLElement;
  values: () => Record<string, unknown>;
}

/** Inputs for the NAMES of SCHEMA (all when omitted), filled with its examples; VALUES reads them typed. */
export function schemaFields(schema: ObjectSchema, names?: string[]): SchemaForm {
  const readers: [string, () => unknown][] = [];
  const fields: HTMLElement[] = [];
  for (const name of names ?? Object.keys(schema.properties)) {
    const property = schema.properties[name];
    const concrete = property.anyOf?.find((p) => p.type !== "null") ?? property;
    const label = property.title ?? name;
    const example = property.examples?.[0] ?? property.default;
    if (concrete.type === "array" && concrete.items?.enum) {
      const chosen = new Set((example as string[] | undefined) ?? []);
      const boxes = concrete.items.enum.map((option) => el("input", { type: "checkbox", value: option, checked: chosen.has(option) }));
      fields.push(el("fieldset", { class: "field choices" }, el("legend", {}, label),
        ...boxes.map((box) => el("label", {}, box, ` ${box.value.replace(/_/g, " ")}`))));
      readers.push([name, () => boxes.filter((box) => box.checked).map((box) => box.value)]);
    } else if (concrete.enum) {
      const control = el("select", { name, required: schema.required?.includes(name) });
      for (const option of concrete.enum) control.append(el("option", { value: option, selected: option === example }, option.replace(/_/g, " ")));
      fields.push(field(label, control));
      readers.push([name, () => control.value]);
    } else {
      const numeric = concrete.type === "number" || concrete.type === "integer";
      const control = el("input", {
        name, type: numeric ? "number" : "text", required: schema.required?.includes(name), title: property.description,
        min: concrete.minimum, max: concrete.maximum, step: concrete.type === "integer" ? 1 : "any",
        value: example === undefined || example === null ? "" : String(example),
      });
      fields.push(field(label, control));
      readers.push([name, () => (numeric ? (control.value === "" ? null : Number(control.value)) : control.value)]);
    }
  }
  return {
    element: el("div", { class: "form-grid" }, ...fields),
    values: () => Object.fromEntries(readers.map(([name, read]) => [name, read()]).filter(([, value]) => value !== null && value !== "")),
  };
}
