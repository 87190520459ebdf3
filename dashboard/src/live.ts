// Live updates over the WebSocket API: new high/critical scores and intervention status changes, pushed
// by the broadcaster. Pages subscribe; the connection comes back by itself after a drop.
import { accessToken } from "./auth";
import { config } from "./config";

export interface LiveMessage {
  type: string;
  [field: string]: unknown;
}

type Listener = (message: LiveMessage) => void;
const listeners = new Set<Listener>();
let socket: WebSocket | null = null;
let status: (text: string, open: boolean) => void = () => undefined;

export function onLive(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function liveOpen(): boolean {
  return socket?.readyState === WebSocket.OPEN;
}

export function connectLive(report: (text: string, open: boolean) => void): void {
  status = report;
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  const url = config().wsUrl;
  if (!url) {
    status("Live updates are not configured", false);
    return;
  }
  const token = accessToken();
  socket = new WebSocket(token ? `${url}?token=${encodeURIComponent(token)}` : url);
  socket.addEventListener("open", () => status("Live", true));
  socket.addEventListener("message", (event) => {
    try {
      const message = JSON.parse(String(event.data)) as LiveMessage;
      listeners.forEach((listener) => listener(message));
    } catch {
      // A frame that is not JSON is not one of ours.
    }
  });
  socket.addEventListener("close", () => {
    status("Reconnecting…", false);
    setTimeout(() => connectLive(report), 3000);
  });
}
