import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { renderOpenApiDocument } from '../render-openapi.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** `anchorflow openapi [-o file]`: the OpenAPI document (JSON), without a database or a running daemon. */
export async function openapi(io: CliIo, options: { out?: string }): Promise<number> {
  const text = await renderOpenApiDocument();
  if (!options.out) {
    io.out(text);
    return EXIT.OK;
  }
  const file = resolve(io.cwd, options.out);
  await writeFile(file, text);
  io.err(`wrote ${file}`);
  return EXIT.OK;
}
