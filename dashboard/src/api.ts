// Calls to the FinScore API with the session's credentials; failures become ApiError with the API's own words.
import { accessToken, adminKey, apiKey } from "./auth";
import { config } from "./config";

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public details: { field: string; issue: string }[] = []) {
    super(message);
  }

  /** The error in words: the API's message and what each field got wrong. */
  describe(): string {
    const fields = this.details.map((d) => `${d.field}: ${d.issue}`).join("; ");
    return `${this.message}${fields ? ` (${fields})` : ""} [${this.status} ${this.code}]`;
  }
}

interface CallOptions {
  body?: unknown;
  /** A file sent as the body itself (an upload), with its content type. */
  file?: { data: Blob; type: string };
  admin?: boolean;
  headers?: Record<string, string>;
  query?: Record<string, string | number | undefined | null>;
}

/** The answer's text of METHOD PATH; a failure becomes ApiError with the API's own words. */
async function send(method: string, path: string, options: CallOptions): Promise<string> {
  const headers: Record<string, string> = { ...options.headers };
  const key = options.admin ? adminKey() : apiKey();
  if (key) headers["x-api-key"] = key;
  const token = accessToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.file) {
    headers["Content-Type"] = options.file.type;
    body = options.file.data;
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const query = Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== "");
  const search = query.length ? `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)]))}` : "";
  let response: Response;
  try {
    response = await fetch(`${config().apiUrl}${path}${search}`, { method, headers, body });
  } catch (error) {
    throw new ApiError(0, "network_error", `The API could not be reached (${(error as Error).message})`);
  }
  const text = await response.text();
  if (!response.ok) {
    let payload: unknown = null;
    try {
      payload = text ? JSON.parse(text) : null;
    } catch {
      payload = null;
    }
    const error = (payload as { error?: { code?: string; message?: string; details?: { field: string; issue: string }[] } })?.error;
    throw new ApiError(response.status, error?.code ?? "http_error", error?.message ?? `The API answered ${response.status} ${response.statusText}`, error?.details ?? []);
  }
  return text;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const text = await send(method, path, options);
  try {
    return (text ? JSON.parse(text) : null) as T;
  } catch {
    return null as T;
  }
}

/** A document the API answers as text (e.g. Markdown) rather than JSON. */
export const getText = (path: string) => send("GET", path, {});

export const get = <T>(path: string, query?: CallOptions["query"]) => call<T>("GET", path, { query });
export const post = <T>(path: string, body: unknown, options: Omit<CallOptions, "body"> = {}) => call<T>("POST", path, { ...options, body });

/** A path segment as the API expects it (ids may hold characters a URL reserves). */
export const segment = (value: string) => encodeURIComponent(value);
