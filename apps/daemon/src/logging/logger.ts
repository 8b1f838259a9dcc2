import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import type { NodeLogger } from '@anchorflow/plugin-sdk';
import type { LogConfig } from '../config/config.schema.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Human-readable lines for development (`log.pretty: true`); pino-pretty is not a dependency. */
export function prettyStream(out: NodeJS.WritableStream = process.stdout): DestinationStream {
  return {
    write(line: string) {
      try {
        const { level, time, msg, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const clock = new Date(time as number).toISOString().slice(11, 23);
        const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        out.write(`${clock} ${(LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${extra}\n`);
      } catch {
        out.write(line);
      }
    },
  };
}

/** The process-wide logger: JSON lines on stdout (or pretty ones), secrets redacted. */
export function createRootLogger(config: LogConfig, destination?: DestinationStream, extra: Pick<LoggerOptions, 'formatters' | 'hooks'> = {}): Logger {
  return pino(
    {
      // the daemon passes redactingLogOptions (apps/daemon/src/security/log-redaction.ts): credential values, keys, tokens
      ...extra,
      level: config.level,
      base: { pid: process.pid },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-anchorflow-signature"]', 'databaseUrl', 'password', '*.password'],
        censor: '***',
      },
    },
    destination ?? (config.pretty ? prettyStream() : pino.destination({ dest: 1, sync: true })),
  );
}

/**
 * A request URL fit for logs (issue 17): query values and path segments that are secrets (resume tokens)
 * become `***`; parameter names and the route stay readable.
 */
export function redactUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).replace(/(\/executions\/resume\/)[^/?#]+/, '$1***');
  if (q < 0) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? pair : `${pair.slice(0, eq)}=***`;
    })
    .join('&');
  return `${path}?${query}`;
}

/**
 * pino-http options: a request id generated here for every request (a client's X-Request-Id is logged
 * as `clientRequestId`, never used as the id: it could collide or forge correlation), health checks
 * never logged, URLs redacted.
 */
export function httpLoggingOptions(logger: Logger, config: LogConfig): PinoHttpOptions<IncomingMessage, ServerResponse> {
  return {
    logger,
    genReqId: (_req, res) => {
      const id = randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customProps: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && given.length > 0 ? { clientRequestId: given.slice(0, 200) } : {};
    },
    autoLogging: config.requests ? { ignore: (req) => (req.url ?? '').startsWith('/api/v1/health') } : false,
    quietReqLogger: true,
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: redactUrl(req.url) }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/** The engine's and plugins' logger interface on top of pino. */
export function toNodeLogger(logger: Logger): NodeLogger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}

/**
 * The one line tests and scripts parse to find the daemon: always printed as JSON on stdout,
 * whatever the log level or format.
 */
export function printListening(url: string, extra: Record<string, unknown> = {}, out: NodeJS.WritableStream = process.stdout): void {
  out.write(`${JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, event: 'listening', url, ...extra, msg: `Anchorflow listening on ${url}` })}\n`);
}
