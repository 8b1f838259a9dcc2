import type pg from 'pg';

/**
 * The daemon's database role (issue 17): it owns the schema and the tables it migrates, and it is NOT a
 * superuser, so it cannot `SET session_replication_role` (superuser-only), and a guard installed once by
 * a superuser refuses it every way of switching the audit log's protection off:
 *
 * - `ALTER TABLE … DISABLE TRIGGER` / `ENABLE REPLICA|ALWAYS TRIGGER` on any table (an owner may
 *   otherwise disable the triggers of its own tables);
 * - any DDL on `audit_entry`, its triggers or rules, or its trigger function (`ALTER`, `CREATE OR
 *   REPLACE`, `DROP`, rename, owner change);
 * - dropping the guard itself (it lives in its own schema, owned by the superuser, so the role's
 *   ownership of `public` gives it no way in).
 *
 * Superusers are let through (maintenance, future migrations of the audit table). The guard is a
 * PostgreSQL event trigger: installing it needs a superuser, which is why this is a one-time grant
 * (`anchorflow db grant-sql` prints it, docs/security.md shows it); the embedded database does it at
 * every start (idempotent).
 */
export const GUARD_SCHEMA = 'anchorflow_guard';

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

export interface RestrictedRoleOptions {
  /** the daemon's role (created when missing) */
  role: string;
  /** the daemon's database: its owner becomes the role */
  database: string;
  /** set as the role's password when given */
  password?: string;
}

/** The statements a superuser runs once, connected to the daemon's database. Idempotent. */
export function restrictedRoleStatements(o: RestrictedRoleOptions): string[] {
  const role = ident(o.role);
  return [
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(o.role)}) THEN CREATE ROLE ${role} LOGIN; END IF;
    END $$`,
    `ALTER ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS${o.password !== undefined ? ` PASSWORD ${literal(o.password)}` : ''}`,
    `ALTER DATABASE ${ident(o.database)} OWNER TO ${role}`,
    `ALTER SCHEMA public OWNER TO ${role}`,
    // a database first used by a superuser (an embedded database of an earlier release): hand its objects over
    `DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = ${literal(o.role)}) LOOP
        EXECUTE format(CASE r.relkind WHEN 'S' THEN 'ALTER SEQUENCE public.%I OWNER TO %I' WHEN 'v' THEN 'ALTER VIEW public.%I OWNER TO %I' WHEN 'm' THEN 'ALTER MATERIALIZED VIEW public.%I OWNER TO %I' ELSE 'ALTER TABLE public.%I OWNER TO %I' END, r.relname, ${literal(o.role)});
      END LOOP;
      FOR r IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'public' AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = ${literal(o.role)}) LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', r.sig, ${literal(o.role)});
      END LOOP;
    END $$`,
    `CREATE SCHEMA IF NOT EXISTS ${ident(GUARD_SCHEMA)}`,
    `REVOKE ALL ON SCHEMA ${ident(GUARD_SCHEMA)} FROM PUBLIC`,
    `CREATE OR REPLACE FUNCTION ${ident(GUARD_SCHEMA)}.guard_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
    DECLARE
      obj record;
      protected constant text[] := ARRAY['public.audit_entry', 'public.audit_entry_append_only()', '${GUARD_SCHEMA}.guard_ddl()', '${GUARD_SCHEMA}'];
    BEGIN
      IF coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) THEN RETURN; END IF;
      IF TG_EVENT = 'ddl_command_start' THEN
        -- replacing the trigger function with one that lets changes through (creating it the first time is the migration)
        IF to_regprocedure('public.audit_entry_append_only()') IS NOT NULL AND current_query() ~* 'audit_entry_append_only' THEN
          RAISE EXCEPTION 'replacing audit_entry_append_only() needs a superuser: the audit log is append-only (anchorflow guard)' USING ERRCODE = '42501';
        END IF;
      ELSIF TG_EVENT = 'ddl_command_end' THEN
        IF TG_TAG = 'ALTER TABLE' AND current_query() ~* '(disable|enable\\s+(replica|always))\\s+trigger' THEN
          RAISE EXCEPTION 'switching triggers off or to replica mode needs a superuser (anchorflow guard)' USING ERRCODE = '42501';
        END IF;
        FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
          -- creating them is the daemon's migration; changing them afterwards is not. The audit table is
          -- known by its append-only trigger (a rename reports the new name)
          IF TG_TAG NOT LIKE 'CREATE%' AND (obj.object_identity = ANY (protected) OR obj.object_identity LIKE '% on public.audit_entry'
              OR (obj.classid = 'pg_class'::regclass AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = obj.objid AND t.tgname = 'audit_entry_append_only_row'))) THEN
            RAISE EXCEPTION '% on % needs a superuser: the audit log is append-only (anchorflow guard)', TG_TAG, obj.object_identity USING ERRCODE = '42501';
          END IF;
        END LOOP;
      ELSIF TG_EVENT = 'sql_drop' THEN
        FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
          IF obj.object_identity = ANY (protected) OR obj.object_identity LIKE '% on public.audit_entry' THEN
            RAISE EXCEPTION 'dropping % needs a superuser: the audit log is append-only (anchorflow guard)', obj.object_identity USING ERRCODE = '42501';
          END IF;
        END LOOP;
      END IF;
    END $$`,
    `DROP EVENT TRIGGER IF EXISTS anchorflow_guard_ddl`,
    `CREATE EVENT TRIGGER anchorflow_guard_ddl ON ddl_command_end EXECUTE FUNCTION ${ident(GUARD_SCHEMA)}.guard_ddl()`,
    `DROP EVENT TRIGGER IF EXISTS anchorflow_guard_replace`,
    `CREATE EVENT TRIGGER anchorflow_guard_replace ON ddl_command_start WHEN TAG IN ('CREATE FUNCTION', 'CREATE PROCEDURE') EXECUTE FUNCTION ${ident(GUARD_SCHEMA)}.guard_ddl()`,
    `DROP EVENT TRIGGER IF EXISTS anchorflow_guard_drop`,
    `CREATE EVENT TRIGGER anchorflow_guard_drop ON sql_drop EXECUTE FUNCTION ${ident(GUARD_SCHEMA)}.guard_ddl()`,
  ];
}

/** Runs the one-time grant on a superuser connection to the daemon's database. */
export async function setUpRestrictedRole(superuser: Pick<pg.Client, 'query'>, options: RestrictedRoleOptions): Promise<void> {
  for (const statement of restrictedRoleStatements(options)) await superuser.query(statement);
}

/** The SQL an admin runs once (psql as a superuser, connected to the daemon's database), as text. */
export function restrictedRoleScript(options: RestrictedRoleOptions): string {
  return `${restrictedRoleStatements(options).map((s) => `${s};`).join('\n\n')}\n`;
}
