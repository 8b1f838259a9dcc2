/** REST calls with the editor token; a 401 asks the user to log in again (nothing local is dropped). */
const TOKEN_KEY = 'anchorflow.editor.token';

type Listener = () => void;
const authListeners = new Set<Listener>();

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** called when the server refuses the token (expired, revoked) */
export function onAuthRequired(listener: Listener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

export function authRequired(): void {
  for (const l of authListeners) l();
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(body?.error?.message ?? `HTTP ${status}`);
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown, bearer: string | null = getToken()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (res.status === 401 && path !== '/auth/token') authRequired();
  if (!res.ok) throw new HttpError(res.status, parsed);
  return parsed as T;
}

/** Exchanges an API key for an editor token (the key itself is not kept). */
export async function login(apiKey: string): Promise<{ token: string; expiresAt: string; role: string }> {
  const answer = await api<{ token: string; expiresAt: string; role: string }>('POST', '/auth/token', undefined, apiKey.trim());
  setToken(answer.token);
  return answer;
}

export interface NodeTypeInfo {
  type: string;
  title?: string;
  category?: string;
  description?: string;
  inputs: string[];
  outputs: string[] | 'dynamic';
  trigger: boolean;
  paramsSchema: any;
}
