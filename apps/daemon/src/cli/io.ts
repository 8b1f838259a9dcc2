/** Where the CLI writes: stdout for results (JSON or text), stderr for messages. Replaceable in specs. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  env: process.env,
  // npm run scripts start in the package root; INIT_CWD is where the user typed the command
  cwd: process.env.INIT_CWD ?? process.cwd(),
};

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
