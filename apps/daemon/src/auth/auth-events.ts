/**
 * Failed authentications and denied calls, as the AuthGuard sees them (issue 17). The guard logs them
 * at info and emits them here; the audit log listens (AuditService) and writes them, throttled per
 * client, so a flood of bad keys cannot fill the audit buffer. A relay rather than an import of the
 * audit service: the audit folder depends on auth, not the other way round.
 */
export interface AuthEvent {
  kind: 'failed' | 'denied';
  /** the client address (req.ip: the real client behind a trusted proxy) */
  client: string;
  method: string;
  /** `Controller.handler`: never the raw path, which may carry a token */
  route: string;
  /** failed: why (`UNAUTHORIZED`…) */
  code?: string;
  /** denied: who, and what they lacked */
  keyId?: string;
  role?: string;
  permission?: string;
}

export class AuthEvents {
  private readonly listeners: Array<(event: AuthEvent) => void> = [];

  listen(listener: (event: AuthEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** never throws: a listener's failure must not change the answer to the request */
  emit(event: AuthEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch { /* the listener logs its own failures */ }
    }
  }
}
