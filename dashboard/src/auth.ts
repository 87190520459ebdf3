// Who the dashboard calls the API as: the API key (and optionally the admin key) entered once and kept
// for the browser session, or a Cognito user signed in through the hosted UI (authorization code + PKCE).
import { config } from "./config";

const KEY = "finscore.apiKey";
const ADMIN = "finscore.adminKey";
const TOKEN = "finscore.accessToken";
const VERIFIER = "finscore.pkceVerifier";
const STATE = "finscore.pkceState";

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY) ?? config().apiKey ?? null;
}

export function adminKey(): string | null {
  return sessionStorage.getItem(ADMIN);
}

export function accessToken(): string | null {
  return sessionStorage.getItem(TOKEN);
}

export function signedIn(): boolean {
  return config().auth === "cognito" ? accessToken() !== null : apiKey() !== null;
}

export function saveKeys(key: string, admin: string): void {
  sessionStorage.setItem(KEY, key.trim());
  if (admin.trim()) sessionStorage.setItem(ADMIN, admin.trim());
  else sessionStorage.removeItem(ADMIN);
}

export function signOut(): void {
  for (const name of [KEY, ADMIN, TOKEN]) sessionStorage.removeItem(name);
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri(): string {
  return `${location.origin}/`;
}

/** Send the browser to the hosted UI; it comes back to / with ?code=&state=. */
export async function startSignIn(): Promise<void> {
  const cognito = config().cognito!;
  const verifier = randomText();
  const state = randomText();
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const challenge = base64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  const query = new URLSearchParams({
    response_type: "code", client_id: cognito.clientId, redirect_uri: redirectUri(), scope: cognito.scopes.join(" "),
    state, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(`${cognito.domain}/oauth2/authorize?${query}`);
}

/** On the way back from the hosted UI: trade the code for tokens. True when a sign-in completed. */
export async function finishSignIn(): Promise<boolean> {
  const query = new URLSearchParams(location.search);
  const code = query.get("code");
  if (config().auth !== "cognito" || !code) return false;
  if (query.get("state") !== sessionStorage.getItem(STATE)) throw new Error("The sign-in answer does not match the request (state); sign in again");
  const cognito = config().cognito!;
  const response = await fetch(`${cognito.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: cognito.clientId, code, redirect_uri: redirectUri(),
      code_verifier: sessionStorage.getItem(VERIFIER) ?? "",
    }),
  });
  if (!response.ok) throw new Error(`Sign-in failed: the token endpoint answered ${response.status}`);
  const tokens = (await response.json()) as { access_token: string };
  sessionStorage.setItem(TOKEN, tokens.access_token);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  history.replaceState(null, "", "/");
  return true;
}
