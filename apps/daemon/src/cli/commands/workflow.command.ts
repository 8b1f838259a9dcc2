import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CliApi } from '../api-client.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

interface WorkflowRecord { id: string; version: number; name: string; [k: string]: unknown }
interface ExecutionRecord { id: string; status: string; error?: { code?: string; message?: string }; [k: string]: unknown }

/** Server-side fields that a definition to import again must not carry. */
const SERVER_FIELDS = ['id', 'version', 'createdAt', 'updatedAt', 'active', 'deletedAt'];

async function readJsonFile(io: CliIo, file: string): Promise<Record<string, unknown>> {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.USAGE);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path} is not valid JSON: ${(err as Error).message}`, EXIT.USAGE);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${path} must hold a workflow object {name, nodes, edges}`, EXIT.USAGE);
  return parsed as Record<string, unknown>;
}

export function definitionOf(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (!SERVER_FIELDS.includes(key)) out[key] = value;
  return out;
}

/** POST /api/v1/workflows with the file (server-side fields of an export are dropped). */
export async function workflowImport(io: CliIo, file: string): Promise<number> {
  const api = new CliApi(io);
  const definition = definitionOf(await readJsonFile(io, file));
  const { body } = await api.request<WorkflowRecord>('POST', '/api/v1/workflows', definition);
  io.err(`imported "${body.name}" as workflow ${body.id} (version ${body.version})`);
  printJson(io, { id: body.id, version: body.version, name: body.name });
  return EXIT.OK;
}

/** GET /api/v1/workflows/:id as an importable definition, to stdout or --out. */
export async function workflowExport(io: CliIo, id: string, options: { out?: string; version?: string }): Promise<number> {
  const api = new CliApi(io);
  const query = options.version ? `?version=${encodeURIComponent(options.version)}` : '';
  const { body } = await api.request<WorkflowRecord>('GET', `/api/v1/workflows/${encodeURIComponent(id)}${query}`);
  const text = `${JSON.stringify(definitionOf(body), null, 2)}\n`;
  if (options.out) {
    const path = resolve(io.cwd, options.out);
    await writeFile(path, text);
    io.err(`exported workflow ${body.id} version ${body.version} to ${path}`);
  } else {
    io.out(text);
  }
  return EXIT.OK;
}

function parseInput(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`--input must be JSON: ${(err as Error).message}`, EXIT.USAGE);
  }
}

/**
 * Runs a workflow by id, or a workflow file (imported first). With --wait the execution is awaited up
 * to that many ms: exit 0 if it succeeded, 1 if it failed or was cancelled, 3 if it is still running.
 */
export async function workflowRun(io: CliIo, target: string, options: { input?: string; wait?: string }): Promise<number> {
  const input = parseInput(options.input);
  const wait = options.wait === undefined ? undefined : Number(options.wait);
  if (wait !== undefined && (!Number.isInteger(wait) || wait < 0)) throw new CliError(`--wait must be a number of milliseconds, got "${options.wait}"`, EXIT.USAGE);
  const api = new CliApi(io);
  let workflowId = target;
  const path = resolve(io.cwd, target);
  if (existsSync(path) && statSync(path).isFile()) {
    const { body } = await api.request<WorkflowRecord>('POST', '/api/v1/workflows', definitionOf(await readJsonFile(io, target)));
    io.err(`imported "${body.name}" as workflow ${body.id} (version ${body.version})`);
    workflowId = body.id;
  }
  const query = wait !== undefined ? `?wait=${wait}` : '';
  const { status, body } = await api.request<ExecutionRecord & { executionId?: string }>('POST', `/api/v1/workflows/${encodeURIComponent(workflowId)}/executions${query}`, { input }, (wait ?? 0) + 60_000);
  printJson(io, body);
  if (status === 202) {
    if (wait === undefined) return EXIT.OK;
    io.err(`execution ${body.id} has not finished after ${wait} ms (status ${body.status ?? 'running'})`);
    return EXIT.NOT_FINISHED;
  }
  if (body.status === 'succeeded') return EXIT.OK;
  io.err(`execution ${body.id} ${body.status}${body.error ? `: ${body.error.code}: ${body.error.message}` : ''}`);
  return EXIT.FAILURE;
}
