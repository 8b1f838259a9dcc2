import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** Placeholder until the chain-anchor plugin produces proofs (ARCHITECTURE §9). */
export function proofVerify(io: CliIo, file: string): number {
  io.err(`anchorflow: cannot verify ${file} yet: proofs arrive with the chain-anchor plugin (ARCHITECTURE §9); this command will verify them offline (leaf → root) and online (root on chain).`);
  return EXIT.USAGE;
}
