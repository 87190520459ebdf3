// The runtime configuration: read from /config.json (written at deploy, served by the local gateway),
// never baked into the build, so one build serves every stage.

export interface CognitoConfig {
  domain: string; // https://<prefix>.auth.<region>.amazoncognito.com
  clientId: string;
  scopes: string[];
}

export interface SiteConfig {
  auth: "key" | "cognito";
  apiUrl: string; // ".../v1"
  wsUrl: string | null;
  apiKey?: string | null; // a usage-plan key handed to signed-in users in cognito mode
  cognito?: CognitoConfig | null;
}

let loaded: SiteConfig | null = null;

export async function loadConfig(): Promise<SiteConfig> {
  if (loaded) return loaded;
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`The dashboard's configuration (/config.json) answered ${response.status}`);
  const config = (await response.json()) as SiteConfig;
  loaded = { ...config, apiUrl: config.apiUrl.replace(/\/$/, "") };
  return loaded;
}

export function config(): SiteConfig {
  if (!loaded) throw new Error("configuration not loaded");
  return loaded;
}
