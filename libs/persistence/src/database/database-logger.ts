/** What the database layer logs through (the daemon passes its pino logger; console fits too). */
export interface DatabaseLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
